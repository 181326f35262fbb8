/* store.c - store URIs to backends, and the checked public wrappers. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

void
crumb_store_options_init(crumb_store_options *opts)
{
    if (opts)
        memset(opts, 0, sizeof(*opts));
}

void
crumb__store_options_resolve(crumb_store_options *out,
                             const crumb_store_options *in)
{
    if (in)
        *out = *in;
    else
        memset(out, 0, sizeof(*out));
    if (out->connect_timeout_ms <= 0)
        out->connect_timeout_ms = 500;
    if (out->timeout_ms <= 0)
        out->timeout_ms = 500;
    if (out->busy_timeout_ms <= 0)
        out->busy_timeout_ms = 5000;
    if (!out->prefix || !*out->prefix)
        out->prefix = "crumb";
    if (out->max_records == 0)
        out->max_records = 1048576;
    if (out->max_data_len == 0)
        out->max_data_len = CRUMB_STORE_DATA_MAX_DEFAULT;
}

int
crumb__store_text_ok(const char *s, size_t len, size_t max)
{
    return len <= max && (len == 0 || memchr(s, '\0', len) == NULL);
}

void
crumb__store_hex(const unsigned char *in, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * len] = '\0';
}

int
crumb__store_record_cmp(const void *a, const void *b)
{
    const crumb_store_record *x = a, *y = b;
    if (x->last_seen != y->last_seen)
        return x->last_seen > y->last_seen ? -1 : 1;
    return memcmp(x->key, y->key, CRUMB_STORE_KEY_LEN);
}

/* Restores the heap below @i after the root was replaced. */
static void
top_sift_down(crumb__store_top *t, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < t->n && crumb__store_record_cmp(&t->recs[l], &t->recs[m]) > 0)
            m = l;
        if (r < t->n && crumb__store_record_cmp(&t->recs[r], &t->recs[m]) > 0)
            m = r;
        if (m == i)
            return;
        crumb_store_record tmp = t->recs[i];
        t->recs[i] = t->recs[m];
        t->recs[m] = tmp;
        i = m;
    }
}

int
crumb__store_top_add(crumb__store_top *t, const crumb_store_record *rec)
{
    if (t->limit == 0)
        return CRUMB_OK;
    if (t->n == t->limit) {
        /* Full: keep @rec only when it is newer than the oldest kept. */
        if (crumb__store_record_cmp(rec, &t->recs[0]) >= 0)
            return CRUMB_OK;
        t->recs[0] = *rec;
        t->recs[0].data = NULL;
        t->recs[0].len = 0;
        top_sift_down(t, 0);
        return CRUMB_OK;
    }
    if (t->n == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 16;
        if (nc > t->limit)
            nc = t->limit;
        crumb_store_record *r = realloc(t->recs, nc * sizeof(*r));
        if (!r)
            return CRUMB_ENOMEM;
        t->recs = r;
        t->cap = nc;
    }
    size_t i = t->n++;
    t->recs[i] = *rec;
    t->recs[i].data = NULL;
    t->recs[i].len = 0;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (crumb__store_record_cmp(&t->recs[i], &t->recs[p]) <= 0)
            break;
        crumb_store_record tmp = t->recs[i];
        t->recs[i] = t->recs[p];
        t->recs[p] = tmp;
        i = p;
    }
    return CRUMB_OK;
}

static int
hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int
crumb__store_unhex(const char *hex, size_t len, unsigned char *out)
{
    if (len % 2)
        return 0;
    for (size_t i = 0; i < len; i += 2) {
        int hi = hexval((unsigned char)hex[i]);
        int lo = hexval((unsigned char)hex[i + 1]);
        if (hi < 0 || lo < 0)
            return 0;
        out[i / 2] = (unsigned char)(hi << 4 | lo);
    }
    return 1;
}

void
crumb_store_record_cleanup(crumb_store_record *rec)
{
    if (!rec)
        return;
    free(rec->data);
    memset(rec, 0, sizeof(*rec));
}

void
crumb_store_records_free(crumb_store_record *recs, size_t n)
{
    if (!recs)
        return;
    for (size_t i = 0; i < n; i++)
        free(recs[i].data);
    free(recs);
}

void
crumb_store_set_errmsg(crumb_store *st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (fmt[0] == '%' && fmt[1] == 's' && fmt[2] == '\0') {
        /* A plain copy (every session open clears the message so). */
        const char *m = va_arg(ap, const char *);
        size_t n = strnlen(m, sizeof(st->errmsg) - 1);
        memcpy(st->errmsg, m, n);
        st->errmsg[n] = '\0';
    } else {
        vsnprintf(st->errmsg, sizeof(st->errmsg), fmt, ap);
    }
    va_end(ap);
}

const char *
crumb_store_errmsg(const crumb_store *st)
{
    return st ? st->errmsg : "no store";
}

const char *
crumb_store_scheme(const crumb_store *st)
{
    return st ? st->ops->scheme : "";
}

void *
crumb_store_impl(crumb_store *st)
{
    return st->impl;
}

static void
open_error(const crumb_store_options *opts, const char *msg)
{
    if (opts && opts->errbuf && opts->errbuf_size > 0)
        snprintf(opts->errbuf, opts->errbuf_size, "%s", msg);
}

int
crumb_store_open_ops(crumb_store **out, const crumb_store_ops *ops,
                     const char *uri, const crumb_store_options *opts)
{
    if (!out)
        return CRUMB_EINVAL;
    *out = NULL;
    if (!ops || !uri) {
        open_error(opts, "no backend table or URI");
        return CRUMB_EINVAL;
    }
    if (ops->version < 1 || ops->version > CRUMB_STORE_OPS_VERSION) {
        open_error(opts, "backend table version not supported");
        return CRUMB_EUNSUPPORTED;
    }
    crumb_store *st = calloc(1, sizeof(*st));
    if (!st) {
        open_error(opts, "out of memory");
        return CRUMB_ENOMEM;
    }
    crumb_store_options o;
    crumb__store_options_resolve(&o, opts);
    st->ops = ops;
    st->max_data_len = o.max_data_len;
    int rc = ops->open(st, uri, &o, &st->impl);
    if (rc != CRUMB_OK) {
        open_error(opts, st->errmsg[0] ? st->errmsg : crumb_strerror(rc));
        free(st);
        return rc;
    }
    *out = st;
    return CRUMB_OK;
}

int
crumb_store_open(crumb_store **out, const char *uri,
                 const crumb_store_options *opts)
{
    static const struct {
        const char *prefix;
        const crumb_store_ops *ops;
    } schemes[] = {
        {"memory:", &crumb__store_memory_ops},
        {"sqlite:", &crumb__store_sqlite_ops},
        {"redis://", &crumb__store_redis_ops},
    };
    if (out)
        *out = NULL;
    if (!out || !uri) {
        open_error(opts, "no URI");
        return CRUMB_EINVAL;
    }
    for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
        if (strncmp(uri, schemes[i].prefix, strlen(schemes[i].prefix)) == 0)
            return crumb_store_open_ops(out, schemes[i].ops, uri, opts);
    }
    open_error(opts, "unknown store scheme (memory:, sqlite:PATH, "
                     "redis://HOST:PORT/DB)");
    return CRUMB_EINVAL;
}

void
crumb_store_close(crumb_store *st)
{
    if (!st)
        return;
    st->ops->close(st->impl);
    free(st);
}

/* The wrappers: check what the caller passed, clear the message, call the
 * backend. Backends may then trust their arguments. */

static int
bad_arg(crumb_store *st, const char *what)
{
    if (st)
        crumb_store_set_errmsg(st, "invalid argument: %s", what);
    return CRUMB_EINVAL;
}

static int
field_ok(const char *s, size_t size)
{
    return memchr(s, '\0', size) != NULL;
}

static int
name_ok(const char *name)
{
    if (!name || !*name)
        return 0;
    return strnlen(name, CRUMB_STORE_NAME_MAX + 1) <= CRUMB_STORE_NAME_MAX;
}

static int
user_ok(const char *user)
{
    return user && *user &&
           strnlen(user, CRUMB_STORE_USER_MAX + 1) <= CRUMB_STORE_USER_MAX;
}

int
crumb_store_load(crumb_store *st, const unsigned char *key, int64_t now,
                 crumb_store_record *rec)
{
    if (rec)
        memset(rec, 0, sizeof(*rec));
    if (!st || !key || !rec)
        return bad_arg(st, "NULL store, key or record");
    return st->ops->load(st, key, now, rec);
}

int
crumb_store_save(crumb_store *st, const unsigned char *key,
                 crumb_store_record *rec, int64_t expected_version,
                 int64_t now)
{
    if (!st || !key || !rec)
        return bad_arg(st, "NULL store, key or record");
    if (!rec->data && rec->len)
        return bad_arg(st, "NULL data with a length");
    if (expected_version < 0 || expected_version == INT64_MAX)
        return bad_arg(st, "expected_version out of range");
    if (rec->expires_at < 0 || (rec->expires_at != 0 && rec->expires_at <= now))
        return bad_arg(st, "expires_at is not in the future");
    if (!field_ok(rec->user, sizeof(rec->user)) ||
        !field_ok(rec->addr, sizeof(rec->addr)) ||
        !field_ok(rec->agent, sizeof(rec->agent)))
        return bad_arg(st, "user, addr or agent not NUL-terminated");
    if (rec->len > st->max_data_len) {
        crumb_store_set_errmsg(st, "record of %zu bytes exceeds %zu",
                               rec->len, st->max_data_len);
        return CRUMB_ETOOBIG;
    }
    if (rec->created == 0)
        rec->created = now;
    if (rec->last_seen == 0)
        rec->last_seen = now;
    int rc = st->ops->save(st, key, rec, expected_version, now);
    if (rc == CRUMB_OK) {
        rec->version = expected_version + 1;
        memcpy(rec->key, key, CRUMB_STORE_KEY_LEN);
    }
    return rc;
}

int
crumb_store_destroy(crumb_store *st, const unsigned char *key)
{
    if (!st || !key)
        return bad_arg(st, "NULL store or key");
    return st->ops->destroy(st, key);
}

int
crumb_store_touch(crumb_store *st, const unsigned char *key,
                  int64_t last_seen, int64_t expires_at, int64_t now)
{
    if (!st || !key)
        return bad_arg(st, "NULL store or key");
    if (expires_at < 0 || (expires_at != 0 && expires_at <= now))
        return bad_arg(st, "expires_at is not in the future");
    return st->ops->touch(st, key, last_seen, expires_at, now);
}

int
crumb_store_list_user(crumb_store *st, const char *user, int64_t now,
                      crumb_store_record **recs, size_t *n)
{
    if (recs)
        *recs = NULL;
    if (n)
        *n = 0;
    if (!st || !recs || !n)
        return bad_arg(st, "NULL store or output");
    if (!user_ok(user))
        return bad_arg(st, "user empty or too long");
    int rc = st->ops->list_user(st, user, now, recs, n);
    if (rc == CRUMB_OK && *n > 1)
        qsort(*recs, *n, sizeof(**recs), crumb__store_record_cmp);
    return rc;
}

int
crumb_store_list_all(crumb_store *st, int64_t now, size_t limit,
                     crumb_store_record **recs, size_t *n)
{
    if (recs)
        *recs = NULL;
    if (n)
        *n = 0;
    if (!st || !recs || !n)
        return bad_arg(st, "NULL store or output");
    if (limit == 0)
        return bad_arg(st, "limit 0");
    /* A version 1 table ends before list_all: do not read past it. */
    if (st->ops->version < 2 || !st->ops->list_all) {
        crumb_store_set_errmsg(st, "the %s store cannot list every session",
                               st->ops->scheme);
        return CRUMB_EUNSUPPORTED;
    }
    int rc = st->ops->list_all(st, now, limit, recs, n);
    if (rc != CRUMB_OK)
        return rc;
    if (*n > 1)
        qsort(*recs, *n, sizeof(**recs), crumb__store_record_cmp);
    if (*n > limit) {
        for (size_t i = limit; i < *n; i++)
            free((*recs)[i].data);
        *n = limit;
    }
    if (*n == 0) {
        free(*recs);
        *recs = NULL;
    }
    return CRUMB_OK;
}

int
crumb_store_destroy_user(crumb_store *st, const char *user,
                         const unsigned char *except_key, size_t *count)
{
    size_t dummy;
    if (!count)
        count = &dummy;
    *count = 0;
    if (!st)
        return bad_arg(st, "NULL store");
    if (!user_ok(user))
        return bad_arg(st, "user empty or too long");
    return st->ops->destroy_user(st, user, except_key, count);
}

int
crumb_store_gc(crumb_store *st, int64_t now, size_t *removed)
{
    size_t dummy;
    if (!removed)
        removed = &dummy;
    *removed = 0;
    if (!st)
        return bad_arg(st, "NULL store");
    return st->ops->gc(st, now, removed);
}

int
crumb_store_incr_counter(crumb_store *st, const char *name, int64_t delta,
                         int64_t window_seconds, int64_t now,
                         int64_t *value)
{
    if (value)
        *value = 0;
    if (!st || !value)
        return bad_arg(st, "NULL store or value");
    if (!name_ok(name))
        return bad_arg(st, "counter name empty or too long");
    if (window_seconds < 0)
        return bad_arg(st, "negative window");
    return st->ops->incr_counter(st, name, delta, window_seconds, now,
                                 value);
}

int
crumb_store_user_generation(crumb_store *st, const char *user_id,
                            int64_t delta, int64_t now, int64_t *gen)
{
    if (gen)
        *gen = 0;
    if (!user_id || !*user_id || strlen(user_id) > CRUMB_STORE_USER_MAX)
        return bad_arg(st, "user id empty or too long");
    char name[CRUMB_STORE_NAME_MAX + 1];
    snprintf(name, sizeof(name), "user-gen:%s", user_id);
    return crumb_store_incr_counter(st, name, delta, 0, now, gen);
}

int
crumb_store_kv_set(crumb_store *st, const char *name, const void *data,
                   size_t len, int64_t ttl_seconds, int64_t now)
{
    if (!st || (!data && len))
        return bad_arg(st, "NULL store or data");
    if (!name_ok(name))
        return bad_arg(st, "name empty or too long");
    if (ttl_seconds < 0)
        return bad_arg(st, "negative ttl");
    if (len > st->max_data_len) {
        crumb_store_set_errmsg(st, "value of %zu bytes exceeds %zu", len,
                               st->max_data_len);
        return CRUMB_ETOOBIG;
    }
    return st->ops->kv_set(st, name, data ? data : "", len, ttl_seconds, now);
}

int
crumb_store_kv_get(crumb_store *st, const char *name, int64_t now,
                   unsigned char **data, size_t *len)
{
    if (data)
        *data = NULL;
    if (len)
        *len = 0;
    if (!st || !data || !len)
        return bad_arg(st, "NULL store or output");
    if (!name_ok(name))
        return bad_arg(st, "name empty or too long");
    return st->ops->kv_get(st, name, now, data, len);
}

int
crumb_store_kv_del(crumb_store *st, const char *name)
{
    if (!st)
        return bad_arg(st, "NULL store");
    if (!name_ok(name))
        return bad_arg(st, "name empty or too long");
    return st->ops->kv_del(st, name);
}

/* A version 1 or 2 table ends before the log operations: do not read
 * past it. */
static int
has_logs(crumb_store *st)
{
    if (st->ops->version >= 3 && st->ops->log_append && st->ops->log_scan)
        return 1;
    crumb_store_set_errmsg(st, "the %s store keeps no logs",
                           st->ops->scheme);
    return 0;
}

/* The checks of crumb_store_log_append() on one entry; NULL when fine. */
static const char *
log_entry_bad(const char *name, const void *item, size_t len)
{
    if (!item)
        return "NULL log item";
    if (!name_ok(name))
        return "log name empty or too long";
    if (len == 0 || len > CRUMB_STORE_LOG_ITEM_MAX)
        return "log item empty or too long";
    return NULL;
}

/* The cap and ttl every log append takes, and a backend that has logs. */
static int
log_limits_check(crumb_store *st, size_t cap, int64_t ttl_seconds)
{
    if (cap == 0 || cap > CRUMB_STORE_LOG_CAP_MAX)
        return bad_arg(st, "log cap out of range");
    if (ttl_seconds < 1)
        return bad_arg(st, "a log needs a ttl");
    if (!has_logs(st))
        return CRUMB_EUNSUPPORTED;
    return CRUMB_OK;
}

int
crumb_store_log_append(crumb_store *st, const char *name, const void *item,
                       size_t len, size_t cap, int64_t ttl_seconds,
                       int64_t now)
{
    if (!st)
        return bad_arg(st, "NULL store");
    const char *bad = log_entry_bad(name, item, len);
    if (bad)
        return bad_arg(st, bad);
    int rc = log_limits_check(st, cap, ttl_seconds);
    if (rc != CRUMB_OK)
        return rc;
    return st->ops->log_append(st, name, item, len, cap, ttl_seconds, now);
}

int
crumb_store_log_append_many(crumb_store *st,
                            const crumb_store_log_entry *entries, size_t n,
                            size_t cap, int64_t ttl_seconds,
                            size_t *appended)
{
    size_t done = 0;
    if (appended)
        *appended = 0;
    if (!st || !entries || n == 0)
        return bad_arg(st, "NULL store or no entries");
    for (size_t i = 0; i < n; i++) {
        const char *bad = log_entry_bad(entries[i].name, entries[i].item,
                                        entries[i].len);
        if (bad)
            return bad_arg(st, bad);
    }
    int rc = log_limits_check(st, cap, ttl_seconds);
    if (rc != CRUMB_OK)
        return rc;
    /* A version 3 table ends before log_append_many. */
    if (st->ops->version >= 4 && st->ops->log_append_many) {
        rc = st->ops->log_append_many(st, entries, n, cap, ttl_seconds,
                                      &done);
        if (rc == CRUMB_OK)
            done = n;
    } else {
        for (; done < n && rc == CRUMB_OK; done++)
            rc = st->ops->log_append(st, entries[done].name,
                                     entries[done].item, entries[done].len,
                                     cap, ttl_seconds, entries[done].now);
        if (rc != CRUMB_OK)
            done--;
    }
    if (appended)
        *appended = done;
    return rc;
}

int
crumb_store_log_scan(crumb_store *st, const char *prefix, int64_t now,
                     crumb_store_log_fn fn, void *arg)
{
    if (!st || !prefix || !fn)
        return bad_arg(st, "NULL store, prefix or visitor");
    if (strlen(prefix) > CRUMB_STORE_NAME_MAX)
        return bad_arg(st, "log prefix too long");
    if (!has_logs(st))
        return CRUMB_EUNSUPPORTED;
    return st->ops->log_scan(st, prefix, now, fn, arg);
}
