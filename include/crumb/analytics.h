/* crumb/analytics.h - session analytics: page views and logins in a store. */
#ifndef CRUMB_ANALYTICS_H
#define CRUMB_ANALYTICS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include <crumb/store.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Each session's events go to one store log named "analytics:<handle>"
 * (crumb_store_log_append: one round trip, shared by every server on the
 * store). An event is "<unix time> <kind>[ <path template>]": the
 * session's public handle names the log (never the cookie id), a page is
 * named by its route's template ("/add_to_cart/<int:id>"), never by the
 * path the client sent, and no query string, form field or cookie is
 * ever written. Memory is bounded twice: a session keeps its newest
 * max_events events, and a log expires `retention` seconds after its last
 * event.
 *
 * A report reads every log back (crumb_store_log_scan) and counts, over
 * a time range: page views per template, the pages that follow each page
 * within a session (navigation flows), distinct active sessions per hour
 * and logins and failed logins per hour over the 24 hours before the end
 * of the range, and the distribution of session lengths (first to last
 * event in the range). A login regenerates the session id, so the
 * events before and after a login belong to two handles.
 */

#define CRUMB_ANALYTICS_MAX_EVENTS_DEFAULT 200
#define CRUMB_ANALYTICS_RETENTION_DEFAULT 86400 /* seconds */
#define CRUMB_ANALYTICS_TEMPLATE_MAX 200        /* bytes */
#define CRUMB_ANALYTICS_HOURS 24
#define CRUMB_ANALYTICS_LENGTH_BUCKETS 6

/** Options; zero means default. */
typedef struct crumb_analytics_options {
    size_t max_events; /* per session: CRUMB_ANALYTICS_MAX_EVENTS_DEFAULT */
    int64_t retention; /* seconds: CRUMB_ANALYTICS_RETENTION_DEFAULT */
} crumb_analytics_options;

/** What happened. */
typedef enum crumb_analytics_event {
    CRUMB_ANALYTICS_VIEW = 'v',        /* a page view (with a template) */
    CRUMB_ANALYTICS_LOGIN = 'l',       /* a successful login */
    CRUMB_ANALYTICS_LOGIN_FAILED = 'f' /* a refused password */
} crumb_analytics_event;

/**
 * crumb_analytics_record - append one event of the session @handle (16
 * lowercase hex digits, as crumb_session_handle() gives) at @now.
 * @path_template: for CRUMB_ANALYTICS_VIEW, the route's template: starts
 * with '/', printable ASCII without spaces, '?' or '#', at most
 * CRUMB_ANALYTICS_TEMPLATE_MAX bytes; NULL for the login events.
 * @opts may be NULL (defaults).
 * Returns CRUMB_OK, CRUMB_EINVAL (bad handle, template or kind), and the
 * store's errors (CRUMB_EUNSUPPORTED, CRUMB_EUNAVAIL, CRUMB_ESTORE,
 * CRUMB_ENOMEM) with its message in crumb_store_errmsg().
 * Thread-safety: as the store handle's.
 */
int crumb_analytics_record(crumb_store *st,
                           const crumb_analytics_options *opts,
                           const char *handle, crumb_analytics_event kind,
                           const char *path_template, int64_t now);

/** One event for crumb_analytics_record_many(): the arguments of
 * crumb_analytics_record(), @at being its @now. */
typedef struct crumb_analytics_entry {
    const char *handle;
    crumb_analytics_event kind;
    const char *path_template; /* NULL for the login events */
    int64_t at;
} crumb_analytics_entry;

/**
 * crumb_analytics_record_many - record @n (>= 1) events, each as
 * crumb_analytics_record() would, with one crumb_store_log_append_many():
 * one transaction (sqlite) or one pipelined round trip (redis) for a
 * writer that drains a queue. Every event is checked first: one bad event
 * is CRUMB_EINVAL and nothing is written. @written (may be NULL) receives
 * how many were stored (see crumb_store_log_append_many() for a partial
 * failure).
 * Returns CRUMB_OK, CRUMB_EINVAL, CRUMB_ENOMEM and the store's errors.
 * Lifetime: @events and their strings are read during the call.
 * Thread-safety: as the store handle's.
 */
int crumb_analytics_record_many(crumb_store *st,
                                const crumb_analytics_options *opts,
                                const crumb_analytics_entry *events,
                                size_t n, size_t *written);

/** A count by name (page views of a template). */
typedef struct crumb_analytics_count {
    char *path;
    int64_t count;
} crumb_analytics_count;

/** A navigation flow: @count times a view of @to came next after @from. */
typedef struct crumb_analytics_flow {
    char *from;
    char *to;
    int64_t count;
} crumb_analytics_flow;

typedef struct crumb_analytics_report {
    int64_t since, until; /* the range: since <= time < until */
    int64_t sessions;     /* sessions with an event in the range */
    int64_t page_views;
    int64_t logins, login_failures;

    /* Page views per template, most first (ties: by template). */
    crumb_analytics_count *paths;
    size_t npaths;
    /* Every (from, to) pair of consecutive page views of one session,
     * most first (ties: by from, then to). */
    crumb_analytics_flow *flows;
    size_t nflows;
    /* For each page with a next page, the most common next one (the
     * first of its flows above), ordered by from. */
    crumb_analytics_flow *next;
    size_t nnext;

    /* The 24 hours before `until`: hour i covers [hour_start + 3600 i,
     * hour_start + 3600 (i + 1)); hour 23 ends at `until`. Only events
     * in the range count. */
    int64_t hour_start;
    int64_t active[CRUMB_ANALYTICS_HOURS]; /* distinct sessions */
    int64_t logins_by_hour[CRUMB_ANALYTICS_HOURS];
    int64_t failures_by_hour[CRUMB_ANALYTICS_HOURS];

    /* Sessions by length, first to last event in the range: under 1 min,
     * 1-5 min, 5-15 min, 15-30 min, 30-60 min, 1 h and more. */
    int64_t lengths[CRUMB_ANALYTICS_LENGTH_BUCKETS];

    int64_t skipped; /* stored events that did not parse (ignored) */
} crumb_analytics_report;

/** crumb_analytics_length_label - "< 1 min", "1-5 min"... for bucket @i
 * (static), or NULL out of range. */
const char *crumb_analytics_length_label(size_t i);

/**
 * crumb_analytics_report_build - the figures over [@since, @until) from
 * every session's events in @st, reading the logs live at @until (the
 * usual @until is now). Walks the whole store's logs: for administration
 * pages and tools, not the request path. @opts may be NULL.
 * Returns CRUMB_OK, CRUMB_EINVAL (until < since), CRUMB_ENOMEM, and the
 * store's errors (see crumb_store_errmsg()).
 * Lifetime: @out's arrays owned by it: crumb_analytics_report_cleanup(),
 * also after a failure.
 */
int crumb_analytics_report_build(crumb_store *st,
                                 const crumb_analytics_options *opts,
                                 int64_t since, int64_t until,
                                 crumb_analytics_report *out);

/** crumb_analytics_report_cleanup - free what @r holds, zero it; accepts
 * NULL. */
void crumb_analytics_report_cleanup(crumb_analytics_report *r);

/**
 * crumb_analytics_report_json - @r as a JSON object: since, until,
 * sessions, page_views, logins, login_failures, paths [{path, count}],
 * flows and next [{from, to, count}], hour_start, active,
 * logins_by_hour, failures_by_hour [24 integers], lengths [{label,
 * count}], skipped. NULL on out of memory.
 * Lifetime: a new reference, the caller's: json_decref().
 */
json_t *crumb_analytics_report_json(const crumb_analytics_report *r);

#ifdef __cplusplus
}
#endif
#endif
