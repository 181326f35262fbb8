/* test_store_log.c - the store's logs (ops versions 3 and 4) on every
 * backend. */
#include <crumb/error.h>
#include <crumb/store.h>

#include <sys/stat.h>

#include "test.h"

#include "store_backends.h"

/* What a scan saw, as text: "name=a,b;" per log, sorted by name. */
typedef struct seen {
    char lines[64][256];
    int n;
    int stop_after; /* > 0: return CRUMB_ECONFLICT after that many */
} seen;

static int
visit(void *arg, const char *name, const crumb_store_item *items, size_t n)
{
    seen *s = arg;
    if (s->n >= 64)
        return CRUMB_ENOMEM;
    char *l = s->lines[s->n++];
    size_t used = (size_t)snprintf(l, 256, "%s=", name);
    for (size_t i = 0; i < n && used < 250; i++)
        used += (size_t)snprintf(l + used, 256 - used, "%s%.*s", i ? "," : "",
                                 (int)items[i].len,
                                 (const char *)items[i].data);
    if (s->stop_after && s->n >= s->stop_after)
        return CRUMB_ECONFLICT;
    return CRUMB_OK;
}

static int
line_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

static const char *
scan(crumb_store *st, const char *prefix, int64_t now)
{
    static seen s;
    static char text[8192];
    memset(&s, 0, sizeof(s));
    text[0] = '\0';
    int rc = crumb_store_log_scan(st, prefix, now, visit, &s);
    if (rc != CRUMB_OK)
        T_FAIL_("scan: %s: %s", crumb_errname(rc), crumb_store_errmsg(st));
    qsort(s.lines, (size_t)s.n, sizeof(s.lines[0]), line_cmp);
    size_t used = 0;
    for (int i = 0; i < s.n; i++)
        used += (size_t)snprintf(text + used, sizeof(text) - used, "%s;",
                                 s.lines[i]);
    return text;
}

static void
push(crumb_store *st, const char *name, const char *item, size_t cap,
     int64_t ttl, int64_t now)
{
    int rc = crumb_store_log_append(st, name, item, strlen(item), cap, ttl,
                                    now);
    if (rc != CRUMB_OK)
        T_FAIL_("append %s %s: %s: %s", name, item, crumb_errname(rc),
                crumb_store_errmsg(st));
}

TEST(append_and_scan)
{
    crumb_store *st = open_store();
    CHECK_STR(scan(st, "", T0), "");
    push(st, "a:1", "x", 10, 60, T0);
    push(st, "a:1", "y", 10, 60, T0);
    push(st, "a:2", "z", 10, 60, T0);
    push(st, "b:1", "w", 10, 60, T0);
    CHECK_STR(scan(st, "a:", T0), "a:1=x,y;a:2=z;");
    CHECK_STR(scan(st, "", T0), "a:1=x,y;a:2=z;b:1=w;");
    CHECK_STR(scan(st, "a:1", T0), "a:1=x,y;");
    CHECK_STR(scan(st, "c", T0), "");
    crumb_store_close(st);
}

TEST(cap_drops_oldest)
{
    crumb_store *st = open_store();
    char item[16];
    for (int i = 0; i < 7; i++) {
        snprintf(item, sizeof(item), "%d", i);
        push(st, "log", item, 3, 60, T0);
    }
    CHECK_STR(scan(st, "", T0), "log=4,5,6;");
    /* A smaller cap on the next append trims further. */
    push(st, "log", "7", 2, 60, T0);
    CHECK_STR(scan(st, "", T0), "log=6,7;");
    crumb_store_close(st);
}

TEST(ttl_by_callers_clock)
{
    crumb_store *st = open_store();
    push(st, "old", "1", 10, 60, T0);
    push(st, "new", "1", 10, 60, T0 + 30);
    CHECK_STR(scan(st, "", T0 + 59), "new=1;old=1;");
    CHECK_STR(scan(st, "", T0 + 60), "new=1;");
    /* Each append moves the expiry. */
    push(st, "new", "2", 10, 60, T0 + 80);
    CHECK_STR(scan(st, "", T0 + 139), "new=1,2;");
    /* An expired log starts again empty. */
    push(st, "old", "2", 10, 60, T0 + 100);
    CHECK_STR(scan(st, "old", T0 + 100), "old=2;");
    CHECK_STR(scan(st, "", T0 + 140), "old=2;");
    crumb_store_close(st);
}

TEST(gc_removes_expired)
{
    crumb_store *st = open_store();
    push(st, "a", "1", 10, 10, T0);
    push(st, "b", "1", 10, 100, T0);
    CHECK_RC(crumb_store_gc(st, T0 + 50, NULL), CRUMB_OK);
    CHECK_STR(scan(st, "", T0 + 50), "b=1;");
    /* memory and sqlite swept it (seen even at an earlier clock); redis
     * leaves that to its own key TTL. */
    if (strcmp(g_backend, "redis") != 0)
        CHECK_STR(scan(st, "", T0), "b=1;");
    crumb_store_close(st);
}

TEST(binary_items_and_names)
{
    crumb_store *st = open_store();
    unsigned char bin[CRUMB_STORE_LOG_ITEM_MAX];
    for (size_t i = 0; i < sizeof(bin); i++)
        bin[i] = (unsigned char)(i * 7);
    CHECK_RC(crumb_store_log_append(st, "b*[x]?", bin, sizeof(bin), 5, 60,
                                    T0),
             CRUMB_OK);
    push(st, "bx", "plain", 5, 60, T0);
    /* Glob characters in the prefix are literal. */
    CHECK_STR(scan(st, "bx", T0), "bx=plain;");
    seen s;
    memset(&s, 0, sizeof(s));
    CHECK_RC(crumb_store_log_scan(st, "b*", T0, visit, &s), CRUMB_OK);
    CHECK_INT(s.n, ==, 1);
    CHECK(strncmp(s.lines[0], "b*[x]?=", 7) == 0);
    crumb_store_close(st);
}

TEST(visitor_stops_scan)
{
    crumb_store *st = open_store();
    push(st, "a", "1", 10, 60, T0);
    push(st, "b", "1", 10, 60, T0);
    push(st, "c", "1", 10, 60, T0);
    seen s;
    memset(&s, 0, sizeof(s));
    s.stop_after = 2;
    CHECK_RC(crumb_store_log_scan(st, "", T0, visit, &s), CRUMB_ECONFLICT);
    CHECK_INT(s.n, ==, 2);
    /* The handle is still usable afterwards. */
    push(st, "d", "1", 10, 60, T0);
    CHECK_STR(scan(st, "d", T0), "d=1;");
    crumb_store_close(st);
}

typedef struct tally {
    int logs, items;
} tally;

static int
count_visit(void *arg, const char *name, const crumb_store_item *items,
            size_t n)
{
    tally *t = arg;
    t->logs++;
    t->items += (int)n;
    return CRUMB_OK;
}

TEST(many_logs)
{
    /* More logs than one redis SCAN step returns. */
    crumb_store *st = open_store();
    char name[32];
    for (int i = 0; i < 1200; i++) {
        snprintf(name, sizeof(name), "m:%04d", i);
        push(st, name, "v", 4, 60, T0);
        if (i % 3 == 0)
            push(st, name, "w", 4, 60, T0);
    }
    push(st, "other", "v", 4, 60, T0);
    tally t = {0, 0};
    CHECK_RC(crumb_store_log_scan(st, "m:", T0, count_visit, &t), CRUMB_OK);
    CHECK_INT(t.logs, ==, 1200);
    CHECK_INT(t.items, ==, 1600);
    crumb_store_close(st);
}

TEST(bad_arguments)
{
    crumb_store *st = open_store();
    unsigned char big[CRUMB_STORE_LOG_ITEM_MAX + 1] = {0};
    char longname[CRUMB_STORE_NAME_MAX + 2];
    memset(longname, 'n', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    CHECK_RC(crumb_store_log_append(st, "x", "", 0, 5, 60, T0), CRUMB_EINVAL);
    CHECK_RC(crumb_store_log_append(st, "x", big, sizeof(big), 5, 60, T0),
             CRUMB_EINVAL);
    CHECK_RC(crumb_store_log_append(st, "x", "a", 1, 0, 60, T0),
             CRUMB_EINVAL);
    CHECK_RC(crumb_store_log_append(st, "x", "a", 1,
                                    CRUMB_STORE_LOG_CAP_MAX + 1, 60, T0),
             CRUMB_EINVAL);
    CHECK_RC(crumb_store_log_append(st, "x", "a", 1, 5, 0, T0), CRUMB_EINVAL);
    CHECK_RC(crumb_store_log_append(st, "", "a", 1, 5, 60, T0), CRUMB_EINVAL);
    CHECK_RC(crumb_store_log_append(st, longname, "a", 1, 5, 60, T0),
             CRUMB_EINVAL);
    CHECK_RC(crumb_store_log_append(st, "x", NULL, 1, 5, 60, T0),
             CRUMB_EINVAL);
    seen s;
    CHECK_RC(crumb_store_log_scan(st, NULL, T0, visit, &s), CRUMB_EINVAL);
    CHECK_RC(crumb_store_log_scan(st, "", T0, NULL, &s), CRUMB_EINVAL);
    CHECK_RC(crumb_store_log_scan(st, longname, T0, visit, &s),
             CRUMB_EINVAL);
    crumb_store_close(st);
}

/* An entry of a batch; @item is a string. */
static crumb_store_log_entry
ent(const char *name, const char *item, int64_t now)
{
    crumb_store_log_entry e = {name, item, strlen(item), now};
    return e;
}

TEST(append_many_in_order)
{
    crumb_store *st = open_store();
    crumb_store_log_entry ev[] = {
        ent("a", "1", T0), ent("b", "x", T0), ent("a", "2", T0),
        ent("a", "3", T0), ent("b", "y", T0 + 1), ent("a", "4", T0 + 2),
    };
    size_t n = 99;
    CHECK_RC(crumb_store_log_append_many(st, ev, 6, 3, 60, &n), CRUMB_OK);
    CHECK(n == 6);
    /* The cap applies as the appends go: "a" keeps its newest 3. */
    CHECK_STR(scan(st, "", T0), "a=2,3,4;b=x,y;");
    /* The expiry is each append's own: b's last append was at T0 + 1,
     * a's at T0 + 2. */
    CHECK_STR(scan(st, "", T0 + 61), "a=2,3,4;");
    CHECK_STR(scan(st, "", T0 + 62), "");
    /* Then as many single appends would do, one after the other. */
    push(st, "a", "5", 3, 60, T0 + 3);
    CHECK_STR(scan(st, "a", T0 + 3), "a=3,4,5;");
    CHECK_RC(crumb_store_log_append_many(st, ev, 1, 3, 60, NULL), CRUMB_OK);
    CHECK_STR(scan(st, "a", T0 + 3), "a=4,5,1;");
    crumb_store_close(st);
}

TEST(append_many_expired_log_restarts)
{
    crumb_store *st = open_store();
    push(st, "old", "0", 10, 10, T0);
    crumb_store_log_entry ev[] = {
        ent("old", "1", T0 + 5),   /* still live: joins "0" */
        ent("old", "2", T0 + 100), /* 1 expired at T0 + 15: starts again */
        ent("old", "3", T0 + 100),
    };
    size_t n = 0;
    CHECK_RC(crumb_store_log_append_many(st, ev, 3, 10, 10, &n), CRUMB_OK);
    CHECK(n == 3);
    CHECK_STR(scan(st, "", T0 + 100), "old=2,3;");
    crumb_store_close(st);
}

TEST(append_many_bad_entry_writes_nothing)
{
    crumb_store *st = open_store();
    char big[CRUMB_STORE_LOG_ITEM_MAX + 1];
    memset(big, 'b', sizeof(big));
    crumb_store_log_entry ev[] = {ent("a", "1", T0), ent("a", "2", T0),
                                  ent("", "3", T0)};
    size_t n = 99;
    CHECK_RC(crumb_store_log_append_many(st, ev, 3, 5, 60, &n),
             CRUMB_EINVAL);
    CHECK(n == 0);
    ev[2] = ent("a", "", T0);
    CHECK_RC(crumb_store_log_append_many(st, ev, 3, 5, 60, &n),
             CRUMB_EINVAL);
    ev[2].item = big;
    ev[2].len = sizeof(big);
    CHECK_RC(crumb_store_log_append_many(st, ev, 3, 5, 60, &n),
             CRUMB_EINVAL);
    ev[2].item = NULL;
    ev[2].len = 1;
    CHECK_RC(crumb_store_log_append_many(st, ev, 3, 5, 60, &n),
             CRUMB_EINVAL);
    ev[2] = ent("a", "3", T0);
    CHECK_RC(crumb_store_log_append_many(st, ev, 3, 0, 60, &n),
             CRUMB_EINVAL);
    CHECK_RC(crumb_store_log_append_many(st, ev, 3, 5, 0, &n),
             CRUMB_EINVAL);
    CHECK_RC(crumb_store_log_append_many(st, ev, 0, 5, 60, &n),
             CRUMB_EINVAL);
    CHECK_RC(crumb_store_log_append_many(st, NULL, 3, 5, 60, &n),
             CRUMB_EINVAL);
    CHECK(n == 0);
    CHECK_STR(scan(st, "", T0), "");
    CHECK_RC(crumb_store_log_append_many(st, ev, 3, 5, 60, &n), CRUMB_OK);
    CHECK(n == 3);
    CHECK_STR(scan(st, "", T0), "a=1,2,3;");
    crumb_store_close(st);
}

TEST(append_many_large_batch)
{
    crumb_store *st = open_store();
    enum { N = 600 };
    static crumb_store_log_entry ev[N];
    static char items[N][16], names[4][16];
    for (int i = 0; i < N; i++) {
        snprintf(names[i % 4], sizeof(names[0]), "l%d", i % 4);
        snprintf(items[i], sizeof(items[0]), "%d", i);
        ev[i] = ent(names[i % 4], items[i], T0);
    }
    size_t n = 0;
    CHECK_RC(crumb_store_log_append_many(st, ev, N, 2, 60, &n), CRUMB_OK);
    CHECK(n == N);
    CHECK_STR(scan(st, "", T0), "l0=592,596;l1=593,597;l2=594,598;"
                                "l3=595,599;");
    crumb_store_close(st);
}

static int
v2_open(crumb_store *st, const char *uri, const crumb_store_options *o,
        void **impl)
{
    *impl = NULL;
    return CRUMB_OK;
}

static void
v2_close(void *impl)
{
}

TEST(unsupported_before_version_3)
{
    crumb_store_ops ops = {.version = 2, .scheme = "old", .open = v2_open,
                           .close = v2_close};
    crumb_store *st;
    CHECK_RC(crumb_store_open_ops(&st, &ops, "old:", NULL), CRUMB_OK);
    /* Garbage where a version 2 table would have ended. */
    ops.log_append = (int (*)(crumb_store *, const char *, const void *,
                              size_t, size_t, int64_t, int64_t))1;
    ops.log_scan = (int (*)(crumb_store *, const char *, int64_t,
                            crumb_store_log_fn, void *))1;
    CHECK_RC(crumb_store_log_append(st, "x", "a", 1, 5, 60, T0),
             CRUMB_EUNSUPPORTED);
    seen s;
    CHECK_RC(crumb_store_log_scan(st, "", T0, visit, &s), CRUMB_EUNSUPPORTED);
    CHECK(strstr(crumb_store_errmsg(st), "no logs") != NULL);
    crumb_store_close(st);
}

/* A version 3 backend that keeps one log in memory, to see the wrapper
 * fall back to log_append when the table has no log_append_many. */
static char v3_log[256];
static int v3_calls;

static int
v3_append(crumb_store *st, const char *name, const void *item, size_t len,
          size_t cap, int64_t ttl, int64_t now)
{
    v3_calls++;
    if (len == 1 && *(const char *)item == '!')
        return CRUMB_ESTORE;
    size_t used = strlen(v3_log);
    snprintf(v3_log + used, sizeof(v3_log) - used, "%s%s=%.*s",
             used ? "," : "", name, (int)len, (const char *)item);
    return CRUMB_OK;
}

static int
v3_scan(crumb_store *st, const char *prefix, int64_t now,
        crumb_store_log_fn fn, void *arg)
{
    return CRUMB_OK;
}

TEST(append_many_falls_back_before_version_4)
{
    crumb_store_ops ops = {.version = 3, .scheme = "old", .open = v2_open,
                           .close = v2_close, .log_append = v3_append,
                           .log_scan = v3_scan};
    crumb_store *st;
    CHECK_RC(crumb_store_open_ops(&st, &ops, "old:", NULL), CRUMB_OK);
    /* Garbage where a version 3 table would have ended. */
    ops.log_append_many = (int (*)(crumb_store *,
                                   const crumb_store_log_entry *, size_t,
                                   size_t, int64_t, size_t *))1;
    crumb_store_log_entry ev[] = {ent("a", "1", T0), ent("b", "2", T0),
                                  ent("a", "!", T0), ent("a", "4", T0)};
    size_t n = 99;
    v3_log[0] = '\0';
    CHECK_RC(crumb_store_log_append_many(st, ev, 2, 5, 60, &n), CRUMB_OK);
    CHECK(n == 2);
    CHECK_STR(v3_log, "a=1,b=2");
    /* A failure stops the loop and counts what came before it. */
    v3_calls = 0;
    CHECK_RC(crumb_store_log_append_many(st, ev, 4, 5, 60, &n),
             CRUMB_ESTORE);
    CHECK(n == 2);
    CHECK(v3_calls == 3);
    crumb_store_close(st);
}

int
main(void)
{
    TEST_BEGIN();
    int nb = backends_setup("l");
    if (nb < 0)
        return 1;
    for (int b = 0; b < nb; b++) {
        const char *be = g_backends[b];
        RUN_FOR(be, append_and_scan);
        RUN_FOR(be, cap_drops_oldest);
        RUN_FOR(be, ttl_by_callers_clock);
        RUN_FOR(be, gc_removes_expired);
        RUN_FOR(be, binary_items_and_names);
        RUN_FOR(be, visitor_stops_scan);
        RUN_FOR(be, many_logs);
        RUN_FOR(be, bad_arguments);
        RUN_FOR(be, append_many_in_order);
        RUN_FOR(be, append_many_expired_log_restarts);
        RUN_FOR(be, append_many_bad_entry_writes_nothing);
        RUN_FOR(be, append_many_large_batch);
    }
    RUN_FOR("memory", unsupported_before_version_3);
    RUN_FOR("memory", append_many_falls_back_before_version_4);
    backends_cleanup();
    return TEST_END();
}
