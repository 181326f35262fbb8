/* orders.c - the orders table (SQLite) and the /orders pages. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include <crumb/error.h>

#include "checkout.h"

/*
 * One connection for the process, behind a mutex, with its statements
 * prepared once: orders are rare next to page views, and a single writer
 * is what SQLite wants anyway. Other processes (the CLI, a second
 * crumb-shop on the same data directory) share the file through WAL and
 * the busy timeout.
 */
static const char schema[] =
    "CREATE TABLE IF NOT EXISTS orders ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " user_id INTEGER NOT NULL,"
    " ref TEXT NOT NULL,"          /* the checkout's reference: one order */
    " lines TEXT NOT NULL,"        /* JSON [{id, name, qty, cents}] */
    " subtotal_cents INTEGER NOT NULL,"
    " delivery_cents INTEGER NOT NULL,"
    " total_cents INTEGER NOT NULL,"
    " address TEXT NOT NULL,"      /* JSON {name, street, city, ...} */
    " delivery TEXT NOT NULL,"
    " payment TEXT NOT NULL,"
    " created INTEGER NOT NULL,"
    " UNIQUE (user_id, ref));"
    "CREATE INDEX IF NOT EXISTS orders_by_user ON orders (user_id, id);";

#define COLUMNS                                                              \
    "id, lines, subtotal_cents, delivery_cents, total_cents, address, "      \
    "delivery, payment, created"

enum { ST_INSERT, ST_BY_REF, ST_GET, ST_LIST, ST_COUNT };

static const char *const sql[ST_COUNT] = {
    "INSERT INTO orders (user_id, ref, lines, subtotal_cents, "
    "delivery_cents, total_cents, address, delivery, payment, created) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "SELECT id FROM orders WHERE user_id = ? AND ref = ?",
    "SELECT " COLUMNS " FROM orders WHERE user_id = ? AND id = ?",
    "SELECT " COLUMNS " FROM orders WHERE user_id = ? ORDER BY id DESC "
    "LIMIT 200",
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static sqlite3 *db;
static sqlite3_stmt *st[ST_COUNT];

void
shop_orders_cleanup(void)
{
    for (int i = 0; i < ST_COUNT; i++) {
        sqlite3_finalize(st[i]);
        st[i] = NULL;
    }
    sqlite3_close(db);
    db = NULL;
}

int
shop_orders_init(const char *data_dir)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/orders.db", data_dir);
    int rc = sqlite3_open_v2(path, &db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(db, 5000);
        /* WAL is an optimisation: a failure to switch is not fatal */
        sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
        rc = sqlite3_exec(db, schema, NULL, NULL, NULL);
    }
    for (int i = 0; rc == SQLITE_OK && i < ST_COUNT; i++)
        rc = sqlite3_prepare_v3(db, sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                                &st[i], NULL);
    if (rc != SQLITE_OK) {
        fprintf(stderr, "crumb-shop: cannot open orders %s: %s\n", path,
                db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        shop_orders_cleanup();
        return CRUMB_ESTORE;
    }
    return CRUMB_OK;
}

static void
bind_text(sqlite3_stmt *s, int i, const char *v)
{
    sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
}

/* Looks up the order of @o's checkout reference; the lock is held. */
static int
find_by_ref(const shop_order *o, int64_t *id)
{
    sqlite3_stmt *s = st[ST_BY_REF];
    sqlite3_bind_int64(s, 1, o->user_id);
    bind_text(s, 2, o->ref);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return rc == SQLITE_ROW ? CRUMB_OK
                            : rc == SQLITE_DONE ? CRUMB_ENOTFOUND
                                                : CRUMB_ESTORE;
}

int
shop_orders_add(const shop_order *o, int64_t *id, int *existed)
{
    *existed = 0;
    pthread_mutex_lock(&lock);
    sqlite3_stmt *s = st[ST_INSERT];
    sqlite3_bind_int64(s, 1, o->user_id);
    bind_text(s, 2, o->ref);
    bind_text(s, 3, o->lines);
    sqlite3_bind_int64(s, 4, o->subtotal);
    sqlite3_bind_int64(s, 5, o->delivery_cents);
    sqlite3_bind_int64(s, 6, o->total);
    bind_text(s, 7, o->address);
    bind_text(s, 8, o->delivery);
    bind_text(s, 9, o->payment);
    sqlite3_bind_int64(s, 10, o->created);
    int rc = sqlite3_step(s);
    int ext = sqlite3_extended_errcode(db);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    int out;
    if (rc == SQLITE_DONE) {
        *id = sqlite3_last_insert_rowid(db);
        out = CRUMB_OK;
    } else if (ext == SQLITE_CONSTRAINT_UNIQUE) {
        /* the same checkout placed twice (a double click, two tabs):
         * one order, and both requests are shown it */
        out = find_by_ref(o, id);
        *existed = out == CRUMB_OK;
    } else {
        fprintf(stderr, "crumb-shop: orders: %s\n", sqlite3_errmsg(db));
        out = CRUMB_ESTORE;
    }
    pthread_mutex_unlock(&lock);
    return out;
}

static json_t *
parse_column(sqlite3_stmt *s, int col)
{
    const char *text = (const char *)sqlite3_column_text(s, col);
    json_t *v = text ? json_loads(text, 0, NULL) : NULL;
    return v ? v : json_null();
}

/* A row as the pages show it: prices formatted, JSON columns parsed. */
static json_t *
row_json(sqlite3_stmt *s)
{
    char sub[32], del[32], tot[32], when[32];
    shop_format_price(sqlite3_column_int64(s, 2), sub, sizeof(sub));
    shop_format_price(sqlite3_column_int64(s, 3), del, sizeof(del));
    shop_format_price(sqlite3_column_int64(s, 4), tot, sizeof(tot));
    time_t t = (time_t)sqlite3_column_int64(s, 8);
    struct tm tm;
    if (!gmtime_r(&t, &tm) ||
        !strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", &tm))
        snprintf(when, sizeof(when), "?");
    json_t *lines = parse_column(s, 1);
    json_t *shown = json_array();
    size_t i, items = 0;
    json_t *l;
    json_array_foreach(lines, i, l) {
        char price[32];
        json_int_t qty = json_integer_value(json_object_get(l, "qty"));
        json_int_t cents = json_integer_value(json_object_get(l, "cents"));
        shop_format_price(qty * cents, price, sizeof(price));
        items += (size_t)qty;
        json_array_append_new(
            shown, json_pack("{s:O, s:I, s:s}", "name",
                             json_object_get(l, "name"), "qty", qty,
                             "line_total", price));
    }
    json_decref(lines);
    return json_pack("{s:I, s:o, s:I, s:s, s:s, s:s, s:o, s:s, s:s, s:s}",
                     "id", (json_int_t)sqlite3_column_int64(s, 0),
                     "lines", shown, "items", (json_int_t)items,
                     "subtotal", sub, "delivery_cost", del, "total", tot,
                     "address", parse_column(s, 5),
                     "delivery", (const char *)sqlite3_column_text(s, 6),
                     "payment", (const char *)sqlite3_column_text(s, 7),
                     "created", when);
}

/* @user's order @id as JSON in *out: CRUMB_OK, CRUMB_ENOTFOUND (none, or
 * another user's: the same answer), CRUMB_ESTORE, CRUMB_ENOMEM. */
static int
orders_get(int64_t user, int64_t id, json_t **out)
{
    *out = NULL;
    pthread_mutex_lock(&lock);
    sqlite3_stmt *s = st[ST_GET];
    sqlite3_bind_int64(s, 1, user);
    sqlite3_bind_int64(s, 2, id);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *out = row_json(s);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    pthread_mutex_unlock(&lock);
    if (rc == SQLITE_ROW)
        return *out ? CRUMB_OK : CRUMB_ENOMEM;
    return rc == SQLITE_DONE ? CRUMB_ENOTFOUND : CRUMB_ESTORE;
}

/* @user's orders, newest first, as a JSON array in *out. */
static int
orders_list(int64_t user, json_t **out)
{
    json_t *list = json_array();
    if (!list)
        return CRUMB_ENOMEM;
    pthread_mutex_lock(&lock);
    sqlite3_stmt *s = st[ST_LIST];
    sqlite3_bind_int64(s, 1, user);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        json_array_append_new(list, row_json(s));
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    pthread_mutex_unlock(&lock);
    if (rc != SQLITE_DONE) {
        json_decref(list);
        return CRUMB_ESTORE;
    }
    *out = list;
    return CRUMB_OK;
}

static void
get_orders(crumb_http_req *req, void *unused)
{
    crumb_user u;
    if (!shop_require_login(req, &u))
        return;
    json_t *list = NULL;
    if (orders_list(u.id, &list) != CRUMB_OK) {
        crumb_http_error(req, 503, "The orders database is unavailable.");
        return;
    }
    json_t *ctx = shop_ctx(req, "Your orders", 0);
    if (ctx) {
        json_object_set_new(ctx, "has_orders",
                            json_boolean(json_array_size(list) > 0));
        json_object_set_new(ctx, "orders", list);
    } else {
        json_decref(list);
    }
    shop_page(req, 200, "orders", ctx);
}

/* Another user's order is "not found", exactly like a missing one: a 403
 * would tell who may look that an order with this number exists. */
static void
get_order(crumb_http_req *req, void *unused)
{
    crumb_user u;
    if (!shop_require_login(req, &u))
        return;
    json_t *order = NULL;
    int rc = orders_get(u.id, crumb_http_param_int(req, "id", -1), &order);
    if (rc == CRUMB_ENOTFOUND) {
        crumb_http_error(req, 404, "There is no such order.");
        return;
    }
    if (rc != CRUMB_OK) {
        crumb_http_error(req, 503, "The orders database is unavailable.");
        return;
    }
    char title[48];
    snprintf(title, sizeof(title), "Order %lld",
             (long long)json_integer_value(json_object_get(order, "id")));
    json_t *ctx = shop_ctx(req, title, 0);
    if (ctx) {
        const char *placed = crumb_http_query(req, "placed");
        json_object_set_new(ctx, "placed",
                            json_boolean(placed && !strcmp(placed, "1")));
        json_object_set_new(ctx, "order", order);
    } else {
        json_decref(order);
    }
    shop_page(req, 200, "order", ctx);
}

static const shop_route routes[] = {
    {"GET", "/orders", get_orders, 0},
    {"GET", "/orders/<int:id>", get_order, 0},
};

int
shop_routes_orders(crumb_http *h)
{
    return shop_route_table(h, routes, sizeof(routes) / sizeof(routes[0]));
}
