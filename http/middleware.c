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

#define STORE_DOWN "The session store is unreachable; try again shortly."

/* A store that cannot be reached is a 503 the client may retry, with a
 * clear page; never a hang (the stores bound their waits) nor a 500. */
static void
store_unavailable(crumb_http_req *req)
{
    crumb__kv_cleanup(&req->headers);
    crumb_http_header_add(req, "Retry-After", "5");
    crumb_http_error(req, 503, STORE_DOWN);
    req->log_note = "store unreachable";
}

/* Opens the request's session and records who is asking. The reason a
 * cookie was not honoured goes to the log line (never the id). */
static int
open_session(crumb_http_req *req)
{
    crumb_iface *iface = req->h->opt.iface;
    const char *ck = crumb_http_header(req, "Cookie");
    req->reason = CRUMB_OPEN_NO_COOKIE;
    int rc = crumb_iface_open(iface, ck, ck ? strlen(ck) : 0, &req->session,
                              &req->reason);
    if (rc != CRUMB_OK) {
        req->session = NULL;
        crumb__logf(req->h, "crumb-http: session not opened: %s (%s)",
                    crumb_strerror(rc), crumb_iface_errmsg(iface));
        return rc;
    }
    if (req->reason != CRUMB_OPEN_OK && req->reason != CRUMB_OPEN_NO_COOKIE)
        req->log_note = crumb_open_reason_str(req->reason);
    crumb_session_set_client(req->session, crumb_http_client_addr(req),
                             crumb_http_header(req, "User-Agent"));
    return CRUMB_OK;
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
        /* The page may say "added to your cart": it must not be sent
         * when the change was not kept. */
        if (rc == CRUMB_EUNAVAIL || rc == CRUMB_ESTORE) {
            crumb_session *s = req->session;
            req->session = NULL; /* the error page must not touch it */
            store_unavailable(req);
            req->session = s;
        }
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
    int ran = 0;
    int want_session = h->opt.iface &&
                       !(st == 200 &&
                         (req->match.flags & CRUMB_ROUTE_NO_SESSION));
    if (want_session) {
        int rc = open_session(req);
        if (rc == CRUMB_EUNAVAIL || rc == CRUMB_ESTORE) {
            store_unavailable(req);
            security_headers(req);
            return;
        }
        if (rc != CRUMB_OK) {
            crumb_http_error(req, 500, "Out of memory.");
            security_headers(req);
            return;
        }
    }
    if (st == 200 && req->session && h->auth)
        crumb__auth_before(req);
    if (req->status) {
        /* the before hook answered (a 503, a redirect) */
    } else if (st == 404) {
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
        ran = 1;
        req->match.fn(req, req->match.ctx);
        if (!req->status)
            crumb_http_error(req, 500, "The page gave no answer.");
    }
    if (req->session)
        save_session(req);
    if (ran && h->opt.after && req->status != 503)
        h->opt.after(req, h->opt.after_ctx);
    security_headers(req);
}
