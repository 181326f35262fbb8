/* redis_conn.c - connecting to Redis with timeouts, behind the breaker. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <crumb/error.h>

#include "redis_breaker.h"
#include "redis_conn.h"

/* Decimal digits of @v at @p; returns the end. */
static char *
put_uint(char *p, size_t v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = tmp[--n];
    return p;
}

/*
 * The RESP array of bulk strings for @argc arguments, written here
 * rather than by redisAppendCommandArgv(): hiredis 0.14 builds it with
 * sdscatfmt() one "$%u\r\n" at a time, about 2,000 instructions a
 * command, which was a tenth of crumb-shop's own work on a Redis
 * /visits. Short commands are formatted on the stack.
 */
int
crumb__redis_append(redisContext *c, int argc, const char *const *argv,
                    const size_t *len)
{
    size_t need = 16;
    for (int i = 0; i < argc; i++)
        need += len[i] + 24 + 4;
    char stack[2048];
    char *buf = need <= sizeof stack ? stack : malloc(need);
    if (!buf) {
        c->err = REDIS_ERR_OOM;
        snprintf(c->errstr, sizeof c->errstr, "Out of memory");
        return REDIS_ERR;
    }
    char *p = buf;
    *p++ = '*';
    p = put_uint(p, (size_t)argc);
    *p++ = '\r';
    *p++ = '\n';
    for (int i = 0; i < argc; i++) {
        *p++ = '$';
        p = put_uint(p, len[i]);
        *p++ = '\r';
        *p++ = '\n';
        if (len[i])
            memcpy(p, argv[i], len[i]);
        p += len[i];
        *p++ = '\r';
        *p++ = '\n';
    }
    int rc = redisAppendFormattedCommand(c, buf, (size_t)(p - buf));
    if (buf != stack)
        free(buf);
    return rc;
}

struct crumb__arena_chunk {
    struct crumb__arena_chunk *next;
    size_t size, used;
    _Alignas(16) unsigned char data[];
};

static void *
arena_alloc(crumb__arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (CRUMB__ARENA_SIZE - a->used >= n) {
        void *p = a->first + a->used;
        a->used += n;
        return p;
    }
    struct crumb__arena_chunk *c = a->extra;
    if (!c || c->size - c->used < n) {
        size_t size = n > 4096 ? n : 4096;
        c = malloc(sizeof *c + size);
        if (!c)
            return NULL;
        c->size = size;
        c->used = 0;
        c->next = a->extra;
        a->extra = c;
    }
    void *p = c->data + c->used;
    c->used += n;
    return p;
}

void
crumb__arena_reset(crumb__arena *a)
{
    while (a->extra) {
        struct crumb__arena_chunk *next = a->extra->next;
        free(a->extra);
        a->extra = next;
    }
    a->used = 0;
}

/* A reply object in the arena, linked into its parent array. */
static redisReply *
arena_reply(const redisReadTask *task, int type)
{
    crumb__arena *a = task->privdata;
    redisReply *r = arena_alloc(a, sizeof *r);
    if (!r)
        return NULL;
    memset(r, 0, sizeof *r);
    r->type = type;
    if (task->parent) {
        redisReply *parent = task->parent->obj;
        parent->element[task->idx] = r;
    }
    return r;
}

static void *
arena_string(const redisReadTask *task, char *str, size_t len)
{
    redisReply *r = arena_reply(task, task->type);
    char *p = r ? arena_alloc(task->privdata, len + 1) : NULL;
    if (!p)
        return NULL;
    memcpy(p, str, len);
    p[len] = '\0';
    r->str = p;
    r->len = len;
    return r;
}

static void *
arena_array(const redisReadTask *task, int elements)
{
    redisReply *r = arena_reply(task, REDIS_REPLY_ARRAY);
    if (!r)
        return NULL;
    if (elements > 0) {
        r->element = arena_alloc(task->privdata,
                                 (size_t)elements * sizeof(redisReply *));
        if (!r->element)
            return NULL;
        memset(r->element, 0, (size_t)elements * sizeof(redisReply *));
    }
    r->elements = (size_t)elements;
    return r;
}

static void *
arena_integer(const redisReadTask *task, long long value)
{
    redisReply *r = arena_reply(task, REDIS_REPLY_INTEGER);
    if (r)
        r->integer = value;
    return r;
}

static void *
arena_nil(const redisReadTask *task)
{
    return arena_reply(task, REDIS_REPLY_NIL);
}

static void
arena_free(void *obj)
{
    (void)obj; /* the arena's reset frees it */
}

static redisReplyObjectFunctions arena_fns = {
    arena_string, arena_array, arena_integer, arena_nil, arena_free,
};

int
crumb__redis_get_reply_arena(redisContext *c, crumb__arena *a,
                             redisReply **out)
{
    redisReplyObjectFunctions *fn = c->reader->fn;
    void *priv = c->reader->privdata;
    c->reader->fn = &arena_fns;
    c->reader->privdata = a;
    void *rep = NULL;
    int rc = redisGetReply(c, &rep);
    /* A reply cut short stays half built in the reader, which would hand
     * it to hiredis' freeReplyObject() when the context is freed: it is
     * the arena's. (The caller drops the connection after a failure.) */
    if (rc != REDIS_OK)
        c->reader->reply = NULL;
    c->reader->fn = fn;
    c->reader->privdata = priv;
    *out = rep;
    return rc == REDIS_OK && rep ? REDIS_OK : REDIS_ERR;
}

void
crumb__redis_drop(crumb__redis_conn *r)
{
    if (r->c)
        redisFree(r->c);
    r->c = NULL;
}

void
crumb__redis_fail(crumb__redis_conn *r)
{
    crumb__breaker_failed(r->host, r->port);
    crumb__redis_drop(r);
}

void
crumb__redis_ok(crumb__redis_conn *r)
{
    crumb__breaker_ok(r->host, r->port);
}

int
crumb__redis_ensure(crumb__redis_conn *r, char *why, size_t size)
{
    if (!crumb__breaker_allow(r->host, r->port)) {
        snprintf(why, size,
                 "redis %s:%d: down (failing fast after a recent failure)",
                 r->host, r->port);
        crumb__redis_drop(r);
        return CRUMB_EUNAVAIL;
    }
    if (r->c)
        return CRUMB_OK;
    r->c = redisConnectWithTimeout(r->host, r->port, r->connect_tv);
    if (!r->c || r->c->err) {
        snprintf(why, size, "redis %s:%d: %s", r->host, r->port,
                 r->c ? r->c->errstr : "out of memory");
        crumb__redis_fail(r);
        return CRUMB_EUNAVAIL;
    }
    if (redisSetTimeout(r->c, r->cmd_tv) != REDIS_OK) {
        snprintf(why, size, "redis: cannot set the timeout");
        crumb__redis_fail(r);
        return CRUMB_EUNAVAIL;
    }
    if (r->db != 0) {
        redisReply *rep = redisCommand(r->c, "SELECT %d", r->db);
        int ok = rep && rep->type == REDIS_REPLY_STATUS;
        if (!ok)
            snprintf(why, size, "redis SELECT %d: %s", r->db,
                     rep && rep->type == REDIS_REPLY_ERROR ? rep->str
                                                           : r->c->errstr);
        int transport = !rep;
        freeReplyObject(rep);
        if (!ok) {
            if (transport)
                crumb__redis_fail(r);
            else
                crumb__redis_drop(r);
            return transport ? CRUMB_EUNAVAIL : CRUMB_ESTORE;
        }
    }
    return CRUMB_OK;
}

/* A timeout in milliseconds from the query, 1 to 3600000. */
static int
parse_ms(const char *v, size_t vl, struct timeval *tv)
{
    char buf[16], *end;
    if (vl == 0 || vl >= sizeof buf)
        return 0;
    memcpy(buf, v, vl);
    buf[vl] = '\0';
    long ms = strtol(buf, &end, 10);
    if (*end || ms <= 0 || ms > 3600000)
        return 0;
    tv->tv_sec = ms / 1000;
    tv->tv_usec = (ms % 1000) * 1000;
    return 1;
}

int
crumb__redis_parse_uri(const char *uri, crumb__redis_conn *r, char *prefix,
                       size_t prefix_max, char *why, size_t size)
{
    const char *p = uri + strlen("redis://");
    size_t hl = strcspn(p, ":/?");
    /* No user info: "user@host" is not a host name. */
    if (hl == 0 || hl >= sizeof r->host || memchr(p, '@', hl)) {
        snprintf(why, size, "bad host");
        return CRUMB_EINVAL;
    }
    memcpy(r->host, p, hl);
    r->host[hl] = '\0';
    p += hl;
    r->port = 6379;
    if (*p == ':') {
        char *end;
        long port = strtol(p + 1, &end, 10);
        if (end == p + 1 || port < 1 || port > 65535) {
            snprintf(why, size, "bad port");
            return CRUMB_EINVAL;
        }
        r->port = (int)port;
        p = end;
    }
    if (*p == '/') {
        p++;
        if (*p >= '0' && *p <= '9') {
            char *end;
            long db = strtol(p, &end, 10);
            if (db > 1000000) {
                snprintf(why, size, "bad database");
                return CRUMB_EINVAL;
            }
            r->db = (int)db;
            p = end;
        }
    }
    if (*p == '?') {
        p++;
        while (*p) {
            size_t n = strcspn(p, "&");
            const char *eq = memchr(p, '=', n);
            if (!eq)
                goto bad;
            size_t kl = (size_t)(eq - p), vl = n - kl - 1;
            const char *v = eq + 1;
            if (kl == 6 && !strncmp(p, "prefix", 6) && vl > 0 &&
                vl <= prefix_max) {
                memcpy(prefix, v, vl);
                prefix[vl] = '\0';
            } else if (kl == 18 && !strncmp(p, "connect_timeout_ms", 18)) {
                if (!parse_ms(v, vl, &r->connect_tv))
                    goto bad;
            } else if (kl == 10 && !strncmp(p, "timeout_ms", 10)) {
                if (!parse_ms(v, vl, &r->cmd_tv))
                    goto bad;
            } else {
                goto bad;
            }
            p += n;
            if (*p == '&')
                p++;
        }
    } else if (*p) {
        goto bad;
    }
    return CRUMB_OK;
bad:
    snprintf(why, size, "unknown or bad parameter near \"%.40s\"", p);
    return CRUMB_EINVAL;
}
