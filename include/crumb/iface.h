/* crumb/iface.h - the session interface: open before a request, save after. */
#ifndef CRUMB_IFACE_H
#define CRUMB_IFACE_H

#include <stddef.h>
#include <stdint.h>

#include <crumb/cookie.h>
#include <crumb/session.h>
#include <crumb/sign.h>
#include <crumb/store.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Flask's SessionInterface in C. crumb_iface_open() turns a Cookie header
 * into a session; crumb_iface_save() turns the session into a Set-Cookie
 * header value (or none). The interface does no I/O in cookie mode.
 */

/** Seconds since the epoch; tests install their own to move time. */
typedef int64_t (*crumb_clock_fn)(void *ctx);

/** crumb_clock_real - the system's real time (CLOCK_REALTIME), seconds. */
int64_t crumb_clock_real(void *ctx);

typedef struct crumb_key {
    const void *bytes;
    size_t len;
} crumb_key;

typedef struct crumb_config {
    /* Keys: the secret key signs; fallbacks verify only (key rotation). */
    const void *secret_key;
    size_t secret_key_len;
    const crumb_key *fallback_keys;
    size_t fallback_count;
    crumb_signer_options signer; /* zeroed: Flask's, FAST compression */

    /* Cookie. Strings are copied by crumb_iface_new(). */
    const char *cookie_name; /* NULL: "session" */
    const char *cookie_domain;
    const char *cookie_path; /* NULL: "/" */
    int cookie_secure;       /* default 0 */
    int cookie_httponly;     /* default 1 */
    int cookie_partitioned;  /* default 0 */
    crumb_samesite cookie_samesite; /* default Lax */
    size_t cookie_max_size;  /* default 4093, as browsers keep */

    /* Lifetimes. */
    int64_t permanent_lifetime; /* seconds, default 31 days (Flask's) */
    int refresh_each_request;   /* default 1 */

    crumb_clock_fn clock; /* NULL: crumb_clock_real */
    void *clock_ctx;

    /*
     * Server-side sessions: with a store URI ("memory:", "sqlite:PATH",
     * "redis://HOST:PORT/DB") the cookie carries only a random 256-bit id
     * and the data lives in the store. NULL: signed-cookie sessions.
     * The secret key is optional in this mode.
     */
    const char *store_uri;
    const crumb_store_options *store_options; /* NULL: defaults; copied */
    int64_t idle_timeout;     /* seconds without a request; default 1800;
                                 0 = off */
    int64_t absolute_timeout; /* seconds since login/creation; default
                                 43200; 0 = off */
    int64_t touch_interval;   /* refresh last_seen at most this often;
                                 default 15 seconds */
} crumb_config;

/**
 * crumb_config_init - fill @cfg with the defaults above (no key).
 */
void crumb_config_init(crumb_config *cfg);

typedef struct crumb_iface crumb_iface;

/**
 * crumb_iface_new - a cookie-session interface for @cfg.
 *
 * Refuses an empty secret key (CRUMB_ENOKEY), a cookie configuration that
 * no browser would keep (CRUMB_EINVAL: "__Host-" with a domain, SameSite=
 * None without Secure...). A key shorter than 32 bytes is accepted but
 * reported by crumb_iface_warning(). Server-side, the store is opened once
 * here: a bad URI or file fails now; a Redis that is down does not (the
 * interface starts, crumb_iface_warning() says so, and requests get
 * CRUMB_EUNAVAIL until it is back).
 * Returns CRUMB_OK, CRUMB_ENOKEY, CRUMB_EINVAL, CRUMB_ENOMEM, CRUMB_ECRYPTO,
 * CRUMB_ESTORE.
 * Lifetime: *out owned by the caller, crumb_iface_free(). @cfg is copied.
 * Thread-safety: open and save may run on many threads at once.
 */
int crumb_iface_new(crumb_iface **out, const crumb_config *cfg);

/** crumb_iface_free - wipe keys and free; accepts NULL. */
void crumb_iface_free(crumb_iface *iface);

/**
 * crumb_iface_warning - a configuration warning ("secret key shorter than
 * 32 bytes") or NULL. Lifetime: lives as long as @iface.
 */
const char *crumb_iface_warning(const crumb_iface *iface);

/**
 * crumb_iface_errmsg - the last error's detail for this interface, for
 * logs ("session cookie is 5120 bytes, over the 4093 allowed").
 * Lifetime: until the next call on @iface from the same thread.
 */
const char *crumb_iface_errmsg(const crumb_iface *iface);

/** Why a request's session is what it is. */
typedef enum crumb_open_reason {
    CRUMB_OPEN_OK = 0,        /* a valid session was loaded */
    CRUMB_OPEN_NO_COOKIE,     /* no session cookie: new session */
    CRUMB_OPEN_MALFORMED,     /* cookie is not a signed value / bad JSON */
    CRUMB_OPEN_BAD_SIGNATURE, /* no key verified it */
    CRUMB_OPEN_EXPIRED,       /* older than the permanent lifetime */
    CRUMB_OPEN_TOO_LARGE,     /* over the size bounds */
    CRUMB_OPEN_UNKNOWN_ID,    /* store: no such session (revoked, expired
                                 and swept, or never issued) */
    CRUMB_OPEN_IDLE_TIMEOUT,  /* store: idle longer than idle_timeout */
    CRUMB_OPEN_ABSOLUTE_TIMEOUT, /* store: older than absolute_timeout */
    CRUMB_OPEN_CORRUPT        /* store: the record could not be read */
} crumb_open_reason;

/** crumb_open_reason_str - "ok", "no cookie", "malformed", ... (static). */
const char *crumb_open_reason_str(crumb_open_reason r);

/**
 * crumb_iface_open - the session for a request's Cookie header.
 *
 * @cookie_header may be NULL. A missing, malformed, forged or expired
 * cookie gives a new empty session and the reason in *reason (may be
 * NULL): never an error. Only out of memory and (server-side) a store
 * that cannot be reached fail; then no session is returned and the
 * request should get a 503.
 * Returns CRUMB_OK, CRUMB_ENOMEM, CRUMB_EUNAVAIL, CRUMB_ESTORE.
 * Lifetime: *out owned by the caller, crumb_session_free().
 */
int crumb_iface_open(crumb_iface *iface, const char *cookie_header,
                     size_t header_len, crumb_session **out,
                     crumb_open_reason *reason);

/** What to add to the response after a request. */
typedef struct crumb_save_result {
    char *set_cookie; /* Set-Cookie value, or NULL: send none */
    int vary_cookie;  /* add "Vary: Cookie" */
    int deleted;      /* set_cookie deletes the cookie */
} crumb_save_result;

/**
 * crumb_iface_save - what the response must carry for @s.
 *
 * Flask's rules: an empty session that was modified gets a deletion
 * cookie; an empty untouched one nothing; otherwise a cookie is set when
 * the session was modified, or when it is permanent and
 * refresh_each_request is on. Expires and Max-Age only for permanent
 * sessions. vary_cookie whenever the session was accessed.
 * A cookie over cookie_max_size is refused with CRUMB_ETOOBIG (details in
 * crumb_iface_errmsg()) and nothing is set.
 * Server-side: the request's changes (the session's journal) are applied
 * to the stored record under a version check and retried on conflict, so
 * concurrent requests lose no update; regenerate and destroy happen here.
 * Returns CRUMB_OK, CRUMB_ETOOBIG, CRUMB_EINVAL, CRUMB_ENOMEM, CRUMB_ECRYPTO,
 * and server-side CRUMB_EUNAVAIL, CRUMB_ESTORE, CRUMB_ECONFLICT (still
 * conflicting after many retries).
 * Lifetime: res->set_cookie is owned by @res; release with
 * crumb_save_result_cleanup(). On error @res holds nothing to release.
 */
int crumb_iface_save(crumb_iface *iface, crumb_session *s,
                     crumb_save_result *res);

/** crumb_save_result_cleanup - free what @res holds; accepts NULL. */
void crumb_save_result_cleanup(crumb_save_result *res);

/** crumb_iface_signer - the interface's signer (borrowed, read-only);
 * NULL server-side without a secret key. */
const crumb_signer *crumb_iface_signer(const crumb_iface *iface);

/** crumb_iface_server_side - 1 when sessions live in a store. */
int crumb_iface_server_side(const crumb_iface *iface);

/** One stored session, as a session list shows it. */
typedef struct crumb_session_info {
    char handle[17]; /* crumb_session_handle(): never the cookie id */
    int64_t created, last_seen, expires_at;
    char user[65], addr[47], agent[65];
    int current; /* the session passed as @current */
} crumb_session_info;

/**
 * crumb_iface_list_sessions - the live sessions of @user, most recently
 * seen first; the one that is @current (may be NULL) is marked.
 * Returns CRUMB_OK, CRUMB_EUNSUPPORTED (cookie sessions), CRUMB_EINVAL,
 * CRUMB_EUNAVAIL, CRUMB_ESTORE, CRUMB_ENOMEM.
 * Lifetime: *out malloc'd (free()), *n entries; NULL when none.
 */
int crumb_iface_list_sessions(crumb_iface *iface, const char *user,
                              const crumb_session *current,
                              crumb_session_info **out, size_t *n);

/**
 * crumb_iface_list_all_sessions - the live sessions of every user
 * (anonymous ones too), most recently seen first, at most @limit (>= 1).
 * None is marked current. It walks the whole store (see
 * crumb_store_list_all()): for administration tools, not for requests.
 * Returns CRUMB_OK, CRUMB_EUNSUPPORTED (cookie sessions, or a store
 * backend without list_all), CRUMB_EINVAL, CRUMB_EUNAVAIL, CRUMB_ESTORE,
 * CRUMB_ENOMEM.
 * Lifetime: *out malloc'd (free()), *n entries; NULL when none.
 */
int crumb_iface_list_all_sessions(crumb_iface *iface, size_t limit,
                                  crumb_session_info **out, size_t *n);

/**
 * crumb_iface_revoke_session - end @user's session named @handle.
 * Returns CRUMB_OK, CRUMB_ENOTFOUND (no such session of that user),
 * CRUMB_EUNSUPPORTED, CRUMB_EUNAVAIL, CRUMB_ESTORE.
 */
int crumb_iface_revoke_session(crumb_iface *iface, const char *user,
                               const char *handle);

/**
 * crumb_iface_revoke_handle - end the session named @handle, whoever it
 * belongs to (an operator's tool does not know the user). It walks every
 * live session (crumb_store_list_all()), holding their metadata in memory
 * meanwhile: for administration tools, not for requests.
 * Returns CRUMB_OK, CRUMB_ENOTFOUND (no live session has that handle,
 * or @handle is not 16 hex digits), CRUMB_EUNSUPPORTED, CRUMB_EUNAVAIL,
 * CRUMB_ESTORE, CRUMB_ENOMEM.
 */
int crumb_iface_revoke_handle(crumb_iface *iface, const char *handle);

/**
 * crumb_iface_revoke_user - end every session of @user except @keep (may
 * be NULL: all). @count (may be NULL) receives how many ended.
 * Returns CRUMB_OK, CRUMB_EUNSUPPORTED, CRUMB_EINVAL, CRUMB_EUNAVAIL,
 * CRUMB_ESTORE.
 */
int crumb_iface_revoke_user(crumb_iface *iface, const char *user,
                            const crumb_session *keep, size_t *count);

/**
 * crumb_iface_gc - remove expired records now (a store also expires them
 * on its own: SQLite by this sweep, Redis by key TTLs).
 * Returns CRUMB_OK, CRUMB_EUNSUPPORTED, CRUMB_EUNAVAIL, CRUMB_ESTORE.
 */
int crumb_iface_gc(crumb_iface *iface, size_t *removed);

/**
 * crumb_iface_store_acquire / release - borrow a store handle of the
 * interface's store for other shared state (login throttling counters,
 * remember-me tokens). NULL with cookie sessions or on failure (see
 * crumb_iface_errmsg()). Release every handle acquired, on the same
 * thread. Lifetime: until released.
 */
crumb_store *crumb_iface_store_acquire(crumb_iface *iface);
void crumb_iface_store_release(crumb_iface *iface, crumb_store *st);

/** crumb_iface_now - the interface's clock (the configured one). */
int64_t crumb_iface_now(const crumb_iface *iface);

#ifdef __cplusplus
}
#endif
#endif
