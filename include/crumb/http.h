/* crumb/http.h - the HTTP adapter: server, router, request, templates. */
#ifndef CRUMB_HTTP_H
#define CRUMB_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include <crumb/iface.h>
#include <crumb/session.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * crumb's HTTP layer over libmicrohttpd. A crumb_http holds a router, a
 * template set, static files and the session interface; it runs an MHD
 * daemon with an internal thread pool. For each request it:
 *
 *   1. reads and bounds the request (body limit, percent-encoding, UTF-8);
 *   2. routes it by method and path (404, 405 with Allow);
 *   3. opens the session (crumb_iface_open) from the Cookie header and
 *      records the client (crumb_session_set_client: peer address and a
 *      short User-Agent); a session store that cannot be reached gives
 *      503 with Retry-After and no handler call;
 *   4. checks the CSRF token on POST, PUT, PATCH and DELETE (form field
 *      "csrf_token" or header "X-CSRF-Token"): 403 and no handler call;
 *   5. calls the handler, which fills the response through this API;
 *   6. saves the session (crumb_iface_save): Set-Cookie, Vary: Cookie,
 *      and Cache-Control: no-store when the session was read; a store
 *      that fails here replaces the handler's response with a 503;
 *   7. adds the security headers and logs one line (method, path without
 *      query, status, duration, and why the session was not the one the
 *      cookie named when it was not: "[idle timeout]"; never cookies, ids,
 *      forms or secrets).
 *
 * Thread-safety: handlers run on the pool's threads, several at once; a
 * crumb_http_req belongs to one handler call.
 */

typedef struct crumb_http crumb_http;
typedef struct crumb_http_req crumb_http_req;

/** A route handler: fills the response through @req. */
typedef void (*crumb_http_handler)(crumb_http_req *req, void *ctx);

/**
 * An error page renderer: called for every error the layer raises itself
 * (400, 403, 404, 405, 413, 415, 431, 500, 503) and by crumb_http_error(). It
 * must set a response with @status, or a redirect (3xx) that sends the
 * visitor somewhere better (e.g. to log in again); @message is plain text
 * (escape it). The session may be NULL (the request did not get that far).
 */
typedef void (*crumb_http_error_fn)(crumb_http_req *req, int status,
                                    const char *message, void *ctx);

/** Route flags. */
#define CRUMB_ROUTE_NO_CSRF 1u    /* do not check a CSRF token */
#define CRUMB_ROUTE_NO_SESSION 2u /* do not open or save a session */

typedef struct crumb_http_options {
    const char *addr;       /* "HOST:PORT"; NULL: "127.0.0.1:8080";
                               port 0 picks a free one */
    crumb_iface *iface;     /* borrowed; NULL: no sessions, no CSRF */
    const char *template_dir; /* NULL: no templates */
    size_t max_body;        /* 0: 1 MiB; larger bodies get 413 */
    size_t max_cookie;      /* 0: 8 KiB; a longer Cookie header: 431 */
    unsigned threads;       /* 0: four per CPU, at least 8 */
    unsigned max_connections; /* 0: 1024 */
    unsigned timeout;       /* idle connection timeout, s; 0: 30 */
    int log;                /* 1: a line per request on stderr */
    const char *csp;        /* NULL: a strict default ('self' only) */
    crumb_http_error_fn on_error; /* NULL: a plain built-in page */
    void *error_ctx;
    /* Called after a routed request's handler ran and its session was
     * saved (so crumb_session_handle() names the stored session), before
     * the response is sent; it must not change the response. NULL: none.
     * For logging and analytics (crumb_http_route_pattern()). */
    crumb_http_handler after;
    void *after_ctx;
} crumb_http_options;

/** crumb_http_options_init - zero @o, then addr default and log = 1. */
void crumb_http_options_init(crumb_http_options *o);

/**
 * crumb_http_new - a server (not yet listening) for @opts.
 * Loads every *.html template of opts->template_dir now.
 * Returns CRUMB_OK, CRUMB_EINVAL (bad addr), CRUMB_EIO (templates
 * unreadable), CRUMB_EMALFORMED (a template does not parse),
 * CRUMB_ENOMEM. On a template error *out is still set, so that
 * crumb_http_errmsg() can say which file and line; free it then too.
 * Lifetime: *out owned by the caller, crumb_http_free(); @opts copied,
 * opts->iface borrowed for the server's life.
 */
int crumb_http_new(crumb_http **out, const crumb_http_options *opts);

/** crumb_http_free - stop if running and free; accepts NULL. */
void crumb_http_free(crumb_http *h);

/** crumb_http_errmsg - the last error's detail. Lifetime: as @h. */
const char *crumb_http_errmsg(const crumb_http *h);

/**
 * crumb_http_route - route @method ("GET", "POST"...) and @pattern to
 * @fn. Patterns are '/'-separated literal segments and typed parameters:
 * <name> or <string:name> (one segment), <int:name> (decimal digits, fits
 * int64). GET routes answer HEAD too. Routes are matched in the order
 * added; a path with a "." or ".." segment matches none (404). Returns CRUMB_OK, CRUMB_EINVAL (bad pattern), CRUMB_ENOMEM.
 * Must be called before crumb_http_start().
 */
int crumb_http_route(crumb_http *h, const char *method, const char *pattern,
                     crumb_http_handler fn, void *ctx, unsigned flags);

/**
 * crumb_http_static - serve the file @path at URL @url_path with
 * @content_type, an ETag and Cache-Control: public, max-age=3600. The file
 * is read now (only registered files are ever served: no path from the
 * request reaches the file system). Returns CRUMB_OK, CRUMB_EIO,
 * CRUMB_ENOMEM.
 */
int crumb_http_static(crumb_http *h, const char *url_path, const char *path,
                      const char *content_type);

/**
 * crumb_http_start - bind and start answering on the pool's threads,
 * which start with every signal blocked (signals go to your threads).
 * Returns CRUMB_OK or CRUMB_EIO (bind failed; see crumb_http_errmsg()).
 */
int crumb_http_start(crumb_http *h);

/** crumb_http_port - the bound port (after start), else 0. */
uint16_t crumb_http_port(const crumb_http *h);

/**
 * crumb_http_run - start (unless started), then wait for SIGINT or
 * SIGTERM, then stop (finishing requests in flight). Blocks those two
 * signals in the calling thread; call it from main.
 * Returns CRUMB_OK or crumb_http_start()'s error.
 */
int crumb_http_run(crumb_http *h);

/** crumb_http_stop - stop answering and close the socket; idempotent. */
void crumb_http_stop(crumb_http *h);

/* ---- the request ------------------------------------------------------ */

/** Lifetime of every string below: the request. */
const char *crumb_http_method(const crumb_http_req *req);
/** The decoded path, without the query. */
const char *crumb_http_path(const crumb_http_req *req);
/** A request header (case-insensitive name), or NULL. */
const char *crumb_http_header(crumb_http_req *req, const char *name);
/** A query parameter, decoded, first wins; NULL when absent. */
const char *crumb_http_query(const crumb_http_req *req, const char *name);
/** A field of a url-encoded POST body, decoded, first wins; or NULL. */
const char *crumb_http_form(const crumb_http_req *req, const char *name);
/** A route parameter as text, or NULL. */
const char *crumb_http_param(const crumb_http_req *req, const char *name);
/** An <int:...> route parameter, or @def. */
int64_t crumb_http_param_int(const crumb_http_req *req, const char *name,
                             int64_t def);
/** The pattern of the route that matched ("/add_to_cart/<int:id>"),
 * never the path the client sent; NULL when no route matched. */
const char *crumb_http_route_pattern(const crumb_http_req *req);
/** The session (NULL for CRUMB_ROUTE_NO_SESSION routes or no iface).
 * Lifetime: the request; do not free. */
crumb_session *crumb_http_session(crumb_http_req *req);
/** Why the session is what it is (crumb_open_reason). */
crumb_open_reason crumb_http_session_reason(const crumb_http_req *req);
/** The server handling @req. */
crumb_http *crumb_http_server(crumb_http_req *req);
/**
 * crumb_http_client_addr - the peer's address as text ("127.0.0.1",
 * "::1"), "" when unknown. It is the TCP peer: behind a proxy, the proxy.
 * Lifetime: the request.
 */
const char *crumb_http_client_addr(crumb_http_req *req);
/**
 * crumb_http_iface - the session interface the server was given
 * (borrowed), or NULL.
 */
crumb_iface *crumb_http_iface(const crumb_http *h);

/* ---- the response ----------------------------------------------------- */

/*
 * A handler sets exactly one response; a later call replaces the earlier
 * one (headers added with crumb_http_header_add() are kept). A handler
 * that sets none gives 500. All return CRUMB_OK, CRUMB_EINVAL or
 * CRUMB_ENOMEM. Strings are copied.
 */

/** crumb_http_respond - @status with a body of @len bytes. */
int crumb_http_respond(crumb_http_req *req, int status,
                       const char *content_type, const void *body,
                       size_t len);

/** crumb_http_respond_take - as respond, taking over malloc'd @body. */
int crumb_http_respond_take(crumb_http_req *req, int status,
                            const char *content_type, char *body,
                            size_t len);

/** crumb_http_redirect - @status (301, 302, 303, 307, 308) to @location,
 * which must be free of control characters. */
int crumb_http_redirect(crumb_http_req *req, int status,
                        const char *location);

/** crumb_http_header_add - an extra response header (no CR/LF). */
int crumb_http_header_add(crumb_http_req *req, const char *name,
                          const char *value);

/** crumb_http_error - the error page for @status via options.on_error. */
void crumb_http_error(crumb_http_req *req, int status, const char *message);

/**
 * crumb_http_render - render template @name (file name without ".html")
 * with @ctx (borrowed) as text/html with @status. A render failure gives
 * 500. Returns CRUMB_OK, CRUMB_ENOTFOUND, CRUMB_ENOMEM.
 */
int crumb_http_render(crumb_http_req *req, int status, const char *name,
                      const json_t *ctx);

/* ---- templates, usable without a server -------------------------------- */

/*
 * A mustache subset over a jansson context:
 *   {{ name }}         value, HTML-escaped (& < > " ' and `)
 *   {{{ name }}}       value, raw          {{ name|safe }}  the same
 *   {{# name }}..{{/ name }}  section: an array repeats the body with each
 *                      element as context; an object is entered; other
 *                      truthy values render the body once
 *   {{^ name }}..{{/ name }}  inverted: when missing, false, null, empty
 *   {{> name }}        another template of the set (depth-bounded)
 *   {{! comment }}
 * Names are dotted paths ("user.name") looked up through the context
 * stack, innermost first; "." is the current element. Numbers print in
 * full, true as "true", null and missing as "".
 */
typedef struct crumb_tpl_set crumb_tpl_set;

/**
 * crumb_tpl_set_load - parse every "*.html" file in @dir.
 * Returns CRUMB_OK, CRUMB_EIO, CRUMB_EMALFORMED, CRUMB_ENOMEM; a message
 * for the first failure goes to @err (may be NULL) of @errsize bytes.
 * Lifetime: *out owned by the caller, crumb_tpl_set_free(). Thread-safe
 * for rendering once loaded.
 */
int crumb_tpl_set_load(crumb_tpl_set **out, const char *dir, char *err,
                       size_t errsize);

/** crumb_tpl_set_add - add (or replace) template @name from @text. */
int crumb_tpl_set_add(crumb_tpl_set *set, const char *name, const char *text,
                      size_t len, char *err, size_t errsize);

/** crumb_tpl_set_new - an empty set; NULL on out of memory. */
crumb_tpl_set *crumb_tpl_set_new(void);

/** crumb_tpl_set_free - free; accepts NULL. */
void crumb_tpl_set_free(crumb_tpl_set *set);

/**
 * crumb_tpl_render - render @name with @ctx into a malloc'd,
 * NUL-terminated *out of *len bytes (owned by the caller, free()).
 * Returns CRUMB_OK, CRUMB_ENOTFOUND, CRUMB_ETOOBIG (partials nested too
 * deep, or the render ran over its budget: about four million tags and
 * text runs, or 32 MiB of output), CRUMB_ENOMEM.
 */
int crumb_tpl_render(const crumb_tpl_set *set, const char *name,
                     const json_t *ctx, char **out, size_t *len);

/**
 * crumb_html_escape - @s HTML-escaped, appended nowhere: returns a
 * malloc'd string (free()) or NULL on out of memory.
 */
char *crumb_html_escape(const char *s);

/* ---- logins, roles and guards (guard.c) ------------------------------ */

/*
 * Flask-Login's job. crumb_http_login() records in the session, once, who
 * logged in: "_user_id", "_roles" (comma list), "_login_at", "_auth_at"
 * (when the password was last given; 0 after a remember-me login),
 * "_fresh" and "_gen", the user's generation in the store when the
 * session was made. The guards read these, so a guarded page costs no
 * user-database lookup; they only compare "_gen" with the store's
 * "user-gen:<id>" counter (one counter read). crumb_http_user_changed()
 * bumps that counter after a role change: each of that user's sessions,
 * at its next guarded request, reloads the roles through the user loader
 * and gets a new id (privilege change: no fixation), or is logged out
 * when there is no loader or the user is gone.
 */

/**
 * A user loader: fill @roles (@size bytes) for @user_id. Returns CRUMB_OK,
 * CRUMB_ENOTFOUND (the user is gone: the session is logged out) or an
 * error (the request gets a 503).
 */
typedef int (*crumb_http_user_loader)(crumb_http_req *req,
                                      const char *user_id, char *roles,
                                      size_t size, void *ctx);

typedef struct crumb_http_auth {
    const char *login_path;   /* NULL: "/login" */
    const char *confirm_path; /* NULL: "/login/confirm" */
    crumb_http_user_loader load_user; /* NULL: a changed user is logged
                                         out instead */
    void *ctx;
    /* The store for generations (and for the app: remember-me tokens,
     * throttling): NULL borrows a handle of the session interface's store
     * for each use; else a store shared by every thread (memory:), for
     * cookie sessions. Borrowed. */
    crumb_store *store;
    /* Called for every routed request that has a session, after the
     * session is opened and before the CSRF check and the handler (the
     * place for remember-me logins). A response it sets is final. */
    crumb_http_handler before;
    void *before_ctx;
} crumb_http_auth;

/**
 * crumb_http_set_auth - the settings above (copied; strings too). Call
 * before crumb_http_start(). Returns CRUMB_OK, CRUMB_EINVAL, CRUMB_ENOMEM.
 */
int crumb_http_set_auth(crumb_http *h, const crumb_http_auth *auth);

/**
 * crumb_http_set_trusted_proxies - a comma list of addresses or CIDR
 * blocks ("127.0.0.1, 10.0.0.0/8, ::1") of reverse proxies. When the TCP
 * peer is one of them, crumb_http_client_addr() believes X-Forwarded-For:
 * it walks the list from the right, past trusted hops, and takes the first
 * untrusted address (a client cannot forge the hops its proxies append).
 * NULL or "": trust nobody (the default). Call before crumb_http_start().
 * Returns CRUMB_OK, CRUMB_EINVAL (a bad entry: nothing changed),
 * CRUMB_ENOMEM.
 */
int crumb_http_set_trusted_proxies(crumb_http *h, const char *list);

/** crumb_http_now - the session interface's clock (tests move it). */
int64_t crumb_http_now(crumb_http_req *req);

/**
 * crumb_http_store_acquire / release - a handle on the auth store (see
 * crumb_http_auth.store), or NULL (cookie sessions without one, or the
 * store is unreachable). Release it on the same thread.
 */
crumb_store *crumb_http_store_acquire(crumb_http *h);
void crumb_http_store_release(crumb_http *h, crumb_store *st);

/**
 * crumb_http_login - log @user_id (1..64 bytes) in with @roles (NULL:
 * "user"): the session is cleared, gets a new id at save, and records the
 * keys above; @fresh is 1 after a password, 0 after a remember-me token.
 * Returns CRUMB_OK, CRUMB_EINVAL, CRUMB_ENOMEM, CRUMB_EUNAVAIL or
 * CRUMB_ESTORE (the generation could not be read: answer 503).
 */
int crumb_http_login(crumb_http_req *req, const char *user_id,
                     const char *roles, int fresh);

/** crumb_http_logout - clear and destroy the session (at save). */
void crumb_http_logout(crumb_http_req *req);

/**
 * crumb_http_confirm_login - the password was given again: the login is
 * fresh from now on, and the session gets a new id.
 */
int crumb_http_confirm_login(crumb_http_req *req);

/**
 * crumb_http_current_user - the logged-in user's id, after the generation
 * check, or NULL for an anonymous visitor (and when the store failed:
 * then a 503 response is set). Lifetime: until the session changes.
 */
const char *crumb_http_current_user(crumb_http_req *req);

/** crumb_http_has_role - 1 when the logged-in user has @role. */
int crumb_http_has_role(crumb_http_req *req, const char *role);

/*
 * The guards return 0 when the handler may go on; otherwise they have set
 * the response and the handler must return at once:
 *   if (crumb_http_role_required(req, "admin")) return;
 */

/** Anonymous: 303 to login_path?next=<this page, url-encoded>. */
int crumb_http_login_required(crumb_http_req *req);
/** As login_required; then 403 (the error page) without @role. */
int crumb_http_role_required(crumb_http_req *req, const char *role);
/** As login_required; then, when the password was last given more than
 * @max_age seconds ago (or never: a remember-me login), 303 to
 * confirm_path?next=... (for a POST: back to the page it came from). */
int crumb_http_fresh_required(crumb_http_req *req, int64_t max_age);

/**
 * crumb_http_user_changed - @user_id's roles changed: bump its generation
 * so that every session of that user re-reads them (see above).
 * Returns CRUMB_OK, CRUMB_EINVAL, CRUMB_EUNSUPPORTED (no store),
 * CRUMB_EUNAVAIL, CRUMB_ESTORE.
 */
int crumb_http_user_changed(crumb_http *h, int64_t now, const char *user_id);

/**
 * crumb_http_local_path - 1 when @next is a path on this site that is safe
 * to redirect to: one leading '/', not "//" or "/\", no backslash, space
 * or control character, under 512 bytes.
 */
int crumb_http_local_path(const char *next);

/** crumb_http_log_note - @note (static text) ends the request's log
 * line, in brackets: "[remember: theft]". */
void crumb_http_log_note(crumb_http_req *req, const char *note);

/** crumb_http_logf - a line of its own in the server's log (when on). */
void crumb_http_logf(crumb_http *h, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#ifdef __cplusplus
}
#endif
#endif
