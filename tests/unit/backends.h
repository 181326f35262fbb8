/* backends.h - run a unit test once per store backend: memory, sqlite on
 * a fresh file, and redis when CRUMB_TEST_REDIS=HOST:PORT is set (each
 * test under its own key prefix). Include after test.h. */
#ifndef CRUMB_TEST_BACKENDS_H
#define CRUMB_TEST_BACKENDS_H

#include <crumb/error.h>
#include <crumb/store.h>

static const char *b_backend_;
static char b_dir_[256];
static const char *b_redis_;
static int b_seq_;
static int b_pid_; /* the runner's pid: one prefix per run */

/* A fresh, empty store of the current backend; fails the test if not. */
static crumb_store *
b_open_store(void)
{
    char uri[512];
    if (strcmp(b_backend_, "memory") == 0)
        snprintf(uri, sizeof(uri), "memory:");
    else if (strcmp(b_backend_, "sqlite") == 0)
        snprintf(uri, sizeof(uri), "sqlite:%s/t%d.db", b_dir_, b_seq_);
    else
        snprintf(uri, sizeof(uri), "redis://%s/0?prefix=cb%d-%d", b_redis_,
                 b_pid_, b_seq_);
    crumb_store *st = NULL;
    char err[256] = "";
    crumb_store_options o;
    crumb_store_options_init(&o);
    o.errbuf = err;
    o.errbuf_size = sizeof(err);
    int rc = crumb_store_open(&st, uri, &o);
    if (rc != CRUMB_OK)
        T_FAIL_("crumb_store_open(%s): %s: %s", uri, crumb_errname(rc), err);
    return st;
}

/* A second handle on the same store (another "server"). */
static crumb_store *
b_open_again(crumb_store *first)
{
    if (strcmp(b_backend_, "memory") == 0)
        return NULL;
    return b_open_store();
}

static int
b_setup(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(b_dir_, sizeof(b_dir_), "%s/crumb-unit-XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(b_dir_)) {
        perror("mkdtemp");
        return -1;
    }
    b_pid_ = (int)getpid();
    b_redis_ = getenv("CRUMB_TEST_REDIS");
    if (b_redis_ && !*b_redis_)
        b_redis_ = NULL;
    if (!b_redis_)
        printf("# CRUMB_TEST_REDIS unset: the redis backend is skipped\n");
    return b_redis_ ? 3 : 2;
}

static const char *const b_names_[3] = {"memory", "sqlite", "redis"};

static void
b_run(int backend, const char *name, void (*fn)(void))
{
    char full[128];
    b_backend_ = b_names_[backend];
    b_seq_++;
    snprintf(full, sizeof(full), "%s/%s", b_backend_, name);
    t_run_(full, fn);
}

#define RUN_B(backend, fn) b_run(backend, #fn, fn)

static void
b_teardown(void)
{
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", b_dir_);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", b_dir_);
}

#endif
