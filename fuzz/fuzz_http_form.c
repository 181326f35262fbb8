/* fuzz_http_form.c - libFuzzer target: url-encoded forms and query
 * fields (crumb__form_parse, crumb__form_field_add, crumb__pct_decode);
 * whatever parses is valid UTF-8 and survives re-encoding unchanged. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <crumb/error.h>

#include "http_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken invariant must crash so the fuzzer reports it. */
static void
require(int cond)
{
    if (!cond)
        __builtin_trap();
}

/* Append @s percent-encoded (everything but ASCII letters and digits; a
 * space as '+' half of the time, to exercise both) to @out at *o. */
static void
encode(char *out, size_t *o, const char *s, int plus)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            (c >= '0' && c <= '9')) {
            out[(*o)++] = (char)c;
        } else if (c == ' ' && plus) {
            out[(*o)++] = '+';
        } else {
            out[(*o)++] = '%';
            out[(*o)++] = hex[c >> 4];
            out[(*o)++] = hex[c & 15];
        }
    }
}

static void
check_fields(const crumb__kvlist *l)
{
    require(l->n <= CRUMB__FORM_FIELDS_MAX);
    for (size_t i = 0; i < l->n; i++) {
        const char *n = l->items[i].name, *v = l->items[i].value;
        require(n && v);
        require(crumb__utf8_valid((const unsigned char *)n, strlen(n)));
        require(crumb__utf8_valid((const unsigned char *)v, strlen(v)));
    }
}

/* Encode @l back to a body and parse it again: the same fields. */
static void
check_roundtrip(const crumb__kvlist *l, int plus)
{
    size_t cap = 1;
    for (size_t i = 0; i < l->n; i++)
        cap += 3 * (strlen(l->items[i].name) + strlen(l->items[i].value)) + 2;
    char *body = malloc(cap);
    require(body != NULL);
    size_t o = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (i)
            body[o++] = '&';
        encode(body, &o, l->items[i].name, plus);
        body[o++] = '=';
        encode(body, &o, l->items[i].value, plus);
    }
    require(o < cap);
    crumb__kvlist again = {0};
    int rc = crumb__form_parse(body, o, &again);
    /* A field with an empty name and value encodes to "=", which parses
     * back as such; only an out-of-memory may fail here. */
    if (rc != CRUMB_ENOMEM) {
        require(rc == CRUMB_OK);
        require(again.n == l->n);
        for (size_t i = 0; i < l->n; i++) {
            require(strcmp(again.items[i].name, l->items[i].name) == 0);
            require(strcmp(again.items[i].value, l->items[i].value) == 0);
        }
    }
    crumb__kv_cleanup(&again);
    free(body);
}

/* Input with no '%', '+' or NUL, valid UTF-8, and few enough fields:
 * nothing to refuse, so it must parse. */
static int
plain_input(const char *s, size_t len)
{
    size_t fields = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '%' || s[i] == '+' || s[i] == '\0')
            return 0;
        if ((i == 0 || s[i - 1] == '&') && s[i] != '&')
            fields++;
    }
    return fields <= CRUMB__FORM_FIELDS_MAX &&
           crumb__utf8_valid((const unsigned char *)s, len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;

    crumb__kvlist l = {0};
    int rc = crumb__form_parse(s, size, &l);
    require(rc == CRUMB_OK || rc == CRUMB_EMALFORMED || rc == CRUMB_ETOOBIG ||
            rc == CRUMB_ENOMEM);
    check_fields(&l);
    if (rc == CRUMB_OK) {
        check_roundtrip(&l, size & 1);
        /* '&' pieces that are not empty each made one field. */
        size_t pieces = 0;
        for (size_t i = 0; i < size; i++)
            if ((i == 0 || s[i - 1] == '&') && s[i] != '&')
                pieces++;
        require(pieces == l.n);
    } else if (rc != CRUMB_ENOMEM) {
        require(!plain_input(s, size));
    }
    if (rc == CRUMB_ETOOBIG)
        require(l.n == CRUMB__FORM_FIELDS_MAX);
    crumb__kv_cleanup(&l);

    /* The whole input as one query field, split at the first '=' (what
     * MHD hands the server), then as a path (no '+' rule). */
    const char *eq = memchr(s, '=', size);
    size_t nlen = eq ? (size_t)(eq - s) : size;
    size_t before = 0;
    rc = crumb__form_field_add(&l, s, nlen, eq ? eq + 1 : "",
                               eq ? size - nlen - 1 : 0);
    require((rc == CRUMB_OK) == (l.n == before + 1));
    check_fields(&l);
    crumb__kv_cleanup(&l);

    char *out = malloc(size + 1);
    if (!out)
        return 0;
    size_t outlen = (size_t)-1;
    rc = crumb__pct_decode(s, size, 0, out, &outlen);
    if (rc == CRUMB_OK) {
        require(outlen <= size);
        require(strlen(out) == outlen);
        require(crumb__utf8_valid((const unsigned char *)out, outlen));
        /* Without '%', decoding is the identity. */
        if (!memchr(s, '%', size))
            require(outlen == size && memcmp(out, s, size) == 0);
    } else {
        require(rc == CRUMB_EMALFORMED);
        require(outlen == (size_t)-1);
    }
    free(out);
    return 0;
}
