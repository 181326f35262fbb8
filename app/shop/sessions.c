/* sessions.c - my sessions: list, revoke one, others or all; password. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <crumb/error.h>

#include "shop.h"

#define STORE_DOWN "The session store is unreachable; try again shortly."
#define COOKIE_ONLY                                                          \
    "Sessions are kept in signed cookies on this server, so they cannot "   \
    "be listed or ended one by one; that needs a server-side store "        \
    "(CRUMB_STORE=sqlite:PATH, memory: or redis://HOST:PORT/DB)."

static crumb_iface *
iface_of(crumb_http_req *req)
{
    return crumb_http_iface(crumb_http_server(req));
}

/* The session's account key: the user id as text, as login sets it. */
static void
user_key(const crumb_user *u, char *out, size_t size)
{
    snprintf(out, size, "%lld", (long long)u->id);
}

static void
store_down(crumb_http_req *req)
{
    crumb_http_header_add(req, "Retry-After", "5");
    crumb_http_error(req, 503, STORE_DOWN);
}

static void
fmt_time(int64_t t, char *out, size_t size)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (t <= 0 || !gmtime_r(&tt, &tm) ||
        strftime(out, size, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
        snprintf(out, size, "-");
}

/* Login required: the user, or a redirect to the login page (0). */
static int
require_user(crumb_http_req *req, crumb_user *u, const char *next)
{
    if (shop_current_user(req, u))
        return 1;
    crumb_http_redirect(req, 302, next);
    return 0;
}

static void
get_sessions(crumb_http_req *req, void *unused)
{
    crumb_user u;
    if (!require_user(req, &u, "/login?next=%2Faccount%2Fsessions"))
        return;
    crumb_iface *iface = iface_of(req);
    json_t *ctx = shop_ctx(req, "Your sessions", 1);
    if (!ctx) {
        shop_page(req, 500, "sessions", NULL);
        return;
    }
    int server_side = iface && crumb_iface_server_side(iface);
    json_object_set_new(ctx, "server_side", json_boolean(server_side));
    if (server_side) {
        char key[32];
        user_key(&u, key, sizeof key);
        crumb_session_info *list = NULL;
        size_t n = 0;
        int rc = crumb_iface_list_sessions(iface, key, crumb_http_session(req),
                                           &list, &n);
        if (rc == CRUMB_EUNAVAIL || rc == CRUMB_ESTORE) {
            json_decref(ctx);
            store_down(req);
            return;
        }
        json_t *rows = json_array();
        for (size_t i = 0; rows && i < n; i++) {
            char created[40], seen[40];
            fmt_time(list[i].created, created, sizeof created);
            fmt_time(list[i].last_seen, seen, sizeof seen);
            json_array_append_new(
                rows, json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "handle",
                                list[i].handle, "created", created,
                                "last_seen", seen, "addr", list[i].addr,
                                "agent", list[i].agent, "current",
                                list[i].current));
        }
        free(list);
        json_object_set_new(ctx, "sessions", rows);
    }
    shop_page(req, 200, "sessions", ctx);
}

static int
is_handle(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
            return 0;
    return n == 16;
}

/*
 * which=others ends every session of mine but this one; which=all ends
 * them all, this one too (then I am logged out); which=<handle> ends that
 * one, which must be mine: a handle of another user's session is a 404,
 * exactly like one that does not exist.
 */
static void
post_revoke(crumb_http_req *req, void *unused)
{
    crumb_user u;
    if (!require_user(req, &u, "/login?next=%2Faccount%2Fsessions"))
        return;
    if (crumb_http_fresh_required(req, SHOP_FRESH_AGE))
        return;
    crumb_iface *iface = iface_of(req);
    crumb_session *s = crumb_http_session(req);
    const char *which = crumb_http_form(req, "which");
    if (!which || !(strcmp(which, "others") == 0 ||
                    strcmp(which, "all") == 0 || is_handle(which))) {
        crumb_http_error(req, 400, "Say which sessions to end: others, "
                                   "all, or one from the list.");
        return;
    }
    if (!iface || !crumb_iface_server_side(iface)) {
        crumb_http_error(req, 409, COOKIE_ONLY);
        return;
    }
    char key[32];
    user_key(&u, key, sizeof key);
    int rc, mine_too = 0;
    if (strcmp(which, "others") == 0) {
        rc = crumb_iface_revoke_user(iface, key, s, NULL);
    } else if (strcmp(which, "all") == 0) {
        rc = crumb_iface_revoke_user(iface, key, NULL, NULL);
        if (rc == CRUMB_OK)
            rc = shop_remember_revoke_user(req, &u);
        mine_too = 1;
    } else {
        rc = crumb_iface_revoke_session(iface, key, which);
        mine_too = strcmp(which, crumb_session_handle(s)) == 0;
    }
    if (rc == CRUMB_ENOTFOUND) {
        crumb_http_error(req, 404, "You have no session by that name.");
        return;
    }
    if (rc == CRUMB_EUNAVAIL || rc == CRUMB_ESTORE) {
        store_down(req);
        return;
    }
    if (rc != CRUMB_OK) {
        crumb_http_error(req, 500, "The sessions could not be ended.");
        return;
    }
    if (mine_too) {
        crumb_session_clear(s);
        crumb_session_destroy(s);
        crumb_http_redirect(req, 303, "/login");
        return;
    }
    crumb_http_redirect(req, 303, "/account/sessions");
}

static void
password_form(crumb_http_req *req, int status, const char *error,
              const crumb_user *u)
{
    json_t *ctx = shop_ctx(req, "Change password", 1);
    if (ctx) {
        json_object_set_new(ctx, "username", json_string(u->username));
        if (error)
            json_object_set_new(ctx, "error", json_string(error));
    }
    shop_page(req, status, "password", ctx);
}

static void
get_password(crumb_http_req *req, void *unused)
{
    crumb_user u;
    if (!require_user(req, &u, "/login?next=%2Faccount%2Fpassword"))
        return;
    if (crumb_http_fresh_required(req, SHOP_FRESH_AGE))
        return;
    password_form(req, 200, NULL, &u);
}

static size_t
utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/*
 * A password change proves the current password, stores the new hash,
 * gives this browser a new session id (a privilege change) and ends
 * every other session of mine: whoever had my password and a session
 * is out. With cookie sessions the other browsers are turned away by the
 * password-change stamp (shop_current_user()).
 */
static void
post_password(crumb_http_req *req, void *unused)
{
    crumb_user u;
    if (!require_user(req, &u, "/login?next=%2Faccount%2Fpassword"))
        return;
    if (crumb_http_fresh_required(req, SHOP_FRESH_AGE))
        return;
    const char *cur = crumb_http_form(req, "current_password");
    const char *pw = crumb_http_form(req, "password");
    const char *pw2 = crumb_http_form(req, "password2");
    if (!pw || utf8_chars(pw) < 8 || strlen(pw) > 1024) {
        password_form(req, 400, "Passwords need 8 characters to 1024 "
                                "bytes.", &u);
        return;
    }
    if (!pw2 || strcmp(pw, pw2) != 0) {
        password_form(req, 400, "The two new passwords do not match.", &u);
        return;
    }
    crumb_users *db = shop_users();
    crumb_user check;
    int rc = db ? crumb_users_authenticate(db, u.username, cur ? cur : "",
                                           &check)
                : CRUMB_EUNAVAIL;
    if (rc == CRUMB_EBADSIG || rc == CRUMB_EINVAL || rc == CRUMB_ENOTFOUND) {
        password_form(req, 401, "Your current password is not right.", &u);
        return;
    }
    if (rc == CRUMB_OK)
        rc = crumb_users_set_password(db, u.username, pw);
    if (rc == CRUMB_OK)
        rc = crumb_users_get(db, u.username, &u);
    if (rc != CRUMB_OK) {
        crumb_http_error(req, 503, "The user database is unavailable.");
        return;
    }
    crumb_session *s = crumb_http_session(req);
    crumb_session_regenerate(s);
    crumb_session_set_int(s, "_pwc", u.password_changed);
    if (shop_remember_revoke_user(req, &u) != CRUMB_OK) {
        store_down(req);
        return;
    }
    crumb_iface *iface = iface_of(req);
    if (iface && crumb_iface_server_side(iface)) {
        char key[32];
        user_key(&u, key, sizeof key);
        rc = crumb_iface_revoke_user(iface, key, s, NULL);
        if (rc == CRUMB_EUNAVAIL || rc == CRUMB_ESTORE) {
            store_down(req);
            return;
        }
    }
    crumb_http_redirect(req, 303, "/account/sessions");
}

static const shop_route routes[] = {
    {"GET", "/account/sessions", get_sessions, 0},
    {"POST", "/account/sessions/revoke", post_revoke, 0},
    {"GET", "/account/password", get_password, 0},
    {"POST", "/account/password", post_password, 0},
};

int
shop_routes_sessions(crumb_http *h)
{
    return shop_route_table(h, routes, sizeof(routes) / sizeof(routes[0]));
}
