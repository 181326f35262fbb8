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
/*
 * Room for the replies of one command, built there instead of with a
 * malloc per element (hiredis' default): an HMGET of the eight fields of
 * a session record was seventeen allocations to make and free. The first
 * CRUMB__ARENA_SIZE bytes are inline; more comes in malloc'd chunks until
 * crumb__arena_reset().
 */
#define CRUMB__ARENA_SIZE 2048
typedef struct crumb__arena {
    size_t used;
    struct crumb__arena_chunk *extra;
    _Alignas(16) unsigned char first[CRUMB__ARENA_SIZE];
} crumb__arena;

/*
 * Reads one reply into @a, like redisGetReply() (sending what is
 * queued first). The reply and its elements live until
 * crumb__arena_reset(@a): never freeReplyObject() them. Returns
 * REDIS_OK or REDIS_ERR with c->err set.
 */
int crumb__redis_get_reply_arena(redisContext *c, crumb__arena *a,
                                 redisReply **out);
/* Frees what @a holds beyond its inline room, and empties it. */
void crumb__arena_reset(crumb__arena *a);
/* A transport failure: tell the breaker, drop the connection. */
void crumb__redis_fail(crumb__redis_conn *r);
/* Drop the connection; the next crumb__redis_ensure() reconnects. */
void crumb__redis_drop(crumb__redis_conn *r);
/* A reply came back: the endpoint is up. */
void crumb__redis_ok(crumb__redis_conn *r);

#endif
