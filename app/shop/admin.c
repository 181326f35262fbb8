/* admin.c - /admin: the users and their roles, for admins only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <crumb/error.h>

#include "shop.h"

/* Every admin page asks for a password given within this many seconds. */
#define FRESH_AGE SHOP_FRESH_AGE

static int
admin_guard(crumb_http_req *req)
{
    return crumb_http_role_required(req, "admin") ||
           crumb_http_fresh_required(req, FRESH_AGE);
}

static void
get_admin(crumb_http_req *req, void *unused)
{
    if (admin_guard(req))
        return;
    crumb_users *db = shop_users();
    crumb_user *list = NULL;
    size_t n = 0;
    if (!db || crumb_users_list(db, &list, &n) != CRUMB_OK) {
        crumb_http_error(req, 503, "The user database is unavailable.");
        return;
    }
    crumb_user me;
    int have_me = shop_current_user(req, &me);
    json_t *ctx = shop_ctx(req, "Admin", 1);
    json_t *rows = json_array();
    for (size_t i = 0; ctx && rows && i < n; i++) {
        json_array_append_new(
            rows, json_pack("{s:s, s:s, s:b, s:b}", "username",
                            list[i].username, "roles", list[i].roles,
                            "admin", crumb_user_has_role(&list[i], "admin"),
                            "me", have_me && me.id == list[i].id));
    }
    free(list);
    if (ctx)
        json_object_set_new(ctx, "users", rows);
    else
        json_decref(rows);
    shop_page(req, 200, "admin", ctx);
}

/*
 * Granting or taking admin. The change takes effect at once: the user's
 * generation goes up, so each of their sessions reloads its roles (and
 * gets a new id) at its next guarded page. An admin cannot take their
 * own admin role (no locking the last one out by accident).
 */
static void
post_role(crumb_http_req *req, void *unused)
{
    if (admin_guard(req))
        return;
    const char *name = crumb_http_param(req, "name");
    const char *role = crumb_http_form(req, "role");
    if (!role || (strcmp(role, "admin") != 0 && strcmp(role, "user") != 0)) {
        crumb_http_error(req, 400, "The role must be admin or user.");
        return;
    }
    crumb_users *db = shop_users();
    crumb_user u, me;
    int rc = db ? crumb_users_get(db, name ? name : "", &u) : CRUMB_EUNAVAIL;
    if (rc == CRUMB_ENOTFOUND || rc == CRUMB_EINVAL) {
        crumb_http_error(req, 404, "There is no such user.");
        return;
    }
    if (rc != CRUMB_OK) {
        crumb_http_error(req, 503, "The user database is unavailable.");
        return;
    }
    if (strcmp(role, "user") == 0 && shop_current_user(req, &me) &&
        me.id == u.id) {
        crumb_http_error(req, 400, "You cannot take your own admin role.");
        return;
    }
    rc = crumb_users_set_roles(db, u.username,
                               strcmp(role, "admin") == 0 ? "user,admin"
                                                          : "user");
    char id[32];
    snprintf(id, sizeof(id), "%lld", (long long)u.id);
    if (rc == CRUMB_OK)
        rc = crumb_http_user_changed(crumb_http_server(req),
                                     crumb_http_now(req), id);
    if (rc != CRUMB_OK && rc != CRUMB_EUNSUPPORTED) {
        crumb_http_error(req, 503, "The role could not be changed now.");
        return;
    }
    crumb_http_logf(crumb_http_server(req), "crumb-shop: user %s now has "
                                            "roles %s",
                    u.username, strcmp(role, "admin") == 0 ? "user,admin"
                                                           : "user");
    crumb_http_redirect(req, 303, "/admin");
}

static const shop_route routes[] = {
    {"GET", "/admin", get_admin, 0},
    {"POST", "/admin/users/<name>/role", post_role, 0},
};

int
shop_routes_admin(crumb_http *h)
{
    return shop_route_table(h, routes, sizeof(routes) / sizeof(routes[0]));
}
