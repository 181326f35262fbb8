/* store_int.h - what the store backends share inside libcrumb. */
#ifndef CRUMB_STORE_INT_H
#define CRUMB_STORE_INT_H

#include <stddef.h>
#include <stdint.h>

#include <crumb/error.h>
#include <crumb/store.h>

#define CRUMB__STORE_ERRMSG_MAX 256

struct crumb_store {
    const crumb_store_ops *ops;
    void *impl;
    size_t max_data_len;
    char errmsg[CRUMB__STORE_ERRMSG_MAX];
};

extern const crumb_store_ops crumb__store_memory_ops;
extern const crumb_store_ops crumb__store_sqlite_ops;
extern const crumb_store_ops crumb__store_redis_ops;

/* Options with every zero replaced by its default. */
void crumb__store_options_resolve(crumb_store_options *out,
                                  const crumb_store_options *in);

/* 1 when the @len bytes at @s hold no NUL and @len <= @max: a string
 * read back from a store that fits the record's field. */
int crumb__store_text_ok(const char *s, size_t len, size_t max);

/* Lowercase hex of @len bytes into @out (2 * len + 1 bytes). */
void crumb__store_hex(const unsigned char *in, size_t len, char *out);

/* qsort order for list_user: last_seen descending, then key. */
int crumb__store_record_cmp(const void *a, const void *b);

/*
 * The newest @limit records seen so far, for list_all: a heap whose root
 * is the oldest kept record (by crumb__store_record_cmp), grown on demand
 * up to @limit entries. Records are copied without data.
 */
typedef struct crumb__store_top {
    crumb_store_record *recs;
    size_t n, cap, limit;
} crumb__store_top;

/* Offer @rec; returns CRUMB_OK or CRUMB_ENOMEM (the heap is unchanged). */
int crumb__store_top_add(crumb__store_top *t, const crumb_store_record *rec);

/* Decodes @len lowercase hex digits into @len / 2 bytes at @out; 1 on
 * success, 0 for an odd length or a bad digit. */
int crumb__store_unhex(const char *hex, size_t len, unsigned char *out);

/* 1 when a record with @expires_at is live at @now. */
static inline int
crumb__store_live(int64_t expires_at, int64_t now)
{
    return expires_at == 0 || now < expires_at;
}

#endif
