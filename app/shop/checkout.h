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
const char *shop_expiry_notice(const char *word);

#endif
