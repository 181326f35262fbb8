/* hmac_fast.h - HMAC with the key's pad blocks hashed once, up front. */
#ifndef CRUMB_HMAC_FAST_H
#define CRUMB_HMAC_FAST_H

#include <stddef.h>

#include <openssl/sha.h>

#include <crumb/sign.h>

/* A key ready to MAC with: the hash states after key ^ ipad and key ^
 * opad. Plain data: copy it, never share a state being updated. */
typedef struct crumb__hmac_key {
    crumb_digest digest;
    size_t mac_len;
    union {
        SHA_CTX sha1;
        SHA256_CTX sha256;
        SHA512_CTX sha512;
    } inner, outer;
} crumb__hmac_key;

/* crumb__hmac_key_init - prepare @k for @digest and @key (any length).
 * Returns CRUMB_OK or CRUMB_EINVAL (unknown digest). */
int crumb__hmac_key_init(crumb__hmac_key *k, crumb_digest digest,
                         const unsigned char *key, size_t len);

/* crumb__hmac - HMAC(@k, @data) into @out (k->mac_len bytes).
 * Thread-safety: many threads may use one key at once (it is read). */
void crumb__hmac(const crumb__hmac_key *k, const void *data, size_t len,
                 unsigned char *out);

/* crumb__hmac_key_wipe - clear the key's states. */
void crumb__hmac_key_wipe(crumb__hmac_key *k);

/* crumb__sha256 - SHA-256 of @data into @out, without EVP_Digest()'s
 * provider fetch (most of its cost on a 43-byte session id). */
void crumb__sha256(const void *data, size_t len, unsigned char out[32]);

#endif
