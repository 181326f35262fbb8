/* cart.c - products, a cart kept in the session, adding and removing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <crumb/error.h>

#include "shop.h"

#define QTY_MAX 999

static void
get_products(crumb_http_req *req, void *unused)
{
    json_t *ctx = shop_ctx(req, "Products", 1);
    json_t *list = json_array();
    for (size_t i = 0; list && i < shop_nproducts; i++) {
        char price[32];
        shop_format_price(shop_products[i].cents, price, sizeof(price));
        json_array_append_new(list, json_pack("{s:I, s:s, s:s}", "id",
                                              (json_int_t)shop_products[i].id,
                                              "name", shop_products[i].name,
                                              "price", price));
    }
    if (ctx)
        json_object_set_new(ctx, "products", list);
    else
        json_decref(list);
    shop_page(req, 200, "products", ctx);
}

static void
post_add_to_cart(crumb_http_req *req, void *unused)
{
    int64_t id = crumb_http_param_int(req, "id", -1);
    if (!shop_product_find(id)) {
        crumb_http_error(req, 404, "There is no product with that id.");
        return;
    }
    /* Only increments are journalled when the cart is fine, so that
     * concurrent adds on one server-side session all count: an absent
     * cart is created by the increment itself, and replacing the whole
     * cart (a SET) happens only to repair a value that is not one. */
    crumb_session *s = crumb_http_session(req);
    const json_t *cart = crumb_session_get_json(s, "cart");
    if (cart && !json_is_object(cart)) {
        json_t *empty = json_object();
        crumb_session_set_json(s, "cart", empty);
        json_decref(empty);
    }
    char path[48];
    snprintf(path, sizeof(path), "/cart/%lld", (long long)id);
    const json_t *cur = crumb_session_get_path(s, path);
    if (cur && !json_is_integer(cur)) {
        json_t *one = json_integer(0);
        crumb_session_set_path(s, path, one);
        json_decref(one);
    }
    if (!cur || json_integer_value(cur) < QTY_MAX)
        crumb_session_incr_path(s, path, 1, NULL);
    crumb_http_redirect(req, 303, "/products");
}

static void
post_remove(crumb_http_req *req, void *unused)
{
    int64_t id = crumb_http_param_int(req, "id", -1);
    if (!shop_product_find(id)) {
        crumb_http_error(req, 404, "There is no product with that id.");
        return;
    }
    char path[48];
    snprintf(path, sizeof(path), "/cart/%lld", (long long)id);
    crumb_session *s = crumb_http_session(req);
    if (crumb_session_get_path(s, path))
        crumb_session_delete_path(s, path);
    crumb_http_redirect(req, 303, "/cart");
}

/* The cart as the page shows it: known products with a positive integer
 * quantity, in catalogue order; anything else in the cookie is ignored. */
static void
get_cart(crumb_http_req *req, void *unused)
{
    const json_t *cart = crumb_session_get_json(crumb_http_session(req),
                                                "cart");
    json_t *ctx = shop_ctx(req, "Cart", 1);
    json_t *lines = json_array();
    int64_t total = 0;
    for (size_t i = 0; lines && i < shop_nproducts; i++) {
        const shop_product *p = &shop_products[i];
        char key[24], price[32], line[32];
        snprintf(key, sizeof(key), "%lld", (long long)p->id);
        const json_t *q = json_is_object(cart) ? json_object_get(cart, key)
                                               : NULL;
        if (!json_is_integer(q) || json_integer_value(q) <= 0 ||
            json_integer_value(q) > QTY_MAX)
            continue;
        int64_t qty = json_integer_value(q);
        total += qty * p->cents;
        shop_format_price(p->cents, price, sizeof(price));
        shop_format_price(qty * p->cents, line, sizeof(line));
        json_array_append_new(lines,
                              json_pack("{s:I, s:s, s:I, s:s, s:s}", "id",
                                        (json_int_t)p->id, "name", p->name,
                                        "qty", (json_int_t)qty, "price",
                                        price, "line_total", line));
    }
    char tot[32];
    shop_format_price(total, tot, sizeof(tot));
    if (ctx) {
        json_object_set_new(ctx, "has_lines",
                            json_boolean(json_array_size(lines) > 0));
        json_object_set_new(ctx, "lines", lines);
        json_object_set_new(ctx, "total", json_string(tot));
    } else {
        json_decref(lines);
    }
    shop_page(req, 200, "cart", ctx);
}

static const shop_route routes[] = {
    {"GET", "/products", get_products, 0},
    {"POST", "/add_to_cart/<int:id>", post_add_to_cart, 0},
    {"GET", "/cart", get_cart, 0},
    {"POST", "/cart/remove/<int:id>", post_remove, 0},
};

int
shop_routes_cart(crumb_http *h)
{
    return shop_route_table(h, routes, sizeof(routes) / sizeof(routes[0]));
}
