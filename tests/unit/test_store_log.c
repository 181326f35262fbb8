/* test_store_log.c - the store's logs (ops version 3) on every backend. */
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
    }
    RUN_FOR("memory", unsupported_before_version_3);
    backends_cleanup();
    return TEST_END();
}
