/* page.c - what every crumb-shop page shares: user, theme, layout, errors. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <crumb/error.h>

#include "checkout.h"
#include "shop.h"

const shop_product shop_products[] = {
    {1, "Crumb cookie", 250},
    {2, "Sourdough loaf", 600},
    {3, "Butter croissant", 320},
    {4, "Rye baguette", 280},
};
const size_t shop_nproducts = sizeof(shop_products) / sizeof(shop_products[0]);

const shop_product *
shop_product_find(int64_t id)
{
    for (size_t i = 0; i < shop_nproducts; i++)
        if (shop_products[i].id == id)
            return &shop_products[i];
    return NULL;
}

void
shop_format_price(int64_t cents, char *out, size_t size)
{
    snprintf(out, size, "$%lld.%02lld", (long long)(cents / 100),
             (long long)(cents % 100));
}

/*
 * The user database handle is per thread (SQLite connections are not
 * shared): each pool thread opens its own on first use; the key's
 * destructor closes it when the daemon stops its threads.
 */
static pthread_key_t users_key;
static int users_key_made;
static char *users_uri;

static void
users_close(void *db)
{
    crumb_users_close(db);
}

int
shop_users_init(const char *uri)
{
    crumb_users *db = NULL;
    int rc = crumb_users_open(&db, uri);
    if (rc == CRUMB_EUNAVAIL) {
        /* A shared user database that is down now may be up later:
         * logins answer 503 until then, as the session store does. */
        fprintf(stderr, "crumb-shop: warning: the user database is "
                        "unreachable for now (%s)\n",
                db ? crumb_users_errmsg(db) : "");
        crumb_users_close(db);
        db = NULL;
        rc = CRUMB_OK;
    }
    if (rc != CRUMB_OK) {
        fprintf(stderr, "crumb-shop: cannot open users %s: %s (%s)\n", uri,
                crumb_strerror(rc), db ? crumb_users_errmsg(db) : "");
        crumb_users_close(db);
        return rc;
    }
    crumb_users_close(db);
    users_uri = strdup(uri);
    if (!users_uri || pthread_key_create(&users_key, users_close) != 0)
        return CRUMB_ENOMEM;
    users_key_made = 1;
    return CRUMB_OK;
}

crumb_users *
shop_users(void)
{
    crumb_users *db = pthread_getspecific(users_key);
    if (db)
        return db;
    int rc = crumb_users_open(&db, users_uri);
    if (rc != CRUMB_OK) {
        fprintf(stderr, "crumb-shop: users: %s\n", crumb_strerror(rc));
        crumb_users_close(db);
        return NULL;
    }
    pthread_setspecific(users_key, db);
    return db;
}

void
shop_users_cleanup(void)
{
    if (users_key_made) {
        crumb_users_close(pthread_getspecific(users_key));
        pthread_setspecific(users_key, NULL);
        pthread_key_delete(users_key);
        users_key_made = 0;
    }
    free(users_uri);
    users_uri = NULL;
}

int
shop_current_user(crumb_http_req *req, crumb_user *u)
{
    crumb_session *s = crumb_http_session(req);
    const char *id = s ? crumb_session_get_string(s, "_user_id", NULL) : NULL;
    if (!id)
        return 0;
    char *end;
    long long n = strtoll(id, &end, 10);
    crumb_users *db = shop_users();
    if (*end || n <= 0 || !db || crumb_users_get_by_id(db, n, u) != CRUMB_OK)
        return 0;
    /* A session from before the last password change is no login: that
     * ends other browsers' sessions even when they live in cookies. */
    int64_t stamp = crumb_session_get_int(s, "_pwc", -1);
    return stamp < 0 || stamp >= u->password_changed;
}

/* Values read back from the session are checked again: the cookie is
 * signed, but a key shared with another app could still put anything
 * there, and these end up in class attributes. */
static const char *
pick(crumb_session *s, const char *key, const char *const *allowed,
     const char *def)
{
    const char *v = s ? crumb_session_get_string(s, key, def) : def;
    for (; *allowed; allowed++)
        if (strcmp(v, *allowed) == 0)
            return v;
    return def;
}

json_t *
shop_ctx(crumb_http_req *req, const char *title, int csrf)
{
    static const char *const themes[] = {"light", "dark", NULL};
    static const char *const sizes[] = {"small", "medium", "large", NULL};
    crumb_session *s = crumb_http_session(req);
    json_t *ctx = json_object();
    if (!ctx)
        return NULL;
    /* The keys are ASCII literals, and pick() returns one of the names
     * above: none needs jansson's UTF-8 check (title may, it keeps it). */
    json_object_set_new_nocheck(ctx, "title", json_string(title));
    json_object_set_new_nocheck(
        ctx, "theme", json_string_nocheck(pick(s, "theme", themes, "light")));
    json_object_set_new_nocheck(
        ctx, "font_size",
        json_string_nocheck(pick(s, "font_size", sizes, "medium")));
    json_object_set_new_nocheck(
        ctx, "logged_in",
        json_boolean(s && crumb_session_contains(s, "_user_id")));
    /* The nav's admin links; the pages themselves check roles again.
     * Most visitors have no roles: no copy then. */
    const char *roles = s ? crumb_session_get_string(s, "_roles", "") : "";
    int admin = 0;
    if (*roles) {
        crumb_user who;
        memset(&who, 0, sizeof who);
        snprintf(who.roles, sizeof who.roles, "%s", roles);
        admin = crumb_user_has_role(&who, "admin");
    }
    json_object_set_new_nocheck(ctx, "is_admin", json_boolean(admin));
    if (csrf && s) {
        char token[CRUMB_CSRF_TOKEN_SIZE];
        if (crumb_csrf_token(s, token, sizeof(token)) == CRUMB_OK)
            json_object_set_new(ctx, "csrf_token", json_string(token));
    }
    return ctx;
}

void
shop_page(crumb_http_req *req, int status, const char *tpl, json_t *ctx)
{
    if (!ctx) {
        crumb_http_respond(req, 500, "text/plain", "out of memory\n", 14);
        return;
    }
    crumb_http_render(req, status, tpl, ctx);
    json_decref(ctx);
}

void
shop_error(crumb_http_req *req, int status, const char *message, void *ctx)
{
    if (status == 403 && shop_expired_post(req))
        return;
    char title[64];
    snprintf(title, sizeof(title), "Error %d", status);
    json_t *c = shop_ctx(req, title, 0);
    if (c) {
        json_object_set_new(c, "status", json_integer(status));
        json_object_set_new(c, "message", json_string(message));
    }
    shop_page(req, status, "error", c);
}

int
shop_route_table(crumb_http *h, const shop_route *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int rc = crumb_http_route(h, t[i].method, t[i].pattern, t[i].fn,
                                  NULL, t[i].flags);
        if (rc != CRUMB_OK)
            return rc;
    }
    return CRUMB_OK;
}
