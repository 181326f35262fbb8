/* users_redis.c - the user database's Redis backend, shared by servers. */
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <crumb/auth.h>
#include <crumb/error.h>

#include "../redis_conn.h"
#include "users_int.h"

/*
 * URI: redis://HOST[:PORT][/DB][?prefix=P&connect_timeout_ms=N&timeout_ms=N]
 * (the session store's grammar, so one CRUMB_STORE can name both).
 * Layout under the prefix P (default "crumb"), apart from the session
 * store's P:s:, P:u:, P:c:, P:k: keys:
 *   P:user:<name>   hash: id username hash roles created password_changed
 *   P:users         set of every name
 *   P:user_ids      hash: id -> name (lookups by id)
 *   P:user_next_id  the last id given (INCR)
 * Every change that reads before it writes is one Lua script, so it is
 * atomic on the server: two servers registering one name at once get one
 * user and one CRUMB_EEXIST.
 *
 * Failures: connect and command timeouts (500 ms each by default), so a
 * down Redis is CRUMB_EUNAVAIL after at most those; after an I/O error
 * the context is dropped and the next call reconnects. A handle belongs
 * to one thread at a time.
 */

#define PREFIX_MAX 64
#define KEY_MAX (PREFIX_MAX + 16 + CRUMB_USERNAME_MAX)
#define TIMEOUT_MS_DEFAULT 500

typedef struct ruser {
    crumb__redis_conn conn;
    char prefix[PREFIX_MAX + 1];
} ruser;

#define R(u) ((ruser *)(u)->impl)

static const char script_insert[] =
    "if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end\n"
    "local id = redis.call('INCR', KEYS[4])\n"
    "redis.call('HSET', KEYS[1], 'id', id, 'username', ARGV[1],\n"
    "  'hash', ARGV[2], 'roles', ARGV[3], 'created', ARGV[4],\n"
    "  'password_changed', ARGV[4])\n"
    "redis.call('SADD', KEYS[2], ARGV[1])\n"
    "redis.call('HSET', KEYS[3], id, ARGV[1])\n"
    "return id\n";

/* ARGV: new hash, expected hash or "", password_changed or "0". */
static const char script_set_hash[] =
    "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end\n"
    "if ARGV[2] ~= '' and redis.call('HGET', KEYS[1], 'hash') ~= ARGV[2]\n"
    "then return 0 end\n"
    "redis.call('HSET', KEYS[1], 'hash', ARGV[1])\n"
    "if ARGV[3] ~= '0' then\n"
    "  redis.call('HSET', KEYS[1], 'password_changed', ARGV[3]) end\n"
    "return 1\n";

static const char script_set_roles[] =
    "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end\n"
    "redis.call('HSET', KEYS[1], 'roles', ARGV[1])\n"
    "return 1\n";

static const char script_remove[] =
    "local id = redis.call('HGET', KEYS[1], 'id')\n"
    "if not id then return 0 end\n"
    "redis.call('DEL', KEYS[1])\n"
    "redis.call('SREM', KEYS[2], ARGV[1])\n"
    "redis.call('HDEL', KEYS[3], id)\n"
    "return 1\n";

static void
key_user(const ruser *r, const char *name, char *out)
{
    snprintf(out, KEY_MAX, "%s:user:%s", r->prefix, name);
}

static void
key_of(const ruser *r, const char *what, char *out)
{
    snprintf(out, KEY_MAX, "%s:%s", r->prefix, what);
}

/* Connected, or the reason on the handle. */
static int
ensure(crumb_users *u, ruser *r)
{
    char why[320];
    int rc = crumb__redis_ensure(&r->conn, why, sizeof why);
    if (rc != CRUMB_OK)
        crumb__users_set_errmsg(u, "users", why);
    return rc;
}

/*
 * Runs one command (argv strings). NULL on failure with *rc set: an I/O
 * error or timeout drops the connection (CRUMB_EUNAVAIL), an error reply
 * is CRUMB_ESTORE.
 */
static redisReply *
run(crumb_users *u, int argc, const char **argv, int *rc)
{
    ruser *r = R(u);
    *rc = ensure(u, r);
    if (*rc != CRUMB_OK)
        return NULL;
    size_t len[16];
    for (int i = 0; i < argc; i++)
        len[i] = strlen(argv[i]);
    redisReply *rep = redisCommandArgv(r->conn.c, argc, argv, len);
    if (!rep) {
        crumb__users_set_errmsg(u, "redis", r->conn.c->errstr);
        crumb__redis_fail(&r->conn);
        *rc = CRUMB_EUNAVAIL;
        return NULL;
    }
    crumb__redis_ok(&r->conn);
    if (rep->type == REDIS_REPLY_ERROR) {
        crumb__users_set_errmsg(u, "redis", rep->str);
        freeReplyObject(rep);
        *rc = CRUMB_ESTORE;
        return NULL;
    }
    *rc = CRUMB_OK;
    return rep;
}

/* EVAL of a script returning an integer; *out receives it. */
static int
eval_int(crumb_users *u, const char *script, int nkeys, const char **keys,
         int nargs, const char **args, long long *out)
{
    const char *argv[16];
    char nk[8];
    int argc = 0;
    snprintf(nk, sizeof nk, "%d", nkeys);
    argv[argc++] = "EVAL";
    argv[argc++] = script;
    argv[argc++] = nk;
    for (int i = 0; i < nkeys; i++)
        argv[argc++] = keys[i];
    for (int i = 0; i < nargs; i++)
        argv[argc++] = args[i];
    int rc;
    redisReply *rep = run(u, argc, argv, &rc);
    if (!rep)
        return rc;
    if (rep->type != REDIS_REPLY_INTEGER) {
        crumb__users_set_errmsg(u, "redis", "unexpected script reply");
        rc = CRUMB_ESTORE;
    } else {
        *out = rep->integer;
    }
    freeReplyObject(rep);
    return rc;
}

static int
parse_i64(const redisReply *e, int64_t *out)
{
    if (!e || e->type != REDIS_REPLY_STRING || e->len == 0 || e->len > 20)
        return 0;
    char buf[24], *end;
    memcpy(buf, e->str, e->len);
    buf[e->len] = '\0';
    long long v = strtoll(buf, &end, 10);
    if (*end)
        return 0;
    *out = v;
    return 1;
}

static int
parse_text(const redisReply *e, char *out, size_t max)
{
    if (!e || e->type != REDIS_REPLY_STRING || e->len > max ||
        memchr(e->str, '\0', e->len))
        return 0;
    memcpy(out, e->str, e->len);
    out[e->len] = '\0';
    return 1;
}

#define USER_FIELDS 6

/*
 * A user hash as HMGET id username roles created password_changed hash
 * returned it. A field missing is "no such user" only when all are (the
 * key is absent); a present but malformed record is a store error, read
 * back as hostile input like every record.
 */
static int
reply_to_user(crumb_users *u, const redisReply *rep, crumb_user *out,
              char **hash)
{
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != USER_FIELDS)
        goto bad;
    int missing = 0;
    for (size_t i = 0; i < USER_FIELDS; i++)
        missing += rep->element[i]->type == REDIS_REPLY_NIL;
    if (missing == USER_FIELDS)
        return CRUMB_ENOTFOUND;
    crumb_user tmp;
    memset(&tmp, 0, sizeof tmp);
    if (!parse_i64(rep->element[0], &tmp.id) || tmp.id <= 0 ||
        !parse_text(rep->element[1], tmp.username, CRUMB_USERNAME_MAX) ||
        !parse_text(rep->element[2], tmp.roles, CRUMB_ROLES_MAX) ||
        !parse_i64(rep->element[3], &tmp.created) ||
        !parse_i64(rep->element[4], &tmp.password_changed) ||
        rep->element[5]->type != REDIS_REPLY_STRING)
        goto bad;
    if (hash) {
        *hash = strndup(rep->element[5]->str, rep->element[5]->len);
        if (!*hash)
            return CRUMB_ENOMEM;
    }
    if (out)
        *out = tmp;
    return CRUMB_OK;
bad:
    crumb__users_set_errmsg(u, "users record out of bounds", NULL);
    return CRUMB_ESTORE;
}

static int
ru_get(crumb_users *u, const char *username, crumb_user *out, char **hash)
{
    char k[KEY_MAX];
    key_user(R(u), username, k);
    const char *argv[] = {"HMGET", k, "id", "username", "roles", "created",
                          "password_changed", "hash"};
    int rc;
    redisReply *rep = run(u, 8, argv, &rc);
    if (!rep)
        return rc;
    rc = reply_to_user(u, rep, out, hash);
    freeReplyObject(rep);
    return rc;
}

static int
ru_get_by_id(crumb_users *u, int64_t id, crumb_user *out)
{
    char k[KEY_MAX], num[24], name[CRUMB_USERNAME_MAX + 1];
    key_of(R(u), "user_ids", k);
    snprintf(num, sizeof num, "%" PRId64, id);
    const char *argv[] = {"HGET", k, num};
    int rc;
    redisReply *rep = run(u, 3, argv, &rc);
    if (!rep)
        return rc;
    if (rep->type == REDIS_REPLY_NIL) {
        rc = CRUMB_ENOTFOUND;
    } else if (!parse_text(rep, name, CRUMB_USERNAME_MAX)) {
        crumb__users_set_errmsg(u, "users id index out of bounds", NULL);
        rc = CRUMB_ESTORE;
    }
    freeReplyObject(rep);
    if (rc != CRUMB_OK)
        return rc;
    crumb_user tmp;
    rc = ru_get(u, name, &tmp, NULL);
    if (rc == CRUMB_OK && tmp.id != id)
        rc = CRUMB_ENOTFOUND; /* deleted and re-created meanwhile */
    if (rc == CRUMB_OK && out)
        *out = tmp;
    return rc;
}

static int
ru_insert(crumb_users *u, const char *username, const char *hash,
          const char *roles, int64_t now)
{
    char k1[KEY_MAX], k2[KEY_MAX], k3[KEY_MAX], k4[KEY_MAX], t[24];
    key_user(R(u), username, k1);
    key_of(R(u), "users", k2);
    key_of(R(u), "user_ids", k3);
    key_of(R(u), "user_next_id", k4);
    snprintf(t, sizeof t, "%" PRId64, now);
    const char *keys[] = {k1, k2, k3, k4};
    const char *args[] = {username, hash, roles, t};
    long long id = 0;
    int rc = eval_int(u, script_insert, 4, keys, 4, args, &id);
    if (rc == CRUMB_OK && id == 0) {
        crumb__users_set_errmsg(u, "user exists", username);
        rc = CRUMB_EEXIST;
    }
    return rc;
}

static int
ru_set_hash(crumb_users *u, const char *username, const char *hash,
            const char *expected, int64_t changed)
{
    char k[KEY_MAX], t[24];
    key_user(R(u), username, k);
    snprintf(t, sizeof t, "%" PRId64, changed);
    const char *keys[] = {k};
    const char *args[] = {hash, expected ? expected : "", t};
    long long done = 0;
    int rc = eval_int(u, script_set_hash, 1, keys, 3, args, &done);
    return rc == CRUMB_OK && !done ? CRUMB_ENOTFOUND : rc;
}

static int
ru_set_roles(crumb_users *u, const char *username, const char *roles)
{
    char k[KEY_MAX];
    key_user(R(u), username, k);
    const char *keys[] = {k};
    const char *args[] = {roles};
    long long done = 0;
    int rc = eval_int(u, script_set_roles, 1, keys, 1, args, &done);
    return rc == CRUMB_OK && !done ? CRUMB_ENOTFOUND : rc;
}

static int
ru_remove(crumb_users *u, const char *username)
{
    char k1[KEY_MAX], k2[KEY_MAX], k3[KEY_MAX];
    key_user(R(u), username, k1);
    key_of(R(u), "users", k2);
    key_of(R(u), "user_ids", k3);
    const char *keys[] = {k1, k2, k3};
    const char *args[] = {username};
    long long done = 0;
    int rc = eval_int(u, script_remove, 3, keys, 1, args, &done);
    return rc == CRUMB_OK && !done ? CRUMB_ENOTFOUND : rc;
}

static int
by_name(const void *a, const void *b)
{
    return strcmp(((const crumb_user *)a)->username,
                  ((const crumb_user *)b)->username);
}

/* The names, then each user; a name whose record vanished in between
 * (deleted meanwhile) is skipped. Sorted bytewise, as SQLite's BINARY. */
static int
ru_list(crumb_users *u, crumb_user **out, size_t *n)
{
    char k[KEY_MAX];
    key_of(R(u), "users", k);
    const char *argv[] = {"SMEMBERS", k};
    int rc;
    redisReply *names = run(u, 2, argv, &rc);
    if (!names)
        return rc;
    crumb_user *arr = NULL;
    size_t len = 0;
    if (names->type != REDIS_REPLY_ARRAY) {
        crumb__users_set_errmsg(u, "redis", "unexpected SMEMBERS reply");
        rc = CRUMB_ESTORE;
    } else if (names->elements) {
        arr = calloc(names->elements, sizeof *arr);
        if (!arr)
            rc = CRUMB_ENOMEM;
    }
    for (size_t i = 0; rc == CRUMB_OK && arr && i < names->elements; i++) {
        char name[CRUMB_USERNAME_MAX + 1];
        if (!parse_text(names->element[i], name, CRUMB_USERNAME_MAX)) {
            crumb__users_set_errmsg(u, "users set out of bounds", NULL);
            rc = CRUMB_ESTORE;
            break;
        }
        rc = ru_get(u, name, &arr[len], NULL);
        if (rc == CRUMB_OK)
            len++;
        else if (rc == CRUMB_ENOTFOUND)
            rc = CRUMB_OK;
    }
    freeReplyObject(names);
    if (rc != CRUMB_OK) {
        free(arr);
        return rc;
    }
    if (len)
        qsort(arr, len, sizeof *arr, by_name);
    else {
        free(arr);
        arr = NULL;
    }
    *out = arr;
    *n = len;
    return CRUMB_OK;
}

static int
parse_uri(crumb_users *u, ruser *r, const char *uri)
{
    char why[96];
    int rc = crumb__redis_parse_uri(uri, &r->conn, r->prefix, PREFIX_MAX,
                                    why, sizeof why);
    if (rc != CRUMB_OK)
        crumb__users_set_errmsg(u, "redis URI", why);
    return rc;
}

static int
ru_open(crumb_users *u, const char *uri)
{
    ruser *r = calloc(1, sizeof *r);
    if (!r)
        return CRUMB_ENOMEM;
    u->impl = r;
    strcpy(r->prefix, "crumb");
    r->conn.connect_tv.tv_usec = TIMEOUT_MS_DEFAULT * 1000;
    r->conn.cmd_tv.tv_usec = TIMEOUT_MS_DEFAULT * 1000;
    int rc = parse_uri(u, r, uri);
    return rc == CRUMB_OK ? ensure(u, r) : rc;
}

static void
ru_close(crumb_users *u)
{
    ruser *r = R(u);
    if (!r)
        return;
    crumb__redis_drop(&r->conn);
    free(r);
    u->impl = NULL;
}

const crumb__users_ops crumb__users_redis = {
    "redis",   ru_open,     ru_close,     ru_get,    ru_get_by_id,
    ru_insert, ru_set_hash, ru_set_roles, ru_remove, ru_list,
};
