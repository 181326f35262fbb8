/* memory.c - the memory: store, a bounded hash table behind one mutex. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

/*
 * One chained hash table holds every kind of entry; the first byte of an
 * entry's key says which: 's' + 32-byte record key, 'k' + kv name,
 * 'c' + counter name, 'l' + log name. A session entry keeps its metadata
 * in `rec`; a kv entry uses rec.data/len/expires_at; a counter keeps its
 * value in rec.version; a log keeps its items in rec.data, each as a
 * 4-byte length (host order) and the bytes, and their count in
 * rec.version. The table doubles when it holds as many entries as
 * buckets and never holds more than max_records entries: at the limit a
 * sweep of expired entries runs, then a new entry is refused.
 */
typedef struct ment {
    struct ment *next;
    uint64_t hash;
    crumb_store_record rec;
    size_t klen;
    unsigned char k[];
} ment;

typedef struct mstore {
    pthread_mutex_t lock;
    ment **buckets;
    size_t nbuckets; /* a power of two */
    size_t count;
    size_t max;
} mstore;

static uint64_t
hash_bytes(const unsigned char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h ^ (h >> 29);
}

/* The entry for (kind, bytes), with *prevp pointing at the link to it so
 * the caller can unlink; NULL if absent. */
static ment *
find(mstore *m, char kind, const void *bytes, size_t n, ment ***prevp)
{
    unsigned char kb[1 + CRUMB_STORE_NAME_MAX];
    kb[0] = (unsigned char)kind;
    memcpy(kb + 1, bytes, n);
    uint64_t h = hash_bytes(kb, n + 1);
    ment **pp = &m->buckets[h & (m->nbuckets - 1)];
    for (; *pp; pp = &(*pp)->next) {
        ment *e = *pp;
        if (e->hash == h && e->klen == n + 1 && memcmp(e->k, kb, n + 1) == 0)
            break;
    }
    if (prevp)
        *prevp = pp;
    return *pp;
}

static void
ment_free(ment *e)
{
    free(e->rec.data);
    free(e);
}

static void
unlink_free(mstore *m, ment **pp)
{
    ment *e = *pp;
    *pp = e->next;
    ment_free(e);
    m->count--;
}

static void
grow(mstore *m)
{
    size_t n = m->nbuckets * 2;
    ment **b = calloc(n, sizeof(*b));
    if (!b)
        return; /* keep the longer chains: still correct */
    for (size_t i = 0; i < m->nbuckets; i++) {
        ment *e = m->buckets[i];
        while (e) {
            ment *next = e->next;
            e->next = b[e->hash & (n - 1)];
            b[e->hash & (n - 1)] = e;
            e = next;
        }
    }
    free(m->buckets);
    m->buckets = b;
    m->nbuckets = n;
}

/* Remove every entry expired at @now; returns how many sessions went. */
static size_t
sweep(mstore *m, int64_t now)
{
    size_t sessions = 0;
    for (size_t i = 0; i < m->nbuckets; i++) {
        ment **pp = &m->buckets[i];
        while (*pp) {
            ment *e = *pp;
            if (!crumb__store_live(e->rec.expires_at, now)) {
                sessions += e->k[0] == 's';
                unlink_free(m, pp);
            } else {
                pp = &e->next;
            }
        }
    }
    return sessions;
}

/* A new entry for (kind, bytes) linked at *pp (from find()), or NULL when
 * out of memory or full (message set). */
static ment *
insert(crumb_store *st, mstore *m, char kind, const void *bytes, size_t n,
       int64_t now)
{
    if (m->count >= m->max) {
        sweep(m, now);
        if (m->count >= m->max) {
            crumb_store_set_errmsg(st, "memory store full (%zu entries)",
                                   m->max);
            return NULL;
        }
    }
    if (m->count >= m->nbuckets)
        grow(m);
    ment *e = calloc(1, sizeof(*e) + n + 1);
    if (!e) {
        crumb_store_set_errmsg(st, "out of memory");
        return NULL;
    }
    e->k[0] = (unsigned char)kind;
    memcpy(e->k + 1, bytes, n);
    e->klen = n + 1;
    e->hash = hash_bytes(e->k, e->klen);
    ment **head = &m->buckets[e->hash & (m->nbuckets - 1)];
    e->next = *head;
    *head = e;
    m->count++;
    return e;
}

static unsigned char *
dup_bytes(const void *p, size_t n)
{
    unsigned char *d = malloc(n + 1);
    if (d) {
        if (n)
            memcpy(d, p, n);
        d[n] = '\0';
    }
    return d;
}

static int
mem_open(crumb_store *st, const char *uri, const crumb_store_options *o,
         void **impl)
{
    if (strcmp(uri, "memory:") != 0) {
        crumb_store_set_errmsg(st, "memory store URI is just \"memory:\"");
        return CRUMB_EINVAL;
    }
    mstore *m = calloc(1, sizeof(*m));
    if (!m)
        return CRUMB_ENOMEM;
    m->nbuckets = 64;
    m->max = o->max_records;
    m->buckets = calloc(m->nbuckets, sizeof(*m->buckets));
    if (!m->buckets || pthread_mutex_init(&m->lock, NULL) != 0) {
        free(m->buckets);
        free(m);
        return CRUMB_ENOMEM;
    }
    *impl = m;
    return CRUMB_OK;
}

static void
mem_close(void *impl)
{
    mstore *m = impl;
    for (size_t i = 0; i < m->nbuckets; i++) {
        ment *e = m->buckets[i];
        while (e) {
            ment *next = e->next;
            ment_free(e);
            e = next;
        }
    }
    pthread_mutex_destroy(&m->lock);
    free(m->buckets);
    free(m);
}

static int
mem_load(crumb_store *st, const unsigned char *key, int64_t now,
         crumb_store_record *rec)
{
    mstore *m = crumb_store_impl(st);
    int rc = CRUMB_ENOTFOUND;
    pthread_mutex_lock(&m->lock);
    ment *e = find(m, 's', key, CRUMB_STORE_KEY_LEN, NULL);
    if (e && crumb__store_live(e->rec.expires_at, now)) {
        *rec = e->rec;
        rec->data = dup_bytes(e->rec.data, e->rec.len);
        rc = rec->data ? CRUMB_OK : CRUMB_ENOMEM;
        if (!rec->data)
            rec->len = 0;
    }
    pthread_mutex_unlock(&m->lock);
    return rc;
}

static int
mem_save(crumb_store *st, const unsigned char *key, crumb_store_record *rec,
         int64_t expected, int64_t now)
{
    mstore *m = crumb_store_impl(st);
    /* Copy outside the lock: a 1 MiB record should not stall others. */
    unsigned char *copy = dup_bytes(rec->data, rec->len);
    if (!copy)
        return CRUMB_ENOMEM;
    int rc = CRUMB_OK;
    pthread_mutex_lock(&m->lock);
    ment **pp;
    ment *e = find(m, 's', key, CRUMB_STORE_KEY_LEN, &pp);
    int live = e && crumb__store_live(e->rec.expires_at, now);
    if (expected == 0 && live)
        rc = CRUMB_ECONFLICT;
    else if (expected != 0 && !live)
        rc = CRUMB_ENOTFOUND;
    else if (expected != 0 && e->rec.version != expected)
        rc = CRUMB_ECONFLICT;
    else if (!e && !(e = insert(st, m, 's', key, CRUMB_STORE_KEY_LEN, now)))
        rc = CRUMB_ESTORE;
    if (rc == CRUMB_OK) {
        free(e->rec.data);
        e->rec = *rec;
        e->rec.data = copy;
        e->rec.version = expected + 1;
        memcpy(e->rec.key, key, CRUMB_STORE_KEY_LEN);
        copy = NULL;
    }
    pthread_mutex_unlock(&m->lock);
    free(copy);
    return rc;
}

static int
mem_destroy(crumb_store *st, const unsigned char *key)
{
    mstore *m = crumb_store_impl(st);
    pthread_mutex_lock(&m->lock);
    ment **pp;
    ment *e = find(m, 's', key, CRUMB_STORE_KEY_LEN, &pp);
    if (e)
        unlink_free(m, pp);
    pthread_mutex_unlock(&m->lock);
    return e ? CRUMB_OK : CRUMB_ENOTFOUND;
}

static int
mem_touch(crumb_store *st, const unsigned char *key, int64_t last_seen,
          int64_t expires_at, int64_t now)
{
    mstore *m = crumb_store_impl(st);
    int rc = CRUMB_ENOTFOUND;
    pthread_mutex_lock(&m->lock);
    ment *e = find(m, 's', key, CRUMB_STORE_KEY_LEN, NULL);
    if (e && crumb__store_live(e->rec.expires_at, now)) {
        e->rec.last_seen = last_seen;
        e->rec.expires_at = expires_at;
        rc = CRUMB_OK;
    }
    pthread_mutex_unlock(&m->lock);
    return rc;
}

/* list_user and destroy_user scan the whole table: the memory store is for
 * tests and small single-process services. */
static int
mem_list_user(crumb_store *st, const char *user, int64_t now,
              crumb_store_record **recs, size_t *n)
{
    mstore *m = crumb_store_impl(st);
    crumb_store_record *out = NULL;
    size_t cnt = 0, cap = 0;
    int rc = CRUMB_OK;
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < m->nbuckets && rc == CRUMB_OK; i++) {
        for (ment *e = m->buckets[i]; e; e = e->next) {
            if (e->k[0] != 's' || strcmp(e->rec.user, user) != 0 ||
                !crumb__store_live(e->rec.expires_at, now))
                continue;
            if (cnt == cap) {
                size_t nc = cap ? cap * 2 : 8;
                crumb_store_record *t = realloc(out, nc * sizeof(*t));
                if (!t) {
                    rc = CRUMB_ENOMEM;
                    break;
                }
                out = t;
                cap = nc;
            }
            out[cnt] = e->rec;
            out[cnt].data = NULL;
            out[cnt].len = 0;
            cnt++;
        }
    }
    pthread_mutex_unlock(&m->lock);
    if (rc != CRUMB_OK) {
        free(out);
        return rc;
    }
    *recs = out;
    *n = cnt;
    return CRUMB_OK;
}

static int
mem_list_all(crumb_store *st, int64_t now, size_t limit,
             crumb_store_record **recs, size_t *n)
{
    mstore *m = crumb_store_impl(st);
    crumb__store_top top = {.limit = limit};
    int rc = CRUMB_OK;
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < m->nbuckets && rc == CRUMB_OK; i++) {
        for (ment *e = m->buckets[i]; e && rc == CRUMB_OK; e = e->next) {
            if (e->k[0] == 's' && crumb__store_live(e->rec.expires_at, now))
                rc = crumb__store_top_add(&top, &e->rec);
        }
    }
    pthread_mutex_unlock(&m->lock);
    if (rc != CRUMB_OK) {
        free(top.recs);
        return rc;
    }
    *recs = top.recs;
    *n = top.n;
    return CRUMB_OK;
}

static int
mem_destroy_user(crumb_store *st, const char *user,
                 const unsigned char *except_key, size_t *count)
{
    mstore *m = crumb_store_impl(st);
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < m->nbuckets; i++) {
        ment **pp = &m->buckets[i];
        while (*pp) {
            ment *e = *pp;
            if (e->k[0] == 's' && strcmp(e->rec.user, user) == 0 &&
                !(except_key &&
                  memcmp(e->rec.key, except_key, CRUMB_STORE_KEY_LEN) == 0)) {
                unlink_free(m, pp);
                (*count)++;
            } else {
                pp = &e->next;
            }
        }
    }
    pthread_mutex_unlock(&m->lock);
    return CRUMB_OK;
}

static int
mem_gc(crumb_store *st, int64_t now, size_t *removed)
{
    mstore *m = crumb_store_impl(st);
    pthread_mutex_lock(&m->lock);
    *removed = sweep(m, now);
    pthread_mutex_unlock(&m->lock);
    return CRUMB_OK;
}

static int
mem_incr_counter(crumb_store *st, const char *name, int64_t delta,
                 int64_t window, int64_t now, int64_t *value)
{
    mstore *m = crumb_store_impl(st);
    int rc = CRUMB_OK;
    pthread_mutex_lock(&m->lock);
    ment *e = find(m, 'c', name, strlen(name), NULL);
    if (e && !crumb__store_live(e->rec.expires_at, now))
        e->rec.version = 0, e->rec.expires_at = window ? now + window : 0;
    else if (!e && (e = insert(st, m, 'c', name, strlen(name), now)))
        e->rec.expires_at = window ? now + window : 0;
    if (e) {
        e->rec.version += delta;
        *value = e->rec.version;
    } else {
        rc = CRUMB_ESTORE;
    }
    pthread_mutex_unlock(&m->lock);
    return rc;
}

static int
mem_kv_set(crumb_store *st, const char *name, const void *data, size_t len,
           int64_t ttl, int64_t now)
{
    mstore *m = crumb_store_impl(st);
    unsigned char *copy = dup_bytes(data, len);
    if (!copy)
        return CRUMB_ENOMEM;
    int rc = CRUMB_OK;
    pthread_mutex_lock(&m->lock);
    ment *e = find(m, 'k', name, strlen(name), NULL);
    if (!e)
        e = insert(st, m, 'k', name, strlen(name), now);
    if (e) {
        free(e->rec.data);
        e->rec.data = copy;
        e->rec.len = len;
        e->rec.expires_at = ttl ? now + ttl : 0;
        copy = NULL;
    } else {
        rc = CRUMB_ESTORE;
    }
    pthread_mutex_unlock(&m->lock);
    free(copy);
    return rc;
}

static int
mem_kv_get(crumb_store *st, const char *name, int64_t now,
           unsigned char **data, size_t *len)
{
    mstore *m = crumb_store_impl(st);
    int rc = CRUMB_ENOTFOUND;
    pthread_mutex_lock(&m->lock);
    ment *e = find(m, 'k', name, strlen(name), NULL);
    if (e && crumb__store_live(e->rec.expires_at, now)) {
        *data = dup_bytes(e->rec.data, e->rec.len);
        *len = *data ? e->rec.len : 0;
        rc = *data ? CRUMB_OK : CRUMB_ENOMEM;
    }
    pthread_mutex_unlock(&m->lock);
    return rc;
}

static int
mem_kv_del(crumb_store *st, const char *name)
{
    mstore *m = crumb_store_impl(st);
    pthread_mutex_lock(&m->lock);
    ment **pp;
    ment *e = find(m, 'k', name, strlen(name), &pp);
    if (e)
        unlink_free(m, pp);
    pthread_mutex_unlock(&m->lock);
    return e ? CRUMB_OK : CRUMB_ENOTFOUND;
}

/* Append one item to a log's packed items, dropping the oldest ones past
 * @cap. The new buffer is built aside, so a failure leaves the log as it
 * was. */
static int
log_push(ment *e, const void *item, size_t len, size_t cap)
{
    const unsigned char *p = e->rec.data;
    size_t count = (size_t)e->rec.version, off = 0;
    while (count + 1 > cap) {
        uint32_t l;
        memcpy(&l, p + off, sizeof l);
        off += sizeof l + l;
        count--;
    }
    size_t keep = e->rec.len - off;
    unsigned char *d = malloc(keep + sizeof(uint32_t) + len);
    if (!d)
        return CRUMB_ENOMEM;
    if (keep)
        memcpy(d, p + off, keep);
    uint32_t l = (uint32_t)len;
    memcpy(d + keep, &l, sizeof l);
    memcpy(d + keep + sizeof l, item, len);
    free(e->rec.data);
    e->rec.data = d;
    e->rec.len = keep + sizeof l + len;
    e->rec.version = (int64_t)count + 1;
    return CRUMB_OK;
}

/* One append, with the lock held. */
static int
log_append_locked(crumb_store *st, mstore *m, const char *name,
                  const void *item, size_t len, size_t cap, int64_t ttl,
                  int64_t now)
{
    int rc = CRUMB_OK;
    ment *e = find(m, 'l', name, strlen(name), NULL);
    if (e && !crumb__store_live(e->rec.expires_at, now)) {
        free(e->rec.data);
        e->rec.data = NULL;
        e->rec.len = 0;
        e->rec.version = 0;
    }
    if (!e)
        e = insert(st, m, 'l', name, strlen(name), now);
    if (!e)
        rc = CRUMB_ESTORE;
    else if ((rc = log_push(e, item, len, cap)) == CRUMB_OK)
        e->rec.expires_at = now + ttl;
    return rc;
}

static int
mem_log_append(crumb_store *st, const char *name, const void *item,
               size_t len, size_t cap, int64_t ttl, int64_t now)
{
    mstore *m = crumb_store_impl(st);
    pthread_mutex_lock(&m->lock);
    int rc = log_append_locked(st, m, name, item, len, cap, ttl, now);
    pthread_mutex_unlock(&m->lock);
    return rc;
}

/* The batch under one hold of the lock; a failure keeps what came
 * before it. */
static int
mem_log_append_many(crumb_store *st, const crumb_store_log_entry *ev,
                    size_t n, size_t cap, int64_t ttl, size_t *appended)
{
    mstore *m = crumb_store_impl(st);
    int rc = CRUMB_OK;
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < n && rc == CRUMB_OK; i++) {
        rc = log_append_locked(st, m, ev[i].name, ev[i].item, ev[i].len, cap,
                               ttl, ev[i].now);
        if (rc == CRUMB_OK)
            *appended = i + 1;
    }
    pthread_mutex_unlock(&m->lock);
    return rc;
}

/* Visits the live logs under the lock: the visitor only reads. */
static int
mem_log_scan(crumb_store *st, const char *prefix, int64_t now,
             crumb_store_log_fn fn, void *arg)
{
    mstore *m = crumb_store_impl(st);
    size_t plen = strlen(prefix);
    crumb_store_item *items = NULL;
    size_t cap = 0;
    int rc = CRUMB_OK;
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < m->nbuckets && rc == CRUMB_OK; i++) {
        for (ment *e = m->buckets[i]; e && rc == CRUMB_OK; e = e->next) {
            if (e->k[0] != 'l' || e->klen - 1 < plen ||
                memcmp(e->k + 1, prefix, plen) != 0 ||
                !crumb__store_live(e->rec.expires_at, now) ||
                e->rec.version <= 0)
                continue;
            size_t n = (size_t)e->rec.version;
            if (n > cap) {
                crumb_store_item *t = realloc(items, n * sizeof(*t));
                if (!t) {
                    rc = CRUMB_ENOMEM;
                    break;
                }
                items = t;
                cap = n;
            }
            size_t off = 0;
            for (size_t k = 0; k < n; k++) {
                uint32_t l;
                memcpy(&l, e->rec.data + off, sizeof l);
                items[k].data = e->rec.data + off + sizeof l;
                items[k].len = l;
                off += sizeof l + l;
            }
            char name[CRUMB_STORE_NAME_MAX + 1];
            memcpy(name, e->k + 1, e->klen - 1);
            name[e->klen - 1] = '\0';
            rc = fn(arg, name, items, n);
        }
    }
    pthread_mutex_unlock(&m->lock);
    free(items);
    return rc;
}

const crumb_store_ops crumb__store_memory_ops = {
    .version = CRUMB_STORE_OPS_VERSION,
    .scheme = "memory",
    .open = mem_open,
    .close = mem_close,
    .load = mem_load,
    .save = mem_save,
    .destroy = mem_destroy,
    .touch = mem_touch,
    .list_user = mem_list_user,
    .destroy_user = mem_destroy_user,
    .gc = mem_gc,
    .incr_counter = mem_incr_counter,
    .kv_set = mem_kv_set,
    .kv_get = mem_kv_get,
    .kv_del = mem_kv_del,
    .list_all = mem_list_all,
    .log_append = mem_log_append,
    .log_scan = mem_log_scan,
    .log_append_many = mem_log_append_many,
};
