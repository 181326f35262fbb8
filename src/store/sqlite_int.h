/* sqlite_int.h - what the sqlite store's two files share: the handle,
 * the prepared statements and the helpers around them (sqlite.c: open,
 * records; sqlite_kv.c: counters, kv, logs). */
#ifndef CRUMB_SQLITE_INT_H
#define CRUMB_SQLITE_INT_H

#include <sqlite3.h>
#include <stdint.h>

#include <crumb/store.h>

/* The statements, prepared once per handle (texts in sqlite.c). */
enum {
    Q_BEGIN,
    Q_COMMIT,
    Q_ROLLBACK,
    Q_LOAD,
    Q_CURRENT,
    Q_UPSERT,
    Q_UPDATE,
    Q_UPDATE_ALL,
    Q_CAS,
    Q_DESTROY,
    Q_TOUCH,
    Q_LIST,
    Q_LIST_ALL,
    Q_DESTROY_USER,
    Q_GC_SESSIONS,
    Q_GC_KV,
    Q_GC_COUNTERS,
    Q_COUNTER,
    Q_KV_SET,
    Q_KV_GET,
    Q_KV_DEL,
    Q_LOG_HEAD,
    Q_LOG_CLEAR,
    Q_LOG_SET_HEAD,
    Q_LOG_ADD,
    Q_LOG_TRIM,
    Q_LOG_SCAN,
    Q_GC_LOG_ITEMS,
    Q_GC_LOG_HEADS,
    Q_COUNT
};

/* The in-process write lock of one database file (sqlite.c). */
typedef struct wlock wlock;

typedef struct sqstore {
    sqlite3 *db;
    wlock *wl; /* NULL for :memory: */
    sqlite3_stmt *q[Q_COUNT];
    size_t max_data;
} sqstore;

/* SQLite's result @src as a crumb status, with SQLite's message on @st. */
int crumb__sq_db_error(crumb_store *st, sqstore *s, int src,
                       const char *what);
/* Statement @id, prepared on first use and reset; NULL after an error. */
sqlite3_stmt *crumb__sq_stmt(crumb_store *st, sqstore *s, int id);
/* Step a statement without rows to its end, then reset it. */
int crumb__sq_exec_stmt(crumb_store *st, sqstore *s, sqlite3_stmt *q,
                        const char *what);
int crumb__sq_exec_id(crumb_store *st, sqstore *s, int id);
void crumb__sq_rollback(crumb_store *st, sqstore *s);
int crumb__sq_text_col(sqlite3_stmt *q, int col, char *out, size_t max);
int crumb__sq_int_col(sqlite3_stmt *q, int col, int64_t *out);
void crumb__sq_corrupt(crumb_store *st, const unsigned char *key,
                       const char *field);
/* Hold / release the file's in-process write lock around a write. */
void crumb__sq_write_begin(sqstore *s);
void crumb__sq_write_end(sqstore *s);

/* sqlite_kv.c: the counters, kv values and logs of the store table. */
int crumb__sq_incr_counter(crumb_store *st, const char *name, int64_t delta,
                           int64_t window_seconds, int64_t now,
                           int64_t *value);
int crumb__sq_kv_set(crumb_store *st, const char *name, const void *data,
                     size_t len, int64_t ttl_seconds, int64_t now);
int crumb__sq_kv_get(crumb_store *st, const char *name, int64_t now,
                     unsigned char **data, size_t *len);
int crumb__sq_kv_del(crumb_store *st, const char *name);
int crumb__sq_log_append(crumb_store *st, const char *name, const void *item,
                         size_t len, size_t cap, int64_t ttl_seconds,
                         int64_t now);
int crumb__sq_log_append_many(crumb_store *st,
                              const crumb_store_log_entry *entries, size_t n,
                              size_t cap, int64_t ttl_seconds,
                              size_t *appended);
int crumb__sq_log_scan(crumb_store *st, const char *prefix, int64_t now,
                       crumb_store_log_fn fn, void *arg);

#endif
