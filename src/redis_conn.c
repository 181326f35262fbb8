/* redis_conn.c - connecting to Redis with timeouts, behind the breaker. */
#include <stdio.h>

#include <crumb/error.h>

#include "redis_breaker.h"
#include "redis_conn.h"

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
