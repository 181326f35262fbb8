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
    crumb__kv_cleanup(&req->query); /* uri and path are in req's block */
    crumb__kv_cleanup(&req->form);
    crumb__kv_cleanup(&req->match.params);
    crumb__kv_cleanup(&req->headers);
    free(req->body);
    crumb_session_free(req->session);
    if (req->ctype != req->ctype_buf)
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
        /* by hand: inet_ntop() formats each byte with sprintf() */
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        const unsigned char *b = (const unsigned char *)&in->sin_addr;
        char *o = req->addr;
        for (int i = 0; i < 4; i++) {
            unsigned v = b[i];
            if (v >= 100)
                *o++ = (char)('0' + v / 100);
            if (v >= 10)
                *o++ = (char)('0' + v / 10 % 10);
            *o++ = (char)('0' + v % 10);
            *o++ = i < 3 ? '.' : '\0';
        }
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

/* One allocation per request: the raw target and the decoded path
 * (never longer than the target) follow the struct. */
static crumb_http_req *
req_new(crumb_http *h, struct MHD_Connection *conn, const char *url)
{
    size_t ulen = url ? strlen(url) : 0;
    crumb_http_req *req = calloc(1, sizeof(*req) + 2 * (ulen + 1));
    if (!req)
        return NULL;
    clock_gettime(CLOCK_MONOTONIC, &req->start);
    req->h = h;
    req->conn = conn;
    req->uri = (char *)(req + 1);
    req->uri_len = ulen;
    memcpy(req->uri, url ? url : "", ulen + 1);
    req->path = req->uri + ulen + 1;
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

/* A field name equal to @lit (a literal), ignoring case. */
#define FIELD_IS(key, key_size, lit)                                        \
    ((key_size) == sizeof(lit) - 1 && strcasecmp((key), (lit)) == 0)

/*
 * One walk over the request's fields, headers and query arguments
 * together (MHD keeps them in one list, so two walks cost twice).
 * Query arguments are decoded into req->query. Header fields hold no
 * control character but HTAB (RFC 9110 5.5) and are at most
 * HEADER_VALUE_MAX bytes (the Cookie header has its own, configurable
 * bound); the first Cookie, User-Agent, Content-Length and
 * Transfer-Encoding are kept, as MHD_lookup_connection_value() would
 * have found them, so that nothing searches the list again. Stops at the
 * first bad field with req->field_error set to an HTTP status.
 */
static enum MHD_Result
field_seen(void *cls, enum MHD_ValueKind kind, const char *key,
           size_t key_size, const char *value, size_t value_size)
{
    crumb_http_req *req = cls;
    if (kind == MHD_GET_ARGUMENT_KIND) {
        int rc = crumb__form_field_add(&req->query, key, key_size,
                                       value ? value : "",
                                       value ? value_size : 0);
        if (rc != CRUMB_OK) {
            req->field_error = rc == CRUMB_ENOMEM ? 500 : 400;
            req->field_error_query = 1;
            return MHD_NO;
        }
        return MHD_YES;
    }
    if (kind != MHD_HEADER_KIND)
        return MHD_YES;
    /* A NUL inside the name or the value: the loop below finds one in
     * the value (it is a control character). */
    if (memchr(key, '\0', key_size) || key[key_size] != '\0') {
        req->field_error = 400;
        return MHD_NO;
    }
    int is_cookie = FIELD_IS(key, key_size, "Cookie");
    if (value_size > HEADER_VALUE_MAX && !is_cookie) {
        req->field_error = 431;
        return MHD_NO;
    }
    for (size_t i = 0; value && i < value_size; i++) {
        unsigned char c = (unsigned char)value[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            req->field_error = 400;
            return MHD_NO;
        }
    }
    if (is_cookie) {
        if (!req->cookie) {
            req->cookie = value;
            req->cookie_len = value_size;
        }
    } else if (FIELD_IS(key, key_size, "User-Agent")) {
        if (!req->user_agent)
            req->user_agent = value;
    } else if (FIELD_IS(key, key_size, MHD_HTTP_HEADER_CONTENT_LENGTH)) {
        if (!req->content_length)
            req->content_length = value;
    } else if (FIELD_IS(key, key_size, MHD_HTTP_HEADER_TRANSFER_ENCODING)) {
        if (!req->transfer_encoding)
            req->transfer_encoding = value;
    }
    return MHD_YES;
}

/* The first call: the request line and headers are in. Refuse what we
 * can refuse now; decode the target. */
static void
request_begin(crumb_http_req *req, const char *method)
{
    crumb_http *h = req->h;
    size_t mlen = strlen(method);
    if (mlen >= sizeof(req->method) || !req->uri) {
        /* still logged: the method cut to fit */
        mlen = mlen < sizeof(req->method) ? mlen : sizeof(req->method) - 1;
        memcpy(req->method, method, mlen);
        req->method[mlen] = '\0';
        fail(req, 400, "The request is malformed.");
        return;
    }
    memcpy(req->method, method, mlen + 1);
    if (req->query_too_long) {
        fail(req, 414, "The query string has too many fields.");
        return;
    }
    if (crumb__pct_decode(req->uri, req->uri_len, 0, req->path, NULL) !=
            CRUMB_OK ||
        req->path[0] != '/') {
        fail(req, 400, "The address is malformed (bad %-encoding or "
                       "UTF-8).");
        return;
    }
    MHD_get_connection_values_n(req->conn,
                                MHD_HEADER_KIND | MHD_GET_ARGUMENT_KIND,
                                field_seen, req);
    if (req->field_error_query) {
        fail(req, req->field_error,
             "The query string is malformed (bad %-encoding or UTF-8, or "
             "too many fields).");
        return;
    }
    if (req->field_error) {
        fail(req, req->field_error,
             req->field_error == 431 ? "A request header is too large."
                                     : "A request header holds a control "
                                       "character.");
        return;
    }
    req->fields_seen = 1;
    if (req->cookie && req->cookie_len > h->opt.max_cookie) {
        fail(req, 431, "The Cookie header is too large.");
        return;
    }
    if (req->content_length &&
        strtoull(req->content_length, NULL, 10) > h->opt.max_body)
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
        if (req->status) {
            /* refused before or while the fields were walked: look up
             * what the walk may not have reached */
            req->transfer_encoding = MHD_lookup_connection_value(
                conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
            req->content_length = MHD_lookup_connection_value(
                conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        }
        const char *te = req->transfer_encoding;
        if (te && strcasecmp(te, "chunked") != 0) {
            /* RFC 9112 6.3: the body's length is unknown; refuse it */
            crumb_http_header_add(req, "Connection", "close");
            fail(req, 400, "Only the chunked transfer coding is accepted.");
            return send_response(conn, req);
        }
        if (req->too_large && req->content_length &&
            strtoull(req->content_length, NULL, 10) > DRAIN_MAX) {
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

