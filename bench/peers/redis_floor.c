/* redis_floor.c - the Redis ceiling of a store-backed /visits: bare
 * hiredis sending, per iteration, exactly what crumb's redis store sends
 * for one /visits request, and nothing else (no HTTP, no JSON, no session).
 *
 * One iteration is two round trips on one connection:
 *   HMGET P:s:<hex> data version created last_seen expires_at user addr
 *         agent                                  (crumb's rd_load)
 *   EVALSHA <crumb's S_SAVE script> 1 P:s:<hex> expected now data
 *         version+1 created last_seen expires_at user addr agent ttl_ms
 *         hex P:u:                               (crumb's rd_save)
 * with the script text taken from src/store/redis_scripts.h, so it is the
 * one crumb runs. THREADS threads each own one connection and take their
 * share of SESSIONS records in turn (session i goes to thread i % THREADS,
 * like bench/sessions.lua gives wrk's connections theirs). With -a, each
 * iteration also queues crumb-shop's analytics event, and every BATCH
 * iterations a thread pipelines the queued S_LOG_APPEND calls in one round
 * trip, as crumb-shop's writer thread does.
 *
 * Prints round trips/s, iterations/s, and the CPU time per iteration of
 * this client (all its threads) and of the redis-server (its PID from
 * INFO, its CPU from /proc/PID/stat: the server must be on this machine).
 *
 * Build (bench/http.sh does the same for mhd_hello.c):
 *   cc -O2 -std=c11 -D_DEFAULT_SOURCE -Iinclude -Isrc \
 *      -o redis_floor bench/peers/redis_floor.c \
 *      $(pkg-config --cflags --libs hiredis) -lpthread
 * Usage: redis_floor [-h HOST] [-p PORT] [-n DB] [-t THREADS] [-s SESSIONS]
 *                    [-d SECONDS] [-w WARMUP_SECONDS] [-a]
 *   defaults: 127.0.0.1 6379, db 1, 8 threads, 64 sessions, 10 s, 2 s.
 * The records it writes are prefixed "crumbfloor", not crumb's "crumb".
 */
#include <errno.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "store/redis_int.h"
#include "store/redis_scripts.h"

#define PREFIX "crumbfloor"
#define BATCH 256
#define LOG_CAP 1000
#define LOG_TTL (30 * 86400)

static const char *host = "127.0.0.1";
static int port = 6379, db = 1, nthreads = 8, nsessions = 64;
static int seconds = 10, warmup = 2, analytics;
static char save_sha[41], log_sha[41];
static atomic_int phase; /* 0 warm-up, 1 measuring, 2 stop */

typedef struct session {
    char key[96], hex[65], handle[17];
    int64_t version, created, visits;
} session;

static session *sessions;

typedef struct worker {
    pthread_t t;
    int id;
    uint64_t iters;  /* while measuring */
    uint64_t trips;  /* round trips while measuring */
    int failed;
} worker;

static int64_t
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec;
}

static double
mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static redisContext *
connect_db(void)
{
    struct timeval tv = {2, 0};
    redisContext *c = redisConnectWithTimeout(host, port, tv);
    if (!c || c->err) {
        fprintf(stderr, "redis_floor: %s:%d: %s\n", host, port,
                c ? c->errstr : "out of memory");
        exit(2);
    }
    redisSetTimeout(c, tv);
    redisReply *r = redisCommand(c, "SELECT %d", db);
    if (!r || r->type != REDIS_REPLY_STATUS) {
        fprintf(stderr, "redis_floor: SELECT %d failed\n", db);
        exit(2);
    }
    freeReplyObject(r);
    return c;
}

static void
script_load(redisContext *c, const char *text, char *sha)
{
    redisReply *r = redisCommand(c, "SCRIPT LOAD %s", text);
    if (!r || r->type != REDIS_REPLY_STRING || r->len != 40) {
        fprintf(stderr, "redis_floor: SCRIPT LOAD failed\n");
        exit(2);
    }
    memcpy(sha, r->str, 41);
    freeReplyObject(r);
}

static int64_t
reply_int(const redisReply *r)
{
    return r && r->type == REDIS_REPLY_STRING ? strtoll(r->str, NULL, 10)
                                              : -1;
}

/* One /visits: crumb's load, then crumb's save of the incremented
 * counter. Returns 0, or -1 on a transport or protocol failure. */
static int
visit(redisContext *c, session *s)
{
    static const char *const fields[] = {"data", "version", "created",
                                         "last_seen", "expires_at", "user",
                                         "addr", "agent"};
    const char *v[20];
    size_t l[20];
    int n = 0;
    v[n] = "HMGET", l[n++] = 5;
    v[n] = s->key, l[n++] = strlen(s->key);
    for (int i = 0; i < 8; i++)
        v[n] = fields[i], l[n++] = strlen(fields[i]);
    redisReply *r = redisCommandArgv(c, n, v, l);
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 8) {
        if (r)
            freeReplyObject(r);
        return -1;
    }
    int64_t version = reply_int(r->element[1]);
    if (version > 0) {
        s->version = version;
        s->created = reply_int(r->element[2]);
        const redisReply *d = r->element[0];
        const char *p = d->type == REDIS_REPLY_STRING
                            ? strchr(d->str, ':')
                            : NULL;
        s->visits = p ? strtoll(p + 1, NULL, 10) : s->visits;
    }
    freeReplyObject(r);

    int64_t now = now_s(), exp = now + 2678400 + 900;
    char data[64], num[8][24];
    snprintf(data, sizeof data, "{\"visits\":%" PRId64 "}", s->visits + 1);
    int64_t ints[] = {s->version, now, s->version + 1, s->created, now, exp,
                      (exp - now) * 1000};
    for (int i = 0; i < 7; i++)
        snprintf(num[i], sizeof num[i], "%" PRId64, ints[i]);
    char up[32];
    snprintf(up, sizeof up, "%s:u:", PREFIX);
    n = 0;
    v[n] = "EVALSHA", l[n++] = 7;
    v[n] = save_sha, l[n++] = 40;
    v[n] = "1", l[n++] = 1;
    v[n] = s->key, l[n++] = strlen(s->key);
    v[n] = num[0], l[n++] = strlen(num[0]); /* expected */
    v[n] = num[1], l[n++] = strlen(num[1]); /* now */
    v[n] = data, l[n++] = strlen(data);
    v[n] = num[2], l[n++] = strlen(num[2]); /* version */
    v[n] = num[3], l[n++] = strlen(num[3]); /* created */
    v[n] = num[4], l[n++] = strlen(num[4]); /* last_seen */
    v[n] = num[5], l[n++] = strlen(num[5]); /* expires_at */
    v[n] = "", l[n++] = 0;                  /* user */
    v[n] = "127.0.0.1", l[n++] = 9;         /* addr */
    v[n] = "", l[n++] = 0;                  /* agent */
    v[n] = num[6], l[n++] = strlen(num[6]); /* ttl_ms */
    v[n] = s->hex, l[n++] = 64;
    v[n] = up, l[n++] = strlen(up);
    r = redisCommandArgv(c, n, v, l);
    if (!r || r->type != REDIS_REPLY_INTEGER) {
        if (r && r->type == REDIS_REPLY_ERROR)
            fprintf(stderr, "redis_floor: save: %s\n", r->str);
        if (r)
            freeReplyObject(r);
        return -1;
    }
    if (r->integer == 1) {
        s->version++;
        s->visits++;
    } /* -1: another thread of ours saved first (never with one owner) */
    freeReplyObject(r);
    return 0;
}

/* crumb-shop's analytics: @k queued events, one pipelined round trip. */
static int
log_batch(redisContext *c, session *const *ev, int k)
{
    char now[24], exp[24], cap[24], ttl[24], item[64], name[64];
    int64_t t = now_s();
    snprintf(now, sizeof now, "%" PRId64, t);
    snprintf(exp, sizeof exp, "%" PRId64, t + LOG_TTL);
    snprintf(cap, sizeof cap, "%d", LOG_CAP);
    snprintf(ttl, sizeof ttl, "%lld", (long long)LOG_TTL * 1000);
    snprintf(item, sizeof item, "%" PRId64 " v /visits", t);
    for (int i = 0; i < k; i++) {
        snprintf(name, sizeof name, "%s:l:analytics:%s", PREFIX,
                 ev[i]->handle);
        const char *v[] = {"EVALSHA", log_sha, "1", name, item, now, exp,
                           cap, ttl};
        size_t l[9];
        for (int j = 0; j < 9; j++)
            l[j] = strlen(v[j]);
        if (redisAppendCommandArgv(c, 9, v, l) != REDIS_OK)
            return -1;
    }
    for (int i = 0; i < k; i++) {
        redisReply *r;
        if (redisGetReply(c, (void **)&r) != REDIS_OK)
            return -1;
        freeReplyObject(r);
    }
    return 0;
}

static void *
worker_main(void *arg)
{
    worker *w = arg;
    redisContext *c = connect_db();
    session *queued[BATCH];
    int nq = 0;
    int i = w->id;
    while (atomic_load(&phase) < 2) {
        int measuring = atomic_load(&phase) == 1;
        if (visit(c, &sessions[i]) != 0) {
            w->failed = 1;
            break;
        }
        if (measuring) {
            w->iters++;
            w->trips += 2;
        }
        if (analytics) {
            queued[nq++] = &sessions[i];
            if (nq == BATCH) {
                if (log_batch(c, queued, nq) != 0) {
                    w->failed = 1;
                    break;
                }
                if (measuring)
                    w->trips++;
                nq = 0;
            }
        }
        i += nthreads;
        if (i >= nsessions)
            i = w->id;
    }
    redisFree(c);
    return NULL;
}

/* utime + stime of @pid in seconds, or -1. */
static double
proc_cpu(long pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    unsigned long ut, st;
    /* after ")": state ppid pgrp session tty tpgid flags minflt cminflt
     * majflt cmajflt utime stime */
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
                            "%lu %lu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static double
self_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static long
server_pid(redisContext *c)
{
    redisReply *r = redisCommand(c, "INFO server");
    long pid = -1;
    const char *p;
    if (r && r->type == REDIS_REPLY_STRING &&
        (p = strstr(r->str, "process_id:")))
        pid = strtol(p + 11, NULL, 10);
    if (r)
        freeReplyObject(r);
    return pid;
}

/* Records as crumb would have created them: one visit each. */
static void
seed(redisContext *c)
{
    int64_t now = now_s();
    for (int i = 0; i < nsessions; i++) {
        session *s = &sessions[i];
        /* 64 hex digits, like crumb's SHA-256 record keys (splitmix64) */
        uint64_t x = (uint64_t)getpid() << 32 | (uint64_t)i;
        for (int j = 0; j < 4; j++) {
            uint64_t z = (x += 0x9e3779b97f4a7c15ull);
            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
            z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
            snprintf(s->hex + 16 * j, 17, "%016" PRIx64, z ^ (z >> 31));
        }
        memcpy(s->handle, s->hex, 16);
        s->handle[16] = '\0';
        snprintf(s->key, sizeof s->key, "%s:s:%s", PREFIX, s->hex);
        s->version = 1;
        s->created = now;
        s->visits = 1;
        redisReply *r = redisCommand(
            c,
            "HSET %s data {\"visits\":1} version 1 created %lld last_seen "
            "%lld expires_at %lld user %s addr 127.0.0.1 agent %s",
            s->key, (long long)now, (long long)now,
            (long long)(now + 2678400 + 900), "", "");
        if (r)
            freeReplyObject(r);
        r = redisCommand(c, "PEXPIRE %s %lld", s->key,
                         (long long)(2678400 + 900) * 1000);
        if (r)
            freeReplyObject(r);
    }
}

static void
unseed(redisContext *c)
{
    for (int i = 0; i < nsessions; i++) {
        redisReply *r = redisCommand(c, "DEL %s %s:l:analytics:%s",
                                     sessions[i].key, PREFIX,
                                     sessions[i].handle);
        if (r)
            freeReplyObject(r);
    }
}

int
main(int argc, char **argv)
{
    int opt;
    while ((opt = getopt(argc, argv, "h:p:n:t:s:d:w:a")) != -1) {
        switch (opt) {
        case 'h': host = optarg; break;
        case 'p': port = atoi(optarg); break;
        case 'n': db = atoi(optarg); break;
        case 't': nthreads = atoi(optarg); break;
        case 's': nsessions = atoi(optarg); break;
        case 'd': seconds = atoi(optarg); break;
        case 'w': warmup = atoi(optarg); break;
        case 'a': analytics = 1; break;
        default:
            fprintf(stderr, "usage: redis_floor [-h HOST] [-p PORT] [-n DB] "
                            "[-t THREADS] [-s SESSIONS] [-d SECONDS] "
                            "[-w WARMUP] [-a]\n");
            return 2;
        }
    }
    if (nthreads < 1 || nsessions < nthreads || seconds < 1 || warmup < 0) {
        fprintf(stderr, "redis_floor: need 1 <= THREADS <= SESSIONS, "
                        "SECONDS >= 1\n");
        return 2;
    }
    sessions = calloc((size_t)nsessions, sizeof *sessions);
    worker *w = calloc((size_t)nthreads, sizeof *w);
    if (!sessions || !w)
        return 2;
    redisContext *c = connect_db();
    script_load(c, scripts[S_SAVE], save_sha);
    script_load(c, scripts[S_LOG_APPEND], log_sha);
    long rpid = server_pid(c);
    seed(c);

    for (int i = 0; i < nthreads; i++) {
        w[i].id = i;
        pthread_create(&w[i].t, NULL, worker_main, &w[i]);
    }
    sleep((unsigned)warmup);
    double c0 = self_cpu(), r0 = proc_cpu(rpid), t0 = mono();
    atomic_store(&phase, 1);
    sleep((unsigned)seconds);
    atomic_store(&phase, 2);
    double c1 = self_cpu(), r1 = proc_cpu(rpid), t1 = mono();
    uint64_t iters = 0, trips = 0;
    int failed = 0;
    for (int i = 0; i < nthreads; i++) {
        pthread_join(w[i].t, NULL);
        iters += w[i].iters;
        trips += w[i].trips;
        failed |= w[i].failed;
    }
    unseed(c);
    redisFree(c);
    double el = t1 - t0;
    printf("redis_floor: %s:%d db %d, %d threads/connections, %d sessions, "
           "%.1f s%s\n",
           host, port, db, nthreads, nsessions, el,
           analytics ? ", with crumb-shop's analytics appends" : "");
    printf("  round trips/s   %10.0f\n", (double)trips / el);
    printf("  iterations/s    %10.0f   (one /visits: HMGET + EVALSHA save)\n",
           (double)iters / el);
    printf("  client cpu       %9.2f us/iteration\n",
           iters ? (c1 - c0) * 1e6 / (double)iters : 0);
    if (rpid > 0 && r0 >= 0 && r1 >= 0)
        printf("  redis-server cpu %9.2f us/iteration  (pid %ld)\n",
               iters ? (r1 - r0) * 1e6 / (double)iters : 0, rpid);
    else
        printf("  redis-server cpu       n/a (no /proc/PID/stat for it)\n");
    if (failed)
        fprintf(stderr, "redis_floor: a connection failed during the run\n");
    free(sessions);
    free(w);
    return failed ? 1 : 0;
}
