/* redis_breaker.h - fail fast while a Redis endpoint is known to be down
 * (shared by the Redis session store and the Redis users backend). */
#ifndef CRUMB_REDIS_BREAKER_H
#define CRUMB_REDIS_BREAKER_H

/* 1 when a command to HOST:PORT may be tried now; 0 to fail at once. */
int crumb__breaker_allow(const char *host, int port);
/* A transport failure (refused, reset, timeout) talking to HOST:PORT. */
void crumb__breaker_failed(const char *host, int port);
/* A reply came back from HOST:PORT. */
void crumb__breaker_ok(const char *host, int port);

#endif
