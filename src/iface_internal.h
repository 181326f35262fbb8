/* iface_internal.h - the session interface's state, shared by the cookie
 * mode (iface_cookie.c) and the store mode (iface_store.c). */
#ifndef CRUMB_IFACE_INTERNAL_H
#define CRUMB_IFACE_INTERNAL_H

#include <pthread.h>

#include <crumb/iface.h>
#include <crumb/store.h>

#define CRUMB__POOL_MAX 64
#define CRUMB__SAVE_STRIPES 64 /* in-process save locks, by record key */

/* What this process last saved of a record: kept per stripe, under that
 * stripe's save lock (iface_store.c). */
typedef struct crumb__last_save {
    unsigned char key[32];
    int64_t version; /* 0: nothing kept */
    int64_t created;
    unsigned char *data; /* malloc'd copy of the saved bytes */
    size_t len;
} crumb__last_save;

struct crumb_iface {
    crumb_config cfg;     /* strings below are our copies */
    crumb_signer *signer; /* NULL server-side without a key */
    char *cookie_name, *cookie_domain, *cookie_path;
    const char *warning;

    /* Store mode (store_uri set). */
    char *store_uri;
    char *store_prefix;
    crumb_store_options store_opts;
    crumb_store *store; /* memory: the one handle all threads share */
    int store_shared;   /* memory: one handle for every thread */
    pthread_mutex_t pool_lock;
    crumb_store *pool[CRUMB__POOL_MAX];
    size_t pool_len;
    /* Updates of one session in this process take turns (iface_store.c,
     * update_record); a stripe covers the keys with the same first byte
     * modulo CRUMB__SAVE_STRIPES. A request queues its update on the
     * stripe; the one that finds nobody saving saves what is queued,
     * and the others wait to be told they are saved (or to save next).
     * The lock guards the queue and save_busy; last_save belongs to
     * whoever is saving. */
    pthread_mutex_t save_lock[CRUMB__SAVE_STRIPES];
    struct crumb__save_waiter *save_head[CRUMB__SAVE_STRIPES];
    struct crumb__save_waiter *save_tail[CRUMB__SAVE_STRIPES];
    int save_busy[CRUMB__SAVE_STRIPES];
    crumb__last_save last_save[CRUMB__SAVE_STRIPES];
};

extern _Thread_local char crumb__iface_errbuf[256];

void crumb__setcookie_base(const crumb_iface *iface, crumb_setcookie *c);
json_t *crumb__unwrap_root(json_t *root);
int crumb__save_delete(crumb_iface *iface, crumb_save_result *res);

int crumb__iface_store_init(crumb_iface *iface, const crumb_config *cfg);
void crumb__iface_store_cleanup(crumb_iface *iface);
int crumb__iface_store_open(crumb_iface *iface, const char *cookie_header,
                            size_t header_len, crumb_session **out,
                            crumb_open_reason *reason);
int crumb__iface_store_save(crumb_iface *iface, crumb_session *s,
                            crumb_save_result *res);

#endif
