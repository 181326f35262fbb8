/* cmd_analytics.c - `crumb analytics`: the figures of /admin/analytics. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <crumb/crumb.h>

#include "cli.h"

static const char analytics_help[] =
    "usage: crumb analytics [--since DURATION] [--until UNIXTIME] [--json]\n"
    "                       [--store URI]\n"
    "\n"
    "Prints the session analytics crumb-shop records in its store, over\n"
    "the DURATION (like 15m, 1h, 7d; default 24h) that ends at UNIXTIME\n"
    "(default: now): sessions, page views and logins; page views per\n"
    "page (route templates); the most common next page after each page;\n"
    "active sessions, logins and failed logins per hour over the 24 hours\n"
    "before the end; session lengths. With --json, one JSON object, as\n"
    "/admin/analytics.json gives it. The store: --store URI, else the\n"
    "environment's CRUMB_STORE (sqlite:PATH or redis://HOST:PORT/DB).\n";

enum { OPT_STORE = 1000, OPT_SINCE, OPT_UNTIL, OPT_JSON };

struct an_opts {
    const char *store;
    int64_t span;
    int64_t until; /* 0: now */
    int json;
};

/* "15m" -> 900; -1 when malformed or over 30 days. */
static int64_t
duration(const char *s)
{
    char *end;
    long long n = strtoll(s, &end, 10);
    if (end == s || n <= 0 || !end[0] || end[1])
        return -1;
    int64_t unit = *end == 's' ? 1 : *end == 'm' ? 60 : *end == 'h' ? 3600
                                                  : *end == 'd' ? 86400 : 0;
    if (!unit || n > 30LL * 86400 / unit)
        return -1;
    return n * unit;
}

/* Returns -1 after printing why (exit 2), 1 after help (exit 0), 0. */
static int
parse_opts(int argc, char **argv, struct an_opts *o)
{
    static const struct option opts[] = {
        {"store", required_argument, NULL, OPT_STORE},
        {"since", required_argument, NULL, OPT_SINCE},
        {"until", required_argument, NULL, OPT_UNTIL},
        {"json", no_argument, NULL, OPT_JSON},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long long v;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_STORE:
            o->store = optarg;
            break;
        case OPT_SINCE:
            if ((o->span = duration(optarg)) < 0) {
                cli_error("analytics", "--since wants like 15m, 1h or 7d "
                                       "(at most 30d)");
                return -1;
            }
            break;
        case OPT_UNTIL:
            if (cli_parse_i64(optarg, &v) || v <= 0) {
                cli_error("analytics", "--until wants unix seconds");
                return -1;
            }
            o->until = v;
            break;
        case OPT_JSON:
            o->json = 1;
            break;
        case 'h':
            fputs(analytics_help, stdout);
            return 1;
        default:
            fputs(analytics_help, stderr);
            return -1;
        }
    }
    if (optind < argc) {
        cli_error("analytics", "unexpected argument %s", argv[optind]);
        return -1;
    }
    if (!o->store)
        o->store = getenv("CRUMB_STORE");
    return 0;
}

/* The store at @uri, or NULL after saying why (*status set). */
static crumb_store *
open_store(const char *uri, int *status)
{
    *status = cli_store_reachable("analytics", uri,
                                  "with cookie sessions nothing is recorded");
    if (*status != 0)
        return NULL;
    char err[256] = "";
    crumb_store_options so;
    crumb_store_options_init(&so);
    so.errbuf = err;
    so.errbuf_size = sizeof err;
    crumb_store *st = NULL;
    int rc = crumb_store_open(&st, uri, &so);
    if (rc != CRUMB_OK) {
        cli_error("analytics", "%s: %s", uri, *err ? err : crumb_strerror(rc));
        *status = rc == CRUMB_EINVAL ? 2 : 1;
        return NULL;
    }
    return st;
}

static void
print_hours(const char *title, const crumb_analytics_report *r,
            const int64_t *a, const int64_t *b)
{
    printf("\n%s (hour starting, UTC)\n", title);
    for (int h = 0; h < CRUMB_ANALYTICS_HOURS; h++) {
        char t[CLI_TIME_SIZE];
        cli_time_iso(r->hour_start + 3600 * h, t);
        if (b)
            printf("  %s  %6" PRId64 "  %6" PRId64 "\n", t, a[h], b[h]);
        else
            printf("  %s  %6" PRId64 "\n", t, a[h]);
    }
}

/* The text report. Names come from the store, which the library checked
 * (printable ASCII); they are still passed through cli_printable(). */
static void
print_text(const crumb_analytics_report *r)
{
    char from[CLI_TIME_SIZE], to[CLI_TIME_SIZE], a[256], b[256];
    cli_time_iso(r->since, from);
    cli_time_iso(r->until, to);
    printf("Session analytics from %s to %s\n\n", from, to);
    printf("  sessions        %" PRId64 "\n", r->sessions);
    printf("  page views      %" PRId64 "\n", r->page_views);
    printf("  logins          %" PRId64 "\n", r->logins);
    printf("  failed logins   %" PRId64 "\n", r->login_failures);
    printf("\nPage views per page\n");
    for (size_t i = 0; i < r->npaths; i++) {
        cli_printable(r->paths[i].path, a, sizeof a);
        printf("  %6" PRId64 "  %s\n", r->paths[i].count, a);
    }
    printf("\nMost common next page\n");
    for (size_t i = 0; i < r->nnext; i++) {
        cli_printable(r->next[i].from, a, sizeof a);
        cli_printable(r->next[i].to, b, sizeof b);
        printf("  %s -> %s  (%" PRId64 ")\n", a, b, r->next[i].count);
    }
    printf("\nEvery flow\n");
    for (size_t i = 0; i < r->nflows; i++) {
        cli_printable(r->flows[i].from, a, sizeof a);
        cli_printable(r->flows[i].to, b, sizeof b);
        printf("  %6" PRId64 "  %s -> %s\n", r->flows[i].count, a, b);
    }
    print_hours("Active sessions per hour", r, r->active, NULL);
    printf("\nSession lengths\n");
    for (size_t i = 0; i < CRUMB_ANALYTICS_LENGTH_BUCKETS; i++)
        printf("  %-10s  %6" PRId64 "\n", crumb_analytics_length_label(i),
               r->lengths[i]);
    print_hours("Logins and failed logins per hour", r, r->logins_by_hour,
                r->failures_by_hour);
    if (r->skipped)
        printf("\n(%" PRId64 " stored events did not parse; ignored)\n",
               r->skipped);
}

int
cli_analytics(int argc, char **argv)
{
    struct an_opts o = {.span = 86400};
    int rc = parse_opts(argc, argv, &o);
    if (rc)
        return rc < 0 ? 2 : 0;
    int status;
    crumb_store *st = open_store(o.store, &status);
    if (!st)
        return status;
    /* As the page does: the range ends after the current second. */
    int64_t until = o.until ? o.until : crumb_clock_real(NULL) + 1;
    crumb_analytics_report r;
    rc = crumb_analytics_report_build(st, NULL, until - o.span, until, &r);
    if (rc != CRUMB_OK) {
        cli_error("analytics", "%s (%s)", crumb_strerror(rc),
                  crumb_store_errmsg(st));
        crumb_analytics_report_cleanup(&r);
        crumb_store_close(st);
        return 1;
    }
    crumb_store_close(st);
    status = 0;
    if (o.json) {
        json_t *j = crumb_analytics_report_json(&r);
        char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
        if (text)
            puts(text);
        else
            status = 1;
        free(text);
        json_decref(j);
    } else {
        print_text(&r);
    }
    crumb_analytics_report_cleanup(&r);
    if (fflush(stdout) != 0)
        status = 1;
    return status;
}
