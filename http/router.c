/* router.c - method + path patterns with typed parameters. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <crumb/error.h>

#include "http_int.h"

enum { SEG_LIT, SEG_STR, SEG_INT };

typedef struct seg {
    int kind;
    char *text; /* the literal, or the parameter's name */
    size_t len; /* strlen(text): compared on every request */
} seg;

typedef struct route {
    char method[16];
    seg *segs;
    size_t nseg;
    crumb_http_handler fn;
    void *ctx;
    unsigned flags;
    char *pattern;
} route;

struct crumb__router {
    route *routes;
    size_t n, cap;
};

crumb__router *
crumb__router_new(void)
{
    return calloc(1, sizeof(crumb__router));
}

static void
route_cleanup(route *rt)
{
    for (size_t i = 0; i < rt->nseg; i++)
        free(rt->segs[i].text);
    free(rt->segs);
    free(rt->pattern);
}

void
crumb__router_free(crumb__router *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        route_cleanup(&r->routes[i]);
    free(r->routes);
    free(r);
}

static int
name_ok(const char *s, size_t len)
{
    if (len == 0)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_'))
            return 0;
    }
    return 1;
}

/* Parse one pattern segment: a literal or "<name>", "<string:name>",
 * "<int:name>". */
static int
seg_parse(const char *s, size_t len, seg *out)
{
    if (len >= 2 && s[0] == '<' && s[len - 1] == '>') {
        const char *in = s + 1;
        size_t inlen = len - 2;
        const char *colon = memchr(in, ':', inlen);
        out->kind = SEG_STR;
        if (colon) {
            size_t tlen = (size_t)(colon - in);
            if (tlen == 3 && memcmp(in, "int", 3) == 0)
                out->kind = SEG_INT;
            else if (!(tlen == 6 && memcmp(in, "string", 6) == 0))
                return CRUMB_EINVAL;
            inlen -= tlen + 1;
            in = colon + 1;
        }
        if (!name_ok(in, inlen))
            return CRUMB_EINVAL;
        out->text = strndup(in, inlen);
    } else {
        if (memchr(s, '<', len) || memchr(s, '>', len))
            return CRUMB_EINVAL;
        out->kind = SEG_LIT;
        out->text = strndup(s, len);
    }
    out->len = out->text ? strlen(out->text) : 0;
    return out->text ? CRUMB_OK : CRUMB_ENOMEM;
}

int
crumb__router_add(crumb__router *r, const char *method, const char *pattern,
                  crumb_http_handler fn, void *ctx, unsigned flags)
{
    if (!method || !pattern || pattern[0] != '/' || !fn ||
        strlen(method) >= sizeof(((route *)0)->method) || !*method)
        return CRUMB_EINVAL;
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        route *rs = realloc(r->routes, cap * sizeof(*rs));
        if (!rs)
            return CRUMB_ENOMEM;
        r->routes = rs;
        r->cap = cap;
    }
    route rt;
    memset(&rt, 0, sizeof(rt));
    strcpy(rt.method, method);
    rt.fn = fn;
    rt.ctx = ctx;
    rt.flags = flags;
    if (!(rt.pattern = strdup(pattern)))
        return CRUMB_ENOMEM;
    const char *p = pattern + 1;
    size_t nparams = 0;
    if (*p) {
        for (;;) {
            const char *end = strchr(p, '/');
            size_t len = end ? (size_t)(end - p) : strlen(p);
            seg *segs = realloc(rt.segs, (rt.nseg + 1) * sizeof(*segs));
            if (!segs) {
                route_cleanup(&rt);
                return CRUMB_ENOMEM;
            }
            rt.segs = segs;
            int rc = seg_parse(p, len, &rt.segs[rt.nseg]);
            if (rc != CRUMB_OK) {
                route_cleanup(&rt);
                return rc;
            }
            if (rt.segs[rt.nseg++].kind != SEG_LIT &&
                ++nparams > CRUMB__PARAMS_MAX) {
                route_cleanup(&rt);
                return CRUMB_EINVAL;
            }
            if (!end)
                break;
            p = end + 1;
        }
    }
    r->routes[r->n++] = rt;
    return CRUMB_OK;
}

typedef struct capture {
    const char *name;
    size_t nlen;
    const char *value;
    size_t len;
} capture;

/* Decimal digits whose value fits int64_t (leading zeros allowed): what
 * <int:...> matches, so crumb_http_param_int() never overflows. */
static int
int64_digits(const char *p, size_t len)
{
    static const char max[] = "9223372036854775807";
    for (size_t k = 0; k < len; k++)
        if (p[k] < '0' || p[k] > '9')
            return 0;
    while (len > 1 && *p == '0') {
        p++;
        len--;
    }
    if (len != sizeof(max) - 1)
        return len < sizeof(max) - 1;
    return memcmp(p, max, len) <= 0;
}

/* Match @rt's segments against @path (after its leading '/'); fills
 * @caps and returns the number of captures, or -1 on mismatch. */
static int
route_match_path(const route *rt, const char *path, capture *caps)
{
    const char *p = path;
    int ncap = 0;
    if (rt->nseg == 0)
        return *p == '\0' ? 0 : -1;
    for (size_t i = 0; i < rt->nseg; i++) {
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const seg *sg = &rt->segs[i];
        if (sg->kind == SEG_LIT) {
            if (sg->len != len || memcmp(sg->text, p, len) != 0)
                return -1;
        } else {
            if (len == 0)
                return -1;
            if (sg->kind == SEG_INT && !int64_digits(p, len))
                return -1;
            caps[ncap].name = sg->text;
            caps[ncap].nlen = sg->len;
            caps[ncap].value = p;
            caps[ncap].len = len;
            ncap++;
        }
        if (i + 1 == rt->nseg)
            return end ? -1 : ncap;
        if (!end)
            return -1;
        p = end + 1;
    }
    return -1;
}

static void
allow_add(char *allow, size_t size, const char *method)
{
    /* no duplicates: "GET, POST" */
    size_t mlen = strlen(method);
    const char *a = allow;
    while ((a = strstr(a, method)) != NULL) {
        if ((a == allow || a[-1] == ' ') && (a[mlen] == ',' || !a[mlen]))
            return;
        a += mlen;
    }
    size_t used = strlen(allow);
    snprintf(allow + used, size - used, "%s%s", used ? ", " : "", method);
}

/* 1 when @path (starting with '/') has a "." or ".." segment. */
static int
has_dot_segment(const char *path)
{
    for (const char *p = path; p; p = strchr(p, '/')) {
        p++;
        if (p[0] == '.' && (p[1] == '/' || p[1] == '\0' ||
                            (p[1] == '.' && (p[2] == '/' || p[2] == '\0'))))
            return 1;
    }
    return 0;
}

/*
 * A path with a dot segment ("/files/..", "/a/./b", also when it came
 * %-encoded) matches nothing: browsers resolve those before sending, so
 * only a crafted request has one, and a <name> parameter of ".." handed
 * to a handler that builds a file or store key from it is a traversal.
 */
int
crumb__router_match(const crumb__router *r, const char *method,
                    const char *path, crumb__match *m)
{
    capture caps[CRUMB__PARAMS_MAX];
    int path_seen = 0;
    m->allow[0] = '\0';
    if (!path || path[0] != '/' || has_dot_segment(path))
        return 404;
    int head = strcmp(method, "HEAD") == 0;
    for (size_t i = 0; i < r->n; i++) {
        const route *rt = &r->routes[i];
        int ncap = route_match_path(rt, path + 1, caps);
        if (ncap < 0)
            continue;
        int is_get = strcmp(rt->method, "GET") == 0;
        if (strcmp(rt->method, method) == 0 || (head && is_get)) {
            m->fn = rt->fn;
            m->ctx = rt->ctx;
            m->flags = rt->flags;
            m->pattern = rt->pattern;
            for (int k = 0; k < ncap; k++)
                if (crumb__kv_add(&m->params, caps[k].name,
                                  caps[k].nlen, caps[k].value,
                                  caps[k].len) != CRUMB_OK)
                    return CRUMB_ENOMEM;
            return 200;
        }
        path_seen = 1;
        allow_add(m->allow, sizeof(m->allow), rt->method);
        if (is_get)
            allow_add(m->allow, sizeof(m->allow), "HEAD");
    }
    return path_seen ? 405 : 404;
}
