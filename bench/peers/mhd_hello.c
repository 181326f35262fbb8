/* mhd_hello.c - a bare libmicrohttpd server with crumb-shop's daemon
 * settings (epoll thread pool of 4 threads per CPU and at least 8,
 * 32 KiB connection pool, MHD_USE_TURBO), answering a fixed response: the
 * HTTP library's own ceiling for bench/http.sh.
 *   hello  a 36-byte text/plain page with one header
 *   page   what crumb-shop's /visits sends, with no work behind it: the
 *          same nine headers (Set-Cookie, Vary, CSP...) and a body of the
 *          same size, all constant
 * Usage: mhd_hello PORT [hello|page]  (runs until SIGTERM); env THREADS,
 * POOL (bytes) override the settings. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

static const char hello[] = "You have visited this page 1 times.\n";
static char page[789];
static int shaped;

static enum MHD_Result
answer(void *cls, struct MHD_Connection *conn, const char *url,
       const char *method, const char *version, const char *upload,
       size_t *upload_size, void **con_cls)
{
    static int first;
    if (*con_cls != &first) {
        *con_cls = &first; /* answer on the second call, as crumb does */
        return MHD_YES;
    }
    struct MHD_Response *r;
    if (!shaped) {
        r = MHD_create_response_from_buffer(sizeof(hello) - 1, (void *)hello,
                                            MHD_RESPMEM_PERSISTENT);
        MHD_add_response_header(r, "Content-Type", "text/plain");
    } else {
        r = MHD_create_response_from_buffer(sizeof(page), page,
                                            MHD_RESPMEM_PERSISTENT);
        MHD_add_response_header(r, "Content-Type",
                                "text/html; charset=utf-8");
        MHD_add_response_header(
            r, "Set-Cookie",
            "session=eyJ2aXNpdHMiOjF9.awKlZQ.Nm9iffRntI95hZyIwNoKD9fhj-4; "
            "HttpOnly; Path=/; SameSite=Lax");
        MHD_add_response_header(r, "Vary", "Cookie");
        MHD_add_response_header(r, "Cache-Control", "no-store");
        MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
        MHD_add_response_header(
            r, "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; "
            "img-src 'self' data:; object-src 'none'; base-uri 'none'; "
            "form-action 'self'; frame-ancestors 'none'");
        MHD_add_response_header(r, "X-Frame-Options", "DENY");
        MHD_add_response_header(r, "Referrer-Policy", "same-origin");
    }
    enum MHD_Result ret = MHD_queue_response(conn, 200, r);
    MHD_destroy_response(r);
    return ret;
}

int
main(int argc, char **argv)
{
    if (argc < 2 || argc > 3)
        return 2;
    shaped = argc == 3 && strcmp(argv[2], "page") == 0;
    memset(page, 'x', sizeof(page));
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    n = n > 0 && n < 16 ? 4 * n : 8; /* as crumb_http_new() */
    if (n < 8)
        n = 8;
    if (getenv("THREADS"))
        n = atoi(getenv("THREADS"));
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_TURBO,
        (uint16_t)atoi(argv[1]), NULL, NULL, answer, NULL,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)n,
        MHD_OPTION_CONNECTION_LIMIT, 1024u,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)(getenv("POOL") ? atoi(getenv("POOL")) : 32 * 1024),
        MHD_OPTION_END);
    if (!d)
        return 1;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, NULL);
    int sig;
    sigwait(&set, &sig);
    MHD_stop_daemon(d);
    return 0;
}
