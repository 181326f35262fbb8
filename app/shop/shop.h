/* shop.h - crumb-shop's internal declarations, shared by its files. */
#ifndef SHOP_H
#define SHOP_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include <crumb/auth.h>
#include <crumb/http.h>
#include <crumb/iface.h>

/* Everything the app reads from its environment and arguments. */
typedef struct shop_config {
    const char *addr;
    int production;
    int test_env;            /* CRUMB_ENV=test */
    const char *data_dir;
    char *store;             /* "cookie" or a store URI; owned */
    char *users_uri;         /* owned */
    int64_t idle_timeout;    /* seconds, 0 = off */
    int64_t absolute_timeout;
    int64_t gc_interval;     /* seconds between session sweeps, 0 = off */
    const char *clock_file;  /* CRUMB_TEST_CLOCK_FILE, dev/test only */
    char *secret;            /* owned; wiped on cleanup */
    size_t secret_len;
    char *fallbacks_buf;     /* owned; the comma list, split in place */
    size_t fallbacks_len;
    crumb_key fallbacks[8];
    size_t nfallbacks;
    int64_t permanent_lifetime;
    int cookie_secure;
    const char *cookie_name;
    crumb_samesite samesite;
    crumb_compression compression; /* CRUMB_COOKIE_COMPRESSION */
    char *app_dir;           /* templates/ and static/ live here */
    unsigned threads;
    int log;
} shop_config;

/* config.c: 0 when the configuration is usable, else prints why and
 * returns non-zero. */
int shop_config_load(shop_config *c, int argc, char **argv);
void shop_config_cleanup(shop_config *c);

/* clock.c: the interface's clock for CRUMB_TEST_CLOCK_FILE: real time
 * plus the integer offset (seconds) written in that file. */
int64_t shop_test_clock(void *path);

/* sweep.c: remove expired session records every @every seconds on a
 * thread of its own (server-side stores only; 0 = never). */
int shop_sweep_start(crumb_iface *iface, int64_t every);
void shop_sweep_stop(void);

/* page.c: what every page shares. */
typedef struct shop_product {
    int64_t id;
    const char *name;
    int64_t cents;
} shop_product;

extern const shop_product shop_products[];
extern const size_t shop_nproducts;
const shop_product *shop_product_find(int64_t id);
void shop_format_price(int64_t cents, char *out, size_t size);

int shop_users_init(const char *uri);
/* This thread's handle on the user database, or NULL (logged). */
crumb_users *shop_users(void);
void shop_users_cleanup(void);

/* The logged-in user, filled in *u: 1, or 0 for an anonymous visitor. */
int shop_current_user(crumb_http_req *req, crumb_user *u);

/* A fresh page context: title, theme, font size, logged_in, and with
 * @csrf a form token. Never NULL except out of memory. */
json_t *shop_ctx(crumb_http_req *req, const char *title, int csrf);

/* Render @tpl with @ctx (reference stolen) at @status. */
void shop_page(crumb_http_req *req, int status, const char *tpl, json_t *ctx);

/* Renders the error page; the crumb_http_options.on_error hook. */
void shop_error(crumb_http_req *req, int status, const char *message,
                void *ctx);

/* A page file's routes, registered by shop_route_table(). */
typedef struct shop_route {
    const char *method;
    const char *pattern;
    crumb_http_handler fn;
    unsigned flags;
} shop_route;

int shop_route_table(crumb_http *h, const shop_route *t, size_t n);

/* Route registration, one per page file. */
int shop_routes_account(crumb_http *h);
int shop_routes_demo(crumb_http *h);
int shop_routes_cart(crumb_http *h);
int shop_routes_sessions(crumb_http *h);
int shop_routes_analytics(crumb_http *h);

/* analytics.c: the HTTP layer's after hook (a page view per request of a
 * stored session), and one login event (@ok 1) or failed login (0). */
void shop_analytics_after(crumb_http_req *req, void *ctx);
void shop_analytics_login(crumb_http_req *req, int ok);
/* analytics_queue.c: the events go through a bounded queue to one
 * background writer (started only for a server-side store; stop writes
 * what is left); flush waits until what was queued so far is written. */
int shop_analytics_start(crumb_iface *iface);
void shop_analytics_stop(void);
void shop_analytics_enqueue(const char *handle, int kind, const char *tpl,
                            int64_t at);
void shop_analytics_flush(void);
int shop_routes_accounts(crumb_http *h);
int shop_routes_admin(crumb_http *h);

/* accounts.c: remember-me, throttling, re-authentication (see there). */
#define SHOP_FRESH_AGE 900 /* sensitive pages: password within 15 min */
int shop_accounts_init(crumb_http *h, const shop_config *c);
void shop_accounts_cleanup(void);
int shop_remember_issue(crumb_http_req *req, const crumb_user *u);
void shop_remember_forget(crumb_http_req *req);
int shop_remember_revoke_user(crumb_http_req *req, const crumb_user *u);
/* 1 when the attempt was refused (429 or 503 set), before any hashing. */
int shop_login_throttled(crumb_http_req *req, const char *username);
void shop_login_result(crumb_http_req *req, const char *username, int ok);

#endif
