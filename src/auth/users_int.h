/* users_int.h - the user database's backend table, shared by its files. */
#ifndef CRUMB_USERS_INT_H
#define CRUMB_USERS_INT_H

#include <stddef.h>
#include <stdint.h>

#include <crumb/auth.h>

/*
 * users.c checks arguments, hashes passwords and decides what a login
 * means; a backend only stores and fetches. One backend per file, chosen
 * by the URI's scheme. Every operation returns CRUMB_OK or a negative
 * CRUMB_E* (CRUMB_ESTORE with the reason set by crumb__users_fail(),
 * CRUMB_EUNAVAIL when a server does not answer) and leaves what it does
 * not own alone.
 */
typedef struct crumb__users_ops {
    const char *scheme;
    /* Opens @uri (the whole URI); sets u->impl. On failure u->impl is
     * NULL or still closable by close. */
    int (*open)(crumb_users *u, const char *uri);
    void (*close)(crumb_users *u);
    /* The user and, when @hash is not NULL, a malloc'd copy of the
     * password hash. CRUMB_ENOTFOUND when absent. */
    int (*get)(crumb_users *u, const char *username, crumb_user *out,
               char **hash);
    int (*get_by_id)(crumb_users *u, int64_t id, crumb_user *out);
    /* A new user with a fresh id; CRUMB_EEXIST when the name is taken. */
    int (*insert)(crumb_users *u, const char *username, const char *hash,
                  const char *roles, int64_t now);
    /* Replaces the hash, only while it is still @expected when that is
     * not NULL; sets password_changed to @changed unless it is 0.
     * CRUMB_ENOTFOUND when no user (or no longer @expected). */
    int (*set_hash)(crumb_users *u, const char *username, const char *hash,
                    const char *expected, int64_t changed);
    int (*set_roles)(crumb_users *u, const char *username,
                     const char *roles);
    int (*remove)(crumb_users *u, const char *username);
    /* Every user, ordered by name (bytewise). */
    int (*list)(crumb_users *u, crumb_user **out, size_t *n);
} crumb__users_ops;

struct crumb_users {
    const crumb__users_ops *ops;
    void *impl;
    char errmsg[256];
};

extern const crumb__users_ops crumb__users_sqlite;
extern const crumb__users_ops crumb__users_redis;

/* Sets u->errmsg to "@what: @detail" (detail may be NULL). */
void crumb__users_set_errmsg(crumb_users *u, const char *what,
                             const char *detail);

#endif
