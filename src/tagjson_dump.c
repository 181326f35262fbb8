/* tagjson_dump.c - JSON text byte-identical to Flask's session serializer. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <crumb/error.h>
#include <crumb/tagjson.h>

#define MAX_DEPTH 512
#define SORT_STACK 32

typedef struct buf {
    char *p;
    size_t len, cap;
} buf;

/* Makes room for @n more bytes; doubles so appends stay amortised O(1). */
static int
reserve(buf *b, size_t n)
{
    if (b->cap - b->len >= n)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < n) {
        if (cap > SIZE_MAX / 2)
            return -1;
        cap *= 2;
    }
    char *p = realloc(b->p, cap);
    if (!p)
        return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}

static int
put(buf *b, const char *s, size_t n)
{
    if (reserve(b, n) != 0)
        return -1;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    return 0;
}

static const char hexl[] = "0123456789abcdef";

static void
put_u(char *o, unsigned cp)
{
    o[0] = '\\';
    o[1] = 'u';
    o[2] = hexl[(cp >> 12) & 15];
    o[3] = hexl[(cp >> 8) & 15];
    o[4] = hexl[(cp >> 4) & 15];
    o[5] = hexl[cp & 15];
}

/* 1 for bytes copied as they are: printable ASCII but '"' and '\\'. */
static const unsigned char plain_byte[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0,
};

/*
 * Python's json.dumps with ensure_ascii: '"' and '\\' and \b \f \n \r \t
 * get their short escapes, every other code point below 0x20 or from 0x7f
 * on becomes \uXXXX in lowercase hex, and code points past the BMP become a
 * surrogate pair. The input is UTF-8 (jansson checks it); bad UTF-8 gives
 * -2 so the caller can report CRUMB_EINVAL.
 */
static int
put_string(buf *b, const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    /* Worst case: 6 output bytes per input byte ("\u00XX"), or 12 per
     * 4-byte sequence; reserve once. */
    if (len > (SIZE_MAX - 2) / 6 || reserve(b, len * 6 + 2) != 0)
        return -1;
    char *o = b->p + b->len;
    *o++ = '"';
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && plain_byte[s[j]])
            j++;
        memcpy(o, s + i, j - i);
        o += j - i;
        i = j;
        if (i == len)
            break;
        unsigned c = s[i], cp;
        if (c < 0x80) {
            i++;
            *o++ = '\\';
            switch (c) {
            case '"': *o++ = '"'; continue;
            case '\\': *o++ = '\\'; continue;
            case '\b': *o++ = 'b'; continue;
            case '\f': *o++ = 'f'; continue;
            case '\n': *o++ = 'n'; continue;
            case '\r': *o++ = 'r'; continue;
            case '\t': *o++ = 't'; continue;
            }
            o--;
            put_u(o, c);
            o += 6;
            continue;
        }
        size_t n;
        if (c >= 0xc2 && c <= 0xdf) {
            n = 2;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 3;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 4;
            cp = c & 0x07;
        } else {
            return -2;
        }
        if (len - i < n)
            return -2;
        for (size_t k = 1; k < n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return -2;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
            return -2;
        i += n;
        if (cp >= 0x10000) {
            cp -= 0x10000;
            put_u(o, 0xd800 | (cp >> 10));
            put_u(o + 6, 0xdc00 | (cp & 0x3ff));
            o += 12;
        } else {
            put_u(o, cp);
            o += 6;
        }
    }
    *o++ = '"';
    b->len = (size_t)(o - b->p);
    return 0;
}

/*
 * Python's float repr: the shortest digit string that reads back as the
 * same double, in fixed notation (always with a fractional part, "1.0")
 * when the decimal exponent is in [-4, 16), else d.ddde+XX with at least
 * two exponent digits. The shortest digits come from trying %.Ne with
 * growing N until strtod gives the value back.
 */
static int
put_double(buf *b, double v)
{
    char e[40], out[48], dig[20];
    int prec;
    if (!isfinite(v))
        return -2;
    for (prec = 0; prec < 17; prec++) {
        snprintf(e, sizeof e, "%.*e", prec, v);
        if (strtod(e, NULL) == v)
            break;
    }
    /* e is [-]d[.ddd]e(+|-)XX */
    const char *p = e;
    char *o = out;
    if (*p == '-')
        *o++ = *p++;
    int nd = 0;
    for (; *p != 'e'; p++)
        if (*p >= '0' && *p <= '9')
            dig[nd++] = *p;
    int exp10 = atoi(p + 1);
    while (nd > 1 && dig[nd - 1] == '0')
        nd--;
    if (exp10 < -4 || exp10 >= 16) {
        *o++ = dig[0];
        if (nd > 1) {
            *o++ = '.';
            memcpy(o, dig + 1, (size_t)nd - 1);
            o += nd - 1;
        }
        o += snprintf(o, 8, "e%c%02d", exp10 < 0 ? '-' : '+',
                      exp10 < 0 ? -exp10 : exp10);
    } else if (exp10 < 0) {
        *o++ = '0';
        *o++ = '.';
        for (int k = 0; k < -exp10 - 1; k++)
            *o++ = '0';
        memcpy(o, dig, (size_t)nd);
        o += nd;
    } else {
        for (int k = 0; k <= exp10; k++)
            *o++ = k < nd ? dig[k] : '0';
        *o++ = '.';
        if (nd > exp10 + 1) {
            memcpy(o, dig + exp10 + 1, (size_t)(nd - exp10 - 1));
            o += nd - exp10 - 1;
        } else {
            *o++ = '0';
        }
    }
    return put(b, out, (size_t)(o - out));
}

static int
put_int(buf *b, json_int_t v)
{
    char tmp[24];
    char *end = tmp + sizeof tmp, *p = end;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v
                                 : (unsigned long long)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    return put(b, p, (size_t)(end - p));
}

typedef struct kv {
    const char *key;
    size_t klen;
    json_t *val;
} kv;

/* Code point order is UTF-8 byte order; jansson keys hold no NUL. */
static int
kv_cmp(const void *a, const void *b)
{
    return strcmp(((const kv *)a)->key, ((const kv *)b)->key);
}

static int dump(buf *b, const json_t *v, int depth);

/* Objects are written with sorted keys; small ones sort on the stack with
 * an insertion sort, large ones on the heap with qsort. */
static int
dump_object(buf *b, const json_t *v, int depth)
{
    size_t n = json_object_size(v), i = 0;
    kv stackv[SORT_STACK], *items = stackv;
    if (n == 0)
        return put(b, "{}", 2);
    if (n > SORT_STACK) {
        items = malloc(n * sizeof *items);
        if (!items)
            return -1;
    }
    const char *k;
    json_t *val;
    json_object_foreach((json_t *)v, k, val) {
        items[i].key = k;
        items[i].klen = strlen(k);
        items[i].val = val;
        i++;
    }
    if (n > SORT_STACK) {
        qsort(items, n, sizeof *items, kv_cmp);
    } else {
        for (size_t x = 1; x < n; x++) {
            kv t = items[x];
            size_t y = x;
            while (y > 0 && strcmp(items[y - 1].key, t.key) > 0) {
                items[y] = items[y - 1];
                y--;
            }
            items[y] = t;
        }
    }
    int rc = put(b, "{", 1);
    for (i = 0; i < n && rc == 0; i++) {
        if (i)
            rc = put(b, ",", 1);
        if (rc == 0)
            rc = put_string(b, items[i].key, items[i].klen);
        if (rc == 0)
            rc = put(b, ":", 1);
        if (rc == 0)
            rc = dump(b, items[i].val, depth + 1);
    }
    if (rc == 0)
        rc = put(b, "}", 1);
    if (items != stackv)
        free(items);
    return rc;
}

/* Returns 0, -1 (out of memory) or -2 (not serialisable). */
static int
dump(buf *b, const json_t *v, int depth)
{
    if (depth > MAX_DEPTH)
        return -2;
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return dump_object(b, v, depth);
    case JSON_ARRAY: {
        size_t n = json_array_size(v);
        int rc = put(b, "[", 1);
        for (size_t i = 0; i < n && rc == 0; i++) {
            if (i)
                rc = put(b, ",", 1);
            if (rc == 0)
                rc = dump(b, json_array_get(v, i), depth + 1);
        }
        return rc ? rc : put(b, "]", 1);
    }
    case JSON_STRING:
        return put_string(b, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        return put_int(b, json_integer_value(v));
    case JSON_REAL:
        return put_double(b, json_real_value(v));
    case JSON_TRUE:
        return put(b, "true", 4);
    case JSON_FALSE:
        return put(b, "false", 5);
    case JSON_NULL:
        return put(b, "null", 4);
    }
    return -2;
}

int
crumb_tagjson_dumps(const json_t *v, char **out, size_t *outlen)
{
    buf b = {NULL, 0, 0};
    if (!out)
        return CRUMB_EINVAL;
    *out = NULL;
    if (!v)
        return CRUMB_EINVAL;
    int rc = dump(&b, v, 1);
    if (rc == 0)
        rc = put(&b, "", 1);
    if (rc != 0) {
        free(b.p);
        return rc == -1 ? CRUMB_ENOMEM : CRUMB_EINVAL;
    }
    *out = b.p;
    if (outlen)
        *outlen = b.len - 1;
    return CRUMB_OK;
}
