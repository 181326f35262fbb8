/* bench_store.c - load+save per second and bytes per session, per store. */
#include <crumb/error.h>
#include <crumb/store.h>

#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/*
 * For each backend and each size (1e3, 1e5, 1e6 live sessions) it fills
 * the store with sessions through the public API, then times a fixed
 * number of load + compare-and-set save pairs on random sessions. A flat
 * ops/s column across sizes is the point. Bytes per session: the heap
 * growth (memory), the file size (sqlite), Redis' used_memory growth
 * (redis).
 *
 * Environment: CRUMB_BENCH_REDIS=HOST:PORT (else CRUMB_TEST_REDIS) turns
 * on redis, which must be a throwaway server (the bench deletes its own
 * keys afterwards); CRUMB_BENCH_MAX caps the sizes (default 1000000);
 * CRUMB_BENCH_REDIS_MAX caps them for redis (default 100000).
 */

#define T0 ((int64_t)1700000000)
#define PAIRS 20000
#define DATA_LEN 200

static double
mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t
mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static void
key_of(size_t i, unsigned char *key)
{
    for (int j = 0; j < 4; j++) {
        uint64_t v = mix(i * 4 + (uint64_t)j);
        memcpy(key + 8 * j, &v, 8);
    }
}

static void
fill_rec(crumb_store_record *r, unsigned char *data, size_t i)
{
    memset(r, 0, sizeof(*r));
    for (size_t j = 0; j < DATA_LEN; j++)
        data[j] = (unsigned char)('a' + (i + j) % 26);
    r->data = data;
    r->len = DATA_LEN;
    r->created = T0;
    r->last_seen = T0;
    r->expires_at = T0 + 86400;
    snprintf(r->user, sizeof(r->user), "user%zu", i % 5000);
    snprintf(r->addr, sizeof(r->addr), "198.51.100.%zu", i % 250);
    snprintf(r->agent, sizeof(r->agent), "Mozilla/5.0 (bench)");
}

static long long
redis_used_memory(const char *addr)
{
    char host[64];
    int port;
    if (sscanf(addr, "%63[^:]:%d", host, &port) != 2)
        return -1;
    redisContext *c = redisConnect(host, port);
    if (!c || c->err) {
        if (c)
            redisFree(c);
        return -1;
    }
    redisReply *rep = redisCommand(c, "INFO memory");
    long long v = -1;
    if (rep && rep->type == REDIS_REPLY_STRING) {
        const char *p = strstr(rep->str, "used_memory:");
        if (p)
            v = atoll(p + strlen("used_memory:"));
    }
    freeReplyObject(rep);
    redisFree(c);
    return v;
}

/* Delete the bench's keys from Redis: records and user indexes. */
static void
redis_cleanup(const char *addr, const char *prefix, size_t n)
{
    char host[64];
    int port;
    if (sscanf(addr, "%63[^:]:%d", host, &port) != 2)
        return;
    redisContext *c = redisConnect(host, port);
    if (!c || c->err) {
        if (c)
            redisFree(c);
        return;
    }
    size_t pending = 0;
    for (size_t i = 0; i < n + 5000; i++) {
        char k[200];
        if (i < n) {
            unsigned char key[32];
            key_of(i, key);
            int len = snprintf(k, sizeof(k), "%s:s:", prefix);
            for (int j = 0; j < 32; j++)
                len += snprintf(k + len, sizeof(k) - (size_t)len, "%02x",
                                key[j]);
        } else {
            snprintf(k, sizeof(k), "%s:u:user%zu", prefix, i - n);
        }
        redisAppendCommand(c, "UNLINK %s", k);
        if (++pending == 1000 || i + 1 == n + 5000) {
            for (; pending; pending--) {
                void *rep;
                if (redisGetReply(c, &rep) != REDIS_OK)
                    goto out;
                freeReplyObject(rep);
            }
        }
    }
out:
    redisFree(c);
}

static int
bench(const char *backend, const char *uri, size_t n, const char *dir,
      const char *redis)
{
    crumb_store *st;
    crumb_store_options o;
    crumb_store_options_init(&o);
    o.max_records = n + 16;
    int rc = crumb_store_open(&st, uri, &o);
    if (rc != CRUMB_OK) {
        fprintf(stderr, "%s: open: %s\n", uri, crumb_errname(rc));
        return 1;
    }
    struct mallinfo2 m0 = mallinfo2();
    long long r0 = redis ? redis_used_memory(redis) : 0;
    unsigned char data[DATA_LEN];
    crumb_store_record w;
    double t = mono();
    for (size_t i = 0; i < n; i++) {
        unsigned char key[32];
        key_of(i, key);
        fill_rec(&w, data, i);
        rc = crumb_store_save(st, key, &w, 0, T0);
        if (rc != CRUMB_OK) {
            fprintf(stderr, "%s: save %zu: %s: %s\n", backend, i,
                    crumb_errname(rc), crumb_store_errmsg(st));
            crumb_store_close(st);
            return 1;
        }
    }
    double fill = mono() - t;

    double bytes = 0;
    if (strcmp(backend, "memory") == 0) {
        struct mallinfo2 m1 = mallinfo2();
        bytes = ((double)m1.uordblks - (double)m0.uordblks) / (double)n;
    } else if (strcmp(backend, "redis") == 0) {
        bytes = (double)(redis_used_memory(redis) - r0) / (double)n;
    }

    uint64_t seed = 12345;
    t = mono();
    for (size_t i = 0; i < PAIRS; i++) {
        seed = mix(seed);
        unsigned char key[32];
        key_of(seed % n, key);
        crumb_store_record r;
        rc = crumb_store_load(st, key, T0 + 1, &r);
        if (rc == CRUMB_OK) {
            r.data[0] ^= 1;
            r.last_seen = T0 + 1;
            rc = crumb_store_save(st, key, &r, r.version, T0 + 1);
        }
        crumb_store_record_cleanup(&r);
        if (rc != CRUMB_OK) {
            fprintf(stderr, "%s: pair: %s: %s\n", backend, crumb_errname(rc),
                    crumb_store_errmsg(st));
            crumb_store_close(st);
            return 1;
        }
    }
    double pairs = mono() - t;
    crumb_store_close(st);
    if (strcmp(backend, "sqlite") == 0) {
        /* After the last close: the WAL is checkpointed into the file. */
        char p[512];
        struct stat sb;
        snprintf(p, sizeof(p), "%s/bench.db", dir);
        if (stat(p, &sb) == 0)
            bytes = (double)sb.st_size / (double)n;
    }
    printf("%-7s %9zu sessions  fill %9.0f saves/s  %9.0f load+save/s  "
           "%6.1f us/pair  %6.0f bytes/session\n",
           backend, n, (double)n / fill, PAIRS / pairs,
           pairs / PAIRS * 1e6, bytes);
    fflush(stdout);
    return 0;
}

int
main(void)
{
    static const size_t sizes[] = {1000, 100000, 1000000};
    const char *e = getenv("CRUMB_BENCH_MAX");
    size_t max = e ? (size_t)strtoull(e, NULL, 10) : 1000000;
    e = getenv("CRUMB_BENCH_REDIS_MAX");
    size_t rmax = e ? (size_t)strtoull(e, NULL, 10) : 100000;
    const char *redis = getenv("CRUMB_BENCH_REDIS");
    if (!redis || !*redis)
        redis = getenv("CRUMB_TEST_REDIS");
    if (redis && !*redis)
        redis = NULL;
    char dir[] = "/tmp/crumb-bench-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    printf("# %d load+save pairs on random sessions of %d bytes; the "
           "caller's clock\n",
           PAIRS, DATA_LEN);
    int fails = 0;
    for (size_t s = 0; s < 3 && sizes[s] <= max; s++)
        fails += bench("memory", "memory:", sizes[s], dir, NULL);
    for (size_t s = 0; s < 3 && sizes[s] <= max; s++) {
        char uri[700], p[600];
        snprintf(p, sizeof(p), "%s/bench.db", dir);
        unlink(p);
        snprintf(uri, sizeof(uri), "sqlite:%s", p);
        fails += bench("sqlite", uri, sizes[s], dir, NULL);
        unlink(p);
        snprintf(uri, sizeof(uri), "%s/bench.db-wal", dir);
        unlink(uri);
        snprintf(uri, sizeof(uri), "%s/bench.db-shm", dir);
        unlink(uri);
    }
    if (!redis)
        printf("# redis skipped: set CRUMB_BENCH_REDIS=HOST:PORT\n");
    for (size_t s = 0; redis && s < 3 && sizes[s] <= max && sizes[s] <= rmax;
         s++) {
        char uri[300], prefix[64];
        snprintf(prefix, sizeof(prefix), "crumbbench%d-%zu", (int)getpid(),
                 s);
        snprintf(uri, sizeof(uri), "redis://%s/0?prefix=%s", redis, prefix);
        fails += bench("redis", uri, sizes[s], dir, redis);
        redis_cleanup(redis, prefix, sizes[s]);
    }
    rmdir(dir);
    return fails ? 1 : 0;
}
