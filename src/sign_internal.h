/* sign_internal.h - the signer's layout, shared by sign.c and serializer.c. */
#ifndef CRUMB_SIGN_INTERNAL_H
#define CRUMB_SIGN_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>

#include <openssl/evp.h>
#include <zlib.h>

#include <crumb/sign.h>

#include "hmac_fast.h"

/* Contexts kept ready for reuse, per key and per signer. Threads take one
 * with an atomic exchange and give it back with a compare-and-swap; when
 * all slots are busy a thread makes a fresh one (and frees it after). */
#define CRUMB__POOL_SLOTS 8

typedef struct crumb__signer_key {
    unsigned char *secret;
    size_t secret_len;
    unsigned char *derived;
    size_t derived_len;
    crumb__hmac_key mac; /* keyed with derived */
} crumb__signer_key;

struct crumb_signer {
    unsigned char *salt;
    size_t salt_len;
    crumb_digest digest;
    crumb_keyderiv key_derivation;
    crumb_compression compression;
    size_t max_decompressed;
    EVP_MD *md;
    size_t mac_len;
    crumb__signer_key *keys;
    size_t nkeys, cap;
    _Atomic(z_stream *) zpool[CRUMB__POOL_SLOTS];       /* memLevel 8 */
    _Atomic(z_stream *) zpool_small[CRUMB__POOL_SLOTS]; /* memLevel 6 */
};

/* Longest b64url signature: SHA-512's 64 bytes. */
#define CRUMB__SIG_B64_MAX 86
/* Longest b64url timestamp: 8 bytes. */
#define CRUMB__TS_B64_MAX 11

/* crumb__signer_sign_into - write "." ts "." sig after the payload that
 * already sits in @buf[0..len), which has room for
 * CRUMB__TS_B64_MAX + CRUMB__SIG_B64_MAX + 3 more bytes; NUL-terminates
 * and returns the total length in *outlen. */
int crumb__signer_sign_into(const crumb_signer *s, char *buf, size_t len,
                            int64_t timestamp, size_t *outlen);

/* crumb__signer_try_compress - zlib.compress(@json) into @dst (@len
 * bytes) when that is at least 2 bytes shorter, as itsdangerous decides.
 * Returns the compressed length, 0 when it does not pay, -1 on ENOMEM. */
long crumb__signer_try_compress(const crumb_signer *s, const char *json,
                                size_t len, unsigned char *dst);

/* crumb__payload_parse - decode a bare payload ("." marks zlib) and parse
 * it as tagged JSON, inflating at most @max_decompressed bytes. */
int crumb__payload_parse(const char *payload, size_t len,
                         size_t max_decompressed, json_t **out);

#endif
