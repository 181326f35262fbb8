/* demo.c - the tutorial pages: visits, session data, preferences, health. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <crumb/error.h>

#include "shop.h"

static void
get_visits(crumb_http_req *req, void *unused)
{
    int64_t n = 0;
    int rc = crumb_session_incr(crumb_http_session(req), "visits", 1, &n);
    if (rc == CRUMB_ETYPE || rc == CRUMB_ETOOBIG) {
        /* a counter that is not an integer (another app's cookie) or at
         * the end of its range starts again */
        crumb_session_set_int(crumb_http_session(req), "visits", 1);
        n = 1;
    }
    json_t *ctx = shop_ctx(req, "Visits", 0);
    if (ctx)
        json_object_set_new(ctx, "visits", json_integer(n));
    shop_page(req, 200, "visits", ctx);
}

/* A GET, as in the tutorial: it only ever zeroes a counter. */
static void
get_reset(crumb_http_req *req, void *unused)
{
    crumb_session_delete(crumb_http_session(req), "visits");
    shop_page(req, 200, "reset", shop_ctx(req, "Counter reset", 0));
}

/* Every JSON type under one key, so these demo values never collide with
 * the cart, preferences or login keys. */
static void
get_store_data(crumb_http_req *req, void *unused)
{
    json_t *v = json_pack("{s:s, s:i, s:b, s:{s:s, s:b}, s:[s, s]}",
                          "username", "john_doe", "user_id", 123,
                          "is_admin", 0, "settings", "theme", "dark",
                          "notifications", 1, "items", "item1", "item2");
    if (!v || crumb_session_set_json(crumb_http_session(req), "stored", v) !=
                  CRUMB_OK) {
        json_decref(v);
        crumb_http_error(req, 500, "The data could not be stored.");
        return;
    }
    json_decref(v);
    shop_page(req, 200, "store_data", shop_ctx(req, "Data stored", 0));
}

static const char *
type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "dict";
    case JSON_ARRAY: return "list";
    case JSON_STRING: return "string";
    case JSON_INTEGER: return "integer";
    case JSON_REAL: return "float";
    case JSON_TRUE:
    case JSON_FALSE: return "boolean";
    default: return "null";
    }
}

static void
get_show_data(crumb_http_req *req, void *unused)
{
    const json_t *stored = crumb_session_get_json(crumb_http_session(req),
                                                  "stored");
    json_t *ctx = shop_ctx(req, "Session data", 0);
    json_t *rows = json_array();
    if (json_is_object(stored) && rows) {
        const char *key;
        json_t *v;
        json_object_foreach((json_t *)stored, key, v) {
            char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
            json_array_append_new(rows,
                                  json_pack("{s:s, s:s, s:s?}", "key", key,
                                            "type", type_name(v), "value",
                                            text));
            free(text);
        }
    }
    if (ctx)
        json_object_set_new(ctx, "rows", rows);
    else
        json_decref(rows);
    shop_page(req, 200, "show_data", ctx);
}

static int
one_of(const char *v, const char *const *allowed)
{
    for (; v && *allowed; allowed++)
        if (strcmp(v, *allowed) == 0)
            return 1;
    return 0;
}

static void
get_preferences(crumb_http_req *req, void *unused)
{
    json_t *ctx = shop_ctx(req, "Preferences", 1);
    if (ctx) {
        const char *t = json_string_value(json_object_get(ctx, "theme"));
        const char *f = json_string_value(json_object_get(ctx, "font_size"));
        json_object_set_new(ctx, "is_dark", json_boolean(!strcmp(t, "dark")));
        json_object_set_new(ctx, "is_small", json_boolean(!strcmp(f, "small")));
        json_object_set_new(ctx, "is_large", json_boolean(!strcmp(f, "large")));
        json_object_set_new(ctx, "is_medium",
                            json_boolean(!strcmp(f, "medium")));
    }
    shop_page(req, 200, "preferences", ctx);
}

static void
post_preferences(crumb_http_req *req, void *unused)
{
    static const char *const themes[] = {"light", "dark", NULL};
    static const char *const sizes[] = {"small", "medium", "large", NULL};
    const char *theme = crumb_http_form(req, "theme");
    const char *size = crumb_http_form(req, "font_size");
    if (!one_of(theme, themes)) {
        crumb_http_error(req, 400, "The theme must be light or dark.");
        return;
    }
    if (!one_of(size, sizes)) {
        crumb_http_error(req, 400,
                         "The font size must be small, medium or large.");
        return;
    }
    crumb_session *s = crumb_http_session(req);
    crumb_session_set_string(s, "theme", theme);
    crumb_session_set_string(s, "font_size", size);
    crumb_http_redirect(req, 303, "/styled_page");
}

static void
get_styled_page(crumb_http_req *req, void *unused)
{
    shop_page(req, 200, "styled_page", shop_ctx(req, "Styled page", 0));
}

/*
 * Liveness, and whether the session store answers: a cheap read through a
 * pooled handle (bounded by the store's timeouts). A store that does not
 * answer makes the whole service unusable, so that is a 503 a load
 * balancer can act on.
 */
static void
get_healthz(crumb_http_req *req, void *unused)
{
    /* the three answers there are, spelled out (no snprintf per probe) */
    static const char cookie_ok[] = "{\"status\": \"ok\", \"store\": "
                                    "\"cookie\"}\n";
    static const char store_ok[] = "{\"status\": \"ok\", \"store\": \"ok\"}\n";
    static const char store_down[] = "{\"status\": \"unavailable\", "
                                     "\"store\": \"unreachable\"}\n";
    crumb_iface *iface = crumb_http_iface(crumb_http_server(req));
    const char *body = cookie_ok;
    int ok = 1;
    if (iface && crumb_iface_server_side(iface)) {
        crumb_store *st = crumb_iface_store_acquire(iface);
        int rc = CRUMB_EUNAVAIL;
        if (st) {
            unsigned char *v = NULL;
            size_t len = 0;
            rc = crumb_store_kv_get(st, "healthz", crumb_iface_now(iface), &v,
                                    &len);
            free(v);
            crumb_iface_store_release(iface, st);
        }
        ok = rc == CRUMB_OK || rc == CRUMB_ENOTFOUND;
        body = ok ? store_ok : store_down;
    }
    crumb_http_header_add(req, "Cache-Control", "no-store");
    if (!ok)
        crumb_http_header_add(req, "Retry-After", "5");
    crumb_http_respond(req, ok ? 200 : 503, "application/json", body,
                       strlen(body));
}

static const shop_route routes[] = {
    {"GET", "/visits", get_visits, 0},
    {"GET", "/reset", get_reset, 0},
    {"GET", "/store_data", get_store_data, 0},
    {"GET", "/show_data", get_show_data, 0},
    {"GET", "/preferences", get_preferences, 0},
    {"POST", "/preferences", post_preferences, 0},
    {"GET", "/styled_page", get_styled_page, 0},
    {"GET", "/healthz", get_healthz, CRUMB_ROUTE_NO_SESSION},
};

int
shop_routes_demo(crumb_http *h)
{
    return shop_route_table(h, routes, sizeof(routes) / sizeof(routes[0]));
}
