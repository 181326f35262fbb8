/* redis_kv.c - the redis store's counters, kv values and capped logs
 * (keys P:c:, P:k:, P:l:; see redis.c for the layout). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/redis_int.h"
#include "store/store_int.h"

int
crumb__rd_incr_counter(crumb_store *st, const char *name, int64_t delta,
                int64_t window, int64_t now, int64_t *value)
{
    rstore *r = crumb_store_impl(st);
    char k[RKEY_MAX];
    crumb__rd_rkey(r, 'c', name, k);
    args a;
    crumb__rd_script_args(&a, 1);
    crumb__rd_arg_str(&a, k);
    crumb__rd_arg_int(&a, delta);
    crumb__rd_arg_int(&a, now);
    crumb__rd_arg_int(&a, window ? now + window : 0);
    crumb__rd_arg_int(&a, window * 1000);
    long long v;
    int rc = crumb__rd_script_int(st, r, S_COUNTER, &a, &v);
    if (rc == CRUMB_OK)
        *value = v;
    return rc;
}

int
crumb__rd_kv_set(crumb_store *st, const char *name, const void *data, size_t len,
          int64_t ttl, int64_t now)
{
    rstore *r = crumb_store_impl(st);
    char k[RKEY_MAX];
    crumb__rd_rkey(r, 'k', name, k);
    args a;
    crumb__rd_script_args(&a, 1);
    crumb__rd_arg_str(&a, k);
    crumb__rd_arg_bytes(&a, data, len);
    crumb__rd_arg_int(&a, ttl ? now + ttl : 0);
    crumb__rd_arg_int(&a, ttl * 1000);
    long long v;
    return crumb__rd_script_int(st, r, S_KV_SET, &a, &v);
}

int
crumb__rd_kv_get(crumb_store *st, const char *name, int64_t now,
          unsigned char **data, size_t *len)
{
    rstore *r = crumb_store_impl(st);
    char k[RKEY_MAX];
    crumb__rd_rkey(r, 'k', name, k);
    args a = {0};
    crumb__rd_arg_str(&a, "HMGET");
    crumb__rd_arg_str(&a, k);
    crumb__rd_arg_str(&a, "d");
    crumb__rd_arg_str(&a, "exp");
    int rc;
    redisReply *rep = crumb__rd_run(st, r, &a, &rc);
    if (!rep)
        return rc;
    int64_t exp = 0;
    rc = CRUMB_ENOTFOUND;
    if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 &&
        rep->element[0]->type == REDIS_REPLY_STRING &&
        rep->element[0]->len <= r->max_data &&
        crumb__rd_parse_int(rep->element[1], &exp)) {
        if (crumb__store_live(exp, now)) {
            redisReply *d = rep->element[0];
            *data = malloc(d->len + 1);
            rc = *data ? CRUMB_OK : CRUMB_ENOMEM;
            if (*data) {
                memcpy(*data, d->str, d->len);
                (*data)[d->len] = '\0';
                *len = d->len;
            }
        }
    } else if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
               rep->element[0]->type != REDIS_REPLY_NIL ||
               rep->element[1]->type != REDIS_REPLY_NIL) {
        crumb_store_set_errmsg(st, "corrupt kv entry %.40s; ignored", name);
    }
    freeReplyObject(rep);
    return rc;
}

int
crumb__rd_kv_del(crumb_store *st, const char *name)
{
    rstore *r = crumb_store_impl(st);
    char k[RKEY_MAX];
    crumb__rd_rkey(r, 'k', name, k);
    args a = {0};
    crumb__rd_arg_str(&a, "DEL");
    crumb__rd_arg_str(&a, k);
    int rc;
    redisReply *rep = crumb__rd_run(st, r, &a, &rc);
    if (!rep)
        return rc;
    long long n;
    rc = crumb__rd_int_reply(st, rep, &n);
    return rc != CRUMB_OK ? rc : n ? CRUMB_OK : CRUMB_ENOTFOUND;
}

/* The arguments of the log script for one append, into @a (with @k as
 * room for the key). */
static void
log_args(rstore *r, args *a, char *k, const char *name, const void *item,
         size_t len, size_t cap, int64_t ttl, int64_t now)
{
    crumb__rd_rkey(r, 'l', name, k);
    crumb__rd_script_args(a, 1);
    crumb__rd_arg_str(a, k);
    crumb__rd_arg_bytes(a, item, len);
    crumb__rd_arg_int(a, now);
    crumb__rd_arg_int(a, now + ttl);
    crumb__rd_arg_int(a, (int64_t)cap);
    crumb__rd_arg_int(a, ttl * 1000);
    a->v[0] = "EVALSHA";
    a->l[0] = 7;
    a->v[1] = r->sha[S_LOG_APPEND];
    a->l[1] = 40;
}

int
crumb__rd_log_append(crumb_store *st, const char *name, const void *item,
              size_t len, size_t cap, int64_t ttl, int64_t now)
{
    rstore *r = crumb_store_impl(st);
    char k[RKEY_MAX];
    args a;
    log_args(r, &a, k, name, item, len, cap, ttl, now);
    long long v;
    return crumb__rd_script_int(st, r, S_LOG_APPEND, &a, &v);
}

/* Appends per S_LOG_APPEND_MANY call: a call runs at most this many
 * times the six list commands, so Redis is never busy long with one. */
#define LOG_CHUNK 64

typedef struct log_call {
    const char *v[5 + 4 * LOG_CHUNK];
    size_t l[5 + 4 * LOG_CHUNK];
    char num[2 + 2 * LOG_CHUNK][24];
    char key[LOG_CHUNK][RKEY_MAX];
} log_call;

/* The S_LOG_APPEND_MANY call (EVALSHA, or EVAL when @eval) for the @k
 * entries at @ev into @c; returns its argument count. */
static int
log_call_args(rstore *r, log_call *c, const crumb_store_log_entry *ev,
              size_t k, size_t cap, int64_t ttl, int eval)
{
    int n = 0, m = 0;
    c->v[n] = eval ? "EVAL" : "EVALSHA";
    c->l[n] = strlen(c->v[n]);
    n++;
    c->v[n] = eval ? crumb__rd_script_text(S_LOG_APPEND_MANY)
                   : r->sha[S_LOG_APPEND_MANY];
    c->l[n] = strlen(c->v[n]);
    n++;
    c->l[n] = crumb__rd_fmt_int(c->num[m], (int64_t)k);
    c->v[n++] = c->num[m++];
    for (size_t i = 0; i < k; i++) {
        crumb__rd_rkey(r, 'l', ev[i].name, c->key[i]);
        c->v[n] = c->key[i];
        c->l[n++] = strlen(c->key[i]);
    }
    c->l[n] = crumb__rd_fmt_int(c->num[m], (int64_t)cap);
    c->v[n++] = c->num[m++];
    c->l[n] = crumb__rd_fmt_int(c->num[m], ttl * 1000);
    c->v[n++] = c->num[m++];
    for (size_t i = 0; i < k; i++) {
        c->v[n] = ev[i].item;
        c->l[n++] = ev[i].len;
        c->l[n] = crumb__rd_fmt_int(c->num[m], ev[i].now);
        c->v[n++] = c->num[m++];
        c->l[n] = crumb__rd_fmt_int(c->num[m], ev[i].now + ttl);
        c->v[n++] = c->num[m++];
    }
    return n;
}

/* One S_LOG_APPEND_MANY reply for @k appends: how many were done into
 * *appended; CRUMB_OK, or CRUMB_ESTORE with the message on @st. */
static int
log_call_reply(crumb_store *st, const redisReply *rep, size_t k,
               size_t *appended)
{
    if (rep->type == REDIS_REPLY_INTEGER && rep->integer >= 0 &&
        (size_t)rep->integer <= k) {
        *appended += (size_t)rep->integer;
        if ((size_t)rep->integer == k)
            return CRUMB_OK;
        crumb_store_set_errmsg(st, "redis: %zu of %zu log appends failed",
                               k - (size_t)rep->integer, k);
    } else if (rep->type == REDIS_REPLY_ERROR) {
        crumb_store_set_errmsg(st, "redis: %s", rep->str);
    } else {
        crumb_store_set_errmsg(st, "redis: unexpected reply type %d",
                               rep->type);
    }
    return CRUMB_ESTORE;
}

static int
log_transport_failed(crumb_store *st, rstore *r)
{
    crumb_store_set_errmsg(st, "redis %s:%d: %s", r->conn.host, r->conn.port,
                           r->conn.c->err == REDIS_ERR_IO && errno == EAGAIN
                               ? "timeout"
                               : r->conn.c->errstr);
    crumb__redis_fail(&r->conn);
    return CRUMB_EUNAVAIL;
}

/*
 * A batch as one pipeline of S_LOG_APPEND_MANY calls, LOG_CHUNK appends
 * each: every call is written, then every reply read, so n appends cost
 * one round trip and n / LOG_CHUNK scripts instead of n. Each append is
 * atomic, the batch is not: an append that fails does not stop the ones
 * after it. Calls refused with NOSCRIPT (a restarted or flushed Redis)
 * are sent again, in order, after the pipeline, as EVAL (which caches the
 * script again). A transport failure drops the connection: replies may
 * be pending on it.
 */
int
crumb__rd_log_append_many(crumb_store *st, const crumb_store_log_entry *ev,
                          size_t n, size_t cap, int64_t ttl,
                          size_t *appended)
{
    rstore *r = crumb_store_impl(st);
    char why[320];
    int rc = crumb__redis_ensure(&r->conn, why, sizeof why);
    if (rc != CRUMB_OK) {
        crumb_store_set_errmsg(st, "%s", why);
        return rc;
    }
    size_t calls = (n + LOG_CHUNK - 1) / LOG_CHUNK;
    log_call *c = malloc(sizeof *c);
    unsigned char *noscript = calloc(calls, 1);
    if (!c || !noscript) {
        free(c);
        free(noscript);
        return CRUMB_ENOMEM;
    }
    for (size_t i = 0; i < calls; i++) {
        size_t k = i + 1 < calls ? LOG_CHUNK : n - i * LOG_CHUNK;
        int argc = log_call_args(r, c, ev + i * LOG_CHUNK, k, cap, ttl, 0);
        if (crumb__redis_append(r->conn.c, argc, c->v, c->l) != REDIS_OK) {
            crumb__redis_drop(&r->conn);
            crumb_store_set_errmsg(st, "redis: out of memory");
            rc = CRUMB_ENOMEM;
            goto out;
        }
    }
    size_t retry = 0;
    for (size_t i = 0; i < calls; i++) {
        size_t k = i + 1 < calls ? LOG_CHUNK : n - i * LOG_CHUNK;
        redisReply *rep = NULL;
        if (redisGetReply(r->conn.c, (void **)&rep) != REDIS_OK || !rep) {
            rc = log_transport_failed(st, r);
            goto out;
        }
        crumb__redis_ok(&r->conn);
        if (rep->type == REDIS_REPLY_ERROR &&
            strncmp(rep->str, "NOSCRIPT", 8) == 0) {
            noscript[i] = 1;
            retry++;
        } else {
            int one = log_call_reply(st, rep, k, appended);
            if (rc == CRUMB_OK)
                rc = one;
        }
        freeReplyObject(rep);
    }
    for (size_t i = 0; i < calls && retry > 0; i++) {
        if (!noscript[i])
            continue;
        retry--;
        size_t k = i + 1 < calls ? LOG_CHUNK : n - i * LOG_CHUNK;
        int argc = log_call_args(r, c, ev + i * LOG_CHUNK, k, cap, ttl, 1);
        redisReply *rep = NULL;
        if (crumb__redis_append(r->conn.c, argc, c->v, c->l) != REDIS_OK) {
            crumb__redis_drop(&r->conn);
            crumb_store_set_errmsg(st, "redis: out of memory");
            rc = CRUMB_ENOMEM;
            goto out;
        }
        if (redisGetReply(r->conn.c, (void **)&rep) != REDIS_OK || !rep) {
            rc = log_transport_failed(st, r);
            goto out;
        }
        crumb__redis_ok(&r->conn);
        int one = log_call_reply(st, rep, k, appended);
        if (rc == CRUMB_OK)
            rc = one;
        freeReplyObject(rep);
    }
out:
    free(noscript);
    free(c);
    return rc;
}

/* Hands the log in one LRANGE reply to @fn when it is live at @now and
 * well formed (a list of strings led by its expiry); else skips it. */
static int
log_visit(const redisReply *rep, const char *name, int64_t now,
          crumb_store_item **items, size_t *cap, crumb_store_log_fn fn,
          void *arg)
{
    int64_t exp;
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements < 2 ||
        !crumb__rd_parse_int(rep->element[0], &exp) || !crumb__store_live(exp, now))
        return CRUMB_OK;
    size_t n = rep->elements - 1;
    if (n > *cap) {
        crumb_store_item *t = realloc(*items, n * sizeof(*t));
        if (!t)
            return CRUMB_ENOMEM;
        *items = t;
        *cap = n;
    }
    for (size_t i = 0; i < n; i++) {
        const redisReply *e = rep->element[i + 1];
        if (e->type != REDIS_REPLY_STRING || e->len == 0 ||
            e->len > CRUMB_STORE_LOG_ITEM_MAX)
            return CRUMB_OK;
        (*items)[i].data = (const unsigned char *)e->str;
        (*items)[i].len = e->len;
    }
    return fn(arg, name, *items, n);
}

/* The logs named in one SCAN step's @keys, read with one pipelined
 * LRANGE each. A transport failure drops the connection: replies may
 * be pending. */
static int
log_batch(crumb_store *st, rstore *r, const redisReply *keys, size_t plen,
          int64_t now, crumb_store_log_fn fn, void *arg)
{
    size_t sent = 0, i;
    int rc = CRUMB_OK;
    char *sel = calloc(keys->elements ? keys->elements : 1, 1);
    if (!sel)
        return CRUMB_ENOMEM;
    for (i = 0; i < keys->elements; i++) {
        const redisReply *kr = keys->element[i];
        if (kr->type != REDIS_REPLY_STRING || kr->len <= plen ||
            kr->len - plen > CRUMB_STORE_NAME_MAX ||
            memchr(kr->str, '\0', kr->len))
            continue;
        args a = {0};
        crumb__rd_arg_str(&a, "LRANGE");
        crumb__rd_arg_bytes(&a, kr->str, kr->len);
        crumb__rd_arg_str(&a, "0");
        crumb__rd_arg_str(&a, "-1");
        if (crumb__redis_append(r->conn.c, a.n, a.v, a.l) != REDIS_OK) {
            rc = CRUMB_ENOMEM;
            break;
        }
        sel[i] = 1;
        sent++;
    }
    crumb_store_item *items = NULL;
    size_t cap = 0, got = 0;
    for (i = 0; i < keys->elements && got < sent; i++) {
        if (!sel[i])
            continue;
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
        got++;
        /* After a failure the remaining replies are still read, so the
         * connection stays in step. */
        if (rc == CRUMB_OK && rep->type != REDIS_REPLY_ERROR) {
            const redisReply *kr = keys->element[i];
            char name[CRUMB_STORE_NAME_MAX + 1];
            memcpy(name, kr->str + plen, kr->len - plen);
            name[kr->len - plen] = '\0';
            rc = log_visit(rep, name, now, &items, &cap, fn, arg);
        }
        freeReplyObject(rep);
    }
    if (got < sent)
        crumb__redis_drop(&r->conn);
    free(items);
    free(sel);
    return rc;
}

int
crumb__rd_log_scan(crumb_store *st, const char *prefix, int64_t now,
            crumb_store_log_fn fn, void *arg)
{
    rstore *r = crumb_store_impl(st);
    char pattern[2 * (PREFIX_MAX + CRUMB_STORE_NAME_MAX) + 8];
    size_t plen = crumb__rd_scan_pattern(r, 'l', pattern);
    /* crumb__rd_scan_pattern() wrote "P:l:*" with P escaped: put the escaped
     * prefix before the final '*'. */
    size_t j = strlen(pattern) - 1;
    for (const char *p = prefix; *p; p++) {
        if (strchr("*?[]\\", *p))
            pattern[j++] = '\\';
        pattern[j++] = *p;
    }
    memcpy(pattern + j, "*", 2);
    char cursor[32] = "0";
    int rc = CRUMB_OK;
    do {
        redisReply *rep = crumb__rd_scan_step(st, r, cursor, sizeof(cursor), pattern,
                                    &rc);
        if (!rep)
            break;
        rc = log_batch(st, r, rep->element[1], plen, now, fn, arg);
        freeReplyObject(rep);
    } while (rc == CRUMB_OK && strcmp(cursor, "0") != 0);
    return rc;
}
