/* sign.c - itsdangerous TimestampSigner: keys, signing, verification. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <crumb/base64.h>
#include <crumb/error.h>
#include <crumb/sign.h>

#include "sign_internal.h"

#define DEFAULT_SALT "cookie-session"
#define DEFAULT_MAX_DECOMPRESSED ((size_t)1 << 20)

static const char *
digest_name(crumb_digest d)
{
    switch (d) {
    case CRUMB_DIGEST_SHA1:
        return "SHA1";
    case CRUMB_DIGEST_SHA256:
        return "SHA256";
    case CRUMB_DIGEST_SHA512:
        return "SHA512";
    }
    return NULL;
}

int
crumb_signer_new(crumb_signer **out, const crumb_signer_options *opts)
{
    crumb_signer_options defaults = {0};
    if (!out)
        return CRUMB_EINVAL;
    *out = NULL;
    if (!opts)
        opts = &defaults;
    const char *mdname = digest_name(opts->digest);
    if (!mdname || (unsigned)opts->key_derivation > CRUMB_KEYDERIV_NONE ||
        (unsigned)opts->compression > CRUMB_COMPRESS_FLASK)
        return CRUMB_EINVAL;
    crumb_signer *s = calloc(1, sizeof *s);
    if (!s)
        return CRUMB_ENOMEM;
    const char *salt = opts->salt ? opts->salt : DEFAULT_SALT;
    s->salt_len = strlen(salt);
    s->salt = malloc(s->salt_len + 1);
    if (!s->salt) {
        free(s);
        return CRUMB_ENOMEM;
    }
    memcpy(s->salt, salt, s->salt_len + 1);
    s->digest = opts->digest;
    s->key_derivation = opts->key_derivation;
    s->compression = opts->compression;
    s->max_decompressed = opts->max_decompressed ? opts->max_decompressed
                                                 : DEFAULT_MAX_DECOMPRESSED;
    s->md = EVP_MD_fetch(NULL, mdname, NULL);
    if (!s->md) {
        crumb_signer_free(s);
        return CRUMB_ECRYPTO;
    }
    s->mac_len = (size_t)EVP_MD_get_size(s->md);
    *out = s;
    return CRUMB_OK;
}

static void
key_wipe(crumb__signer_key *k)
{
    crumb__hmac_key_wipe(&k->mac);
    if (k->derived && k->derived != k->secret) {
        OPENSSL_cleanse(k->derived, k->derived_len);
        free(k->derived);
    }
    if (k->secret) {
        OPENSSL_cleanse(k->secret, k->secret_len);
        free(k->secret);
    }
    memset(k, 0, sizeof *k);
}

static void
zpool_drain(_Atomic(z_stream *) *pool)
{
    for (int i = 0; i < CRUMB__POOL_SLOTS; i++) {
        z_stream *z = atomic_exchange(&pool[i], NULL);
        if (z) {
            deflateEnd(z);
            free(z);
        }
    }
}

void
crumb_signer_free(crumb_signer *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nkeys; i++)
        key_wipe(&s->keys[i]);
    free(s->keys);
    zpool_drain(s->zpool);
    zpool_drain(s->zpool_small);
    EVP_MD_free(s->md);
    free(s->salt);
    free(s);
}

size_t
crumb_signer_key_count(const crumb_signer *s)
{
    return s ? s->nkeys : 0;
}

/*
 * The signing key, as itsdangerous's Signer.derive_key() computes it:
 * "hmac" is HMAC(secret, salt), "concat" H(salt + secret),
 * "django-concat" H(salt + "signer" + secret), "none" the secret itself.
 */
static int
derive_key(const crumb_signer *s, crumb__signer_key *k)
{
    unsigned char buf[EVP_MAX_MD_SIZE];
    size_t n = 0;
    int ok = 0;
    if (s->key_derivation == CRUMB_KEYDERIV_NONE) {
        k->derived = k->secret;
        k->derived_len = k->secret_len;
        return CRUMB_OK;
    }
    if (s->key_derivation == CRUMB_KEYDERIV_HMAC) {
        crumb__hmac_key hk;
        ok = crumb__hmac_key_init(&hk, s->digest, k->secret,
                                  k->secret_len) == CRUMB_OK;
        if (ok) {
            crumb__hmac(&hk, s->salt, s->salt_len, buf);
            n = hk.mac_len;
        }
        crumb__hmac_key_wipe(&hk);
    } else {
        EVP_MD_CTX *c = EVP_MD_CTX_new();
        unsigned int un = 0;
        ok = c && EVP_DigestInit_ex(c, s->md, NULL) == 1 &&
             EVP_DigestUpdate(c, s->salt, s->salt_len) == 1 &&
             (s->key_derivation != CRUMB_KEYDERIV_DJANGO_CONCAT ||
              EVP_DigestUpdate(c, "signer", 6) == 1) &&
             EVP_DigestUpdate(c, k->secret, k->secret_len) == 1 &&
             EVP_DigestFinal_ex(c, buf, &un) == 1;
        n = un;
        EVP_MD_CTX_free(c);
    }
    if (!ok) {
        OPENSSL_cleanse(buf, sizeof buf);
        return CRUMB_ECRYPTO;
    }
    k->derived = malloc(n);
    if (!k->derived) {
        OPENSSL_cleanse(buf, sizeof buf);
        return CRUMB_ENOMEM;
    }
    memcpy(k->derived, buf, n);
    k->derived_len = n;
    OPENSSL_cleanse(buf, sizeof buf);
    return CRUMB_OK;
}

int
crumb_signer_add_key(crumb_signer *s, const void *key, size_t len)
{
    if (!s || !key || len == 0)
        return CRUMB_EINVAL;
    if (s->nkeys == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 2;
        crumb__signer_key *nk = calloc(cap, sizeof *nk);
        if (!nk)
            return CRUMB_ENOMEM;
        /* Moved by hand: the pools are atomics, and the signer is not in
         * use by other threads while keys are added. */
        for (size_t i = 0; i < s->nkeys; i++) {
            crumb__signer_key *o = &s->keys[i], *n = &nk[i];
            n->secret = o->secret;
            n->secret_len = o->secret_len;
            n->derived = o->derived;
            n->derived_len = o->derived_len;
            n->mac = o->mac;
        }
        free(s->keys);
        s->keys = nk;
        s->cap = cap;
    }
    crumb__signer_key *k = &s->keys[s->nkeys];
    memset(k, 0, sizeof *k);
    k->secret = malloc(len);
    if (!k->secret)
        return CRUMB_ENOMEM;
    memcpy(k->secret, key, len);
    k->secret_len = len;
    int rc = derive_key(s, k);
    if (rc == CRUMB_OK) {
        rc = crumb__hmac_key_init(&k->mac, s->digest, k->derived,
                                  k->derived_len);
    }
    if (rc != CRUMB_OK) {
        key_wipe(k);
        return rc;
    }
    s->nkeys++;
    return CRUMB_OK;
}

/* HMAC of @data with key @ki into @out (s->mac_len bytes). */
static int
mac_compute(const crumb_signer *s, size_t ki, const void *data, size_t len,
            unsigned char *out)
{
    crumb__hmac(&s->keys[ki].mac, data, len, out);
    return CRUMB_OK;
}

/* itsdangerous's int_to_bytes: 8 bytes big-endian, leading zeros dropped
 * (0 becomes the empty string), then b64url. */
static size_t
ts_encode(uint64_t ts, char *out)
{
    unsigned char b[8];
    size_t skip = 0;
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(ts >> (56 - 8 * i));
    while (skip < 8 && b[skip] == 0)
        skip++;
    return crumb_b64url_encode(b + skip, 8 - skip, out);
}

int
crumb__signer_sign_into(const crumb_signer *s, char *buf, size_t len,
                        int64_t timestamp, size_t *outlen)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    if (s->nkeys == 0)
        return CRUMB_ENOKEY;
    if (timestamp < 0)
        return CRUMB_EINVAL;
    size_t n = len;
    buf[n++] = '.';
    n += ts_encode((uint64_t)timestamp, buf + n);
    int rc = mac_compute(s, 0, buf, n, mac);
    if (rc != CRUMB_OK)
        return rc;
    buf[n++] = '.';
    n += crumb_b64url_encode(mac, s->mac_len, buf + n);
    buf[n] = '\0';
    *outlen = n;
    return CRUMB_OK;
}

int
crumb_signer_sign(const crumb_signer *s, const char *payload, size_t len,
                  int64_t timestamp, char **out, size_t *outlen)
{
    if (!out)
        return CRUMB_EINVAL;
    *out = NULL;
    if (!s || (!payload && len))
        return CRUMB_EINVAL;
    if (s->nkeys == 0)
        return CRUMB_ENOKEY;
    size_t extra = CRUMB__TS_B64_MAX + CRUMB__SIG_B64_MAX + 3;
    if (len > SIZE_MAX - extra)
        return CRUMB_ENOMEM;
    char *buf = malloc(len + extra);
    if (!buf)
        return CRUMB_ENOMEM;
    if (len)
        memcpy(buf, payload, len);
    size_t n = 0;
    int rc = crumb__signer_sign_into(s, buf, len, timestamp, &n);
    if (rc != CRUMB_OK) {
        free(buf);
        return rc;
    }
    *out = buf;
    if (outlen)
        *outlen = n;
    return CRUMB_OK;
}

/* The last '.' in @p[0..len), or NULL. */
static const char *
last_dot(const char *p, size_t len)
{
    while (len > 0)
        if (p[--len] == '.')
            return p + len;
    return NULL;
}

/*
 * value = payload "." ts "." sig, split at the last two dots (the payload
 * may itself start with a dot). The signature is checked first, against
 * every key in order, with a constant-time compare; only a signed value's
 * timestamp is looked at, then its age.
 */
int
crumb_signer_unsign(const crumb_signer *s, const char *value, size_t len,
                    int64_t max_age, int64_t now, const char **payload,
                    size_t *payload_len, int64_t *timestamp)
{
    unsigned char sig[CRUMB_B64_DECODED_MAX(CRUMB__SIG_B64_MAX)];
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned char tsb[CRUMB_B64_DECODED_MAX(CRUMB__TS_B64_MAX)];
    if (!s || (!value && len))
        return CRUMB_EINVAL;
    if (s->nkeys == 0)
        return CRUMB_ENOKEY;
    const char *sig_dot = last_dot(value, len);
    if (!sig_dot)
        return CRUMB_EMALFORMED;
    size_t body_len = (size_t)(sig_dot - value);
    const char *ts_dot = last_dot(value, body_len);
    if (!ts_dot)
        return CRUMB_EMALFORMED;
    const char *sig_b64 = sig_dot + 1;
    size_t sig_b64_len = len - body_len - 1;
    if (sig_b64_len > CRUMB__SIG_B64_MAX ||
        crumb_b64url_decode(sig_b64, sig_b64_len, sig) != (long)s->mac_len)
        return CRUMB_EBADSIG;
    int good = 0;
    for (size_t i = 0; i < s->nkeys && !good; i++) {
        int rc = mac_compute(s, i, value, body_len, mac);
        if (rc != CRUMB_OK)
            return rc;
        good = CRYPTO_memcmp(mac, sig, s->mac_len) == 0;
    }
    if (!good)
        return CRUMB_EBADSIG;
    const char *ts_b64 = ts_dot + 1;
    size_t ts_b64_len = (size_t)(sig_dot - ts_b64);
    long tn = ts_b64_len <= CRUMB__TS_B64_MAX
                  ? crumb_b64url_decode(ts_b64, ts_b64_len, tsb)
                  : -1;
    if (tn < 0 || tn > 8)
        return CRUMB_EMALFORMED;
    uint64_t ts = 0;
    for (long i = 0; i < tn; i++)
        ts = ts << 8 | tsb[i];
    if (ts > (uint64_t)INT64_MAX)
        return CRUMB_EMALFORMED;
    if (max_age >= 0) {
        if ((int64_t)ts > now || now - (int64_t)ts > max_age)
            return CRUMB_EEXPIRED;
    }
    if (payload)
        *payload = value;
    if (payload_len)
        *payload_len = (size_t)(ts_dot - value);
    if (timestamp)
        *timestamp = (int64_t)ts;
    return CRUMB_OK;
}
