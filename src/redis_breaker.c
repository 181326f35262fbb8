/* redis_breaker.c - a circuit breaker per Redis endpoint.
 *
 * Every command has a timeout (500 ms by default), but a request makes
 * several (load the session, read the user, save): against a frozen Redis
 * each would wait its full timeout, and requests queued behind a blocked
 * thread wait longer still. After a transport failure the endpoint is
 * "open" for COOLDOWN_MS: commands to it fail at once with
 * CRUMB_EUNAVAIL. Then one caller at a time probes; a reply closes the
 * breaker, a failure opens it again. So a Redis outage costs a request
 * at most one timeout, and service resumes within COOLDOWN_MS of Redis
 * coming back.
 *
 * This is the one piece of process-wide state in libcrumb: the table is
 * keyed by endpoint so every handle to one Redis shares what is known of
 * it. It is small, fixed and behind a mutex; the healthy path reads one
 * atomic counter and takes no lock.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "redis_breaker.h"

#define SLOTS 16
#define COOLDOWN_MS 250
#define PROBE_MS 1500 /* a probe owns the endpoint this long at most */

struct slot {
    char host[64];
    int port;
    int64_t until_ms; /* closed when 0 */
    int probing;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct slot slots[SLOTS];
static int open_count; /* slots with until_ms != 0; read without the lock */

static int64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The slot for an endpoint, or NULL. Called with the lock held. */
static struct slot *
find(const char *host, int port)
{
    for (int i = 0; i < SLOTS; i++)
        if (slots[i].until_ms && slots[i].port == port &&
            strcmp(slots[i].host, host) == 0)
            return &slots[i];
    return NULL;
}

int
crumb__breaker_allow(const char *host, int port)
{
    if (__atomic_load_n(&open_count, __ATOMIC_ACQUIRE) == 0)
        return 1;
    int allow = 1;
    pthread_mutex_lock(&lock);
    struct slot *s = find(host, port);
    if (s) {
        int64_t now = now_ms();
        if (now < s->until_ms) {
            allow = 0;
        } else {
            /* Cooled down: this caller probes; others keep failing fast
             * until the probe answers or PROBE_MS passes. */
            s->until_ms = now + PROBE_MS;
            s->probing = 1;
        }
    }
    pthread_mutex_unlock(&lock);
    return allow;
}

void
crumb__breaker_failed(const char *host, int port)
{
    pthread_mutex_lock(&lock);
    struct slot *s = find(host, port);
    if (!s) {
        for (int i = 0; i < SLOTS && !s; i++)
            if (!slots[i].until_ms)
                s = &slots[i];
        if (s && strlen(host) < sizeof s->host) {
            strcpy(s->host, host);
            s->port = port;
            __atomic_add_fetch(&open_count, 1, __ATOMIC_RELEASE);
        } else {
            s = NULL; /* table full or odd host: no fail-fast for it */
        }
    }
    if (s) {
        s->until_ms = now_ms() + COOLDOWN_MS;
        s->probing = 0;
    }
    pthread_mutex_unlock(&lock);
}

void
crumb__breaker_ok(const char *host, int port)
{
    if (__atomic_load_n(&open_count, __ATOMIC_ACQUIRE) == 0)
        return;
    pthread_mutex_lock(&lock);
    struct slot *s = find(host, port);
    if (s) {
        s->until_ms = 0;
        s->probing = 0;
        __atomic_sub_fetch(&open_count, 1, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&lock);
}
