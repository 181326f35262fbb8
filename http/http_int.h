/* http_int.h - internals shared by the files of the HTTP layer. */
#ifndef CRUMB_HTTP_INT_H
#define CRUMB_HTTP_INT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <crumb/http.h>

#include <microhttpd.h>

/* ---- name/value lists (query, form, route params, headers) ---- */

typedef struct crumb__kv {
    char *name;
    char *value;
} crumb__kv;

typedef struct crumb__kvlist {
    crumb__kv *items;
    size_t n, cap;
} crumb__kvlist;

int crumb__kv_add(crumb__kvlist *l, const char *name, size_t nlen,
                  const char *value, size_t vlen);
const char *crumb__kv_get(const crumb__kvlist *l, const char *name);
void crumb__kv_cleanup(crumb__kvlist *l);

/* ---- request.c: decoding ---- */

#define CRUMB__FORM_FIELDS_MAX 256

/* Percent-decode @len bytes of @s into @out (at least @len + 1 bytes);
 * '+' becomes ' ' when @plus. CRUMB_EMALFORMED for a bad escape, a NUL
 * or invalid UTF-8. Writes *outlen and a terminating NUL. */
int crumb__pct_decode(const char *s, size_t len, int plus, char *out,
                      size_t *outlen);

/* 1 when @len bytes of @s are valid UTF-8 (no overlongs, surrogates). */
int crumb__utf8_valid(const unsigned char *s, size_t len);

/* Decode one raw field (name and value still %-encoded) and append it to
 * @l. CRUMB_OK, CRUMB_EMALFORMED, CRUMB_ETOOBIG (@l already holds
 * CRUMB__FORM_FIELDS_MAX fields), CRUMB_ENOMEM; on error @l is
 * unchanged. Used for query arguments and form bodies alike. */
int crumb__form_field_add(crumb__kvlist *l, const char *name, size_t nlen,
                          const char *value, size_t vlen);

/* Parse "a=1&b=2" into @l. CRUMB_OK, CRUMB_EMALFORMED, CRUMB_ETOOBIG
 * (over CRUMB__FORM_FIELDS_MAX fields), CRUMB_ENOMEM. */
int crumb__form_parse(const char *s, size_t len, crumb__kvlist *l);

/* ---- router.c ---- */

typedef struct crumb__router crumb__router;

#define CRUMB__PARAMS_MAX 8

typedef struct crumb__match {
    crumb_http_handler fn;
    void *ctx;
    unsigned flags;
    const char *pattern;    /* the route's, as registered; the router's */
    crumb__kvlist params;   /* owned; cleanup with crumb__kv_cleanup */
    char allow[96];         /* on 405: the Allow header value */
} crumb__match;

crumb__router *crumb__router_new(void);
void crumb__router_free(crumb__router *r);
int crumb__router_add(crumb__router *r, const char *method,
                      const char *pattern, crumb_http_handler fn, void *ctx,
                      unsigned flags);
/* 200: found (m->fn set, params filled), 404, 405 (m->allow), or a
 * negative CRUMB_ENOMEM. */
int crumb__router_match(const crumb__router *r, const char *method,
                        const char *path, crumb__match *m);

/* ---- static.c ---- */

typedef struct crumb__static crumb__static;

int crumb__static_add(crumb__static **list, const char *url_path,
                      const char *path, const char *content_type);
void crumb__static_free(crumb__static *list);
/* 1 and a response when @path is a registered file, else 0. */
int crumb__static_serve(const crumb__static *list, crumb_http_req *req);

/* ---- log.c ---- */

typedef struct crumb__log crumb__log;

int crumb__log_open(crumb__log **out, int fd);
void crumb__log_write(crumb__log *l, const char *line, size_t n);
/* Writes what is left, stops the writer thread, frees; accepts NULL. */
void crumb__log_close(crumb__log *l);
/* A line (no newline needed) to @h's log when logging is on. */
void crumb__logf(crumb_http *h, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The request's line, "crumb-http: METHOD PATH STATUS 1.234ms [note]". */
void crumb__log_request(crumb_http_req *req);

/* ---- the server and a request ---- */

struct crumb_http {
    crumb_http_options opt;
    char *addr;
    char *csp;
    crumb__router *router;
    crumb_tpl_set *tpl;
    crumb__static *statics;
    struct MHD_Daemon *daemon;
    crumb__log *log;
    uint16_t port;
    char errmsg[256];
    struct crumb__auth *auth; /* guard.c: logins, proxies; may be NULL */
};

struct crumb_http_req {
    crumb_http *h;
    struct MHD_Connection *conn;
    struct timespec start;
    char method[16];
    char *uri;          /* raw, as received; in req's block */
    size_t uri_len;
    char *path;         /* decoded; in req's block, uri_len + 1 bytes */
    /* the first of these header fields, in MHD's pool (see field_seen) */
    const char *cookie, *user_agent, *content_length, *transfer_encoding;
    size_t cookie_len;
    int field_error;       /* an HTTP status for a bad field, or 0 */
    int field_error_query; /* ... and it was a query argument */
    int fields_seen;       /* the walk ended: the four above are set */
    crumb__kvlist query;
    crumb__kvlist form;
    crumb__match match;
    char *body;
    size_t body_len, body_cap;
    int too_large;
    int query_too_long; /* over CRUMB__FORM_FIELDS_MAX query arguments */
    int queued;
    crumb_session *session;
    crumb_open_reason reason;
    const char *log_note; /* static text for the log line, or NULL */
    char addr[48];        /* the peer, as text; filled on first use */

    /* the response */
    unsigned std_headers; /* CRUMB__H_*: constant headers, added at send */
    int status;
    char *ctype;        /* ctype_buf, or allocated when longer */
    char ctype_buf[48];
    char *resp;
    size_t resp_len;
    crumb__kvlist headers;
};

#define CRUMB__H_SECURITY 1u /* nosniff, CSP, frame and referrer policy */
#define CRUMB__H_VARY_COOKIE 2u
#define CRUMB__H_NO_STORE 4u

void crumb__req_free(crumb_http_req *req);
/* access.c: the callbacks crumb_http_start() gives libmicrohttpd. */
size_t crumb__mhd_unescape(void *cls, struct MHD_Connection *conn, char *s);
void *crumb__mhd_uri_seen(void *cls, const char *uri,
                          struct MHD_Connection *conn);
void crumb__mhd_completed(void *cls, struct MHD_Connection *conn,
                          void **con_cls,
                          enum MHD_RequestTerminationCode toe);
enum MHD_Result crumb__mhd_access(void *cls, struct MHD_Connection *conn,
                                  const char *url, const char *method,
                                  const char *version,
                                  const char *upload_data,
                                  size_t *upload_data_size, void **con_cls);
/* guard.c: free the auth settings; run the before hook; replace req->addr
 * (the peer) by the client a trusted proxy names. */
void crumb__auth_free(struct crumb__auth *a);
void crumb__auth_before(crumb_http_req *req);
void crumb__proxy_resolve(crumb_http_req *req);
/* Run a request that has been read: route, session, handler, save. */
void crumb__req_dispatch(crumb_http_req *req);
/* Default error page. */
void crumb__error_default(crumb_http_req *req, int status,
                          const char *message, void *ctx);
const char *crumb__status_text(int status);

#endif
