/* sqlite_kv.c - the sqlite store's counters, kv values and capped logs
 * (tables counters, kv, log_heads, log_items; see sqlite.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite_int.h"
#include "store/store_int.h"

int
crumb__sq_incr_counter(crumb_store *st, const char *name, int64_t delta,
                int64_t window, int64_t now, int64_t *value)
{
    sqstore *s = crumb_store_impl(st);
    sqlite3_stmt *q = crumb__sq_stmt(st, s, Q_COUNTER);
    if (!q)
        return CRUMB_ESTORE;
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, delta);
    sqlite3_bind_int64(q, 3, window ? now + window : 0);
    sqlite3_bind_int64(q, 4, now);
    int rc = sqlite3_step(q);
    int crc = CRUMB_OK;
    if (rc == SQLITE_ROW)
        *value = sqlite3_column_int64(q, 0);
    else
        crc = crumb__sq_db_error(st, s, rc, "counter");
    /* Step to the end so the statement's write is complete. */
    if (rc == SQLITE_ROW && (rc = sqlite3_step(q)) != SQLITE_DONE)
        crc = crumb__sq_db_error(st, s, rc, "counter");
    sqlite3_reset(q);
    return crc;
}

int
crumb__sq_kv_set(crumb_store *st, const char *name, const void *data, size_t len,
          int64_t ttl, int64_t now)
{
    sqstore *s = crumb_store_impl(st);
    sqlite3_stmt *q = crumb__sq_stmt(st, s, Q_KV_SET);
    if (!q)
        return CRUMB_ESTORE;
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_blob64(q, 2, data, len, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, ttl ? now + ttl : 0);
    int rc = crumb__sq_exec_stmt(st, s, q, "kv_set");
    sqlite3_clear_bindings(q);
    return rc;
}

int
crumb__sq_kv_get(crumb_store *st, const char *name, int64_t now,
          unsigned char **data, size_t *len)
{
    sqstore *s = crumb_store_impl(st);
    sqlite3_stmt *q = crumb__sq_stmt(st, s, Q_KV_GET);
    if (!q)
        return CRUMB_ESTORE;
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    int crc = CRUMB_ENOTFOUND;
    int64_t exp;
    if (rc == SQLITE_ROW) {
        size_t n = (size_t)sqlite3_column_bytes(q, 0);
        if (sqlite3_column_type(q, 0) != SQLITE_BLOB || !crumb__sq_int_col(q, 1, &exp)
            || n > s->max_data) {
            crumb_store_set_errmsg(st, "corrupt kv entry %.40s; ignored",
                                   name);
        } else if (crumb__store_live(exp, now)) {
            *data = malloc(n + 1);
            crc = *data ? CRUMB_OK : CRUMB_ENOMEM;
            if (*data) {
                if (n)
                    memcpy(*data, sqlite3_column_blob(q, 0), n);
                (*data)[n] = '\0';
                *len = n;
            }
        }
    } else if (rc != SQLITE_DONE) {
        crc = crumb__sq_db_error(st, s, rc, "kv_get");
    }
    sqlite3_reset(q);
    return crc;
}

int
crumb__sq_kv_del(crumb_store *st, const char *name)
{
    sqstore *s = crumb_store_impl(st);
    sqlite3_stmt *q = crumb__sq_stmt(st, s, Q_KV_DEL);
    if (!q)
        return CRUMB_ESTORE;
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    int rc = crumb__sq_exec_stmt(st, s, q, "kv_del");
    if (rc == CRUMB_OK && sqlite3_changes(s->db) == 0)
        rc = CRUMB_ENOTFOUND;
    return rc;
}

/*
 * Appends @k entries of one log (ev[0..k-1] all name it, in order) inside
 * the caller's transaction: the head (expiry, last sequence number) is
 * read once and written once, the items inserted one by one, the oldest
 * trimmed once. Each entry still sees the log as the appends before it
 * left it: a log expired at that entry's `now` starts again empty.
 */
static int
log_append_run(crumb_store *st, sqstore *s,
               const crumb_store_log_entry *const *ev, size_t k, size_t cap,
               int64_t ttl)
{
    const char *name = ev[0]->name;
    sqlite3_stmt *q = crumb__sq_stmt(st, s, Q_LOG_HEAD);
    if (!q)
        return CRUMB_ESTORE;
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    int64_t exp = 0, seq = 0;
    int rc = sqlite3_step(q);
    int valid = 0;
    if (rc == SQLITE_ROW)
        valid = crumb__sq_int_col(q, 0, &exp) &&
                crumb__sq_int_col(q, 1, &seq) && seq >= 0;
    else if (rc != SQLITE_DONE)
        rc = crumb__sq_db_error(st, s, rc, "log head");
    sqlite3_reset(q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return rc;
    for (size_t j = 0; j < k; j++) {
        if (!valid || seq == INT64_MAX || exp == 0 ||
            !crumb__store_live(exp, ev[j]->now)) {
            seq = 0;
            if (!(q = crumb__sq_stmt(st, s, Q_LOG_CLEAR)))
                return CRUMB_ESTORE;
            sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
            if ((rc = crumb__sq_exec_stmt(st, s, q, "log clear")) !=
                CRUMB_OK)
                return rc;
        }
        seq++;
        exp = ev[j]->now + ttl;
        valid = 1;
        if (!(q = crumb__sq_stmt(st, s, Q_LOG_ADD)))
            return CRUMB_ESTORE;
        sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 2, seq);
        sqlite3_bind_blob64(q, 3, ev[j]->item, ev[j]->len, SQLITE_STATIC);
        rc = crumb__sq_exec_stmt(st, s, q, "log add");
        sqlite3_clear_bindings(q);
        if (rc != CRUMB_OK)
            return rc;
    }
    if (!(q = crumb__sq_stmt(st, s, Q_LOG_SET_HEAD)))
        return CRUMB_ESTORE;
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, exp);
    sqlite3_bind_int64(q, 3, seq);
    if ((rc = crumb__sq_exec_stmt(st, s, q, "log head")) != CRUMB_OK ||
        seq <= (int64_t)cap)
        return rc;
    if (!(q = crumb__sq_stmt(st, s, Q_LOG_TRIM)))
        return CRUMB_ESTORE;
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, seq - (int64_t)cap);
    return crumb__sq_exec_stmt(st, s, q, "log trim");
}

static int
log_append_tx(crumb_store *st, sqstore *s, const char *name,
              const void *item, size_t len, size_t cap, int64_t ttl,
              int64_t now)
{
    crumb_store_log_entry e = {name, item, len, now};
    const crumb_store_log_entry *one = &e;
    return log_append_run(st, s, &one, 1, cap, ttl);
}

static int
log_append_locked(crumb_store *st, const char *name, const void *item,
                  size_t len, size_t cap, int64_t ttl, int64_t now)
{
    sqstore *s = crumb_store_impl(st);
    int rc = crumb__sq_exec_id(st, s, Q_BEGIN);
    if (rc != CRUMB_OK)
        return rc;
    rc = log_append_tx(st, s, name, item, len, cap, ttl, now);
    if (rc == CRUMB_OK)
        rc = crumb__sq_exec_id(st, s, Q_COMMIT);
    if (rc != CRUMB_OK)
        crumb__sq_rollback(st, s);
    return rc;
}

int
crumb__sq_log_append(crumb_store *st, const char *name, const void *item,
              size_t len, size_t cap, int64_t ttl, int64_t now)
{
    sqstore *s = crumb_store_impl(st);
    crumb__sq_write_begin(s);
    int rc = log_append_locked(st, name, item, len, cap, ttl, now);
    crumb__sq_write_end(s);
    return rc;
}

/* By log name, then by place in the batch: each log's entries together,
 * in their order. */
static int
entry_cmp(const void *a, const void *b)
{
    const crumb_store_log_entry *x = *(const crumb_store_log_entry *const *)a;
    const crumb_store_log_entry *y = *(const crumb_store_log_entry *const *)b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x > y) - (x < y);
}

/* A whole batch in one transaction: one commit (one write of the WAL
 * frames of the pages it touched) instead of one per item, which is what
 * an analytics writer draining its queue needs. The entries are grouped
 * by log, so each log's head is read and written and its oldest items
 * trimmed once per batch, not once per item. All or nothing. */
int
crumb__sq_log_append_many(crumb_store *st, const crumb_store_log_entry *ev,
                          size_t n, size_t cap, int64_t ttl,
                          size_t *appended)
{
    sqstore *s = crumb_store_impl(st);
    const crumb_store_log_entry **by = malloc(n * sizeof(*by));
    if (!by)
        return CRUMB_ENOMEM;
    for (size_t i = 0; i < n; i++)
        by[i] = &ev[i];
    qsort(by, n, sizeof(*by), entry_cmp);
    crumb__sq_write_begin(s);
    int rc = crumb__sq_exec_id(st, s, Q_BEGIN);
    for (size_t i = 0, k; i < n && rc == CRUMB_OK; i += k) {
        for (k = 1; i + k < n && !strcmp(by[i + k]->name, by[i]->name); k++)
            ;
        rc = log_append_run(st, s, by + i, k, cap, ttl);
    }
    if (rc == CRUMB_OK)
        rc = crumb__sq_exec_id(st, s, Q_COMMIT);
    if (rc != CRUMB_OK)
        crumb__sq_rollback(st, s);
    else
        *appended = n;
    crumb__sq_write_end(s);
    free(by);
    return rc;
}

/* One query walks every live log in name order; the items of one log are
 * gathered (copied: a row's blob lives until the next step) and handed to
 * the visitor when the name changes. Rows that are not what this file
 * should hold are skipped. */
int
crumb__sq_log_scan(crumb_store *st, const char *prefix, int64_t now,
            crumb_store_log_fn fn, void *arg)
{
    sqstore *s = crumb_store_impl(st);
    sqlite3_stmt *q = crumb__sq_stmt(st, s, Q_LOG_SCAN);
    if (!q)
        return CRUMB_ESTORE;
    sqlite3_bind_text(q, 1, prefix, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, now);
    char name[CRUMB_STORE_NAME_MAX + 1] = "";
    unsigned char *buf = NULL;
    size_t used = 0, room = 0, n = 0, ncap = 0;
    crumb_store_item *items = NULL;
    int rc = CRUMB_OK, src;
    for (;;) {
        src = sqlite3_step(q);
        char cur[CRUMB_STORE_NAME_MAX + 1];
        int row = src == SQLITE_ROW &&
                  crumb__sq_text_col(q, 0, cur, CRUMB_STORE_NAME_MAX) &&
                  sqlite3_column_type(q, 1) == SQLITE_BLOB &&
                  sqlite3_column_bytes(q, 1) > 0 &&
                  sqlite3_column_bytes(q, 1) <= CRUMB_STORE_LOG_ITEM_MAX;
        if (src == SQLITE_ROW && !row)
            continue;
        if (n && (!row || strcmp(cur, name) != 0)) {
            size_t off = 0;
            for (size_t k = 0; k < n; k++) {
                items[k].data = buf + off;
                off += items[k].len;
            }
            rc = fn(arg, name, items, n);
            n = used = 0;
            if (rc != CRUMB_OK)
                break;
        }
        if (!row)
            break;
        size_t len = (size_t)sqlite3_column_bytes(q, 1);
        if (used + len > room) {
            unsigned char *b = realloc(buf, (used + len) * 2);
            if (!b) {
                rc = CRUMB_ENOMEM;
                break;
            }
            buf = b;
            room = (used + len) * 2;
        }
        if (n == ncap) {
            size_t nc = ncap ? ncap * 2 : 64;
            crumb_store_item *t = realloc(items, nc * sizeof(*t));
            if (!t) {
                rc = CRUMB_ENOMEM;
                break;
            }
            items = t;
            ncap = nc;
        }
        memcpy(buf + used, sqlite3_column_blob(q, 1), len);
        used += len;
        items[n].data = NULL;
        items[n++].len = len;
        memcpy(name, cur, sizeof(name));
    }
    if (rc == CRUMB_OK && src != SQLITE_DONE && src != SQLITE_ROW)
        rc = crumb__sq_db_error(st, s, src, "log scan");
    sqlite3_reset(q);
    free(buf);
    free(items);
    return rc;
}
