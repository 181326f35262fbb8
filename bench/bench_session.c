/* bench_session.c - nanoseconds per cookie-session open and save: the
 * whole path a request takes through libcrumb (parse the Cookie header,
 * verify, decompress if needed, parse; then serialize, sign, format).
 * usage: bench_session [ITERATIONS] [fast|flask]  (compression policy) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <crumb/crumb.h>

static double
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int
main(int argc, char **argv)
{
    long iters = argc > 1 ? atol(argv[1]) : 200000;
    int flask = argc > 2 && strcmp(argv[2], "flask") == 0;
    static const char key[] = "bench-secret-key-0123456789abcdefghijklmnop";
    crumb_config cfg;
    crumb_config_init(&cfg);
    cfg.secret_key = key;
    cfg.secret_key_len = sizeof key - 1;
    cfg.signer.compression = flask ? CRUMB_COMPRESS_FLASK : CRUMB_COMPRESS_FAST;
    crumb_iface *iface;
    if (crumb_iface_new(&iface, &cfg) != CRUMB_OK)
        return 1;

    /* A typical session: a user id, a CSRF secret, a small cart. */
    crumb_session *s = crumb_session_new();
    crumb_session_set_string(s, "user_id", "42");
    crumb_session_set_string(s, "_csrf", "q2mN8x1vR0aLk3JtYp7WcZ");
    crumb_session_incr_path(s, "/cart/1", 2, NULL);
    crumb_save_result res;
    if (crumb_iface_save(iface, s, &res) != CRUMB_OK)
        return 1;
    const char *semi = strchr(res.set_cookie, ';');
    char header[512];
    snprintf(header, sizeof header, "theme=dark; %.*s; lang=en",
             (int)(semi - res.set_cookie), res.set_cookie);
    size_t hlen = strlen(header);
    printf("compression: %s\ncookie header: %zu bytes (%s)\n",
           flask ? "flask (byte-identical)" : "fast (default)", hlen, header);
    crumb_save_result_cleanup(&res);
    crumb_session_free(s);

    double t0 = now_ns();
    for (long i = 0; i < iters; i++) {
        crumb_session *o;
        crumb_open_reason why;
        crumb_iface_open(iface, header, hlen, &o, &why);
        if (why != CRUMB_OPEN_OK)
            return 1;
        crumb_session_free(o);
    }
    double t1 = now_ns();

    crumb_session *o;
    crumb_iface_open(iface, header, hlen, &o, NULL);
    crumb_session_incr(o, "visits", 1, NULL);
    double t2 = now_ns();
    for (long i = 0; i < iters; i++) {
        crumb_session_mark_modified(o);
        crumb_iface_save(iface, o, &res);
        crumb_save_result_cleanup(&res);
    }
    double t3 = now_ns();
    crumb_session_free(o);

    double open_ns = (t1 - t0) / iters, save_ns = (t3 - t2) / iters;
    printf("open (parse+verify+decode): %8.0f ns/op\n", open_ns);
    printf("save (encode+sign+format):  %8.0f ns/op\n", save_ns);
    printf("open + save:                %8.0f ns  (target < 2000 ns)\n",
           open_ns + save_ns);
    crumb_iface_free(iface);
    return 0;
}
