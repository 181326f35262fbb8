/* users.c - the user database: accounts, roles and logins; any backend. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <crumb/auth.h>
#include <crumb/error.h>

#include "auth_int.h"
#include "users_int.h"

/*
 * The public functions check their arguments, hash passwords and decide
 * what a login means; the backend below them (users_sqlite.c,
 * users_redis.c, chosen by the URI's scheme) only stores and fetches.
 */

#define PASSWORD_MIN_CHARS 8
#define PASSWORD_MAX_BYTES 1024

void
crumb__users_set_errmsg(crumb_users *u, const char *what, const char *detail)
{
    snprintf(u->errmsg, sizeof u->errmsg, "%s%s%s", what, detail ? ": " : "",
             detail ? detail : "");
}

/* "sqlite:PATH" or a bare PATH go to SQLite, "redis://" to Redis; any
 * other "scheme:" prefix is refused, so that it is not taken for a file
 * name. */
static const crumb__users_ops *
backend_of(const char *uri)
{
    if (strncmp(uri, "sqlite:", 7) == 0)
        return &crumb__users_sqlite;
    if (strncmp(uri, "redis://", 8) == 0)
        return &crumb__users_redis;
    size_t i = 0;
    while ((uri[i] >= 'a' && uri[i] <= 'z') ||
           (uri[i] >= 'A' && uri[i] <= 'Z') ||
           (i > 0 && ((uri[i] >= '0' && uri[i] <= '9') || uri[i] == '+' ||
                      uri[i] == '.' || uri[i] == '-')))
        i++;
    return i > 0 && uri[i] == ':' ? NULL : &crumb__users_sqlite;
}

/*
 * On CRUMB_ESTORE or CRUMB_EUNAVAIL the handle is still returned in *out,
 * with the backend closed and the reason in crumb_users_errmsg(); the
 * caller closes it.
 */
int
crumb_users_open(crumb_users **out, const char *uri)
{
    if (!out)
        return CRUMB_EINVAL;
    *out = NULL;
    const crumb__users_ops *ops = uri && *uri ? backend_of(uri) : NULL;
    if (!ops)
        return CRUMB_EINVAL;
    crumb_users *u = calloc(1, sizeof *u);
    if (!u)
        return CRUMB_ENOMEM;
    u->ops = ops;
    int rc = ops->open(u, uri);
    if (rc == CRUMB_OK) {
        u->errmsg[0] = '\0';
        *out = u;
        return CRUMB_OK;
    }
    ops->close(u);
    if (rc == CRUMB_ESTORE || rc == CRUMB_EUNAVAIL) {
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
    u->ops->close(u);
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

    if (!db || !db->impl || !crumb_username_valid(username))
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
    rc = db->ops->insert(db, username, hash ? hash : password_hash, roles,
                   (int64_t)time(NULL));
    free(hash);
    if (rc == CRUMB_OK && out)
        rc = db->ops->get(db, username, out, NULL);
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

    if (!db || !db->impl)
        return CRUMB_EINVAL;
    if (!crumb_username_valid(username) || !password)
        return crumb_password_verify_dummy(password);
    rc = db->ops->get(db, username, &user, &hash);
    if (rc == CRUMB_ENOTFOUND)
        return crumb_password_verify_dummy(password);
    if (rc != CRUMB_OK)
        return rc;

    rc = crumb_password_verify(hash, password);
    if (rc == CRUMB_EMALFORMED || rc == CRUMB_EUNSUPPORTED) {
        crumb__users_set_errmsg(db, "unreadable password hash for", username);
        rc = crumb_password_verify_dummy(password);
    }
    if (rc == CRUMB_OK && crumb_password_needs_rehash(hash)) {
        char *fresh = NULL;
        int up = crumb_password_hash(password, &fresh);
        if (up == CRUMB_OK)
            up = db->ops->set_hash(db, username, fresh, hash, 0);
        if (up != CRUMB_OK && up != CRUMB_ENOTFOUND)
            crumb__users_set_errmsg(db, "rehash failed", crumb_strerror(up));
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
    if (!db || !db->impl || !username)
        return CRUMB_EINVAL;
    if (!crumb_username_valid(username))
        return CRUMB_ENOTFOUND;
    return db->ops->get(db, username, out, NULL);
}

int
crumb_users_get_by_id(crumb_users *db, int64_t id, crumb_user *out)
{
    if (!db || !db->impl)
        return CRUMB_EINVAL;
    return db->ops->get_by_id(db, id, out);
}

int
crumb_users_set_password(crumb_users *db, const char *username,
                         const char *password)
{
    char *hash = NULL;
    if (!db || !db->impl || !password_acceptable(password))
        return CRUMB_EINVAL;
    if (!crumb_username_valid(username))
        return CRUMB_ENOTFOUND;
    int rc = crumb_password_hash(password, &hash);
    if (rc != CRUMB_OK)
        return rc;
    rc = db->ops->set_hash(db, username, hash, NULL, (int64_t)time(NULL));
    free(hash);
    return rc;
}

int
crumb_users_set_roles(crumb_users *db, const char *username, const char *roles)
{
    if (!roles)
        roles = "user";
    if (!db || !db->impl || !roles_valid(roles))
        return CRUMB_EINVAL;
    if (!crumb_username_valid(username))
        return CRUMB_ENOTFOUND;
    return db->ops->set_roles(db, username, roles);
}

int
crumb_users_delete(crumb_users *db, const char *username)
{
    if (!db || !db->impl)
        return CRUMB_EINVAL;
    if (!crumb_username_valid(username))
        return CRUMB_ENOTFOUND;
    return db->ops->remove(db, username);
}

int
crumb_users_list(crumb_users *db, crumb_user **out, size_t *n)
{
    if (!out || !n)
        return CRUMB_EINVAL;
    *out = NULL;
    *n = 0;
    if (!db || !db->impl)
        return CRUMB_EINVAL;
    return db->ops->list(db, out, n);
}
