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
#include "worker.h"

static shop_worker w = SHOP_WORKER_INIT;
static crumb_iface *sweep_iface;
static int64_t sweep_every;

static void *
sweep_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&w.lock);
    while (!w.stopping) {
        struct timespec until;
        shop_deadline_ms(&until, (long long)sweep_every * 1000);
        while (!w.stopping &&
               pthread_cond_timedwait(&w.wake, &w.lock, &until) != ETIMEDOUT)
            ;
        if (w.stopping)
            break;
        pthread_mutex_unlock(&w.lock);
        size_t removed = 0;
        int rc = crumb_iface_gc(sweep_iface, &removed);
        if (rc != CRUMB_OK)
            fprintf(stderr, "crumb-shop: session sweep: %s (%s)\n",
                    crumb_strerror(rc), crumb_iface_errmsg(sweep_iface));
        else if (removed)
            fprintf(stderr, "crumb-shop: session sweep removed %zu\n",
                    removed);
        pthread_mutex_lock(&w.lock);
    }
    pthread_mutex_unlock(&w.lock);
    return NULL;
}

int
shop_sweep_start(crumb_iface *iface, int64_t every)
{
    if (!crumb_iface_server_side(iface) || every <= 0)
        return CRUMB_OK;
    sweep_iface = iface;
    sweep_every = every;
    return shop_worker_start(&w, sweep_main) == 0 ? CRUMB_OK : CRUMB_ENOMEM;
}

void
shop_sweep_stop(void)
{
    shop_worker_stop(&w);
}
