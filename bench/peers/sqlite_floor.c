/* sqlite_floor.c - bare SQLite doing what crumb's sqlite store must do
 * per /visits request, with crumb's settings: the store's own ceiling. */
#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/*
 * Per iteration, on one session record (the table and SQL of
 * src/store/sqlite.c):
 *   1. a read transaction: the load SELECT (autocommit);
 *   2. a write transaction: the compare-and-set, one UPDATE of data,
 *      version and last_seen WHERE key = ? AND version = <loaded>
 *      (autocommit), once the process' writers have queued on one mutex
 *      as crumb's do. With -x, the write transaction is crumb's own
 *      shape instead: BEGIN IMMEDIATE, SELECT the version, UPDATE,
 *      COMMIT.
 * THREADS threads share SESSIONS records, thread t taking records t,
 * t + THREADS, ... in turn (as bench_iface_store does), for SECONDS. No
 * JSON, no hashing, no HTTP, no analytics: what is left is SQLite's own
 * cost for the two transactions, which no store built on it goes under.
 *
 * Settings as crumb's store: WAL, synchronous=NORMAL, a 5 s busy timeout,
 * a checkpoint every 1,000 WAL pages, statements prepared once,
 * connections opened with SQLITE_OPEN_NOMUTEX, one connection per thread
 * (crumb's pool gives each request thread its own handle); -1 makes the
 * threads share one connection behind a mutex instead.
 *
 * Prints iterations (a read and a write transaction each) per second,
 * the process' CPU time (user + system, getrusage) per iteration, and
 * the conflicts (a version that moved between the load and the update:
 * only when threads share records).
 *
 * Usage: sqlite_floor [-t THREADS] [-s SESSIONS] [-d SECONDS]
 *                     [-c CHECKPOINT_PAGES] [-f FILE] [-1] [-x]
 *   defaults: 8 threads, 64 sessions, 5 s, 1000 pages, a new file in a
 *   temporary directory (removed at exit).
 */

#define KEY_LEN 32

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS sessions ("
    " key BLOB PRIMARY KEY, data BLOB NOT NULL, version INTEGER NOT NULL,"
    " created INTEGER NOT NULL, last_seen INTEGER NOT NULL,"
    " expires_at INTEGER NOT NULL, user TEXT NOT NULL, addr TEXT NOT NULL,"
    " agent TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS sessions_user ON sessions (user);"
    "CREATE INDEX IF NOT EXISTS sessions_expires ON sessions (expires_at);";

static const char load_sql[] =
    "SELECT data, version, created, last_seen, expires_at, user, addr,"
    " agent FROM sessions WHERE key = ?1";
static const char version_sql[] =
    "SELECT version FROM sessions WHERE key = ?1";
/* The columns crumb's save rewrites when the user and expiry stay. */
static const char update_sql[] =
    "UPDATE sessions SET data = ?2, version = ?3 + 1, created = ?5,"
    " last_seen = ?4, addr = ?6, agent = ?7 WHERE key = ?1";
static const char cas_sql[] =
    "UPDATE sessions SET data = ?2, version = ?3 + 1, created = ?5,"
    " last_seen = ?4, addr = ?6, agent = ?7 WHERE key = ?1"
    " AND version = ?3";
static const char insert_sql[] =
    "INSERT INTO sessions (key, data, version, created, last_seen,"
    " expires_at, user, addr, agent) VALUES (?1, ?2, 1, ?3, ?3, ?4, '',"
    " '127.0.0.1', 'wrk')";

typedef struct conn {
    sqlite3 *db;
    sqlite3_stmt *load, *cas, *begin, *version, *update, *commit;
    pthread_mutex_t lock; /* the connection (shared mode) */
} conn;

typedef struct worker {
    conn *c;
    int first, step;
    long iterations, conflicts, errors;
} worker;

static int nsessions = 64, checkpoint = 1000, shared, crumb_shape;
static sqlite3_int64 created; /* every record's creation time */
static atomic_int stop;
static pthread_mutex_t write_lock = PTHREAD_MUTEX_INITIALIZER;

static void
die(sqlite3 *db, const char *what)
{
    fprintf(stderr, "sqlite_floor: %s: %s\n", what,
            db ? sqlite3_errmsg(db) : "out of memory");
    exit(1);
}

static void
key_of(int i, unsigned char key[KEY_LEN])
{
    memset(key, 0xa5, KEY_LEN);
    memcpy(key, &i, sizeof i);
}

static void
conn_open(conn *c, const char *path, int create)
{
    if (sqlite3_open_v2(path, &c->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                            SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK)
        die(c->db, "open");
    sqlite3_busy_timeout(c->db, 5000);
    char pragmas[200];
    snprintf(pragmas, sizeof pragmas,
             "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
             " PRAGMA wal_autocheckpoint = %d;",
             checkpoint);
    if (sqlite3_exec(c->db, pragmas, NULL, NULL, NULL) != SQLITE_OK)
        die(c->db, "pragmas");
    if (create && sqlite3_exec(c->db, schema, NULL, NULL, NULL) != SQLITE_OK)
        die(c->db, "schema");
    const struct {
        const char *sql;
        sqlite3_stmt **q;
    } st[] = {{load_sql, &c->load},       {cas_sql, &c->cas},
              {"BEGIN IMMEDIATE", &c->begin}, {version_sql, &c->version},
              {update_sql, &c->update},   {"COMMIT", &c->commit}};
    for (size_t i = 0; i < sizeof st / sizeof st[0]; i++)
        if (sqlite3_prepare_v3(c->db, st[i].sql, -1,
                               SQLITE_PREPARE_PERSISTENT, st[i].q,
                               NULL) != SQLITE_OK)
            die(c->db, "prepare");
    pthread_mutex_init(&c->lock, NULL);
}

static void
conn_close(conn *c)
{
    sqlite3_stmt *all[] = {c->load,    c->cas,    c->begin,
                           c->version, c->update, c->commit};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        sqlite3_finalize(all[i]);
    sqlite3_close(c->db);
    pthread_mutex_destroy(&c->lock);
}

/* The read transaction: the record's version, or 0 when it is missing. */
static sqlite3_int64
load(conn *c, const unsigned char *key)
{
    sqlite3_int64 version = 0;
    if (shared)
        pthread_mutex_lock(&c->lock);
    sqlite3_bind_blob(c->load, 1, key, KEY_LEN, SQLITE_STATIC);
    if (sqlite3_step(c->load) == SQLITE_ROW &&
        sqlite3_column_type(c->load, 0) == SQLITE_BLOB) {
        /* what the store copies out of the row */
        char buf[512];
        int n = sqlite3_column_bytes(c->load, 0);
        memcpy(buf, sqlite3_column_blob(c->load, 0),
               (size_t)n < sizeof buf ? (size_t)n : sizeof buf);
        version = sqlite3_column_int64(c->load, 1);
        for (int col = 2; col < 5; col++)
            (void)sqlite3_column_int64(c->load, col);
        for (int col = 5; col < 8; col++)
            memcpy(buf, sqlite3_column_text(c->load, col),
                   (size_t)sqlite3_column_bytes(c->load, col));
    }
    sqlite3_reset(c->load);
    if (shared)
        pthread_mutex_unlock(&c->lock);
    return version;
}

/* Steps a statement without rows; SQLITE_DONE or the error. */
static int
exec(sqlite3_stmt *q)
{
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    return rc;
}

/* crumb's write transaction: BEGIN IMMEDIATE, read the version, UPDATE
 * when it is the expected one, COMMIT. 1 done, 0 conflict, -1 error. */
static int
cas_crumb(conn *c, const unsigned char *key, sqlite3_int64 version,
          const char *data, int len, sqlite3_int64 now)
{
    if (exec(c->begin) != SQLITE_DONE)
        return -1;
    sqlite3_bind_blob(c->version, 1, key, KEY_LEN, SQLITE_STATIC);
    int rc = sqlite3_step(c->version);
    int same = rc == SQLITE_ROW &&
               sqlite3_column_int64(c->version, 0) == version;
    sqlite3_reset(c->version);
    if (same) {
        sqlite3_bind_blob(c->update, 1, key, KEY_LEN, SQLITE_STATIC);
        sqlite3_bind_blob(c->update, 2, data, len, SQLITE_STATIC);
        sqlite3_bind_int64(c->update, 3, version);
        sqlite3_bind_int64(c->update, 4, now);
        sqlite3_bind_int64(c->update, 5, created);
        sqlite3_bind_text(c->update, 6, "127.0.0.1", -1, SQLITE_STATIC);
        sqlite3_bind_text(c->update, 7, "wrk", -1, SQLITE_STATIC);
        rc = exec(c->update);
    }
    if (exec(c->commit) != SQLITE_DONE ||
        (rc != SQLITE_DONE && rc != SQLITE_ROW))
        return -1;
    return same;
}

/* The write transaction: 1 done, 0 conflict, -1 error. */
static int
cas(conn *c, const unsigned char *key, sqlite3_int64 version,
    const char *data, int len, sqlite3_int64 now)
{
    int r;
    pthread_mutex_lock(&write_lock);
    if (shared)
        pthread_mutex_lock(&c->lock);
    if (crumb_shape) {
        r = cas_crumb(c, key, version, data, len, now);
    } else {
        sqlite3_bind_blob(c->cas, 1, key, KEY_LEN, SQLITE_STATIC);
        sqlite3_bind_blob(c->cas, 2, data, len, SQLITE_STATIC);
        sqlite3_bind_int64(c->cas, 3, version);
        sqlite3_bind_int64(c->cas, 4, now);
        sqlite3_bind_int64(c->cas, 5, created);
        sqlite3_bind_text(c->cas, 6, "127.0.0.1", -1, SQLITE_STATIC);
        sqlite3_bind_text(c->cas, 7, "wrk", -1, SQLITE_STATIC);
        r = exec(c->cas) != SQLITE_DONE ? -1 : sqlite3_changes(c->db) == 1;
    }
    if (shared)
        pthread_mutex_unlock(&c->lock);
    pthread_mutex_unlock(&write_lock);
    return r;
}

static void *
run(void *arg)
{
    worker *w = arg;
    unsigned char key[KEY_LEN];
    char data[128];
    int k = w->first % nsessions;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        key_of(k, key);
        sqlite3_int64 v = load(w->c, key);
        int len = snprintf(data, sizeof data,
                           "{\"_csrf\":\"0123456789abcdef0123456789abcdef"
                           "01234567\",\"visits\":%lld}",
                           (long long)v);
        int r = v ? cas(w->c, key, v, data, len, (sqlite3_int64)time(NULL))
                  : -1;
        if (r < 0)
            w->errors++;
        else if (r == 0)
            w->conflicts++;
        w->iterations++;
        k = (k + w->step) % nsessions;
    }
    return NULL;
}

static double
cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static double
mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
populate(const char *path)
{
    conn c;
    conn_open(&c, path, 1);
    sqlite3_stmt *ins = NULL;
    if (sqlite3_prepare_v2(c.db, insert_sql, -1, &ins, NULL) != SQLITE_OK ||
        sqlite3_exec(c.db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        die(c.db, "schema");
    sqlite3_int64 now = created = (sqlite3_int64)time(NULL);
    for (int i = 0; i < nsessions; i++) {
        unsigned char key[KEY_LEN];
        key_of(i, key);
        sqlite3_bind_blob(ins, 1, key, KEY_LEN, SQLITE_TRANSIENT);
        sqlite3_bind_blob(ins, 2, "{\"visits\":0}", 12, SQLITE_STATIC);
        sqlite3_bind_int64(ins, 3, now);
        sqlite3_bind_int64(ins, 4, now + 31 * 86400);
        if (sqlite3_step(ins) != SQLITE_DONE)
            die(c.db, "insert");
        sqlite3_reset(ins);
    }
    if (sqlite3_exec(c.db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        die(c.db, "commit");
    sqlite3_finalize(ins);
    conn_close(&c);
}

int
main(int argc, char **argv)
{
    int threads = 8, seconds = 5, opt;
    const char *file = NULL;
    while ((opt = getopt(argc, argv, "t:s:d:c:f:1x")) != -1) {
        switch (opt) {
        case 't': threads = atoi(optarg); break;
        case 's': nsessions = atoi(optarg); break;
        case 'd': seconds = atoi(optarg); break;
        case 'c': checkpoint = atoi(optarg); break;
        case 'f': file = optarg; break;
        case '1': shared = 1; break;
        case 'x': crumb_shape = 1; break;
        default:
            fprintf(stderr, "usage: %s [-t THREADS] [-s SESSIONS] "
                            "[-d SECONDS] [-c CHECKPOINT_PAGES] [-f FILE] "
                            "[-1] [-x]\n", argv[0]);
            return 2;
        }
    }
    if (threads < 1 || threads > 256 || nsessions < 1 || seconds < 1)
        return 2;
    char dir[] = "/tmp/sqlite_floor.XXXXXX", path[64];
    if (!file) {
        if (!mkdtemp(dir)) {
            perror("mkdtemp");
            return 1;
        }
        snprintf(path, sizeof path, "%s/floor.db", dir);
        file = path;
    }
    populate(file);

    int nconn = shared ? 1 : threads;
    conn *conns = calloc((size_t)nconn, sizeof *conns);
    worker *w = calloc((size_t)threads, sizeof *w);
    pthread_t *th = calloc((size_t)threads, sizeof *th);
    if (!conns || !w || !th)
        die(NULL, "start");
    for (int i = 0; i < nconn; i++)
        conn_open(&conns[i], file, 0);
    double c0 = cpu_seconds(), t0 = mono();
    for (int i = 0; i < threads; i++) {
        w[i] = (worker){&conns[shared ? 0 : i], i, threads, 0, 0, 0};
        pthread_create(&th[i], NULL, run, &w[i]);
    }
    sleep((unsigned)seconds);
    atomic_store(&stop, 1);
    long it = 0, conflicts = 0, errors = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(th[i], NULL);
        it += w[i].iterations;
        conflicts += w[i].conflicts;
        errors += w[i].errors;
    }
    double wall = mono() - t0, cpu = cpu_seconds() - c0;
    printf("sqlite_floor: %d threads, %d sessions, %s connection%s,"
           " checkpoint %d, %s: %.0f iterations/s (%.0f transactions/s),"
           " %.2f us CPU/iteration, %ld conflicts, %ld errors\n",
           threads, nsessions, shared ? "one shared" : "per-thread",
           shared ? "" : "s", checkpoint,
           crumb_shape ? "crumb's write transaction" : "one-statement CAS",
           (double)it / wall,
           2.0 * (double)it / wall, cpu * 1e6 / (double)(it ? it : 1),
           conflicts, errors);
    for (int i = 0; i < nconn; i++)
        conn_close(&conns[i]);
    free(conns);
    free(w);
    free(th);
    if (file == path) {
        static const char *const sfx[] = {"", "-wal", "-shm"};
        for (int i = 0; i < 3; i++) {
            char p[80];
            snprintf(p, sizeof p, "%s%s", path, sfx[i]);
            if (unlink(p) != 0 && errno != ENOENT)
                perror(p);
        }
        rmdir(dir);
    }
    return errors ? 1 : 0;
}
