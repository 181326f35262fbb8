/* users_sqlite.c - the user database's SQLite backend (WAL, one file). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include <crumb/auth.h>
#include <crumb/error.h>

#include "users_int.h"

#define USERS_SCHEMA_VERSION 1

/* The handle's impl is the connection itself. */
#define DB(u) ((sqlite3 *)(u)->impl)

static const char schema_v1[] = "CREATE TABLE IF NOT EXISTS users ("
                                " id INTEGER PRIMARY KEY,"
                                " username TEXT UNIQUE NOT NULL COLLATE BINARY,"
                                " password_hash TEXT NOT NULL,"
                                " roles TEXT NOT NULL DEFAULT 'user',"
                                " created INTEGER,"
                                " password_changed INTEGER);";

#define USER_COLUMNS "id, username, roles, created, password_changed"

/* Records SQLite's message for the failed @what; returns CRUMB_ESTORE or,
 * for an allocation failure, CRUMB_ENOMEM. */
static int
db_fail(crumb_users *u, const char *what)
{
    int code = sqlite3_errcode(DB(u));
    crumb__users_set_errmsg(u, what, sqlite3_errmsg(DB(u)));
    return code == SQLITE_NOMEM ? CRUMB_ENOMEM : CRUMB_ESTORE;
}

static int
db_prepare(crumb_users *u, const char *sql, sqlite3_stmt **st)
{
    if (sqlite3_prepare_v2(DB(u), sql, -1, st, NULL) != SQLITE_OK)
        return db_fail(u, "prepare");
    return CRUMB_OK;
}

static int
bind_text(sqlite3_stmt *st, int i, const char *s)
{
    return sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

/* Copies a row of USER_COLUMNS into @out (may be NULL). A row written by
 * another tool with names or roles past crumb's limits is a store error,
 * not something to truncate. */
static int
row_to_user(crumb_users *u, sqlite3_stmt *st, crumb_user *out)
{
    const unsigned char *name = sqlite3_column_text(st, 1);
    const unsigned char *roles = sqlite3_column_text(st, 2);
    if (!name || !roles || strlen((const char *)name) > CRUMB_USERNAME_MAX ||
        strlen((const char *)roles) > CRUMB_ROLES_MAX) {
        crumb__users_set_errmsg(u, "users row out of bounds", NULL);
        return CRUMB_ESTORE;
    }
    if (!out)
        return CRUMB_OK;
    memset(out, 0, sizeof *out);
    out->id = sqlite3_column_int64(st, 0);
    strcpy(out->username, (const char *)name);
    strcpy(out->roles, (const char *)roles);
    out->created = sqlite3_column_int64(st, 3);
    out->password_changed = sqlite3_column_int64(st, 4);
    return CRUMB_OK;
}

/* Runs a statement expected to give at most one user. */
static int
db_one_user(crumb_users *u, sqlite3_stmt *st, crumb_user *out, char **hash)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        return CRUMB_ENOTFOUND;
    if (rc != SQLITE_ROW)
        return db_fail(u, "select");
    rc = row_to_user(u, st, out);
    if (rc == CRUMB_OK && hash) {
        const unsigned char *h = sqlite3_column_text(st, 5);
        *hash = h ? strdup((const char *)h) : NULL;
        if (!*hash)
            rc = h ? CRUMB_ENOMEM : CRUMB_ESTORE;
    }
    return rc;
}

static int
db_get(crumb_users *u, const char *username, crumb_user *out, char **hash)
{
    sqlite3_stmt *st = NULL;
    int rc = db_prepare(u,
                        "SELECT " USER_COLUMNS ", password_hash "
                        "FROM users WHERE username = ?1",
                        &st);
    if (rc == CRUMB_OK) {
        if (bind_text(st, 1, username) != SQLITE_OK)
            rc = db_fail(u, "bind");
        else
            rc = db_one_user(u, st, out, hash);
    }
    sqlite3_finalize(st);
    return rc;
}

static int
db_get_by_id(crumb_users *u, int64_t id, crumb_user *out)
{
    sqlite3_stmt *st = NULL;
    int rc = db_prepare(u,
                        "SELECT " USER_COLUMNS ", password_hash "
                        "FROM users WHERE id = ?1",
                        &st);
    if (rc == CRUMB_OK) {
        sqlite3_bind_int64(st, 1, id);
        rc = db_one_user(u, st, out, NULL);
    }
    sqlite3_finalize(st);
    return rc;
}

static int
db_insert(crumb_users *u, const char *username, const char *hash,
          const char *roles, int64_t now)
{
    sqlite3_stmt *st = NULL;
    int rc = db_prepare(u,
                        "INSERT INTO users (username, password_hash, "
                        "roles, created, password_changed) "
                        "VALUES (?1, ?2, ?3, ?4, ?4)",
                        &st);
    if (rc != CRUMB_OK)
        return rc;
    if (bind_text(st, 1, username) != SQLITE_OK ||
        bind_text(st, 2, hash) != SQLITE_OK ||
        bind_text(st, 3, roles) != SQLITE_OK ||
        sqlite3_bind_int64(st, 4, now) != SQLITE_OK) {
        rc = db_fail(u, "bind");
    } else if (sqlite3_step(st) != SQLITE_DONE) {
        if (sqlite3_extended_errcode(DB(u)) == SQLITE_CONSTRAINT_UNIQUE) {
            crumb__users_set_errmsg(u, "user exists", username);
            rc = CRUMB_EEXIST;
        } else {
            rc = db_fail(u, "insert");
        }
    }
    sqlite3_finalize(st);
    return rc;
}

/*
 * Runs an UPDATE or DELETE on one user: @sql has ?1 for the username and
 * optionally ?2, ?3, ?4 bound from @a, @b (text) and @num. No row changed
 * is CRUMB_ENOTFOUND.
 */
static int
db_change(crumb_users *u, const char *sql, const char *username, const char *a,
          const char *b, int64_t num)
{
    sqlite3_stmt *st = NULL;
    int rc = db_prepare(u, sql, &st);
    if (rc != CRUMB_OK)
        return rc;
    int n = sqlite3_bind_parameter_count(st);
    if (bind_text(st, 1, username) != SQLITE_OK ||
        (n >= 2 && bind_text(st, 2, a) != SQLITE_OK) ||
        (n >= 3 && bind_text(st, 3, b) != SQLITE_OK) ||
        (n >= 4 && sqlite3_bind_int64(st, 4, num) != SQLITE_OK))
        rc = db_fail(u, "bind");
    else if (sqlite3_step(st) != SQLITE_DONE)
        rc = db_fail(u, "update");
    else if (sqlite3_changes(DB(u)) == 0)
        rc = CRUMB_ENOTFOUND;
    sqlite3_finalize(st);
    return rc;
}

/* password_changed is left alone when @changed is 0 (a rehash). */
static int
db_set_hash(crumb_users *u, const char *username, const char *hash,
            const char *expected, int64_t changed)
{
    if (expected)
        return db_change(u,
                         changed ? "UPDATE users SET password_hash = ?2, "
                                   "password_changed = ?4 "
                                   "WHERE username = ?1 AND password_hash = ?3"
                                 : "UPDATE users SET password_hash = ?2 "
                                   "WHERE username = ?1 AND password_hash = ?3",
                         username, hash, expected, changed);
    return db_change(u,
                     changed ? "UPDATE users SET password_hash = ?2, "
                               "password_changed = ?4 WHERE username = ?1"
                             : "UPDATE users SET password_hash = ?2 "
                               "WHERE username = ?1",
                     username, hash, NULL, changed);
}

static int
db_set_roles(crumb_users *u, const char *username, const char *roles)
{
    return db_change(u, "UPDATE users SET roles = ?2 WHERE username = ?1",
                     username, roles, NULL, 0);
}

static int
db_remove(crumb_users *u, const char *username)
{
    return db_change(u, "DELETE FROM users WHERE username = ?1", username,
                     NULL, NULL, 0);
}

static int
db_list(crumb_users *u, crumb_user **out, size_t *n)
{
    sqlite3_stmt *st = NULL;
    crumb_user *arr = NULL;
    size_t len = 0, cap = 0;
    int rc = db_prepare(
        u, "SELECT " USER_COLUMNS " FROM users ORDER BY username", &st);
    while (rc == CRUMB_OK) {
        int step = sqlite3_step(st);
        if (step == SQLITE_DONE)
            break;
        if (step != SQLITE_ROW) {
            rc = db_fail(u, "select");
            break;
        }
        if (len == cap) {
            size_t ncap = cap ? 2 * cap : 16;
            crumb_user *tmp = realloc(arr, ncap * sizeof *arr);
            if (!tmp) {
                rc = CRUMB_ENOMEM;
                break;
            }
            arr = tmp;
            cap = ncap;
        }
        rc = row_to_user(u, st, &arr[len]);
        if (rc == CRUMB_OK)
            len++;
    }
    sqlite3_finalize(st);
    if (rc != CRUMB_OK) {
        free(arr);
        return rc;
    }
    *out = arr;
    *n = len;
    return CRUMB_OK;
}

/*
 * Creates the schema, or checks it, in one IMMEDIATE transaction so that
 * processes opening a new file together do not both create it. user_version
 * 0 is a new file; a version above ours is a newer crumb's file, which we
 * refuse rather than misread.
 */
static int
db_schema(crumb_users *u)
{
    sqlite3_stmt *st = NULL;
    int version = -1, rc;

    if (sqlite3_exec(DB(u), "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return db_fail(u, "begin");
    rc = db_prepare(u, "PRAGMA user_version", &st);
    if (rc == CRUMB_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            version = sqlite3_column_int(st, 0);
        else
            rc = db_fail(u, "user_version");
    }
    sqlite3_finalize(st);
    if (rc == CRUMB_OK && version == 0) {
        /* PRAGMA takes no parameters; the version is our own constant. */
        if (sqlite3_exec(DB(u), schema_v1, NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(DB(u), "PRAGMA user_version = 1", NULL, NULL, NULL) !=
                SQLITE_OK)
            rc = db_fail(u, "create schema");
    } else if (rc == CRUMB_OK && version != USERS_SCHEMA_VERSION) {
        char v[32];
        snprintf(v, sizeof v, "%d", version);
        crumb__users_set_errmsg(u, "unknown users schema version", v);
        rc = CRUMB_ESTORE;
    }
    if (rc == CRUMB_OK &&
        sqlite3_exec(DB(u), "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        rc = db_fail(u, "commit");
    if (rc != CRUMB_OK)
        sqlite3_exec(DB(u), "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/* SQLite creates files 0644 less the umask, and gives -wal and -shm the
 * mode of the database file; creating it first ourselves makes all three
 * 0600. An existing file keeps its mode. */
static int
precreate(crumb_users *u, const char *path)
{
    if (strcmp(path, ":memory:") == 0)
        return CRUMB_OK;
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
        close(fd);
        return CRUMB_OK;
    }
    if (errno == EEXIST)
        return CRUMB_OK;
    crumb__users_set_errmsg(u, path, strerror(errno));
    return CRUMB_ESTORE;
}

/* WAL lets readers in other processes go on while one writes. SQLite
 * answers with the mode it ended up in rather than failing, so check it
 * (an in-memory database stays "memory"). */
static int
db_wal(crumb_users *u, int in_memory)
{
    sqlite3_stmt *st = NULL;
    int rc = db_prepare(u, "PRAGMA journal_mode = WAL", &st);
    if (rc != CRUMB_OK)
        return rc;
    /* Switching a new file to WAL takes an exclusive lock for which SQLite
     * does not call the busy handler: retry while another process holds
     * it (several processes opening a new file at once). */
    int step = sqlite3_step(st);
    for (int waited = 0; ((step & 0xff) == SQLITE_BUSY ||
                          (step & 0xff) == SQLITE_LOCKED) &&
                         waited < 5000;
         waited += 10) {
        sqlite3_reset(st);
        sqlite3_sleep(10);
        step = sqlite3_step(st);
    }
    if (step != SQLITE_ROW) {
        rc = db_fail(u, "journal_mode");
    } else {
        const char *mode = (const char *)sqlite3_column_text(st, 0);
        if (!mode || strcmp(mode, in_memory ? "memory" : "wal") != 0) {
            crumb__users_set_errmsg(u, "cannot use WAL journal mode, got",
                                    mode);
            rc = CRUMB_ESTORE;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

static int
db_open_path(crumb_users *u, const char *path)
{
    int rc = precreate(u, path);
    if (rc != CRUMB_OK)
        return rc;
    int flags =
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    sqlite3 *db = NULL;
    int orc = sqlite3_open_v2(path, &db, flags, NULL);
    u->impl = db;
    if (orc != SQLITE_OK)
        return db ? db_fail(u, "open") : CRUMB_ENOMEM;
    sqlite3_extended_result_codes(DB(u), 1);
    sqlite3_busy_timeout(DB(u), 5000);
    if (sqlite3_exec(DB(u), "PRAGMA foreign_keys = ON", NULL, NULL, NULL) !=
        SQLITE_OK)
        return db_fail(u, "pragma");
    rc = db_wal(u, strcmp(path, ":memory:") == 0);
    return rc == CRUMB_OK ? db_schema(u) : rc;
}

static void
db_close(crumb_users *u)
{
    sqlite3_close_v2(DB(u));
    u->impl = NULL;
}

/* "sqlite:PATH" or a bare PATH (users.c routes only those here). */
static int
db_open(crumb_users *u, const char *uri)
{
    const char *path = strncmp(uri, "sqlite:", 7) == 0 ? uri + 7 : uri;
    if (!*path)
        return CRUMB_EINVAL;
    return db_open_path(u, path);
}

const crumb__users_ops crumb__users_sqlite = {
    "sqlite",   db_open,      db_close,     db_get,   db_get_by_id,
    db_insert,  db_set_hash,  db_set_roles, db_remove, db_list,
};
