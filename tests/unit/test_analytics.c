/* test_analytics.c - analytics figures from a known sequence of events. */
#include <crumb/analytics.h>
#include <crumb/error.h>
#include <crumb/store.h>

#include "test.h"

#include "store_backends.h"

#define DAY ((int64_t)86400)
#define A "aaaaaaaaaaaaaaaa"
#define B "bbbbbbbbbbbbbbbb"
#define C "0123456789abcdef"

/* When not NULL, view() and login() collect their events here instead
 * of recording them, for crumb_analytics_record_many(). */
static crumb_analytics_entry *g_batch;
static size_t g_nbatch;

static void
view(crumb_store *st, const char *h, const char *tpl, int64_t t)
{
    if (g_batch) {
        crumb_analytics_entry e = {h, CRUMB_ANALYTICS_VIEW, tpl, t};
        g_batch[g_nbatch++] = e;
        return;
    }
    int rc = crumb_analytics_record(st, NULL, h, CRUMB_ANALYTICS_VIEW, tpl, t);
    if (rc != CRUMB_OK)
        T_FAIL_("view %s %s: %s: %s", h, tpl, crumb_errname(rc),
                crumb_store_errmsg(st));
}

static void
login(crumb_store *st, const char *h, crumb_analytics_event kind, int64_t t)
{
    if (g_batch) {
        crumb_analytics_entry e = {h, kind, NULL, t};
        g_batch[g_nbatch++] = e;
        return;
    }
    CHECK_RC(crumb_analytics_record(st, NULL, h, kind, NULL, t), CRUMB_OK);
}

/* The known sequence: three sessions, one event before the range. */
static void
record_sequence(crumb_store *st)
{
    view(st, A, "/", T0 + 10);
    view(st, A, "/products", T0 + 20);
    view(st, A, "/add_to_cart/<int:id>", T0 + 30);
    view(st, A, "/cart", T0 + 40);
    login(st, A, CRUMB_ANALYTICS_LOGIN_FAILED, T0 + 100);
    login(st, A, CRUMB_ANALYTICS_LOGIN, T0 + 110);
    view(st, A, "/products", T0 + 400);

    view(st, B, "/", T0 + 3605);
    view(st, B, "/products", T0 + 3606);
    view(st, B, "/products", T0 + 3607);
    view(st, B, "/cart", T0 + 7200);

    view(st, C, "/", T0 - 100);
    view(st, C, "/login", T0 + 50);
}

static void
check_flow(const crumb_analytics_flow *f, const char *from, const char *to,
           int64_t count)
{
    CHECK_STR(f->from, from);
    CHECK_STR(f->to, to);
    CHECK_INT(f->count, ==, count);
}

static void check_known(crumb_store *st);

TEST(known_sequence)
{
    crumb_store *st = open_store();
    record_sequence(st);
    check_known(st);
    crumb_store_close(st);
}

/* The same events in one crumb_analytics_record_many(): the same report. */
TEST(known_sequence_batched)
{
    crumb_store *st = open_store();
    crumb_analytics_entry ev[32];
    g_batch = ev;
    g_nbatch = 0;
    record_sequence(st);
    g_batch = NULL;
    size_t n = 0;
    CHECK_RC(crumb_analytics_record_many(st, NULL, ev, g_nbatch, &n),
             CRUMB_OK);
    CHECK(n == g_nbatch);
    check_known(st);
    /* One bad event: nothing of the batch is written. */
    crumb_analytics_entry bad[2] = {
        {A, CRUMB_ANALYTICS_VIEW, "/cart", T0 + 500},
        {A, CRUMB_ANALYTICS_VIEW, "/cart?q=secret", T0 + 501},
    };
    CHECK_RC(crumb_analytics_record_many(st, NULL, bad, 2, &n),
             CRUMB_EINVAL);
    CHECK(n == 0);
    CHECK_RC(crumb_analytics_record_many(st, NULL, bad, 0, &n),
             CRUMB_EINVAL);
    check_known(st);
    crumb_store_close(st);
}

static void
check_known(crumb_store *st)
{
    crumb_analytics_report r;
    CHECK_RC(crumb_analytics_report_build(st, NULL, T0, T0 + DAY, &r),
             CRUMB_OK);
    CHECK_INT(r.sessions, ==, 3);
    CHECK_INT(r.page_views, ==, 10);
    CHECK_INT(r.logins, ==, 1);
    CHECK_INT(r.login_failures, ==, 1);
    CHECK_INT(r.skipped, ==, 0);

    CHECK_INT(r.npaths, ==, 5);
    const char *paths[] = {"/products", "/", "/cart",
                           "/add_to_cart/<int:id>", "/login"};
    const int64_t counts[] = {4, 2, 2, 1, 1};
    for (size_t i = 0; i < 5; i++) {
        CHECK_STR(r.paths[i].path, paths[i]);
        CHECK_INT(r.paths[i].count, ==, counts[i]);
    }

    CHECK_INT(r.nflows, ==, 6);
    check_flow(&r.flows[0], "/", "/products", 2);
    check_flow(&r.flows[1], "/add_to_cart/<int:id>", "/cart", 1);
    check_flow(&r.flows[2], "/cart", "/products", 1);
    check_flow(&r.flows[3], "/products", "/add_to_cart/<int:id>", 1);
    check_flow(&r.flows[4], "/products", "/cart", 1);
    check_flow(&r.flows[5], "/products", "/products", 1);
    CHECK_INT(r.nnext, ==, 4);
    check_flow(&r.next[0], "/", "/products", 2);
    check_flow(&r.next[1], "/add_to_cart/<int:id>", "/cart", 1);
    check_flow(&r.next[2], "/cart", "/products", 1);
    check_flow(&r.next[3], "/products", "/add_to_cart/<int:id>", 1);

    CHECK_INT(r.hour_start, ==, T0);
    const int64_t active[CRUMB_ANALYTICS_HOURS] = {2, 1, 1};
    for (int h = 0; h < CRUMB_ANALYTICS_HOURS; h++) {
        CHECK_INT(r.active[h], ==, active[h]);
        CHECK_INT(r.logins_by_hour[h], ==, h == 0);
        CHECK_INT(r.failures_by_hour[h], ==, h == 0);
    }
    /* A: 390 s, B: 3595 s, C: one event. */
    const int64_t lengths[CRUMB_ANALYTICS_LENGTH_BUCKETS] = {1, 0, 1, 0, 1,
                                                             0};
    for (int i = 0; i < CRUMB_ANALYTICS_LENGTH_BUCKETS; i++)
        CHECK_INT(r.lengths[i], ==, lengths[i]);
    crumb_analytics_report_cleanup(&r);
}

TEST(narrower_range)
{
    crumb_store *st = open_store();
    record_sequence(st);
    crumb_analytics_report r;
    /* The second hour only: B's first three views. */
    CHECK_RC(crumb_analytics_report_build(st, NULL, T0 + 3600, T0 + 7200,
                                          &r),
             CRUMB_OK);
    CHECK_INT(r.sessions, ==, 1);
    CHECK_INT(r.page_views, ==, 3);
    CHECK_INT(r.logins + r.login_failures, ==, 0);
    CHECK_INT(r.npaths, ==, 2);
    CHECK_STR(r.paths[0].path, "/products");
    CHECK_INT(r.paths[0].count, ==, 2);
    CHECK_INT(r.nflows, ==, 2);
    check_flow(&r.flows[0], "/", "/products", 1);
    check_flow(&r.flows[1], "/products", "/products", 1);
    /* The 24 hours end at T0 + 7200: B is in hour 23. */
    CHECK_INT(r.hour_start, ==, T0 + 7200 - DAY);
    CHECK_INT(r.active[23], ==, 1);
    CHECK_INT(r.active[22], ==, 0);
    CHECK_INT(r.lengths[0], ==, 1);
    crumb_analytics_report_cleanup(&r);
    crumb_store_close(st);
}

TEST(json_figures)
{
    crumb_store *st = open_store();
    record_sequence(st);
    crumb_analytics_report r;
    CHECK_RC(crumb_analytics_report_build(st, NULL, T0, T0 + DAY, &r),
             CRUMB_OK);
    json_t *j = crumb_analytics_report_json(&r);
    CHECK(j != NULL);
    CHECK_INT(json_integer_value(json_object_get(j, "page_views")), ==, 10);
    CHECK_INT(json_integer_value(json_object_get(j, "sessions")), ==, 3);
    json_t *p0 = json_array_get(json_object_get(j, "paths"), 0);
    CHECK_STR(json_string_value(json_object_get(p0, "path")), "/products");
    CHECK_INT(json_array_size(json_object_get(j, "flows")), ==, 6);
    CHECK_INT(json_array_size(json_object_get(j, "active")), ==, 24);
    json_t *l2 = json_array_get(json_object_get(j, "lengths"), 2);
    CHECK_STR(json_string_value(json_object_get(l2, "label")), "5-15 min");
    CHECK_INT(json_integer_value(json_object_get(l2, "count")), ==, 1);
    json_decref(j);
    crumb_analytics_report_cleanup(&r);
    crumb_store_close(st);
}

TEST(cap_per_session)
{
    crumb_store *st = open_store();
    crumb_analytics_options o = {.max_events = 50};
    for (int i = 0; i < 120; i++)
        CHECK_RC(crumb_analytics_record(st, &o, A, CRUMB_ANALYTICS_VIEW,
                                        i < 70 ? "/old" : "/new", T0 + i),
                 CRUMB_OK);
    crumb_analytics_report r;
    CHECK_RC(crumb_analytics_report_build(st, &o, T0, T0 + DAY, &r),
             CRUMB_OK);
    /* The oldest were dropped: only the newest 50, all "/new". */
    CHECK_INT(r.page_views, ==, 50);
    CHECK_INT(r.npaths, ==, 1);
    CHECK_STR(r.paths[0].path, "/new");
    crumb_analytics_report_cleanup(&r);
    crumb_store_close(st);
}

TEST(retention)
{
    crumb_store *st = open_store();
    crumb_analytics_options o = {.retention = 600};
    CHECK_RC(crumb_analytics_record(st, &o, A, CRUMB_ANALYTICS_VIEW, "/",
                                    T0),
             CRUMB_OK);
    CHECK_RC(crumb_analytics_record(st, &o, B, CRUMB_ANALYTICS_VIEW, "/",
                                    T0 + 500),
             CRUMB_OK);
    crumb_analytics_report r;
    /* At T0 + 700, A's log (last event at T0) has expired; B's has not. */
    CHECK_RC(crumb_analytics_report_build(st, &o, T0 - 10, T0 + 700, &r),
             CRUMB_OK);
    CHECK_INT(r.sessions, ==, 1);
    CHECK_INT(r.page_views, ==, 1);
    crumb_analytics_report_cleanup(&r);
    CHECK_RC(crumb_store_gc(st, T0 + 700, NULL), CRUMB_OK);
    crumb_store_close(st);
}

static int
raw_visit(void *arg, const char *name, const crumb_store_item *items,
          size_t n)
{
    char *out = arg;
    size_t used = strlen(out);
    used += (size_t)snprintf(out + used, 1024 - used, "%s:", name);
    for (size_t i = 0; i < n && used < 1000; i++)
        used += (size_t)snprintf(out + used, 1024 - used, "[%.*s]",
                                 (int)items[i].len, items[i].data);
    return CRUMB_OK;
}

TEST(bad_input_never_stored)
{
    crumb_store *st = open_store();
    const crumb_analytics_event v = CRUMB_ANALYTICS_VIEW;
    /* Raw paths with a query or fragment, spaces, control bytes. */
    CHECK_RC(crumb_analytics_record(st, NULL, A, v, "/products?q=secret",
                                    T0),
             CRUMB_EINVAL);
    CHECK_RC(crumb_analytics_record(st, NULL, A, v, "/a#frag", T0),
             CRUMB_EINVAL);
    CHECK_RC(crumb_analytics_record(st, NULL, A, v, "/a b", T0),
             CRUMB_EINVAL);
    CHECK_RC(crumb_analytics_record(st, NULL, A, v, "/a\nb", T0),
             CRUMB_EINVAL);
    CHECK_RC(crumb_analytics_record(st, NULL, A, v, "products", T0),
             CRUMB_EINVAL);
    CHECK_RC(crumb_analytics_record(st, NULL, A, v, "", T0), CRUMB_EINVAL);
    CHECK_RC(crumb_analytics_record(st, NULL, A, v, NULL, T0), CRUMB_EINVAL);
    char longt[CRUMB_ANALYTICS_TEMPLATE_MAX + 2];
    memset(longt, 'x', sizeof(longt) - 1);
    longt[0] = '/';
    longt[sizeof(longt) - 1] = '\0';
    CHECK_RC(crumb_analytics_record(st, NULL, A, v, longt, T0), CRUMB_EINVAL);
    /* Handles only: never a cookie id (43 characters of base64). */
    CHECK_RC(crumb_analytics_record(
                 st, NULL, "k3Jd8s_Yq0m2Vw9xZr4TbNcLpQe7HfUaGiOoS1tW5yE", v,
                 "/", T0),
             CRUMB_EINVAL);
    CHECK_RC(crumb_analytics_record(st, NULL, "AAAAAAAAAAAAAAAA", v, "/", T0),
             CRUMB_EINVAL);
    CHECK_RC(crumb_analytics_record(st, NULL, "", v, "/", T0), CRUMB_EINVAL);
    /* Logins carry no path; unknown kinds are refused. */
    CHECK_RC(crumb_analytics_record(st, NULL, A, CRUMB_ANALYTICS_LOGIN,
                                    "/login", T0),
             CRUMB_EINVAL);
    CHECK_RC(crumb_analytics_record(st, NULL, A, (crumb_analytics_event)'x',
                                    NULL, T0),
             CRUMB_EINVAL);
    char raw[1024] = "";
    CHECK_RC(crumb_store_log_scan(st, "", T0, raw_visit, raw), CRUMB_OK);
    CHECK_STR(raw, "");
    /* What is stored is exactly time, kind and template. */
    view(st, A, "/add_to_cart/<int:id>", T0);
    login(st, A, CRUMB_ANALYTICS_LOGIN, T0 + 1);
    CHECK_RC(crumb_store_log_scan(st, "", T0, raw_visit, raw), CRUMB_OK);
    CHECK_STR(raw, "analytics:" A ":[1700000000 v /add_to_cart/<int:id>]"
                   "[1700000001 l]");
    crumb_store_close(st);
}

TEST(hostile_stored_events_skipped)
{
    crumb_store *st = open_store();
    static const char *const junk[] = {
        "", "x v /", "1700000000", "1700000000 v", "1700000000 v products",
        "1700000000 v /a?b", "1700000000 l extra", "1700000000 z",
        "99999999999999999999 v /"};
    for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
        if (junk[i][0])
            CHECK_RC(crumb_store_log_append(st, "analytics:" A, junk[i],
                                            strlen(junk[i]), 100, 3600, T0),
                     CRUMB_OK);
    view(st, A, "/ok", T0);
    crumb_analytics_report r;
    CHECK_RC(crumb_analytics_report_build(st, NULL, T0, T0 + 60, &r),
             CRUMB_OK);
    CHECK_INT(r.skipped, ==, 8);
    CHECK_INT(r.page_views, ==, 1);
    CHECK_INT(r.nflows, ==, 0);
    crumb_analytics_report_cleanup(&r);
    CHECK_RC(crumb_analytics_report_build(st, NULL, T0 + 1, T0, &r),
             CRUMB_EINVAL);
    crumb_analytics_report_cleanup(&r);
    crumb_analytics_report_cleanup(NULL);
    crumb_store_close(st);
}

int
main(void)
{
    TEST_BEGIN();
    int nb = backends_setup("a");
    if (nb < 0)
        return 1;
    for (int b = 0; b < nb; b++) {
        const char *be = g_backends[b];
        RUN_FOR(be, known_sequence);
        RUN_FOR(be, known_sequence_batched);
        RUN_FOR(be, narrower_range);
        RUN_FOR(be, json_figures);
        RUN_FOR(be, cap_per_session);
        RUN_FOR(be, retention);
        RUN_FOR(be, bad_input_never_stored);
        RUN_FOR(be, hostile_stored_events_skipped);
    }
    backends_cleanup();
    return TEST_END();
}
