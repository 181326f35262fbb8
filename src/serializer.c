/* serializer.c - itsdangerous URLSafeTimedSerializer over tagged JSON. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include <crumb/base64.h>
#include <crumb/error.h>
#include <crumb/sign.h>
#include <crumb/tagjson.h>

#include "deflate_bound.h"
#include "deflate_fixed.h"
#include "sign_internal.h"

/* Payloads up to this size decode on the stack. */
#define STACK_PAYLOAD 3072

/*
 * Compression streams. Python's zlib.compress uses level -1, 15 window
 * bits, memory level 8 and the default strategy; itsdangerous keeps the
 * result when it is at least 2 bytes shorter than the JSON, so we must
 * produce exactly those bytes (or know they would not be kept).
 *
 * Most of the cost of a small compression is deflateReset() clearing the
 * hash head table: 2^(memLevel + 8) bytes, 64 KiB at memory level 8. At
 * memory level 6 it is 16 KiB, and for the inputs below the output is the
 * same, byte for byte. The argument, against zlib's deflate.c/trees.c
 * (the same from 1.2.x through 1.3.x):
 *
 *  1. memLevel sets only hash_bits = memLevel + 7 (and with it hash_size,
 *     hash_mask, hash_shift = (hash_bits + 2) / 3) and lit_bufsize =
 *     2^(memLevel + 6). Nothing in the zlib header depends on it.
 *  2. A block is flushed before the end only when lit_bufsize - 1 symbols
 *     are buffered: 4095 at level 6. An input of n <= SMALL_MAX_LEN bytes
 *     yields at most n symbols, so both levels write one final block from
 *     the same symbols, if they are the same.
 *  3. The hash of a position is (c0 << 10 ^ c1 << 5 ^ c2) & hash_mask at
 *     both levels (hash_shift is 5 for 13 and 15 bits), so the 13-bit hash
 *     is the 15-bit one with its top 2 bits dropped: a level-8 hash chain
 *     holds, in the same order (newest first), a subset of the positions
 *     of the level-6 chain. The extra positions have a different 3-byte
 *     prefix (zlib relies on hash_bits >= 8 to skip comparing the third
 *     byte, so they fail on the first two) and longest_match() rejects
 *     them without changing any state; when such a position is the chain
 *     head, level 6 calls longest_match() where level 8 would not, and it
 *     returns prev_length, which deflate_slow() treats exactly like the
 *     MIN_MATCH - 1 it would have had (both are <= prev_length).
 *  4. So the parse differs only if longest_match() gives up on a chain
 *     before its end: it looks at no fewer than 32 positions (128 >> 2 at
 *     level 6). If no 13-bit bucket holds more than 32 positions, no chain
 *     reaches that limit at either level and the parses are the same.
 *     deflate_slow() inserts positions 0 .. n - 3; small_stream_ok()
 *     counts them.
 *
 * tests/unit/test_sign.c checks the bytes against compress2() for many
 * inputs, including ones that take the level-8 path.
 */
#define SMALL_MEM_LEVEL 6
#define SMALL_HASH_BITS (SMALL_MEM_LEVEL + 7)
#define SMALL_MAX_LEN 4000
#define SMALL_MAX_BUCKET 32

/* Per-thread bucket counters, all zero between calls. */
static _Thread_local unsigned short bucket_count[1 << SMALL_HASH_BITS];

static unsigned
hash13(const unsigned char *p)
{
    return ((unsigned)p[0] << 10 ^ (unsigned)p[1] << 5 ^ p[2]) &
           ((1u << SMALL_HASH_BITS) - 1);
}

/* Whether memory level 6 gives the same bytes as 8 for @p (see above). */
static int
small_stream_ok(const unsigned char *p, size_t len)
{
    if (len > SMALL_MAX_LEN)
        return 0;
    if (len < 3 + SMALL_MAX_BUCKET)
        return 1;
    size_t n = len - 2, i;
    int ok = 1;
    for (i = 0; i < n && ok; i++)
        ok = ++bucket_count[hash13(p + i)] <= SMALL_MAX_BUCKET;
    while (i > 0) {
        i--;
        bucket_count[hash13(p + i)]--;
    }
    return ok;
}

/* A deflate stream from @pool, or a new one at @mem_level (NULL on
 * ENOMEM). Pooled streams were reset when given back. */
static z_stream *
zstream_take(_Atomic(z_stream *) *pool, int mem_level)
{
    for (int i = 0; i < CRUMB__POOL_SLOTS; i++)
        if (atomic_load_explicit(&pool[i], memory_order_relaxed)) {
            z_stream *z = atomic_exchange(&pool[i], NULL);
            if (z)
                return z;
        }
    z_stream *z = calloc(1, sizeof *z);
    if (!z)
        return NULL;
    if (deflateInit2(z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, MAX_WBITS,
                     mem_level, Z_DEFAULT_STRATEGY) != Z_OK) {
        free(z);
        return NULL;
    }
    return z;
}

static void
zstream_give(_Atomic(z_stream *) *pool, z_stream *z)
{
    if (deflateReset(z) == Z_OK)
        for (int i = 0; i < CRUMB__POOL_SLOTS; i++) {
            z_stream *expected = NULL;
            if (atomic_compare_exchange_strong(&pool[i], &expected, z))
                return;
        }
    deflateEnd(z);
    free(z);
}

/*
 * zlib-compress @json into @dst when the result is at least 2 bytes
 * shorter (itsdangerous: len(compressed) < len(json) - 1). Returns the
 * compressed length, 0 when compression does not pay, -1 on ENOMEM. @dst
 * holds @len bytes; output that would not fit is not wanted anyway.
 */
long
crumb__signer_try_compress(const crumb_signer *s, const char *json,
                           size_t len, unsigned char *dst)
{
    if (len < 8 || len > UINT32_MAX)
        return 0;
    if (s->compression == CRUMB_COMPRESS_FAST &&
        len <= CRUMB__DEFLATE_FIXED_MAX)
        return (long)crumb__deflate_fixed((const unsigned char *)json, len,
                                          dst, len - 2);
    if (crumb__deflate_cannot_win((const unsigned char *)json, len))
        return 0;
    crumb_signer *m = (crumb_signer *)s;
    int small = small_stream_ok((const unsigned char *)json, len);
    _Atomic(z_stream *) *pool = small ? m->zpool_small : m->zpool;
    z_stream *z = zstream_take(pool, small ? SMALL_MEM_LEVEL : 8);
    if (!z)
        return -1;
    z->next_in = (Bytef *)json;
    z->avail_in = (uInt)len;
    z->next_out = dst;
    z->avail_out = (uInt)(len - 2);
    int zr = deflate(z, Z_FINISH);
    long n = zr == Z_STREAM_END ? (long)z->total_out : 0;
    zstream_give(pool, z);
    return n;
}

int
crumb_signer_dumps(const crumb_signer *s, const json_t *obj,
                   int64_t timestamp, char **out, size_t *outlen)
{
    unsigned char zstack[STACK_PAYLOAD];
    if (!out)
        return CRUMB_EINVAL;
    *out = NULL;
    if (!s || !obj)
        return CRUMB_EINVAL;
    if (s->nkeys == 0)
        return CRUMB_ENOKEY;
    if (timestamp < 0)
        return CRUMB_EINVAL;
    char *json = NULL;
    size_t jlen = 0;
    int rc = crumb_tagjson_dumps(obj, &json, &jlen);
    if (rc != CRUMB_OK)
        return rc;
    unsigned char *z = jlen <= sizeof zstack ? zstack : malloc(jlen);
    char *buf = NULL;
    long zn = z ? crumb__signer_try_compress(s, json, jlen, z) : -1;
    if (zn < 0) {
        rc = CRUMB_ENOMEM;
        goto out;
    }
    const void *raw = zn > 0 ? (const void *)z : (const void *)json;
    size_t rawlen = zn > 0 ? (size_t)zn : jlen;
    size_t cap = 1 + CRUMB_B64_ENCODED_LEN(rawlen) + CRUMB__TS_B64_MAX +
                 CRUMB__SIG_B64_MAX + 3;
    buf = malloc(cap);
    if (!buf) {
        rc = CRUMB_ENOMEM;
        goto out;
    }
    size_t n = 0;
    if (zn > 0)
        buf[n++] = '.';
    n += crumb_b64url_encode(raw, rawlen, buf + n);
    rc = crumb__signer_sign_into(s, buf, n, timestamp, &n);
    if (rc == CRUMB_OK) {
        *out = buf;
        buf = NULL;
        if (outlen)
            *outlen = n;
    }
out:
    free(buf);
    if (z != zstack)
        free(z);
    free(json);
    return rc;
}

/*
 * Inflates @in, refusing more than @max output bytes (CRUMB_ETOOBIG): the
 * output grows in steps, whatever the stream claims, so a small bomb
 * cannot make us allocate past the bound. The stream must end exactly at
 * the end of the input.
 */
static int
inflate_bounded(const unsigned char *in, size_t len, size_t max,
                unsigned char **out, size_t *outlen)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (len > UINT32_MAX)
        return CRUMB_ETOOBIG;
    if (inflateInit(&z) != Z_OK)
        return CRUMB_ENOMEM;
    size_t cap = len * 4 < 1024 ? 1024 : len * 4;
    if (cap > max + 1)
        cap = max + 1;
    unsigned char *buf = malloc(cap);
    int rc = buf ? CRUMB_OK : CRUMB_ENOMEM;
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)len;
    while (rc == CRUMB_OK) {
        if (z.total_out == cap) {
            if (cap > max) {
                rc = CRUMB_ETOOBIG;
                break;
            }
            size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
            unsigned char *nb = realloc(buf, ncap);
            if (!nb) {
                rc = CRUMB_ENOMEM;
                break;
            }
            buf = nb;
            cap = ncap;
        }
        z.next_out = buf + z.total_out;
        z.avail_out = (uInt)(cap - z.total_out);
        int zr = inflate(&z, Z_FINISH);
        if (zr == Z_STREAM_END) {
            if (z.avail_in != 0)
                rc = CRUMB_EMALFORMED;
            else if (z.total_out > max)
                rc = CRUMB_ETOOBIG;
            break;
        }
        if (zr == Z_MEM_ERROR)
            rc = CRUMB_ENOMEM;
        else if (zr != Z_BUF_ERROR && zr != Z_OK)
            rc = CRUMB_EMALFORMED;
        else if (z.avail_out != 0)
            rc = CRUMB_EMALFORMED; /* input ended mid-stream */
    }
    inflateEnd(&z);
    if (rc != CRUMB_OK) {
        free(buf);
        return rc;
    }
    *out = buf;
    *outlen = z.total_out;
    return CRUMB_OK;
}

int
crumb__payload_parse(const char *payload, size_t len,
                     size_t max_decompressed, json_t **out)
{
    unsigned char stackbuf[STACK_PAYLOAD];
    int compressed = len > 0 && payload[0] == '.';
    if (compressed) {
        payload++;
        len--;
    }
    unsigned char *raw = stackbuf;
    if (CRUMB_B64_DECODED_MAX(len) > sizeof stackbuf) {
        raw = malloc(CRUMB_B64_DECODED_MAX(len));
        if (!raw)
            return CRUMB_ENOMEM;
    }
    long n = crumb_b64url_decode(payload, len, raw);
    int rc;
    if (n < 0) {
        rc = CRUMB_EMALFORMED;
    } else if (compressed) {
        unsigned char *json = NULL;
        size_t jlen = 0;
        rc = inflate_bounded(raw, (size_t)n, max_decompressed, &json, &jlen);
        if (rc == CRUMB_OK) {
            rc = crumb_tagjson_loads((const char *)json, jlen, out);
            free(json);
        }
    } else if ((size_t)n > max_decompressed) {
        rc = CRUMB_ETOOBIG;
    } else {
        rc = crumb_tagjson_loads((const char *)raw, (size_t)n, out);
    }
    if (raw != stackbuf)
        free(raw);
    return rc;
}

int
crumb_signer_loads(const crumb_signer *s, const char *value, size_t len,
                   int64_t max_age, int64_t now, json_t **out,
                   int64_t *timestamp)
{
    const char *payload = NULL;
    size_t plen = 0;
    if (!out)
        return CRUMB_EINVAL;
    *out = NULL;
    int rc = crumb_signer_unsign(s, value, len, max_age, now, &payload,
                                 &plen, timestamp);
    if (rc != CRUMB_OK)
        return rc;
    return crumb__payload_parse(payload, plen, s->max_decompressed, out);
}

/* The payload is everything before the first '.' that follows the
 * optional leading '.' of a compressed payload; a bare payload has none. */
int
crumb_payload_decode(const char *value, size_t len, size_t max_decompressed,
                     json_t **out)
{
    if (!out)
        return CRUMB_EINVAL;
    *out = NULL;
    if (!value && len)
        return CRUMB_EINVAL;
    if (max_decompressed == 0)
        max_decompressed = (size_t)1 << 20;
    size_t start = len > 0 && value[0] == '.', end = start;
    while (end < len && value[end] != '.')
        end++;
    return crumb__payload_parse(value, end, max_decompressed, out);
}
