/* sqlite.c - the sqlite:PATH store: one SQLite file in WAL mode. */
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/sqlite_int.h"
#include "store/store_int.h"

/*
 * Durability. The file is in WAL mode. With synchronous=NORMAL a commit
 * appends its frames to the -wal file with write(2) before sqlite3_step()
 * returns, and only the checkpoint and the WAL's fsync are deferred. The
 * data is then in the kernel's page cache, which outlives the process: a
 * change acknowledged to the caller survives a SIGKILL or a crash of the
 * process (the next opener replays the WAL). What NORMAL can lose is the
 * last commits before a power cut or a kernel crash; options.durable = 1
 * selects synchronous=FULL, which fsyncs the WAL at every commit.
 *
 * Concurrency. Several processes (and threads, each with its own handle)
 * share the file. Reads are single statements on a WAL snapshot. Every
 * read-check-write runs in BEGIN IMMEDIATE, which takes the write lock
 * first, so the version check and the write see the same row; other
 * writers wait up to busy_timeout_ms, then get CRUMB_EUNAVAIL.
 *
 * A handle (its connection, its cached statements) belongs to one thread
 * at a time; the connection is opened with SQLITE_OPEN_NOMUTEX.
 *
 * Writers of one process queue on a mutex per file (see wlock below)
 * before they ask SQLite for its write lock, so they never meet SQLite's
 * busy handler, which sleeps 1, 2, 5, 10... up to 100 ms between tries:
 * under a burst of writes from a pool of threads those sleeps, not the
 * writes, set the throughput and the tail latency. Writers in other
 * processes still wait through the busy timeout.
 */


#define STR_(x) #x
#define STR(x) STR_(x)
/* Column @c holds text that crumb__sq_text_col() accepts: at most @max
 * bytes, no NUL. */
#define TEXT_OK(c, max)                                                      \
    " AND typeof(" c ") = 'text'"                                            \
    " AND length(CAST(" c " AS BLOB)) <= " STR(max)                          \
    " AND instr(CAST(" c " AS BLOB), x'00') = 0"

static const char *const queries[Q_COUNT] = {
    [Q_BEGIN] = "BEGIN IMMEDIATE",
    [Q_COMMIT] = "COMMIT",
    [Q_ROLLBACK] = "ROLLBACK",
    [Q_LOAD] = "SELECT data, version, created, last_seen, expires_at, user,"
               " addr, agent FROM sessions WHERE key = ?1",
    [Q_CURRENT] = "SELECT typeof(data) = 'blob', version, created, last_seen,"
                  " expires_at, user, addr, agent, length(data)"
                  " FROM sessions WHERE key = ?1",
    [Q_UPSERT] = "INSERT OR REPLACE INTO sessions (key, data, version,"
                 " created, last_seen, expires_at, user, addr, agent)"
                 " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [Q_DESTROY] = "DELETE FROM sessions WHERE key = ?1",
    /* In place, same bindings as Q_UPSERT: REPLACE deletes and inserts
     * the row, which rewrites a page of each index; an update touches the
     * user and expiry indexes only when those change. */
    [Q_UPDATE] = "UPDATE sessions SET data = ?2, version = ?3, created = ?4,"
                 " last_seen = ?5, addr = ?8, agent = ?9 WHERE key = ?1"
                 " AND ?6 IS NOT NULL AND ?7 IS NOT NULL",
    [Q_UPDATE_ALL] = "UPDATE sessions SET data = ?2, version = ?3,"
                     " created = ?4, last_seen = ?5, expires_at = ?6,"
                     " user = ?7, addr = ?8, agent = ?9 WHERE key = ?1",
    /* The compare-and-set of a sound record whose user and expiry stay
     * as they are, as one statement (see save_fast): ?10 the largest
     * data, ?11 the expected version. The conditions are those under
     * which save_locked() would pick Q_UPDATE: the row meta_cols()
     * accepts (version, expiry and user sound by being equal to sound
     * values), live (the expiry is the new one, in the future), at the
     * expected version. */
    [Q_CAS] = "UPDATE sessions SET data = ?2, version = ?3, created = ?4,"
              " last_seen = ?5, addr = ?8, agent = ?9 WHERE key = ?1"
              " AND version = ?11 AND expires_at = ?6 AND user = ?7"
              " AND typeof(data) = 'blob' AND length(data) <= ?10"
              " AND typeof(created) = 'integer'"
              " AND typeof(last_seen) = 'integer'"
              TEXT_OK("addr", CRUMB_STORE_ADDR_MAX)
              TEXT_OK("agent", CRUMB_STORE_AGENT_MAX),
    [Q_TOUCH] = "UPDATE sessions SET last_seen = ?2, expires_at = ?3"
                " WHERE key = ?1 AND typeof(version) = 'integer'"
                " AND (expires_at = 0 OR expires_at > ?4)",
    [Q_LIST] = "SELECT key, version, created, last_seen, expires_at, user,"
               " addr, agent FROM sessions WHERE user = ?1"
               " AND (expires_at = 0 OR expires_at > ?2)",
    [Q_LIST_ALL] = "SELECT key, version, created, last_seen, expires_at,"
                   " user, addr, agent FROM sessions"
                   " WHERE expires_at = 0 OR expires_at > ?1"
                   " ORDER BY last_seen DESC, key LIMIT ?2",
    [Q_DESTROY_USER] = "DELETE FROM sessions WHERE user = ?1"
                       " AND key IS NOT ?2",
    [Q_GC_SESSIONS] = "DELETE FROM sessions WHERE expires_at > 0"
                      " AND expires_at <= ?1",
    [Q_GC_KV] = "DELETE FROM kv WHERE expires_at > 0 AND expires_at <= ?1",
    [Q_GC_COUNTERS] = "DELETE FROM counters WHERE expires_at > 0"
                      " AND expires_at <= ?1",
    /* One statement, so atomic: a counter whose window has passed
     * restarts from the delta with a new window. */
    [Q_COUNTER] = "INSERT INTO counters (name, value, expires_at)"
                  " VALUES (?1, ?2, ?3) ON CONFLICT (name) DO UPDATE SET"
                  " value = CASE WHEN expires_at <> 0 AND expires_at <= ?4"
                  " THEN ?2 ELSE value + ?2 END,"
                  " expires_at = CASE WHEN expires_at <> 0"
                  " AND expires_at <= ?4 THEN ?3 ELSE expires_at END"
                  " RETURNING value",
    [Q_KV_SET] = "INSERT OR REPLACE INTO kv (name, value, expires_at)"
                 " VALUES (?1, ?2, ?3)",
    [Q_KV_GET] = "SELECT value, expires_at FROM kv WHERE name = ?1",
    [Q_KV_DEL] = "DELETE FROM kv WHERE name = ?1",
    [Q_LOG_HEAD] = "SELECT expires_at, seq FROM log_heads WHERE name = ?1",
    [Q_LOG_CLEAR] = "DELETE FROM log_items WHERE name = ?1",
    [Q_LOG_SET_HEAD] = "INSERT OR REPLACE INTO log_heads (name, expires_at,"
                       " seq) VALUES (?1, ?2, ?3)",
    [Q_LOG_ADD] = "INSERT OR REPLACE INTO log_items (name, seq, item)"
                  " VALUES (?1, ?2, ?3)",
    [Q_LOG_TRIM] = "DELETE FROM log_items WHERE name = ?1 AND seq <= ?2",
    [Q_LOG_SCAN] = "SELECT h.name, i.item FROM log_heads h"
                   " JOIN log_items i ON i.name = h.name"
                   " WHERE substr(h.name, 1, length(?1)) = ?1"
                   " AND h.expires_at > ?2 ORDER BY h.name, i.seq",
    [Q_GC_LOG_ITEMS] = "DELETE FROM log_items WHERE name IN"
                       " (SELECT name FROM log_heads WHERE expires_at <= ?1)",
    [Q_GC_LOG_HEADS] = "DELETE FROM log_heads WHERE expires_at <= ?1",
};

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS sessions ("
    " key BLOB PRIMARY KEY, data BLOB NOT NULL, version INTEGER NOT NULL,"
    " created INTEGER NOT NULL, last_seen INTEGER NOT NULL,"
    " expires_at INTEGER NOT NULL, user TEXT NOT NULL, addr TEXT NOT NULL,"
    " agent TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS sessions_user ON sessions (user);"
    "CREATE INDEX IF NOT EXISTS sessions_expires ON sessions (expires_at);"
    "CREATE TABLE IF NOT EXISTS kv ("
    " name TEXT PRIMARY KEY, value BLOB NOT NULL,"
    " expires_at INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS counters ("
    " name TEXT PRIMARY KEY, value INTEGER NOT NULL,"
    " expires_at INTEGER NOT NULL);"
    "PRAGMA user_version = 1;";

/* The logs' tables came later. They are created on every open of a
 * version 1 file, without a version bump, so that an older crumb that
 * does not know them still opens the file. */
static const char logs_schema[] =
    "CREATE TABLE IF NOT EXISTS log_heads ("
    " name TEXT PRIMARY KEY, expires_at INTEGER NOT NULL,"
    " seq INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS log_items ("
    " name TEXT NOT NULL, seq INTEGER NOT NULL, item BLOB NOT NULL,"
    " PRIMARY KEY (name, seq)) WITHOUT ROWID;";

#define HINTS 64

/* The in-process write lock of one database file, by device and inode,
 * shared by every handle open on it and freed with the last one. */
struct wlock {
    struct wlock *next;
    dev_t dev;
    ino_t ino;
    int refs;
    pthread_mutex_t m;
    /* Under m: for a few records, by their key's first bytes, the expiry
     * and user this process last wrote (see sq_save). */
    struct hint {
        uint64_t key, user;
        int64_t expires_at;
    } hint[HINTS];
};

static wlock *wlocks;
static pthread_mutex_t wlocks_guard = PTHREAD_MUTEX_INITIALIZER;

/* The lock of the file at @path, created on first use; NULL when @path
 * cannot be stat'ed (then writers rely on the busy timeout alone) or on
 * out of memory. */
static wlock *
wlock_get(const char *path)
{
    struct stat sb;
    if (stat(path, &sb) != 0)
        return NULL;
    pthread_mutex_lock(&wlocks_guard);
    wlock *w = wlocks;
    while (w && (w->dev != sb.st_dev || w->ino != sb.st_ino))
        w = w->next;
    if (w) {
        w->refs++;
    } else if ((w = calloc(1, sizeof(*w))) != NULL) {
        if (pthread_mutex_init(&w->m, NULL) != 0) {
            free(w);
            w = NULL;
        } else {
            w->dev = sb.st_dev;
            w->ino = sb.st_ino;
            w->refs = 1;
            w->next = wlocks;
            wlocks = w;
        }
    }
    pthread_mutex_unlock(&wlocks_guard);
    return w;
}

static void
wlock_put(wlock *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&wlocks_guard);
    if (--w->refs == 0) {
        wlock **pp = &wlocks;
        while (*pp != w)
            pp = &(*pp)->next;
        *pp = w->next;
        pthread_mutex_destroy(&w->m);
        free(w);
    }
    pthread_mutex_unlock(&wlocks_guard);
}


/* SQLite's result as a crumb status, with SQLite's message on @st. */
int
crumb__sq_db_error(crumb_store *st, sqstore *s, int src, const char *what)
{
    crumb_store_set_errmsg(st, "sqlite %s: %s", what, sqlite3_errmsg(s->db));
    switch (src & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return CRUMB_EUNAVAIL;
    case SQLITE_NOMEM:
        return CRUMB_ENOMEM;
    default:
        return CRUMB_ESTORE;
    }
}

/* The cached statement @id, reset with its bindings cleared, prepared on
 * first use. NULL on failure (message set). */
sqlite3_stmt *
crumb__sq_stmt(crumb_store *st, sqstore *s, int id)
{
    if (!s->q[id]) {
        int rc = sqlite3_prepare_v3(s->db, queries[id], -1,
                                    SQLITE_PREPARE_PERSISTENT, &s->q[id],
                                    NULL);
        if (rc != SQLITE_OK) {
            crumb__sq_db_error(st, s, rc, "prepare");
            return NULL;
        }
    }
    sqlite3_reset(s->q[id]);
    sqlite3_clear_bindings(s->q[id]);
    return s->q[id];
}

/* Run a statement without rows (BEGIN, COMMIT, DELETE...). */
int
crumb__sq_exec_stmt(crumb_store *st, sqstore *s, sqlite3_stmt *q, const char *what)
{
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    if (rc != SQLITE_DONE)
        return crumb__sq_db_error(st, s, rc, what);
    return CRUMB_OK;
}

int
crumb__sq_exec_id(crumb_store *st, sqstore *s, int id)
{
    sqlite3_stmt *q = crumb__sq_stmt(st, s, id);
    return q ? crumb__sq_exec_stmt(st, s, q, queries[id]) : CRUMB_ESTORE;
}

void
crumb__sq_rollback(crumb_store *st, sqstore *s)
{
    char keep[CRUMB__STORE_ERRMSG_MAX];
    memcpy(keep, st->errmsg, sizeof(keep));
    crumb__sq_exec_id(st, s, Q_ROLLBACK);
    memcpy(st->errmsg, keep, sizeof(keep));
}

/* Copy a TEXT column into a record field after checking it: the file may
 * have been written by something else. Returns 0 when it does not fit. */
int
crumb__sq_text_col(sqlite3_stmt *q, int col, char *out, size_t max)
{
    if (sqlite3_column_type(q, col) != SQLITE_TEXT)
        return 0;
    const char *t = (const char *)sqlite3_column_text(q, col);
    size_t n = (size_t)sqlite3_column_bytes(q, col);
    if (!t || !crumb__store_text_ok(t, n, max))
        return 0;
    memcpy(out, t, n);
    out[n] = '\0';
    return 1;
}

int
crumb__sq_int_col(sqlite3_stmt *q, int col, int64_t *out)
{
    if (sqlite3_column_type(q, col) != SQLITE_INTEGER)
        return 0;
    *out = sqlite3_column_int64(q, col);
    return 1;
}

/* Fill @rec's metadata from columns @c (version) .. @c+6 (agent), as
 * both Q_LOAD and Q_LIST order them. Returns the name of the first bad
 * field, or NULL. */
static const char *
meta_cols(sqlite3_stmt *q, int c, crumb_store_record *rec)
{
    if (!crumb__sq_int_col(q, c, &rec->version) || rec->version <= 0)
        return "version";
    if (!crumb__sq_int_col(q, c + 1, &rec->created))
        return "created";
    if (!crumb__sq_int_col(q, c + 2, &rec->last_seen))
        return "last_seen";
    if (!crumb__sq_int_col(q, c + 3, &rec->expires_at) || rec->expires_at < 0)
        return "expires_at";
    if (!crumb__sq_text_col(q, c + 4, rec->user, CRUMB_STORE_USER_MAX))
        return "user";
    if (!crumb__sq_text_col(q, c + 5, rec->addr, CRUMB_STORE_ADDR_MAX))
        return "addr";
    if (!crumb__sq_text_col(q, c + 6, rec->agent, CRUMB_STORE_AGENT_MAX))
        return "agent";
    return NULL;
}

void
crumb__sq_corrupt(crumb_store *st, const unsigned char *key, const char *field)
{
    char hex[17];
    crumb__store_hex(key, 8, hex);
    crumb_store_set_errmsg(st, "corrupt record %s...: bad %s; ignored", hex,
                           field);
}

static int
sq_open(crumb_store *st, const char *uri, const crumb_store_options *o,
        void **impl)
{
    const char *path = uri + strlen("sqlite:");
    if (strncmp(path, "//", 2) == 0)
        path += 2;
    if (!*path) {
        crumb_store_set_errmsg(st, "sqlite: needs a path (sqlite:PATH)");
        return CRUMB_EINVAL;
    }
    /* Create the file ourselves so it is 0600: SQLite gives the -wal and
     * -shm files the same mode. An existing file keeps its mode. */
    if (strcmp(path, ":memory:") != 0) {
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0) {
            crumb_store_set_errmsg(st, "sqlite: cannot open %s", path);
            return CRUMB_ESTORE;
        }
        close(fd);
    }
    sqstore *s = calloc(1, sizeof(*s));
    if (!s)
        return CRUMB_ENOMEM;
    s->max_data = o->max_data_len;
    int rc = sqlite3_open_v2(path, &s->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                 SQLITE_OPEN_NOMUTEX,
                             NULL);
    int crc = CRUMB_ESTORE;
    if (rc != SQLITE_OK) {
        if (s->db)
            crumb__sq_db_error(st, s, rc, "open");
        else
            crumb_store_set_errmsg(st, "sqlite open: out of memory");
        goto fail;
    }
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, o->busy_timeout_ms);

    /* Switching a new file to WAL takes an exclusive lock for which SQLite
     * does not call the busy handler: when several processes open a new
     * file at once, retry for up to the busy timeout. */
    sqlite3_stmt *q = NULL;
    rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &q,
                            NULL);
    for (int waited = 0; rc == SQLITE_OK || (rc & 0xff) == SQLITE_BUSY ||
                         (rc & 0xff) == SQLITE_LOCKED;
         waited += 10) {
        if (rc != SQLITE_OK) {
            if (waited >= o->busy_timeout_ms)
                break;
            sqlite3_reset(q);
            sqlite3_sleep(10);
        }
        rc = sqlite3_step(q);
        if (rc == SQLITE_ROW)
            break;
    }
    if (rc != SQLITE_ROW) {
        crc = crumb__sq_db_error(st, s, rc, "journal_mode");
        sqlite3_finalize(q);
        goto fail;
    }
    const char *mode = (const char *)sqlite3_column_text(q, 0);
    if (!mode || (strcmp(mode, "wal") != 0 && strcmp(path, ":memory:"))) {
        crumb_store_set_errmsg(st, "sqlite: cannot use WAL mode (%s)",
                               mode ? mode : "?");
        sqlite3_finalize(q);
        goto fail;
    }
    sqlite3_finalize(q);
    rc = sqlite3_exec(s->db,
                      o->durable ? "PRAGMA synchronous = FULL"
                                 : "PRAGMA synchronous = NORMAL",
                      NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        crc = crumb__sq_db_error(st, s, rc, "synchronous");
        goto fail;
    }
    /* A checkpoint every 1,000 pages (SQLite's default), not more: the
     * hot pages of the sessions table are rewritten by every save, and
     * each copy of a page in the WAL lengthens the chain of that page in
     * the WAL's hash table, which every commit (to append) and every read
     * of the page that misses the cache (to find its newest frame) walks.
     * At 10,000 pages the walks cost a commit more than the checkpoints
     * they saved (callgrind: /visits 175 k instructions a request, 163 k
     * at 1,000). */
    rc = sqlite3_exec(s->db, "PRAGMA wal_autocheckpoint = 1000", NULL, NULL,
                      NULL);
    if (rc != SQLITE_OK) {
        crc = crumb__sq_db_error(st, s, rc, "wal_autocheckpoint");
        goto fail;
    }

    /* The schema, once, under the write lock: several processes may open
     * a new file at the same moment. */
    rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        crc = crumb__sq_db_error(st, s, rc, "begin");
        goto fail;
    }
    int version = -1;
    rc = sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &q, NULL);
    if (rc == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
        version = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    if (version == 0)
        rc = sqlite3_exec(s->db, schema, NULL, NULL, NULL);
    if (version >= 0 && version <= 1 && rc == SQLITE_OK)
        rc = sqlite3_exec(s->db, logs_schema, NULL, NULL, NULL);
    if (version < 0 || rc != SQLITE_OK) {
        crc = crumb__sq_db_error(st, s, rc, "schema");
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        goto fail;
    }
    if (version > 1) {
        crumb_store_set_errmsg(st, "sqlite: schema version %d is newer than"
                                   " this crumb's (1)", version);
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        goto fail;
    }
    rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        crc = crumb__sq_db_error(st, s, rc, "commit");
        goto fail;
    }
    if (strcmp(path, ":memory:") != 0)
        s->wl = wlock_get(path);
    *impl = s;
    return CRUMB_OK;
fail:
    sqlite3_close(s->db);
    free(s);
    return crc;
}

static void
sq_close(void *impl)
{
    sqstore *s = impl;
    for (int i = 0; i < Q_COUNT; i++)
        sqlite3_finalize(s->q[i]);
    sqlite3_close(s->db);
    wlock_put(s->wl);
    free(s);
}

void
crumb__sq_write_begin(sqstore *s)
{
    if (s->wl)
        pthread_mutex_lock(&s->wl->m);
}

void
crumb__sq_write_end(sqstore *s)
{
    if (s->wl)
        pthread_mutex_unlock(&s->wl->m);
}

static int
sq_load(crumb_store *st, const unsigned char *key, int64_t now,
        crumb_store_record *rec)
{
    sqstore *s = crumb_store_impl(st);
    sqlite3_stmt *q = crumb__sq_stmt(st, s, Q_LOAD);
    if (!q)
        return CRUMB_ESTORE;
    sqlite3_bind_blob(q, 1, key, CRUMB_STORE_KEY_LEN, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_DONE) {
        sqlite3_reset(q);
        return CRUMB_ENOTFOUND;
    }
    if (rc != SQLITE_ROW) {
        rc = crumb__sq_db_error(st, s, rc, "load");
        sqlite3_reset(q);
        return rc;
    }
    const char *bad = meta_cols(q, 1, rec);
    size_t len = (size_t)sqlite3_column_bytes(q, 0);
    if (!bad && (sqlite3_column_type(q, 0) != SQLITE_BLOB ||
                 len > s->max_data))
        bad = "data";
    if (bad) {
        sqlite3_reset(q);
        memset(rec, 0, sizeof(*rec));
        crumb__sq_corrupt(st, key, bad);
        return CRUMB_ENOTFOUND;
    }
    if (!crumb__store_live(rec->expires_at, now)) {
        sqlite3_reset(q);
        memset(rec, 0, sizeof(*rec));
        return CRUMB_ENOTFOUND;
    }
    rec->data = malloc(len + 1);
    if (!rec->data) {
        sqlite3_reset(q);
        memset(rec, 0, sizeof(*rec));
        return CRUMB_ENOMEM;
    }
    if (len)
        memcpy(rec->data, sqlite3_column_blob(q, 0), len);
    rec->data[len] = '\0';
    rec->len = len;
    memcpy(rec->key, key, CRUMB_STORE_KEY_LEN);
    sqlite3_reset(q);
    return CRUMB_OK;
}

/* The compare-and-set, inside BEGIN IMMEDIATE. A row that load would
 * call corrupt counts as absent, so a create can replace it. */
static int
save_locked(crumb_store *st, const unsigned char *key,
            crumb_store_record *rec, int64_t expected, int64_t now)
{
    sqstore *s = crumb_store_impl(st);
    int rc = crumb__sq_exec_id(st, s, Q_BEGIN);
    if (rc != CRUMB_OK)
        return rc;
    sqlite3_stmt *q = crumb__sq_stmt(st, s, Q_CURRENT);
    if (!q) {
        rc = CRUMB_ESTORE;
        goto out;
    }
    sqlite3_bind_blob(q, 1, key, CRUMB_STORE_KEY_LEN, SQLITE_STATIC);
    int src = sqlite3_step(q);
    int64_t version = 0;
    int live = 0;
    crumb_store_record cur;
    memset(&cur, 0, sizeof(cur));
    if (src == SQLITE_ROW) {
        live = sqlite3_column_int(q, 0) == 1 && !meta_cols(q, 1, &cur) &&
               (size_t)sqlite3_column_int64(q, 8) <= s->max_data &&
               crumb__store_live(cur.expires_at, now);
        version = cur.version;
    } else if (src != SQLITE_DONE) {
        rc = crumb__sq_db_error(st, s, src, "read version");
    }
    sqlite3_reset(q);
    if (rc != CRUMB_OK)
        goto out;
    if (expected == 0 && live)
        rc = CRUMB_ECONFLICT;
    else if (expected != 0 && !live)
        rc = CRUMB_ENOTFOUND;
    else if (expected != 0 && version != expected)
        rc = CRUMB_ECONFLICT;
    if (rc != CRUMB_OK)
        goto out;

    int which = Q_UPSERT;
    if (expected != 0) /* live, at the expected version */
        which = cur.expires_at == rec->expires_at &&
                        strcmp(cur.user, rec->user) == 0
                    ? Q_UPDATE
                    : Q_UPDATE_ALL;
    q = crumb__sq_stmt(st, s, which);
    if (!q) {
        rc = CRUMB_ESTORE;
        goto out;
    }
    sqlite3_bind_blob(q, 1, key, CRUMB_STORE_KEY_LEN, SQLITE_STATIC);
    sqlite3_bind_blob64(q, 2, rec->len ? (const void *)rec->data : "",
                        rec->len, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, expected + 1);
    sqlite3_bind_int64(q, 4, rec->created);
    sqlite3_bind_int64(q, 5, rec->last_seen);
    sqlite3_bind_int64(q, 6, rec->expires_at);
    sqlite3_bind_text(q, 7, rec->user, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 8, rec->addr, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 9, rec->agent, -1, SQLITE_STATIC);
    rc = crumb__sq_exec_stmt(st, s, q, "save");
    sqlite3_clear_bindings(q);
    if (rc == CRUMB_OK)
        return crumb__sq_exec_id(st, s, Q_COMMIT) == CRUMB_OK
                   ? CRUMB_OK
                   : (crumb__sq_rollback(st, s), CRUMB_ESTORE);
out:
    crumb__sq_rollback(st, s);
    return rc;
}

static uint64_t
hash_text(const char *t)
{
    uint64_t h = 14695981039346656037u; /* FNV-1a */
    for (; *t; t++)
        h = (h ^ (unsigned char)*t) * 1099511628211u;
    return h;
}

/* The hint slot of @key (NULL for :memory:), its key bytes in @k8. */
static struct hint *
hint_of(sqstore *s, const unsigned char *key, uint64_t *k8)
{
    memcpy(k8, key, sizeof(*k8));
    return s->wl ? &s->wl->hint[key[1] % HINTS] : NULL;
}

/* Q_CAS: 1 written, 0 not (the row is not as Q_CAS wants it), or an
 * error. */
static int
save_fast(crumb_store *st, sqstore *s, const unsigned char *key,
          const crumb_store_record *rec, int64_t expected)
{
    sqlite3_stmt *q = crumb__sq_stmt(st, s, Q_CAS);
    if (!q)
        return CRUMB_ESTORE;
    sqlite3_bind_blob(q, 1, key, CRUMB_STORE_KEY_LEN, SQLITE_STATIC);
    sqlite3_bind_blob64(q, 2, rec->len ? (const void *)rec->data : "",
                        rec->len, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, expected + 1);
    sqlite3_bind_int64(q, 4, rec->created);
    sqlite3_bind_int64(q, 5, rec->last_seen);
    sqlite3_bind_int64(q, 6, rec->expires_at);
    sqlite3_bind_text(q, 7, rec->user, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 8, rec->addr, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 9, rec->agent, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 10, s->max_data > INT64_MAX
                                  ? INT64_MAX
                                  : (sqlite3_int64)s->max_data);
    sqlite3_bind_int64(q, 11, expected);
    int rc = crumb__sq_exec_stmt(st, s, q, "save");
    sqlite3_clear_bindings(q);
    return rc != CRUMB_OK ? rc : sqlite3_changes(s->db) == 1;
}

/*
 * When this process last wrote the record with the same expiry and user
 * (saves of one session within a second: the page and its requests,
 * or a benchmark), the save is first tried as Q_CAS alone in autocommit:
 * one statement where save_locked() runs four (BEGIN IMMEDIATE, read
 * the row, UPDATE, COMMIT), about 3 k instructions a save less; the
 * version check and the write are still one step under SQLite's write
 * lock. When it matches no row (another version, another expiry or
 * user, a missing or unsound record), save_locked() runs as before and
 * finds out which: a stale hint costs one UPDATE that writes nothing.
 * Any other save (a new expiry every second, most often) runs
 * save_locked() at once, as it did before.
 */
static int
sq_save(crumb_store *st, const unsigned char *key, crumb_store_record *rec,
        int64_t expected, int64_t now)
{
    sqstore *s = crumb_store_impl(st);
    uint64_t k8;
    crumb__sq_write_begin(s);
    struct hint *h = hint_of(s, key, &k8);
    int rc = 0;
    if (h && expected != 0 && h->key == k8 &&
        h->expires_at == rec->expires_at && h->user == hash_text(rec->user))
        rc = save_fast(st, s, key, rec, expected);
    if (rc == 0)
        rc = save_locked(st, key, rec, expected, now);
    else if (rc == 1)
        rc = CRUMB_OK;
    if (rc == CRUMB_OK && h) {
        h->key = k8;
        h->user = hash_text(rec->user);
        h->expires_at = rec->expires_at;
    }
    crumb__sq_write_end(s);
    return rc;
}

static int
destroy_locked(crumb_store *st, const unsigned char *key)
{
    sqstore *s = crumb_store_impl(st);
    sqlite3_stmt *q = crumb__sq_stmt(st, s, Q_DESTROY);
    if (!q)
        return CRUMB_ESTORE;
    sqlite3_bind_blob(q, 1, key, CRUMB_STORE_KEY_LEN, SQLITE_STATIC);
    int rc = crumb__sq_exec_stmt(st, s, q, "destroy");
    if (rc == CRUMB_OK && sqlite3_changes(s->db) == 0)
        rc = CRUMB_ENOTFOUND;
    return rc;
}

static int
sq_destroy(crumb_store *st, const unsigned char *key)
{
    sqstore *s = crumb_store_impl(st);
    crumb__sq_write_begin(s);
    int rc = destroy_locked(st, key);
    crumb__sq_write_end(s);
    return rc;
}

static int
touch_locked(crumb_store *st, const unsigned char *key, int64_t last_seen,
             int64_t expires_at, int64_t now)
{
    sqstore *s = crumb_store_impl(st);
    sqlite3_stmt *q = crumb__sq_stmt(st, s, Q_TOUCH);
    if (!q)
        return CRUMB_ESTORE;
    sqlite3_bind_blob(q, 1, key, CRUMB_STORE_KEY_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, last_seen);
    sqlite3_bind_int64(q, 3, expires_at);
    sqlite3_bind_int64(q, 4, now);
    int rc = crumb__sq_exec_stmt(st, s, q, "touch");
    if (rc == CRUMB_OK && sqlite3_changes(s->db) == 0)
        rc = CRUMB_ENOTFOUND;
    return rc;
}

static int
sq_touch(crumb_store *st, const unsigned char *key, int64_t last_seen,
         int64_t expires_at, int64_t now)
{
    sqstore *s = crumb_store_impl(st);
    crumb__sq_write_begin(s);
    int rc = touch_locked(st, key, last_seen, expires_at, now);
    crumb__sq_write_end(s);
    return rc;
}

/* Reads the rows of a listing statement (key, then the metadata as
 * meta_cols() wants it) into a malloc'd array, skipping corrupt rows with
 * a message naming @who. */
static int
read_list(crumb_store *st, sqstore *s, sqlite3_stmt *q, const char *who,
          crumb_store_record **recs, size_t *n)
{
    crumb_store_record *out = NULL;
    size_t cnt = 0, cap = 0;
    int rc, crc = CRUMB_OK;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (cnt == cap) {
            size_t nc = cap ? cap * 2 : 8;
            crumb_store_record *t = realloc(out, nc * sizeof(*t));
            if (!t) {
                crc = CRUMB_ENOMEM;
                break;
            }
            out = t;
            cap = nc;
        }
        crumb_store_record *r = &out[cnt];
        memset(r, 0, sizeof(*r));
        const void *k = sqlite3_column_blob(q, 0);
        const char *bad = NULL;
        if (sqlite3_column_type(q, 0) != SQLITE_BLOB ||
            sqlite3_column_bytes(q, 0) != CRUMB_STORE_KEY_LEN)
            bad = "key";
        else
            bad = meta_cols(q, 1, r);
        if (bad) {
            crumb_store_set_errmsg(st, "corrupt record of %s: bad %s;"
                                       " ignored", who, bad);
            continue;
        }
        memcpy(r->key, k, CRUMB_STORE_KEY_LEN);
        cnt++;
    }
    if (crc == CRUMB_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
        crc = crumb__sq_db_error(st, s, rc, "list");
    sqlite3_reset(q);
    if (crc != CRUMB_OK) {
        free(out);
        return crc;
    }
    *recs = out;
    *n = cnt;
    return CRUMB_OK;
}

static int
sq_list_user(crumb_store *st, const char *user, int64_t now,
             crumb_store_record **recs, size_t *n)
{
    sqstore *s = crumb_store_impl(st);
    sqlite3_stmt *q = crumb__sq_stmt(st, s, Q_LIST);
    if (!q)
        return CRUMB_ESTORE;
    sqlite3_bind_text(q, 1, user, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, now);
    char who[CRUMB_STORE_USER_MAX + 8];
    snprintf(who, sizeof(who), "user %s", user);
    return read_list(st, s, q, who, recs, n);
}

/* SQLite keeps the newest @limit with a bounded sorter: no index on
 * last_seen is needed for an administration listing. */
static int
sq_list_all(crumb_store *st, int64_t now, size_t limit,
            crumb_store_record **recs, size_t *n)
{
    sqstore *s = crumb_store_impl(st);
    sqlite3_stmt *q = crumb__sq_stmt(st, s, Q_LIST_ALL);
    if (!q)
        return CRUMB_ESTORE;
    sqlite3_bind_int64(q, 1, now);
    sqlite3_bind_int64(q, 2, limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
    return read_list(st, s, q, "a session", recs, n);
}

static int
sq_destroy_user(crumb_store *st, const char *user,
                const unsigned char *except_key, size_t *count)
{
    sqstore *s = crumb_store_impl(st);
    sqlite3_stmt *q = crumb__sq_stmt(st, s, Q_DESTROY_USER);
    if (!q)
        return CRUMB_ESTORE;
    sqlite3_bind_text(q, 1, user, -1, SQLITE_STATIC);
    if (except_key)
        sqlite3_bind_blob(q, 2, except_key, CRUMB_STORE_KEY_LEN,
                          SQLITE_STATIC);
    int rc = crumb__sq_exec_stmt(st, s, q, "destroy_user");
    if (rc == CRUMB_OK)
        *count = (size_t)sqlite3_changes(s->db);
    return rc;
}

static int
sq_gc(crumb_store *st, int64_t now, size_t *removed)
{
    sqstore *s = crumb_store_impl(st);
    static const int ids[] = {Q_GC_SESSIONS, Q_GC_KV, Q_GC_COUNTERS,
                              Q_GC_LOG_ITEMS, Q_GC_LOG_HEADS};
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        sqlite3_stmt *q = crumb__sq_stmt(st, s, ids[i]);
        if (!q)
            return CRUMB_ESTORE;
        sqlite3_bind_int64(q, 1, now);
        int rc = crumb__sq_exec_stmt(st, s, q, "gc");
        if (rc != CRUMB_OK)
            return rc;
        if (i == 0)
            *removed = (size_t)sqlite3_changes(s->db);
    }
    return CRUMB_OK;
}

const crumb_store_ops crumb__store_sqlite_ops = {
    .version = CRUMB_STORE_OPS_VERSION,
    .scheme = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .load = sq_load,
    .save = sq_save,
    .destroy = sq_destroy,
    .touch = sq_touch,
    .list_user = sq_list_user,
    .destroy_user = sq_destroy_user,
    .gc = sq_gc,
    .incr_counter = crumb__sq_incr_counter,
    .kv_set = crumb__sq_kv_set,
    .kv_get = crumb__sq_kv_get,
    .kv_del = crumb__sq_kv_del,
    .list_all = sq_list_all,
    .log_append = crumb__sq_log_append,
    .log_scan = crumb__sq_log_scan,
    .log_append_many = crumb__sq_log_append_many,
};
