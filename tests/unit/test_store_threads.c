/* test_store_threads.c - saves from many threads at once on every backend:
 * each keeps every save, and sqlite savers that meet a write lock held
 * past the busy timeout all fail cleanly. */
#include <crumb/error.h>
#include <crumb/store.h>

#include <pthread.h>
#include <sched.h>
#include <sqlite3.h>

#include "test.h"

#include "store_backends.h"

#define THREADS 8
#define ROUNDS 120
#define SHARED_KEY 200 /* every thread also increments this record */

static crumb_store *g_shared; /* memory: one handle for all threads */

/* One more in record @n, for a user that depends on @n. */
static long
increment(crumb_store *st, int n)
{
    unsigned char key[32];
    mkkey(key, n);
    return cas_increment(st, key, n % 2 ? "odd" : "");
}

static void *
worker(void *arg)
{
    int id = (int)(long)arg;
    crumb_store *st = g_shared ? g_shared : open_store();
    long conflicts = 0;
    for (int i = 0; i < ROUNDS; i++) {
        conflicts += increment(st, id); /* its own record */
        conflicts += increment(st, SHARED_KEY);
    }
    if (!g_shared)
        crumb_store_close(st);
    return (void *)conflicts;
}

static void
check_count(crumb_store *st, int n, long want)
{
    unsigned char key[32];
    mkkey(key, n);
    crumb_store_record r;
    CHECK_RC(crumb_store_load(st, key, T0, &r), CRUMB_OK);
    char buf[32];
    CHECK(r.len < sizeof(buf));
    memcpy(buf, r.data, r.len);
    buf[r.len] = '\0';
    CHECK_INT(atol(buf), ==, want);
    CHECK_INT(r.version, ==, want);
    crumb_store_record_cleanup(&r);
}

/* Eight threads, one handle each (memory: one shared), each saving its
 * own record and one they all share: the saves of different records all
 * land, the ones of the shared record conflict and retry, and nothing is
 * lost. */
TEST(many_threads_many_records)
{
    crumb_store *st = open_store();
    g_shared = strcmp(g_backend, "memory") == 0 ? st : NULL;
    pthread_t th[THREADS];
    for (long i = 0; i < THREADS; i++)
        CHECK(pthread_create(&th[i], NULL, worker, (void *)(i + 1)) == 0);
    long conflicts = 0;
    for (int i = 0; i < THREADS; i++) {
        void *ret;
        pthread_join(th[i], &ret);
        conflicts += (long)ret;
    }
    for (int i = 1; i <= THREADS; i++)
        check_count(st, i, ROUNDS);
    check_count(st, SHARED_KEY, (long)THREADS * ROUNDS);
    /* The user index followed the saves. */
    crumb_store_record *recs = NULL;
    size_t n = 0;
    CHECK_RC(crumb_store_list_user(st, "odd", T0, &recs, &n), CRUMB_OK);
    CHECK_INT(n, ==, THREADS / 2);
    crumb_store_records_free(recs, n);
    crumb_store_close(st);
    printf("# %s many_threads_many_records: %ld conflicts retried\n",
           g_backend, conflicts);
}

static void *
busy_saver(void *arg)
{
    crumb_store *st = arg;
    unsigned char key[32];
    mkkey(key, 300);
    crumb_store_record w;
    mkrec(&w, "x", "", T0, T0 + 3600);
    return (void *)(long)crumb_store_save(st, key, &w, 0, T0);
}

/* Another process (here: another connection) holds the write lock past
 * the busy timeout: every save waiting for it is CRUMB_EUNAVAIL with
 * SQLite's message on its own handle, and nothing is written. */
TEST(sqlite_busy_savers_fail_cleanly)
{
    char uri[300], path[300];
    uri_for(uri, sizeof(uri));
    snprintf(path, sizeof(path), "%s", uri + strlen("sqlite:"));
    crumb_store_options o;
    crumb_store_options_init(&o);
    o.busy_timeout_ms = 200;
    crumb_store *st[4];
    for (int i = 0; i < 4; i++)
        CHECK_RC(crumb_store_open(&st[i], uri, &o), CRUMB_OK);
    sqlite3 *db;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) ==
          SQLITE_OK);
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        CHECK(pthread_create(&th[i], NULL, busy_saver, st[i]) == 0);
    for (int i = 0; i < 4; i++) {
        void *ret;
        pthread_join(th[i], &ret);
        CHECK_RC((int)(long)ret, CRUMB_EUNAVAIL);
        CHECK(strstr(crumb_store_errmsg(st[i]), "sqlite") != NULL);
    }
    CHECK(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    /* The lock is free again: the same save goes through. */
    CHECK_RC((int)(long)busy_saver(st[0]), CRUMB_OK);
    CHECK_RC((int)(long)busy_saver(st[1]), CRUMB_ECONFLICT);
    for (int i = 0; i < 4; i++)
        crumb_store_close(st[i]);
}

int
main(void)
{
    TEST_BEGIN();
    int nb = backends_setup("m");
    if (nb < 0)
        return 1;
    for (int b = 0; b < nb; b++)
        RUN_FOR(g_backends[b], many_threads_many_records);
    RUN_FOR("sqlite", sqlite_busy_savers_fail_cleanly);
    backends_cleanup();
    return TEST_END();
}
