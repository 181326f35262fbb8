/* crumb/auth.h - password hashes, the user database, CSRF tokens. */
#ifndef CRUMB_AUTH_H
#define CRUMB_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include <crumb/session.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Password hashes use werkzeug's format so a Flask app's user table can be
 * imported and shared:
 *   scrypt:N:r:p$SALT$HEX       (crumb writes scrypt:32768:8:1, 16-char
 *                                 salt, 64-byte key, as werkzeug does)
 *   pbkdf2:sha256:ITER$SALT$HEX (verified; rehash suggested)
 * The salt is used as its ASCII text, the hash is lowercase hex.
 */

/**
 * crumb_password_hash - a new scrypt hash of @password (UTF-8 bytes).
 * Returns CRUMB_OK, CRUMB_EINVAL (empty or over 1024 bytes), CRUMB_ENOMEM,
 * CRUMB_ECRYPTO.
 * Lifetime: *out malloc'd, NUL-terminated, owned by the caller (free()).
 * Thread-safe. Costs ~32 MiB of memory and tens of milliseconds.
 */
int crumb_password_hash(const char *password, char **out);

/**
 * crumb_password_verify - check @password against a werkzeug-format @hash,
 * in constant time for the comparison.
 * Returns CRUMB_OK (match), CRUMB_EBADSIG (no match), CRUMB_EMALFORMED
 * (not a hash we read), CRUMB_EUNSUPPORTED (method we do not support, or
 * parameters past our bounds), CRUMB_ENOMEM, CRUMB_ECRYPTO.
 */
int crumb_password_verify(const char *hash, const char *password);

/**
 * crumb_password_verify_dummy - spend the time a verify costs, for a user
 * that does not exist (so timing does not reveal which names exist).
 * Always returns CRUMB_EBADSIG.
 */
int crumb_password_verify_dummy(const char *password);

/** crumb_password_needs_rehash - 1 when @hash is not crumb's current
 * scrypt parameters (e.g. an imported pbkdf2 hash), else 0. */
int crumb_password_needs_rehash(const char *hash);

/** crumb_username_valid - 1 for 3..32 chars of A-Z a-z 0-9 _ . - */
int crumb_username_valid(const char *username);

#define CRUMB_USERNAME_MAX 32
#define CRUMB_ROLES_MAX 128

typedef struct crumb_user {
    int64_t id;
    char username[CRUMB_USERNAME_MAX + 1];
    char roles[CRUMB_ROLES_MAX + 1]; /* comma-separated, e.g. "user,admin" */
    int64_t created;                 /* unix seconds */
    int64_t password_changed;        /* unix seconds */
} crumb_user;

/** crumb_user_has_role - 1 when @role is one of @u's roles. */
int crumb_user_has_role(const crumb_user *u, const char *role);

typedef struct crumb_users crumb_users;

/**
 * crumb_users_open - open (creating when missing) a user database.
 * @uri: "sqlite:PATH" (or a bare path): a file, WAL mode, safe for several
 * processes of one machine; the schema is created on first open.
 * "redis://HOST:PORT/DB[?prefix=P&connect_timeout_ms=N&timeout_ms=N]":
 * users shared by every server of that Redis (P:user:<name> hashes, a
 * set of names, ids from INCR; registration is atomic), 500 ms connect
 * and command timeouts by default; a lost connection is re-made by the
 * next call.
 * Returns CRUMB_OK, CRUMB_EINVAL (unknown scheme, bad URI), CRUMB_ESTORE,
 * CRUMB_EUNAVAIL (Redis does not answer) - for those two the details are
 * in crumb_users_errmsg(*out), *out is set and must be closed -,
 * CRUMB_ENOMEM. Every call below may also return CRUMB_EUNAVAIL on Redis.
 * Lifetime: *out owned by the caller, crumb_users_close().
 * Thread-safety: one handle per thread.
 */
int crumb_users_open(crumb_users **out, const char *uri);

/** crumb_users_close - close; accepts NULL. */
void crumb_users_close(crumb_users *db);

/** crumb_users_errmsg - the last failure's detail; lives as long as @db. */
const char *crumb_users_errmsg(const crumb_users *db);

/**
 * crumb_users_add - a new user with a fresh scrypt hash of @password, or
 * with @password_hash as given (an imported werkzeug hash) when @password
 * is NULL. @roles NULL means "user".
 * Returns CRUMB_OK, CRUMB_EINVAL (bad name, password under 8 chars,
 * malformed hash), CRUMB_EEXIST (name taken), CRUMB_ESTORE, CRUMB_ENOMEM.
 */
int crumb_users_add(crumb_users *db, const char *username,
                    const char *password, const char *password_hash,
                    const char *roles, crumb_user *out);

/**
 * crumb_users_authenticate - check a login. Unknown user and wrong
 * password take about the same time and give the same result.
 * A pbkdf2 hash that matches is upgraded to scrypt in place.
 * Returns CRUMB_OK (fills *out), CRUMB_EBADSIG, CRUMB_ESTORE, CRUMB_ENOMEM.
 */
int crumb_users_authenticate(crumb_users *db, const char *username,
                             const char *password, crumb_user *out);

/** Lookups: CRUMB_OK, CRUMB_ENOTFOUND, CRUMB_ESTORE. */
int crumb_users_get(crumb_users *db, const char *username, crumb_user *out);
int crumb_users_get_by_id(crumb_users *db, int64_t id, crumb_user *out);

/** Changes: CRUMB_OK, CRUMB_ENOTFOUND, CRUMB_EINVAL, CRUMB_ESTORE. */
int crumb_users_set_password(crumb_users *db, const char *username,
                             const char *password);
int crumb_users_set_roles(crumb_users *db, const char *username,
                          const char *roles);
int crumb_users_delete(crumb_users *db, const char *username);

/**
 * crumb_users_list - every user, ordered by name.
 * Lifetime: *out is a malloc'd array of *n users (free()).
 */
int crumb_users_list(crumb_users *db, crumb_user **out, size_t *n);

/*
 * CSRF: a per-session secret kept in the session under "_csrf"; each form
 * gets a fresh masked copy (random pad XOR secret, then pad||masked in
 * URL-safe base64), so the token differs on every page (BREACH) while any
 * issued token verifies for the life of the session.
 */

#define CRUMB_CSRF_TOKEN_SIZE 89 /* 64 bytes in base64url + NUL */

/**
 * crumb_csrf_token - a token for a form, creating the session's secret if
 * missing (which modifies the session). @out needs CRUMB_CSRF_TOKEN_SIZE.
 * Returns CRUMB_OK, CRUMB_EINVAL (small buffer), CRUMB_ECRYPTO,
 * CRUMB_ENOMEM.
 */
int crumb_csrf_token(crumb_session *s, char *out, size_t size);

/**
 * crumb_csrf_verify - CRUMB_OK when @token (may be NULL) was issued for
 * @s's secret; CRUMB_EBADSIG otherwise (also when the session has no
 * secret). Constant-time.
 */
int crumb_csrf_verify(crumb_session *s, const char *token);

#ifdef __cplusplus
}
#endif
#endif
