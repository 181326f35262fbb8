/* test_store.c - one conformance suite run against every store backend. */
#include <crumb/error.h>
#include <crumb/store.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <sqlite3.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include "test.h"

#include "store_backends.h"

/*
 * Each test runs once per backend: memory always, sqlite on a fresh file
 * in a temporary directory, redis when CRUMB_TEST_REDIS=HOST:PORT is set
 * (tests/lib/redis.sh starts one), each test under its own key prefix.
 * The down/restart tests start a private redis-server of their own.
 */

TEST(round_trip)
{
    crumb_store *st = open_store();
    unsigned char key[32];
    mkkey(key, 1);
    crumb_store_record w, r;
    mkrec(&w, "{\"a\":1}", "alice", T0 + 5, T0 + 3600);
    CHECK_RC(crumb_store_save(st, key, &w, 0, T0), CRUMB_OK);
    CHECK_INT(w.version, ==, 1);
    CHECK_MEM(w.key, 32, key, 32);
    CHECK_RC(crumb_store_load(st, key, T0 + 1, &r), CRUMB_OK);
    CHECK_MEM(r.data, r.len, "{\"a\":1}", 7);
    CHECK_INT(r.version, ==, 1);
    CHECK_INT(r.created, ==, T0);
    CHECK_INT(r.last_seen, ==, T0 + 5);
    CHECK_INT(r.expires_at, ==, T0 + 3600);
    CHECK_STR(r.user, "alice");
    CHECK_STR(r.addr, "192.0.2.7");
    CHECK_STR(r.agent, "test-agent/1.0");
    CHECK_MEM(r.key, 32, key, 32);
    crumb_store_record_cleanup(&r);
    CHECK(r.data == NULL);

    /* Another key is absent; created/last_seen 0 become now. */
    unsigned char k2[32];
    mkkey(k2, 2);
    CHECK_RC(crumb_store_load(st, k2, T0, &r), CRUMB_ENOTFOUND);
    mkrec(&w, "", "", 0, 0);
    w.created = 0;
    CHECK_RC(crumb_store_save(st, k2, &w, 0, T0 + 9), CRUMB_OK);
    CHECK_RC(crumb_store_load(st, k2, T0 + 99999999, &r), CRUMB_OK);
    CHECK_INT(r.len, ==, 0);
    CHECK(r.data != NULL);
    CHECK_INT(r.created, ==, T0 + 9);
    CHECK_INT(r.last_seen, ==, T0 + 9);
    CHECK_INT(r.expires_at, ==, 0);
    crumb_store_record_cleanup(&r);
    crumb_store_close(st);
}

TEST(cas_overwrite)
{
    crumb_store *st = open_store();
    unsigned char key[32];
    mkkey(key, 3);
    crumb_store_record w, r;
    mkrec(&w, "one", "", T0, T0 + 100);
    CHECK_RC(crumb_store_save(st, key, &w, 0, T0), CRUMB_OK);
    mkrec(&w, "two, longer", "bob", T0 + 1, T0 + 200);
    CHECK_RC(crumb_store_save(st, key, &w, 1, T0 + 1), CRUMB_OK);
    CHECK_INT(w.version, ==, 2);
    mkrec(&w, "3", "bob", T0 + 2, T0 + 300);
    CHECK_RC(crumb_store_save(st, key, &w, 2, T0 + 2), CRUMB_OK);
    CHECK_INT(w.version, ==, 3);
    CHECK_RC(crumb_store_load(st, key, T0 + 2, &r), CRUMB_OK);
    CHECK_MEM(r.data, r.len, "3", 1);
    CHECK_INT(r.version, ==, 3);
    CHECK_INT(r.expires_at, ==, T0 + 300);
    CHECK_STR(r.user, "bob");
    crumb_store_record_cleanup(&r);
    crumb_store_close(st);
}

TEST(conflict_on_stale_version)
{
    crumb_store *st = open_store();
    unsigned char key[32];
    mkkey(key, 4);
    crumb_store_record w, r;
    mkrec(&w, "base", "", T0, T0 + 100);
    CHECK_RC(crumb_store_save(st, key, &w, 0, T0), CRUMB_OK);
    mkrec(&w, "A", "", T0, T0 + 100);
    CHECK_RC(crumb_store_save(st, key, &w, 1, T0), CRUMB_OK);
    mkrec(&w, "B (stale)", "", T0, T0 + 100);
    CHECK_RC(crumb_store_save(st, key, &w, 1, T0), CRUMB_ECONFLICT);
    CHECK_RC(crumb_store_save(st, key, &w, 7, T0), CRUMB_ECONFLICT);
    CHECK_RC(crumb_store_load(st, key, T0, &r), CRUMB_OK);
    CHECK_MEM(r.data, r.len, "A", 1);
    CHECK_INT(r.version, ==, 2);
    crumb_store_record_cleanup(&r);
    /* Saving a version of a record that does not exist. */
    unsigned char k2[32];
    mkkey(k2, 5);
    CHECK_RC(crumb_store_save(st, k2, &w, 1, T0), CRUMB_ENOTFOUND);
    crumb_store_close(st);
}

TEST(create_must_not_exist)
{
    crumb_store *st = open_store();
    unsigned char key[32];
    mkkey(key, 6);
    crumb_store_record w, r;
    mkrec(&w, "first", "", T0, T0 + 100);
    CHECK_RC(crumb_store_save(st, key, &w, 0, T0), CRUMB_OK);
    mkrec(&w, "second", "", T0, T0 + 100);
    CHECK_RC(crumb_store_save(st, key, &w, 0, T0 + 50), CRUMB_ECONFLICT);
    CHECK_RC(crumb_store_load(st, key, T0, &r), CRUMB_OK);
    CHECK_MEM(r.data, r.len, "first", 5);
    crumb_store_record_cleanup(&r);
    /* Once expired, the key may be created again, from version 1. */
    mkrec(&w, "again", "", T0 + 100, T0 + 500);
    CHECK_RC(crumb_store_save(st, key, &w, 1, T0 + 100), CRUMB_ENOTFOUND);
    CHECK_RC(crumb_store_save(st, key, &w, 0, T0 + 100), CRUMB_OK);
    CHECK_INT(w.version, ==, 1);
    CHECK_RC(crumb_store_load(st, key, T0 + 100, &r), CRUMB_OK);
    CHECK_MEM(r.data, r.len, "again", 5);
    crumb_store_record_cleanup(&r);
    crumb_store_close(st);
}

TEST(destroy)
{
    crumb_store *st = open_store();
    unsigned char key[32];
    mkkey(key, 7);
    crumb_store_record w, r;
    mkrec(&w, "x", "carol", T0, T0 + 100);
    CHECK_RC(crumb_store_save(st, key, &w, 0, T0), CRUMB_OK);
    CHECK_RC(crumb_store_destroy(st, key), CRUMB_OK);
    CHECK_RC(crumb_store_load(st, key, T0, &r), CRUMB_ENOTFOUND);
    CHECK_RC(crumb_store_destroy(st, key), CRUMB_ENOTFOUND);
    crumb_store_record *list;
    size_t n;
    CHECK_RC(crumb_store_list_user(st, "carol", T0, &list, &n), CRUMB_OK);
    CHECK_INT(n, ==, 0);
    crumb_store_records_free(list, n);
    /* A stale writer cannot bring it back. */
    CHECK_RC(crumb_store_save(st, key, &w, 1, T0), CRUMB_ENOTFOUND);
    crumb_store_close(st);
}

TEST(expiry_by_callers_clock)
{
    crumb_store *st = open_store();
    unsigned char key[32];
    mkkey(key, 8);
    crumb_store_record w, r;
    mkrec(&w, "soon gone", "", T0, T0 + 60);
    CHECK_RC(crumb_store_save(st, key, &w, 0, T0), CRUMB_OK);
    CHECK_RC(crumb_store_load(st, key, T0 + 59, &r), CRUMB_OK);
    crumb_store_record_cleanup(&r);
    CHECK_RC(crumb_store_load(st, key, T0 + 60, &r), CRUMB_ENOTFOUND);
    CHECK_RC(crumb_store_load(st, key, T0 + 10000, &r), CRUMB_ENOTFOUND);
    CHECK_RC(crumb_store_touch(st, key, T0 + 61, T0 + 999, T0 + 61),
             CRUMB_ENOTFOUND);
    /* Saving an already expired record is refused. */
    mkrec(&w, "dead", "", T0, T0 + 5);
    CHECK_RC(crumb_store_save(st, key, &w, 0, T0 + 5), CRUMB_EINVAL);
    crumb_store_close(st);
}

TEST(large_value)
{
    crumb_store *st = open_store();
    size_t len = 1024 * 1024;
    unsigned char *big = malloc(len);
    CHECK(big != NULL);
    for (size_t i = 0; i < len; i++)
        big[i] = (unsigned char)(i * 2654435761u >> 13);
    unsigned char key[32];
    mkkey(key, 9);
    crumb_store_record w, r;
    mkrec(&w, "", "", T0, T0 + 100);
    w.data = big;
    w.len = len;
    CHECK_RC(crumb_store_save(st, key, &w, 0, T0), CRUMB_OK);
    CHECK_RC(crumb_store_load(st, key, T0, &r), CRUMB_OK);
    CHECK_MEM(r.data, r.len, big, len);
    crumb_store_record_cleanup(&r);
    /* Past the limit: refused before the backend sees it. */
    unsigned char *huge = calloc(1, CRUMB_STORE_DATA_MAX_DEFAULT + 1);
    CHECK(huge != NULL);
    w.data = huge;
    w.len = CRUMB_STORE_DATA_MAX_DEFAULT + 1;
    CHECK_RC(crumb_store_save(st, key, &w, 1, T0), CRUMB_ETOOBIG);
    free(huge);
    free(big);
    crumb_store_close(st);
}

TEST(binary_value)
{
    crumb_store *st = open_store();
    unsigned char bin[512];
    for (int i = 0; i < 512; i++)
        bin[i] = (unsigned char)(i < 256 ? i : 511 - i);
    unsigned char key[32];
    mkkey(key, 10);
    key[0] = 0; /* keys are binary too */
    key[31] = 0xff;
    crumb_store_record w, r;
    mkrec(&w, "", "", T0, T0 + 100);
    w.data = bin;
    w.len = sizeof(bin);
    CHECK_RC(crumb_store_save(st, key, &w, 0, T0), CRUMB_OK);
    CHECK_RC(crumb_store_load(st, key, T0, &r), CRUMB_OK);
    CHECK_MEM(r.data, r.len, bin, sizeof(bin));
    crumb_store_record_cleanup(&r);
    /* All NUL bytes. */
    unsigned char zeros[100] = {0};
    w.data = zeros;
    w.len = sizeof(zeros);
    CHECK_RC(crumb_store_save(st, key, &w, 1, T0), CRUMB_OK);
    CHECK_RC(crumb_store_load(st, key, T0, &r), CRUMB_OK);
    CHECK_MEM(r.data, r.len, zeros, sizeof(zeros));
    crumb_store_record_cleanup(&r);
    crumb_store_close(st);
}

TEST(touch)
{
    crumb_store *st = open_store();
    unsigned char key[32];
    mkkey(key, 11);
    crumb_store_record w, r;
    mkrec(&w, "keep", "dave", T0, T0 + 100);
    CHECK_RC(crumb_store_save(st, key, &w, 0, T0), CRUMB_OK);
    CHECK_RC(crumb_store_touch(st, key, T0 + 90, T0 + 190, T0 + 90),
             CRUMB_OK);
    CHECK_RC(crumb_store_load(st, key, T0 + 150, &r), CRUMB_OK);
    CHECK_MEM(r.data, r.len, "keep", 4);
    CHECK_INT(r.last_seen, ==, T0 + 90);
    CHECK_INT(r.expires_at, ==, T0 + 190);
    CHECK_INT(r.version, ==, 1); /* touch does not bump the version */
    crumb_store_record_cleanup(&r);
    /* A save based on the version before the touch still goes through. */
    mkrec(&w, "after", "dave", T0 + 150, T0 + 400);
    CHECK_RC(crumb_store_save(st, key, &w, 1, T0 + 150), CRUMB_OK);
    unsigned char k2[32];
    mkkey(k2, 12);
    CHECK_RC(crumb_store_touch(st, k2, T0, T0 + 10, T0), CRUMB_ENOTFOUND);
    CHECK_RC(crumb_store_touch(st, key, T0, T0 + 10, T0 + 20), CRUMB_EINVAL);
    /* Touch to "never expires". */
    CHECK_RC(crumb_store_touch(st, key, T0 + 160, 0, T0 + 160), CRUMB_OK);
    CHECK_RC(crumb_store_load(st, key, T0 + 9999999, &r), CRUMB_OK);
    CHECK_INT(r.expires_at, ==, 0);
    crumb_store_record_cleanup(&r);
    crumb_store_close(st);
}

TEST(list_user_ordering)
{
    crumb_store *st = open_store();
    unsigned char k[6][32];
    crumb_store_record w;
    int64_t seen[6] = {T0 + 30, T0 + 10, T0 + 50, T0 + 20, T0 + 40, T0};
    for (int i = 0; i < 6; i++) {
        mkkey(k[i], 20 + i);
        /* #5 belongs to someone else, #3 expires before "now" below. */
        mkrec(&w, "d", i == 5 ? "frank" : "erin", seen[i],
              i == 3 ? T0 + 60 : T0 + 1000);
        CHECK_RC(crumb_store_save(st, k[i], &w, 0, T0), CRUMB_OK);
    }
    crumb_store_record *list;
    size_t n;
    CHECK_RC(crumb_store_list_user(st, "erin", T0 + 100, &list, &n),
             CRUMB_OK);
    CHECK_INT(n, ==, 4);
    CHECK_INT(list[0].last_seen, ==, T0 + 50);
    CHECK_MEM(list[0].key, 32, k[2], 32);
    CHECK_INT(list[1].last_seen, ==, T0 + 40);
    CHECK_INT(list[2].last_seen, ==, T0 + 30);
    CHECK_INT(list[3].last_seen, ==, T0 + 10);
    CHECK_MEM(list[3].key, 32, k[1], 32);
    for (size_t i = 0; i < n; i++) {
        CHECK(list[i].data == NULL);
        CHECK_STR(list[i].user, "erin");
        CHECK_STR(list[i].agent, "test-agent/1.0");
        CHECK_INT(list[i].version, ==, 1);
    }
    crumb_store_records_free(list, n);
    CHECK_RC(crumb_store_list_user(st, "nobody", T0, &list, &n), CRUMB_OK);
    CHECK_INT(n, ==, 0);
    crumb_store_records_free(list, n);
    CHECK_RC(crumb_store_list_user(st, "", T0, &list, &n), CRUMB_EINVAL);
    /* A record that changes owner leaves the old owner's list. */
    mkrec(&w, "d", "frank", T0 + 70, T0 + 1000);
    CHECK_RC(crumb_store_save(st, k[0], &w, 1, T0 + 70), CRUMB_OK);
    CHECK_RC(crumb_store_list_user(st, "erin", T0 + 70, &list, &n),
             CRUMB_OK);
    CHECK_INT(n, ==, 3);
    crumb_store_records_free(list, n);
    CHECK_RC(crumb_store_list_user(st, "frank", T0 + 70, &list, &n),
             CRUMB_OK);
    CHECK_INT(n, ==, 2);
    CHECK_MEM(list[0].key, 32, k[0], 32);
    crumb_store_records_free(list, n);
    crumb_store_close(st);
}

TEST(list_all_ordering)
{
    crumb_store *st = open_store();
    crumb_store_record *list;
    size_t n;
    CHECK_RC(crumb_store_list_all(st, T0, 10, &list, &n), CRUMB_OK);
    CHECK_INT(n, ==, 0);
    CHECK(list == NULL);
    unsigned char k[6][32];
    crumb_store_record w;
    int64_t seen[6] = {T0 + 30, T0 + 10, T0 + 50, T0 + 20, T0 + 40, T0};
    const char *users[6] = {"erin", "", "frank", "erin", "", "gus"};
    for (int i = 0; i < 6; i++) {
        mkkey(k[i], 60 + i);
        /* #3 expires before "now" below. */
        mkrec(&w, "d", users[i], seen[i], i == 3 ? T0 + 60 : T0 + 1000);
        CHECK_RC(crumb_store_save(st, k[i], &w, 0, T0), CRUMB_OK);
    }
    /* Every user, anonymous ones too, newest first, without data. */
    CHECK_RC(crumb_store_list_all(st, T0 + 100, 10, &list, &n), CRUMB_OK);
    CHECK_INT(n, ==, 5);
    static const int order[5] = {2, 4, 0, 1, 5};
    for (size_t i = 0; i < n; i++) {
        CHECK_MEM(list[i].key, 32, k[order[i]], 32);
        CHECK_INT(list[i].last_seen, ==, seen[order[i]]);
        CHECK_STR(list[i].user, users[order[i]]);
        CHECK(list[i].data == NULL);
        CHECK_INT(list[i].len, ==, 0);
        CHECK_INT(list[i].created, ==, T0);
        CHECK_INT(list[i].expires_at, ==, T0 + 1000);
        CHECK_INT(list[i].version, ==, 1);
        CHECK_STR(list[i].addr, "192.0.2.7");
        CHECK_STR(list[i].agent, "test-agent/1.0");
    }
    crumb_store_records_free(list, n);
    /* The limit keeps the newest. */
    CHECK_RC(crumb_store_list_all(st, T0 + 100, 2, &list, &n), CRUMB_OK);
    CHECK_INT(n, ==, 2);
    CHECK_MEM(list[0].key, 32, k[2], 32);
    CHECK_MEM(list[1].key, 32, k[4], 32);
    crumb_store_records_free(list, n);
    /* Before #3 expires it is listed; after destroy, #2 is not. */
    CHECK_RC(crumb_store_list_all(st, T0 + 59, 100, &list, &n), CRUMB_OK);
    CHECK_INT(n, ==, 6);
    crumb_store_records_free(list, n);
    CHECK_RC(crumb_store_destroy(st, k[2]), CRUMB_OK);
    CHECK_RC(crumb_store_list_all(st, T0 + 100, 100, &list, &n), CRUMB_OK);
    CHECK_INT(n, ==, 4);
    CHECK_MEM(list[0].key, 32, k[4], 32);
    crumb_store_records_free(list, n);
    /* kv entries and counters are not sessions. */
    int64_t v;
    CHECK_RC(crumb_store_kv_set(st, "some-kv", "x", 1, 0, T0), CRUMB_OK);
    CHECK_RC(crumb_store_incr_counter(st, "some-counter", 1, 0, T0, &v),
             CRUMB_OK);
    CHECK_RC(crumb_store_list_all(st, T0 + 100, 100, &list, &n), CRUMB_OK);
    CHECK_INT(n, ==, 4);
    crumb_store_records_free(list, n);
    CHECK_RC(crumb_store_list_all(st, T0, 0, &list, &n), CRUMB_EINVAL);
    CHECK_RC(crumb_store_list_all(st, T0, 1, NULL, &n), CRUMB_EINVAL);
    crumb_store_close(st);
}

/* More records than one redis SCAN step, and than the limit: the newest
 * `limit` come back, in order, each once. */
TEST(list_all_bounded)
{
    crumb_store *st = open_store();
    enum { N = 1300, LIMIT = 1000 };
    crumb_store_record w;
    for (int i = 0; i < N; i++) {
        unsigned char key[32];
        mkkey(key, 1000 + i);
        memcpy(key, &i, sizeof(i)); /* distinct keys */
        /* last_seen spread so that ties occur too (i / 2). */
        mkrec(&w, "d", i % 3 ? "many" : "", T0 + (i * 7919 % N) / 2,
              T0 + 5000);
        CHECK_RC(crumb_store_save(st, key, &w, 0, T0), CRUMB_OK);
    }
    crumb_store_record *list;
    size_t n;
    CHECK_RC(crumb_store_list_all(st, T0 + 1, LIMIT, &list, &n), CRUMB_OK);
    CHECK_INT(n, ==, LIMIT);
    /* Sorted by last_seen descending, then key; the oldest kept is no
     * older than any left out: the cut is at rank LIMIT of N. */
    for (size_t i = 1; i < n; i++) {
        CHECK(list[i - 1].last_seen >= list[i].last_seen);
        if (list[i - 1].last_seen == list[i].last_seen)
            CHECK(memcmp(list[i - 1].key, list[i].key, 32) < 0);
    }
    CHECK_INT(list[0].last_seen, ==, T0 + (N - 1) / 2);
    CHECK_INT(list[n - 1].last_seen, ==, T0 + (N - LIMIT) / 2);
    crumb_store_records_free(list, n);
    CHECK_RC(crumb_store_list_all(st, T0 + 1, 100000, &list, &n), CRUMB_OK);
    CHECK_INT(n, ==, N);
    crumb_store_records_free(list, n);
    crumb_store_close(st);
}

/* A backend table of version 1 ends before list_all: the wrapper must not
 * read past it. */
static int
v1_open(crumb_store *st, const char *uri, const crumb_store_options *o,
        void **impl)
{
    *impl = NULL;
    return CRUMB_OK;
}

static void
v1_close(void *impl)
{
}

TEST(list_all_unsupported)
{
    struct {
        crumb_store_ops ops;
    } v1 = {{.version = 1, .scheme = "old", .open = v1_open,
             .close = v1_close}};
    crumb_store *st;
    crumb_store_record dummy, *list = &dummy;
    size_t n = 7;
    CHECK_RC(crumb_store_open_ops(&st, &v1.ops, "old:", NULL), CRUMB_OK);
    /* Garbage where a version 1 table would have ended. */
    v1.ops.list_all = (int (*)(crumb_store *, int64_t, size_t,
                               crumb_store_record **, size_t *))1;
    CHECK_RC(crumb_store_list_all(st, T0, 10, &list, &n),
             CRUMB_EUNSUPPORTED);
    CHECK(list == NULL);
    CHECK_INT(n, ==, 0);
    CHECK(strstr(crumb_store_errmsg(st), "cannot list") != NULL);
    crumb_store_close(st);
    v1.ops.version = 2;
    v1.ops.list_all = NULL;
    CHECK_RC(crumb_store_open_ops(&st, &v1.ops, "old:", NULL), CRUMB_OK);
    CHECK_RC(crumb_store_list_all(st, T0, 10, &list, &n),
             CRUMB_EUNSUPPORTED);
    crumb_store_close(st);
    v1.ops.version = CRUMB_STORE_OPS_VERSION + 1;
    CHECK_RC(crumb_store_open_ops(&st, &v1.ops, "old:", NULL),
             CRUMB_EUNSUPPORTED);
}

TEST(destroy_user_except)
{
    crumb_store *st = open_store();
    unsigned char k[5][32];
    crumb_store_record w, r;
    for (int i = 0; i < 5; i++) {
        mkkey(k[i], 40 + i);
        mkrec(&w, "d", i == 4 ? "other" : "gina", T0 + i, T0 + 1000);
        CHECK_RC(crumb_store_save(st, k[i], &w, 0, T0), CRUMB_OK);
    }
    size_t count = 99;
    CHECK_RC(crumb_store_destroy_user(st, "gina", k[1], &count), CRUMB_OK);
    CHECK_INT(count, ==, 3);
    CHECK_RC(crumb_store_load(st, k[0], T0, &r), CRUMB_ENOTFOUND);
    CHECK_RC(crumb_store_load(st, k[2], T0, &r), CRUMB_ENOTFOUND);
    CHECK_RC(crumb_store_load(st, k[1], T0, &r), CRUMB_OK);
    crumb_store_record_cleanup(&r);
    CHECK_RC(crumb_store_load(st, k[4], T0, &r), CRUMB_OK);
    crumb_store_record_cleanup(&r);
    crumb_store_record *list;
    size_t n;
    CHECK_RC(crumb_store_list_user(st, "gina", T0, &list, &n), CRUMB_OK);
    CHECK_INT(n, ==, 1);
    CHECK_MEM(list[0].key, 32, k[1], 32);
    crumb_store_records_free(list, n);
    CHECK_RC(crumb_store_destroy_user(st, "gina", NULL, &count), CRUMB_OK);
    CHECK_INT(count, ==, 1);
    CHECK_RC(crumb_store_destroy_user(st, "gina", NULL, NULL), CRUMB_OK);
    CHECK_RC(crumb_store_load(st, k[1], T0, &r), CRUMB_ENOTFOUND);
    crumb_store_close(st);
}

TEST(gc)
{
    crumb_store *st = open_store();
    unsigned char k[6][32];
    crumb_store_record w, r;
    for (int i = 0; i < 6; i++) {
        mkkey(k[i], 60 + i);
        mkrec(&w, "d", i % 2 ? "hank" : "", T0,
              i < 4 ? T0 + 10 + i : 0);
        CHECK_RC(crumb_store_save(st, k[i], &w, 0, T0), CRUMB_OK);
    }
    CHECK_RC(crumb_store_kv_set(st, "kv-old", "x", 1, 5, T0), CRUMB_OK);
    size_t removed = 99;
    CHECK_RC(crumb_store_gc(st, T0 + 5, &removed), CRUMB_OK);
    CHECK_INT(removed, ==, 0);
    CHECK_RC(crumb_store_gc(st, T0 + 100, &removed), CRUMB_OK);
    if (strcmp(g_backend, "redis") == 0)
        CHECK_INT(removed, ==, 2); /* the indexed (user) ones; TTL does
                                      the anonymous ones */
    else
        CHECK_INT(removed, ==, 4);
    for (int i = 0; i < 6; i++) {
        CHECK_RC(crumb_store_load(st, k[i], T0 + 100, &r),
                 i < 4 ? CRUMB_ENOTFOUND : CRUMB_OK);
        crumb_store_record_cleanup(&r);
    }
    crumb_store_record *list;
    size_t n;
    CHECK_RC(crumb_store_list_user(st, "hank", T0 + 100, &list, &n),
             CRUMB_OK);
    CHECK_INT(n, ==, 1);
    crumb_store_records_free(list, n);
    crumb_store_close(st);
}

TEST(counters)
{
    crumb_store *st = open_store();
    int64_t v = -1;
    CHECK_RC(crumb_store_incr_counter(st, "login:alice", 1, 60, T0, &v),
             CRUMB_OK);
    CHECK_INT(v, ==, 1);
    CHECK_RC(crumb_store_incr_counter(st, "login:alice", 1, 60, T0 + 30, &v),
             CRUMB_OK);
    CHECK_INT(v, ==, 2);
    CHECK_RC(crumb_store_incr_counter(st, "login:alice", 5, 60, T0 + 59, &v),
             CRUMB_OK);
    CHECK_INT(v, ==, 7);
    /* The window counts from the first increment: at T0+60 it restarts. */
    CHECK_RC(crumb_store_incr_counter(st, "login:alice", 1, 60, T0 + 60, &v),
             CRUMB_OK);
    CHECK_INT(v, ==, 1);
    CHECK_RC(crumb_store_incr_counter(st, "login:alice", 1, 60, T0 + 119,
                                      &v),
             CRUMB_OK);
    CHECK_INT(v, ==, 2);
    /* Independent names; reading is adding 0; windows of 0 never end. */
    CHECK_RC(crumb_store_incr_counter(st, "login:bob", 0, 60, T0, &v),
             CRUMB_OK);
    CHECK_INT(v, ==, 0);
    CHECK_RC(crumb_store_incr_counter(st, "forever", -3, 0, T0, &v),
             CRUMB_OK);
    CHECK_RC(crumb_store_incr_counter(st, "forever", 1, 0, T0 + 1000000000,
                                      &v),
             CRUMB_OK);
    CHECK_INT(v, ==, -2);
    CHECK_RC(crumb_store_incr_counter(st, "", 1, 60, T0, &v), CRUMB_EINVAL);
    CHECK_RC(crumb_store_incr_counter(st, "x", 1, -1, T0, &v), CRUMB_EINVAL);
    /* Counters and kv values live in separate namespaces. */
    CHECK_RC(crumb_store_kv_set(st, "login:alice", "kv", 2, 0, T0),
             CRUMB_OK);
    CHECK_RC(crumb_store_incr_counter(st, "login:alice", 1, 60, T0 + 119,
                                      &v),
             CRUMB_OK);
    CHECK_INT(v, ==, 3);
    crumb_store_close(st);
}

TEST(kv)
{
    crumb_store *st = open_store();
    unsigned char *d;
    size_t len;
    const unsigned char val[] = {0, 1, 2, 0, 255, 'x'};
    CHECK_RC(crumb_store_kv_set(st, "remember:abc", val, sizeof(val), 100,
                                T0),
             CRUMB_OK);
    CHECK_RC(crumb_store_kv_get(st, "remember:abc", T0 + 99, &d, &len),
             CRUMB_OK);
    CHECK_MEM(d, len, val, sizeof(val));
    free(d);
    CHECK_RC(crumb_store_kv_get(st, "remember:abc", T0 + 100, &d, &len),
             CRUMB_ENOTFOUND);
    CHECK(d == NULL);
    CHECK_RC(crumb_store_kv_set(st, "remember:abc", "new", 3, 0, T0),
             CRUMB_OK);
    CHECK_RC(crumb_store_kv_get(st, "remember:abc", T0 + 100000000, &d,
                                &len),
             CRUMB_OK);
    CHECK_MEM(d, len, "new", 3);
    CHECK_INT(d[len], ==, 0);
    free(d);
    CHECK_RC(crumb_store_kv_set(st, "empty", NULL, 0, 10, T0), CRUMB_OK);
    CHECK_RC(crumb_store_kv_get(st, "empty", T0, &d, &len), CRUMB_OK);
    CHECK_INT(len, ==, 0);
    free(d);
    CHECK_RC(crumb_store_kv_del(st, "remember:abc"), CRUMB_OK);
    CHECK_RC(crumb_store_kv_del(st, "remember:abc"), CRUMB_ENOTFOUND);
    CHECK_RC(crumb_store_kv_get(st, "remember:abc", T0, &d, &len),
             CRUMB_ENOTFOUND);
    char longname[CRUMB_STORE_NAME_MAX + 2];
    memset(longname, 'n', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    CHECK_RC(crumb_store_kv_set(st, longname, "x", 1, 0, T0), CRUMB_EINVAL);
    longname[CRUMB_STORE_NAME_MAX] = '\0';
    CHECK_RC(crumb_store_kv_set(st, longname, "x", 1, 0, T0), CRUMB_OK);
    crumb_store_close(st);
}

TEST(bad_arguments)
{
    crumb_store *st = open_store();
    unsigned char key[32];
    mkkey(key, 70);
    crumb_store_record w, r;
    mkrec(&w, "x", "", T0, T0 + 10);
    CHECK_RC(crumb_store_save(NULL, key, &w, 0, T0), CRUMB_EINVAL);
    CHECK_RC(crumb_store_save(st, NULL, &w, 0, T0), CRUMB_EINVAL);
    CHECK_RC(crumb_store_save(st, key, &w, -1, T0), CRUMB_EINVAL);
    CHECK_RC(crumb_store_load(st, key, T0, NULL), CRUMB_EINVAL);
    memset(w.user, 'u', sizeof(w.user)); /* not NUL-terminated */
    CHECK_RC(crumb_store_save(st, key, &w, 0, T0), CRUMB_EINVAL);
    CHECK(crumb_store_errmsg(st)[0] != '\0');
    mkrec(&w, "x", "", T0, T0 + 10);
    w.data = NULL;
    CHECK_RC(crumb_store_save(st, key, &w, 0, T0), CRUMB_EINVAL);
    CHECK_RC(crumb_store_load(st, key, T0, &r), CRUMB_ENOTFOUND);
    crumb_store_close(st);
}

/* Several threads increment one counter kept in a record's bytes:
 * load, add one, CAS save, retry on conflict. Nothing may be lost. */
#define CAS_THREADS 4
#define CAS_ROUNDS 150

static crumb_store *g_shared;

static void *
cas_worker(void *arg)
{
    (void)arg;
    crumb_store *st = g_shared ? g_shared : open_store();
    unsigned char key[32];
    mkkey(key, 80);
    long conflicts = 0;
    for (int i = 0; i < CAS_ROUNDS; i++)
        conflicts += cas_increment(st, key, "cas");
    if (!g_shared)
        crumb_store_close(st);
    return (void *)conflicts;
}

TEST(concurrent_cas)
{
    /* The memory store is shared by threads; the others get one handle
     * per thread, as documented. */
    crumb_store *st = open_store();
    g_shared = strcmp(g_backend, "memory") == 0 ? st : NULL;
    pthread_t th[CAS_THREADS];
    for (int i = 0; i < CAS_THREADS; i++)
        CHECK(pthread_create(&th[i], NULL, cas_worker, NULL) == 0);
    long conflicts = 0;
    for (int i = 0; i < CAS_THREADS; i++) {
        void *ret;
        pthread_join(th[i], &ret);
        conflicts += (long)ret;
    }
    unsigned char key[32];
    mkkey(key, 80);
    crumb_store_record r;
    CHECK_RC(crumb_store_load(st, key, T0, &r), CRUMB_OK);
    char buf[32];
    memcpy(buf, r.data, r.len);
    buf[r.len] = '\0';
    CHECK_INT(atol(buf), ==, CAS_THREADS * CAS_ROUNDS);
    CHECK_INT(r.version, ==, CAS_THREADS * CAS_ROUNDS);
    crumb_store_record_cleanup(&r);
    crumb_store_close(st);
    printf("# %s concurrent_cas: %ld conflicts retried\n", g_backend,
           conflicts);
}

/* Garbage written behind the store's back: each field in turn. */
static void
corrupt_sqlite(const unsigned char *key, const char *set_clause)
{
    char path[300];
    snprintf(path, sizeof(path), "%s/t%d.db", g_dir, g_seq);
    sqlite3 *db;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    char sql[300];
    snprintf(sql, sizeof(sql), "UPDATE sessions SET %s WHERE key = ?",
             set_clause);
    sqlite3_stmt *q;
    CHECK(sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK);
    sqlite3_bind_blob(q, 1, key, 32, SQLITE_STATIC);
    CHECK(sqlite3_step(q) == SQLITE_DONE);
    CHECK(sqlite3_changes(db) == 1);
    sqlite3_finalize(q);
    sqlite3_close(db);
}

static redisContext *
redis_raw(void)
{
    char host[64];
    int port;
    CHECK(sscanf(g_redis, "%63[^:]:%d", host, &port) == 2);
    redisContext *c = redisConnect(host, port);
    CHECK(c && !c->err);
    return c;
}

static void
corrupt_redis(const unsigned char *key, const char *field, const void *val,
              size_t len)
{
    char k[200];
    int n = snprintf(k, sizeof(k), "ct%d-%d:s:", (int)getppid(), g_seq);
    for (int i = 0; i < 32; i++)
        n += snprintf(k + n, sizeof(k) - (size_t)n, "%02x", key[i]);
    redisContext *c = redis_raw();
    redisReply *rep = redisCommand(c, "HSET %s %s %b", k, field, val, len);
    CHECK(rep && rep->type == REDIS_REPLY_INTEGER);
    freeReplyObject(rep);
    redisFree(c);
}

TEST(corrupt_record)
{
    if (strcmp(g_backend, "memory") == 0)
        return; /* nothing outside the process can write to it */
    crumb_store *st = open_store();
    static const struct {
        const char *sql, *field, *value;
    } cases[] = {
        {"version = 'garbage'", "version", "garbage"},
        {"version = -4", "version", "-4"},
        {"expires_at = 'soon'", "expires_at", "soon"},
        {"created = x'00ff'", "created", "12abc"},
        {"user = 'uuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuu"
         "uuuuuuuuuuuuuuuuuuuuuuuuuu'",
         "user",
         "uuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuu"
         "uuuuuuuuuuuuuuuuuuuu"},
        {"agent = x'41'", "last_seen", " 7"},
        {"data = 'text, not a blob'", "addr", "a\0b"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        unsigned char key[32];
        mkkey(key, 90 + (int)i);
        crumb_store_record w, r;
        mkrec(&w, "good", "ivan", T0, T0 + 100);
        CHECK_RC(crumb_store_save(st, key, &w, 0, T0), CRUMB_OK);
        if (strcmp(g_backend, "sqlite") == 0)
            corrupt_sqlite(key, cases[i].sql);
        else
            corrupt_redis(key, cases[i].field, cases[i].value,
                          i == 6 ? 3 : strlen(cases[i].value));
        int rc;
        if (strcmp(g_backend, "sqlite") == 0) {
            /* A save at the version written, with that save's expiry
             * and user (so sqlite tries its one-statement update), must
             * leave the row alone and find it corrupt. */
            mkrec(&w, "later", "ivan", T0, T0 + 100);
            rc = crumb_store_save(st, key, &w, 1, T0);
            if (rc != CRUMB_ENOTFOUND)
                T_FAIL_("case %zu: save: %s", i, crumb_errname(rc));
        }
        rc = crumb_store_load(st, key, T0, &r);
        if (rc != CRUMB_ENOTFOUND)
            T_FAIL_("case %zu: %s", i, crumb_errname(rc));
        CHECK(strstr(crumb_store_errmsg(st), "corrupt") != NULL);
        CHECK(r.data == NULL);
        /* The key can be used again: sqlite replaces a corrupt row on
         * create; redis checks only version and expiry in its scripts,
         * so there a destroy may have to come first. */
        mkrec(&w, "fresh", "ivan", T0, T0 + 100);
        rc = crumb_store_save(st, key, &w, 0, T0);
        if (rc == CRUMB_ECONFLICT && strcmp(g_backend, "redis") == 0) {
            CHECK_RC(crumb_store_destroy(st, key), CRUMB_OK);
            rc = crumb_store_save(st, key, &w, 0, T0);
        }
        if (rc != CRUMB_OK)
            T_FAIL_("case %zu: recreate: %s", i, crumb_errname(rc));
        CHECK_RC(crumb_store_load(st, key, T0, &r), CRUMB_OK);
        CHECK_MEM(r.data, r.len, "fresh", 5);
        crumb_store_record_cleanup(&r);
    }
    /* Listing skips what it cannot read. */
    crumb_store_record *list;
    size_t n;
    CHECK_RC(crumb_store_list_user(st, "ivan", T0, &list, &n), CRUMB_OK);
    for (size_t i = 0; i < n; i++)
        CHECK_STR(list[i].user, "ivan");
    crumb_store_records_free(list, n);
    crumb_store_close(st);
}

/* sqlite only: the file is private, a second handle sees the first's
 * writes, and an acknowledged save survives SIGKILL of its process. */
TEST(sqlite_file)
{
    crumb_store *st = open_store();
    char path[300];
    snprintf(path, sizeof(path), "%s/t%d.db", g_dir, g_seq);
    struct stat sb;
    CHECK(stat(path, &sb) == 0);
    CHECK_INT(sb.st_mode & 0777, ==, 0600);
    crumb_store *st2 = open_store();
    unsigned char key[32];
    mkkey(key, 100);
    crumb_store_record w, r;
    mkrec(&w, "shared", "", T0, 0);
    CHECK_RC(crumb_store_save(st, key, &w, 0, T0), CRUMB_OK);
    CHECK_RC(crumb_store_load(st2, key, T0, &r), CRUMB_OK);
    crumb_store_record_cleanup(&r);
    crumb_store_close(st2);
    crumb_store_close(st);

    int fds[2];
    CHECK(pipe(fds) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        crumb_store *c = open_store();
        unsigned char k2[32];
        mkkey(k2, 101);
        crumb_store_record cw;
        mkrec(&cw, "acknowledged", "", T0, 0);
        if (crumb_store_save(c, k2, &cw, 0, T0) == CRUMB_OK)
            (void)!write(fds[1], "k", 1);
        pause(); /* killed here, the handle still open */
        _exit(1);
    }
    char ch = 0;
    CHECK(read(fds[0], &ch, 1) == 1 && ch == 'k');
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    st = open_store();
    unsigned char k2[32];
    mkkey(k2, 101);
    CHECK_RC(crumb_store_load(st, k2, T0, &r), CRUMB_OK);
    CHECK_MEM(r.data, r.len, "acknowledged", 12);
    crumb_store_record_cleanup(&r);
    crumb_store_close(st);

    /* URIs. */
    crumb_store_options o;
    char err[200];
    crumb_store_options_init(&o);
    o.errbuf = err;
    o.errbuf_size = sizeof(err);
    CHECK_RC(crumb_store_open(&st, "sqlite:", &o), CRUMB_EINVAL);
    CHECK(st == NULL);
    CHECK_RC(crumb_store_open(&st, "sqlite:/nonexistent-dir/x.db", &o),
             CRUMB_ESTORE);
    CHECK_RC(crumb_store_open(&st, "postgres://x", &o), CRUMB_EINVAL);
    CHECK(strstr(err, "scheme") != NULL);
    CHECK_RC(crumb_store_open(&st, "memory:x", &o), CRUMB_EINVAL);
}

int
main(void)
{
    TEST_BEGIN();
    int nb = backends_setup("t");
    if (nb < 0)
        return 1;
    for (int b = 0; b < nb; b++) {
        const char *be = g_backends[b];
        RUN_FOR(be, round_trip);
        RUN_FOR(be, cas_overwrite);
        RUN_FOR(be, conflict_on_stale_version);
        RUN_FOR(be, create_must_not_exist);
        RUN_FOR(be, destroy);
        RUN_FOR(be, expiry_by_callers_clock);
        RUN_FOR(be, large_value);
        RUN_FOR(be, binary_value);
        RUN_FOR(be, touch);
        RUN_FOR(be, list_user_ordering);
        RUN_FOR(be, list_all_ordering);
        RUN_FOR(be, list_all_bounded);
        RUN_FOR(be, destroy_user_except);
        RUN_FOR(be, gc);
        RUN_FOR(be, counters);
        RUN_FOR(be, kv);
        RUN_FOR(be, bad_arguments);
        RUN_FOR(be, concurrent_cas);
        RUN_FOR(be, corrupt_record);
    }
    RUN_FOR("memory", list_all_unsupported);
    RUN_FOR("sqlite", sqlite_file);
    backends_cleanup();
    return TEST_END();
}
