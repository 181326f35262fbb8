/* iface_store.c - server-side sessions: a random id in the cookie, the
 * data in a store, saved as the request's changes under a version check. */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include <crumb/base64.h>
#include <crumb/error.h>
#include <crumb/iface.h>
#include <crumb/random.h>
#include <crumb/tagjson.h>

#include "hmac_fast.h"
#include "iface_internal.h"
#include "internal.h"

#define ID_BYTES 32 /* 256 bits from the CSPRNG */
#define ID_CHARS 43 /* their URL-safe base64 */
#define SAVE_RETRIES 100

/* ---- the pool of store handles ------------------------------------------- */

static int
pool_open(crumb_iface *iface, crumb_store **out)
{
    char why[200] = "";
    crumb_store_options o = iface->store_opts;
    o.errbuf = why;
    o.errbuf_size = sizeof why;
    int rc = crumb_store_open(out, iface->store_uri, &o);
    if (rc != CRUMB_OK)
        snprintf(crumb__iface_errbuf, sizeof crumb__iface_errbuf,
                 "store %s: %s", iface->store_uri,
                 why[0] ? why : crumb_strerror(rc));
    return rc;
}

crumb_store *
crumb_iface_store_acquire(crumb_iface *iface)
{
    if (!iface->store_uri)
        return NULL;
    if (iface->store_shared)
        return iface->store;
    crumb_store *st = NULL;
    pthread_mutex_lock(&iface->pool_lock);
    if (iface->pool_len > 0)
        st = iface->pool[--iface->pool_len];
    pthread_mutex_unlock(&iface->pool_lock);
    if (!st && pool_open(iface, &st) != CRUMB_OK)
        return NULL;
    return st;
}

void
crumb_iface_store_release(crumb_iface *iface, crumb_store *st)
{
    if (!st || iface->store_shared)
        return;
    pthread_mutex_lock(&iface->pool_lock);
    if (iface->pool_len < CRUMB__POOL_MAX) {
        iface->pool[iface->pool_len++] = st;
        st = NULL;
    }
    pthread_mutex_unlock(&iface->pool_lock);
    crumb_store_close(st);
}

int
crumb__iface_store_init(crumb_iface *iface, const crumb_config *cfg)
{
    if (cfg->store_options)
        iface->store_opts = *cfg->store_options;
    else
        crumb_store_options_init(&iface->store_opts);
    iface->store_opts.errbuf = NULL;
    iface->store_opts.errbuf_size = 0;
    iface->store_uri = strdup(cfg->store_uri);
    if (!iface->store_uri)
        return CRUMB_ENOMEM;
    if (iface->store_opts.prefix) {
        iface->store_prefix = strdup(iface->store_opts.prefix);
        if (!iface->store_prefix)
            return CRUMB_ENOMEM;
        iface->store_opts.prefix = iface->store_prefix;
    }
    if (pthread_mutex_init(&iface->pool_lock, NULL) != 0)
        return CRUMB_ENOMEM;
    for (size_t i = 0; i < CRUMB__SAVE_STRIPES; i++) {
        if (pthread_mutex_init(&iface->save_lock[i], NULL) != 0) {
            while (i-- > 0)
                pthread_mutex_destroy(&iface->save_lock[i]);
            pthread_mutex_destroy(&iface->pool_lock);
            return CRUMB_ENOMEM;
        }
    }
    /* Open one handle now: a bad URI or file fails at start, not at the
     * first request. A Redis that is down is not fatal: requests get 503
     * until it is back. */
    crumb_store *st = NULL;
    int rc = pool_open(iface, &st);
    if (rc == CRUMB_EUNAVAIL) {
        iface->warning = "the session store is unreachable for now";
    } else if (rc != CRUMB_OK) {
        for (size_t i = 0; i < CRUMB__SAVE_STRIPES; i++)
            pthread_mutex_destroy(&iface->save_lock[i]);
        pthread_mutex_destroy(&iface->pool_lock);
        return rc;
    }
    iface->store_shared = st && !strcmp(crumb_store_scheme(st), "memory");
    if (st && iface->store_shared)
        iface->store = st;
    else if (st)
        iface->pool[iface->pool_len++] = st;
    return CRUMB_OK;
}

void
crumb__iface_store_cleanup(crumb_iface *iface)
{
    if (!iface->store_uri)
        return;
    for (size_t i = 0; i < iface->pool_len; i++)
        crumb_store_close(iface->pool[i]);
    if (iface->store_shared)
        crumb_store_close(iface->store);
    for (size_t i = 0; i < CRUMB__SAVE_STRIPES; i++) {
        pthread_mutex_destroy(&iface->save_lock[i]);
        free(iface->last_save[i].data);
    }
    pthread_mutex_destroy(&iface->pool_lock);
    free(iface->store_uri);
    free(iface->store_prefix);
}

int
crumb_iface_server_side(const crumb_iface *iface)
{
    return iface->store_uri != NULL;
}

/* ---- ids, keys, expiry -----------------------------------------------------
 */

static int
id_valid(const char *id, size_t len)
{
    unsigned char raw[CRUMB_B64_DECODED_MAX(ID_CHARS)];
    return len == ID_CHARS && crumb_b64url_decode(id, len, raw) == ID_BYTES;
}

static int
key_of(const char *id, size_t len, unsigned char key[32])
{
    crumb__sha256(id, len, key);
    return CRUMB_OK;
}

/* A session's public name: hex of the first 8 bytes of its record key
 * (itself a hash of the id), so it reveals nothing of the cookie. */
static void
handle_of(const unsigned char key[32], char out[17])
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 8; i++) {
        out[2 * i] = hex[key[i] >> 4];
        out[2 * i + 1] = hex[key[i] & 15];
    }
    out[16] = '\0';
}

static void
set_identity(crumb__session_srv *srv, const char *id, size_t len,
             const unsigned char key[32])
{
    memcpy(srv->id, id, len);
    srv->id[len] = '\0';
    memcpy(srv->key, key, 32);
    handle_of(key, srv->handle);
}

static int
new_identity(crumb__session_srv *srv)
{
    char id[ID_CHARS + 2];
    unsigned char key[32];
    int rc = crumb_random_token(ID_BYTES, id, sizeof id);
    if (rc == CRUMB_OK)
        rc = key_of(id, ID_CHARS, key);
    if (rc == CRUMB_OK)
        set_identity(srv, id, ID_CHARS, key);
    OPENSSL_cleanse(id, sizeof id);
    return rc;
}

/*
 * When a record becomes useless: the earliest of the idle deadline, the
 * absolute deadline and the permanent lifetime (which also keeps records
 * from living forever with both timeouts off).
 */
static int64_t
deadline(const crumb_iface *iface, int64_t created, int64_t last_seen)
{
    int64_t e = last_seen + iface->cfg.permanent_lifetime;
    if (iface->cfg.idle_timeout > 0 &&
        last_seen + iface->cfg.idle_timeout < e)
        e = last_seen + iface->cfg.idle_timeout;
    if (iface->cfg.absolute_timeout > 0 &&
        created + iface->cfg.absolute_timeout < e)
        e = created + iface->cfg.absolute_timeout;
    return e;
}

/*
 * The store keeps a record EXPIRY_GRACE seconds past its deadline. Open
 * enforces the deadline itself, so the session is unusable at once; the
 * grace only lets the request that brings the old cookie learn why it
 * ended (idle or absolute timeout: "you were signed out after 30 minutes")
 * instead of "unknown id". The record is destroyed at that request, and
 * the store drops it on its own after the grace.
 */
#define EXPIRY_GRACE 900

static int64_t
expiry(const crumb_iface *iface, int64_t created, int64_t now)
{
    return deadline(iface, created, now) + EXPIRY_GRACE;
}

/* ---- open -----------------------------------------------------------------
 */

static int
fresh_session(crumb_session **out, crumb_open_reason *reason,
              crumb_open_reason why)
{
    *out = crumb_session_new();
    if (reason)
        *reason = why;
    return *out ? CRUMB_OK : CRUMB_ENOMEM;
}

/* Record bytes -> session data; NULL when they do not parse. */
static json_t *
record_data(const crumb_store_record *rec)
{
    json_t *data = NULL;
    if (crumb_tagjson_loads((const char *)rec->data, rec->len, &data) !=
        CRUMB_OK)
        return NULL;
    return crumb__unwrap_root(data);
}

int
crumb__iface_store_open(crumb_iface *iface, const char *cookie_header,
                        size_t header_len, crumb_session **out,
                        crumb_open_reason *reason)
{
    const char *val = NULL;
    size_t vlen = 0;
    int rc = cookie_header ? crumb_cookie_get(cookie_header, header_len,
                                              iface->cookie_name, &val, &vlen)
                           : CRUMB_ENOTFOUND;
    if (rc == CRUMB_ETOOBIG)
        return fresh_session(out, reason, CRUMB_OPEN_TOO_LARGE);
    if (rc != CRUMB_OK || vlen == 0)
        return fresh_session(out, reason, CRUMB_OPEN_NO_COOKIE);
    if (!id_valid(val, vlen))
        return fresh_session(out, reason, CRUMB_OPEN_MALFORMED);

    unsigned char key[32];
    rc = key_of(val, vlen, key);
    if (rc != CRUMB_OK)
        return rc;
    crumb_store *st = crumb_iface_store_acquire(iface);
    if (!st)
        return CRUMB_EUNAVAIL;
    int64_t now = crumb_iface_now(iface);
    crumb_store_record rec;
    memset(&rec, 0, sizeof rec);
    crumb_store_set_errmsg(st, "%s", "");
    rc = crumb_store_load(st, key, now, &rec);
    crumb_open_reason why = CRUMB_OPEN_OK;
    json_t *data = NULL;
    if (rc == CRUMB_ENOTFOUND) {
        why = crumb_store_errmsg(st)[0] ? CRUMB_OPEN_CORRUPT
                                        : CRUMB_OPEN_UNKNOWN_ID;
        if (why == CRUMB_OPEN_CORRUPT)
            snprintf(crumb__iface_errbuf, sizeof crumb__iface_errbuf, "%s",
                     crumb_store_errmsg(st));
    } else if (rc != CRUMB_OK) {
        snprintf(crumb__iface_errbuf, sizeof crumb__iface_errbuf, "%s",
                 crumb_store_errmsg(st));
        crumb_iface_store_release(iface, st);
        return rc;
    } else if (iface->cfg.idle_timeout > 0 &&
               now - rec.last_seen >= iface->cfg.idle_timeout) {
        why = CRUMB_OPEN_IDLE_TIMEOUT;
    } else if (iface->cfg.absolute_timeout > 0 &&
               now - rec.created >= iface->cfg.absolute_timeout) {
        why = CRUMB_OPEN_ABSOLUTE_TIMEOUT;
    } else if (now >= deadline(iface, rec.created, rec.last_seen)) {
        why = CRUMB_OPEN_EXPIRED; /* past the permanent lifetime */
    } else if (!(data = record_data(&rec))) {
        why = CRUMB_OPEN_CORRUPT;
        snprintf(crumb__iface_errbuf, sizeof crumb__iface_errbuf,
                 "session record does not parse");
    }
    /* A session past its timeout is gone for good, at once. */
    if (why == CRUMB_OPEN_IDLE_TIMEOUT || why == CRUMB_OPEN_ABSOLUTE_TIMEOUT ||
        why == CRUMB_OPEN_EXPIRED || why == CRUMB_OPEN_CORRUPT)
        (void)crumb_store_destroy(st, key);
    crumb_iface_store_release(iface, st);

    if (why != CRUMB_OPEN_OK) {
        crumb_store_record_cleanup(&rec);
        return fresh_session(out, reason, why);
    }
    crumb_session *s = crumb_session_new_from(data, 1);
    if (!s) {
        crumb_store_record_cleanup(&rec);
        return CRUMB_ENOMEM;
    }
    crumb_session_set_new(s, 0);
    crumb__session_srv *srv = crumb__session_srv_of(s);
    set_identity(srv, val, vlen, key);
    srv->version = rec.version;
    srv->created = rec.created;
    srv->last_seen = rec.last_seen;
    memcpy(srv->user, rec.user, sizeof srv->user);
    memcpy(srv->addr, rec.addr, sizeof srv->addr);
    memcpy(srv->agent, rec.agent, sizeof srv->agent);
    crumb_store_record_cleanup(&rec);
    *out = s;
    if (reason)
        *reason = CRUMB_OPEN_OK;
    return CRUMB_OK;
}

/* ---- save -----------------------------------------------------------------
 */

/* The record for @data (tagged, wrapped like Flask's root) and @srv. */
static int
fill_record(crumb_store_record *rec, const json_t *data,
            const crumb__session_srv *srv)
{
    json_t *root = crumb_tag_wrap_dict((json_t *)data);
    if (!root)
        return CRUMB_ENOMEM;
    char *text = NULL;
    size_t len = 0;
    int rc = crumb_tagjson_dumps(root, &text, &len);
    json_decref(root);
    if (rc != CRUMB_OK)
        return rc;
    free(rec->data);
    rec->data = (unsigned char *)text;
    rec->len = len;
    memcpy(rec->user, srv->user, sizeof rec->user);
    memcpy(rec->addr, srv->addr, sizeof rec->addr);
    memcpy(rec->agent, srv->agent, sizeof rec->agent);
    return CRUMB_OK;
}

static int
set_id_cookie(crumb_iface *iface, crumb_session *s, int64_t now,
              crumb_save_result *res)
{
    crumb_setcookie c;
    crumb__setcookie_base(iface, &c);
    c.value = crumb__session_srv_of(s)->id;
    if (crumb_session_is_permanent(s)) {
        c.has_expires = 1;
        c.expires = now + iface->cfg.permanent_lifetime;
        c.has_max_age = 1;
        c.max_age = iface->cfg.permanent_lifetime;
    }
    size_t len;
    int rc = crumb_setcookie_format(&c, &res->set_cookie, &len);
    if (rc == CRUMB_OK)
        res->vary_cookie = 1;
    return rc;
}

/* Stores the session under a new id (creation, or regeneration). */
static int
create_record(crumb_iface *iface, crumb_store *st, crumb_session *s,
              int64_t now)
{
    crumb__session_srv *srv = crumb__session_srv_of(s);
    crumb_store_record rec;
    memset(&rec, 0, sizeof rec);
    int rc = fill_record(&rec, crumb_session_data(s), srv);
    for (int attempt = 0; rc == CRUMB_OK && attempt < 3; attempt++) {
        rc = new_identity(srv);
        if (rc != CRUMB_OK)
            break;
        rec.created = rec.last_seen = now;
        rec.expires_at = expiry(iface, now, now);
        rc = crumb_store_save(st, srv->key, &rec, 0, now);
        if (rc != CRUMB_ECONFLICT) /* a clash of 256-bit ids: try again */
            break;
    }
    if (rc == CRUMB_OK) {
        srv->version = rec.version;
        srv->created = srv->last_seen = now;
    }
    crumb_store_record_cleanup(&rec);
    return rc;
}

/*
 * Writes the request's changes: first optimistically the whole data as it
 * is now (right when nobody else saved since our load); on a version
 * conflict, reload the record, replay this request's journal on it and try
 * again. So concurrent requests each add their own changes.
 *
 * The requests of this process that update one session take turns on a
 * stripe. Without that, when many requests share a session (tabs, a burst
 * of cart adds, the benchmark's one cookie), every save raced every
 * other: each conflict cost a load and another save, and the losers tried
 * again and again. A request queues its update on the stripe; if nobody
 * is saving, it saves everything queued, else it waits until the saver
 * has done its update. Updates of one session that queued while another
 * save was on the wire are written together: their journals replayed in
 * order, one save (one round trip for Redis) for all of them, and each
 * request gets that save's result. Other processes still meet the
 * version check as before.
 *
 * The stripe also keeps the record this process saved last (up to
 * LAST_SAVE_MAX bytes). When it is newer than what the requests loaded,
 * the optimistic save is bound to fail, so the journals are replayed on
 * it at once: no failed save, no reload. It is only a guess at the
 * stored record: the save still carries the version it expects, and a
 * write from another process makes it conflict and take the reload path
 * as before.
 */
#define LAST_SAVE_MAX 4096

typedef struct crumb__save_waiter {
    crumb_session *s;
    int64_t now;
    pthread_cond_t wake; /* saved, or nobody is saving any more */
    int done;    /* under the stripe's lock: saved, rc and gone are set */
    int grouped; /* the saver's own mark */
    int rc, gone;
    char msg[200]; /* the store's message when rc is a failure */
    struct crumb__save_waiter *next, *group;
} save_waiter;

/* @rec's data := the journals of the requests in @g (in order) replayed
 * on the data of @from. */
static int
replay(crumb_store_record *rec, const crumb_store_record *from,
       const crumb__session_srv *srv, const save_waiter *g)
{
    json_t *data = record_data(from);
    if (!data)
        return CRUMB_ESTORE;
    for (; g; g = g->group) {
        const crumb_change *changes;
        size_t n = crumb_session_changes(g->s, &changes);
        crumb_session_apply_changes(data, changes, n);
    }
    int rc = fill_record(rec, data, srv);
    json_decref(data);
    return rc;
}

/* Keeps a copy of what was just saved under @key (or forgets, when it
 * is too large or out of memory). */
static void
remember(crumb__last_save *last, const unsigned char key[32],
         const crumb_store_record *rec, int64_t created)
{
    unsigned char *d = NULL;
    if (rec->len <= LAST_SAVE_MAX && (d = malloc(rec->len + 1)) != NULL) {
        memcpy(d, rec->data, rec->len);
        d[rec->len] = '\0';
    }
    free(last->data);
    last->data = d;
    last->len = d ? rec->len : 0;
    last->version = d ? rec->version : 0;
    last->created = created;
    memcpy(last->key, key, 32);
}

/* The record to save first for the group @g: the newest data this
 * process knows with the group's changes on it. */
static int
first_record(crumb_store_record *rec, const save_waiter *g,
             const crumb__last_save *last, int64_t *expected,
             int64_t *created)
{
    const save_waiter *newest = g;
    for (const save_waiter *w = g->group; w; w = w->group)
        if (crumb__session_srv_of(w->s)->version >
            crumb__session_srv_of(newest->s)->version)
            newest = w;
    const crumb__session_srv *srv = crumb__session_srv_of(newest->s);
    *expected = srv->version;
    *created = srv->created;
    if (last->version > *expected && !memcmp(last->key, srv->key, 32)) {
        crumb_store_record kept;
        memset(&kept, 0, sizeof kept);
        kept.data = last->data;
        kept.len = last->len;
        *expected = last->version;
        *created = last->created;
        return replay(rec, &kept, srv, g);
    }
    if (!g->group)
        return fill_record(rec, crumb_session_data(g->s), srv);
    /* The newest request's data already holds its own changes: replay
     * the others' on a copy of it. */
    json_t *data = json_deep_copy(crumb_session_data(newest->s));
    if (!data)
        return CRUMB_ENOMEM;
    for (const save_waiter *w = g; w; w = w->group) {
        if (w == newest)
            continue;
        const crumb_change *changes;
        size_t n = crumb_session_changes(w->s, &changes);
        crumb_session_apply_changes(data, changes, n);
    }
    int rc = fill_record(rec, data, srv);
    json_decref(data);
    return rc;
}

/* One save for the requests of group @g (one session, one identity),
 * retried on conflicts; the result goes to each request. */
static void
update_group(crumb_iface *iface, crumb_store *st, save_waiter *g,
             crumb__last_save *last)
{
    crumb__session_srv *srv = crumb__session_srv_of(g->s);
    int64_t now = g->now, expected, created;
    for (save_waiter *w = g->group; w; w = w->group)
        if (w->now > now)
            now = w->now;
    crumb_store_record rec;
    memset(&rec, 0, sizeof rec);
    int rc = first_record(&rec, g, last, &expected, &created);
    for (int attempt = 0; rc == CRUMB_OK; attempt++) {
        rec.created = created;
        rec.last_seen = now;
        rec.expires_at = expiry(iface, created, now);
        rc = crumb_store_save(st, srv->key, &rec, expected, now);
        if (rc != CRUMB_ECONFLICT || attempt == SAVE_RETRIES)
            break;
        if (attempt > 2)
            sched_yield();
        crumb_store_record fresh;
        memset(&fresh, 0, sizeof fresh);
        rc = crumb_store_load(st, srv->key, now, &fresh);
        if (rc == CRUMB_OK)
            rc = replay(&rec, &fresh, srv, g);
        expected = fresh.version;
        created = fresh.created;
        crumb_store_record_cleanup(&fresh);
    }
    int gone = 0;
    if (rc == CRUMB_ENOTFOUND) {
        /* Revoked or expired while these requests ran: their changes go
         * with it, and the browsers are told to drop the cookie. */
        gone = 1;
        rc = CRUMB_OK;
        if (!memcmp(last->key, srv->key, 32))
            last->version = 0;
    } else if (rc == CRUMB_OK) {
        remember(last, srv->key, &rec, created);
    }
    for (save_waiter *w = g; w; w = w->group) {
        crumb__session_srv *ws = crumb__session_srv_of(w->s);
        w->rc = rc;
        w->gone = gone;
        if (rc == CRUMB_OK && !gone) {
            ws->version = rec.version;
            ws->last_seen = now;
        }
        if (rc != CRUMB_OK)
            snprintf(w->msg, sizeof w->msg, "%s", crumb_store_errmsg(st));
    }
    crumb_store_record_cleanup(&rec);
}

/* Same session and the same identity to write: one save can carry both. */
static int
same_record(const save_waiter *a, const save_waiter *b)
{
    const crumb__session_srv *x = crumb__session_srv_of(a->s);
    const crumb__session_srv *y = crumb__session_srv_of(b->s);
    return !memcmp(x->key, y->key, 32) && !strcmp(x->user, y->user) &&
           !strcmp(x->addr, y->addr) && !strcmp(x->agent, y->agent);
}

/* Saves the queued updates @q: each session's in one group, in order. */
static void
save_queued(crumb_iface *iface, crumb_store *st, save_waiter *q,
            crumb__last_save *last)
{
    for (save_waiter *w = q; w; w = w->next) {
        if (w->grouped) /* already saved with an earlier one */
            continue;
        save_waiter *tail = w;
        for (save_waiter *o = w->next; o; o = o->next)
            if (!o->grouped && same_record(w, o)) {
                tail->group = o;
                tail = o;
                o->grouped = 1;
            }
        update_group(iface, st, w, last);
    }
}

static int
update_record(crumb_iface *iface, crumb_store *st, crumb_session *s,
              int64_t now, int *gone)
{
    size_t i = crumb__session_srv_of(s)->key[0] % CRUMB__SAVE_STRIPES;
    save_waiter me;
    memset(&me, 0, sizeof me);
    if (pthread_cond_init(&me.wake, NULL) != 0)
        return CRUMB_ENOMEM;
    me.s = s;
    me.now = now;
    pthread_mutex_lock(&iface->save_lock[i]);
    if (iface->save_tail[i])
        iface->save_tail[i]->next = &me;
    else
        iface->save_head[i] = &me;
    iface->save_tail[i] = &me;
    while (!me.done && iface->save_busy[i])
        pthread_cond_wait(&me.wake, &iface->save_lock[i]);
    if (!me.done) {
        /* Nobody is saving: this request saves what is queued. */
        save_waiter *q = iface->save_head[i];
        iface->save_head[i] = iface->save_tail[i] = NULL;
        iface->save_busy[i] = 1;
        pthread_mutex_unlock(&iface->save_lock[i]);
        save_queued(iface, st, q, &iface->last_save[i]);
        pthread_mutex_lock(&iface->save_lock[i]);
        /* Each saved request is woken alone (a broadcast woke every
         * waiter of the stripe, most only to sleep again), and the
         * first of those queued since, if any, to save the rest. */
        while (q) {
            save_waiter *next = q->next;
            q->done = 1; /* it may return once the lock is free */
            if (q != &me)
                pthread_cond_signal(&q->wake);
            q = next;
        }
        iface->save_busy[i] = 0;
        if (iface->save_head[i])
            pthread_cond_signal(&iface->save_head[i]->wake);
    }
    pthread_mutex_unlock(&iface->save_lock[i]);
    pthread_cond_destroy(&me.wake);
    *gone = me.gone;
    if (me.rc != CRUMB_OK && me.rc != CRUMB_ENOMEM && me.msg[0])
        snprintf(crumb__iface_errbuf, sizeof crumb__iface_errbuf, "%s",
                 me.msg);
    return me.rc;
}

int
crumb__iface_store_save(crumb_iface *iface, crumb_session *s,
                        crumb_save_result *res)
{
    crumb__session_srv *srv = crumb__session_srv_of(s);
    int accessed = crumb_session_was_accessed(s);
    int modified = crumb_session_is_modified(s) || srv->meta_changed;
    const json_t *data = crumb_session_data(s);
    int empty = json_object_size(data) == 0;
    int64_t now = crumb_iface_now(iface);
    res->vary_cookie = accessed;

    if (srv->version == 0 && (empty || srv->destroy))
        return CRUMB_OK; /* nothing stored, nothing to store */

    crumb_store *st = crumb_iface_store_acquire(iface);
    if (!st)
        return CRUMB_EUNAVAIL;
    int rc = CRUMB_OK, gone = 0;
    if (srv->version == 0) {
        rc = create_record(iface, st, s, now);
        if (rc == CRUMB_OK)
            rc = set_id_cookie(iface, s, now, res);
    } else if (srv->destroy || (empty && modified)) {
        rc = crumb_store_destroy(st, srv->key);
        if (rc == CRUMB_ENOTFOUND)
            rc = CRUMB_OK;
        gone = 1;
    } else if (srv->regenerate) {
        unsigned char old[32];
        memcpy(old, srv->key, 32);
        rc = create_record(iface, st, s, now);
        if (rc == CRUMB_OK) {
            rc = crumb_store_destroy(st, old);
            if (rc == CRUMB_ENOTFOUND)
                rc = CRUMB_OK;
        }
        if (rc == CRUMB_OK)
            rc = set_id_cookie(iface, s, now, res);
    } else {
        if (modified)
            rc = update_record(iface, st, s, now, &gone);
        else if (now - srv->last_seen >= iface->cfg.touch_interval) {
            rc = crumb_store_touch(st, srv->key, now,
                                   expiry(iface, srv->created, now), now);
            if (rc == CRUMB_ENOTFOUND) {
                gone = 1;
                rc = CRUMB_OK;
            }
        }
        if (rc == CRUMB_OK && !gone && crumb_session_is_permanent(s) &&
            iface->cfg.refresh_each_request)
            rc = set_id_cookie(iface, s, now, res);
    }
    if (rc != CRUMB_OK && rc != CRUMB_ENOMEM && !crumb__iface_errbuf[0])
        snprintf(crumb__iface_errbuf, sizeof crumb__iface_errbuf, "%s",
                 crumb_store_errmsg(st));
    crumb_iface_store_release(iface, st);
    if (rc == CRUMB_OK) {
        crumb_session_changes_reset(s);
        srv->regenerate = srv->destroy = srv->meta_changed = 0;
        if (gone) {
            srv->version = 0;
            rc = crumb__save_delete(iface, res);
        }
    }
    return rc;
}

/* ---- listing and revoking ------------------------------------------------ */

static int
with_store(crumb_iface *iface, crumb_store **st)
{
    if (!iface->store_uri)
        return CRUMB_EUNSUPPORTED;
    *st = crumb_iface_store_acquire(iface);
    return *st ? CRUMB_OK : CRUMB_EUNAVAIL;
}

/* @count records as session infos; the one under @cur (may be NULL) is
 * marked current. Returns NULL only when out of memory with count > 0. */
static crumb_session_info *
infos_of(const crumb_store_record *recs, size_t count,
         const unsigned char *cur)
{
    crumb_session_info *info = count ? calloc(count, sizeof *info) : NULL;
    if (!info)
        return NULL;
    for (size_t i = 0; i < count; i++) {
        handle_of(recs[i].key, info[i].handle);
        info[i].created = recs[i].created;
        info[i].last_seen = recs[i].last_seen;
        info[i].expires_at = recs[i].expires_at;
        memcpy(info[i].user, recs[i].user, sizeof info[i].user);
        memcpy(info[i].addr, recs[i].addr, sizeof info[i].addr);
        memcpy(info[i].agent, recs[i].agent, sizeof info[i].agent);
        info[i].current = cur && !memcmp(cur, recs[i].key, 32);
    }
    return info;
}

int
crumb_iface_list_sessions(crumb_iface *iface, const char *user,
                          const crumb_session *current,
                          crumb_session_info **out, size_t *n)
{
    crumb_store *st;
    *out = NULL;
    *n = 0;
    if (!user || !*user)
        return CRUMB_EINVAL;
    int rc = with_store(iface, &st);
    if (rc != CRUMB_OK)
        return rc;
    crumb_store_record *recs = NULL;
    size_t count = 0;
    rc = crumb_store_list_user(st, user, crumb_iface_now(iface), &recs, &count);
    crumb_iface_store_release(iface, st);
    if (rc != CRUMB_OK)
        return rc;
    const unsigned char *cur = NULL;
    if (current && crumb_session_handle(current)[0])
        cur = crumb__session_srv_of((crumb_session *)current)->key;
    crumb_session_info *info = infos_of(recs, count, cur);
    crumb_store_records_free(recs, count);
    if (count && !info)
        return CRUMB_ENOMEM;
    *out = info;
    *n = count;
    return CRUMB_OK;
}

int
crumb_iface_list_all_sessions(crumb_iface *iface, size_t limit,
                              crumb_session_info **out, size_t *n)
{
    crumb_store *st;
    *out = NULL;
    *n = 0;
    if (limit == 0)
        return CRUMB_EINVAL;
    int rc = with_store(iface, &st);
    if (rc != CRUMB_OK)
        return rc;
    crumb_store_record *recs = NULL;
    size_t count = 0;
    rc = crumb_store_list_all(st, crumb_iface_now(iface), limit, &recs,
                              &count);
    if (rc != CRUMB_OK)
        snprintf(crumb__iface_errbuf, sizeof crumb__iface_errbuf, "%s",
                 crumb_store_errmsg(st));
    crumb_iface_store_release(iface, st);
    if (rc != CRUMB_OK)
        return rc;
    crumb_session_info *info = infos_of(recs, count, NULL);
    crumb_store_records_free(recs, count);
    if (count && !info)
        return CRUMB_ENOMEM;
    *out = info;
    *n = count;
    return CRUMB_OK;
}

/* The index of the record whose handle is @handle, or -1. */
static long
find_handle(const crumb_store_record *recs, size_t count, const char *handle)
{
    for (size_t i = 0; i < count; i++) {
        char h[17];
        handle_of(recs[i].key, h);
        if (!strcmp(h, handle))
            return (long)i;
    }
    return -1;
}

static int
handle_valid(const char *handle)
{
    if (!handle || strlen(handle) != 16)
        return 0;
    return strspn(handle, "0123456789abcdef") == 16;
}

int
crumb_iface_revoke_session(crumb_iface *iface, const char *user,
                           const char *handle)
{
    crumb_store *st;
    if (!user || !*user || !handle || strlen(handle) != 16)
        return CRUMB_ENOTFOUND;
    int rc = with_store(iface, &st);
    if (rc != CRUMB_OK)
        return rc;
    crumb_store_record *recs = NULL;
    size_t count = 0;
    rc = crumb_store_list_user(st, user, crumb_iface_now(iface), &recs, &count);
    if (rc == CRUMB_OK) {
        long i = find_handle(recs, count, handle);
        rc = i < 0 ? CRUMB_ENOTFOUND : crumb_store_destroy(st, recs[i].key);
    }
    crumb_store_records_free(recs, count);
    crumb_iface_store_release(iface, st);
    return rc;
}

int
crumb_iface_revoke_handle(crumb_iface *iface, const char *handle)
{
    crumb_store *st;
    if (!handle_valid(handle))
        return CRUMB_ENOTFOUND;
    int rc = with_store(iface, &st);
    if (rc != CRUMB_OK)
        return rc;
    crumb_store_record *recs = NULL;
    size_t count = 0;
    rc = crumb_store_list_all(st, crumb_iface_now(iface), SIZE_MAX, &recs,
                              &count);
    if (rc == CRUMB_OK) {
        long i = find_handle(recs, count, handle);
        rc = i < 0 ? CRUMB_ENOTFOUND : crumb_store_destroy(st, recs[i].key);
    }
    if (rc != CRUMB_OK && rc != CRUMB_ENOTFOUND)
        snprintf(crumb__iface_errbuf, sizeof crumb__iface_errbuf, "%s",
                 crumb_store_errmsg(st));
    crumb_store_records_free(recs, count);
    crumb_iface_store_release(iface, st);
    return rc;
}

int
crumb_iface_revoke_user(crumb_iface *iface, const char *user,
                        const crumb_session *keep, size_t *count)
{
    crumb_store *st;
    if (count)
        *count = 0;
    if (!user || !*user)
        return CRUMB_EINVAL;
    int rc = with_store(iface, &st);
    if (rc != CRUMB_OK)
        return rc;
    const unsigned char *except = NULL;
    if (keep && crumb_session_handle(keep)[0])
        except = crumb__session_srv_of((crumb_session *)keep)->key;
    rc = crumb_store_destroy_user(st, user, except, count);
    crumb_iface_store_release(iface, st);
    return rc;
}

int
crumb_iface_gc(crumb_iface *iface, size_t *removed)
{
    crumb_store *st;
    if (removed)
        *removed = 0;
    int rc = with_store(iface, &st);
    if (rc != CRUMB_OK)
        return rc;
    rc = crumb_store_gc(st, crumb_iface_now(iface), removed);
    crumb_iface_store_release(iface, st);
    return rc;
}
