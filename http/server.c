/* server.c - the libmicrohttpd daemon: reading requests, sending answers. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <microhttpd.h>

#include <crumb/error.h>

#include "http_int.h"

#define DEFAULT_CSP                                                          \
    "default-src 'self'; script-src 'self'; style-src 'self'; "             \
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; "            \
    "form-action 'self'; frame-ancestors 'none'"

/* Bodies declared larger than this are refused before being read; those
 * between max_body and this are drained so the client sees the 413. */
#define DRAIN_MAX (16 * 1024 * 1024)
#define HEADER_VALUE_MAX 8192
/* libmicrohttpd's per-connection memory pool, zeroed again after every
 * request: at 64 KiB that memset was 8 % of a /visits request's CPU.
 * 32 KiB holds a request line and headers up to about 16 KiB (longer is
 * a 414 or 431 from libmicrohttpd) and CRUMB__FORM_FIELDS_MAX query
 * arguments; uri_seen() keeps more arguments than that out of it. */
#define POOL_SIZE (32 * 1024)

void
crumb_http_options_init(crumb_http_options *o)
{
    memset(o, 0, sizeof(*o));
    o->addr = "127.0.0.1:8080";
    o->log = 1;
}

const char *
crumb_http_errmsg(const crumb_http *h)
{
    return h->errmsg;
}

int
crumb_http_new(crumb_http **out, const crumb_http_options *opts)
{
    *out = NULL;
    crumb_http *h = calloc(1, sizeof(*h));
    if (!h)
        return CRUMB_ENOMEM;
    if (opts)
        h->opt = *opts;
    else
        crumb_http_options_init(&h->opt);
    if (!h->opt.max_body)
        h->opt.max_body = 1024 * 1024;
    if (!h->opt.max_cookie)
        h->opt.max_cookie = 8192;
    if (!h->opt.max_connections)
        h->opt.max_connections = 1024;
    if (!h->opt.timeout)
        h->opt.timeout = 30;
    if (!h->opt.threads) {
        /* Handlers block on the session store (a Redis round trip, a
         * SQLite lock): with one thread per CPU, two slow requests would
         * queue every other one behind them. Four per CPU, at least 8. */
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        n = n > 0 && n < 16 ? 4 * n : 8;
        h->opt.threads = n < 8 ? 8 : (unsigned)n;
    }
    h->addr = strdup(h->opt.addr ? h->opt.addr : "127.0.0.1:8080");
    h->csp = strdup(h->opt.csp ? h->opt.csp : DEFAULT_CSP);
    h->router = crumb__router_new();
    h->opt.addr = h->addr;
    h->opt.csp = h->csp;
    if (!h->addr || !h->csp || !h->router) {
        crumb_http_free(h);
        return CRUMB_ENOMEM;
    }
    if (h->opt.template_dir) {
        int rc = crumb_tpl_set_load(&h->tpl, h->opt.template_dir, h->errmsg,
                                    sizeof(h->errmsg));
        if (rc != CRUMB_OK) {
            *out = h; /* so the caller can read crumb_http_errmsg() */
            return rc;
        }
        h->opt.template_dir = NULL;
    }
    *out = h;
    return CRUMB_OK;
}

void
crumb_http_free(crumb_http *h)
{
    if (!h)
        return;
    crumb_http_stop(h);
    crumb__router_free(h->router);
    crumb_tpl_set_free(h->tpl);
    crumb__static_free(h->statics);
    free(h->addr);
    free(h->csp);
    crumb__auth_free(h->auth);
    free(h);
}

int
crumb_http_route(crumb_http *h, const char *method, const char *pattern,
                 crumb_http_handler fn, void *ctx, unsigned flags)
{
    int rc = crumb__router_add(h->router, method, pattern, fn, ctx, flags);
    if (rc != CRUMB_OK)
        snprintf(h->errmsg, sizeof(h->errmsg), "route %s %s: %s", method,
                 pattern, crumb_strerror(rc));
    return rc;
}

int
crumb_http_static(crumb_http *h, const char *url_path, const char *path,
                  const char *content_type)
{
    int rc = crumb__static_add(&h->statics, url_path, path, content_type);
    if (rc != CRUMB_OK)
        snprintf(h->errmsg, sizeof(h->errmsg), "%s: cannot read", path);
    return rc;
}

void
crumb__req_free(crumb_http_req *req)
{
    if (!req)
        return;
    free(req->uri);
    free(req->path);
    crumb__kv_cleanup(&req->query);
    crumb__kv_cleanup(&req->form);
    crumb__kv_cleanup(&req->match.params);
    crumb__kv_cleanup(&req->headers);
    free(req->body);
    crumb_session_free(req->session);
    free(req->ctype);
    free(req->resp);
    free(req);
}

/* The peer's address, formatted once per request from MHD's connection
 * info; "" when MHD has none (a test request without a socket). */
const char *
crumb_http_client_addr(crumb_http_req *req)
{
    if (req->addr[0] || !req->conn)
        return req->addr;
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
        req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    if (sa && sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, req->addr, sizeof(req->addr));
    } else if (sa && sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, req->addr, sizeof(req->addr));
    }
    if (req->h->auth)
        crumb__proxy_resolve(req);
    return req->addr;
}

/* MHD unescapes the path and query arguments with this; we keep them
 * raw and decode them ourselves, strictly (crumb__pct_decode()). */
static size_t
no_unescape(void *cls, struct MHD_Connection *conn, char *s)
{
    return strlen(s);
}

static crumb_http_req *
req_new(crumb_http *h, struct MHD_Connection *conn, const char *url)
{
    crumb_http_req *req = calloc(1, sizeof(*req));
    if (!req)
        return NULL;
    clock_gettime(CLOCK_MONOTONIC, &req->start);
    req->h = h;
    req->conn = conn;
    req->uri = strdup(url ? url : "");
    return req;
}

/* What uri_seen() hands on_request() for a query it cut off. */
static char query_cut;

/*
 * libmicrohttpd 0.9.75 calls this with the raw request target as soon as
 * the request line is in, then stores each query argument as a record in
 * the connection's pool. A query with a few hundred arguments fills the
 * pool, and the connection then hangs until its timeout instead of being
 * answered. So the arguments are counted here first: past
 * CRUMB__FORM_FIELDS_MAX, the query is cut off in libmicrohttpd's buffer
 * (it is about to cut it at the '?' itself; the buffer is its read
 * buffer, writable) and the returned marker, which becomes the request's
 * context, makes request_begin() answer 414. Nothing is allocated here:
 * libmicrohttpd does not report every request it refuses itself (a 431)
 * to on_completed().
 */
static void *
uri_seen(void *cls, const char *uri, struct MHD_Connection *conn)
{
    const char *q = uri ? strchr(uri, '?') : NULL;
    if (!q)
        return NULL;
    size_t fields = 0; /* non-empty '&'-separated pieces */
    for (const char *p = q + 1; *p; p++)
        fields += *p != '&' && (p == q + 1 || p[-1] == '&');
    if (fields <= CRUMB__FORM_FIELDS_MAX)
        return NULL;
    ((char *)q)[1] = '\0';
    return &query_cut;
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
    if (*con_cls != &query_cut)
        crumb__req_free(*con_cls);
    *con_cls = NULL;
}

static size_t
put_str(char *out, size_t o, size_t size, const char *s)
{
    while (*s && o + 1 < size)
        out[o++] = *s++;
    return o;
}

static size_t
put_uint(char *out, size_t o, size_t size, unsigned long long v, int width)
{
    char d[24];
    int n = 0;
    do {
        d[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v && n < (int)sizeof(d));
    while (n < width && n < (int)sizeof(d))
        d[n++] = '0';
    while (n && o + 1 < size)
        out[o++] = d[--n];
    return o;
}

/*
 * One line per request: "crumb-http: METHOD PATH STATUS 1.234ms [note]".
 * The logged path is the raw path (MHD cut the query off), printable
 * ASCII only, so no query (tokens), cookie or control character ever
 * reaches the log. Formatted by hand: snprintf() was most of the line's
 * cost, paid on every request.
 */
static void
log_request(crumb_http_req *req)
{
    static const char hex[] = "0123456789abcdef";
    char line[320];
    size_t o = put_str(line, 0, sizeof(line), "crumb-http: ");
    o = put_str(line, o, sizeof(line), req->method);
    line[o++] = ' ';
    const char *u = req->uri ? req->uri : "";
    size_t path_end = o + 127;
    for (; *u && *u != '?' && o + 5 < path_end; u++) {
        unsigned char c = (unsigned char)*u;
        if (c >= 0x21 && c < 0x7f && c != '\\') {
            line[o++] = (char)c;
        } else {
            line[o++] = '\\';
            line[o++] = 'x';
            line[o++] = hex[c >> 4];
            line[o++] = hex[c & 15];
        }
    }
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long us = (long long)(now.tv_sec - req->start.tv_sec) * 1000000 +
                   (now.tv_nsec - req->start.tv_nsec) / 1000;
    if (us < 0)
        us = 0;
    line[o++] = ' ';
    o = put_uint(line, o, sizeof(line), (unsigned)req->status, 0);
    line[o++] = ' ';
    o = put_uint(line, o, sizeof(line), (unsigned long long)us / 1000, 0);
    line[o++] = '.';
    o = put_uint(line, o, sizeof(line), (unsigned long long)us % 1000, 3);
    o = put_str(line, o, sizeof(line), "ms");
    if (req->log_note) {
        o = put_str(line, o, sizeof(line), " [");
        o = put_str(line, o, sizeof(line) - 2, req->log_note);
        o = put_str(line, o, sizeof(line), "]");
    }
    if (o >= sizeof(line) - 1)
        o = sizeof(line) - 2;
    line[o++] = '\n';
    if (req->h->log)
        crumb__log_write(req->h->log, line, o);
}

static enum MHD_Result
send_response(struct MHD_Connection *conn, crumb_http_req *req)
{
    struct MHD_Response *r;
    if (req->resp_len) {
        r = MHD_create_response_from_buffer(req->resp_len, req->resp,
                                            MHD_RESPMEM_MUST_FREE);
        if (r)
            req->resp = NULL;
    } else {
        r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    }
    if (!r)
        return MHD_NO;
    if (req->ctype)
        MHD_add_response_header(r, "Content-Type", req->ctype);
    for (size_t i = 0; i < req->headers.n; i++)
        MHD_add_response_header(r, req->headers.items[i].name,
                                req->headers.items[i].value);
    if (req->std_headers & CRUMB__H_VARY_COOKIE)
        MHD_add_response_header(r, "Vary", "Cookie");
    if (req->std_headers & CRUMB__H_NO_STORE)
        MHD_add_response_header(r, "Cache-Control", "no-store");
    if (req->std_headers & CRUMB__H_SECURITY) {
        MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
        MHD_add_response_header(r, "Content-Security-Policy", req->h->csp);
        MHD_add_response_header(r, "X-Frame-Options", "DENY");
        MHD_add_response_header(r, "Referrer-Policy", "same-origin");
    }
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)req->status, r);
    MHD_destroy_response(r);
    req->queued = 1;
    if (req->h->opt.log)
        log_request(req);
    return ret;
}

static void
fail(crumb_http_req *req, int status, const char *message)
{
    if (req->status)
        return;
    crumb_http_error(req, status, message);
    req->std_headers |= CRUMB__H_SECURITY;
}

/* libmicrohttpd's own messages (a connection it dropped) go to our log,
 * one line each, never to the terminal directly. */
static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
    crumb_http *h = cls;
    char msg[400];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)msg[i] < 0x20)
            msg[i] = ' ';
    crumb__logf(h, "crumb-http: libmicrohttpd: %s", msg);
}

/* Header fields hold no control character but HTAB (RFC 9110 5.5) and
 * are at most HEADER_VALUE_MAX bytes (the Cookie header has its own,
 * configurable bound). Sets *cls to 400 or 431. */
static enum MHD_Result
header_check(void *cls, enum MHD_ValueKind kind, const char *key,
             size_t key_size, const char *value, size_t value_size)
{
    int *bad = cls;
    if (strlen(key) != key_size || (value && strlen(value) != value_size)) {
        *bad = 400;
        return MHD_NO;
    }
    if (value_size > HEADER_VALUE_MAX && strcasecmp(key, "Cookie") != 0) {
        *bad = 431;
        return MHD_NO;
    }
    for (size_t i = 0; value && i < value_size; i++) {
        unsigned char c = (unsigned char)value[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            *bad = 400;
            return MHD_NO;
        }
    }
    return MHD_YES;
}

struct query_ctx {
    crumb_http_req *req;
    int *rc;
};

/* MHD split the query at '&' and '=' and left both sides raw. */
static enum MHD_Result
query_arg(void *cls, enum MHD_ValueKind kind, const char *key,
          size_t key_size, const char *value, size_t value_size)
{
    struct query_ctx *q = cls;
    int rc = crumb__form_field_add(&q->req->query, key, key_size,
                                   value ? value : "", value ? value_size : 0);
    if (rc != CRUMB_OK) {
        *q->rc = rc;
        return MHD_NO;
    }
    return MHD_YES;
}

/* The first call: the request line and headers are in. Refuse what we
 * can refuse now; decode the target. */
static void
request_begin(crumb_http_req *req, const char *method)
{
    crumb_http *h = req->h;
    snprintf(req->method, sizeof(req->method), "%s", method);
    if (strlen(method) >= sizeof(req->method) || !req->uri) {
        fail(req, 400, "The request is malformed.");
        return;
    }
    if (req->query_too_long) {
        fail(req, 414, "The query string has too many fields.");
        return;
    }
    size_t plen = strlen(req->uri);
    req->path = malloc(plen + 1);
    if (!req->path) {
        fail(req, 500, "Out of memory.");
        return;
    }
    if (crumb__pct_decode(req->uri, plen, 0, req->path, NULL) != CRUMB_OK ||
        req->path[0] != '/') {
        fail(req, 400, "The address is malformed (bad %-encoding or "
                       "UTF-8).");
        return;
    }
    int qrc = CRUMB_OK;
    MHD_get_connection_values_n(req->conn, MHD_GET_ARGUMENT_KIND, query_arg,
                                &(struct query_ctx){req, &qrc});
    if (qrc != CRUMB_OK) {
        fail(req, qrc == CRUMB_ENOMEM ? 500 : 400,
             "The query string is malformed (bad %-encoding or UTF-8, or "
             "too many fields).");
        return;
    }
    int bad = 0;
    MHD_get_connection_values_n(req->conn, MHD_HEADER_KIND, header_check,
                                &bad);
    if (bad) {
        fail(req, bad, bad == 431 ? "A request header is too large."
                                  : "A request header holds a control "
                                    "character.");
        return;
    }
    const char *ck = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
                                                 "Cookie");
    if (ck && strlen(ck) > h->opt.max_cookie) {
        fail(req, 431, "The Cookie header is too large.");
        return;
    }
    const char *cl = MHD_lookup_connection_value(
        req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl && strtoull(cl, NULL, 10) > h->opt.max_body)
        req->too_large = 1;
}

static void
body_append(crumb_http_req *req, const char *data, size_t size)
{
    if (req->too_large || req->status)
        return;
    if (req->body_len + size > req->h->opt.max_body) {
        req->too_large = 1;
        free(req->body);
        req->body = NULL;
        req->body_len = req->body_cap = 0;
        return;
    }
    if (req->body_len + size + 1 > req->body_cap) {
        size_t cap = req->body_cap ? req->body_cap : 4096;
        while (cap < req->body_len + size + 1)
            cap *= 2;
        char *b = realloc(req->body, cap);
        if (!b) {
            fail(req, 500, "Out of memory.");
            return;
        }
        req->body = b;
        req->body_cap = cap;
    }
    memcpy(req->body + req->body_len, data, size);
    req->body_len += size;
    req->body[req->body_len] = '\0';
}

static void
request_finish(crumb_http_req *req)
{
    if (req->status)
        return;
    if (req->too_large) {
        crumb_http_header_add(req, "Connection", "close");
        fail(req, 413, "The request body is larger than 1 MiB.");
        return;
    }
    if (req->body_len) {
        const char *ct = crumb_http_header(req, "Content-Type");
        static const char form_ct[] = "application/x-www-form-urlencoded";
        if (!ct || strncasecmp(ct, form_ct, sizeof(form_ct) - 1) != 0 ||
            (ct[sizeof(form_ct) - 1] && ct[sizeof(form_ct) - 1] != ';')) {
            fail(req, 415, "Forms must be sent as "
                           "application/x-www-form-urlencoded.");
            return;
        }
        int rc = crumb__form_parse(req->body, req->body_len, &req->form);
        if (rc != CRUMB_OK) {
            fail(req, rc == CRUMB_ENOMEM ? 500 : 400,
                 "The form is malformed (bad %-encoding or UTF-8, or too "
                 "many fields).");
            return;
        }
    }
    crumb__req_dispatch(req);
}

/*
 * MHD calls this once when the headers are in, once per chunk of body,
 * and once more with *upload_data_size == 0 when the body is complete.
 * We answer on that last call even for a GET: answering on the first
 * call makes MHD close the connection rather than keep it alive, which
 * costs more than the extra call. A body declared far too large is the
 * exception: refused at once, without reading it.
 */
static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
           const char *method, const char *version, const char *upload_data,
           size_t *upload_data_size, void **con_cls)
{
    crumb_http_req *req = *con_cls;
    if (!req || *con_cls == &query_cut) {
        int cut = *con_cls == &query_cut;
        *con_cls = NULL;
        req = *con_cls = req_new(cls, conn, url);
        if (!req)
            return MHD_NO;
        req->query_too_long = cut;
    }
    if (req->queued)
        return MHD_YES;
    if (!req->method[0]) {
        request_begin(req, method);
        const char *cl = MHD_lookup_connection_value(
            conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        const char *te = MHD_lookup_connection_value(
            conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
        if (te && strcasecmp(te, "chunked") != 0) {
            /* RFC 9112 6.3: the body's length is unknown; refuse it */
            crumb_http_header_add(req, "Connection", "close");
            fail(req, 400, "Only the chunked transfer coding is accepted.");
            return send_response(conn, req);
        }
        if (req->too_large && cl && strtoull(cl, NULL, 10) > DRAIN_MAX) {
            fail(req, 413, "The request body is larger than 1 MiB.");
            return send_response(conn, req);
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        body_append(req, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    request_finish(req);
    return send_response(conn, req);
}

/* "HOST:PORT" or "[V6]:PORT" into a socket address. */
static int
parse_addr(const char *addr, struct sockaddr_storage *ss, int *v6)
{
    char host[64];
    const char *colon;
    memset(ss, 0, sizeof(*ss));
    if (addr[0] == '[') {
        const char *rb = strchr(addr, ']');
        if (!rb || rb[1] != ':' || (size_t)(rb - addr - 1) >= sizeof(host))
            return CRUMB_EINVAL;
        snprintf(host, sizeof(host), "%.*s", (int)(rb - addr - 1), addr + 1);
        colon = rb + 1;
    } else {
        colon = strrchr(addr, ':');
        if (!colon || (size_t)(colon - addr) >= sizeof(host))
            return CRUMB_EINVAL;
        snprintf(host, sizeof(host), "%.*s", (int)(colon - addr), addr);
    }
    char *end;
    unsigned long port = strtoul(colon + 1, &end, 10);
    if (!colon[1] || *end || port > 65535)
        return CRUMB_EINVAL;
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        *v6 = 0;
    } else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        *v6 = 1;
    } else {
        return CRUMB_EINVAL;
    }
    return CRUMB_OK;
}

int
crumb_http_start(crumb_http *h)
{
    struct sockaddr_storage ss;
    int v6 = 0;
    if (h->daemon)
        return CRUMB_OK;
    if (parse_addr(h->addr, &ss, &v6) != CRUMB_OK) {
        snprintf(h->errmsg, sizeof(h->errmsg),
                 "bad listen address \"%s\" (want HOST:PORT)", h->addr);
        return CRUMB_EINVAL;
    }
    /* The pool's threads inherit this thread's signal mask: start them
     * with every signal blocked, so signals reach the application's
     * threads only, then give the caller its mask back. */
    sigset_t all, saved;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &saved);
    if (h->opt.log && !h->log && crumb__log_open(&h->log, 2) != CRUMB_OK) {
        pthread_sigmask(SIG_SETMASK, &saved, NULL);
        snprintf(h->errmsg, sizeof(h->errmsg), "cannot start the logger");
        return CRUMB_ENOMEM;
    }
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG |
                     MHD_USE_TURBO |
                     (v6 ? MHD_USE_IPv6 : 0);
    h->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, h,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h, MHD_OPTION_SOCK_ADDR, &ss,
        MHD_OPTION_THREAD_POOL_SIZE, h->opt.threads > 1 ? h->opt.threads : 0,
        MHD_OPTION_CONNECTION_LIMIT, h->opt.max_connections,
        MHD_OPTION_CONNECTION_TIMEOUT, h->opt.timeout,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)POOL_SIZE,
        MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, h,
        MHD_OPTION_URI_LOG_CALLBACK, uri_seen, h,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
        MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
        MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1, MHD_OPTION_END);
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
    if (!h->daemon) {
        snprintf(h->errmsg, sizeof(h->errmsg),
                 "cannot listen on %s (address in use or not local?)",
                 h->addr);
        return CRUMB_EIO;
    }
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
    h->port = info ? info->port : 0;
    return CRUMB_OK;
}

uint16_t
crumb_http_port(const crumb_http *h)
{
    return h->daemon ? h->port : 0;
}

void
crumb_http_stop(crumb_http *h)
{
    if (h && h->daemon) {
        MHD_stop_daemon(h->daemon);
        h->daemon = NULL;
    }
    if (h) {
        crumb__log_close(h->log);
        h->log = NULL;
    }
}

/*
 * The pool's threads never take signals (see crumb_http_start()); here
 * the caller blocks SIGINT and SIGTERM too and waits for them with
 * sigwait(), so no handler runs in the middle of a request.
 */
int
crumb_http_run(crumb_http *h)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    int rc = crumb_http_start(h);
    if (rc != CRUMB_OK)
        return rc;
    int sig = 0;
    sigwait(&set, &sig);
    crumb__logf(h, "crumb-http: %s, shutting down",
                sig == SIGINT ? "SIGINT" : "SIGTERM");
    crumb_http_stop(h);
    return CRUMB_OK;
}
