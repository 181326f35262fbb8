/* request.c - request fields: percent-decoding, forms, accessors. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <microhttpd.h>

#include <crumb/error.h>

#include "http_int.h"

int
crumb__kv_add(crumb__kvlist *l, const char *name, size_t nlen,
              const char *value, size_t vlen)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        crumb__kv *items = realloc(l->items, cap * sizeof(*items));
        if (!items)
            return CRUMB_ENOMEM;
        l->items = items;
        l->cap = cap;
    }
    /* One block per pair: the value follows the name's NUL, so a pair
     * costs one malloc and one free (crumb__kv_cleanup frees the name). */
    if (nlen > SIZE_MAX / 2 - 2 || vlen > SIZE_MAX / 2 - 2)
        return CRUMB_ENOMEM;
    char *n = malloc(nlen + vlen + 2);
    if (!n)
        return CRUMB_ENOMEM;
    char *v = n + nlen + 1;
    memcpy(n, name, nlen);
    n[nlen] = '\0';
    memcpy(v, value, vlen);
    v[vlen] = '\0';
    l->items[l->n].name = n;
    l->items[l->n].value = v;
    l->n++;
    return CRUMB_OK;
}

const char *
crumb__kv_get(const crumb__kvlist *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->items[i].name, name) == 0)
            return l->items[i].value;
    return NULL;
}

void
crumb__kv_cleanup(crumb__kvlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i].name); /* the value is in the same block */
    free(l->items);
    l->items = NULL;
    l->n = l->cap = 0;
}

/*
 * UTF-8 per RFC 3629: no overlong forms, no surrogates (U+D800..DFFF),
 * nothing past U+10FFFF. The second-byte ranges below encode exactly that.
 */
int
crumb__utf8_valid(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t need;
        unsigned char lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) {
            need = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            if (c == 0xE0)
                lo = 0xA0;
            else if (c == 0xED)
                hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            if (c == 0xF0)
                lo = 0x90;
            else if (c == 0xF4)
                hi = 0x8F;
        } else {
            return 0;
        }
        if (len - i <= need)
            return 0;
        if (s[i + 1] < lo || s[i + 1] > hi)
            return 0;
        for (size_t k = 2; k <= need; k++)
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
        i += need + 1;
    }
    return 1;
}

static int
hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * Decoding is strict because the result becomes a C string compared with
 * names and shown on pages: a '%' without two hex digits, a decoded NUL
 * or a decoded byte sequence that is not UTF-8 is malformed (400), not
 * passed on in some repaired form.
 */
int
crumb__pct_decode(const char *s, size_t len, int plus, char *out,
                  size_t *outlen)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            if (len - i < 3)
                return CRUMB_EMALFORMED;
            int h = hexval(s[i + 1]), l = hexval(s[i + 2]);
            if (h < 0 || l < 0)
                return CRUMB_EMALFORMED;
            c = (unsigned char)(h * 16 + l);
            i += 2;
            if (c == 0)
                return CRUMB_EMALFORMED;
        } else if (c == '+' && plus) {
            c = ' ';
        } else if (c == 0) {
            return CRUMB_EMALFORMED;
        }
        out[o++] = (char)c;
    }
    out[o] = '\0';
    if (!crumb__utf8_valid((const unsigned char *)out, o))
        return CRUMB_EMALFORMED;
    if (outlen)
        *outlen = o;
    return CRUMB_OK;
}

/*
 * One name=value field, both halves still raw: decode each strictly and
 * append them to @l. The query string (split by MHD) and form bodies
 * (split by crumb__form_parse()) both come through here, so they obey
 * the same limits. On an error @l is unchanged.
 */
int
crumb__form_field_add(crumb__kvlist *l, const char *name, size_t nlen,
                      const char *value, size_t vlen)
{
    if (l->n >= CRUMB__FORM_FIELDS_MAX)
        return CRUMB_ETOOBIG;
    char *n = malloc(nlen + 1), *v = malloc(vlen + 1);
    size_t ndec, vdec;
    int rc = !n || !v ? CRUMB_ENOMEM
                      : crumb__pct_decode(name, nlen, 1, n, &ndec);
    if (rc == CRUMB_OK)
        rc = crumb__pct_decode(value, vlen, 1, v, &vdec);
    if (rc == CRUMB_OK)
        rc = crumb__kv_add(l, n, ndec, v, vdec);
    free(n);
    free(v);
    return rc;
}

/* application/x-www-form-urlencoded, as the WHATWG URL standard parses
 * it: '&'-separated, empty pieces skipped, a piece without '=' is a name
 * with an empty value. */
int
crumb__form_parse(const char *s, size_t len, crumb__kvlist *l)
{
    size_t i = 0;
    while (i < len) {
        size_t end = i;
        while (end < len && s[end] != '&')
            end++;
        if (end > i) {
            size_t eq = i;
            while (eq < end && s[eq] != '=')
                eq++;
            size_t vstart = eq < end ? eq + 1 : end;
            int rc = crumb__form_field_add(l, s + i, eq - i, s + vstart,
                                           end - vstart);
            if (rc != CRUMB_OK)
                return rc;
        }
        i = end + 1;
    }
    return CRUMB_OK;
}

const char *
crumb_http_method(const crumb_http_req *req)
{
    return req->method;
}

const char *
crumb_http_path(const crumb_http_req *req)
{
    return req->path ? req->path : "/";
}

const char *
crumb_http_header(crumb_http_req *req, const char *name)
{
    if (!req->conn)
        return NULL;
    /* asked on every request: found during the walk over the fields */
    if (req->fields_seen && strcasecmp(name, "Cookie") == 0)
        return req->cookie;
    if (req->fields_seen && strcasecmp(name, "User-Agent") == 0)
        return req->user_agent;
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *
crumb_http_query(const crumb_http_req *req, const char *name)
{
    return crumb__kv_get(&req->query, name);
}

const char *
crumb_http_form(const crumb_http_req *req, const char *name)
{
    return crumb__kv_get(&req->form, name);
}

const char *
crumb_http_param(const crumb_http_req *req, const char *name)
{
    return crumb__kv_get(&req->match.params, name);
}

int64_t
crumb_http_param_int(const crumb_http_req *req, const char *name, int64_t def)
{
    const char *v = crumb_http_param(req, name);
    if (!v || !*v)
        return def;
    char *end;
    long long x = strtoll(v, &end, 10);
    return *end ? def : (int64_t)x;
}

crumb_session *
crumb_http_session(crumb_http_req *req)
{
    return req->session;
}

crumb_open_reason
crumb_http_session_reason(const crumb_http_req *req)
{
    return req->reason;
}

const char *
crumb_http_route_pattern(const crumb_http_req *req)
{
    return req->match.fn ? req->match.pattern : NULL;
}

crumb_http *
crumb_http_server(crumb_http_req *req)
{
    return req->h;
}

crumb_iface *
crumb_http_iface(const crumb_http *h)
{
    return h ? h->opt.iface : NULL;
}
