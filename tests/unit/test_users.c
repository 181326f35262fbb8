/* test_users.c - the user database on SQLite and Redis: accounts, logins. */
#include <sys/stat.h>
#include <time.h>

#include <hiredis/hiredis.h>
#include <sqlite3.h>

#include <crumb/auth.h>
#include <crumb/error.h>

#include "test.h"

/* werkzeug 3.1.8, from tests/vectors/werkzeug_hashes.txt: "pässword". */
static const char pbkdf2_hash[] =
    "pbkdf2:sha256:1000$CSYjoNrivFuHJfws$3b667e830fdb0a4fc687b275a8accafd9a"
    "2c3fcead3d21753e26d953a5b41a63";

static char dir[64];

/*
 * The backend-neutral tests run once on SQLite and, when
 * CRUMB_TEST_REDIS=HOST:PORT is set (tests/run.sh starts a redis-server),
 * once more on Redis, each test under a key prefix of its own.
 */
static const char *g_redis; /* HOST:PORT or NULL */
static int g_on_redis;      /* the current run's backend */
static char g_prefix[48];

/* A fresh, empty database for this test in the current backend. */
static const char *
fresh_uri(const char *file)
{
    static char uri[256];
    if (!g_on_redis) {
        snprintf(uri, sizeof uri, "sqlite:%s/%s", dir[0] ? dir : "/tmp",
                 file);
        return uri;
    }
    snprintf(g_prefix, sizeof g_prefix, "tu%ld_%s", (long)getpid(), file);
    char *dot = strchr(g_prefix, '.');
    if (dot)
        *dot = '\0';
    snprintf(uri, sizeof uri, "redis://%s/0?prefix=%s", g_redis, g_prefix);
    return uri;
}

/* A raw Redis command for what the API does not show; the reply's
 * string (or integer as text) in a static buffer. */
static const char *
redis_raw(const char *fmt, const char *a, const char *b, const char *c)
{
    static char buf[512];
    char host[128];
    snprintf(host, sizeof host, "%s", g_redis);
    char *colon = strrchr(host, ':');
    CHECK(colon != NULL);
    *colon = '\0';
    redisContext *rc = redisConnect(host, atoi(colon + 1));
    CHECK(rc && !rc->err);
    redisReply *r = redisCommand(rc, fmt, a, b, c);
    CHECK(r != NULL);
    buf[0] = '\0';
    if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS)
        snprintf(buf, sizeof buf, "%s", r->str);
    else if (r->type == REDIS_REPLY_INTEGER)
        snprintf(buf, sizeof buf, "%lld", r->integer);
    freeReplyObject(r);
    redisFree(rc);
    return buf;
}

/* A fresh directory per test (each test runs in its own process). */
static const char *
tmp_path(const char *name)
{
    static char path[128];
    if (!dir[0]) {
        strcpy(dir, "/tmp/crumb-users.XXXXXX");
        CHECK(mkdtemp(dir) != NULL);
    }
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

static void
cleanup_dir(void)
{
    if (!dir[0])
        return;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

static crumb_users *
open_ok(const char *uri)
{
    crumb_users *db = NULL;
    int rc = crumb_users_open(&db, uri);
    if (rc != CRUMB_OK)
        T_FAIL_("open %s: %s (%s)", uri, crumb_errname(rc),
                db ? crumb_users_errmsg(db) : "-");
    return db;
}

/* Raw SQL for what the API does not show. */
static void
raw_exec(const char *path, const char *sql)
{
    sqlite3 *s = NULL;
    CHECK(sqlite3_open(path, &s) == SQLITE_OK);
    sqlite3_busy_timeout(s, 5000);
    char *err = NULL;
    if (sqlite3_exec(s, sql, NULL, NULL, &err) != SQLITE_OK)
        T_FAIL_("%s: %s", sql, err);
    sqlite3_close(s);
}

/* The first column of the first row, as text, into a static buffer. */
static const char *
raw_query(const char *path, const char *sql)
{
    static char buf[512];
    sqlite3 *s = NULL;
    sqlite3_stmt *st = NULL;
    CHECK(sqlite3_open(path, &s) == SQLITE_OK);
    CHECK(sqlite3_prepare_v2(s, sql, -1, &st, NULL) == SQLITE_OK);
    buf[0] = '\0';
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        snprintf(buf, sizeof buf, "%s", sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(s);
    return buf;
}

/* The stored password hash of @name, whatever the backend. */
static const char *
stored_hash(const char *uri, const char *name)
{
    if (g_on_redis) {
        char k[128];
        snprintf(k, sizeof k, "%s:user:%s", g_prefix, name);
        return redis_raw("HGET %s %s", k, "hash", NULL);
    }
    char sql[128];
    snprintf(sql, sizeof sql,
             "SELECT password_hash FROM users WHERE username = '%s'", name);
    return raw_query(uri + 7, sql);
}

static const char *
stored_changed(const char *uri, const char *name)
{
    if (g_on_redis) {
        char k[128];
        snprintf(k, sizeof k, "%s:user:%s", g_prefix, name);
        return redis_raw("HGET %s %s", k, "password_changed", NULL);
    }
    char sql[128];
    snprintf(sql, sizeof sql,
             "SELECT password_changed FROM users WHERE username = '%s'", name);
    return raw_query(uri + 7, sql);
}

/* Sets password_changed to 7, as an old record would have it. */
static void
set_changed_7(const char *uri, const char *name)
{
    if (g_on_redis) {
        char k[128];
        snprintf(k, sizeof k, "%s:user:%s", g_prefix, name);
        redis_raw("HSET %s %s %s", k, "password_changed", "7");
        return;
    }
    raw_exec(uri + 7, "UPDATE users SET password_changed = 7");
}

static void
cleanup_backend(void)
{
    if (g_on_redis) {
        char pat[80];
        snprintf(pat, sizeof pat, "%s:*", g_prefix);
        /* SCAN-free: the test's keys are few; KEYS is fine on a private
         * server. */
        redis_raw("EVAL %s 0 %s", "for _,k in ipairs(redis.call('KEYS',"
                                  " ARGV[1])) do redis.call('DEL', k) end",
                  pat, NULL);
    }
    cleanup_dir();
}

TEST(open_uris)
{
    crumb_users *db = (crumb_users *)1;
    CHECK_RC(crumb_users_open(NULL, ":memory:"), CRUMB_EINVAL);
    CHECK_RC(crumb_users_open(&db, NULL), CRUMB_EINVAL);
    CHECK(db == NULL);
    CHECK_RC(crumb_users_open(&db, ""), CRUMB_EINVAL);
    CHECK_RC(crumb_users_open(&db, "sqlite:"), CRUMB_EINVAL);
    CHECK_RC(crumb_users_open(&db, "redis://"), CRUMB_EINVAL);
    CHECK_RC(crumb_users_open(&db, "redis://h:0/0"), CRUMB_EINVAL);
    CHECK_RC(crumb_users_open(&db, "redis://h:6379/0?nope=1"), CRUMB_EINVAL);
    CHECK_RC(crumb_users_open(&db, "memory:"), CRUMB_EINVAL);
    CHECK(db == NULL);
    crumb_users_close(open_ok(":memory:"));
    crumb_users_close(open_ok("sqlite::memory:"));
    crumb_users_close(NULL);

    char uri[160];
    snprintf(uri, sizeof uri, "sqlite:%s", tmp_path("a.db"));
    crumb_users_close(open_ok(uri));
    crumb_users_close(open_ok(tmp_path("b.db")));
    struct stat sa, sb;
    CHECK(stat(tmp_path("a.db"), &sa) == 0 && stat(tmp_path("b.db"), &sb) == 0);
    cleanup_dir();
}

TEST(open_failure_has_message)
{
    crumb_users *db = NULL;
    CHECK_RC(crumb_users_open(&db, "/nonexistent-dir/x/users.db"),
             CRUMB_ESTORE);
    CHECK(db != NULL);
    CHECK(strstr(crumb_users_errmsg(db), "No such file") != NULL);
    crumb_user u;
    CHECK_RC(crumb_users_get(db, "alice", &u), CRUMB_EINVAL);
    crumb_users_close(db);
}

/* The file and its WAL companions are 0600 whatever the umask; the schema
 * is version 1 with the documented columns; WAL is on. */
TEST(file_mode_schema_wal)
{
    umask(0);
    const char *path = tmp_path("users.db");
    char p[160];
    snprintf(p, sizeof p, "%s", path);
    crumb_users *db = open_ok(p);
    CHECK_RC(crumb_users_add(db, "alice", NULL, pbkdf2_hash, NULL, NULL),
             CRUMB_OK);
    struct stat st;
    static const char *const suffix[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        char f[180];
        snprintf(f, sizeof f, "%s%s", p, suffix[i]);
        if (stat(f, &st) != 0)
            T_FAIL_("%s missing", f);
        if ((st.st_mode & 0777) != 0600)
            T_FAIL_("%s has mode %o", f, (unsigned)(st.st_mode & 0777));
    }
    CHECK_STR(raw_query(p, "PRAGMA user_version"), "1");
    CHECK_STR(raw_query(p, "PRAGMA journal_mode"), "wal");
    CHECK_STR(raw_query(p, "SELECT group_concat(name || ':' || type || ':' ||"
                           " \"notnull\" || ':' || ifnull(dflt_value, ''),"
                           " ' ') FROM pragma_table_info('users')"),
              "id:INTEGER:0: username:TEXT:1: password_hash:TEXT:1: "
              "roles:TEXT:1:'user' created:INTEGER:0: "
              "password_changed:INTEGER:0:");
    crumb_users_close(db);
    /* Reopening keeps the data and the schema. */
    db = open_ok(p);
    CHECK_RC(crumb_users_get(db, "alice", NULL), CRUMB_OK);
    crumb_users_close(db);
    cleanup_dir();
}

TEST(newer_schema_refused)
{
    char p[160];
    snprintf(p, sizeof p, "%s", tmp_path("users.db"));
    raw_exec(p, "PRAGMA user_version = 2");
    crumb_users *db = NULL;
    CHECK_RC(crumb_users_open(&db, p), CRUMB_ESTORE);
    CHECK(db != NULL);
    CHECK(strstr(crumb_users_errmsg(db), "schema version: 2") != NULL);
    crumb_users_close(db);
    cleanup_dir();
}

TEST(add_get_list)
{
    tmp_path("x");
    crumb_users *db = open_ok(fresh_uri("agl.db"));
    crumb_user a, b, c;
    time_t before = time(NULL);
    CHECK_RC(crumb_users_add(db, "alice", "pässword!", NULL, "user,admin", &a),
             CRUMB_OK);
    CHECK_INT(a.id, >, 0);
    CHECK_STR(a.username, "alice");
    CHECK_STR(a.roles, "user,admin");
    CHECK_INT(a.created, >=, before);
    CHECK_INT(a.created, <=, time(NULL));
    CHECK_INT(a.password_changed, ==, a.created);
    /* Imported hash; roles default to "user"; names are case-sensitive. */
    CHECK_RC(crumb_users_add(db, "Alice", NULL, pbkdf2_hash, NULL, &b),
             CRUMB_OK);
    CHECK_STR(b.roles, "user");
    CHECK(b.id != a.id);
    CHECK_RC(crumb_users_add(db, "alice", NULL, pbkdf2_hash, NULL, NULL),
             CRUMB_EEXIST);
    CHECK(strstr(crumb_users_errmsg(db), "alice") != NULL);

    CHECK_RC(crumb_users_get(db, "alice", &c), CRUMB_OK);
    CHECK_INT(c.id, ==, a.id);
    CHECK_STR(c.roles, "user,admin");
    CHECK_RC(crumb_users_get_by_id(db, b.id, &c), CRUMB_OK);
    CHECK_STR(c.username, "Alice");
    CHECK_RC(crumb_users_get(db, "nobody", &c), CRUMB_ENOTFOUND);
    CHECK_RC(crumb_users_get(db, "x y", &c), CRUMB_ENOTFOUND);
    CHECK_RC(crumb_users_get_by_id(db, 9999, &c), CRUMB_ENOTFOUND);

    CHECK_RC(crumb_users_add(db, "bob.b-1_", NULL, pbkdf2_hash, "viewer", NULL),
             CRUMB_OK);
    crumb_user *all = NULL;
    size_t n = 0;
    CHECK_RC(crumb_users_list(db, &all, &n), CRUMB_OK);
    CHECK_INT(n, ==, 3);
    CHECK_STR(all[0].username, "Alice"); /* BINARY order: upper case first */
    CHECK_STR(all[1].username, "alice");
    CHECK_STR(all[2].username, "bob.b-1_");
    CHECK_STR(all[2].roles, "viewer");
    free(all);
    crumb_users_close(db);
    cleanup_backend();
}

TEST(add_invalid)
{
    tmp_path("x");
    crumb_users *db = open_ok(fresh_uri("inv.db"));
    char long_name[40], long_roles[140];
    memset(long_name, 'a', 33);
    long_name[33] = '\0';
    memset(long_roles, 'r', 129);
    long_roles[129] = '\0';
    static const char pw[] = "long enough";
    CHECK_RC(crumb_users_add(NULL, "alice", pw, NULL, NULL, NULL),
             CRUMB_EINVAL);
    CHECK_RC(crumb_users_add(db, NULL, pw, NULL, NULL, NULL), CRUMB_EINVAL);
    CHECK_RC(crumb_users_add(db, "ab", pw, NULL, NULL, NULL), CRUMB_EINVAL);
    CHECK_RC(crumb_users_add(db, "a b", pw, NULL, NULL, NULL), CRUMB_EINVAL);
    CHECK_RC(crumb_users_add(db, "al'ice", pw, NULL, NULL, NULL), CRUMB_EINVAL);
    CHECK_RC(crumb_users_add(db, long_name, pw, NULL, NULL, NULL),
             CRUMB_EINVAL);
    CHECK_RC(crumb_users_add(db, "alice", "short", NULL, NULL, NULL),
             CRUMB_EINVAL);
    /* 7 characters in 8 bytes: too short, counted in characters. */
    CHECK_RC(crumb_users_add(db, "alice", "pässwor", NULL, NULL, NULL),
             CRUMB_EINVAL);
    CHECK_RC(crumb_users_add(db, "alice", NULL, NULL, NULL, NULL),
             CRUMB_EINVAL);
    CHECK_RC(crumb_users_add(db, "alice", NULL, "nonsense", NULL, NULL),
             CRUMB_EINVAL);
    CHECK_RC(crumb_users_add(db, "alice", NULL,
                             "pbkdf2:sha1:1000$CSYjoNrivFuHJfws$3b667e830fdb"
                             "0a4fc687b275a8accafd9a2c3fcead3d21753e26d953a5"
                             "b41a63",
                             NULL, NULL),
             CRUMB_EINVAL);
    const char *const bad_roles[] = {"",     ",",          "user,", ",user",
                                     "a,,b", "user admin", "ädmin", long_roles};
    for (size_t i = 0; i < sizeof bad_roles / sizeof bad_roles[0]; i++)
        CHECK_RC(
            crumb_users_add(db, "alice", NULL, pbkdf2_hash, bad_roles[i], NULL),
            CRUMB_EINVAL);
    crumb_user *all = NULL;
    size_t n = 5;
    CHECK_RC(crumb_users_list(db, &all, &n), CRUMB_OK);
    CHECK_INT(n, ==, 0);
    free(all);
    crumb_users_close(db);
    cleanup_backend();
}

/* CPU time of this thread: the work done, whatever else the machine runs
 * (wall time made this check flaky on a busy 2-core machine). */
static double
seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) +
           (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

TEST(authenticate)
{
    tmp_path("x");
    crumb_users *db = open_ok(fresh_uri("auth.db"));
    crumb_user a, u;
    CHECK_RC(crumb_users_add(db, "alice", "pässword!", NULL, NULL, &a),
             CRUMB_OK);
    memset(&u, 0, sizeof u);
    CHECK_RC(crumb_users_authenticate(db, "alice", "pässword!", &u), CRUMB_OK);
    CHECK_INT(u.id, ==, a.id);
    CHECK_STR(u.username, "alice");

    struct timespec t0;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
    CHECK_RC(crumb_users_authenticate(db, "alice", "password!", &u),
             CRUMB_EBADSIG);
    double wrong = seconds_since(&t0);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
    CHECK_RC(crumb_users_authenticate(db, "mallory", "pässword!", &u),
             CRUMB_EBADSIG);
    double unknown = seconds_since(&t0);
    /* Same work either way: a real scrypt. */
    if (unknown < wrong / 4 || wrong < unknown / 4)
        T_FAIL_("wrong password %.3fs, unknown user %.3fs", wrong, unknown);

    CHECK_RC(crumb_users_authenticate(db, "a'b", "pässword!", &u),
             CRUMB_EBADSIG);
    CHECK_RC(crumb_users_authenticate(db, "alice", NULL, &u), CRUMB_EBADSIG);
    CHECK_RC(crumb_users_authenticate(db, "ALICE", "pässword!", NULL),
             CRUMB_EBADSIG);
    crumb_users_close(db);
    cleanup_backend();
}

/* An imported pbkdf2 hash logs in and is replaced by crumb's scrypt; a
 * failed login leaves it alone. */
TEST(pbkdf2_rehash)
{
    tmp_path("x");
    char p[256];
    snprintf(p, sizeof p, "%s", fresh_uri("users.db"));
    crumb_users *db = open_ok(p);
    crumb_user u;
    CHECK_RC(crumb_users_add(db, "bob", NULL, pbkdf2_hash, NULL, NULL),
             CRUMB_OK);
    set_changed_7(p, "bob");
    CHECK_RC(crumb_users_authenticate(db, "bob", "password", &u),
             CRUMB_EBADSIG);
    CHECK_STR(stored_hash(p, "bob"), pbkdf2_hash);

    CHECK_RC(crumb_users_authenticate(db, "bob", "pässword", &u), CRUMB_OK);
    CHECK_STR(u.username, "bob");
    char stored[512];
    snprintf(stored, sizeof stored, "%s", stored_hash(p, "bob"));
    CHECK(strncmp(stored, "scrypt:32768:8:1$", 17) == 0);
    CHECK_INT(crumb_password_needs_rehash(stored), ==, 0);
    /* A rehash is not a password change. */
    CHECK_STR(stored_changed(p, "bob"), "7");
    CHECK_RC(crumb_users_authenticate(db, "bob", "pässword", &u), CRUMB_OK);
    CHECK_STR(stored_hash(p, "bob"), stored);
    crumb_users_close(db);
    cleanup_backend();
}

TEST(unreadable_hash_refused)
{
    char p[160];
    snprintf(p, sizeof p, "%s", tmp_path("users.db"));
    crumb_users *db = open_ok(p);
    raw_exec(p, "INSERT INTO users (username, password_hash) "
                "VALUES ('carol', 'md5$salt$abc')");
    crumb_user u;
    CHECK_RC(crumb_users_get(db, "carol", &u), CRUMB_OK);
    CHECK_STR(u.roles, "user");
    CHECK_RC(crumb_users_authenticate(db, "carol", "anything", &u),
             CRUMB_EBADSIG);
    CHECK(strstr(crumb_users_errmsg(db), "carol") != NULL);
    crumb_users_close(db);
    cleanup_dir();
}

TEST(change_and_delete)
{
    tmp_path("x");
    char p[256];
    snprintf(p, sizeof p, "%s", fresh_uri("users.db"));
    crumb_users *db = open_ok(p);
    crumb_user u;
    CHECK_RC(crumb_users_add(db, "dave", NULL, pbkdf2_hash, NULL, NULL),
             CRUMB_OK);
    set_changed_7(p, "dave");

    CHECK_RC(crumb_users_set_password(db, "dave", "short"), CRUMB_EINVAL);
    CHECK_RC(crumb_users_set_password(db, "dave", NULL), CRUMB_EINVAL);
    CHECK_RC(crumb_users_set_password(db, "nobody", "new password"),
             CRUMB_ENOTFOUND);
    CHECK_RC(crumb_users_set_password(db, "dave", "new password"), CRUMB_OK);
    CHECK_RC(crumb_users_get(db, "dave", &u), CRUMB_OK);
    CHECK_INT(u.password_changed, >, 7);
    CHECK_RC(crumb_users_authenticate(db, "dave", "pässword", &u),
             CRUMB_EBADSIG);
    CHECK_RC(crumb_users_authenticate(db, "dave", "new password", &u),
             CRUMB_OK);

    CHECK_RC(crumb_users_set_roles(db, "dave", "user,,admin"), CRUMB_EINVAL);
    CHECK_RC(crumb_users_set_roles(db, "nobody", "admin"), CRUMB_ENOTFOUND);
    CHECK_RC(crumb_users_set_roles(db, "dave", "user,admin"), CRUMB_OK);
    CHECK_RC(crumb_users_get(db, "dave", &u), CRUMB_OK);
    CHECK_STR(u.roles, "user,admin");
    CHECK_INT(crumb_user_has_role(&u, "admin"), ==, 1);
    CHECK_RC(crumb_users_set_roles(db, "dave", NULL), CRUMB_OK);
    CHECK_RC(crumb_users_get(db, "dave", &u), CRUMB_OK);
    CHECK_STR(u.roles, "user");

    CHECK_RC(crumb_users_delete(db, "nobody"), CRUMB_ENOTFOUND);
    CHECK_RC(crumb_users_delete(db, "dave"), CRUMB_OK);
    CHECK_RC(crumb_users_get(db, "dave", &u), CRUMB_ENOTFOUND);
    CHECK_RC(crumb_users_delete(db, "dave"), CRUMB_ENOTFOUND);
    crumb_users_close(db);
    cleanup_backend();
}

TEST(has_role_and_names)
{
    crumb_user u;
    memset(&u, 0, sizeof u);
    strcpy(u.roles, "user,admin,ops:read");
    CHECK_INT(crumb_user_has_role(&u, "user"), ==, 1);
    CHECK_INT(crumb_user_has_role(&u, "admin"), ==, 1);
    CHECK_INT(crumb_user_has_role(&u, "ops:read"), ==, 1);
    CHECK_INT(crumb_user_has_role(&u, "adm"), ==, 0);
    CHECK_INT(crumb_user_has_role(&u, "admins"), ==, 0);
    CHECK_INT(crumb_user_has_role(&u, "user,admin"), ==, 0);
    CHECK_INT(crumb_user_has_role(&u, ""), ==, 0);
    CHECK_INT(crumb_user_has_role(&u, NULL), ==, 0);
    CHECK_INT(crumb_user_has_role(NULL, "user"), ==, 0);

    CHECK_INT(crumb_username_valid("abc"), ==, 1);
    CHECK_INT(crumb_username_valid("A.b-c_9"), ==, 1);
    CHECK_INT(crumb_username_valid("abcdefghijklmnopqrstuvwxyz012345"), ==, 1);
    CHECK_INT(crumb_username_valid("abcdefghijklmnopqrstuvwxyz0123456"), ==, 0);
    CHECK_INT(crumb_username_valid("ab"), ==, 0);
    CHECK_INT(crumb_username_valid("a@b.c"), ==, 0);
    CHECK_INT(crumb_username_valid("jöe"), ==, 0);
    CHECK_INT(crumb_username_valid(""), ==, 0);
    CHECK_INT(crumb_username_valid(NULL), ==, 0);
}

/* Two handles on one file see each other's changes, as two worker
 * processes would. */
TEST(two_handles)
{
    tmp_path("x");
    char p[256];
    snprintf(p, sizeof p, "%s", fresh_uri("users.db"));
    crumb_users *a = open_ok(p), *b = open_ok(p);
    crumb_user u;
    CHECK_RC(crumb_users_add(a, "erin", NULL, pbkdf2_hash, NULL, NULL),
             CRUMB_OK);
    CHECK_RC(crumb_users_get(b, "erin", &u), CRUMB_OK);
    CHECK_RC(crumb_users_add(b, "erin", NULL, pbkdf2_hash, NULL, NULL),
             CRUMB_EEXIST);
    CHECK_RC(crumb_users_set_roles(b, "erin", "admin"), CRUMB_OK);
    CHECK_RC(crumb_users_get(a, "erin", &u), CRUMB_OK);
    CHECK_STR(u.roles, "admin");
    CHECK_RC(crumb_users_delete(a, "erin"), CRUMB_OK);
    CHECK_RC(crumb_users_get(b, "erin", &u), CRUMB_ENOTFOUND);
    crumb_users_close(a);
    crumb_users_close(b);
    cleanup_backend();
}

/*
 * @procs processes each add @names users to @uri at once: the same names
 * in every process when @same (a CRUMB_EEXIST is then fine), else names
 * of their own. Fails the test when a process fails.
 */
static void
add_in_processes(const char *uri, int procs, int names, int same)
{
    pid_t pids[8];
    CHECK(procs <= 8);
    for (int i = 0; i < procs; i++) {
        pids[i] = fork();
        CHECK(pids[i] >= 0);
        if (pids[i] == 0) {
            crumb_users *db = NULL;
            if (crumb_users_open(&db, uri) != CRUMB_OK)
                _exit(10);
            for (int j = 0; j < names; j++) {
                char name[32];
                if (same)
                    snprintf(name, sizeof name, "racer%d", j);
                else
                    snprintf(name, sizeof name, "user%d_%d", i, j);
                int rc = crumb_users_add(db, name, NULL, pbkdf2_hash, NULL,
                                         NULL);
                if (rc != CRUMB_OK && !(same && rc == CRUMB_EEXIST))
                    _exit(11);
            }
            crumb_users_close(db);
            _exit(0);
        }
    }
    for (int i = 0; i < procs; i++) {
        int status = 0;
        CHECK(waitpid(pids[i], &status, 0) == pids[i]);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            T_FAIL_("process %d: status %d", i, status);
    }
}

/* Several processes open a new file at once and write to it together;
 * busy_timeout and WAL make every write land. */
TEST(processes_share_file)
{
    enum { PROCS = 4, EACH = 25 };
    tmp_path("x");
    char p[256];
    snprintf(p, sizeof p, "%s", fresh_uri("users.db"));
    add_in_processes(p, PROCS, EACH, 0);
    crumb_users *db = open_ok(p);
    crumb_user *all = NULL;
    size_t n = 0;
    CHECK_RC(crumb_users_list(db, &all, &n), CRUMB_OK);
    CHECK_INT(n, ==, PROCS * EACH);
    free(all);
    crumb_users_close(db);
    cleanup_backend();
}

/* Processes registering the same names at once: each name is created
 * exactly once, the others get CRUMB_EEXIST, ids are all distinct. */
TEST(register_race)
{
    enum { PROCS = 4, NAMES = 20 };
    tmp_path("x");
    char p[256];
    snprintf(p, sizeof p, "%s", fresh_uri("race.db"));
    crumb_users_close(open_ok(p));
    add_in_processes(p, PROCS, NAMES, 1);
    crumb_users *db = open_ok(p);
    crumb_user *all = NULL;
    size_t n = 0;
    CHECK_RC(crumb_users_list(db, &all, &n), CRUMB_OK);
    CHECK_INT(n, ==, NAMES);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            CHECK(all[i].id != all[j].id);
    free(all);
    crumb_users_close(db);
    cleanup_backend();
}

/* Redis: a server that does not answer is CRUMB_EUNAVAIL within the
 * connect timeout, with a message; a record damaged by another tool is
 * a store error, never a crash. */
TEST(redis_down_and_corrupt)
{
    crumb_users *db = NULL;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_RC(crumb_users_open(&db, "redis://127.0.0.1:1/0?"
                                   "connect_timeout_ms=200"),
             CRUMB_EUNAVAIL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK(db != NULL);
    CHECK(strstr(crumb_users_errmsg(db), "127.0.0.1:1") != NULL);
    crumb_users_close(db);
    CHECK_INT(t1.tv_sec - t0.tv_sec, <=, 1);

    char p[256];
    snprintf(p, sizeof p, "%s", fresh_uri("bad.db"));
    db = open_ok(p);
    crumb_user u;
    CHECK_RC(crumb_users_add(db, "frank", NULL, pbkdf2_hash, NULL, &u),
             CRUMB_OK);
    char k[128];
    snprintf(k, sizeof k, "%s:user:frank", g_prefix);
    redis_raw("HSET %s %s %s", k, "id", "not-a-number");
    CHECK_RC(crumb_users_get(db, "frank", &u), CRUMB_ESTORE);
    CHECK_RC(crumb_users_authenticate(db, "frank", "pässword", &u),
             CRUMB_ESTORE);
    redis_raw("HSET %s %s %s", k, "id", "1");
    redis_raw("HSET %s %s %s", k, "roles",
              "rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr"
              "rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr"
              "rrrrrrrrrrrrrrrrrrrr");
    CHECK_RC(crumb_users_get(db, "frank", &u), CRUMB_ESTORE);
    crumb_users_close(db);
    cleanup_backend();
}

int
main(void)
{
    TEST_BEGIN();
    RUN(open_uris);
    RUN(open_failure_has_message);
    RUN(file_mode_schema_wal);
    RUN(newer_schema_refused);
    RUN(unreadable_hash_refused);
    RUN(has_role_and_names);
    g_redis = getenv("CRUMB_TEST_REDIS");
    if (g_redis && !*g_redis)
        g_redis = NULL;
    if (!g_redis)
        printf("# CRUMB_TEST_REDIS unset: the redis backend is skipped\n");
    for (g_on_redis = 0; g_on_redis <= (g_redis != NULL); g_on_redis++) {
        const char *be = g_on_redis ? "redis/" : "sqlite/";
        static const struct {
            const char *name;
            void (*fn)(void);
        } generic[] = {
            {"add_get_list", add_get_list},
            {"add_invalid", add_invalid},
            {"authenticate", authenticate},
            {"pbkdf2_rehash", pbkdf2_rehash},
            {"change_and_delete", change_and_delete},
            {"two_handles", two_handles},
            {"processes_share_file", processes_share_file},
            {"register_race", register_race},
        };
        for (size_t i = 0; i < sizeof generic / sizeof generic[0]; i++) {
            char name[64];
            snprintf(name, sizeof name, "%s%s", be, generic[i].name);
            t_run_(name, generic[i].fn);
        }
    }
    if (g_redis) {
        g_on_redis = 1;
        t_run_("redis/down_and_corrupt", redis_down_and_corrupt);
    }
    return TEST_END();
}
