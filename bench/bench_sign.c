/* bench_sign.c - ns/op for signing and verifying a typical session cookie. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <crumb/error.h>
#include <crumb/sign.h>
#include <crumb/tagjson.h>

#define ITERATIONS 1000000

static double
now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

/* Times loads and dumps of @obj; returns non-zero on a failed call. */
static int
bench(const char *label, const crumb_signer *s, const json_t *obj, int iters)
{
    char *cookie = NULL;
    size_t n = 0;
    if (crumb_signer_dumps(s, obj, 1700000000, &cookie, &n) != CRUMB_OK)
        return 1;
    double t0 = now_ns();
    for (int i = 0; i < iters; i++) {
        json_t *v = NULL;
        if (crumb_signer_loads(s, cookie, n, 3600, 1700000100, &v, NULL) !=
            CRUMB_OK)
            return 1;
        json_decref(v);
    }
    double t1 = now_ns();
    for (int i = 0; i < iters; i++) {
        char *out = NULL;
        size_t m;
        if (crumb_signer_dumps(s, obj, 1700000000, &out, &m) != CRUMB_OK)
            return 1;
        free(out);
    }
    double t2 = now_ns();
    for (int i = 0; i < iters; i++) {
        if (crumb_signer_unsign(s, cookie, n, 3600, 1700000100, NULL, NULL,
                                NULL) != CRUMB_OK)
            return 1;
    }
    double t3 = now_ns();
    double l = (t1 - t0) / iters, d = (t2 - t1) / iters,
           u = (t3 - t2) / iters;
    printf("%s (%zu-byte cookie%s):\n", label, n,
           cookie[0] == '.' ? ", zlib" : "");
    printf("  crumb_signer_loads   %8.0f ns/op\n", l);
    printf("  crumb_signer_dumps   %8.0f ns/op\n", d);
    printf("  loads + dumps        %8.0f ns/op\n", l + d);
    printf("  crumb_signer_unsign  %8.0f ns/op (HMAC verify only)\n", u);
    free(cookie);
    return 0;
}

int
main(int argc, char **argv)
{
    int iters = argc > 1 ? atoi(argv[1]) : ITERATIONS;
    crumb_signer *s = NULL;
    if (iters <= 0 || crumb_signer_new(&s, NULL) != CRUMB_OK ||
        crumb_signer_add_key(s, "bench-secret-key-0123456789", 27) !=
            CRUMB_OK)
        return 1;
    /* Flask's typical session: its JSON is 105 bytes and zlib saves 4, so
     * itsdangerous (and crumb) sends it compressed. */
    json_t *typical = json_pack(
        "{s:b,s:s,s:s,s:{s:i}}", "_permanent", 1, "user_id", "42",
        "csrf_token", "5f2b6c8e0f4d4e1b9a3c7d2e1f0a9b8c7d6e5f4a", "cart", "1",
        2);
    /* The same shape with a random-looking token that does not compress. */
    json_t *plain = json_pack(
        "{s:b,s:s,s:s,s:{s:i}}", "_permanent", 1, "user_id", "42",
        "csrf_token", "Xq3vB9kLm2Zt7RwYp4Nc8Hd1Jf6Gs0Ua", "cart", "1", 2);
    int rc = bench("typical session", s, typical, iters) ||
             bench("incompressible session", s, plain, iters);
    json_decref(typical);
    json_decref(plain);
    crumb_signer_free(s);
    return rc;
}
