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
