/* response.c - building a response: status, headers, body, redirects. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <crumb/error.h>

#include "http_int.h"

const char *
crumb__status_text(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Unknown";
    }
}

static int
no_ctl(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 0;
    return 1;
}

int
crumb_http_respond_take(crumb_http_req *req, int status,
                        const char *content_type, char *body, size_t len)
{
    if (status < 100 || status > 599 ||
        (content_type && !no_ctl(content_type))) {
        free(body);
        return CRUMB_EINVAL;
    }
    /* Content types are short: most fit in the request's own buffer. */
    size_t ctlen = content_type ? strlen(content_type) : 0;
    char *ct = NULL;
    if (content_type && ctlen >= sizeof(req->ctype_buf)) {
        ct = strdup(content_type);
        if (!ct) {
            free(body);
            return CRUMB_ENOMEM;
        }
    }
    free(req->resp);
    if (req->ctype != req->ctype_buf)
        free(req->ctype);
    if (content_type && !ct) {
        ct = req->ctype_buf;
        memcpy(ct, content_type, ctlen + 1);
    }
    req->status = status;
    req->ctype = ct;
    req->resp = body;
    req->resp_len = body ? len : 0;
    return CRUMB_OK;
}

int
crumb_http_respond(crumb_http_req *req, int status, const char *content_type,
                   const void *body, size_t len)
{
    char *copy = NULL;
    if (len) {
        copy = malloc(len);
        if (!copy)
            return CRUMB_ENOMEM;
        memcpy(copy, body, len);
    }
    return crumb_http_respond_take(req, status, content_type, copy, len);
}

int
crumb_http_header_add(crumb_http_req *req, const char *name,
                      const char *value)
{
    if (!*name || !no_ctl(name) || !no_ctl(value) || strchr(name, ':'))
        return CRUMB_EINVAL;
    return crumb__kv_add(&req->headers, name, strlen(name), value,
                         strlen(value));
}

int
crumb_http_redirect(crumb_http_req *req, int status, const char *location)
{
    if (!(status == 301 || status == 302 || status == 303 ||
          status == 307 || status == 308) ||
        !*location || !no_ctl(location))
        return CRUMB_EINVAL;
    /* Drop a Location added earlier: a response has one. (A pair is
     * one block, name then value: replace the pair, keep its place.) */
    for (size_t i = 0; i < req->headers.n; i++) {
        if (strcasecmp(req->headers.items[i].name, "Location") == 0) {
            crumb__kvlist one = {0};
            int rc = crumb__kv_add(&one, "Location", 8, location,
                                   strlen(location));
            if (rc != CRUMB_OK)
                return rc;
            free(req->headers.items[i].name);
            req->headers.items[i] = one.items[0];
            free(one.items);
            return crumb_http_respond(req, status, NULL, NULL, 0);
        }
    }
    int rc = crumb_http_header_add(req, "Location", location);
    if (rc != CRUMB_OK)
        return rc;
    return crumb_http_respond(req, status, NULL, NULL, 0);
}

void
crumb__error_default(crumb_http_req *req, int status, const char *message,
                     void *ctx)
{
    static const char fmt[] =
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<title>%d %s</title></head><body><h1>%d %s</h1><p>%s</p>"
        "</body></html>\n";
    const char *text = crumb__status_text(status);
    char *esc = crumb_html_escape(message ? message : "");
    size_t size = esc ? sizeof(fmt) + 2 * strlen(text) + strlen(esc) + 16 : 0;
    char *page = esc ? malloc(size) : NULL;
    int n = page ? snprintf(page, size, fmt, status, text, status, text, esc)
                 : -1;
    free(esc);
    if (n < 0) {
        free(page);
        crumb_http_respond(req, status, "text/plain; charset=utf-8",
                           "error\n", 6);
        return;
    }
    crumb_http_respond_take(req, status, "text/html; charset=utf-8", page,
                            (size_t)n);
}

void
crumb_http_error(crumb_http_req *req, int status, const char *message)
{
    const crumb_http_options *o = &req->h->opt;
    if (o->on_error)
        o->on_error(req, status, message, o->error_ctx);
    else
        crumb__error_default(req, status, message, NULL);
    /* The hook must answer with this status, or send the visitor
     * elsewhere (a redirect); anything else gets the plain error page. */
    if (req->status != status && (req->status < 300 || req->status >= 400))
        crumb__error_default(req, status, message, NULL);
}

int
crumb_http_render(crumb_http_req *req, int status, const char *name,
                  const json_t *ctx)
{
    char *out;
    size_t len;
    int rc = crumb_tpl_render(req->h->tpl, name, ctx, &out, &len);
    if (rc != CRUMB_OK) {
        crumb__error_default(req, 500, "The page could not be rendered.",
                             NULL);
        return rc;
    }
    return crumb_http_respond_take(req, status, "text/html; charset=utf-8",
                                   out, len);
}
