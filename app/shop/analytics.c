/* analytics.c - page views recorded after each request; /admin/analytics. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <crumb/analytics.h>
#include <crumb/error.h>
#include <crumb/http.h>
#include <crumb/iface.h>

#include "shop.h"

/*
 * Recording: the HTTP layer's after hook, once a handler ran and the
 * session was saved, queues one event of the session's log with its
 * handle and the route's template; analytics_queue.c writes it from a
 * background thread, so the page pays a copy, not a store round trip.
 * Cookie sessions have no store: then nothing is recorded and the page
 * says so. A store that fails there costs the page nothing (the event is
 * lost, not the response).
 */

#define ADMIN_PREFIX "/admin/analytics"

static void
record(crumb_http_req *req, crumb_analytics_event kind, const char *tpl)
{
    crumb_iface *iface = crumb_http_iface(crumb_http_server(req));
    crumb_session *s = crumb_http_session(req);
    if (!iface || !s || !crumb_iface_server_side(iface))
        return;
    const char *handle = crumb_session_handle(s);
    if (!handle[0])
        return; /* nothing stored: no session to follow */
    shop_analytics_enqueue(handle, (int)kind, tpl, crumb_iface_now(iface));
}

void
shop_analytics_after(crumb_http_req *req, void *ctx)
{
    const char *tpl = crumb_http_route_pattern(req);
    /* The dashboard's own views would only count the admin, and asking
     * for the password again is a ceremony, not navigation. */
    if (!tpl || strncmp(tpl, ADMIN_PREFIX, strlen(ADMIN_PREFIX)) == 0 ||
        strcmp(tpl, "/login/confirm") == 0)
        return;
    record(req, CRUMB_ANALYTICS_VIEW, tpl);
}

void
shop_analytics_login(crumb_http_req *req, int ok)
{
    record(req, ok ? CRUMB_ANALYTICS_LOGIN : CRUMB_ANALYTICS_LOGIN_FAILED,
           NULL);
}

/* ---- the admin pages ------------------------------------------------------ */

/* Admins only, with a login within the last 15 minutes (as every admin
 * page): anonymous visitors go to the login form and back, other users
 * get 403. Returns 1 when the page may be shown. */
static int
admin_only(crumb_http_req *req, const char *back)
{
    (void)back;
    return !(crumb_http_role_required(req, "admin") ||
             crumb_http_fresh_required(req, SHOP_FRESH_AGE));
}

/* "?since=" as seconds: N followed by s, m, h or d; at most 30 days.
 * 24 hours when absent; -1 when malformed. */
static int64_t
since_seconds(crumb_http_req *req)
{
    const char *v = crumb_http_query(req, "since");
    if (!v || !*v)
        return 86400;
    char *end;
    long long n = strtoll(v, &end, 10);
    if (end == v || n <= 0 || n > 30LL * 86400 || !end[0] || end[1])
        return -1;
    int64_t unit = *end == 's' ? 1 : *end == 'm' ? 60 : *end == 'h' ? 3600
                                                  : *end == 'd' ? 86400 : 0;
    if (!unit || n * unit > 30LL * 86400)
        return -1;
    return n * unit;
}

/* The report for the request's range; 1 when built, else a page is set. */
static int
build(crumb_http_req *req, crumb_analytics_report *r)
{
    crumb_iface *iface = crumb_http_iface(crumb_http_server(req));
    int64_t span = since_seconds(req);
    if (span < 0) {
        crumb_http_error(req, 400, "since must be like 15m, 1h or 7d.");
        return 0;
    }
    shop_analytics_flush(); /* what was queued so far counts */
    crumb_store *st = crumb_iface_store_acquire(iface);
    if (!st) {
        crumb_http_error(req, 503, "The session store is unreachable.");
        return 0;
    }
    /* The range ends after the current second, so that what was just
     * recorded counts. */
    int64_t end = crumb_iface_now(iface) + 1;
    int rc = crumb_analytics_report_build(st, NULL, end - span, end, r);
    crumb_iface_store_release(iface, st);
    if (rc != CRUMB_OK) {
        crumb_analytics_report_cleanup(r);
        crumb_http_error(req, rc == CRUMB_ENOMEM ? 500 : 503,
                         "The analytics could not be read.");
        return 0;
    }
    return 1;
}

static int
server_side(crumb_http_req *req)
{
    crumb_iface *iface = crumb_http_iface(crumb_http_server(req));
    return iface && crumb_iface_server_side(iface);
}

static void
get_json(crumb_http_req *req, void *unused)
{
    if (!admin_only(req, "/login?next=%2Fadmin%2Fanalytics.json"))
        return;
    json_t *j;
    crumb_analytics_report r;
    if (!server_side(req)) {
        j = json_pack("{s:b}", "enabled", 0);
    } else {
        if (!build(req, &r))
            return;
        j = crumb_analytics_report_json(&r);
        crumb_analytics_report_cleanup(&r);
        if (j)
            json_object_set_new(j, "enabled", json_true());
    }
    char *body = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!body) {
        crumb_http_error(req, 500, "Out of memory.");
        return;
    }
    crumb_http_respond_take(req, 200, "application/json", body, strlen(body));
}

/* ---- charts: inline SVG, presentation attributes only (CSP-safe) ---------- */

/* Writes @s escaped for XML text and attributes. */
static void
esc(FILE *f, const char *s)
{
    char *e = crumb_html_escape(s);
    fputs(e ? e : "", f);
    free(e);
}

static int64_t
max_of(const int64_t *v, size_t n)
{
    int64_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (v[i] > m)
            m = v[i];
    return m;
}

#define BAR_ROWS 20

/* Horizontal bars: one row per template, the most viewed first. */
static void
chart_views(FILE *f, const crumb_analytics_report *r)
{
    size_t n = r->npaths < BAR_ROWS ? r->npaths : BAR_ROWS;
    int64_t max = n ? r->paths[0].count : 1;
    int h = 24 * (int)(n ? n : 1) + 8;
    fprintf(f, "<svg class=\"chart\" role=\"img\" viewBox=\"0 0 640 %d\" "
               "width=\"640\" height=\"%d\" aria-label=\"Page views per "
               "page\"><title>Page views per page</title>",
            h, h);
    for (size_t i = 0; i < n; i++) {
        int y = 4 + 24 * (int)i;
        int w = (int)(360 * r->paths[i].count / (max ? max : 1));
        fprintf(f, "<text x=\"0\" y=\"%d\" font-size=\"12\" "
                   "fill=\"currentColor\">",
                y + 14);
        esc(f, r->paths[i].path);
        fprintf(f, "</text><rect x=\"230\" y=\"%d\" width=\"%d\" "
                   "height=\"18\" fill=\"#4a7bd0\"/>"
                   "<text x=\"%d\" y=\"%d\" font-size=\"12\" "
                   "fill=\"currentColor\">%" PRId64 "</text>",
                y, w ? w : 1, 236 + w, y + 14, r->paths[i].count);
    }
    if (!n)
        fputs("<text x=\"0\" y=\"20\" font-size=\"12\" "
              "fill=\"currentColor\">No page views in this range.</text>",
              f);
    fputs("</svg>", f);
}

/* One polyline per series over the 24 hours. */
static void
chart_hours(FILE *f, const char *title, const int64_t *const *series,
            const char *const *names, const char *const *colors,
            size_t nseries)
{
    int64_t max = 1;
    for (size_t s = 0; s < nseries; s++) {
        int64_t m = max_of(series[s], CRUMB_ANALYTICS_HOURS);
        if (m > max)
            max = m;
    }
    fprintf(f, "<svg class=\"chart\" role=\"img\" viewBox=\"0 0 640 220\" "
               "width=\"640\" height=\"220\" aria-label=\"");
    esc(f, title);
    fputs("\"><title>", f);
    esc(f, title);
    fprintf(f, "</title><line x1=\"40\" y1=\"180\" x2=\"620\" y2=\"180\" "
               "stroke=\"#888\"/><line x1=\"40\" y1=\"20\" x2=\"40\" "
               "y2=\"180\" stroke=\"#888\"/><text x=\"0\" y=\"24\" "
               "font-size=\"11\" fill=\"currentColor\">%" PRId64 "</text>"
               "<text x=\"28\" y=\"184\" font-size=\"11\" "
               "fill=\"currentColor\">0</text>"
               "<text x=\"40\" y=\"198\" font-size=\"11\" "
               "fill=\"currentColor\">24 h ago</text>"
               "<text x=\"330\" y=\"198\" font-size=\"11\" "
               "fill=\"currentColor\">12 h ago</text>"
               "<text x=\"600\" y=\"198\" font-size=\"11\" "
               "fill=\"currentColor\">now</text>",
            max);
    for (size_t s = 0; s < nseries; s++) {
        fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" "
                   "stroke-width=\"2\" points=\"",
                colors[s]);
        for (int i = 0; i < CRUMB_ANALYTICS_HOURS; i++)
            fprintf(f, "%s%d,%d", i ? " " : "",
                    40 + (580 * i) / (CRUMB_ANALYTICS_HOURS - 1),
                    180 - (int)(160 * series[s][i] / max));
        fprintf(f, "\"/><rect x=\"%d\" y=\"206\" width=\"10\" height=\"10\" "
                   "fill=\"%s\"/><text x=\"%d\" y=\"215\" font-size=\"11\" "
                   "fill=\"currentColor\">",
                60 + 160 * (int)s, colors[s], 74 + 160 * (int)s);
        esc(f, names[s]);
        fputs("</text>", f);
    }
    fputs("</svg>", f);
}

/* Vertical bars, one per length bucket. */
static void
chart_lengths(FILE *f, const crumb_analytics_report *r)
{
    int64_t max = max_of(r->lengths, CRUMB_ANALYTICS_LENGTH_BUCKETS);
    fputs("<svg class=\"chart\" role=\"img\" viewBox=\"0 0 640 220\" "
          "width=\"640\" height=\"220\" aria-label=\"Session lengths\">"
          "<title>Session lengths</title>",
          f);
    for (size_t i = 0; i < CRUMB_ANALYTICS_LENGTH_BUCKETS; i++) {
        int x = 20 + 100 * (int)i;
        int h = (int)(150 * r->lengths[i] / (max ? max : 1));
        fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"70\" height=\"%d\" "
                   "fill=\"#4a7bd0\"/><text x=\"%d\" y=\"%d\" "
                   "font-size=\"12\" fill=\"currentColor\">%" PRId64
                   "</text><text x=\"%d\" y=\"200\" font-size=\"12\" "
                   "fill=\"currentColor\">",
                x, 180 - h, h ? h : 1, x + 4, 174 - h, r->lengths[i], x);
        esc(f, crumb_analytics_length_label(i));
        fputs("</text>", f);
    }
    fputs("</svg>", f);
}

/* The charts as one string each, into @ctx. */
static int
add_charts(json_t *ctx, const crumb_analytics_report *r)
{
    static const char *const keys[] = {"chart_views", "chart_active",
                                       "chart_logins", "chart_lengths"};
    for (int c = 0; c < 4; c++) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
            return CRUMB_ENOMEM;
        if (c == 0) {
            chart_views(f, r);
        } else if (c == 1) {
            const int64_t *s[] = {r->active};
            const char *n[] = {"sessions"}, *col[] = {"#4a7bd0"};
            chart_hours(f, "Active sessions per hour", s, n, col, 1);
        } else if (c == 2) {
            const int64_t *s[] = {r->logins_by_hour, r->failures_by_hour};
            const char *n[] = {"logins", "failed logins"};
            const char *col[] = {"#2e8b57", "#c0392b"};
            chart_hours(f, "Logins and failed logins per hour", s, n, col,
                        2);
        } else {
            chart_lengths(f, r);
        }
        if (fclose(f) != 0 || !buf) {
            free(buf);
            return CRUMB_ENOMEM;
        }
        json_object_set_new(ctx, keys[c], json_stringn(buf, len));
        free(buf);
    }
    return CRUMB_OK;
}

static void
get_page(crumb_http_req *req, void *unused)
{
    if (!admin_only(req, "/login?next=%2Fadmin%2Fanalytics"))
        return;
    json_t *ctx = shop_ctx(req, "Analytics", 0);
    if (!ctx || !server_side(req)) {
        if (ctx)
            json_object_set_new(ctx, "disabled", json_true());
        shop_page(req, 200, "admin_analytics", ctx);
        return;
    }
    crumb_analytics_report r;
    if (!build(req, &r)) {
        json_decref(ctx);
        return;
    }
    json_t *rep = crumb_analytics_report_json(&r);
    int rc = rep ? add_charts(ctx, &r) : CRUMB_ENOMEM;
    crumb_analytics_report_cleanup(&r);
    if (rc != CRUMB_OK) {
        json_decref(rep);
        json_decref(ctx);
        crumb_http_error(req, 500, "Out of memory.");
        return;
    }
    const char *since = crumb_http_query(req, "since");
    json_object_set_new(ctx, "range", json_string(since && *since ? since
                                                                  : "24h"));
    json_object_set_new(ctx, "report", rep);
    shop_page(req, 200, "admin_analytics", ctx);
}

static const shop_route routes[] = {
    {"GET", "/admin/analytics", get_page, 0},
    {"GET", "/admin/analytics.json", get_json, 0},
};

int
shop_routes_analytics(crumb_http *h)
{
    return shop_route_table(h, routes, sizeof(routes) / sizeof(routes[0]));
}
