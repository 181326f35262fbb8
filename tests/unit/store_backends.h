/* store_backends.h - run store tests once per backend: memory always,
 * sqlite on a fresh file in a temporary directory, redis when
 * CRUMB_TEST_REDIS=HOST:PORT is set (tests/run.sh starts one), each test
 * under its own file or key prefix. Include after test.h. */
#ifndef CRUMB_STORE_BACKENDS_H
#define CRUMB_STORE_BACKENDS_H

#include <crumb/error.h>
#include <crumb/store.h>

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *g_backend; /* "memory", "sqlite", "redis" */
static char g_dir[256];       /* temporary directory */
static const char *g_redis;   /* HOST:PORT or NULL */
static int g_seq;             /* makes each test's file/prefix unique */
static const char *g_tag = "t"; /* this program's files and prefixes */

#define T0 ((int64_t)1700000000)

/* The current test's store URI. */
static inline void
uri_for(char *out, size_t n)
{
    if (strcmp(g_backend, "memory") == 0)
        snprintf(out, n, "memory:");
    else if (strcmp(g_backend, "sqlite") == 0)
        snprintf(out, n, "sqlite:%s/%s%d.db", g_dir, g_tag, g_seq);
    else
        snprintf(out, n, "redis://%s/0?prefix=c%s%d-%d", g_redis, g_tag,
                 (int)getppid(), g_seq);
}

/* The current test's store, opened (the test fails otherwise). */
static inline crumb_store *
open_store(void)
{
    char uri[512], err[256] = "";
    crumb_store_options o;
    crumb_store_options_init(&o);
    o.errbuf = err;
    o.errbuf_size = sizeof(err);
    uri_for(uri, sizeof(uri));
    crumb_store *st = NULL;
    int rc = crumb_store_open(&st, uri, &o);
    if (rc != CRUMB_OK)
        T_FAIL_("open %s: %s: %s", uri, crumb_errname(rc), err);
    CHECK_STR(crumb_store_scheme(st), g_backend);
    return st;
}

/* A record key that differs for each @n. */
static inline void
mkkey(unsigned char *key, int n)
{
    for (int i = 0; i < CRUMB_STORE_KEY_LEN; i++)
        key[i] = (unsigned char)(n * 31 + i * 7 + 1);
}

/* A record with @text as data, for @user, expiring at @exp. */
static inline void
mkrec(crumb_store_record *r, const char *text, const char *user,
      int64_t last_seen, int64_t exp)
{
    memset(r, 0, sizeof(*r));
    r->data = (unsigned char *)text;
    r->len = strlen(text);
    r->created = T0;
    r->last_seen = last_seen;
    r->expires_at = exp;
    snprintf(r->user, sizeof(r->user), "%s", user);
    snprintf(r->addr, sizeof(r->addr), "192.0.2.7");
    snprintf(r->agent, sizeof(r->agent), "test-agent/1.0");
}

/*
 * Adds one to the decimal counter in record @key (absent: 0) with a
 * compare-and-set save at the loaded version, for @user; loads again on
 * a conflict, yielding in between load and save so that threads meet.
 * Returns how many conflicts it took.
 */
static inline long
cas_increment(crumb_store *st, const unsigned char *key, const char *user)
{
    for (long conflicts = 0;; conflicts++) {
        crumb_store_record r;
        long value = 0;
        int64_t version = 0;
        int rc = crumb_store_load(st, key, T0, &r);
        if (rc == CRUMB_OK) {
            char buf[32];
            CHECK(r.len < sizeof(buf));
            memcpy(buf, r.data, r.len);
            buf[r.len] = '\0';
            value = atol(buf);
            version = r.version;
            crumb_store_record_cleanup(&r);
        } else if (rc != CRUMB_ENOTFOUND) {
            T_FAIL_("load: %s: %s", crumb_errname(rc),
                    crumb_store_errmsg(st));
        }
        sched_yield(); /* let the others in between load and save */
        char text[32];
        snprintf(text, sizeof(text), "%ld", value + 1);
        crumb_store_record w;
        mkrec(&w, text, user, T0, T0 + 3600);
        rc = crumb_store_save(st, key, &w, version, T0);
        if (rc == CRUMB_OK) {
            CHECK_INT(w.version, ==, version + 1);
            return conflicts;
        }
        if (rc != CRUMB_ECONFLICT)
            T_FAIL_("save: %s: %s", crumb_errname(rc),
                    crumb_store_errmsg(st));
    }
}

typedef void (*test_fn)(void);

static inline void
run_for(const char *backend, const char *name, test_fn fn)
{
    char full[128];
    g_backend = backend;
    g_seq++;
    snprintf(full, sizeof(full), "%s/%s", backend, name);
    t_run_(full, fn);
}

#define RUN_FOR(backend, fn) run_for(backend, #fn, fn)

static const char *const g_backends[3] = {"memory", "sqlite", "redis"};

/* Makes the temporary directory and reads CRUMB_TEST_REDIS; returns how
 * many of g_backends to run (2 without redis), or -1. */
static inline int
backends_setup(const char *tag)
{
    g_tag = tag;
    const char *tmp = getenv("TMPDIR");
    snprintf(g_dir, sizeof(g_dir), "%s/crumb-%s-XXXXXX",
             tmp && *tmp ? tmp : "/tmp", tag);
    if (!mkdtemp(g_dir)) {
        perror("mkdtemp");
        return -1;
    }
    g_redis = getenv("CRUMB_TEST_REDIS");
    if (g_redis && !*g_redis)
        g_redis = NULL;
    if (!g_redis)
        printf("# CRUMB_TEST_REDIS unset: the redis backend is skipped\n");
    return g_redis ? 3 : 2;
}

static inline void
backends_cleanup(void)
{
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", g_dir);
}

#endif
