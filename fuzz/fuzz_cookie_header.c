/* fuzz_cookie_header.c - libFuzzer target for Cookie parsing and Set-Cookie
 * formatting: checks invariants and aborts when one breaks. */
#include <crumb/cookie.h>
#include <crumb/error.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"

static int
is_ctl(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

static int
in_input(const char *p, size_t n, const char *h, size_t size)
{
    return p >= h && (size_t)(p - h) <= size && n <= size - (size_t)(p - h);
}

/* A pair's invariants: inside the input, a clean non-empty name. */
static void
check_pair(const crumb_cookie_pair *p, const char *h, size_t size)
{
    FUZZ_CHECK(in_input(p->name, p->name_len, h, size));
    FUZZ_CHECK(in_input(p->value, p->value_len, h, size));
    FUZZ_CHECK(p->name_len > 0);
    for (size_t i = 0; i < p->name_len; i++) {
        unsigned char c = (unsigned char)p->name[i];
        FUZZ_CHECK(!is_ctl(c) && strchr("()<>@,;:\\\"/[]?={} \t", c) == NULL);
    }
    for (size_t i = 0; i < p->value_len; i++) {
        unsigned char c = (unsigned char)p->value[i];
        FUZZ_CHECK(!is_ctl(c) && c != ';');
    }
}

/* crumb_cookie_get(name) agrees with the first pair of that name. */
static void
check_get(const char *h, size_t size, const crumb_cookie_pair *pairs, int n,
          const char *name)
{
    const char *v = NULL;
    size_t vlen = 0;
    int rc = crumb_cookie_get(h, size, name, &v, &vlen);
    size_t name_len = strlen(name);
    for (int i = 0; i < n; i++) {
        if (pairs[i].name_len == name_len &&
            memcmp(pairs[i].name, name, name_len) == 0) {
            FUZZ_CHECK(rc == CRUMB_OK);
            FUZZ_CHECK(v == pairs[i].value && vlen == pairs[i].value_len);
            return;
        }
    }
    FUZZ_CHECK(rc == CRUMB_ENOTFOUND);
}

static void
fuzz_parse(const char *h, size_t size)
{
    static crumb_cookie_pair all[CRUMB_COOKIE_PAIRS_MAX];
    crumb_cookie_pair few[3];

    int n = crumb_cookie_parse(h, size, all, CRUMB_COOKIE_PAIRS_MAX);
    int m = crumb_cookie_parse(h, size, few, 3);
    int z = crumb_cookie_parse(h, size, NULL, 0);
    FUZZ_CHECK(n == m && m == z);
    if (size > CRUMB_COOKIE_HEADER_MAX) {
        FUZZ_CHECK(n == CRUMB_ETOOBIG);
        FUZZ_CHECK(crumb_cookie_get(h, size, "a", NULL, NULL) == CRUMB_ETOOBIG);
        return;
    }
    FUZZ_CHECK(n >= 0 && n <= CRUMB_COOKIE_PAIRS_MAX);
    for (int i = 0; i < n; i++) {
        check_pair(&all[i], h, size);
        if (i < 3)
            FUZZ_CHECK(memcmp(&all[i], &few[i], sizeof few[i]) == 0);
    }

    check_get(h, size, all, n, "session");
    check_get(h, size, all, n, "a");
    check_get(h, size, all, n, "");
    for (int i = 0; i < n && i < 4; i++) {
        char *name = malloc(all[i].name_len + 1);
        if (name == NULL)
            return;
        memcpy(name, all[i].name, all[i].name_len);
        name[all[i].name_len] = '\0';
        check_get(h, size, all, n, name);
        free(name);
    }
}

static uint64_t
le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* Does @s begin with @prefix, ASCII case ignored? */
static int
has_prefix_nocase(const char *s, const char *prefix)
{
    for (; *prefix; s++, prefix++) {
        char a = *s, b = *prefix;
        if (a >= 'A' && a <= 'Z')
            a = (char)(a - 'A' + 'a');
        if (b >= 'A' && b <= 'Z')
            b = (char)(b - 'A' + 'a');
        if (a != b)
            return 0;
    }
    return 1;
}

/*
 * The output of a successful format: "name=value" then only known
 * attributes, each once, in werkzeug's order, nothing injected.
 */
static void
check_setcookie(const crumb_setcookie *c, const char *out, size_t len)
{
    static const char *const attrs[] = {
        "Domain=",  "Expires=", "Max-Age=",  "Secure",
        "HttpOnly", "Path=",    "SameSite=", "Partitioned"};
    const char *value = c->value ? c->value : "";
    size_t name_len = strlen(c->name), value_len = strlen(value);

    FUZZ_CHECK(strlen(out) == len);
    for (size_t i = 0; i < len; i++)
        FUZZ_CHECK(!is_ctl((unsigned char)out[i]));
    FUZZ_CHECK(memchr(value, ';', value_len) == NULL);
    FUZZ_CHECK(len >= name_len + 1 + value_len);
    FUZZ_CHECK(memcmp(out, c->name, name_len) == 0);
    FUZZ_CHECK(out[name_len] == '=');
    FUZZ_CHECK(memcmp(out + name_len + 1, value, value_len) == 0);

    const char *p = out + name_len + 1 + value_len;
    size_t next = 0;
    int secure = 0, path = 0, domain = 0, root = 0;
    while (*p != '\0') {
        FUZZ_CHECK(p[0] == ';' && p[1] == ' ');
        p += 2;
        const char *end = strchr(p, ';');
        size_t seg = end ? (size_t)(end - p) : strlen(p);
        size_t k = next;
        while (k < sizeof attrs / sizeof attrs[0] &&
               strncmp(p, attrs[k], strlen(attrs[k])) != 0)
            k++;
        FUZZ_CHECK(k < sizeof attrs / sizeof attrs[0]);
        if (attrs[k][strlen(attrs[k]) - 1] != '=')
            FUZZ_CHECK(seg == strlen(attrs[k]));
        if (k == 1)
            FUZZ_CHECK(seg == 8 + 29 && memcmp(p + seg - 4, " GMT", 4) == 0);
        domain |= k == 0;
        secure |= k == 3;
        path |= k == 5;
        root |= k == 5 && seg == 6 && p[5] == '/';
        next = k + 1;
        p += seg;
    }
    FUZZ_CHECK(path);
    FUZZ_CHECK(secure == (c->secure != 0));
    if (has_prefix_nocase(c->name, "__Secure-") ||
        has_prefix_nocase(c->name, "__Host-"))
        FUZZ_CHECK(secure);
    if (has_prefix_nocase(c->name, "__Host-"))
        FUZZ_CHECK(!domain && root);

    /* the pair reads back through the parser */
    const char *v;
    size_t vlen;
    int rc = crumb_cookie_get(out, len, c->name, &v, &vlen);
    if (len > CRUMB_COOKIE_HEADER_MAX)
        FUZZ_CHECK(rc == CRUMB_ETOOBIG);
    else
        FUZZ_CHECK(rc == CRUMB_OK && v == out + name_len + 1 &&
                   vlen == value_len);
}

/*
 * Input as a Set-Cookie: one flag byte, 8 bytes of expires, 8 of max_age
 * (little-endian), then name, value, domain, path separated by NULs.
 */
static void
fuzz_format(const uint8_t *data, size_t size)
{
    if (size < 17)
        return;
    char *buf = malloc(size - 17 + 1);
    if (buf == NULL)
        return;
    memcpy(buf, data + 17, size - 17);
    buf[size - 17] = '\0';

    const char *field[4] = {NULL, NULL, NULL, NULL};
    char *p = buf, *end = buf + (size - 17);
    for (int i = 0; i < 4 && p <= end; i++) {
        field[i] = p;
        p += strlen(p) + 1;
    }

    uint8_t flags = data[0];
    crumb_setcookie c;
    memset(&c, 0, sizeof c);
    c.name = field[0];
    c.value = field[1];
    c.domain = field[2];
    c.path = field[3];
    c.has_expires = flags & 1;
    c.expires = (int64_t)le64(data + 1);
    if (flags & 0x80) /* mostly in range, so dates get formatted */
        c.expires %= 253402300800LL;
    c.has_max_age = (flags >> 1) & 1;
    c.max_age = (int64_t)le64(data + 9);
    c.secure = (flags >> 2) & 1;
    c.httponly = (flags >> 3) & 1;
    c.partitioned = (flags >> 4) & 1;
    c.samesite = (crumb_samesite)((flags >> 5) & 3);

    char *out = (char *)buf; /* must be reset */
    size_t len = 1;
    int rc = crumb_setcookie_format(&c, &out, &len);
    if (rc == CRUMB_OK) {
        FUZZ_CHECK(out != NULL && c.name != NULL);
        check_setcookie(&c, out, len);
        free(out);
    } else {
        FUZZ_CHECK(rc == CRUMB_EINVAL);
        FUZZ_CHECK(out == NULL && len == 0);
    }
    free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_parse((const char *)data, size);
    fuzz_format(data, size);
    return 0;
}
