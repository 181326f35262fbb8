/* analytics_queue.c - analytics events written off the request path. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <crumb/analytics.h>
#include <crumb/error.h>
#include <crumb/iface.h>

#include "shop.h"
#include "worker.h"

/*
 * A request only copies its event (session handle, kind, template, time)
 * into a bounded ring; one background thread takes up to BATCH events at a
 * time, after letting a batch gather for up to LINGER_MS, and appends
 * them on a single store handle borrowed from the interface's pool, all
 * in one store call. Events keep the time of their request, so a late
 * write counts in the right hour. When the ring is full the oldest event is
 * dropped and counted (the page never waits for analytics); the drops are
 * reported on stderr at shutdown, when the thread first writes what is
 * left. shop_analytics_flush() waits until everything queued before the
 * call is written (or dropped): the report pages call it, so what a
 * session just did shows at once. One thread keeps each session's events
 * in order.
 */

#define QUEUE_CAP 4096
#define BATCH 256
/* How long the writer lets a batch gather after the first event. The
 * cost of a write is mostly per call (SQLite: the commit writes every
 * page the transaction dirtied; Redis: a round trip), and woken at every
 * event the thread wrote batches of a few events under load. Events wait
 * at most this long; a flush or the shutdown does not wait at all. */
#define LINGER_MS 20

typedef struct event {
    char handle[17];
    char kind;
    int64_t at;
    char tpl[CRUMB_ANALYTICS_TEMPLATE_MAX + 1]; /* "" for the logins */
} event;

static shop_worker w = SHOP_WORKER_INIT;
static pthread_cond_t idle = PTHREAD_COND_INITIALIZER; /* the flushers */
static event ring[QUEUE_CAP];
static size_t head, len;
static uint64_t queued, done, dropped, failed;
static int flushers;
static crumb_iface *queue_iface;

/* Writes @n events with one crumb_analytics_record_many() (one
 * transaction, or one pipelined round trip): per event, the store's
 * commit cost them most of the writer's time. A batch refused as a whole
 * for a bad event is written one by one, so only that event is lost; a
 * store that fails loses the events it did not take, not the pages. */
static void
write_batch(const event *ev, size_t n)
{
    static crumb_analytics_entry ent[BATCH]; /* only the writer uses it */
    crumb_store *st = crumb_iface_store_acquire(queue_iface);
    if (!st) {
        failed += n;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        ent[i].handle = ev[i].handle;
        ent[i].kind = (crumb_analytics_event)ev[i].kind;
        ent[i].path_template = ev[i].tpl[0] ? ev[i].tpl : NULL;
        ent[i].at = ev[i].at;
    }
    size_t written = 0;
    int rc = crumb_analytics_record_many(st, NULL, ent, n, &written);
    if (rc == CRUMB_EINVAL) {
        for (size_t i = 0; i < n; i++)
            if (crumb_analytics_record(st, NULL, ent[i].handle, ent[i].kind,
                                       ent[i].path_template,
                                       ent[i].at) == CRUMB_OK)
                written++;
    }
    failed += n - written;
    crumb_iface_store_release(queue_iface, st);
}

static void *
writer_main(void *arg)
{
    static event batch[BATCH]; /* only this thread touches it */
    (void)arg;
    pthread_mutex_lock(&w.lock);
    for (;;) {
        while (len == 0 && !w.stopping)
            pthread_cond_wait(&w.wake, &w.lock);
        if (len == 0)
            break; /* stopping, and everything is written */
        if (len < BATCH && !w.stopping && !flushers) {
            struct timespec until;
            shop_deadline_ms(&until, LINGER_MS);
            while (len < BATCH && !w.stopping && !flushers &&
                   pthread_cond_timedwait(&w.wake, &w.lock, &until) == 0)
                ;
        }
        size_t n = 0;
        while (n < BATCH && len > 0) {
            batch[n++] = ring[head];
            head = (head + 1) % QUEUE_CAP;
            len--;
        }
        pthread_mutex_unlock(&w.lock);
        write_batch(batch, n);
        pthread_mutex_lock(&w.lock);
        done += n;
        pthread_cond_broadcast(&idle);
    }
    pthread_mutex_unlock(&w.lock);
    return NULL;
}

int
shop_analytics_start(crumb_iface *iface)
{
    if (!crumb_iface_server_side(iface))
        return CRUMB_OK; /* cookie sessions: nothing is recorded */
    queue_iface = iface;
    return shop_worker_start(&w, writer_main) == 0 ? CRUMB_OK : CRUMB_ENOMEM;
}

void
shop_analytics_stop(void)
{
    if (!w.running)
        return;
    shop_worker_stop(&w);
    if (dropped || failed)
        fprintf(stderr,
                "crumb-shop: analytics: %llu events dropped (queue full), "
                "%llu not written (store errors)\n",
                (unsigned long long)dropped, (unsigned long long)failed);
}

void
shop_analytics_enqueue(const char *handle, int kind, const char *tpl,
                       int64_t at)
{
    if (!w.running || strlen(handle) >= sizeof ring[0].handle ||
        (tpl && strlen(tpl) >= sizeof ring[0].tpl))
        return;
    pthread_mutex_lock(&w.lock);
    if (len == QUEUE_CAP) { /* full: the oldest event goes */
        head = (head + 1) % QUEUE_CAP;
        len--;
        dropped++;
        done++;
    }
    event *e = &ring[(head + len) % QUEUE_CAP];
    strcpy(e->handle, handle);
    e->kind = (char)kind;
    e->at = at;
    strcpy(e->tpl, tpl ? tpl : "");
    len++;
    queued++;
    if (len == 1 || len >= BATCH) /* it sleeps, or lingers for a batch */
        pthread_cond_signal(&w.wake);
    pthread_mutex_unlock(&w.lock);
}

void
shop_analytics_flush(void)
{
    pthread_mutex_lock(&w.lock);
    uint64_t target = queued;
    flushers++;
    pthread_cond_signal(&w.wake); /* no lingering: someone waits */
    while (w.running && done < target)
        pthread_cond_wait(&idle, &w.lock);
    flushers--;
    pthread_mutex_unlock(&w.lock);
}
