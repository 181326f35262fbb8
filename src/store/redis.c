/* redis.c - the redis:// store: records as hashes, CAS in Lua scripts. */
#include <errno.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "store/store_int.h"

/*
 * Layout, under a prefix P (default "crumb"):
 *   P:s:<hex key>  hash: data version created last_seen expires_at user
 *                  addr agent; PEXPIRE'd to expires_at
 *   P:u:<user>     set of the hex keys of that user's records; its TTL is
 *                  the longest of its members'
 *   P:c:<name>     hash: v exp (a counter)
 *   P:k:<name>     hash: d exp (a kv value)
 *   P:l:<name>     list: expires_at, then the log's items oldest first
 *
 * Expiry is checked twice. The caller's `now` decides what is live (every
 * script and every read compares expires_at with it), and Redis' own key
 * TTL removes the data. The TTL is set relative, PEXPIRE (expires_at -
 * now) * 1000, rather than PEXPIREAT expires_at, so that a skew between
 * the caller's clock and Redis' does not expire records early.
 *
 * Every read-check-write is one Lua script, so it is atomic on the server.
 * Scripts touch keys other than KEYS[] (the user index), which is fine on
 * a single Redis, not on Redis Cluster.
 *
 * Failures: the context has a connect timeout and a command timeout, so a
 * down or stuck Redis is CRUMB_EUNAVAIL after at most those, never a hang.
 * After an I/O error the context is dropped; the next call reconnects.
 * A handle belongs to one thread at a time.
 */

#include "store/redis_int.h"
#include "store/redis_scripts.h"

void
crumb__rd_arg_bytes(args *a, const void *p, size_t len)
{
    a->v[a->n] = p;
    a->l[a->n] = len;
    a->n++;
}

void
crumb__rd_arg_str(args *a, const char *s)
{
    crumb__rd_arg_bytes(a, s, strlen(s));
}

/* Formatted by hand: snprintf() was about 600 instructions a number,
 * and a save sends eight. */
size_t
crumb__rd_fmt_int(char *out, int64_t v)
{
    char tmp[24];
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    size_t n = 0, len = 0;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        out[len++] = '-';
    while (n)
        out[len++] = tmp[--n];
    out[len] = '\0';
    return len;
}

void
crumb__rd_arg_int(args *a, int64_t v)
{
    size_t len = crumb__rd_fmt_int(a->num[a->n], v);
    crumb__rd_arg_bytes(a, a->num[a->n], len);
}

const char *
crumb__rd_script_text(int id)
{
    return scripts[id];
}

void
crumb__rd_rkey(const rstore *r, char kind, const char *name, char *out)
{
    size_t pl = strlen(r->prefix), nl = strlen(name);
    if (pl + 3 + nl >= RKEY_MAX) /* names are checked before: cannot be */
        nl = RKEY_MAX - 1 - pl - 3;
    memcpy(out, r->prefix, pl);
    out[pl] = ':';
    out[pl + 1] = kind;
    out[pl + 2] = ':';
    memcpy(out + pl + 3, name, nl);
    out[pl + 3 + nl] = '\0';
}

static void
skey(const rstore *r, const unsigned char *key, char *out, char *hex)
{
    crumb__store_hex(key, CRUMB_STORE_KEY_LEN, hex);
    crumb__rd_rkey(r, 's', hex, out);
}

/* Connected, or the reason on the handle. */
static int
ensure(crumb_store *st, rstore *r)
{
    char why[320];
    int rc = crumb__redis_ensure(&r->conn, why, sizeof why);
    if (rc != CRUMB_OK)
        crumb_store_set_errmsg(st, "%s", why);
    return rc;
}

/* An error reply as a status: states where Redis cannot serve yet count
 * as unreachable, the rest as store failures. */
static int
reply_error(crumb_store *st, const redisReply *rep)
{
    static const char *const transient[] = {"LOADING", "BUSY", "MASTERDOWN",
                                            "TRYAGAIN", "READONLY"};
    crumb_store_set_errmsg(st, "redis: %s", rep->str);
    for (size_t i = 0; i < sizeof(transient) / sizeof(transient[0]); i++) {
        size_t n = strlen(transient[i]);
        if (strncmp(rep->str, transient[i], n) == 0)
            return CRUMB_EUNAVAIL;
    }
    return CRUMB_ESTORE;
}

/* One command, sent and its reply read: redisCommandArgv() with the
 * command formatted by crumb__redis_append(). NULL on failure, with the
 * context's err set. */
static redisReply *
command(rstore *r, const args *a)
{
    void *rep = NULL;
    if (crumb__redis_append(r->conn.c, a->n, a->v, a->l) != REDIS_OK ||
        redisGetReply(r->conn.c, &rep) != REDIS_OK)
        return NULL;
    return rep;
}

/* A failed command: the reason on the handle, and the status. A
 * transport failure drops the connection (and tells the breaker). */
static int
command_failed(crumb_store *st, rstore *r)
{
    crumb_store_set_errmsg(st, "redis %s:%d: %s", r->conn.host, r->conn.port,
                           r->conn.c->err == REDIS_ERR_IO && errno == EAGAIN
                               ? "timeout"
                               : r->conn.c->errstr);
    int rc = r->conn.c->err == REDIS_ERR_OOM ? CRUMB_ENOMEM : CRUMB_EUNAVAIL;
    if (rc == CRUMB_EUNAVAIL)
        crumb__redis_fail(&r->conn);
    else
        crumb__redis_drop(&r->conn);
    return rc;
}

/* As crumb__rd_run(), the reply in r->arena: release it with
 * crumb__arena_reset(&r->arena), never freeReplyObject(). */
static redisReply *
run_arena(crumb_store *st, rstore *r, const args *a, int *rc)
{
    *rc = ensure(st, r);
    if (*rc != CRUMB_OK)
        return NULL;
    redisReply *rep = NULL;
    if (crumb__redis_append(r->conn.c, a->n, a->v, a->l) != REDIS_OK ||
        crumb__redis_get_reply_arena(r->conn.c, &r->arena, &rep) !=
            REDIS_OK) {
        crumb__arena_reset(&r->arena);
        *rc = command_failed(st, r);
        return NULL;
    }
    crumb__redis_ok(&r->conn);
    if (rep->type == REDIS_REPLY_ERROR) {
        *rc = reply_error(st, rep);
        crumb__arena_reset(&r->arena);
        return NULL;
    }
    return rep;
}

/* Send one command. Returns the reply (never an error reply) or NULL with
 * *rc set; a transport failure drops the connection. */
redisReply *
crumb__rd_run(crumb_store *st, rstore *r, args *a, int *rc)
{
    *rc = ensure(st, r);
    if (*rc != CRUMB_OK)
        return NULL;
    redisReply *rep = command(r, a);
    if (!rep) {
        *rc = command_failed(st, r);
        return NULL;
    }
    crumb__redis_ok(&r->conn);
    if (rep->type == REDIS_REPLY_ERROR) {
        *rc = reply_error(st, rep);
        freeReplyObject(rep);
        return NULL;
    }
    return rep;
}

/* Run script @id with @a holding its keys then its arguments (after the
 * three slots reserved by crumb__rd_script_args()). EVALSHA first; on NOSCRIPT
 * (a restarted or flushed Redis), EVAL, which caches it again. */
redisReply *
crumb__rd_script(crumb_store *st, rstore *r, int id, args *a, int *rc)
{
    a->v[0] = "EVALSHA";
    a->l[0] = 7;
    a->v[1] = r->sha[id];
    a->l[1] = 40;
    *rc = ensure(st, r);
    if (*rc != CRUMB_OK)
        return NULL;
    redisReply *rep = command(r, a);
    if (rep && rep->type == REDIS_REPLY_ERROR &&
        strncmp(rep->str, "NOSCRIPT", 8) == 0) {
        freeReplyObject(rep);
        a->v[0] = "EVAL";
        a->l[0] = 4;
        a->v[1] = scripts[id];
        a->l[1] = strlen(scripts[id]);
        return crumb__rd_run(st, r, a, rc);
    }
    if (!rep) {
        crumb_store_set_errmsg(st, "redis %s:%d: %s", r->conn.host, r->conn.port,
                               r->conn.c->err == REDIS_ERR_IO && errno == EAGAIN
                                   ? "timeout"
                                   : r->conn.c->errstr);
        *rc = CRUMB_EUNAVAIL;
        crumb__redis_fail(&r->conn);
        return NULL;
    }
    crumb__redis_ok(&r->conn);
    if (rep->type == REDIS_REPLY_ERROR) {
        *rc = reply_error(st, rep);
        freeReplyObject(rep);
        return NULL;
    }
    return rep;
}

void
crumb__rd_script_args(args *a, int nkeys)
{
    a->n = 2; /* EVALSHA sha, filled by crumb__rd_script() */
    crumb__rd_arg_int(a, nkeys);
}

/* An integer reply, or CRUMB_ESTORE. */
int
crumb__rd_int_reply(crumb_store *st, redisReply *rep, long long *out)
{
    int ok = rep->type == REDIS_REPLY_INTEGER;
    if (ok)
        *out = rep->integer;
    else
        crumb_store_set_errmsg(st, "redis: unexpected reply type %d",
                               rep->type);
    freeReplyObject(rep);
    return ok ? CRUMB_OK : CRUMB_ESTORE;
}

int
crumb__rd_script_int(crumb_store *st, rstore *r, int id, args *a,
                     long long *out)
{
    int rc;
    redisReply *rep = crumb__rd_script(st, r, id, a, &rc);
    return rep ? crumb__rd_int_reply(st, rep, out) : rc;
}

/* A decimal int64 as Redis returned it, strictly: no sign but '-', no
 * spaces, no trailing bytes. */
int
crumb__rd_parse_int(const redisReply *rep, int64_t *out)
{
    if (!rep || rep->type != REDIS_REPLY_STRING || rep->len == 0 ||
        rep->len > 20)
        return 0;
    char buf[24];
    memcpy(buf, rep->str, rep->len);
    buf[rep->len] = '\0';
    if (!(buf[0] == '-' || (buf[0] >= '0' && buf[0] <= '9')))
        return 0;
    char *end;
    errno = 0;
    long long v = strtoll(buf, &end, 10);
    if (errno || *end)
        return 0;
    *out = v;
    return 1;
}

static int
parse_text(const redisReply *rep, char *out, size_t max)
{
    if (!rep || rep->type != REDIS_REPLY_STRING ||
        !crumb__store_text_ok(rep->str, rep->len, max))
        return 0;
    memcpy(out, rep->str, rep->len);
    out[rep->len] = '\0';
    return 1;
}

/* Fill @rec's metadata from 7 replies: version created last_seen
 * expires_at user addr agent. Returns the first bad field or NULL. */
static const char *
parse_meta(redisReply **f, crumb_store_record *rec)
{
    if (!crumb__rd_parse_int(f[0], &rec->version) || rec->version <= 0)
        return "version";
    if (!crumb__rd_parse_int(f[1], &rec->created))
        return "created";
    if (!crumb__rd_parse_int(f[2], &rec->last_seen))
        return "last_seen";
    if (!crumb__rd_parse_int(f[3], &rec->expires_at) || rec->expires_at < 0)
        return "expires_at";
    if (!parse_text(f[4], rec->user, CRUMB_STORE_USER_MAX))
        return "user";
    if (!parse_text(f[5], rec->addr, CRUMB_STORE_ADDR_MAX))
        return "addr";
    if (!parse_text(f[6], rec->agent, CRUMB_STORE_AGENT_MAX))
        return "agent";
    return NULL;
}

static int
parse_uri(crumb_store *st, rstore *r, const char *uri)
{
    char why[96];
    int rc = crumb__redis_parse_uri(uri, &r->conn, r->prefix, PREFIX_MAX,
                                    why, sizeof why);
    if (rc != CRUMB_OK)
        crumb_store_set_errmsg(st, "redis URI: %s", why);
    return rc;
}

static void
sha1_hex(const char *text, char *out)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_Digest(text, strlen(text), md, &n, EVP_sha1(), NULL) != 1)
        n = 0; /* "": EVALSHA fails with NOSCRIPT and EVAL is used */
    crumb__store_hex(md, n, out);
}

static int
rd_open(crumb_store *st, const char *uri, const crumb_store_options *o,
        void **impl)
{
    rstore *r = calloc(1, sizeof(*r));
    if (!r)
        return CRUMB_ENOMEM;
    r->max_data = o->max_data_len;
    r->conn.connect_tv.tv_sec = o->connect_timeout_ms / 1000;
    r->conn.connect_tv.tv_usec = (o->connect_timeout_ms % 1000) * 1000;
    r->conn.cmd_tv.tv_sec = o->timeout_ms / 1000;
    r->conn.cmd_tv.tv_usec = (o->timeout_ms % 1000) * 1000;
    snprintf(r->prefix, sizeof(r->prefix), "%s", o->prefix);
    int rc = parse_uri(st, r, uri);
    if (rc == CRUMB_OK && (strlen(o->prefix) > PREFIX_MAX)) {
        crumb_store_set_errmsg(st, "redis prefix longer than %d",
                               PREFIX_MAX);
        rc = CRUMB_EINVAL;
    }
    if (rc == CRUMB_OK) {
        for (int i = 0; i < S_COUNT; i++)
            sha1_hex(scripts[i], r->sha[i]);
        rc = ensure(st, r);
    }
    if (rc != CRUMB_OK) {
        crumb__redis_drop(&r->conn);
        free(r);
        return rc;
    }
    *impl = r;
    return CRUMB_OK;
}

static void
rd_close(void *impl)
{
    rstore *r = impl;
    crumb__redis_drop(&r->conn);
    crumb__arena_reset(&r->arena);
    free(r);
}

static void
corrupt(crumb_store *st, const char *hex, const char *field)
{
    crumb_store_set_errmsg(st, "corrupt record %.16s...: bad %s; ignored",
                           hex, field);
}

static int
rd_load(crumb_store *st, const unsigned char *key, int64_t now,
        crumb_store_record *rec)
{
    rstore *r = crumb_store_impl(st);
    char k[RKEY_MAX], hex[HEX_LEN + 1];
    skey(r, key, k, hex);
    args a = {0};
    crumb__rd_arg_str(&a, "HMGET");
    crumb__rd_arg_str(&a, k);
    static const char *const fields[] = {"data", "version", "created",
                                         "last_seen", "expires_at", "user",
                                         "addr", "agent"};
    for (int i = 0; i < 8; i++)
        crumb__rd_arg_str(&a, fields[i]);
    int rc;
    redisReply *rep = run_arena(st, r, &a, &rc);
    if (!rep)
        return rc;
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 8) {
        crumb__arena_reset(&r->arena);
        crumb_store_set_errmsg(st, "redis HMGET: unexpected reply");
        return CRUMB_ESTORE;
    }
    int absent = 1;
    for (int i = 0; i < 8; i++)
        absent &= rep->element[i]->type == REDIS_REPLY_NIL;
    if (absent) {
        crumb__arena_reset(&r->arena);
        return CRUMB_ENOTFOUND;
    }
    redisReply *d = rep->element[0];
    const char *bad = parse_meta(rep->element + 1, rec);
    if (!bad && (d->type != REDIS_REPLY_STRING || d->len > r->max_data))
        bad = "data";
    if (bad || !crumb__store_live(rec->expires_at, now)) {
        if (bad)
            corrupt(st, hex, bad);
        crumb__arena_reset(&r->arena);
        memset(rec, 0, sizeof(*rec));
        return CRUMB_ENOTFOUND;
    }
    rec->data = malloc(d->len + 1);
    if (!rec->data) {
        crumb__arena_reset(&r->arena);
        memset(rec, 0, sizeof(*rec));
        return CRUMB_ENOMEM;
    }
    memcpy(rec->data, d->str, d->len);
    rec->data[d->len] = '\0';
    rec->len = d->len;
    memcpy(rec->key, key, CRUMB_STORE_KEY_LEN);
    crumb__arena_reset(&r->arena);
    return CRUMB_OK;
}

static int
rd_save(crumb_store *st, const unsigned char *key, crumb_store_record *rec,
        int64_t expected, int64_t now)
{
    rstore *r = crumb_store_impl(st);
    char k[RKEY_MAX], hex[HEX_LEN + 1], up[PREFIX_MAX + 4];
    skey(r, key, k, hex);
    crumb__rd_rkey(r, 'u', "", up); /* "P:u:" */
    args a;
    crumb__rd_script_args(&a, 1);
    crumb__rd_arg_str(&a, k);
    crumb__rd_arg_int(&a, expected);
    crumb__rd_arg_int(&a, now);
    crumb__rd_arg_bytes(&a, rec->len ? (const char *)rec->data : "", rec->len);
    crumb__rd_arg_int(&a, expected + 1);
    crumb__rd_arg_int(&a, rec->created);
    crumb__rd_arg_int(&a, rec->last_seen);
    crumb__rd_arg_int(&a, rec->expires_at);
    crumb__rd_arg_str(&a, rec->user);
    crumb__rd_arg_str(&a, rec->addr);
    crumb__rd_arg_str(&a, rec->agent);
    crumb__rd_arg_int(&a, rec->expires_at ? (rec->expires_at - now) * 1000 : 0);
    crumb__rd_arg_str(&a, hex);
    crumb__rd_arg_str(&a, up);
    long long v;
    int rc = crumb__rd_script_int(st, r, S_SAVE, &a, &v);
    if (rc != CRUMB_OK)
        return rc;
    return v == 1 ? CRUMB_OK : v == -2 ? CRUMB_ENOTFOUND : CRUMB_ECONFLICT;
}

static int
rd_destroy(crumb_store *st, const unsigned char *key)
{
    rstore *r = crumb_store_impl(st);
    char k[RKEY_MAX], hex[HEX_LEN + 1], up[PREFIX_MAX + 4];
    skey(r, key, k, hex);
    crumb__rd_rkey(r, 'u', "", up); /* "P:u:" */
    args a;
    crumb__rd_script_args(&a, 1);
    crumb__rd_arg_str(&a, k);
    crumb__rd_arg_str(&a, hex);
    crumb__rd_arg_str(&a, up);
    long long n;
    int rc = crumb__rd_script_int(st, r, S_DESTROY, &a, &n);
    return rc != CRUMB_OK ? rc : n ? CRUMB_OK : CRUMB_ENOTFOUND;
}

static int
rd_touch(crumb_store *st, const unsigned char *key, int64_t last_seen,
         int64_t expires_at, int64_t now)
{
    rstore *r = crumb_store_impl(st);
    char k[RKEY_MAX], hex[HEX_LEN + 1], up[PREFIX_MAX + 4];
    skey(r, key, k, hex);
    crumb__rd_rkey(r, 'u', "", up); /* "P:u:" */
    args a;
    crumb__rd_script_args(&a, 1);
    crumb__rd_arg_str(&a, k);
    crumb__rd_arg_int(&a, now);
    crumb__rd_arg_int(&a, last_seen);
    crumb__rd_arg_int(&a, expires_at);
    crumb__rd_arg_int(&a, expires_at ? (expires_at - now) * 1000 : 0);
    crumb__rd_arg_str(&a, up);
    long long n;
    int rc = crumb__rd_script_int(st, r, S_TOUCH, &a, &n);
    return rc != CRUMB_OK ? rc : n ? CRUMB_OK : CRUMB_ENOTFOUND;
}

/* The scripts over a user's index take the index key, now, the record
 * key prefix and the user. */
static redisReply *
user_script(crumb_store *st, rstore *r, int id, const char *user,
            const char *arg1, size_t arg1_len, int *rc)
{
    char uk[RKEY_MAX], sp[PREFIX_MAX + 4];
    crumb__rd_rkey(r, 'u', user, uk);
    snprintf(sp, sizeof(sp), "%s:s:", r->prefix);
    args a;
    crumb__rd_script_args(&a, 1);
    crumb__rd_arg_str(&a, uk);
    crumb__rd_arg_bytes(&a, arg1, arg1_len);
    crumb__rd_arg_str(&a, sp);
    crumb__rd_arg_str(&a, user);
    return crumb__rd_script(st, r, id, &a, rc);
}

static int
rd_list_user(crumb_store *st, const char *user, int64_t now,
             crumb_store_record **recs, size_t *n)
{
    rstore *r = crumb_store_impl(st);
    char nowbuf[24];
    int nl = snprintf(nowbuf, sizeof(nowbuf), "%" PRId64, now);
    int rc;
    redisReply *rep = user_script(st, r, S_LIST, user, nowbuf, (size_t)nl,
                                  &rc);
    if (!rep)
        return rc;
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements % 8) {
        freeReplyObject(rep);
        crumb_store_set_errmsg(st, "redis list: unexpected reply");
        return CRUMB_ESTORE;
    }
    size_t total = rep->elements / 8, cnt = 0;
    crumb_store_record *out = NULL;
    if (total && !(out = calloc(total, sizeof(*out)))) {
        freeReplyObject(rep);
        return CRUMB_ENOMEM;
    }
    for (size_t i = 0; i < total; i++) {
        redisReply **f = rep->element + 8 * i;
        crumb_store_record *rec = &out[cnt];
        const char *bad = NULL;
        if (f[0]->type != REDIS_REPLY_STRING || f[0]->len != HEX_LEN ||
            !crumb__store_unhex(f[0]->str, HEX_LEN, rec->key))
            bad = "key";
        if (!bad)
            bad = parse_meta(f + 1, rec);
        if (bad) {
            crumb_store_set_errmsg(st, "corrupt record of user %s: bad %s;"
                                       " ignored", user, bad);
            memset(rec, 0, sizeof(*rec));
            continue;
        }
        cnt++;
    }
    freeReplyObject(rep);
    if (cnt == 0) {
        free(out);
        out = NULL;
    }
    *recs = out;
    *n = cnt;
    return CRUMB_OK;
}

static int
rd_destroy_user(crumb_store *st, const char *user,
                const unsigned char *except_key, size_t *count)
{
    rstore *r = crumb_store_impl(st);
    char hex[HEX_LEN + 1] = "";
    if (except_key)
        crumb__store_hex(except_key, CRUMB_STORE_KEY_LEN, hex);
    int rc;
    redisReply *rep = user_script(st, r, S_DESTROY_USER, user, hex,
                                  strlen(hex), &rc);
    if (!rep)
        return rc;
    long long v;
    rc = crumb__rd_int_reply(st, rep, &v);
    if (rc == CRUMB_OK)
        *count = (size_t)v;
    return rc;
}

/* The SCAN pattern "P:x:*" for keys of @kind, with the glob characters
 * of the prefix escaped; returns the length of the literal "P:x:". */
size_t
crumb__rd_scan_pattern(const rstore *r, char kind, char *pattern)
{
    size_t j = 0;
    for (const char *p = r->prefix; *p; p++) {
        if (strchr("*?[]\\", *p))
            pattern[j++] = '\\';
        pattern[j++] = *p;
    }
    pattern[j++] = ':';
    pattern[j++] = kind;
    memcpy(pattern + j, ":*", 3);
    return strlen(r->prefix) + 3;
}

/* One SCAN step from @cursor (updated in place). Returns the reply, whose
 * element[1] is the array of keys, or NULL with *rc set. */
redisReply *
crumb__rd_scan_step(crumb_store *st, rstore *r, char *cursor, size_t cursor_size,
          const char *pattern, int *rc)
{
    args a = {0};
    crumb__rd_arg_str(&a, "SCAN");
    crumb__rd_arg_str(&a, cursor);
    crumb__rd_arg_str(&a, "MATCH");
    crumb__rd_arg_str(&a, pattern);
    crumb__rd_arg_str(&a, "COUNT");
    crumb__rd_arg_str(&a, SCAN_COUNT);
    redisReply *rep = crumb__rd_run(st, r, &a, rc);
    if (!rep)
        return NULL;
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
        rep->element[0]->type != REDIS_REPLY_STRING ||
        rep->element[0]->len >= cursor_size ||
        rep->element[1]->type != REDIS_REPLY_ARRAY) {
        freeReplyObject(rep);
        crumb_store_set_errmsg(st, "redis SCAN: unexpected reply");
        *rc = CRUMB_ESTORE;
        return NULL;
    }
    memcpy(cursor, rep->element[0]->str, rep->element[0]->len);
    cursor[rep->element[0]->len] = '\0';
    return rep;
}

/* SCAN the user indexes and clean each: Redis' TTLs remove the records
 * themselves, this removes the index members (and the records expired at
 * the caller's @now that the TTL has not caught yet). */
static int
rd_gc(crumb_store *st, int64_t now, size_t *removed)
{
    rstore *r = crumb_store_impl(st);
    char pattern[2 * PREFIX_MAX + 8];
    size_t plen = crumb__rd_scan_pattern(r, 'u', pattern);
    char nowbuf[24];
    int nl = snprintf(nowbuf, sizeof(nowbuf), "%" PRId64, now);
    char cursor[32] = "0";
    do {
        int rc;
        redisReply *rep = crumb__rd_scan_step(st, r, cursor, sizeof(cursor), pattern,
                                    &rc);
        if (!rep)
            return rc;
        redisReply *keys = rep->element[1];
        for (size_t i = 0; i < keys->elements; i++) {
            redisReply *kr = keys->element[i];
            char user[CRUMB_STORE_USER_MAX + 1];
            if (kr->type != REDIS_REPLY_STRING || kr->len <= plen ||
                kr->len - plen > CRUMB_STORE_USER_MAX ||
                memchr(kr->str, '\0', kr->len))
                continue;
            memcpy(user, kr->str + plen, kr->len - plen);
            user[kr->len - plen] = '\0';
            redisReply *g = user_script(st, r, S_GC_USER, user, nowbuf,
                                        (size_t)nl, &rc);
            long long v = 0;
            if (!g || (rc = crumb__rd_int_reply(st, g, &v)) != CRUMB_OK) {
                freeReplyObject(rep);
                return rc;
            }
            *removed += (size_t)v;
        }
        freeReplyObject(rep);
    } while (strcmp(cursor, "0") != 0);
    return CRUMB_OK;
}

/* The metadata of the records named in one SCAN step's @keys, read with
 * one pipelined HMGET each; live ones are offered to @top. A key that
 * vanished since the SCAN is skipped, a corrupt one too (with a message).
 * A transport failure drops the connection: replies may be pending. */
static int
list_batch(crumb_store *st, rstore *r, const redisReply *keys, size_t plen,
           int64_t now, crumb__store_top *top)
{
    static const char *const fields[] = {"version", "created", "last_seen",
                                         "expires_at", "user", "addr",
                                         "agent"};
    if (keys->elements == 0)
        return CRUMB_OK;
    unsigned char(*bin)[CRUMB_STORE_KEY_LEN] =
        malloc(keys->elements * sizeof(*bin));
    if (!bin)
        return CRUMB_ENOMEM;
    size_t sent = 0, i;
    int rc = CRUMB_OK;
    for (i = 0; i < keys->elements; i++) {
        const redisReply *kr = keys->element[i];
        if (kr->type != REDIS_REPLY_STRING || kr->len != plen + HEX_LEN ||
            !crumb__store_unhex(kr->str + plen, HEX_LEN, bin[sent]))
            continue;
        args a = {0};
        crumb__rd_arg_str(&a, "HMGET");
        crumb__rd_arg_bytes(&a, kr->str, kr->len);
        for (int f = 0; f < 7; f++)
            crumb__rd_arg_str(&a, fields[f]);
        if (crumb__redis_append(r->conn.c, a.n, a.v, a.l) != REDIS_OK) {
            rc = CRUMB_ENOMEM;
            break;
        }
        sent++;
    }
    for (i = 0; i < sent && rc == CRUMB_OK; i++) {
        redisReply *rep = NULL;
        if (redisGetReply(r->conn.c, (void **)&rep) != REDIS_OK || !rep) {
            crumb_store_set_errmsg(st, "redis %s:%d: %s", r->conn.host, r->conn.port,
                                   r->conn.c->err == REDIS_ERR_IO &&
                                           errno == EAGAIN
                                       ? "timeout"
                                       : r->conn.c->errstr);
            rc = CRUMB_EUNAVAIL;
            break;
        }
        crumb_store_record rec;
        memset(&rec, 0, sizeof(rec));
        int absent = 1;
        if (rep->type == REDIS_REPLY_ERROR) {
            rc = reply_error(st, rep);
        } else if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 7) {
            crumb_store_set_errmsg(st, "redis HMGET: unexpected reply");
            rc = CRUMB_ESTORE;
        } else {
            for (int f = 0; f < 7; f++)
                absent &= rep->element[f]->type == REDIS_REPLY_NIL;
        }
        const char *bad = rc == CRUMB_OK && !absent
                              ? parse_meta(rep->element, &rec)
                              : NULL;
        if (bad) {
            char hex[17];
            crumb__store_hex(bin[i], 8, hex);
            corrupt(st, hex, bad);
        } else if (rc == CRUMB_OK && !absent &&
                   crumb__store_live(rec.expires_at, now)) {
            memcpy(rec.key, bin[i], CRUMB_STORE_KEY_LEN);
            rc = crumb__store_top_add(top, &rec);
        }
        freeReplyObject(rep);
    }
    if (i < sent)
        crumb__redis_drop(&r->conn);
    free(bin);
    return rc;
}

/* Walks every record key with SCAN (COUNT SCAN_COUNT per step, never
 * KEYS, so Redis keeps serving others between steps); memory is bounded
 * by @limit, time by the number of keys. */
static int
rd_list_all(crumb_store *st, int64_t now, size_t limit,
            crumb_store_record **recs, size_t *n)
{
    rstore *r = crumb_store_impl(st);
    char pattern[2 * PREFIX_MAX + 8];
    size_t plen = crumb__rd_scan_pattern(r, 's', pattern);
    crumb__store_top top = {.limit = limit};
    char cursor[32] = "0";
    int rc = CRUMB_OK;
    do {
        redisReply *rep = crumb__rd_scan_step(st, r, cursor, sizeof(cursor), pattern,
                                    &rc);
        if (!rep)
            break;
        rc = list_batch(st, r, rep->element[1], plen, now, &top);
        freeReplyObject(rep);
    } while (rc == CRUMB_OK && strcmp(cursor, "0") != 0);
    if (rc != CRUMB_OK) {
        free(top.recs);
        return rc;
    }
    *recs = top.recs;
    *n = top.n;
    return CRUMB_OK;
}

const crumb_store_ops crumb__store_redis_ops = {
    .version = CRUMB_STORE_OPS_VERSION,
    .scheme = "redis",
    .open = rd_open,
    .close = rd_close,
    .load = rd_load,
    .save = rd_save,
    .destroy = rd_destroy,
    .touch = rd_touch,
    .list_user = rd_list_user,
    .destroy_user = rd_destroy_user,
    .gc = rd_gc,
    .incr_counter = crumb__rd_incr_counter,
    .kv_set = crumb__rd_kv_set,
    .kv_get = crumb__rd_kv_get,
    .kv_del = crumb__rd_kv_del,
    .list_all = rd_list_all,
    .log_append = crumb__rd_log_append,
    .log_scan = crumb__rd_log_scan,
    .log_append_many = crumb__rd_log_append_many,
};
