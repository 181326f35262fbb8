/* redis_conn.h - one Redis connection with timeouts and the breaker,
 * shared by the session store (store/redis.c) and the users backend
 * (auth/users_redis.c). */
#ifndef CRUMB_REDIS_CONN_H
#define CRUMB_REDIS_CONN_H

#include <hiredis/hiredis.h>
#include <stddef.h>
#include <sys/time.h>

typedef struct crumb__redis_conn {
    redisContext *c; /* NULL until connected, and after a failure */
    char host[256];
    int port;
    int db;
    struct timeval connect_tv, cmd_tv;
} crumb__redis_conn;

/*
 * Connects when not connected (unless the breaker says the endpoint just
 * failed), sets the command timeout and selects the database. Returns
 * CRUMB_OK, CRUMB_EUNAVAIL (down, refused, timed out) or CRUMB_ESTORE
 * (SELECT refused), with why in @why.
 */
int crumb__redis_ensure(crumb__redis_conn *r, char *why, size_t size);
/*
 * Reads redis://HOST[:PORT][/DB][?prefix=P&connect_timeout_ms=N&
 * timeout_ms=N] into @r (host, port, db; the timeouts only when given)
 * and @prefix (@prefix_max bytes at most, only when given). Returns
 * CRUMB_OK, or CRUMB_EINVAL with why in @why ("bad host", ...).
 */
int crumb__redis_parse_uri(const char *uri, crumb__redis_conn *r,
                           char *prefix, size_t prefix_max, char *why,
                           size_t size);
/*
 * Appends one command (@argc arguments of @len bytes each) to @c's
 * output buffer, as redisAppendCommandArgv() does, only faster; the
 * next redisGetReply() sends it. Returns REDIS_OK or REDIS_ERR (out of
 * memory).
 */
int crumb__redis_append(redisContext *c, int argc, const char *const *argv,
                        const size_t *len);
/* A transport failure: tell the breaker, drop the connection. */
void crumb__redis_fail(crumb__redis_conn *r);
/* Drop the connection; the next crumb__redis_ensure() reconnects. */
void crumb__redis_drop(crumb__redis_conn *r);
/* A reply came back: the endpoint is up. */
void crumb__redis_ok(crumb__redis_conn *r);

#endif
