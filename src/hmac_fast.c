/* hmac_fast.c - HMAC (RFC 2104) over OpenSSL's one-shot SHA functions.
 *
 * Why not EVP_MAC: a cookie is MAC'd once per open and once per save, a
 * few hundred bytes each time, and OpenSSL 3's EVP_MAC re-initialisation,
 * provider dispatch and context handling cost several times the hashing
 * itself (about 5,000 instructions per call in the cookie benchmark). The
 * key's inner and outer pad blocks are hashed once when the key is added;
 * each MAC then copies two small structs and hashes only the data.
 *
 * The SHA*_Init/Update/Final functions are deprecated in OpenSSL 3 in
 * favour of EVP, but still part of its API and ABI (Debian 12 builds them);
 * they call the same assembly block functions EVP does.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <crumb/error.h>

#include "hmac_fast.h"

#define MAX_BLOCK 128 /* SHA-512's block; SHA-1 and SHA-256 use 64 */

static size_t
block_size(crumb_digest d)
{
    return d == CRUMB_DIGEST_SHA512 ? 128 : 64;
}

/* One-shot hash of @p into @out with @d. */
static void
hash(crumb_digest d, const unsigned char *p, size_t n, unsigned char *out)
{
    switch (d) {
    case CRUMB_DIGEST_SHA1:
        SHA1(p, n, out);
        break;
    case CRUMB_DIGEST_SHA256:
        SHA256(p, n, out);
        break;
    case CRUMB_DIGEST_SHA512:
        SHA512(p, n, out);
        break;
    }
}

/* The state after hashing one block @pad into @ctx. */
static void
absorb(crumb_digest d, void *ctx, const unsigned char *pad, size_t n)
{
    switch (d) {
    case CRUMB_DIGEST_SHA1:
        SHA1_Init(ctx);
        SHA1_Update(ctx, pad, n);
        break;
    case CRUMB_DIGEST_SHA256:
        SHA256_Init(ctx);
        SHA256_Update(ctx, pad, n);
        break;
    case CRUMB_DIGEST_SHA512:
        SHA512_Init(ctx);
        SHA512_Update(ctx, pad, n);
        break;
    }
}

int
crumb__hmac_key_init(crumb__hmac_key *k, crumb_digest digest,
                     const unsigned char *key, size_t len)
{
    unsigned char kb[MAX_BLOCK] = {0}, pad[MAX_BLOCK];
    if ((unsigned)digest > CRUMB_DIGEST_SHA512)
        return CRUMB_EINVAL;
    memset(k, 0, sizeof *k);
    k->digest = digest;
    k->mac_len = digest == CRUMB_DIGEST_SHA1     ? 20
                 : digest == CRUMB_DIGEST_SHA256 ? 32
                                                 : 64;
    size_t bs = block_size(digest);
    if (len > bs)
        hash(digest, key, len, kb); /* long keys are hashed first */
    else if (len)
        memcpy(kb, key, len);
    for (size_t i = 0; i < bs; i++)
        pad[i] = kb[i] ^ 0x36;
    absorb(digest, &k->inner, pad, bs);
    for (size_t i = 0; i < bs; i++)
        pad[i] = kb[i] ^ 0x5c;
    absorb(digest, &k->outer, pad, bs);
    OPENSSL_cleanse(kb, sizeof kb);
    OPENSSL_cleanse(pad, sizeof pad);
    return CRUMB_OK;
}

/* inner = H(ipad state, data); out = H(opad state, inner). */
#define HMAC_WITH(CTX, field, Update, Final, LEN)                              \
    do {                                                                       \
        CTX c = k->inner.field;                                                \
        Update(&c, data, len);                                                 \
        Final(ih, &c);                                                         \
        c = k->outer.field;                                                    \
        Update(&c, ih, LEN);                                                   \
        Final(out, &c);                                                        \
        explicit_bzero(&c, sizeof c); /* a memset the compiler keeps */        \
    } while (0)

void
crumb__hmac(const crumb__hmac_key *k, const void *data, size_t len,
            unsigned char *out)
{
    unsigned char ih[SHA512_DIGEST_LENGTH];
    switch (k->digest) {
    case CRUMB_DIGEST_SHA1:
        HMAC_WITH(SHA_CTX, sha1, SHA1_Update, SHA1_Final, SHA_DIGEST_LENGTH);
        break;
    case CRUMB_DIGEST_SHA256:
        HMAC_WITH(SHA256_CTX, sha256, SHA256_Update, SHA256_Final,
                  SHA256_DIGEST_LENGTH);
        break;
    case CRUMB_DIGEST_SHA512:
        HMAC_WITH(SHA512_CTX, sha512, SHA512_Update, SHA512_Final,
                  SHA512_DIGEST_LENGTH);
        break;
    }
}

void
crumb__hmac_key_wipe(crumb__hmac_key *k)
{
    OPENSSL_cleanse(k, sizeof *k);
}

/* Not SHA256(): in OpenSSL 3 the one-shot goes through EVP_Q_digest(),
 * which fetches the algorithm from the provider on every call. */
void
crumb__sha256(const void *data, size_t len, unsigned char out[32])
{
    SHA256_CTX c;
    SHA256_Init(&c);
    SHA256_Update(&c, data, len);
    SHA256_Final(out, &c);
}
