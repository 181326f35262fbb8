/* test_iface_store.c - server-side sessions through crumb_iface, run
 * against every store: memory, sqlite (a real file), redis (a real server
 * when CRUMB_TEST_REDIS=HOST:PORT is set by tests/run.sh). */
#include <crumb/crumb.h>

#include <pthread.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include "test.h"

static const char *g_backend;
static char g_dir[256];
static const char *g_redis;
static int g_seq;
static int64_t g_now = 1700000000;

static int64_t
test_clock(void *ctx)
{
    (void)ctx;
    return __atomic_load_n(&g_now, __ATOMIC_SEQ_CST);
}

static void
uri_for(char *out, size_t n)
{
    if (!strcmp(g_backend, "memory"))
        snprintf(out, n, "memory:");
    else if (!strcmp(g_backend, "sqlite"))
        snprintf(out, n, "sqlite:%s/s%d.db", g_dir, g_seq);
    else
        snprintf(out, n, "redis://%s/0?prefix=is%d-%d", g_redis,
                 (int)getppid(), g_seq);
}

static char g_uri[512];

static crumb_iface *
make_iface(int64_t idle, int64_t absolute)
{
    crumb_config cfg;
    crumb_config_init(&cfg);
    uri_for(g_uri, sizeof g_uri);
    cfg.store_uri = g_uri;
    cfg.clock = test_clock;
    cfg.idle_timeout = idle;
    cfg.absolute_timeout = absolute;
    crumb_iface *iface = NULL;
    int rc = crumb_iface_new(&iface, &cfg);
    if (rc != CRUMB_OK)
        T_FAIL_("iface for %s: %s %s", g_uri, crumb_errname(rc),
                crumb_iface_errmsg(NULL));
    return iface;
}

/* "session=ID; ..." -> "session=ID" (malloc'd). */
static char *
cookie_of(const char *set_cookie)
{
    const char *semi = strchr(set_cookie, ';');
    size_t n = semi ? (size_t)(semi - set_cookie) : strlen(set_cookie);
    char *h = malloc(n + 1);
    memcpy(h, set_cookie, n);
    h[n] = '\0';
    return h;
}

static crumb_session *
open_s(crumb_iface *iface, const char *hdr, crumb_open_reason *why)
{
    crumb_session *s = NULL;
    int rc = crumb_iface_open(iface, hdr, hdr ? strlen(hdr) : 0, &s, why);
    if (rc != CRUMB_OK)
        T_FAIL_("open: %s", crumb_errname(rc));
    return s;
}

/* Saves; returns the new Cookie header (or NULL when none was set). */
static char *
save_s(crumb_iface *iface, crumb_session *s)
{
    crumb_save_result res;
    int rc = crumb_iface_save(iface, s, &res);
    if (rc != CRUMB_OK)
        T_FAIL_("save: %s %s", crumb_errname(rc), crumb_iface_errmsg(iface));
    char *c = res.set_cookie && !res.deleted ? cookie_of(res.set_cookie)
                                             : NULL;
    crumb_save_result_cleanup(&res);
    return c;
}

/* A stored session holding user_id=@uid; returns its cookie. */
static char *
login(crumb_iface *iface, const char *uid)
{
    crumb_session *s = open_s(iface, NULL, NULL);
    crumb_session_set_string(s, "user_id", uid);
    crumb_session_set_user(s, uid);
    crumb_session_set_client(s, "127.0.0.1", "test-agent/1.0");
    char *c = save_s(iface, s);
    crumb_session_free(s);
    if (!c)
        T_FAIL_("no cookie after login");
    return c;
}

TEST(empty_session_stores_nothing)
{
    crumb_iface *iface = make_iface(1800, 43200);
    crumb_session *s = open_s(iface, NULL, NULL);
    (void)crumb_session_get_int(s, "x", 0);
    CHECK(save_s(iface, s) == NULL);
    crumb_session_free(s);
    crumb_iface_free(iface);
}

TEST(round_trip_id_cookie)
{
    crumb_iface *iface = make_iface(1800, 43200);
    CHECK(crumb_iface_server_side(iface));
    char *c = login(iface, "7");
    /* session=<43 url-safe chars>: 256 random bits, nothing else. */
    CHECK_INT(strlen(c), ==, 8 + 43);
    crumb_open_reason why;
    crumb_session *s = open_s(iface, c, &why);
    CHECK_INT(why, ==, CRUMB_OPEN_OK);
    CHECK(!crumb_session_is_new(s));
    CHECK_STR(crumb_session_get_string(s, "user_id", ""), "7");
    CHECK_STR(crumb_session_user(s), "7");
    CHECK_INT(strlen(crumb_session_handle(s)), ==, 16);
    /* The handle is not (a part of) the cookie id. */
    CHECK(strstr(c, crumb_session_handle(s)) == NULL);
    crumb_session_free(s);
    free(c);
    crumb_iface_free(iface);
}

TEST(unknown_and_malformed_ids_never_adopted)
{
    crumb_iface *iface = make_iface(1800, 43200);
    const char *forged = "session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    crumb_open_reason why;
    crumb_session *s = open_s(iface, forged, &why);
    CHECK_INT(why, ==, CRUMB_OPEN_UNKNOWN_ID);
    CHECK(crumb_session_is_new(s));
    crumb_session_set_int(s, "n", 1);
    char *c = save_s(iface, s);
    CHECK(c && strcmp(c, forged) != 0);
    crumb_session_free(s);
    free(c);
    const char *bad[] = {"session=short", "session=../../etc/passwd",
                         "session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+",
                         "session=\x01\x02"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        s = open_s(iface, bad[i], &why);
        CHECK(why == CRUMB_OPEN_MALFORMED || why == CRUMB_OPEN_NO_COOKIE);
        crumb_session_free(s);
    }
    crumb_iface_free(iface);
}

TEST(idle_timeout_enforced_at_once)
{
    g_now = 1700000000;
    crumb_iface *iface = make_iface(1800, 43200);
    char *c = login(iface, "1");
    __atomic_store_n(&g_now, 1700000000 + 1799, __ATOMIC_SEQ_CST);
    crumb_open_reason why;
    crumb_session *s = open_s(iface, c, &why);
    CHECK_INT(why, ==, CRUMB_OPEN_OK);
    free(save_s(iface, s)); /* a request: last_seen moves */
    crumb_session_free(s);
    __atomic_store_n(&g_now, 1700000000 + 1799 + 1799, __ATOMIC_SEQ_CST);
    s = open_s(iface, c, &why);
    CHECK_INT(why, ==, CRUMB_OPEN_OK);
    crumb_session_free(s);
    __atomic_store_n(&g_now, 1700000000 + 1799 + 1800 + 1, __ATOMIC_SEQ_CST);
    s = open_s(iface, c, &why);
    CHECK_INT(why, ==, CRUMB_OPEN_IDLE_TIMEOUT); /* told why, once */
    CHECK(crumb_session_is_new(s));
    CHECK_INT(crumb_session_count(s), ==, 0);
    crumb_session_free(s);
    s = open_s(iface, c, &why);
    CHECK_INT(why, ==, CRUMB_OPEN_UNKNOWN_ID); /* and then gone */
    crumb_session_free(s);
    g_now = 1700000000;
    free(c);
    crumb_iface_free(iface);
}

TEST(absolute_timeout_despite_activity)
{
    g_now = 1700000000;
    crumb_iface *iface = make_iface(1800, 3600);
    char *c = login(iface, "1");
    crumb_open_reason why = CRUMB_OPEN_OK;
    for (int i = 1; i <= 4; i++) {
        __atomic_store_n(&g_now, 1700000000 + i * 1000, __ATOMIC_SEQ_CST);
        crumb_session *s = open_s(iface, c, &why);
        if (i < 4)
            CHECK_INT(why, ==, CRUMB_OPEN_OK);
        crumb_session_incr(s, "hits", 1, NULL);
        free(save_s(iface, s));
        crumb_session_free(s);
    }
    CHECK_INT(why, ==, CRUMB_OPEN_ABSOLUTE_TIMEOUT);
    g_now = 1700000000;
    free(c);
    crumb_iface_free(iface);
}

TEST(regenerate_kills_old_id)
{
    crumb_iface *iface = make_iface(1800, 43200);
    char *c = login(iface, "1");
    crumb_session *s = open_s(iface, c, NULL);
    crumb_session_regenerate(s);
    crumb_session_set_string(s, "role", "admin");
    char *c2 = save_s(iface, s);
    CHECK(c2 && strcmp(c, c2) != 0);
    crumb_session_free(s);
    crumb_open_reason why;
    s = open_s(iface, c, &why);
    CHECK_INT(why, ==, CRUMB_OPEN_UNKNOWN_ID);
    crumb_session_free(s);
    s = open_s(iface, c2, &why);
    CHECK_INT(why, ==, CRUMB_OPEN_OK);
    CHECK_STR(crumb_session_get_string(s, "role", ""), "admin");
    CHECK_STR(crumb_session_get_string(s, "user_id", ""), "1");
    crumb_session_free(s);
    free(c);
    free(c2);
    crumb_iface_free(iface);
}

TEST(destroy_deletes_record_and_cookie)
{
    crumb_iface *iface = make_iface(1800, 43200);
    char *c = login(iface, "1");
    crumb_session *s = open_s(iface, c, NULL);
    crumb_session_destroy(s);
    crumb_save_result res;
    CHECK_RC(crumb_iface_save(iface, s, &res), CRUMB_OK);
    CHECK(res.deleted);
    CHECK(strstr(res.set_cookie, "Max-Age=0"));
    crumb_save_result_cleanup(&res);
    crumb_session_free(s);
    crumb_open_reason why;
    s = open_s(iface, c, &why); /* replaying the old cookie */
    CHECK_INT(why, ==, CRUMB_OPEN_UNKNOWN_ID);
    crumb_session_free(s);
    free(c);
    crumb_iface_free(iface);
}

TEST(two_requests_both_count)
{
    crumb_iface *iface = make_iface(1800, 43200);
    char *c = login(iface, "1");
    crumb_session *a = open_s(iface, c, NULL);
    crumb_session *b = open_s(iface, c, NULL);
    crumb_session_incr_path(a, "/cart/1", 1, NULL);
    crumb_session_incr_path(b, "/cart/1", 1, NULL);
    crumb_session_set_string(b, "theme", "dark");
    free(save_s(iface, a));
    free(save_s(iface, b)); /* conflicts, replays its journal */
    crumb_session_free(a);
    crumb_session_free(b);
    crumb_session *s = open_s(iface, c, NULL);
    CHECK_INT(json_integer_value(crumb_session_get_path(s, "/cart/1")), ==, 2);
    CHECK_STR(crumb_session_get_string(s, "theme", ""), "dark");
    crumb_session_free(s);
    free(c);
    crumb_iface_free(iface);
}

/* Two processes on one store (two interfaces): what one process kept of
 * its last save is newer than a request's load, but older than what the
 * other process stored since. The save replays on the kept record,
 * conflicts, reloads, and still counts every request. */
TEST(other_process_write_beats_kept_record)
{
    if (!strcmp(g_backend, "memory"))
        return; /* two memory: stores are two stores */
    crumb_iface *p1 = make_iface(1800, 43200);
    crumb_iface *p2 = make_iface(1800, 43200);
    char *c = login(p1, "1");
    crumb_session *a = open_s(p1, c, NULL);
    crumb_session *b = open_s(p1, c, NULL);
    crumb_session_incr_path(a, "/cart/1", 1, NULL);
    free(save_s(p1, a)); /* p1 keeps this save */
    crumb_session *x = open_s(p2, c, NULL);
    crumb_session_incr_path(x, "/cart/1", 1, NULL);
    crumb_session_set_string(x, "from", "p2");
    free(save_s(p2, x)); /* newer than what p1 kept */
    crumb_session_incr_path(b, "/cart/1", 1, NULL);
    free(save_s(p1, b)); /* loaded before both */
    crumb_session *y = open_s(p1, c, NULL);
    crumb_session_incr_path(y, "/cart/1", 1, NULL);
    free(save_s(p1, y)); /* nothing in between: no conflict at all */
    crumb_session_free(a);
    crumb_session_free(b);
    crumb_session_free(x);
    crumb_session_free(y);
    crumb_session *s = open_s(p2, c, NULL);
    CHECK_INT(json_integer_value(crumb_session_get_path(s, "/cart/1")), ==, 4);
    CHECK_STR(crumb_session_get_string(s, "from", ""), "p2");
    CHECK_STR(crumb_session_get_string(s, "user_id", ""), "1");
    crumb_session_free(s);
    free(c);
    crumb_iface_free(p1);
    crumb_iface_free(p2);
}

struct worker {
    crumb_iface *iface;
    const char *cookie;
    int n, failures;
};

static void *
worker_run(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < w->n; i++) {
        crumb_session *s = NULL;
        crumb_open_reason why;
        if (crumb_iface_open(w->iface, w->cookie, strlen(w->cookie), &s,
                             &why) != CRUMB_OK ||
            why != CRUMB_OPEN_OK) {
            w->failures++;
            crumb_session_free(s);
            continue;
        }
        crumb_session_incr_path(s, "/cart/1", 1, NULL);
        crumb_save_result res;
        if (crumb_iface_save(w->iface, s, &res) != CRUMB_OK)
            w->failures++;
        crumb_save_result_cleanup(&res);
        crumb_session_free(s);
    }
    return NULL;
}

TEST(eight_threads_lose_no_update)
{
    crumb_iface *iface = make_iface(1800, 43200);
    char *c = login(iface, "1");
    struct worker w[8];
    pthread_t t[8];
    for (int i = 0; i < 8; i++) {
        w[i] = (struct worker){iface, c, 25, 0};
        pthread_create(&t[i], NULL, worker_run, &w[i]);
    }
    int failures = 0;
    for (int i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
        failures += w[i].failures;
    }
    CHECK_INT(failures, ==, 0);
    crumb_session *s = open_s(iface, c, NULL);
    CHECK_INT(json_integer_value(crumb_session_get_path(s, "/cart/1")), ==,
              200);
    crumb_session_free(s);
    free(c);
    crumb_iface_free(iface);
}

TEST(list_and_revoke)
{
    crumb_iface *iface = make_iface(1800, 43200);
    char *c1 = login(iface, "alice");
    char *c2 = login(iface, "alice");
    char *c3 = login(iface, "alice");
    char *cb = login(iface, "bob");
    crumb_session *cur = open_s(iface, c1, NULL);
    crumb_session_info *info = NULL;
    size_t n = 0;
    CHECK_RC(crumb_iface_list_sessions(iface, "alice", cur, &info, &n),
             CRUMB_OK);
    CHECK_INT(n, ==, 3);
    int current = 0;
    char other[17] = "";
    for (size_t i = 0; i < n; i++) {
        current += info[i].current;
        CHECK_STR(info[i].addr, "127.0.0.1");
        CHECK_STR(info[i].agent, "test-agent/1.0");
        if (!info[i].current)
            memcpy(other, info[i].handle, 17);
    }
    CHECK_INT(current, ==, 1);
    free(info);
    /* Bob cannot revoke Alice's session by its handle. */
    CHECK_RC(crumb_iface_revoke_session(iface, "bob", other), CRUMB_ENOTFOUND);
    CHECK_RC(crumb_iface_revoke_session(iface, "alice", other), CRUMB_OK);
    CHECK_RC(crumb_iface_revoke_session(iface, "alice", "0000000000000000"),
             CRUMB_ENOTFOUND);
    size_t count = 0;
    CHECK_RC(crumb_iface_revoke_user(iface, "alice", cur, &count), CRUMB_OK);
    CHECK_INT(count, ==, 1);
    crumb_open_reason why;
    crumb_session *s = open_s(iface, c1, &why);
    CHECK_INT(why, ==, CRUMB_OPEN_OK);
    crumb_session_free(s);
    s = open_s(iface, c2, &why);
    CHECK_INT(why, ==, CRUMB_OPEN_UNKNOWN_ID);
    crumb_session_free(s);
    s = open_s(iface, c3, &why);
    CHECK_INT(why, ==, CRUMB_OPEN_UNKNOWN_ID);
    crumb_session_free(s);
    CHECK_RC(crumb_iface_revoke_user(iface, "alice", NULL, &count), CRUMB_OK);
    s = open_s(iface, c1, &why);
    CHECK_INT(why, ==, CRUMB_OPEN_UNKNOWN_ID);
    crumb_session_free(s);
    s = open_s(iface, cb, &why);
    CHECK_INT(why, ==, CRUMB_OPEN_OK);
    crumb_session_free(s);
    crumb_session_free(cur);
    free(c1);
    free(c2);
    free(c3);
    free(cb);
    crumb_iface_free(iface);
}

TEST(list_all_and_revoke_handle)
{
    crumb_iface *iface = make_iface(1800, 43200);
    char *ca = login(iface, "alice");
    __atomic_add_fetch(&g_now, 1, __ATOMIC_SEQ_CST);
    char *cb = login(iface, "bob");
    crumb_session_info *info = NULL;
    size_t n = 0;
    CHECK_RC(crumb_iface_list_all_sessions(iface, 10, &info, &n), CRUMB_OK);
    CHECK_INT(n, ==, 2);
    CHECK_STR(info[0].user, "bob"); /* most recently seen first */
    CHECK_STR(info[1].user, "alice");
    CHECK_INT(info[0].current + info[1].current, ==, 0);
    CHECK_INT(strlen(info[1].handle), ==, 16);
    char alice[17];
    memcpy(alice, info[1].handle, 17);
    free(info);
    CHECK_RC(crumb_iface_list_all_sessions(iface, 1, &info, &n), CRUMB_OK);
    CHECK_INT(n, ==, 1);
    CHECK_STR(info[0].user, "bob");
    free(info);
    CHECK_RC(crumb_iface_list_all_sessions(iface, 0, &info, &n),
             CRUMB_EINVAL);
    /* Revoked by handle alone; the same handle again is unknown. */
    CHECK_RC(crumb_iface_revoke_handle(iface, alice), CRUMB_OK);
    CHECK_RC(crumb_iface_revoke_handle(iface, alice), CRUMB_ENOTFOUND);
    CHECK_RC(crumb_iface_revoke_handle(iface, "0000000000000000"),
             CRUMB_ENOTFOUND);
    CHECK_RC(crumb_iface_revoke_handle(iface, "short"), CRUMB_ENOTFOUND);
    CHECK_RC(crumb_iface_revoke_handle(iface, NULL), CRUMB_ENOTFOUND);
    crumb_open_reason why;
    crumb_session *s = open_s(iface, ca, &why);
    CHECK_INT(why, ==, CRUMB_OPEN_UNKNOWN_ID);
    crumb_session_free(s);
    s = open_s(iface, cb, &why);
    CHECK_INT(why, ==, CRUMB_OPEN_OK);
    crumb_session_free(s);
    CHECK_RC(crumb_iface_list_all_sessions(iface, 10, &info, &n), CRUMB_OK);
    CHECK_INT(n, ==, 1);
    free(info);
    free(ca);
    free(cb);
    crumb_iface_free(iface);
}

TEST(sqlite_file_holds_no_cookie_id)
{
    if (strcmp(g_backend, "sqlite"))
        return;
    crumb_iface *iface = make_iface(1800, 43200);
    char *c = login(iface, "1");
    crumb_iface_free(iface);
    char path[600];
    snprintf(path, sizeof path, "%s", g_uri + strlen("sqlite:"));
    char cmd[1400];
    /* The id must not appear in the database or its WAL. */
    snprintf(cmd, sizeof cmd, "cat '%s'* | grep -qa -- '%s'", path, c + 8);
    CHECK(system(cmd) != 0);
    struct stat st;
    CHECK(stat(path, &st) == 0);
    CHECK_INT(st.st_mode & 077, ==, 0);
    free(c);
}

TEST(corrupt_record_is_anonymous)
{
    if (strcmp(g_backend, "sqlite"))
        return;
    crumb_iface *iface = make_iface(1800, 43200);
    char *c = login(iface, "1");
    sqlite3 *db;
    CHECK(sqlite3_open(g_uri + strlen("sqlite:"), &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "UPDATE sessions SET data = x'7b226e223a'", NULL,
                       NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    crumb_open_reason why;
    crumb_session *s = open_s(iface, c, &why);
    CHECK(why == CRUMB_OPEN_CORRUPT);
    CHECK(crumb_session_is_new(s));
    crumb_session_free(s);
    free(c);
    crumb_iface_free(iface);
}

TEST(gc_sweeps_expired)
{
    g_now = 1700000000;
    crumb_iface *iface = make_iface(60, 0);
    char *c = login(iface, "1");
    /* Unusable from 60 s on; kept 900 s more to say why; then swept. */
    __atomic_store_n(&g_now, 1700000000 + 61, __ATOMIC_SEQ_CST);
    size_t removed = 0;
    CHECK_RC(crumb_iface_gc(iface, &removed), CRUMB_OK);
    CHECK_INT(removed, ==, 0);
    __atomic_store_n(&g_now, 1700000000 + 60 + 900, __ATOMIC_SEQ_CST);
    CHECK_RC(crumb_iface_gc(iface, &removed), CRUMB_OK);
    if (strcmp(g_backend, "redis"))
        CHECK_INT(removed, ==, 1);
    g_now = 1700000000;
    free(c);
    crumb_iface_free(iface);
}

static void
run_all(void)
{
    RUN(empty_session_stores_nothing);
    g_seq++;
    RUN(round_trip_id_cookie);
    g_seq++;
    RUN(unknown_and_malformed_ids_never_adopted);
    g_seq++;
    RUN(idle_timeout_enforced_at_once);
    g_seq++;
    RUN(absolute_timeout_despite_activity);
    g_seq++;
    RUN(regenerate_kills_old_id);
    g_seq++;
    RUN(destroy_deletes_record_and_cookie);
    g_seq++;
    RUN(two_requests_both_count);
    g_seq++;
    RUN(other_process_write_beats_kept_record);
    g_seq++;
    RUN(eight_threads_lose_no_update);
    g_seq++;
    RUN(list_and_revoke);
    g_seq++;
    RUN(list_all_and_revoke_handle);
    g_seq++;
    RUN(sqlite_file_holds_no_cookie_id);
    g_seq++;
    RUN(corrupt_record_is_anonymous);
    g_seq++;
    RUN(gc_sweeps_expired);
    g_seq++;
}

int
main(void)
{
    TEST_BEGIN();
    snprintf(g_dir, sizeof g_dir, "/tmp/crumb-iface-store.XXXXXX");
    if (!mkdtemp(g_dir))
        return 1;
    const char *backends[] = {"memory", "sqlite", "redis"};
    g_redis = getenv("CRUMB_TEST_REDIS");
    for (size_t i = 0; i < 3; i++) {
        g_backend = backends[i];
        if (!strcmp(g_backend, "redis") && !(g_redis && *g_redis)) {
            printf("# CRUMB_TEST_REDIS unset: redis skipped\n");
            continue;
        }
        t_file_ = g_backend;
        run_all();
    }
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd) != 0)
        return 1;
    t_file_ = __FILE__;
    return TEST_END();
}
