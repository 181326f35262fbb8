/* middleware.c - one request's life: route, session, CSRF, handler, save. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <crumb/auth.h>
#include <crumb/error.h>

#include "http_int.h"

static int
is_unsafe(const char *method)
{
    return strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
           strcmp(method, "PATCH") == 0 || strcmp(method, "DELETE") == 0;
}

static int
has_header(const crumb_http_req *req, const char *name)
{
    for (size_t i = 0; i < req->headers.n; i++)
        if (strcasecmp(req->headers.items[i].name, name) == 0)
            return 1;
    return 0;
}

static void
open_session(crumb_http_req *req)
{
    crumb_iface *iface = req->h->opt.iface;
    const char *ck = crumb_http_header(req, "Cookie");
    req->reason = CRUMB_OPEN_NO_COOKIE;
    if (crumb_iface_open(iface, ck, ck ? strlen(ck) : 0, &req->session,
                         &req->reason) != CRUMB_OK)
        req->session = NULL;
}

/*
 * Saving comes after the handler and after any error page, so whatever
 * the page read or wrote is reflected: Set-Cookie when the session
 * changed (or a permanent one is refreshed), Vary: Cookie and
 * Cache-Control: no-store when the page depended on the session. A
 * session that cannot be saved (too large for a cookie) leaves the
 * visitor's old cookie in place and is logged, not turned into a crash.
 */
static void
save_session(crumb_http_req *req)
{
    crumb_iface *iface = req->h->opt.iface;
    crumb_save_result res;
    memset(&res, 0, sizeof(res));
    int rc = crumb_iface_save(iface, req->session, &res);
    if (rc != CRUMB_OK) {
        crumb__logf(req->h, "crumb-http: session not saved: %s (%s)",
                    crumb_strerror(rc), crumb_iface_errmsg(iface));
        return;
    }
    if (res.set_cookie)
        crumb_http_header_add(req, "Set-Cookie", res.set_cookie);
    if (res.vary_cookie) {
        req->std_headers |= CRUMB__H_VARY_COOKIE;
        if (!has_header(req, "Cache-Control"))
            req->std_headers |= CRUMB__H_NO_STORE;
    }
    crumb_save_result_cleanup(&res);
}

/* The token comes from the form field "csrf_token", else the header
 * "X-CSRF-Token" (scripts). No session means no secret: refused. */
static int
csrf_ok(crumb_http_req *req)
{
    const char *token = crumb_http_form(req, "csrf_token");
    if (!token)
        token = crumb_http_header(req, "X-CSRF-Token");
    return req->session && crumb_csrf_verify(req->session, token) == CRUMB_OK;
}

/* The constant headers are only flagged here; send_response() adds
 * them from static strings, saving two copies each per request. */
static void
security_headers(crumb_http_req *req)
{
    req->std_headers |= CRUMB__H_SECURITY;
}

void
crumb__req_dispatch(crumb_http_req *req)
{
    crumb_http *h = req->h;
    if (crumb__static_serve(h->statics, req)) {
        security_headers(req);
        return;
    }
    int st = crumb__router_match(h->router, req->method, crumb_http_path(req),
                                 &req->match);
    int want_session = h->opt.iface &&
                       !(st == 200 &&
                         (req->match.flags & CRUMB_ROUTE_NO_SESSION));
    if (want_session) {
        open_session(req);
        if (!req->session) {
            crumb_http_error(req, 500, "Out of memory.");
            security_headers(req);
            return;
        }
    }
    if (st == 404) {
        crumb_http_error(req, 404, "There is no page at this address.");
    } else if (st == 405) {
        crumb_http_header_add(req, "Allow", req->match.allow);
        crumb_http_error(req, 405, "This page does not accept that method.");
    } else if (st != 200) {
        crumb_http_error(req, 500, "Out of memory.");
    } else if (is_unsafe(req->method) && h->opt.iface &&
               !(req->match.flags & CRUMB_ROUTE_NO_CSRF) &&
               !csrf_ok(req)) {
        crumb_http_error(req, 403,
                         "The form's security token is missing or invalid. "
                         "Reload the page and try again.");
    } else {
        req->match.fn(req, req->match.ctx);
        if (!req->status)
            crumb_http_error(req, 500, "The page gave no answer.");
    }
    if (req->session)
        save_session(req);
    security_headers(req);
}
