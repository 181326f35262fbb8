/* tagjson.c - Flask's tagged JSON: checks, tag helpers, Python-exact dumps. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <crumb/base64.h>
#include <crumb/error.h>
#include <crumb/tagjson.h>

#include "json_parse.h"

#define MAX_DEPTH 512

static const char *const tag_names[] = {
    [CRUMB_TAG_NONE] = "",       [CRUMB_TAG_TUPLE] = " t",
    [CRUMB_TAG_BYTES] = " b",    [CRUMB_TAG_MARKUP] = " m",
    [CRUMB_TAG_UUID] = " u",     [CRUMB_TAG_DATETIME] = " d",
    [CRUMB_TAG_DICT] = " di",
};

static crumb_tag
tag_of_key(const char *k)
{
    if (k[0] != ' ')
        return CRUMB_TAG_NONE;
    switch (k[1]) {
    case 't':
        return k[2] ? CRUMB_TAG_NONE : CRUMB_TAG_TUPLE;
    case 'b':
        return k[2] ? CRUMB_TAG_NONE : CRUMB_TAG_BYTES;
    case 'm':
        return k[2] ? CRUMB_TAG_NONE : CRUMB_TAG_MARKUP;
    case 'u':
        return k[2] ? CRUMB_TAG_NONE : CRUMB_TAG_UUID;
    case 'd':
        if (!k[2])
            return CRUMB_TAG_DATETIME;
        return k[2] == 'i' && !k[3] ? CRUMB_TAG_DICT : CRUMB_TAG_NONE;
    }
    return CRUMB_TAG_NONE;
}

crumb_tag
crumb_tag_of(const json_t *v)
{
    if (!json_is_object(v) || json_object_size(v) != 1)
        return CRUMB_TAG_NONE;
    void *it = json_object_iter((json_t *)v);
    return tag_of_key(json_object_iter_key(it));
}

const char *
crumb_tag_name(crumb_tag tag)
{
    if ((unsigned)tag > CRUMB_TAG_DICT)
        return "";
    return tag_names[tag];
}

/* The single value of a one-key object. */
static json_t *
only_value(const json_t *v)
{
    return json_object_iter_value(json_object_iter((json_t *)v));
}

/*
 * Python's UUID(str) drops every "urn:" then every "uuid:", strips braces
 * at both ends, drops every dash and wants 32 hex digits. We do the same on
 * a bounded copy and decode into @out.
 */
static int
uuid_parse(const char *s, size_t len, unsigned char out[16])
{
    char a[128], b[128];
    size_t n = 0, m = 0;
    if (len >= sizeof a)
        return CRUMB_EMALFORMED;
    for (size_t i = 0; i < len; i++) {
        if (len - i >= 4 && memcmp(s + i, "urn:", 4) == 0) {
            i += 3;
            continue;
        }
        a[n++] = s[i];
    }
    for (size_t i = 0; i < n; i++) {
        if (n - i >= 5 && memcmp(a + i, "uuid:", 5) == 0) {
            i += 4;
            continue;
        }
        b[m++] = a[i];
    }
    size_t lo = 0, hi = m;
    while (lo < hi && (b[lo] == '{' || b[lo] == '}'))
        lo++;
    while (hi > lo && (b[hi - 1] == '{' || b[hi - 1] == '}'))
        hi--;
    int nd = 0;
    for (size_t i = lo; i < hi; i++) {
        int c = (unsigned char)b[i], x;
        if (c == '-')
            continue;
        if (c >= '0' && c <= '9')
            x = c - '0';
        else if (c >= 'a' && c <= 'f')
            x = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            x = c - 'A' + 10;
        else
            return CRUMB_EMALFORMED;
        if (nd == 32)
            return CRUMB_EMALFORMED;
        if (nd % 2 == 0)
            out[nd / 2] = (unsigned char)(x << 4);
        else
            out[nd / 2] |= (unsigned char)x;
        nd++;
    }
    return nd == 32 ? CRUMB_OK : CRUMB_EMALFORMED;
}

/* Whether @s is base64 as Python's b64decode takes it from Flask. */
static int
bytes_valid(const json_t *s)
{
    size_t len = json_string_length(s);
    unsigned char stackbuf[256];
    unsigned char *buf = stackbuf;
    if (CRUMB_B64_DECODED_MAX(len) > sizeof stackbuf) {
        buf = malloc(CRUMB_B64_DECODED_MAX(len));
        if (!buf)
            return -1;
    }
    long n = crumb_b64_decode(json_string_value(s), len, buf);
    if (buf != stackbuf)
        free(buf);
    return n >= 0;
}

/* Validates one tag's content; the recursion into nested values is done
 * by check() on the value returned in *inner. */
static int
check_tag(crumb_tag tag, const json_t *val, const json_t **inner)
{
    unsigned char uuid[16];
    *inner = NULL;
    switch (tag) {
    case CRUMB_TAG_TUPLE:
        if (!json_is_array(val))
            return CRUMB_EMALFORMED;
        *inner = val;
        return CRUMB_OK;
    case CRUMB_TAG_BYTES:
        if (!json_is_string(val))
            return CRUMB_EMALFORMED;
        switch (bytes_valid(val)) {
        case 1:
            return CRUMB_OK;
        case 0:
            return CRUMB_EMALFORMED;
        default:
            return CRUMB_ENOMEM;
        }
    case CRUMB_TAG_MARKUP:
        return json_is_string(val) ? CRUMB_OK : CRUMB_EMALFORMED;
    case CRUMB_TAG_UUID:
        if (!json_is_string(val))
            return CRUMB_EMALFORMED;
        return uuid_parse(json_string_value(val), json_string_length(val),
                          uuid);
    case CRUMB_TAG_DATETIME:
        if (!json_is_string(val))
            return CRUMB_EMALFORMED;
        return crumb_http_date_parse(json_string_value(val),
                                     json_string_length(val), NULL);
    case CRUMB_TAG_DICT: {
        if (!json_is_object(val) || json_object_size(val) != 1)
            return CRUMB_EMALFORMED;
        void *it = json_object_iter((json_t *)val);
        const char *k = json_object_iter_key(it);
        size_t kl = strlen(k);
        if (kl < 2 || k[kl - 2] != '_' || k[kl - 1] != '_')
            return CRUMB_EMALFORMED;
        *inner = json_object_iter_value(it);
        return CRUMB_OK;
    }
    default:
        return CRUMB_OK;
    }
}

static int
check(const json_t *v, int depth)
{
    if (depth > MAX_DEPTH)
        return CRUMB_EMALFORMED;
    if (json_is_array(v)) {
        size_t i;
        json_t *item;
        json_array_foreach((json_t *)v, i, item) {
            int rc = check(item, depth + 1);
            if (rc != CRUMB_OK)
                return rc;
        }
        return CRUMB_OK;
    }
    if (!json_is_object(v))
        return CRUMB_OK;
    crumb_tag tag = crumb_tag_of(v);
    if (tag != CRUMB_TAG_NONE) {
        const json_t *inner;
        int rc = check_tag(tag, only_value(v), &inner);
        if (rc != CRUMB_OK || !inner)
            return rc;
        return check(inner, depth + 1);
    }
    const char *k;
    json_t *val;
    json_object_foreach((json_t *)v, k, val) {
        int rc = check(val, depth + 1);
        if (rc != CRUMB_OK)
            return rc;
    }
    return CRUMB_OK;
}

int
crumb_tagjson_check(const json_t *v)
{
    if (!v)
        return CRUMB_EMALFORMED;
    return check(v, 1);
}

int
crumb_tagjson_loads(const char *text, size_t len, json_t **out)
{
    if (!out)
        return CRUMB_EINVAL;
    *out = NULL;
    json_t *v;
    crumb__json_info info;
    int rc = crumb__json_parse(text, len, &v, &info);
    if (rc != CRUMB_OK)
        return rc;
    /* Without a key starting with a space there is no tag, and check()
     * would only count the levels the parser counted: skip its walk. */
    if (!json_is_object(v))
        rc = CRUMB_EMALFORMED;
    else if (info.space_key || info.depth > MAX_DEPTH)
        rc = crumb_tagjson_check(v);
    if (rc != CRUMB_OK) {
        json_decref(v);
        return rc;
    }
    *out = v;
    return CRUMB_OK;
}

/* ---- Constructors and readers ---- */

static json_t *
tag_new(crumb_tag tag, json_t *val)
{
    if (!val)
        return NULL;
    json_t *o = json_object();
    if (!o || json_object_set_new(o, tag_names[tag], val) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *
crumb_tag_tuple_new(const json_t *array)
{
    if (!json_is_array(array))
        return NULL;
    return tag_new(CRUMB_TAG_TUPLE, json_deep_copy(array));
}

json_t *
crumb_tag_bytes_new(const void *data, size_t len)
{
    if (!data && len)
        return NULL;
    char *buf = malloc(CRUMB_B64_ENCODED_LEN(len) + 1);
    if (!buf)
        return NULL;
    size_t n = crumb_b64_encode(data, len, buf);
    json_t *s = json_stringn_nocheck(buf, n);
    free(buf);
    return tag_new(CRUMB_TAG_BYTES, s);
}

json_t *
crumb_tag_markup_new(const char *html)
{
    if (!html)
        return NULL;
    return tag_new(CRUMB_TAG_MARKUP, json_string(html));
}

json_t *
crumb_tag_uuid_new(const unsigned char uuid[16])
{
    static const char hex[] = "0123456789abcdef";
    char buf[32];
    if (!uuid)
        return NULL;
    for (int i = 0; i < 16; i++) {
        buf[2 * i] = hex[uuid[i] >> 4];
        buf[2 * i + 1] = hex[uuid[i] & 15];
    }
    return tag_new(CRUMB_TAG_UUID, json_stringn_nocheck(buf, 32));
}

json_t *
crumb_tag_datetime_new(int64_t unix_seconds)
{
    char buf[32];
    if (crumb_http_date_format(unix_seconds, buf, sizeof buf) != CRUMB_OK)
        return NULL;
    return tag_new(CRUMB_TAG_DATETIME, json_string_nocheck(buf));
}

/* The tag's value when @v carries @tag and the value is a string. */
static int
tagged_string(const json_t *v, crumb_tag tag, const json_t **s)
{
    if (crumb_tag_of(v) != tag)
        return CRUMB_ETYPE;
    *s = only_value(v);
    return json_is_string(*s) ? CRUMB_OK : CRUMB_EMALFORMED;
}

int
crumb_tag_bytes_get(const json_t *v, unsigned char **out, size_t *len)
{
    const json_t *s;
    int rc = tagged_string(v, CRUMB_TAG_BYTES, &s);
    if (rc != CRUMB_OK)
        return rc;
    size_t n = json_string_length(s);
    unsigned char *buf = malloc(CRUMB_B64_DECODED_MAX(n) + 1);
    if (!buf)
        return CRUMB_ENOMEM;
    long d = crumb_b64_decode(json_string_value(s), n, buf);
    if (d < 0) {
        free(buf);
        return CRUMB_EMALFORMED;
    }
    if (out)
        *out = buf;
    else
        free(buf);
    if (len)
        *len = (size_t)d;
    return CRUMB_OK;
}

int
crumb_tag_markup_get(const json_t *v, const char **html)
{
    const json_t *s;
    int rc = tagged_string(v, CRUMB_TAG_MARKUP, &s);
    if (rc == CRUMB_OK && html)
        *html = json_string_value(s);
    return rc;
}

int
crumb_tag_uuid_get(const json_t *v, unsigned char uuid[16])
{
    const json_t *s;
    unsigned char tmp[16];
    int rc = tagged_string(v, CRUMB_TAG_UUID, &s);
    if (rc != CRUMB_OK)
        return rc;
    rc = uuid_parse(json_string_value(s), json_string_length(s), tmp);
    if (rc == CRUMB_OK && uuid)
        memcpy(uuid, tmp, 16);
    return rc;
}

int
crumb_tag_datetime_get(const json_t *v, int64_t *unix_seconds)
{
    const json_t *s;
    int rc = tagged_string(v, CRUMB_TAG_DATETIME, &s);
    if (rc != CRUMB_OK)
        return rc;
    return crumb_http_date_parse(json_string_value(s), json_string_length(s),
                                 unix_seconds);
}

int
crumb_tag_tuple_items(const json_t *v, const json_t **array)
{
    if (crumb_tag_of(v) != CRUMB_TAG_TUPLE)
        return CRUMB_ETYPE;
    const json_t *a = only_value(v);
    if (!json_is_array(a))
        return CRUMB_EMALFORMED;
    if (array)
        *array = a;
    return CRUMB_OK;
}

json_t *
crumb_tag_wrap_dict(json_t *plain)
{
    if (!plain)
        return NULL;
    if (crumb_tag_of(plain) == CRUMB_TAG_NONE)
        return json_incref(plain);
    void *it = json_object_iter(plain);
    const char *k = json_object_iter_key(it);
    size_t kl = strlen(k);
    char key[8];
    if (kl + 3 > sizeof key)
        return NULL;
    memcpy(key, k, kl);
    memcpy(key + kl, "__", 3);
    json_t *inner = json_object();
    if (!inner ||
        json_object_set(inner, key, json_object_iter_value(it)) != 0) {
        json_decref(inner);
        return NULL;
    }
    return tag_new(CRUMB_TAG_DICT, inner);
}
