/* accounts.c - remember-me cookies, login throttling, re-authentication. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <crumb/cookie.h>
#include <crumb/error.h>
#include <crumb/remember.h>

#include "shop.h"

#define REMEMBER_COOKIE "remember_token"
#define STORE_DOWN "The session store is unreachable; try again shortly."

static struct {
    int64_t remember_lifetime; /* seconds */
    crumb_throttle_limits limits;
    int cookie_secure;
    crumb_store *own_store; /* cookie sessions: a memory store of our own */
} acc;

/* A positive integer from the environment, within [1, max]. */
static int
env_int(const char *name, int64_t def, int64_t max, int64_t *out)
{
    const char *v = getenv(name);
    if (!v || !*v) {
        *out = def;
        return 0;
    }
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (*end || end == v || errno || n < 1 || n > max) {
        fprintf(stderr, "crumb-shop: %s must be a whole number from 1 to "
                        "%lld\n", name, (long long)max);
        return 1;
    }
    *out = n;
    return 0;
}

static void
store_down(crumb_http_req *req)
{
    crumb_http_header_add(req, "Retry-After", "5");
    crumb_http_error(req, 503, STORE_DOWN);
}

/* ---- remember-me ---- */

static void
remember_cookie(crumb_http_req *req, const char *token)
{
    crumb_setcookie c;
    memset(&c, 0, sizeof(c));
    c.name = REMEMBER_COOKIE;
    c.value = token ? token : "";
    c.path = "/";
    c.has_max_age = 1;
    c.max_age = token ? acc.remember_lifetime : 0;
    if (!token) {
        c.has_expires = 1;
        c.expires = 0; /* 1970: delete it */
    }
    c.secure = acc.cookie_secure;
    c.httponly = 1;
    c.samesite = CRUMB_SAMESITE_LAX;
    char *sc = NULL;
    if (crumb_setcookie_format(&c, &sc, NULL) == CRUMB_OK)
        crumb_http_header_add(req, "Set-Cookie", sc);
    free(sc);
}

/* This request's remember cookie, copied into @out; 0 when there is none
 * (or it cannot be a token: too long). */
static int
remember_token_of(crumb_http_req *req, char *out, size_t size)
{
    const char *ck = crumb_http_header(req, "Cookie");
    const char *v;
    size_t n;
    /* asked on every page: most Cookie headers do not even name it */
    if (!ck || !strstr(ck, REMEMBER_COOKIE) ||
        crumb_cookie_get(ck, strlen(ck), REMEMBER_COOKIE, &v, &n) != CRUMB_OK)
        return 0;
    if (n >= size)
        n = size - 1;
    memcpy(out, v, n);
    out[n] = '\0';
    return 1;
}

static const char *const notes[] = {
    [CRUMB_REMEMBER_OK] = "remember: logged in",
    [CRUMB_REMEMBER_MALFORMED] = "remember: malformed",
    [CRUMB_REMEMBER_UNKNOWN] = "remember: unknown or expired",
    [CRUMB_REMEMBER_REVOKED] = "remember: revoked",
    [CRUMB_REMEMBER_RACED] = "remember: used by a concurrent request",
    [CRUMB_REMEMBER_THEFT] = "remember: reused or forged, all ended",
};

static void
user_id_text(const crumb_user *u, char *out, size_t size)
{
    snprintf(out, size, "%lld", (long long)u->id);
}

/*
 * Before every page: a visitor without a login who brings a remember
 * cookie is logged in again when the token is good, with a new session
 * (not fresh: sensitive pages still ask for the password) and the next
 * token. Anything else deletes the cookie, and goes to the log line; a
 * reused or forged token also ends every remember token of that user and
 * gets a log line of its own.
 */
static void
remember_before(crumb_http_req *req, void *unused)
{
    crumb_session *s = crumb_http_session(req);
    char token[128];
    if (!s || crumb_session_contains(s, "_user_id") ||
        !remember_token_of(req, token, sizeof(token)))
        return;
    crumb_http *h = crumb_http_server(req);
    crumb_store *st = crumb_http_store_acquire(h);
    if (!st) {
        store_down(req);
        return;
    }
    char user[CRUMB_STORE_USER_MAX + 1], next[CRUMB_REMEMBER_TOKEN_SIZE];
    crumb_remember_outcome o;
    int rc = crumb_remember_consume(st, token, acc.remember_lifetime,
                                    crumb_http_now(req), user, sizeof(user),
                                    next, sizeof(next), &o);
    crumb_http_store_release(h, st);
    if (rc != CRUMB_OK) {
        store_down(req);
        return;
    }
    crumb_http_log_note(req, notes[o]);
    if (o == CRUMB_REMEMBER_RACED)
        return; /* the winning request sets the next cookie */
    if (o == CRUMB_REMEMBER_THEFT)
        crumb_http_logf(h, "crumb-shop: a used or forged remember-me token "
                           "for user %s: every remember token of that user "
                           "ended",
                        user);
    crumb_users *db = shop_users();
    char *end;
    long long id = o == CRUMB_REMEMBER_OK ? strtoll(user, &end, 10) : 0;
    crumb_user u;
    if (id <= 0 || *end || !db || crumb_users_get_by_id(db, id, &u) !=
                                      CRUMB_OK) {
        remember_cookie(req, NULL);
        return;
    }
    char idt[32];
    user_id_text(&u, idt, sizeof(idt));
    rc = crumb_http_login(req, idt, u.roles, 0);
    if (rc != CRUMB_OK) {
        store_down(req);
        return;
    }
    crumb_session_set_int(s, "_pwc", u.password_changed);
    crumb_session_set_permanent(s, 1);
    remember_cookie(req, next);
}

int
shop_remember_issue(crumb_http_req *req, const crumb_user *u)
{
    crumb_http *h = crumb_http_server(req);
    char old[128], id[32], token[CRUMB_REMEMBER_TOKEN_SIZE];
    user_id_text(u, id, sizeof(id));
    crumb_store *st = crumb_http_store_acquire(h);
    if (!st)
        return CRUMB_EUNAVAIL;
    if (remember_token_of(req, old, sizeof(old)))
        crumb_remember_forget(st, old);
    int rc = crumb_remember_issue(st, id, acc.remember_lifetime,
                                  crumb_http_now(req), token, sizeof(token));
    crumb_http_store_release(h, st);
    if (rc == CRUMB_OK)
        remember_cookie(req, token);
    return rc;
}

void
shop_remember_forget(crumb_http_req *req)
{
    char token[128];
    if (!remember_token_of(req, token, sizeof(token)))
        return;
    crumb_http *h = crumb_http_server(req);
    crumb_store *st = crumb_http_store_acquire(h);
    if (st) {
        crumb_remember_forget(st, token);
        crumb_http_store_release(h, st);
    }
    remember_cookie(req, NULL);
}

int
shop_remember_revoke_user(crumb_http_req *req, const crumb_user *u)
{
    crumb_http *h = crumb_http_server(req);
    char id[32];
    user_id_text(u, id, sizeof(id));
    crumb_store *st = crumb_http_store_acquire(h);
    if (!st)
        return CRUMB_EUNAVAIL;
    int rc = crumb_remember_revoke_user(st, id, crumb_http_now(req));
    crumb_http_store_release(h, st);
    char token[128];
    if (rc == CRUMB_OK && remember_token_of(req, token, sizeof(token)))
        remember_cookie(req, NULL);
    return rc;
}

/* ---- throttling ---- */

int
shop_login_throttled(crumb_http_req *req, const char *username)
{
    crumb_http *h = crumb_http_server(req);
    crumb_store *st = crumb_http_store_acquire(h);
    int64_t retry = 0;
    int rc = st ? crumb_throttle_check(st, &acc.limits, username,
                                       crumb_http_client_addr(req),
                                       crumb_http_now(req), &retry)
                : CRUMB_EUNAVAIL;
    crumb_http_store_release(h, st);
    if (rc != CRUMB_OK) {
        store_down(req);
        return 1;
    }
    if (retry == 0)
        return 0;
    char ra[24], msg[200];
    snprintf(ra, sizeof(ra), "%lld", (long long)retry);
    snprintf(msg, sizeof(msg), "Too many failed logins for this account or "
                               "from your address. Try again in %lld "
                               "second%s.",
             (long long)retry, retry == 1 ? "" : "s");
    crumb_http_header_add(req, "Retry-After", ra);
    crumb_http_log_note(req, "login throttled");
    crumb_http_error(req, 429, msg);
    return 1;
}

void
shop_login_result(crumb_http_req *req, const char *username, int ok)
{
    crumb_http *h = crumb_http_server(req);
    crumb_store *st = crumb_http_store_acquire(h);
    if (!st)
        return;
    int64_t now = crumb_http_now(req);
    int rc = ok ? crumb_throttle_success(st, &acc.limits, username, now)
                : crumb_throttle_fail(st, &acc.limits, username,
                                      crumb_http_client_addr(req), now,
                                      NULL);
    if (rc != CRUMB_OK && rc != CRUMB_EINVAL)
        crumb_http_logf(h, "crumb-shop: login throttling: %s",
                        crumb_strerror(rc));
    crumb_http_store_release(h, st);
}

/* ---- re-authentication: /login/confirm ---- */

static void
confirm_form(crumb_http_req *req, int status, const char *error,
             const crumb_user *u, const char *next)
{
    json_t *ctx = shop_ctx(req, "Confirm your password", 1);
    if (ctx) {
        json_object_set_new(ctx, "username", json_string(u->username));
        if (error)
            json_object_set_new(ctx, "error", json_string(error));
        if (crumb_http_local_path(next))
            json_object_set_new(ctx, "next", json_string(next));
    }
    shop_page(req, status, "confirm", ctx);
}

static void
get_confirm(crumb_http_req *req, void *unused)
{
    crumb_user u;
    if (crumb_http_login_required(req))
        return;
    if (!shop_current_user(req, &u)) {
        crumb_http_redirect(req, 303, "/login");
        return;
    }
    confirm_form(req, 200, NULL, &u, crumb_http_query(req, "next"));
}

static void
post_confirm(crumb_http_req *req, void *unused)
{
    crumb_user u, check;
    if (crumb_http_login_required(req))
        return;
    if (!shop_current_user(req, &u)) {
        crumb_http_redirect(req, 303, "/login");
        return;
    }
    const char *pass = crumb_http_form(req, "password");
    const char *next = crumb_http_form(req, "next");
    if (shop_login_throttled(req, u.username))
        return;
    crumb_users *db = shop_users();
    int rc = db ? crumb_users_authenticate(db, u.username, pass ? pass : "",
                                           &check)
                : CRUMB_EUNAVAIL;
    if (rc == CRUMB_EBADSIG || rc == CRUMB_EINVAL || rc == CRUMB_ENOTFOUND) {
        shop_login_result(req, u.username, 0);
        confirm_form(req, 401, "That password is not right.", &u, next);
        return;
    }
    if (rc != CRUMB_OK) {
        crumb_http_error(req, 503, "The user database is unavailable.");
        return;
    }
    shop_login_result(req, u.username, 1);
    crumb_http_confirm_login(req);
    crumb_http_redirect(req, 303, crumb_http_local_path(next) ? next : "/");
}

/* ---- setup ---- */

static int
load_user(crumb_http_req *req, const char *user_id, char *roles,
          size_t size, void *unused)
{
    crumb_users *db = shop_users();
    char *end;
    long long id = strtoll(user_id, &end, 10);
    crumb_user u;
    if (!db)
        return CRUMB_EUNAVAIL;
    if (*end || id <= 0)
        return CRUMB_ENOTFOUND;
    int rc = crumb_users_get_by_id(db, id, &u);
    if (rc == CRUMB_OK)
        snprintf(roles, size, "%s", u.roles);
    return rc;
}

int
shop_accounts_init(crumb_http *h, const shop_config *c)
{
    int64_t days, users, addrs, window;
    if (env_int("CRUMB_REMEMBER_DAYS", CRUMB_REMEMBER_DAYS_DEFAULT, 3650,
                &days) ||
        env_int("CRUMB_LOGIN_MAX_FAILURES_USER", 5, 1000000, &users) ||
        env_int("CRUMB_LOGIN_MAX_FAILURES_ADDR", 100, 1000000, &addrs) ||
        env_int("CRUMB_LOGIN_WINDOW", 900, 86400 * 30, &window))
        return CRUMB_EINVAL;
    acc.remember_lifetime = days * 86400;
    acc.limits.max_user = users;
    acc.limits.max_addr = addrs;
    acc.limits.window = window;
    acc.cookie_secure = c->cookie_secure;
    const char *proxies = getenv("CRUMB_TRUSTED_PROXIES");
    if (crumb_http_set_trusted_proxies(h, proxies) != CRUMB_OK) {
        fprintf(stderr, "crumb-shop: CRUMB_TRUSTED_PROXIES must be a comma "
                        "list of addresses or CIDR blocks\n");
        return CRUMB_EINVAL;
    }
    /* Signed-cookie sessions have no store: remember tokens, throttling
     * counts and user generations then live in this process only. */
    if (strcmp(c->store, "cookie") == 0 && !acc.own_store) {
        int rc = crumb_store_open(&acc.own_store, "memory:", NULL);
        if (rc != CRUMB_OK)
            return rc;
    }
    crumb_http_auth a;
    memset(&a, 0, sizeof(a));
    a.load_user = load_user;
    a.store = acc.own_store;
    a.before = remember_before;
    return crumb_http_set_auth(h, &a);
}

void
shop_accounts_cleanup(void)
{
    crumb_store_close(acc.own_store);
    acc.own_store = NULL;
}

static const shop_route routes[] = {
    {"GET", "/login/confirm", get_confirm, 0},
    {"POST", "/login/confirm", post_confirm, 0},
};

int
shop_routes_accounts(crumb_http *h)
{
    return shop_route_table(h, routes, sizeof(routes) / sizeof(routes[0]));
}
