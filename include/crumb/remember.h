/* crumb/remember.h - remember-me tokens and login throttling in a store. */
#ifndef CRUMB_REMEMBER_H
#define CRUMB_REMEMBER_H

#include <stddef.h>
#include <stdint.h>

#include <crumb/store.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Remember-me tokens ("selector:validator", after Jaspan and Paragon's
 * split-token design). The selector (12 random bytes) names the entry;
 * the validator (32 random bytes) is the secret, and the store keeps only
 * its SHA-256, so a leaked store logs nobody in. Both are URL-safe base64
 * without padding, so the token is a valid cookie value.
 *
 * Store layout (kv entries and counters, shared by every server on the
 * store):
 *   kv  remember:<selector>      "r1 <gen> <expires> <sha256-hex> <user>"
 *                                TTL: the token's lifetime
 *   kv  remember-used:<selector> the same line, once the token was used;
 *                                TTL: what was left of its lifetime
 *   ctr remember-gen:<user>      the user's token generation (no window)
 *
 * Each token works once: consuming it deletes its entry (the deletion
 * that succeeds decides which of two concurrent requests wins), leaves a
 * "used" entry behind, and issues a new token. Presenting a used token
 * again, or a live selector with a wrong validator, is the theft signal
 * (except within CRUMB_REMEMBER_GRACE seconds of its use: a browser's
 * parallel requests carrying the same cookie are refused, not a theft):
 * the user's generation goes up, which ends every remember token of that
 * user at once on every server (entries from an older generation are
 * refused and deleted when seen). Revoking all of a user's tokens is the
 * same atomic increment, which is why there is no read-modify-write
 * index of a user's selectors that concurrent logins could corrupt.
 *
 * Every function takes the caller's clock (@now, unix seconds), so tests
 * can move time.
 */

#define CRUMB_REMEMBER_SELECTOR_BYTES 12
#define CRUMB_REMEMBER_VALIDATOR_BYTES 32
/* 16 + ':' + 43 + NUL */
#define CRUMB_REMEMBER_TOKEN_SIZE 64
#define CRUMB_REMEMBER_DAYS_DEFAULT 30
/* A used token seen again this soon is a concurrent request, not theft. */
#define CRUMB_REMEMBER_GRACE 5

/** What a presented token turned out to be. */
typedef enum crumb_remember_outcome {
    CRUMB_REMEMBER_OK = 0,    /* valid: user filled, a new token issued */
    CRUMB_REMEMBER_MALFORMED, /* not selector:validator */
    CRUMB_REMEMBER_UNKNOWN,   /* no entry: expired, ended, or invented */
    CRUMB_REMEMBER_REVOKED,   /* the user's tokens were ended since */
    CRUMB_REMEMBER_RACED,     /* a concurrent request used it just now
                                 (within CRUMB_REMEMBER_GRACE seconds) */
    CRUMB_REMEMBER_THEFT      /* a used token again, or a wrong validator
                                 for a live selector: every remember token
                                 of the user (filled in) was ended */
} crumb_remember_outcome;

/** crumb_remember_outcome_str - "ok", "malformed", ... (static). */
const char *crumb_remember_outcome_str(crumb_remember_outcome o);

/**
 * crumb_remember_issue - a new token for @user (1..64 bytes) valid for
 * @lifetime seconds (> 0) from @now, written to @token
 * (CRUMB_REMEMBER_TOKEN_SIZE bytes).
 * Returns CRUMB_OK, CRUMB_EINVAL, CRUMB_ECRYPTO, CRUMB_EUNAVAIL,
 * CRUMB_ESTORE, CRUMB_ENOMEM. Nothing is stored on failure.
 */
int crumb_remember_issue(crumb_store *st, const char *user, int64_t lifetime,
                         int64_t now, char *token, size_t size);

/**
 * crumb_remember_consume - check @token (a cookie value; hostile input)
 * and, when it is valid, use it up and issue its successor for @lifetime
 * seconds into @new_token (CRUMB_REMEMBER_TOKEN_SIZE bytes).
 * *outcome says what happened (see above); @user (@user_size >= 65
 * bytes) receives the user for OK and THEFT, "" otherwise. A bad token
 * is an outcome, not an error: the function returns CRUMB_OK for every
 * outcome, and an error only when the store failed (CRUMB_EUNAVAIL,
 * CRUMB_ESTORE, CRUMB_ENOMEM, CRUMB_ECRYPTO) or for CRUMB_EINVAL
 * arguments. The validator is compared in constant time.
 */
int crumb_remember_consume(crumb_store *st, const char *token,
                           int64_t lifetime, int64_t now, char *user,
                           size_t user_size, char *new_token,
                           size_t new_size, crumb_remember_outcome *outcome);

/**
 * crumb_remember_forget - end the one token @token, the whole
 * "selector:validator" cookie value (logout on this browser). Returns CRUMB_OK, CRUMB_ENOTFOUND (no such live token, or
 * malformed), CRUMB_EUNAVAIL, CRUMB_ESTORE.
 */
int crumb_remember_forget(crumb_store *st, const char *token);

/**
 * crumb_remember_revoke_user - end every remember token of @user, on
 * every server sharing @st (password change, "log out everywhere",
 * theft). Returns CRUMB_OK, CRUMB_EINVAL, CRUMB_EUNAVAIL, CRUMB_ESTORE.
 */
int crumb_remember_revoke_user(crumb_store *st, const char *user,
                               int64_t now);

/*
 * Login throttling. Failed logins are counted per username and per client
 * address in store counters with a window, so every server on the store
 * shares the count:
 *   ctr login-fail:u:<hash of the name>   ctr login-fail:a:<address>
 *   kv  login-block:u:...                 kv  login-block:a:...
 * (an IPv6 address counts for its /64). Once a count reaches its limit,
 * each further attempt is refused for 2^(failures - limit + 1) seconds,
 * capped at the window: 2 s after the limit, then 4, 8, 16... A refused
 * attempt counts as a failure (so hammering keeps the door shut), and it
 * must be refused BEFORE the password is checked, so an attacker cannot
 * make the server spend scrypt time. A success resets the username's
 * count (not the address's).
 */

typedef struct crumb_throttle_limits {
    int64_t max_user; /* failures per username per window; default 5 */
    int64_t max_addr; /* failures per client address; default 100 */
    int64_t window;   /* seconds; default 900 */
} crumb_throttle_limits;

/** crumb_throttle_limits_init - the defaults above. */
void crumb_throttle_limits_init(crumb_throttle_limits *l);

/**
 * crumb_throttle_check - may this login attempt check a password?
 * *retry_after 0: yes; > 0: no, refuse it (HTTP 429 with Retry-After:
 * *retry_after) and it has been counted as a failure. @user or @addr may
 * be NULL or "" (not counted on that side).
 * Returns CRUMB_OK, CRUMB_EINVAL, CRUMB_EUNAVAIL, CRUMB_ESTORE,
 * CRUMB_ENOMEM.
 */
int crumb_throttle_check(crumb_store *st, const crumb_throttle_limits *l,
                         const char *user, const char *addr, int64_t now,
                         int64_t *retry_after);

/**
 * crumb_throttle_fail - count a failed login. *retry_after (may be NULL)
 * receives how long the next attempt will be refused, 0 when it will not.
 * Returns as crumb_throttle_check().
 */
int crumb_throttle_fail(crumb_store *st, const crumb_throttle_limits *l,
                        const char *user, const char *addr, int64_t now,
                        int64_t *retry_after);

/**
 * crumb_throttle_success - a successful login: the username's count and
 * refusal end. Returns CRUMB_OK, CRUMB_EINVAL, CRUMB_EUNAVAIL,
 * CRUMB_ESTORE.
 */
int crumb_throttle_success(crumb_store *st, const crumb_throttle_limits *l,
                           const char *user, int64_t now);

/**
 * crumb_throttle_failures - the current failure count of @user (addr
 * NULL) or of @addr (user NULL), for pages and tests.
 * Returns CRUMB_OK, CRUMB_EINVAL, CRUMB_EUNAVAIL, CRUMB_ESTORE.
 */
int crumb_throttle_failures(crumb_store *st, const crumb_throttle_limits *l,
                            const char *user, const char *addr, int64_t now,
                            int64_t *count);

#ifdef __cplusplus
}
#endif
#endif
