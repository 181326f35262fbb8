/* crumb/session.h - the session object: a dict per visitor, with flags. */
#ifndef CRUMB_SESSION_H
#define CRUMB_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * A session is a JSON object whose values are Flask tagged JSON (see
 * crumb/tagjson.h). Flags follow Flask's SecureCookieSession:
 *  - new:       no valid session came with the request;
 *  - accessed:  any read or write happened (the response must then carry
 *               Vary: Cookie);
 *  - modified:  a write happened through this API;
 *  - permanent: stored in the data itself as "_permanent", as Flask does.
 *
 * Every change is also appended to a change journal (set / delete / incr
 * at a JSON Pointer path, or clear) so that a server-side store can apply
 * what a request changed, not a stale copy of the whole dict.
 *
 * Keys are NUL-terminated UTF-8 strings. Paths are RFC 6901 JSON Pointers
 * ("/cart/3"); missing intermediate objects are created by the setters.
 *
 * Thread-safety: a session belongs to one request; do not share it.
 */

typedef struct crumb_session crumb_session;

/**
 * crumb_session_new - an empty, new session.
 * Returns NULL on out of memory.
 * Lifetime: owned by the caller; free with crumb_session_free().
 */
crumb_session *crumb_session_new(void);

/**
 * crumb_session_new_from - a session holding @data (an object in tagged
 * form), not new and not modified. @data is borrowed and deep-copied...
 * unless @steal is non-zero, in which case the reference is taken over.
 * Returns NULL on out of memory or when @data is not an object (a stolen
 * reference is released then too).
 */
crumb_session *crumb_session_new_from(json_t *data, int steal);

/** crumb_session_free - free; accepts NULL. */
void crumb_session_free(crumb_session *s);

/* Flags. */
int crumb_session_is_new(const crumb_session *s);
int crumb_session_is_modified(const crumb_session *s);
int crumb_session_was_accessed(const crumb_session *s);
int crumb_session_is_permanent(const crumb_session *s);
/** crumb_session_set_new - set or clear the "new" flag (interfaces clear
 * it for a session loaded from a valid cookie or record). */
void crumb_session_set_new(crumb_session *s, int is_new);
/** For changes made to a json_t obtained from crumb_session_edit(). */
void crumb_session_mark_modified(crumb_session *s);
/** Sets "_permanent" to true or false, as Flask does. */
int crumb_session_set_permanent(crumb_session *s, int permanent);

/** crumb_session_count - number of top-level keys (marks accessed). */
size_t crumb_session_count(crumb_session *s);
/** crumb_session_contains - 1 when @key is present (marks accessed). */
int crumb_session_contains(crumb_session *s, const char *key);

/*
 * Typed getters: the value at @key when it has that type, else @def.
 * Integers: a JSON integer; get_double also converts integers.
 * All mark the session accessed.
 * Lifetime: a returned string lives until that key changes or the session
 * is freed.
 */
const char *crumb_session_get_string(crumb_session *s, const char *key,
                                     const char *def);
int64_t crumb_session_get_int(crumb_session *s, const char *key, int64_t def);
double crumb_session_get_double(crumb_session *s, const char *key, double def);
int crumb_session_get_bool(crumb_session *s, const char *key, int def);

/**
 * crumb_session_get_json - the tagged JSON at @key, or NULL when absent.
 * Lifetime: borrowed; lives until that key changes or the session is freed.
 * Do not modify it (use crumb_session_edit()).
 */
const json_t *crumb_session_get_json(crumb_session *s, const char *key);

/** crumb_session_get_path - as get_json for a JSON Pointer (RFC 6901). */
const json_t *crumb_session_get_path(crumb_session *s, const char *pointer);

/**
 * crumb_session_edit - a mutable reference to the value at @key, marking
 * the session modified and journalling the key as replaced by its final
 * value. NULL when absent.
 * Lifetime: borrowed, until the key changes or the session is freed.
 */
json_t *crumb_session_edit(crumb_session *s, const char *key);

/*
 * Setters: return CRUMB_OK, CRUMB_EINVAL (bad key, bad tag, bad UTF-8),
 * CRUMB_ENOMEM. Strings are copied.
 */
int crumb_session_set_string(crumb_session *s, const char *key,
                             const char *value);
int crumb_session_set_int(crumb_session *s, const char *key, int64_t value);
int crumb_session_set_double(crumb_session *s, const char *key, double value);
int crumb_session_set_bool(crumb_session *s, const char *key, int value);
int crumb_session_set_null(crumb_session *s, const char *key);
/** set_json: @value is tagged JSON, borrowed and deep-copied. */
int crumb_session_set_json(crumb_session *s, const char *key,
                           const json_t *value);
/** set_path: @value at a JSON Pointer, borrowed and deep-copied. */
int crumb_session_set_path(crumb_session *s, const char *pointer,
                           const json_t *value);

/**
 * crumb_session_incr / crumb_session_incr_path - add @delta to the integer
 * at @key (absent counts as 0), writing the result to *result (may be
 * NULL). Journalled as an increment, so concurrent requests add up in a
 * store. Returns CRUMB_OK, CRUMB_ETYPE (not an integer), CRUMB_ETOOBIG
 * (overflow), CRUMB_EINVAL, CRUMB_ENOMEM.
 */
int crumb_session_incr(crumb_session *s, const char *key, int64_t delta,
                       int64_t *result);
int crumb_session_incr_path(crumb_session *s, const char *pointer,
                            int64_t delta, int64_t *result);

/** crumb_session_delete - CRUMB_OK, or CRUMB_ENOTFOUND when absent. */
int crumb_session_delete(crumb_session *s, const char *key);
int crumb_session_delete_path(crumb_session *s, const char *pointer);

/** crumb_session_clear - remove every key (marks modified). */
void crumb_session_clear(crumb_session *s);

/**
 * crumb_session_data - the whole tagged object (marks accessed).
 * Lifetime: borrowed, until the next change or free. Do not modify.
 */
const json_t *crumb_session_data(crumb_session *s);

/*
 * Lifecycle. These record what the request wants; crumb_iface_save() does
 * it. With a server-side store:
 *  - regenerate: the session gets a new id and the old id dies at once
 *    (call at login and at any privilege change: no fixation);
 *  - destroy: the record is removed and the cookie deleted (logout);
 *  - user: the account the session belongs to, so all of a user's sessions
 *    can be listed and revoked;
 *  - client: address and User-Agent, shown in a session list.
 * With cookie sessions, regenerate re-signs the cookie, destroy clears the
 * data and deletes the cookie, and user/client are kept in memory only.
 */

/** crumb_session_regenerate - a new id at save (see above). */
void crumb_session_regenerate(crumb_session *s);
/** crumb_session_destroy - end the session at save (see above). */
void crumb_session_destroy(crumb_session *s);
/** 1 once crumb_session_regenerate() / crumb_session_destroy() was called. */
int crumb_session_regenerating(const crumb_session *s);
int crumb_session_destroying(const crumb_session *s);

/**
 * crumb_session_set_user - the account id (up to 64 bytes, "" or NULL for
 * none). Returns CRUMB_OK or CRUMB_EINVAL (too long).
 */
int crumb_session_set_user(crumb_session *s, const char *user);
/** crumb_session_user - the account id, "" when none. Lifetime: @s's. */
const char *crumb_session_user(const crumb_session *s);

/** crumb_session_set_client - address and User-Agent, truncated to fit. */
void crumb_session_set_client(crumb_session *s, const char *addr,
                              const char *agent);

/**
 * crumb_session_handle - a public name for a stored session (16 hex
 * digits derived from its record key; never the cookie id), "" for a
 * session not (yet) stored. Lifetime: @s's.
 */
const char *crumb_session_handle(const crumb_session *s);

/* The change journal, for stores. */
typedef enum crumb_change_op {
    CRUMB_CHANGE_SET = 1, /* value at path replaced by value */
    CRUMB_CHANGE_DELETE,  /* path removed */
    CRUMB_CHANGE_INCR,    /* integer at path += delta */
    CRUMB_CHANGE_CLEAR    /* every key removed */
} crumb_change_op;

typedef struct crumb_change {
    crumb_change_op op;
    const char *path;    /* JSON Pointer; "" for CLEAR */
    const json_t *value; /* SET: the value; else NULL */
    int64_t delta;       /* INCR */
} crumb_change;

/**
 * crumb_session_changes - the journal since load, in order.
 * Returns the number of changes; *changes borrows the session's array,
 * valid until the next change or free. Edits through crumb_session_edit()
 * appear as SET of the key's current value.
 */
size_t crumb_session_changes(const crumb_session *s,
                             const crumb_change **changes);

/** crumb_session_changes_reset - forget the journal (after a save). */
void crumb_session_changes_reset(crumb_session *s);

/**
 * crumb_session_apply_changes - apply a journal to a tagged @data object
 * (what a store does with a fresh copy of a record). Returns CRUMB_OK,
 * CRUMB_ETYPE (an increment met a non-integer: that change is skipped and
 * the rest applied), CRUMB_ENOMEM.
 */
int crumb_session_apply_changes(json_t *data, const crumb_change *changes,
                                size_t n);

#ifdef __cplusplus
}
#endif
#endif
