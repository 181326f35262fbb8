/* redis_int.h - what the redis store's two files share: the handle,
 * command arguments and the helpers that run commands and scripts
 * (redis.c: connection, records; redis_kv.c: counters, kv, logs). */
#ifndef CRUMB_REDIS_INT_H
#define CRUMB_REDIS_INT_H

#include <hiredis/hiredis.h>
#include <stdint.h>
#include <sys/time.h>

#include <crumb/store.h>

#include "redis_conn.h"

/* The Lua scripts (redis_scripts.h holds their text, for redis.c). */
enum { S_SAVE, S_TOUCH, S_DESTROY, S_DESTROY_USER, S_LIST, S_GC_USER,
       S_COUNTER, S_KV_SET, S_LOG_APPEND, S_LOG_APPEND_MANY, S_COUNT };


#define PREFIX_MAX 64
#define HEX_LEN (2 * CRUMB_STORE_KEY_LEN)
#define SCAN_COUNT "500" /* keys per SCAN step */
/* The longest key: prefix ":x:" name. */
#define RKEY_MAX (PREFIX_MAX + 3 + CRUMB_STORE_NAME_MAX + 1)

typedef struct rstore {
    crumb__redis_conn conn;
    char prefix[PREFIX_MAX + 1];
    size_t max_data;
    char sha[S_COUNT][41];
    crumb__arena arena; /* rd_load's reply */
} rstore;

/* A command's arguments: pointers and lengths, numbers formatted into
 * room of their own. */
typedef struct args {
    int n;
    const char *v[20];
    size_t l[20];
    char num[20][24];
} args;

void crumb__rd_arg_bytes(args *a, const void *p, size_t len);
void crumb__rd_arg_str(args *a, const char *s);
void crumb__rd_arg_int(args *a, int64_t v);
/* @v in decimal at @out (24 bytes), NUL-terminated; returns its length. */
size_t crumb__rd_fmt_int(char *out, int64_t v);
/* The text of script @id (for EVAL when Redis lost it). */
const char *crumb__rd_script_text(int id);
/* PREFIX ":" kind ":" name into @out (RKEY_MAX bytes). */
void crumb__rd_rkey(const rstore *r, char kind, const char *name, char *out);
/* One command / one script: the reply (never an error reply) or NULL with
 * *rc set; a transport failure drops the connection. */
redisReply *crumb__rd_run(crumb_store *st, rstore *r, args *a, int *rc);
redisReply *crumb__rd_script(crumb_store *st, rstore *r, int id, args *a,
                             int *rc);
void crumb__rd_script_args(args *a, int nkeys);
int crumb__rd_int_reply(crumb_store *st, redisReply *rep, long long *out);
/* Script @id with @a, its integer reply into *out: CRUMB_OK, or the
 * failure of the call or of the reply's type. */
int crumb__rd_script_int(crumb_store *st, rstore *r, int id, args *a,
                         long long *out);
int crumb__rd_parse_int(const redisReply *rep, int64_t *out);
/* SCAN over PREFIX:kind:*: the pattern, and one step of the cursor. */
size_t crumb__rd_scan_pattern(const rstore *r, char kind, char *pattern);
redisReply *crumb__rd_scan_step(crumb_store *st, rstore *r, char *cursor,
                                size_t cursor_size, const char *pattern,
                                int *rc);

/* redis_kv.c: the counters, kv values and logs of the store table. */
int crumb__rd_incr_counter(crumb_store *st, const char *name, int64_t delta,
                           int64_t window_seconds, int64_t now,
                           int64_t *value);
int crumb__rd_kv_set(crumb_store *st, const char *name, const void *data,
                     size_t len, int64_t ttl_seconds, int64_t now);
int crumb__rd_kv_get(crumb_store *st, const char *name, int64_t now,
                     unsigned char **data, size_t *len);
int crumb__rd_kv_del(crumb_store *st, const char *name);
int crumb__rd_log_append(crumb_store *st, const char *name, const void *item,
                         size_t len, size_t cap, int64_t ttl, int64_t now);
int crumb__rd_log_append_many(crumb_store *st,
                              const crumb_store_log_entry *entries, size_t n,
                              size_t cap, int64_t ttl_seconds,
                              size_t *appended);
int crumb__rd_log_scan(crumb_store *st, const char *prefix, int64_t now,
                       crumb_store_log_fn fn, void *arg);

#endif
