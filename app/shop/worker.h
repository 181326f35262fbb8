/* worker.h - one background thread of crumb-shop, and how it is stopped. */
#ifndef SHOP_WORKER_H
#define SHOP_WORKER_H

#include <pthread.h>
#include <time.h>

/* The thread, the lock its state lives under, the condition that wakes
 * it, and the flags; @lock and @wake are the module's to use as well. */
typedef struct shop_worker {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int running, stopping;
} shop_worker;

#define SHOP_WORKER_INIT                                                       \
    {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER}

/* Starts @fn(NULL) on a new thread; 0, or -1 when no thread could be made. */
int shop_worker_start(shop_worker *w, void *(*fn)(void *));

/* Sets stopping, wakes the thread and joins it; nothing when not running. */
void shop_worker_stop(shop_worker *w);

/* CLOCK_REALTIME now + @ms, for pthread_cond_timedwait. */
void shop_deadline_ms(struct timespec *at, long long ms);

#endif
