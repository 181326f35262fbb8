/* checkout.c - /checkout: address, delivery and payment, review, order. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <crumb/error.h>
#include <crumb/random.h>

#include "checkout.h"

/*
 * The checkout's progress lives in the session under "checkout":
 *
 *   {"step": 1..3, "ref": "<32 hex>", "address": {name, street, city,
 *    postcode, country}, "delivery": "standard", "payment": "card"}
 *
 * "step" is the step to show; what may be submitted follows from the data
 * alone: step 2 once a valid address is kept, step 3 once a delivery and
 * a payment are too. A step posted before its predecessors were done is
 * refused with 409 and changes nothing. Every value read back is checked
 * again, as if new (a cookie signed with a shared key could hold
 * anything). Each successful POST redirects to GET /checkout, so a reload
 * never posts twice, and a second tab shows the same step. "ref" names
 * this checkout in the orders table, so placing it twice (a double click,
 * two tabs) makes one order.
 */

#define QTY_MAX 99
#define LINES_MAX 64
#define NFIELDS 5

typedef struct field_spec {
    const char *name;
    const char *label;
    size_t max; /* characters */
    const char *autocomplete;
} field_spec;

static const field_spec fields[NFIELDS] = {
    {"name", "Full name", 100, "name"},
    {"street", "Street and number", 200, "street-address"},
    {"city", "City", 100, "address-level2"},
    {"postcode", "Postcode", 10, "postal-code"},
    {"country", "Country", 60, "country-name"},
};

typedef struct choice {
    const char *value;
    const char *label;
    int64_t cents;
} choice;

static const choice deliveries[] = {
    {"standard", "Standard delivery (3 to 5 working days)", 490},
    {"express", "Express delivery (next working day)", 1250},
    {NULL, NULL, 0},
};

static const choice payments[] = {
    {"card", "Card on delivery", 0},
    {"invoice", "Invoice (pay within 14 days)", 0},
    {NULL, NULL, 0},
};

static const char *const step_names[] = {"", "Shipping address",
                                         "Delivery and payment", "Review"};

static const choice *
find_choice(const choice *c, const char *v)
{
    for (; v && c->value; c++)
        if (strcmp(c->value, v) == 0)
            return c;
    return NULL;
}

/* ---- validation ------------------------------------------------------- */

/*
 * Counts the characters of @s when it is UTF-8 (RFC 3629) made only of
 * printable characters; -1 otherwise. Refused besides bad UTF-8: C0 and
 * C1 controls, DEL, line and paragraph separators, the bidirectional
 * embeddings, overrides and isolates (which can make an address read
 * differently from what it holds), the BOM and the noncharacters.
 */
static long
printable_chars(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    long n = 0;
    while (*p) {
        unsigned cp, len;
        if (*p < 0x80) {
            cp = *p;
            len = 1;
        } else if (*p >= 0xC2 && *p <= 0xDF) {
            cp = *p & 0x1Fu;
            len = 2;
        } else if (*p >= 0xE0 && *p <= 0xEF) {
            cp = *p & 0x0Fu;
            len = 3;
        } else if (*p >= 0xF0 && *p <= 0xF4) {
            cp = *p & 0x07u;
            len = 4;
        } else {
            return -1;
        }
        for (unsigned i = 1; i < len; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return -1;
            cp = (cp << 6) | (p[i] & 0x3Fu);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return -1;
        if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 ||
            cp == 0x2029 || (cp >= 0x202A && cp <= 0x202E) ||
            (cp >= 0x2066 && cp <= 0x2069) || cp == 0xFEFF ||
            (cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE)
            return -1;
        p += len;
        n++;
    }
    return n;
}

static int
alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
           (c >= 'a' && c <= 'z');
}

/* 2 to 10 of A-Z a-z 0-9 space hyphen, a letter or digit at each end. */
static int
postcode_ok(const char *v)
{
    size_t n = strlen(v);
    if (n < 2 || n > 10 || !alnum((unsigned char)v[0]) ||
        !alnum((unsigned char)v[n - 1]))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!alnum((unsigned char)v[i]) && v[i] != ' ' && v[i] != '-')
            return 0;
    return 1;
}

/* Writes why @v is not acceptable for field @f into @why and returns 0,
 * or returns 1. */
static int
field_ok(const field_spec *f, const char *v, char *why, size_t size)
{
    long n = printable_chars(v);
    if (!*v)
        snprintf(why, size, "%s is required.", f->label);
    else if (n < 0)
        snprintf(why, size, "%s may contain only printable characters.",
                 f->label);
    else if ((size_t)n > f->max)
        snprintf(why, size, "%s is too long: at most %zu characters.",
                 f->label, f->max);
    else if (strcmp(f->name, "postcode") == 0 && !postcode_ok(v))
        snprintf(why, size, "%s must be 2 to 10 letters, digits, spaces or "
                            "hyphens, starting and ending with a letter or "
                            "digit.", f->label);
    else
        return 1;
    return 0;
}

/* A copy of @v without leading and trailing blanks, or NULL (memory). */
static char *
trimmed(const char *v)
{
    if (!v)
        v = "";
    while (*v == ' ' || *v == '\t')
        v++;
    size_t n = strlen(v);
    while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    char *out = malloc(n + 1);
    if (out) {
        memcpy(out, v, n);
        out[n] = '\0';
    }
    return out;
}

/* 1 when @a is an object holding an acceptable value for every field. */
static int
address_ok(const json_t *a)
{
    char why[160];
    if (!json_is_object(a))
        return 0;
    for (int i = 0; i < NFIELDS; i++) {
        const char *v = json_string_value(json_object_get(a, fields[i].name));
        if (!v || !field_ok(&fields[i], v, why, sizeof(why)))
            return 0;
    }
    return 1;
}

/* ---- the cart and the kept state --------------------------------------- */

typedef struct cart {
    struct {
        const shop_product *p;
        int64_t qty;
    } line[LINES_MAX];
    size_t n;
    int64_t subtotal;
    char digest[LINES_MAX * 8]; /* "1x2.3x1": what the review showed */
} cart;

/* The cart as cart.c shows it: known products with a quantity of 1 to
 * QTY_MAX, in catalogue order; anything else in the session is ignored. */
static void
cart_read(crumb_session *s, cart *c)
{
    const json_t *data = crumb_session_get_json(s, "cart");
    size_t used = 0;
    memset(c, 0, sizeof(*c));
    for (size_t i = 0; i < shop_nproducts && c->n < LINES_MAX; i++) {
        const shop_product *p = &shop_products[i];
        char key[24];
        snprintf(key, sizeof(key), "%lld", (long long)p->id);
        const json_t *q = json_is_object(data) ? json_object_get(data, key)
                                               : NULL;
        if (!json_is_integer(q) || json_integer_value(q) <= 0 ||
            json_integer_value(q) > QTY_MAX)
            continue;
        c->line[c->n].p = p;
        c->line[c->n].qty = json_integer_value(q);
        c->subtotal += c->line[c->n].qty * p->cents;
        used += (size_t)snprintf(c->digest + used, sizeof(c->digest) - used,
                                 "%s%lldx%lld", c->n ? "." : "",
                                 (long long)p->id,
                                 (long long)c->line[c->n].qty);
        if (used >= sizeof(c->digest))
            used = sizeof(c->digest) - 1;
        c->n++;
    }
}

typedef struct state {
    int step;               /* the step to show */
    int reachable;          /* the highest step that may be submitted */
    const json_t *address;  /* acceptable, or NULL */
    const choice *delivery; /* or NULL */
    const choice *payment;  /* or NULL */
    const char *ref;        /* 32 hex digits, or NULL */
} state;

static int
hex_ref(const char *r)
{
    if (!r || strlen(r) != 32)
        return 0;
    for (; *r; r++)
        if (!strchr("0123456789abcdef", *r))
            return 0;
    return 1;
}

static void
state_read(crumb_session *s, state *st)
{
    const json_t *co = crumb_session_get_json(s, "checkout");
    memset(st, 0, sizeof(*st));
    if (json_is_object(co)) {
        const json_t *a = json_object_get(co, "address");
        st->address = address_ok(a) ? a : NULL;
        st->delivery = find_choice(
            deliveries, json_string_value(json_object_get(co, "delivery")));
        st->payment = find_choice(
            payments, json_string_value(json_object_get(co, "payment")));
        const char *ref = json_string_value(json_object_get(co, "ref"));
        st->ref = hex_ref(ref) ? ref : NULL;
        const json_t *n = json_object_get(co, "step");
        st->step = json_is_integer(n) ? (int)json_integer_value(n) : 1;
    }
    st->reachable = !st->address ? 1 : st->delivery && st->payment ? 3 : 2;
    if (st->step < 1 || st->step > st->reachable)
        st->step = st->reachable;
}

/* Sets "checkout" to an empty object unless it is an object already. */
static int
state_begin(crumb_session *s)
{
    if (json_is_object(crumb_session_get_json(s, "checkout")))
        return CRUMB_OK;
    json_t *o = json_object();
    int rc = o ? crumb_session_set_json(s, "checkout", o) : CRUMB_ENOMEM;
    json_decref(o);
    return rc;
}

static int
state_set_string(crumb_session *s, const char *path, const char *v)
{
    json_t *j = json_string(v);
    int rc = j ? crumb_session_set_path(s, path, j) : CRUMB_ENOMEM;
    json_decref(j);
    return rc;
}

static int
state_set_step(crumb_session *s, int step)
{
    json_t *j = json_integer(step);
    int rc = j ? crumb_session_set_path(s, "/checkout/step", j)
               : CRUMB_ENOMEM;
    json_decref(j);
    return rc;
}

/* ---- pages ---------------------------------------------------------- */

static json_t *
page_ctx(crumb_http_req *req, int step, const char *error)
{
    json_t *ctx = shop_ctx(req, "Checkout", 1);
    json_t *steps = json_array();
    if (!ctx || !steps) {
        json_decref(ctx);
        json_decref(steps);
        return NULL;
    }
    for (int i = 1; i <= 3; i++)
        json_array_append_new(steps,
                              json_pack("{s:i, s:s, s:b, s:b}", "n", i,
                                        "label", step_names[i], "current",
                                        i == step, "done", i < step));
    json_object_set_new(ctx, "steps", steps);
    json_object_set_new(ctx, "step_name", json_string(step_names[step]));
    if (error)
        json_object_set_new(ctx, "error", json_string(error));
    return ctx;
}

/* The address form, with @values (NULL: the kept address) and an error
 * per field in @errors (may be NULL). */
static void
show_address(crumb_http_req *req, int status, const state *st,
             char *const *values, char *const *errors, const char *error)
{
    json_t *ctx = page_ctx(req, 1, error);
    json_t *list = json_array();
    json_t *errs = json_array();
    for (int i = 0; ctx && list && errs && i < NFIELDS; i++) {
        const field_spec *f = &fields[i];
        const char *v = values ? values[i]
                               : json_string_value(json_object_get(
                                     st->address, f->name));
        /* what was typed comes back, unless it is absurdly long */
        if (!v || strlen(v) > 4 * f->max + 16)
            v = "";
        const char *e = errors ? errors[i] : NULL;
        json_array_append_new(
            list, json_pack("{s:s, s:s, s:s, s:I, s:s, s:s?}", "name",
                            f->name, "label", f->label, "value", v, "max",
                            (json_int_t)f->max, "autocomplete",
                            f->autocomplete, "error", e));
        if (e)
            json_array_append_new(errs, json_pack("{s:s, s:s}", "field",
                                                  f->name, "message", e));
    }
    if (ctx && list && errs) {
        json_object_set_new(ctx, "fields", list);
        json_object_set_new(ctx, "has_errors",
                            json_boolean(json_array_size(errs) > 0));
        json_object_set_new(ctx, "errors", errs);
    } else {
        json_decref(list);
        json_decref(errs);
    }
    shop_page(req, status, "checkout_address", ctx);
}

static json_t *
choices_json(const choice *c, const choice *chosen)
{
    json_t *a = json_array();
    for (; a && c->value; c++) {
        char price[32] = "";
        if (c->cents)
            shop_format_price(c->cents, price, sizeof(price));
        json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:b}", "value",
                                           c->value, "label", c->label,
                                           "price", price, "checked",
                                           c == chosen));
    }
    return a;
}

/* The delivery and payment form; @bad names the field in error. */
static void
show_delivery(crumb_http_req *req, int status, const choice *delivery,
              const choice *payment, const char *bad, const char *error)
{
    json_t *ctx = page_ctx(req, 2, error);
    if (ctx) {
        json_object_set_new(ctx, "deliveries",
                            choices_json(deliveries, delivery));
        json_object_set_new(ctx, "payments", choices_json(payments, payment));
        if (bad)
            json_object_set_new(ctx, "bad_field", json_string(bad));
    }
    shop_page(req, status, "checkout_delivery", ctx);
}

static void
show_review(crumb_http_req *req, int status, const state *st, const cart *c,
            const char *error)
{
    json_t *ctx = page_ctx(req, 3, error);
    json_t *lines = json_array();
    for (size_t i = 0; ctx && lines && i < c->n; i++) {
        char price[32], total[32];
        shop_format_price(c->line[i].p->cents, price, sizeof(price));
        shop_format_price(c->line[i].qty * c->line[i].p->cents, total,
                          sizeof(total));
        json_array_append_new(
            lines, json_pack("{s:s, s:I, s:s, s:s}", "name",
                             c->line[i].p->name, "qty",
                             (json_int_t)c->line[i].qty, "price", price,
                             "line_total", total));
    }
    char sub[32], del[32], tot[32];
    shop_format_price(c->subtotal, sub, sizeof(sub));
    shop_format_price(st->delivery->cents, del, sizeof(del));
    shop_format_price(c->subtotal + st->delivery->cents, tot, sizeof(tot));
    if (ctx && lines) {
        json_object_set_new(ctx, "lines", lines);
        json_object_set(ctx, "address", (json_t *)st->address);
        json_object_set_new(
            ctx, "review",
            json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "subtotal", sub,
                      "delivery", st->delivery->label, "delivery_cost", del,
                      "payment", st->payment->label, "total", tot, "cart",
                      c->digest));
    } else {
        json_decref(lines);
    }
    shop_page(req, status, "checkout_review", ctx);
}

/* Shows the step @st says, at @status, with @error above it. */
static void
show_step(crumb_http_req *req, int status, const state *st, const cart *c,
          const char *error)
{
    if (st->step == 3)
        show_review(req, status, st, c, error);
    else if (st->step == 2)
        show_delivery(req, status, st->delivery, st->payment, NULL, error);
    else
        show_address(req, status, st, NULL, NULL, error);
}

static void
show_empty(crumb_http_req *req, int status)
{
    shop_page(req, status, "checkout_empty", page_ctx(req, 1, NULL));
}

static void
get_checkout(crumb_http_req *req, void *unused)
{
    crumb_user u;
    if (!shop_require_login(req, &u))
        return;
    crumb_session *s = crumb_http_session(req);
    cart c;
    state st;
    cart_read(s, &c);
    if (c.n == 0) {
        show_empty(req, 200);
        return;
    }
    state_read(s, &st);
    show_step(req, 200, &st, &c, NULL);
}

/* ---- the steps' POSTs ------------------------------------------------ */

static void
redirect_checkout(crumb_http_req *req, int rc)
{
    if (rc != CRUMB_OK)
        crumb_http_error(req, 500, "The checkout could not be saved.");
    else
        crumb_http_redirect(req, 303, "/checkout");
}

static void
post_address(crumb_http_req *req, crumb_session *s, const state *st)
{
    char *values[NFIELDS] = {0}, *errors[NFIELDS] = {0};
    int bad = 0, rc = CRUMB_ENOMEM;
    json_t *a = json_object();
    for (int i = 0; a && i < NFIELDS; i++) {
        char why[200];
        values[i] = trimmed(crumb_http_form(req, fields[i].name));
        if (!values[i])
            goto out;
        if (!field_ok(&fields[i], values[i], why, sizeof(why))) {
            errors[i] = strdup(why);
            bad++;
        } else {
            json_object_set_new(a, fields[i].name, json_string(values[i]));
        }
    }
    if (!a)
        goto out;
    if (bad) {
        show_address(req, 400, st, values, errors,
                     bad == 1 ? "Please correct the field marked below."
                              : "Please correct the fields marked below.");
        rc = CRUMB_OK;
        goto out;
    }
    rc = state_begin(s);
    if (rc == CRUMB_OK && !st->ref) {
        unsigned char raw[16];
        char hex[33];
        rc = crumb_random_bytes(raw, sizeof(raw));
        for (size_t i = 0; i < sizeof(raw); i++)
            snprintf(hex + 2 * i, 3, "%02x", raw[i]);
        if (rc == CRUMB_OK)
            rc = state_set_string(s, "/checkout/ref", hex);
    }
    if (rc == CRUMB_OK)
        rc = crumb_session_set_path(s, "/checkout/address", a);
    if (rc == CRUMB_OK)
        rc = state_set_step(s, 2);
    redirect_checkout(req, rc);
    rc = CRUMB_OK;
out:
    if (rc != CRUMB_OK)
        crumb_http_error(req, 500, "Out of memory.");
    json_decref(a);
    for (int i = 0; i < NFIELDS; i++) {
        free(values[i]);
        free(errors[i]);
    }
}

static void
post_delivery(crumb_http_req *req, crumb_session *s, int back)
{
    const choice *d = find_choice(deliveries, crumb_http_form(req,
                                                              "delivery"));
    const choice *p = find_choice(payments, crumb_http_form(req, "payment"));
    int rc = state_begin(s);
    if (back) {
        /* going back keeps what was chosen here, as far as it is valid */
        if (rc == CRUMB_OK && d)
            rc = state_set_string(s, "/checkout/delivery", d->value);
        if (rc == CRUMB_OK && p)
            rc = state_set_string(s, "/checkout/payment", p->value);
        if (rc == CRUMB_OK)
            rc = state_set_step(s, 1);
        redirect_checkout(req, rc);
        return;
    }
    if (!d || !p) {
        show_delivery(req, 400, d, p, !d ? "delivery" : "payment",
                      !d ? "Delivery: choose standard or express delivery."
                         : "Payment: choose card or invoice.");
        return;
    }
    if (rc == CRUMB_OK)
        rc = state_set_string(s, "/checkout/delivery", d->value);
    if (rc == CRUMB_OK)
        rc = state_set_string(s, "/checkout/payment", p->value);
    if (rc == CRUMB_OK)
        rc = state_set_step(s, 3);
    redirect_checkout(req, rc);
}

/* The order as stored: the lines and the address as JSON texts. */
static void
place_order(crumb_http_req *req, crumb_session *s, const crumb_user *u,
            const state *st, const cart *c)
{
    const char *seen = crumb_http_form(req, "cart");
    if (!seen) {
        show_review(req, 400, st, c, "The form's cart field is missing.");
        return;
    }
    if (strcmp(seen, c->digest) != 0) {
        show_review(req, 409, st, c, "Your cart changed since you reviewed "
                                     "it: please check the order again.");
        return;
    }
    json_t *lines = json_array();
    for (size_t i = 0; lines && i < c->n; i++)
        json_array_append_new(
            lines, json_pack("{s:I, s:s, s:I, s:I}", "id",
                             (json_int_t)c->line[i].p->id, "name",
                             c->line[i].p->name, "qty",
                             (json_int_t)c->line[i].qty, "cents",
                             (json_int_t)c->line[i].p->cents));
    char *lines_text = lines ? json_dumps(lines, JSON_COMPACT) : NULL;
    char *addr_text = json_dumps(st->address, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(lines);
    if (!lines_text || !addr_text) {
        free(lines_text);
        free(addr_text);
        crumb_http_error(req, 500, "Out of memory.");
        return;
    }
    shop_order o = {
        .user_id = u->id,
        .ref = st->ref,
        .lines = lines_text,
        .subtotal = c->subtotal,
        .delivery_cents = st->delivery->cents,
        .total = c->subtotal + st->delivery->cents,
        .address = addr_text,
        .delivery = st->delivery->value,
        .payment = st->payment->value,
        .created = crumb_iface_now(crumb_http_iface(crumb_http_server(req))),
    };
    int64_t id = 0;
    int existed = 0;
    int rc = shop_orders_add(&o, &id, &existed);
    free(lines_text);
    free(addr_text);
    if (rc != CRUMB_OK) {
        crumb_http_error(req, 503, "The orders database is unavailable; "
                                   "nothing was ordered. Please try again.");
        return;
    }
    crumb_session_delete(s, "cart");
    crumb_session_delete(s, "checkout");
    char loc[64];
    snprintf(loc, sizeof(loc), "/orders/%lld?placed=1", (long long)id);
    crumb_http_redirect(req, 303, loc);
}

static void
post_checkout(crumb_http_req *req, void *unused)
{
    crumb_user u;
    if (!shop_require_login(req, &u))
        return;
    crumb_session *s = crumb_http_session(req);
    const char *step_text = crumb_http_form(req, "step");
    const char *action = crumb_http_form(req, "action");
    int step = step_text && step_text[0] >= '1' && step_text[0] <= '3' &&
                       !step_text[1]
                   ? step_text[0] - '0'
                   : 0;
    if (!action)
        action = step == 3 ? "place" : "next";
    int back = strcmp(action, "back") == 0;
    if (!step) {
        crumb_http_error(req, 400, "The form's step field is missing or "
                                   "not 1, 2 or 3.");
        return;
    }
    if (!back && strcmp(action, step == 3 ? "place" : "next") != 0) {
        crumb_http_error(req, 400, "The form's action field is not one this "
                                   "step knows.");
        return;
    }
    if (back && step == 1) {
        crumb_http_redirect(req, 303, "/cart");
        return;
    }
    cart c;
    state st;
    cart_read(s, &c);
    if (c.n == 0) {
        show_empty(req, 409);
        return;
    }
    state_read(s, &st);
    if (step > st.reachable) {
        char why[200];
        snprintf(why, sizeof(why), "Step %d (%s) cannot be submitted before "
                                   "step %d (%s) is done. Nothing was "
                                   "changed; please continue here.",
                 step, step_names[step], st.reachable,
                 step_names[st.reachable]);
        st.step = st.reachable;
        show_step(req, 409, &st, &c, why);
        return;
    }
    if (step == 1)
        post_address(req, s, &st);
    else if (step == 2)
        post_delivery(req, s, back);
    else if (back)
        redirect_checkout(req, state_set_step(s, 2));
    else
        place_order(req, s, &u, &st, &c);
}

static const shop_route routes[] = {
    {"GET", "/checkout", get_checkout, 0},
    {"POST", "/checkout", post_checkout, 0},
};

int
shop_routes_checkout(crumb_http *h)
{
    return shop_route_table(h, routes, sizeof(routes) / sizeof(routes[0]));
}
