/* fuzz_http_router.c - libFuzzer target: arbitrary methods and request
 * paths against a fixed route table. Input: the method, a newline, then
 * the raw (still %-encoded) path, decoded as the server does. A match
 * rebuilds the path from its pattern and parameters; <int:...> params
 * are in range; no path with a "." or ".." segment or a NUL matches. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <crumb/error.h>

#include "http_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
require(int cond)
{
    if (!cond)
        __builtin_trap();
}

static void
h_get(crumb_http_req *req, void *ctx)
{
}

static void
h_post(crumb_http_req *req, void *ctx)
{
}

static const struct {
    const char *method, *pattern;
} routes[] = {
    {"GET", "/"},
    {"GET", "/products"},
    {"GET", "/products/<int:id>"},
    {"POST", "/add_to_cart/<int:id>"},
    {"GET", "/user/<name>/posts/<int:n>"},
    {"GET", "/files/<string:name>"},
    {"GET", "/a/<x>/b/<y>/<int:z>/<w>/<int:v>"},
    {"GET", "/logout"},
    {"POST", "/logout"},
    {"DELETE", "/item/<int:id>"},
    {"PUT", "/item/<int:id>"},
    {"GET", "/<page>"},
    {"GET", "/<section>/<page>"},
};

/* 1 when @path has a "." or ".." segment. */
static int
has_dot_segment(const char *path)
{
    for (const char *p = path; p; p = strchr(p, '/')) {
        p++;
        size_t len = strcspn(p, "/");
        if ((len == 1 && p[0] == '.') ||
            (len == 2 && p[0] == '.' && p[1] == '.'))
            return 1;
    }
    return 0;
}

/* The pattern with each parameter replaced by its value, in order, must
 * give back @path; int parameters are digits that strtoll reads whole. */
static void
check_match(const crumb__match *m, const char *method, const char *path)
{
    require(m->pattern != NULL);
    size_t i;
    for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        if (strcmp(routes[i].pattern, m->pattern) == 0 &&
            (strcmp(routes[i].method, method) == 0 ||
             (strcmp(method, "HEAD") == 0 &&
              strcmp(routes[i].method, "GET") == 0)))
            break;
    require(i < sizeof(routes) / sizeof(routes[0]));
    require(m->fn == (strcmp(routes[i].method, "GET") == 0 ? h_get : h_post));
    crumb_http_req req;
    memset(&req, 0, sizeof(req));
    req.match = *m;
    const char *p = m->pattern, *q = path;
    size_t k = 0;
    while (*p) {
        if (*p != '<') {
            require(*q == *p);
            p++, q++;
            continue;
        }
        const char *close = strchr(p, '>');
        require(close != NULL);
        require(k < m->params.n);
        const char *name = m->params.items[k].name;
        const char *value = m->params.items[k].value;
        size_t vlen = strlen(value);
        require(vlen > 0 && !strchr(value, '/'));
        require(strcmp(value, ".") != 0 && strcmp(value, "..") != 0);
        require(strncmp(q, value, vlen) == 0);
        require(crumb_http_param(&req, name) != NULL);
        if (strncmp(p, "<int:", 5) == 0) {
            require(strspn(value, "0123456789") == vlen);
            errno = 0;
            char *end;
            long long x = strtoll(value, &end, 10);
            require(errno == 0 && *end == '\0' && x >= 0);
            /* The first param of that name wins; names are unique per
             * route, so this one. */
            require(crumb_http_param_int(&req, name, -1) == (int64_t)x);
        }
        q += vlen;
        p = close + 1;
        k++;
    }
    require(*q == '\0');
    require(k == m->params.n);
}

static void
route_one(const crumb__router *r, const char *method, const char *path)
{
    crumb__match m;
    memset(&m, 0, sizeof(m));
    int st = crumb__router_match(r, method, path, &m);
    require(st == 200 || st == 404 || st == 405 || st == CRUMB_ENOMEM);
    if (st == 200) {
        require(path[0] == '/');
        require(!has_dot_segment(path));
        check_match(&m, method, path);
    } else {
        require(m.params.n == 0);
    }
    if (st == 405) {
        require(m.allow[0] != '\0');
        require(!has_dot_segment(path));
    }
    crumb__kv_cleanup(&m.params);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static crumb__router *r;
    if (!r) {
        r = crumb__router_new();
        require(r != NULL);
        for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
            require(
                crumb__router_add(r, routes[i].method, routes[i].pattern,
                                  routes[i].method[0] == 'G' ? h_get : h_post,
                                  NULL, 0) == CRUMB_OK);
    }
    const char *nl = memchr(data, '\n', size);
    size_t mlen = nl ? (size_t)(nl - (const char *)data) : 0;
    char method[32];
    if (mlen >= sizeof(method))
        return 0;
    memcpy(method, data, mlen);
    method[mlen] = '\0';
    const char *raw = nl ? nl + 1 : (const char *)data;
    size_t rawlen = size - (size_t)(raw - (const char *)data);

    /* As the server does (request_begin): strict decoding, no '+' rule,
     * then route. A NUL, raw or %00, never gets this far. */
    char *path = malloc(rawlen + 1);
    if (!path)
        return 0;
    if (crumb__pct_decode(raw, rawlen, 0, path, NULL) == CRUMB_OK) {
        require(!memchr(raw, '\0', rawlen));
        route_one(r, method, path);
    }
    /* The router on its own: the raw bytes up to the first NUL. */
    memcpy(path, raw, rawlen);
    path[rawlen] = '\0';
    route_one(r, method, path);
    free(path);
    return 0;
}
