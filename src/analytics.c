/* analytics.c - session events into store logs, and reports over them. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <crumb/analytics.h>
#include <crumb/error.h>

#define LOG_PREFIX "analytics:"
#define HANDLE_LEN 16
#define HOUR 3600
/* Distinct names a report keeps before counting the rest as OTHER: the
 * templates come from a route table, so this only bounds hostile data. */
#define PATHS_MAX 4096
#define FLOWS_MAX 65536
#define OTHER "(other)"

static void
resolve(const crumb_analytics_options *in, crumb_analytics_options *out)
{
    if (in)
        *out = *in;
    else
        memset(out, 0, sizeof(*out));
    if (out->max_events == 0)
        out->max_events = CRUMB_ANALYTICS_MAX_EVENTS_DEFAULT;
    if (out->max_events > CRUMB_STORE_LOG_CAP_MAX)
        out->max_events = CRUMB_STORE_LOG_CAP_MAX;
    if (out->retention <= 0)
        out->retention = CRUMB_ANALYTICS_RETENTION_DEFAULT;
}

static int
handle_ok(const char *h)
{
    if (!h || strlen(h) != HANDLE_LEN)
        return 0;
    return strspn(h, "0123456789abcdef") == HANDLE_LEN;
}

/* A route template as analytics keeps it: '/' then printable ASCII
 * without spaces, and never a query or fragment. Checked on the way in
 * and again on the way out (the store is shared, so its bytes are input). */
static int
template_ok(const char *s, size_t len)
{
    if (len == 0 || len > CRUMB_ANALYTICS_TEMPLATE_MAX || s[0] != '/')
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= ' ' || c >= 0x7f || c == '?' || c == '#')
            return 0;
    }
    return 1;
}

/* The log name and the item of one event; CRUMB_EINVAL when the event
 * is not one crumb_analytics_record() accepts. */
#define ITEM_MAX (64 + CRUMB_ANALYTICS_TEMPLATE_MAX)
#define NAME_MAX_ (sizeof(LOG_PREFIX) + HANDLE_LEN)

static int
format_event(const char *handle, crumb_analytics_event kind,
             const char *path_template, int64_t now, char name[NAME_MAX_],
             char item[ITEM_MAX], size_t *len)
{
    if (!handle_ok(handle) || now < 0)
        return CRUMB_EINVAL;
    /* "<now> v <template>" or "<now> <kind>", written by hand: the
     * writer thread formats every page view (snprintf was most of it). */
    size_t tl = 0;
    if (kind == CRUMB_ANALYTICS_VIEW) {
        if (!path_template ||
            !template_ok(path_template, tl = strlen(path_template)))
            return CRUMB_EINVAL;
    } else if (kind == CRUMB_ANALYTICS_LOGIN ||
               kind == CRUMB_ANALYTICS_LOGIN_FAILED) {
        if (path_template)
            return CRUMB_EINVAL;
    } else {
        return CRUMB_EINVAL;
    }
    char digits[24];
    size_t nd = 0, n = 0;
    uint64_t u = (uint64_t)now;
    do {
        digits[nd++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    while (nd)
        item[n++] = digits[--nd];
    item[n++] = ' ';
    item[n++] = (char)kind;
    if (kind == CRUMB_ANALYTICS_VIEW) {
        item[n++] = ' ';
        memcpy(item + n, path_template, tl);
        n += tl;
    }
    item[n] = '\0';
    memcpy(name, LOG_PREFIX, sizeof(LOG_PREFIX) - 1);
    memcpy(name + sizeof(LOG_PREFIX) - 1, handle, HANDLE_LEN + 1);
    *len = n;
    return CRUMB_OK;
}

int
crumb_analytics_record(crumb_store *st, const crumb_analytics_options *opts,
                       const char *handle, crumb_analytics_event kind,
                       const char *path_template, int64_t now)
{
    if (!st)
        return CRUMB_EINVAL;
    crumb_analytics_options o;
    resolve(opts, &o);
    char item[ITEM_MAX], name[NAME_MAX_];
    size_t len;
    int rc = format_event(handle, kind, path_template, now, name, item, &len);
    if (rc != CRUMB_OK)
        return rc;
    return crumb_store_log_append(st, name, item, len, o.max_events,
                                  o.retention, now);
}

/* The names and items live in one buffer beside the entries that point
 * into it. */
int
crumb_analytics_record_many(crumb_store *st,
                            const crumb_analytics_options *opts,
                            const crumb_analytics_entry *events, size_t n,
                            size_t *written)
{
    if (written)
        *written = 0;
    if (!st || !events || n == 0)
        return CRUMB_EINVAL;
    crumb_analytics_options o;
    resolve(opts, &o);
    size_t one = sizeof(crumb_store_log_entry) + NAME_MAX_ + ITEM_MAX;
    if (n > SIZE_MAX / one)
        return CRUMB_ENOMEM;
    crumb_store_log_entry *ev = malloc(n * one);
    if (!ev)
        return CRUMB_ENOMEM;
    char *text = (char *)(ev + n);
    int rc = CRUMB_OK;
    for (size_t i = 0; i < n && rc == CRUMB_OK; i++) {
        char *name = text + i * (NAME_MAX_ + ITEM_MAX);
        char *item = name + NAME_MAX_;
        rc = format_event(events[i].handle, events[i].kind,
                          events[i].path_template, events[i].at, name, item,
                          &ev[i].len);
        ev[i].name = name;
        ev[i].item = item;
        ev[i].now = events[i].at;
    }
    if (rc == CRUMB_OK)
        rc = crumb_store_log_append_many(st, ev, n, o.max_events,
                                         o.retention, written);
    free(ev);
    return rc;
}

/* ---- counting by name -------------------------------------------------- */

typedef struct slot {
    char *key; /* NULL: empty */
    uint64_t hash;
    int64_t count;
} slot;

typedef struct table {
    slot *s;
    size_t cap, n, max;
} table;

static uint64_t
hash_str(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 1099511628211ull;
    }
    return h;
}

static int
table_grow(table *t)
{
    size_t cap = t->cap ? t->cap * 2 : 64;
    slot *s = calloc(cap, sizeof(*s));
    if (!s)
        return CRUMB_ENOMEM;
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->s[i].key)
            continue;
        size_t j = t->s[i].hash & (cap - 1);
        while (s[j].key)
            j = (j + 1) & (cap - 1);
        s[j] = t->s[i];
    }
    free(t->s);
    t->s = s;
    t->cap = cap;
    return CRUMB_OK;
}

/* Adds one to the count of @key (@len bytes), creating it; past t->max
 * distinct keys a new one counts as OTHER instead. */
static int
table_incr(table *t, const char *key, size_t len)
{
    if ((t->n + 1) * 2 > t->cap && table_grow(t) != CRUMB_OK)
        return CRUMB_ENOMEM;
    uint64_t h = hash_str(key, len);
    size_t j = h & (t->cap - 1);
    for (; t->s[j].key; j = (j + 1) & (t->cap - 1)) {
        if (t->s[j].hash == h && strlen(t->s[j].key) == len &&
            memcmp(t->s[j].key, key, len) == 0) {
            t->s[j].count++;
            return CRUMB_OK;
        }
    }
    if (t->n >= t->max && (len != strlen(OTHER) || memcmp(key, OTHER, len)))
        return table_incr(t, OTHER, strlen(OTHER));
    char *k = malloc(len + 1);
    if (!k)
        return CRUMB_ENOMEM;
    memcpy(k, key, len);
    k[len] = '\0';
    t->s[j].key = k;
    t->s[j].hash = h;
    t->s[j].count = 1;
    t->n++;
    return CRUMB_OK;
}

static void
table_free(table *t)
{
    for (size_t i = 0; i < t->cap; i++)
        free(t->s[i].key);
    free(t->s);
    memset(t, 0, sizeof(*t));
}

/* ---- the report ---------------------------------------------------------- */

typedef struct scan_ctx {
    crumb_analytics_report *r;
    table paths, flows;
} scan_ctx;

typedef struct event {
    int64_t t;
    char kind;
    const char *tpl;
    size_t tlen;
} event;

/* "<time> <kind>[ <template>]" -> @ev; 0 when it does not parse. */
static int
event_parse(const crumb_store_item *it, event *ev)
{
    const char *p = (const char *)it->data, *end = p + it->len;
    int64_t t = 0;
    size_t digits = 0;
    while (p < end && *p >= '0' && *p <= '9' && digits < 18) {
        t = t * 10 + (*p++ - '0');
        digits++;
    }
    if (digits == 0 || end - p < 2 || *p != ' ')
        return 0;
    ev->t = t;
    ev->kind = p[1];
    p += 2;
    if (ev->kind == CRUMB_ANALYTICS_VIEW) {
        if (end - p < 2 || *p != ' ' || !template_ok(p + 1,
                                                     (size_t)(end - p - 1)))
            return 0;
        ev->tpl = p + 1;
        ev->tlen = (size_t)(end - p - 1);
        return 1;
    }
    ev->tpl = NULL;
    ev->tlen = 0;
    return p == end && (ev->kind == CRUMB_ANALYTICS_LOGIN ||
                        ev->kind == CRUMB_ANALYTICS_LOGIN_FAILED);
}

static size_t
length_bucket(int64_t seconds)
{
    static const int64_t edges[CRUMB_ANALYTICS_LENGTH_BUCKETS - 1] = {
        60, 300, 900, 1800, 3600};
    size_t i = 0;
    while (i < CRUMB_ANALYTICS_LENGTH_BUCKETS - 1 && seconds >= edges[i])
        i++;
    return i;
}

const char *
crumb_analytics_length_label(size_t i)
{
    static const char *const labels[CRUMB_ANALYTICS_LENGTH_BUCKETS] = {
        "< 1 min", "1-5 min", "5-15 min", "15-30 min", "30-60 min", ">= 1 h"};
    return i < CRUMB_ANALYTICS_LENGTH_BUCKETS ? labels[i] : NULL;
}

/* One session's log: its events in append order. */
static int
visit(void *arg, const char *name, const crumb_store_item *items, size_t n)
{
    scan_ctx *c = arg;
    crumb_analytics_report *r = c->r;
    int64_t first = 0, last = 0;
    int seen = 0, rc = CRUMB_OK;
    unsigned char hours[CRUMB_ANALYTICS_HOURS] = {0};
    const char *prev = NULL;
    size_t prevlen = 0;
    char flow[2 * CRUMB_ANALYTICS_TEMPLATE_MAX + 2];
    for (size_t i = 0; i < n && rc == CRUMB_OK; i++) {
        event ev;
        if (!event_parse(&items[i], &ev)) {
            r->skipped++;
            continue;
        }
        if (ev.t < r->since || ev.t >= r->until)
            continue;
        if (!seen || ev.t < first)
            first = ev.t;
        if (!seen || ev.t > last)
            last = ev.t;
        seen = 1;
        int hour = ev.t >= r->hour_start
                       ? (int)((ev.t - r->hour_start) / HOUR)
                       : -1;
        if (hour >= 0)
            hours[hour] = 1;
        if (ev.kind == CRUMB_ANALYTICS_LOGIN) {
            r->logins++;
            if (hour >= 0)
                r->logins_by_hour[hour]++;
        } else if (ev.kind == CRUMB_ANALYTICS_LOGIN_FAILED) {
            r->login_failures++;
            if (hour >= 0)
                r->failures_by_hour[hour]++;
        } else {
            r->page_views++;
            rc = table_incr(&c->paths, ev.tpl, ev.tlen);
            if (rc == CRUMB_OK && prev) {
                memcpy(flow, prev, prevlen);
                flow[prevlen] = '\n';
                memcpy(flow + prevlen + 1, ev.tpl, ev.tlen);
                rc = table_incr(&c->flows, flow, prevlen + 1 + ev.tlen);
            }
            prev = ev.tpl;
            prevlen = ev.tlen;
        }
    }
    if (!seen)
        return rc;
    r->sessions++;
    r->lengths[length_bucket(last - first)]++;
    for (int h = 0; h < CRUMB_ANALYTICS_HOURS; h++)
        r->active[h] += hours[h];
    return rc;
}

static int
count_cmp(const void *a, const void *b)
{
    const crumb_analytics_count *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp(x->path, y->path);
}

static int
flow_cmp(const void *a, const void *b)
{
    const crumb_analytics_flow *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    int c = strcmp(x->from, y->from);
    return c ? c : strcmp(x->to, y->to);
}

static int
flow_from_cmp(const void *a, const void *b)
{
    const crumb_analytics_flow *x = a, *y = b;
    int c = strcmp(x->from, y->from);
    return c ? c : flow_cmp(a, b);
}

/* Moves the counted paths into the report, sorted. */
static int
take_paths(table *t, crumb_analytics_report *r)
{
    if (t->n == 0)
        return CRUMB_OK;
    r->paths = calloc(t->n, sizeof(*r->paths));
    if (!r->paths)
        return CRUMB_ENOMEM;
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->s[i].key)
            continue;
        r->paths[r->npaths].path = t->s[i].key;
        r->paths[r->npaths++].count = t->s[i].count;
        t->s[i].key = NULL;
    }
    qsort(r->paths, r->npaths, sizeof(*r->paths), count_cmp);
    return CRUMB_OK;
}

/* Moves the counted flows ("from\nto") into the report, sorted, and
 * picks each page's most common next page. */
static int
take_flows(table *t, crumb_analytics_report *r)
{
    if (t->n == 0)
        return CRUMB_OK;
    r->flows = calloc(t->n, sizeof(*r->flows));
    crumb_analytics_flow *byfrom = calloc(t->n, sizeof(*byfrom));
    r->next = calloc(t->n, sizeof(*r->next));
    if (!r->flows || !byfrom || !r->next) {
        free(byfrom);
        return CRUMB_ENOMEM;
    }
    for (size_t i = 0; i < t->cap; i++) {
        char *k = t->s[i].key;
        if (!k)
            continue;
        char *nl = strchr(k, '\n');
        crumb_analytics_flow *f = &r->flows[r->nflows++];
        if (nl) {
            *nl = '\0';
            f->to = strdup(nl + 1);
        } else {
            f->to = strdup(OTHER); /* the OTHER bucket */
        }
        f->from = k;
        f->count = t->s[i].count;
        t->s[i].key = NULL;
        if (!f->to) {
            free(byfrom);
            return CRUMB_ENOMEM;
        }
    }
    qsort(r->flows, r->nflows, sizeof(*r->flows), flow_cmp);
    memcpy(byfrom, r->flows, r->nflows * sizeof(*byfrom));
    qsort(byfrom, r->nflows, sizeof(*byfrom), flow_from_cmp);
    int rc = CRUMB_OK;
    for (size_t i = 0; i < r->nflows && rc == CRUMB_OK; i++) {
        if (i && strcmp(byfrom[i].from, byfrom[i - 1].from) == 0)
            continue;
        crumb_analytics_flow *f = &r->next[r->nnext];
        f->from = strdup(byfrom[i].from);
        f->to = strdup(byfrom[i].to);
        f->count = byfrom[i].count;
        r->nnext++;
        if (!f->from || !f->to)
            rc = CRUMB_ENOMEM;
    }
    free(byfrom);
    return rc;
}

int
crumb_analytics_report_build(crumb_store *st,
                             const crumb_analytics_options *opts,
                             int64_t since, int64_t until,
                             crumb_analytics_report *out)
{
    if (!out)
        return CRUMB_EINVAL;
    memset(out, 0, sizeof(*out));
    if (!st || until < since)
        return CRUMB_EINVAL;
    (void)opts; /* the options bound what is stored, not what is read */
    out->since = since;
    out->until = until;
    out->hour_start = until - CRUMB_ANALYTICS_HOURS * HOUR;
    scan_ctx c;
    memset(&c, 0, sizeof(c));
    c.r = out;
    c.paths.max = PATHS_MAX;
    c.flows.max = FLOWS_MAX;
    int rc = crumb_store_log_scan(st, LOG_PREFIX, until, visit, &c);
    if (rc == CRUMB_OK)
        rc = take_paths(&c.paths, out);
    if (rc == CRUMB_OK)
        rc = take_flows(&c.flows, out);
    table_free(&c.paths);
    table_free(&c.flows);
    return rc;
}

static void
flows_free(crumb_analytics_flow *f, size_t n)
{
    for (size_t i = 0; f && i < n; i++) {
        free(f[i].from);
        free(f[i].to);
    }
    free(f);
}

void
crumb_analytics_report_cleanup(crumb_analytics_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; r->paths && i < r->npaths; i++)
        free(r->paths[i].path);
    free(r->paths);
    /* take_flows() may stop half way: count what was filled. */
    flows_free(r->flows, r->nflows);
    flows_free(r->next, r->nnext);
    memset(r, 0, sizeof(*r));
}

static json_t *
series(const int64_t *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        if (json_array_append_new(a, json_integer(v[i])) != 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

static json_t *
flows_json(const crumb_analytics_flow *f, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        if (json_array_append_new(a, json_pack("{s:s, s:s, s:I}", "from",
                                               f[i].from, "to", f[i].to,
                                               "count",
                                               (json_int_t)f[i].count))) {
            json_decref(a);
            return NULL;
        }
    return a;
}

json_t *
crumb_analytics_report_json(const crumb_analytics_report *r)
{
    if (!r)
        return NULL;
    json_t *paths = json_array(), *lengths = json_array();
    for (size_t i = 0; paths && i < r->npaths; i++)
        if (json_array_append_new(
                paths, json_pack("{s:s, s:I}", "path", r->paths[i].path,
                                 "count", (json_int_t)r->paths[i].count))) {
            json_decref(paths);
            paths = NULL;
        }
    for (size_t i = 0; lengths && i < CRUMB_ANALYTICS_LENGTH_BUCKETS; i++)
        if (json_array_append_new(
                lengths,
                json_pack("{s:s, s:I}", "label",
                          crumb_analytics_length_label(i), "count",
                          (json_int_t)r->lengths[i]))) {
            json_decref(lengths);
            lengths = NULL;
        }
    /* json_pack with "o" takes the references, and a NULL one fails the
     * whole pack (and releases the others). */
    return json_pack(
        "{s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:I, s:o, s:o, s:o,"
        " s:o, s:I}",
        "since", (json_int_t)r->since, "until", (json_int_t)r->until,
        "sessions", (json_int_t)r->sessions, "page_views",
        (json_int_t)r->page_views, "logins", (json_int_t)r->logins,
        "login_failures", (json_int_t)r->login_failures, "paths", paths,
        "flows", flows_json(r->flows, r->nflows), "next",
        flows_json(r->next, r->nnext), "hour_start",
        (json_int_t)r->hour_start, "active",
        series(r->active, CRUMB_ANALYTICS_HOURS), "logins_by_hour",
        series(r->logins_by_hour, CRUMB_ANALYTICS_HOURS),
        "failures_by_hour",
        series(r->failures_by_hour, CRUMB_ANALYTICS_HOURS), "lengths",
        lengths, "skipped", (json_int_t)r->skipped);
}
