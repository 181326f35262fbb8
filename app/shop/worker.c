/* worker.c - starting and stopping crumb-shop's background threads. */
#include "worker.h"

int
shop_worker_start(shop_worker *w, void *(*fn)(void *))
{
    w->stopping = 0;
    if (pthread_create(&w->thread, NULL, fn, NULL) != 0)
        return -1;
    w->running = 1;
    return 0;
}

void
shop_worker_stop(shop_worker *w)
{
    if (!w->running)
        return;
    pthread_mutex_lock(&w->lock);
    w->stopping = 1;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    w->running = 0;
}

void
shop_deadline_ms(struct timespec *at, long long ms)
{
    clock_gettime(CLOCK_REALTIME, at);
    at->tv_sec += (time_t)(ms / 1000);
    at->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (at->tv_nsec >= 1000000000L) {
        at->tv_sec++;
        at->tv_nsec -= 1000000000L;
    }
}
