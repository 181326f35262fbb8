/* server.c - the libmicrohttpd daemon: options, routes, start and stop. */
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

/* libmicrohttpd's per-connection memory pool, zeroed again after every
 * request: at 64 KiB that memset was 8 % of a /visits request's CPU.
 * 32 KiB holds a request line and headers up to about 16 KiB (longer is
 * a 414 or 431 from libmicrohttpd) and CRUMB__FORM_FIELDS_MAX query
 * arguments; crumb__mhd_uri_seen() keeps more arguments than that out
 * of it. */
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
        flags, 0, NULL, NULL, crumb__mhd_access, h,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h, MHD_OPTION_SOCK_ADDR, &ss,
        MHD_OPTION_THREAD_POOL_SIZE, h->opt.threads > 1 ? h->opt.threads : 0,
        MHD_OPTION_CONNECTION_LIMIT, h->opt.max_connections,
        MHD_OPTION_CONNECTION_TIMEOUT, h->opt.timeout,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)POOL_SIZE,
        MHD_OPTION_UNESCAPE_CALLBACK, crumb__mhd_unescape, h,
        MHD_OPTION_URI_LOG_CALLBACK, crumb__mhd_uri_seen, h,
        MHD_OPTION_NOTIFY_COMPLETED, crumb__mhd_completed, h,
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
