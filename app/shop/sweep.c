/* sweep.c - a background thread that removes expired session records
 * (the SQLite store keeps them until swept; Redis expires its keys, and a
 * sweep there only tidies the per-user indexes). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <crumb/error.h>
#include <crumb/iface.h>

#include "shop.h"

static pthread_t sweeper;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static int running, stopping;
static crumb_iface *sweep_iface;
static int64_t sweep_every;

static void *
sweep_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock);
    while (!stopping) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += sweep_every;
        while (!stopping &&
               pthread_cond_timedwait(&wake, &lock, &until) != ETIMEDOUT)
            ;
        if (stopping)
            break;
        pthread_mutex_unlock(&lock);
        size_t removed = 0;
        int rc = crumb_iface_gc(sweep_iface, &removed);
        if (rc != CRUMB_OK)
            fprintf(stderr, "crumb-shop: session sweep: %s (%s)\n",
                    crumb_strerror(rc), crumb_iface_errmsg(sweep_iface));
        else if (removed)
            fprintf(stderr, "crumb-shop: session sweep removed %zu\n",
                    removed);
        pthread_mutex_lock(&lock);
    }
    pthread_mutex_unlock(&lock);
    return NULL;
}

int
shop_sweep_start(crumb_iface *iface, int64_t every)
{
    if (!crumb_iface_server_side(iface) || every <= 0)
        return CRUMB_OK;
    sweep_iface = iface;
    sweep_every = every;
    stopping = 0;
    if (pthread_create(&sweeper, NULL, sweep_main, NULL) != 0)
        return CRUMB_ENOMEM;
    running = 1;
    return CRUMB_OK;
}

void
shop_sweep_stop(void)
{
    if (!running)
        return;
    pthread_mutex_lock(&lock);
    stopping = 1;
    pthread_cond_signal(&wake);
    pthread_mutex_unlock(&lock);
    pthread_join(sweeper, NULL);
    running = 0;
}
