/* account.c - register, login, logout, the welcome page and dashboard. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <crumb/error.h>

#include "checkout.h"

#define BAD_LOGIN "Incorrect username or password"

/* A redirect target is accepted only when it stays on this site: one
 * leading '/', not "//" or "/\" (which browsers read as another host),
 * no backslash or control character anywhere, so no scheme either. */
static int
local_path(const char *next)
{
    if (!next || next[0] != '/' || next[1] == '/' || next[1] == '\\')
        return 0;
    for (const unsigned char *p = (const unsigned char *)next; *p; p++)
        if (*p < 0x21 || *p == 0x7f || *p == '\\')
            return 0;
    return strlen(next) < 512;
}

/* Logging in: the whole dict is dropped and a fresh one started, so
 * nothing a visitor (or an attacker who planted a cookie) held before
 * login survives into the logged-in session; with a server-side store the
 * id is regenerated too (no fixation). */
static int
login_session(crumb_http_req *req, const crumb_user *u, int remember)
{
    crumb_session *s = crumb_http_session(req);
    char id[32];
    snprintf(id, sizeof(id), "%lld", (long long)u->id);
    int rc = crumb_http_login(req, id, u->roles, 1);
    if (rc != CRUMB_OK) {
        crumb_http_error(req, 503, "The session store is unreachable.");
        return rc;
    }
    crumb_session_set_int(s, "_pwc", u->password_changed);
    crumb_session_set_permanent(s, remember);
    if (remember && shop_remember_issue(req, u) != CRUMB_OK)
        crumb_http_log_note(req, "remember token not issued");
    return CRUMB_OK;
}

static size_t
utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static void
login_form(crumb_http_req *req, int status, const char *error,
           const char *username, const char *next)
{
    json_t *ctx = shop_ctx(req, "Log in", 1);
    if (ctx) {
        if (error)
            json_object_set_new(ctx, "error", json_string(error));
        if (username)
            json_object_set_new(ctx, "username", json_string(username));
        if (local_path(next))
            json_object_set_new(ctx, "next", json_string(next));
        const char *notice = shop_expiry_notice(crumb_http_query(req,
                                                                 "expired"));
        if (notice)
            json_object_set_new(ctx, "notice", json_string(notice));
    }
    shop_page(req, status, "login", ctx);
}

static void
get_login(crumb_http_req *req, void *unused)
{
    login_form(req, 200, NULL, NULL, crumb_http_query(req, "next"));
}

static void
post_login(crumb_http_req *req, void *unused)
{
    const char *name = crumb_http_form(req, "username");
    const char *pass = crumb_http_form(req, "password");
    const char *next = crumb_http_form(req, "next");
    const char *remember = crumb_http_form(req, "remember");
    crumb_users *db = shop_users();
    crumb_user u;
    if (!db) {
        crumb_http_error(req, 503, "The user database is unavailable.");
        return;
    }
    if (shop_login_throttled(req, name))
        return;
    int rc = crumb_users_authenticate(db, name ? name : "",
                                      pass ? pass : "", &u);
    if (rc == CRUMB_EBADSIG || rc == CRUMB_ENOTFOUND ||
        rc == CRUMB_EINVAL) {
        shop_analytics_login(req, 0);
        shop_login_result(req, name, 0);
        login_form(req, 401, BAD_LOGIN, name, next);
        return;
    }
    if (rc != CRUMB_OK) {
        crumb_http_error(req, 503, "The user database is unavailable.");
        return;
    }
    shop_analytics_login(req, 1);
    shop_login_result(req, name, 1);
    if (login_session(req, &u, remember && *remember &&
                                   strcmp(remember, "0")) == CRUMB_OK)
        crumb_http_redirect(req, 303, local_path(next) ? next : "/");
}

static void
register_form(crumb_http_req *req, int status, const char *error,
              const char *username)
{
    json_t *ctx = shop_ctx(req, "Register", 1);
    if (ctx) {
        if (error)
            json_object_set_new(ctx, "error", json_string(error));
        if (username)
            json_object_set_new(ctx, "username", json_string(username));
    }
    shop_page(req, status, "register", ctx);
}

static void
get_register(crumb_http_req *req, void *unused)
{
    register_form(req, 200, NULL, NULL);
}

static void
post_register(crumb_http_req *req, void *unused)
{
    const char *name = crumb_http_form(req, "username");
    const char *pass = crumb_http_form(req, "password");
    const char *pass2 = crumb_http_form(req, "password2");
    if (!name || !crumb_username_valid(name)) {
        register_form(req, 400, "Usernames are 3 to 32 characters of "
                                "A-Z a-z 0-9 _ . -", name);
        return;
    }
    if (!pass || utf8_chars(pass) < 8) {
        register_form(req, 400, "Passwords need at least 8 characters.",
                      name);
        return;
    }
    if (strlen(pass) > 1024) {
        register_form(req, 400, "Passwords are at most 1024 bytes.", name);
        return;
    }
    if (!pass2 || strcmp(pass, pass2) != 0) {
        register_form(req, 400, "The two passwords do not match.", name);
        return;
    }
    crumb_users *db = shop_users();
    crumb_user u;
    int rc = db ? crumb_users_add(db, name, pass, NULL, NULL, &u)
                : CRUMB_EUNAVAIL;
    if (rc == CRUMB_EEXIST) {
        register_form(req, 409, "That username is already taken.", name);
        return;
    }
    if (rc == CRUMB_EINVAL) {
        register_form(req, 400, "That username or password is not "
                                "accepted.", name);
        return;
    }
    if (rc != CRUMB_OK) {
        crumb_http_error(req, 503, "The user database is unavailable.");
        return;
    }
    if (login_session(req, &u, 0) == CRUMB_OK)
        crumb_http_redirect(req, 303, "/");
}

static void
get_logout(crumb_http_req *req, void *unused)
{
    shop_page(req, 200, "logout", shop_ctx(req, "Log out", 1));
}

static void
post_logout(crumb_http_req *req, void *unused)
{
    shop_remember_forget(req);
    crumb_http_logout(req);
    crumb_http_redirect(req, 303, "/login");
}

static void
get_index(crumb_http_req *req, void *unused)
{
    crumb_user u;
    if (!shop_current_user(req, &u)) {
        crumb_http_redirect(req, 302, "/login");
        return;
    }
    json_t *ctx = shop_ctx(req, "Welcome", 1);
    if (ctx)
        json_object_set_new(ctx, "username", json_string(u.username));
    shop_page(req, 200, "index", ctx);
}

static void
get_dashboard(crumb_http_req *req, void *unused)
{
    crumb_user u;
    if (!shop_require_login(req, &u))
        return;
    json_t *ctx = shop_ctx(req, "Dashboard", 0);
    if (ctx) {
        json_object_set_new(ctx, "username", json_string(u.username));
        json_object_set_new(ctx, "roles", json_string(u.roles));
        json_object_set_new(
            ctx, "permanent",
            json_boolean(crumb_session_is_permanent(crumb_http_session(req))));
    }
    shop_page(req, 200, "dashboard", ctx);
}

static const shop_route routes[] = {
    {"GET", "/", get_index, 0},
    {"GET", "/login", get_login, 0},
    {"POST", "/login", post_login, 0},
    {"GET", "/register", get_register, 0},
    {"POST", "/register", post_register, 0},
    {"GET", "/logout", get_logout, 0},
    {"POST", "/logout", post_logout, 0},
    {"GET", "/dashboard", get_dashboard, 0},
};

int
shop_routes_account(crumb_http *h)
{
    return shop_route_table(h, routes, sizeof(routes) / sizeof(routes[0]));
}
