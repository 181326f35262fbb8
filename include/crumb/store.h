/* crumb/store.h - server-side session stores: records by key, one vtable. */
#ifndef CRUMB_STORE_H
#define CRUMB_STORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * A store keeps session records for the server-side session interface.
 * It deals in bytes and ids only: no HTTP, no JSON. Records are addressed
 * by a KEY, the 32-byte SHA-256 digest of the session id; the caller
 * hashes, so the store (and a leaked copy of it) never holds a cookie.
 *
 * A store is chosen by URI:
 *   memory:                       a bounded in-process hash table
 *   sqlite:PATH                   a SQLite file in WAL mode, shared by the
 *                                 processes of one machine
 *   redis://HOST:PORT/DB[?prefix=P&connect_timeout_ms=N&timeout_ms=N]
 *                                 Redis, shared by many machines
 *
 * Time: every call where time matters takes `now`, the caller's clock in
 * unix seconds. A store never reads the clock itself, so tests can move
 * time. A record is live while expires_at == 0 or now < expires_at; from
 * expires_at on it is unusable at once, whether or not a sweep ran.
 *
 * Versions: every record carries a version, 1 after its creation and one
 * more after each save. crumb_store_save() is a compare-and-set on it, so
 * the session layer can load, apply a request's changes, save, and retry
 * on CRUMB_ECONFLICT without losing a concurrent request's update.
 *
 * Records read back from a store are hostile input: each backend checks
 * every field; a record that fails is reported as CRUMB_ENOTFOUND with
 * the reason in crumb_store_errmsg(), never as a crash.
 *
 * Threads: a memory store handle may be shared by threads (one mutex).
 * A sqlite or redis handle belongs to one thread at a time: open one
 * handle per thread (they all see the same data).
 */

#define CRUMB_STORE_KEY_LEN 32
#define CRUMB_STORE_USER_MAX 64
#define CRUMB_STORE_ADDR_MAX 46
#define CRUMB_STORE_AGENT_MAX 64
#define CRUMB_STORE_NAME_MAX 200 /* counter and kv names, bytes */
#define CRUMB_STORE_DATA_MAX_DEFAULT (8u * 1024 * 1024)

typedef struct crumb_store crumb_store;

typedef struct crumb_store_record {
    unsigned char *data; /* record bytes; malloc'd when filled by a store */
    size_t len;
    int64_t version;    /* 1 after creation, +1 on each save */
    int64_t created;    /* unix seconds; 0 on save: now */
    int64_t last_seen;  /* unix seconds; 0 on save: now */
    int64_t expires_at; /* unusable from this second on; 0 = never */
    char user[CRUMB_STORE_USER_MAX + 1];   /* "" = anonymous */
    char addr[CRUMB_STORE_ADDR_MAX + 1];   /* client address, as text */
    char agent[CRUMB_STORE_AGENT_MAX + 1]; /* User-Agent, truncated */
    unsigned char key[CRUMB_STORE_KEY_LEN];
} crumb_store_record;

/**
 * crumb_store_record_cleanup - free rec->data and zero the record.
 * Accepts NULL. The record itself is the caller's (often on the stack).
 */
void crumb_store_record_cleanup(crumb_store_record *rec);

/**
 * crumb_store_records_free - free an array from crumb_store_list_user()
 * or crumb_store_list_all().
 * Accepts NULL.
 */
void crumb_store_records_free(crumb_store_record *recs, size_t n);

/*
 * Options, in the style of hiredis' redisOptions: zero means default.
 * A parameter in the URI's query (redis) wins over the same field here.
 */
typedef struct crumb_store_options {
    int connect_timeout_ms; /* redis: 500 */
    int timeout_ms;         /* redis: per command, 500 */
    int busy_timeout_ms;    /* sqlite: wait for another writer, 5000 */
    int durable;            /* sqlite: 1 = synchronous=FULL (survives
                               power loss); 0 = NORMAL (survives a crash
                               of the process) */
    const char *prefix;     /* redis key prefix, "crumb"; copied */
    size_t max_records;     /* memory: records + kv entries, 1048576 */
    size_t max_data_len;    /* every backend: CRUMB_STORE_DATA_MAX_DEFAULT */
    char *errbuf;           /* when not NULL: why crumb_store_open() */
    size_t errbuf_size;     /* failed, NUL-terminated, truncated */
} crumb_store_options;

/** crumb_store_options_init - zero @opts (all defaults). */
void crumb_store_options_init(crumb_store_options *opts);

/*
 * The backend table, versioned like sqlite3_vfs: a backend sets
 * `version` to the CRUMB_STORE_OPS_VERSION it was written for, and crumb
 * refuses tables newer than itself. Later versions only append fields.
 * Each operation receives the handle (for crumb_store_impl() and
 * crumb_store_set_errmsg()) and arguments already checked by the public
 * wrappers below, and returns CRUMB_OK or a negative CRUMB_E* code.
 *
 * Version 2 appends list_all. A version 1 table (or a NULL list_all)
 * still works; crumb_store_list_all() then returns CRUMB_EUNSUPPORTED.
 * Version 3 appends log_append and log_scan, likewise optional.
 * Version 4 appends log_append_many; without it (an older table, or NULL)
 * crumb_store_log_append_many() calls log_append once per entry.
 */
#define CRUMB_STORE_OPS_VERSION 4

#define CRUMB_STORE_LOG_ITEM_MAX 1024  /* bytes in one log item */
#define CRUMB_STORE_LOG_CAP_MAX 100000 /* items a log may keep */

/** One item of a log, as crumb_store_log_scan() hands it over. */
typedef struct crumb_store_item {
    const unsigned char *data; /* not NUL-terminated */
    size_t len;
} crumb_store_item;

/**
 * A log visitor: @name is the log's name, @items its items oldest first
 * (@n >= 1). Return CRUMB_OK to go on; anything else stops the scan,
 * which then returns it.
 * Lifetime: @name and @items only during the call. The visitor must not
 * call the store it is visiting (the memory store holds its lock).
 */
typedef int (*crumb_store_log_fn)(void *arg, const char *name,
                                  const crumb_store_item *items, size_t n);

/** One append of crumb_store_log_append_many(). */
typedef struct crumb_store_log_entry {
    const char *name; /* the log */
    const void *item; /* 1 .. CRUMB_STORE_LOG_ITEM_MAX bytes */
    size_t len;
    int64_t now; /* the time of this append, as for log_append */
} crumb_store_log_entry;

typedef struct crumb_store_ops {
    int version;
    const char *scheme; /* "memory", "sqlite", "redis" */
    int (*open)(crumb_store *st, const char *uri,
                const crumb_store_options *opts, void **impl);
    void (*close)(void *impl);
    int (*load)(crumb_store *st, const unsigned char *key, int64_t now,
                crumb_store_record *rec);
    int (*save)(crumb_store *st, const unsigned char *key,
                crumb_store_record *rec, int64_t expected_version,
                int64_t now);
    int (*destroy)(crumb_store *st, const unsigned char *key);
    int (*touch)(crumb_store *st, const unsigned char *key,
                 int64_t last_seen, int64_t expires_at, int64_t now);
    int (*list_user)(crumb_store *st, const char *user, int64_t now,
                     crumb_store_record **recs, size_t *n);
    int (*destroy_user)(crumb_store *st, const char *user,
                        const unsigned char *except_key, size_t *count);
    int (*gc)(crumb_store *st, int64_t now, size_t *removed);
    int (*incr_counter)(crumb_store *st, const char *name, int64_t delta,
                        int64_t window_seconds, int64_t now,
                        int64_t *value);
    int (*kv_set)(crumb_store *st, const char *name, const void *data,
                  size_t len, int64_t ttl_seconds, int64_t now);
    int (*kv_get)(crumb_store *st, const char *name, int64_t now,
                  unsigned char **data, size_t *len);
    int (*kv_del)(crumb_store *st, const char *name);
    /* Version 2. At most @limit live records, the newest last_seen ones,
     * without data, in any order (the wrapper sorts). */
    int (*list_all)(crumb_store *st, int64_t now, size_t limit,
                    crumb_store_record **recs, size_t *n);
    /* Version 3. */
    int (*log_append)(crumb_store *st, const char *name, const void *item,
                      size_t len, size_t cap, int64_t ttl_seconds,
                      int64_t now);
    int (*log_scan)(crumb_store *st, const char *prefix, int64_t now,
                    crumb_store_log_fn fn, void *arg);
    /* Version 4. The @n (>= 1) appends in order, as log_append would do
     * them one by one; *appended (never NULL here, 0 on entry) counts
     * those known to be stored when the call fails. */
    int (*log_append_many)(crumb_store *st,
                           const crumb_store_log_entry *entries, size_t n,
                           size_t cap, int64_t ttl_seconds,
                           size_t *appended);
} crumb_store_ops;

/**
 * crumb_store_open - open the store named by @uri (see above).
 * @opts NULL means defaults; it is read during the call only.
 * Returns CRUMB_OK, CRUMB_EINVAL (unknown scheme, bad URI), CRUMB_ENOMEM,
 * CRUMB_ESTORE (the backend refused: bad file, wrong schema),
 * CRUMB_EUNAVAIL (redis unreachable at open).
 * On failure *out is NULL and the reason is written to opts->errbuf when
 * the caller gave one.
 * Lifetime: *out owned by the caller, crumb_store_close().
 */
int crumb_store_open(crumb_store **out, const char *uri,
                     const crumb_store_options *opts);

/**
 * crumb_store_open_ops - like crumb_store_open() with a caller's backend
 * table. Returns CRUMB_EUNSUPPORTED for a table newer than this crumb.
 * Lifetime: @ops must outlive the handle.
 */
int crumb_store_open_ops(crumb_store **out, const crumb_store_ops *ops,
                         const char *uri, const crumb_store_options *opts);

/** crumb_store_close - close connections, free; accepts NULL. */
void crumb_store_close(crumb_store *st);

/**
 * crumb_store_errmsg - the last failure's message from this handle ("" if
 * none): the backend's own words (SQLite's, Redis's, "corrupt record...").
 * Successful calls leave it alone, so read it right after the failure.
 * A CRUMB_ENOTFOUND from load sets it only when a corrupt record was
 * skipped. On a memory handle shared by threads it may be another
 * thread's message.
 * Lifetime: until the next failing call on @st.
 */
const char *crumb_store_errmsg(const crumb_store *st);

/** crumb_store_scheme - "memory", "sqlite" or "redis". Lifetime: @st's. */
const char *crumb_store_scheme(const crumb_store *st);

/** For backends: their state, as set by ops->open. Lifetime: @st's. */
void *crumb_store_impl(crumb_store *st);

/** For backends: set the handle's message (printf format, truncated). */
void crumb_store_set_errmsg(crumb_store *st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/**
 * crumb_store_load - the live record under @key at @now.
 * *rec is overwritten (clean it first if it held data).
 * Returns CRUMB_OK, CRUMB_ENOTFOUND (absent, expired at @now, or corrupt:
 * see errmsg), CRUMB_EUNAVAIL (backend unreachable or timed out),
 * CRUMB_ESTORE, CRUMB_ENOMEM, CRUMB_EINVAL.
 * Lifetime: rec->data malloc'd, owned by the caller:
 * crumb_store_record_cleanup().
 */
int crumb_store_load(crumb_store *st, const unsigned char *key, int64_t now,
                     crumb_store_record *rec);

/**
 * crumb_store_save - compare-and-set @rec under @key.
 * @expected_version 0: create; a live record must not exist (an expired
 * or corrupt one is replaced). Otherwise the live record's version must
 * equal @expected_version. On success the stored version is
 * expected_version + 1, written back to rec->version, and rec->key,
 * rec->created and rec->last_seen (when 0: @now) are filled in.
 * The record's data, metadata and expiry are all replaced.
 * Returns CRUMB_OK, CRUMB_ECONFLICT (a live record exists on create, or
 * another version is stored: load again and retry), CRUMB_ENOTFOUND
 * (expected_version > 0 but no live record: it was destroyed or expired),
 * CRUMB_EINVAL (expires_at != 0 and <= now, bad strings), CRUMB_ETOOBIG
 * (len > max_data_len), CRUMB_EUNAVAIL, CRUMB_ESTORE, CRUMB_ENOMEM.
 */
int crumb_store_save(crumb_store *st, const unsigned char *key,
                     crumb_store_record *rec, int64_t expected_version,
                     int64_t now);

/**
 * crumb_store_destroy - remove the record under @key, live or not.
 * Returns CRUMB_OK (a record was there), CRUMB_ENOTFOUND, CRUMB_EUNAVAIL,
 * CRUMB_ESTORE.
 */
int crumb_store_destroy(crumb_store *st, const unsigned char *key);

/**
 * crumb_store_touch - set last_seen and expires_at of a live record (the
 * idle refresh) without rewriting its data. The version is NOT bumped:
 * a concurrent save made from the previous load still succeeds, and then
 * writes its own last_seen and expires_at.
 * Returns CRUMB_OK, CRUMB_ENOTFOUND (no live record at @now), CRUMB_EINVAL
 * (expires_at != 0 and <= now), CRUMB_EUNAVAIL, CRUMB_ESTORE.
 */
int crumb_store_touch(crumb_store *st, const unsigned char *key,
                      int64_t last_seen, int64_t expires_at, int64_t now);

/**
 * crumb_store_list_user - every live record of @user (not "") at @now,
 * newest last_seen first, without data (data NULL, len 0).
 * Returns CRUMB_OK (possibly *n == 0, *recs NULL), CRUMB_EUNAVAIL,
 * CRUMB_ESTORE, CRUMB_ENOMEM, CRUMB_EINVAL.
 * Lifetime: *recs owned by the caller, crumb_store_records_free().
 */
int crumb_store_list_user(crumb_store *st, const char *user, int64_t now,
                          crumb_store_record **recs, size_t *n);

/**
 * crumb_store_list_all - the live records of every user (anonymous ones
 * too) at @now, newest last_seen first, at most @limit (>= 1) of them,
 * without data (data NULL, len 0). It walks the whole store: memory and
 * redis visit every record (redis with SCAN in steps, never KEYS), sqlite
 * lets the database pick the newest; memory use is bounded by @limit.
 * Meant for administration tools, not for the request path.
 * Returns CRUMB_OK (possibly *n == 0, *recs NULL), CRUMB_EUNSUPPORTED (a
 * backend table of version 1 or without list_all), CRUMB_EUNAVAIL,
 * CRUMB_ESTORE, CRUMB_ENOMEM, CRUMB_EINVAL (@limit 0).
 * Lifetime: *recs owned by the caller, crumb_store_records_free().
 */
int crumb_store_list_all(crumb_store *st, int64_t now, size_t limit,
                         crumb_store_record **recs, size_t *n);

/**
 * crumb_store_destroy_user - remove every record of @user (not ""),
 * except the one under @except_key when it is not NULL ("log out my other
 * sessions"). @count (may be NULL) receives how many were removed.
 * Returns CRUMB_OK, CRUMB_EUNAVAIL, CRUMB_ESTORE, CRUMB_EINVAL.
 */
int crumb_store_destroy_user(crumb_store *st, const char *user,
                             const unsigned char *except_key,
                             size_t *count);

/**
 * crumb_store_gc - remove records, kv entries and logs expired at @now.
 * memory and sqlite sweep; redis lets key TTLs do the work and cleans its
 * per-user index sets (deleting the records they name that are expired at
 * @now). @removed (may be NULL) receives the number of records removed.
 * Returns CRUMB_OK, CRUMB_EUNAVAIL, CRUMB_ESTORE.
 */
int crumb_store_gc(crumb_store *st, int64_t now, size_t *removed);

/**
 * crumb_store_incr_counter - add @delta to the counter @name and return
 * the new value in @value. A counter that does not exist, or whose window
 * has passed, starts from 0 with a window of @window_seconds from @now
 * (0: never expires). Shared by every handle on the same store, which is
 * what login throttling across servers needs.
 * Returns CRUMB_OK, CRUMB_EINVAL (empty or too long name, window < 0),
 * CRUMB_EUNAVAIL, CRUMB_ESTORE.
 */
int crumb_store_incr_counter(crumb_store *st, const char *name,
                             int64_t delta, int64_t window_seconds,
                             int64_t now, int64_t *value);

/**
 * crumb_store_user_generation - the generation of @user_id: a counter
 * ("user-gen:<id>", 0 until bumped, never expires) that goes up when the
 * user's roles change. Each logged-in session remembers the generation it
 * was made under, and the HTTP layer's guards reload the roles (with a new
 * session id) of a session whose generation is behind. @delta 0 reads it,
 * 1 bumps it: what crumb_http_user_changed() and `crumb users role` do.
 * Returns CRUMB_OK, CRUMB_EINVAL (empty or too long @user_id),
 * CRUMB_EUNAVAIL, CRUMB_ESTORE.
 */
int crumb_store_user_generation(crumb_store *st, const char *user_id,
                                int64_t delta, int64_t now, int64_t *gen);

/**
 * crumb_store_kv_set - store @len bytes under @name for @ttl_seconds from
 * @now (0: forever), replacing any value. Separate namespace from counters.
 * Returns CRUMB_OK, CRUMB_EINVAL, CRUMB_ETOOBIG, CRUMB_EUNAVAIL,
 * CRUMB_ESTORE, CRUMB_ENOMEM.
 */
int crumb_store_kv_set(crumb_store *st, const char *name, const void *data,
                       size_t len, int64_t ttl_seconds, int64_t now);

/**
 * crumb_store_kv_get - the live value under @name at @now.
 * Returns CRUMB_OK, CRUMB_ENOTFOUND, CRUMB_EUNAVAIL, CRUMB_ESTORE,
 * CRUMB_ENOMEM, CRUMB_EINVAL.
 * Lifetime: *data malloc'd (never NULL on success; one extra NUL byte
 * after *len), owned by the caller: free().
 */
int crumb_store_kv_get(crumb_store *st, const char *name, int64_t now,
                       unsigned char **data, size_t *len);

/**
 * crumb_store_kv_del - remove @name. Returns CRUMB_OK, CRUMB_ENOTFOUND,
 * CRUMB_EUNAVAIL, CRUMB_ESTORE, CRUMB_EINVAL.
 */
int crumb_store_kv_del(crumb_store *st, const char *name);

/*
 * Logs: named, capped, expiring sequences of small items, for records
 * that many servers append to and an administration page reads back in
 * bulk (session analytics). A log lives @ttl_seconds after its last
 * append; it keeps at most @cap items, dropping the oldest. Log names are
 * a namespace of their own (not kv, not counters).
 */

/**
 * crumb_store_log_append - append @len bytes (1 .. CRUMB_STORE_LOG_ITEM_MAX)
 * to the log @name, keep its newest @cap items (1 ..
 * CRUMB_STORE_LOG_CAP_MAX), and make it expire @ttl_seconds (>= 1) from
 * @now. A log expired at @now starts empty. One round trip, atomic.
 * Returns CRUMB_OK, CRUMB_EINVAL, CRUMB_EUNSUPPORTED (a backend table
 * older than version 3), CRUMB_EUNAVAIL, CRUMB_ESTORE, CRUMB_ENOMEM.
 */
int crumb_store_log_append(crumb_store *st, const char *name,
                           const void *item, size_t len, size_t cap,
                           int64_t ttl_seconds, int64_t now);

/**
 * crumb_store_log_append_many - the @n appends of @entries, in order, with
 * the same @cap and @ttl_seconds: what @n calls of crumb_store_log_append()
 * would store, in one transaction (sqlite) or one pipelined round trip
 * (redis), for a writer that drains a queue of events. Every entry is
 * checked first: one bad entry is CRUMB_EINVAL and nothing is appended.
 * @appended (may be NULL) receives how many entries are stored: @n on
 * success. On failure: none with sqlite (the transaction rolls back);
 * with memory, those before the failing one; with redis, every entry
 * whose own append succeeded (all are sent before a reply is read, and
 * each append is atomic, the batch is not). The first error is returned.
 * Returns CRUMB_OK, CRUMB_EINVAL, CRUMB_EUNSUPPORTED, CRUMB_EUNAVAIL,
 * CRUMB_ESTORE, CRUMB_ENOMEM.
 * Lifetime: @entries and what they point to are read during the call.
 */
int crumb_store_log_append_many(crumb_store *st,
                                const crumb_store_log_entry *entries,
                                size_t n, size_t cap, int64_t ttl_seconds,
                                size_t *appended);

/**
 * crumb_store_log_scan - call @fn for every log live at @now whose name
 * starts with @prefix ("" for all), in no particular order, each with all
 * its items. Memory is bounded by a batch of logs, not by the store:
 * redis walks with SCAN, sqlite with one query. Meant for administration
 * pages and tools, not for the request path.
 * Returns CRUMB_OK, what @fn returned to stop, CRUMB_EINVAL,
 * CRUMB_EUNSUPPORTED, CRUMB_EUNAVAIL, CRUMB_ESTORE, CRUMB_ENOMEM.
 */
int crumb_store_log_scan(crumb_store *st, const char *prefix, int64_t now,
                         crumb_store_log_fn fn, void *arg);

#ifdef __cplusplus
}
#endif
#endif
