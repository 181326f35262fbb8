/* checkout.h - crumb-shop's checkout, orders and login-expiry pages. */
#ifndef SHOP_CHECKOUT_H
#define SHOP_CHECKOUT_H

#include <stdint.h>

#include "shop.h"

/* expiry.c: pages that need a login. shop_require_login() fills *u and
 * returns 1, or redirects to /login?next=PATH (with &expired=idle,
 * absolute, expired or ended when time or the store ended the session)
 * and returns 0. shop_expiry_notice() is the login page's sentence for
 * such a word, or NULL for any other. */
void shop_expiry_init(const shop_config *c);
int shop_require_login(crumb_http_req *req, crumb_user *u);
/* For the error page: a POST refused (403) because its session timed out
 * is sent to the login form with the reason instead; 1 when it was. */
int shop_expired_post(crumb_http_req *req);
const char *shop_expiry_notice(const char *word);

/* orders.c: the orders table in DATA_DIR/orders.db. */
typedef struct shop_order {
    int64_t user_id;
    const char *ref;     /* the checkout's reference: one order per ref */
    const char *lines;   /* JSON array of {id, name, qty, cents} */
    int64_t subtotal, delivery_cents, total;
    const char *address; /* JSON object */
    const char *delivery, *payment;
    int64_t created;
} shop_order;

/* CRUMB_OK, or CRUMB_ESTORE (printed). */
int shop_orders_init(const char *data_dir);
void shop_orders_cleanup(void);
/* Stores @o; *id is its number. A ref already placed gives that order's
 * number and *existed = 1. CRUMB_OK or CRUMB_ESTORE. */
int shop_orders_add(const shop_order *o, int64_t *id, int *existed);

/* Route registration. */
int shop_routes_checkout(crumb_http *h);
int shop_routes_orders(crumb_http *h);

#endif
