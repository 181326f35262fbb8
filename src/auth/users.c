/* users.c - the user database: accounts, roles and logins, on SQLite. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include <crumb/auth.h>
#include <crumb/error.h>

#include "auth_int.h"

/*
 * The public functions check their arguments, hash passwords and decide
 * what a login means; the db_* functions below them only store and fetch,
 * and are all that is SQLite. A second backend (redis) would move them
 * into their own file behind a table of the same shape.
 */

#define USERS_SCHEMA_VERSION 1
#define PASSWORD_MIN_CHARS 8
#define PASSWORD_MAX_BYTES 1024

struct crumb_users {
    sqlite3 *db;
    char errmsg[256];
};

static const char schema_v1[] = "CREATE TABLE IF NOT EXISTS users ("
                                " id INTEGER PRIMARY KEY,"
                                " username TEXT UNIQUE NOT NULL COLLATE BINARY,"
                                " password_hash TEXT NOT NULL,"
                                " roles TEXT NOT NULL DEFAULT 'user',"
                                " created INTEGER,"
                                " password_changed INTEGER);";

#define USER_COLUMNS "id, username, roles, created, password_changed"

static void
set_errmsg(crumb_users *u, const char *what, const char *detail)
{
    snprintf(u->errmsg, sizeof u->errmsg, "%s%s%s", what, detail ? ": " : "",
             detail ? detail : "");
}

/* Records SQLite's message for the failed @what; returns CRUMB_ESTORE or,
 * for an allocation failure, CRUMB_ENOMEM. */
static int
db_fail(crumb_users *u, const char *what)
{
    int code = sqlite3_errcode(u->db);
    set_errmsg(u, what, sqlite3_errmsg(u->db));
    return code == SQLITE_NOMEM ? CRUMB_ENOMEM : CRUMB_ESTORE;
}

static int
db_prepare(crumb_users *u, const char *sql, sqlite3_stmt **st)
{
    if (sqlite3_prepare_v2(u->db, sql, -1, st, NULL) != SQLITE_OK)
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
        set_errmsg(u, "users row out of bounds", NULL);
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
        if (sqlite3_extended_errcode(u->db) == SQLITE_CONSTRAINT_UNIQUE) {
            set_errmsg(u, "user exists", username);
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
    else if (sqlite3_changes(u->db) == 0)
        rc = CRUMB_ENOTFOUND;
    sqlite3_finalize(st);
    return rc;
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

    if (sqlite3_exec(u->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
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
        if (sqlite3_exec(u->db, schema_v1, NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(u->db, "PRAGMA user_version = 1", NULL, NULL, NULL) !=
                SQLITE_OK)
            rc = db_fail(u, "create schema");
    } else if (rc == CRUMB_OK && version != USERS_SCHEMA_VERSION) {
        char v[32];
        snprintf(v, sizeof v, "%d", version);
        set_errmsg(u, "unknown users schema version", v);
        rc = CRUMB_ESTORE;
    }
    if (rc == CRUMB_OK &&
        sqlite3_exec(u->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        rc = db_fail(u, "commit");
    if (rc != CRUMB_OK)
        sqlite3_exec(u->db, "ROLLBACK", NULL, NULL, NULL);
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
    set_errmsg(u, path, strerror(errno));
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
            set_errmsg(u, "cannot use WAL journal mode, got", mode);
            rc = CRUMB_ESTORE;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

static int
db_open(crumb_users *u, const char *path)
{
    int rc = precreate(u, path);
    if (rc != CRUMB_OK)
        return rc;
    int flags =
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, &u->db, flags, NULL) != SQLITE_OK) {
        rc = u->db ? db_fail(u, "open") : CRUMB_ENOMEM;
        return rc;
    }
    sqlite3_extended_result_codes(u->db, 1);
    sqlite3_busy_timeout(u->db, 5000);
    if (sqlite3_exec(u->db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL) !=
        SQLITE_OK)
        return db_fail(u, "pragma");
    rc = db_wal(u, strcmp(path, ":memory:") == 0);
    return rc == CRUMB_OK ? db_schema(u) : rc;
}

static void
db_close(crumb_users *u)
{
    sqlite3_close_v2(u->db);
    u->db = NULL;
}

/* "sqlite:PATH" or a bare PATH; any other "scheme:" prefix is refused, so
 * that "redis://..." is not taken for a file name. */
static const char *
sqlite_path(const char *uri)
{
    if (strncmp(uri, "sqlite:", 7) == 0)
        return uri + 7;
    size_t i = 0;
    while ((uri[i] >= 'a' && uri[i] <= 'z') ||
           (uri[i] >= 'A' && uri[i] <= 'Z') ||
           (i > 0 && ((uri[i] >= '0' && uri[i] <= '9') || uri[i] == '+' ||
                      uri[i] == '.' || uri[i] == '-')))
        i++;
    return i > 0 && uri[i] == ':' ? NULL : uri;
}

/*
 * On CRUMB_ESTORE the handle is still returned in *out, with the database
 * closed and the reason in crumb_users_errmsg(); the caller closes it.
 */
int
crumb_users_open(crumb_users **out, const char *uri)
{
    if (!out)
        return CRUMB_EINVAL;
    *out = NULL;
    const char *path = uri ? sqlite_path(uri) : NULL;
    if (!path || !*path)
        return CRUMB_EINVAL;
    crumb_users *u = calloc(1, sizeof *u);
    if (!u)
        return CRUMB_ENOMEM;
    int rc = db_open(u, path);
    if (rc == CRUMB_OK) {
        u->errmsg[0] = '\0';
        *out = u;
        return CRUMB_OK;
    }
    db_close(u);
    if (rc == CRUMB_ESTORE) {
        *out = u;
        return rc;
    }
    free(u);
    return rc;
}

void
crumb_users_close(crumb_users *u)
{
    if (!u)
        return;
    db_close(u);
    free(u);
}

const char *
crumb_users_errmsg(const crumb_users *u)
{
    return u ? u->errmsg : "no user database";
}

int
crumb_username_valid(const char *username)
{
    if (!username)
        return 0;
    size_t len = strlen(username);
    if (len < 3 || len > CRUMB_USERNAME_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = username[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
            return 0;
    }
    return 1;
}

/* A role is 1+ of A-Z a-z 0-9 _ . - : and roles are joined by single
 * commas: "user,admin". */
static int
roles_valid(const char *roles)
{
    size_t len = strlen(roles), item = 0;
    if (len == 0 || len > CRUMB_ROLES_MAX)
        return 0;
    for (size_t i = 0; i <= len; i++) {
        char c = roles[i];
        if (c == ',' || c == '\0') {
            if (item == 0)
                return 0;
            item = 0;
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                   (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-' ||
                   c == ':') {
            item++;
        } else {
            return 0;
        }
    }
    return 1;
}

int
crumb_user_has_role(const crumb_user *u, const char *role)
{
    if (!u || !role || !*role || strchr(role, ','))
        return 0;
    size_t len = strlen(role);
    const char *p = u->roles;
    while (*p) {
        size_t item = strcspn(p, ",");
        if (item == len && memcmp(p, role, len) == 0)
            return 1;
        p += item;
        if (*p == ',')
            p++;
    }
    return 0;
}

/* At least PASSWORD_MIN_CHARS characters (UTF-8 code points, not bytes)
 * and at most PASSWORD_MAX_BYTES bytes. */
static int
password_acceptable(const char *pw)
{
    size_t chars = 0, len = pw ? strlen(pw) : 0;
    if (len == 0 || len > PASSWORD_MAX_BYTES)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)pw[i] & 0xC0) != 0x80)
            chars++;
    return chars >= PASSWORD_MIN_CHARS;
}

int
crumb_users_add(crumb_users *db, const char *username, const char *password,
                const char *password_hash, const char *roles, crumb_user *out)
{
    char *hash = NULL;
    int rc;

    if (!db || !db->db || !crumb_username_valid(username))
        return CRUMB_EINVAL;
    if (!roles)
        roles = "user";
    if (!roles_valid(roles))
        return CRUMB_EINVAL;
    if (password) {
        if (!password_acceptable(password))
            return CRUMB_EINVAL;
        rc = crumb_password_hash(password, &hash);
        if (rc != CRUMB_OK)
            return rc;
    } else if (!password_hash ||
               crumb__password_check(password_hash) != CRUMB_OK) {
        return CRUMB_EINVAL;
    }
    rc = db_insert(db, username, hash ? hash : password_hash, roles,
                   (int64_t)time(NULL));
    free(hash);
    if (rc == CRUMB_OK && out)
        rc = db_get(db, username, out, NULL);
    return rc;
}

/*
 * Every path that refuses costs one password hash: an unknown or invalid
 * name runs the dummy, a stored hash we cannot read runs the dummy after
 * the (fast) parse failure. A matching hash that is not crumb's current
 * scrypt is replaced, only if it is still the one we read (a concurrent
 * password change wins); failing to replace it does not fail the login,
 * the reason is left in crumb_users_errmsg().
 */
int
crumb_users_authenticate(crumb_users *db, const char *username,
                         const char *password, crumb_user *out)
{
    crumb_user user;
    char *hash = NULL;
    int rc;

    if (!db || !db->db)
        return CRUMB_EINVAL;
    if (!crumb_username_valid(username) || !password)
        return crumb_password_verify_dummy(password);
    rc = db_get(db, username, &user, &hash);
    if (rc == CRUMB_ENOTFOUND)
        return crumb_password_verify_dummy(password);
    if (rc != CRUMB_OK)
        return rc;

    rc = crumb_password_verify(hash, password);
    if (rc == CRUMB_EMALFORMED || rc == CRUMB_EUNSUPPORTED) {
        set_errmsg(db, "unreadable password hash for", username);
        rc = crumb_password_verify_dummy(password);
    }
    if (rc == CRUMB_OK && crumb_password_needs_rehash(hash)) {
        char *fresh = NULL;
        int up = crumb_password_hash(password, &fresh);
        if (up == CRUMB_OK)
            up = db_change(db,
                           "UPDATE users SET password_hash = ?2 "
                           "WHERE username = ?1 AND password_hash = ?3",
                           username, fresh, hash, 0);
        if (up != CRUMB_OK && up != CRUMB_ENOTFOUND)
            set_errmsg(db, "rehash failed", crumb_strerror(up));
        free(fresh);
    }
    free(hash);
    if (rc == CRUMB_OK && out)
        *out = user;
    return rc;
}

int
crumb_users_get(crumb_users *db, const char *username, crumb_user *out)
{
    if (!db || !db->db || !username)
        return CRUMB_EINVAL;
    if (!crumb_username_valid(username))
        return CRUMB_ENOTFOUND;
    return db_get(db, username, out, NULL);
}

int
crumb_users_get_by_id(crumb_users *db, int64_t id, crumb_user *out)
{
    if (!db || !db->db)
        return CRUMB_EINVAL;
    return db_get_by_id(db, id, out);
}

int
crumb_users_set_password(crumb_users *db, const char *username,
                         const char *password)
{
    char *hash = NULL;
    if (!db || !db->db || !password_acceptable(password))
        return CRUMB_EINVAL;
    if (!crumb_username_valid(username))
        return CRUMB_ENOTFOUND;
    int rc = crumb_password_hash(password, &hash);
    if (rc != CRUMB_OK)
        return rc;
    rc = db_change(db,
                   "UPDATE users SET password_hash = ?2, "
                   "password_changed = ?4 WHERE username = ?1",
                   username, hash, NULL, (int64_t)time(NULL));
    free(hash);
    return rc;
}

int
crumb_users_set_roles(crumb_users *db, const char *username, const char *roles)
{
    if (!roles)
        roles = "user";
    if (!db || !db->db || !roles_valid(roles))
        return CRUMB_EINVAL;
    if (!crumb_username_valid(username))
        return CRUMB_ENOTFOUND;
    return db_change(db, "UPDATE users SET roles = ?2 WHERE username = ?1",
                     username, roles, NULL, 0);
}

int
crumb_users_delete(crumb_users *db, const char *username)
{
    if (!db || !db->db)
        return CRUMB_EINVAL;
    if (!crumb_username_valid(username))
        return CRUMB_ENOTFOUND;
    return db_change(db, "DELETE FROM users WHERE username = ?1", username,
                     NULL, NULL, 0);
}

int
crumb_users_list(crumb_users *db, crumb_user **out, size_t *n)
{
    if (!out || !n)
        return CRUMB_EINVAL;
    *out = NULL;
    *n = 0;
    if (!db || !db->db)
        return CRUMB_EINVAL;
    return db_list(db, out, n);
}
