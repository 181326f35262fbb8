/* access.c - libmicrohttpd's access handler: reading a request, answering. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <microhttpd.h>

#include <crumb/error.h>

#include "http_int.h"

/* Bodies declared larger than this are refused before being read; those
 * between max_body and this are drained so the client sees the 413. */
#define DRAIN_MAX (16 * 1024 * 1024)
#define HEADER_VALUE_MAX 8192

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
size_t
crumb__mhd_unescape(void *cls, struct MHD_Connection *conn, char *s)
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

/* What crumb__mhd_uri_seen() hands crumb__mhd_access() for a query it
 * cut off. */
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
 * to crumb__mhd_completed().
 */
void *
crumb__mhd_uri_seen(void *cls, const char *uri,
                    struct MHD_Connection *conn)
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

void
crumb__mhd_completed(void *cls, struct MHD_Connection *conn,
                     void **con_cls, enum MHD_RequestTerminationCode toe)
{
    if (*con_cls != &query_cut)
        crumb__req_free(*con_cls);
    *con_cls = NULL;
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
        crumb__log_request(req);
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
enum MHD_Result
crumb__mhd_access(void *cls, struct MHD_Connection *conn, const char *url,
                  const char *method, const char *version,
                  const char *upload_data, size_t *upload_data_size,
                  void **con_cls)
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

