/* password.c - werkzeug-compatible password hashes (scrypt, pbkdf2). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <crumb/auth.h>
#include <crumb/error.h>
#include <crumb/random.h>

#include "auth_int.h"

/* What crumb writes: werkzeug's defaults. */
#define PW_SCRYPT_N 32768u
#define PW_SCRYPT_R 8u
#define PW_SCRYPT_P 1u
#define PW_SALT_LEN 16
#define PW_KEY_LEN 64
#define PW_MAX_LEN 1024

/* What crumb reads: werkzeug's own defaults for omitted parameters ... */
#define PW_PBKDF2_DEFAULT_ITER 1000000u
/* ... and bounds, so a stored hash cannot make one login cost minutes or
 * gigabytes. N * r * p is capped at the cost of N = 2^20, r = 8, p = 1. */
#define PW_SCRYPT_N_MAX (1u << 20)
#define PW_SCRYPT_R_MAX 32u
#define PW_SCRYPT_P_MAX 16u
#define PW_SCRYPT_COST_MAX (UINT64_C(1) << 23)
#define PW_PBKDF2_ITER_MAX 10000000u
#define PW_SALT_MAX 1024

static const char salt_chars[] =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/* The salt of crumb_password_verify_dummy(); any fixed string will do. */
static const char dummy_salt[] = "crumbDummySalt00";

typedef enum pw_kind { PW_SCRYPT, PW_PBKDF2 } pw_kind;

/* A parsed hash; the pointers borrow the hash string. */
typedef struct pw_hash {
    pw_kind kind;
    uint64_t n, r, p; /* scrypt */
    uint64_t iter;    /* pbkdf2 */
    const char *digest;
    size_t key_len;
    const char *salt;
    size_t salt_len;
    const char *hex;
    size_t hex_len;
} pw_hash;

/* Strict decimal: 1..20 digits, no sign, no spaces, no overflow. */
static int
parse_u64(const char *s, size_t len, uint64_t *out)
{
    uint64_t v = 0;
    if (len == 0 || len > 20)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* Splits "a:b:c" (length @len) into at most @max fields. Returns the count,
 * or -1 when there are more. */
static int
split_colons(const char *s, size_t len, const char **f, size_t *flen, int max)
{
    int n = 0;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != ':')
            continue;
        if (n == max)
            return -1;
        f[n] = s + start;
        flen[n] = i - start;
        n++;
        start = i + 1;
    }
    return n;
}

static int
field_is(const char *f, size_t len, const char *word)
{
    return strlen(word) == len && memcmp(f, word, len) == 0;
}

static int
parse_scrypt(pw_hash *ph, const char **f, const size_t *flen, int nf)
{
    ph->kind = PW_SCRYPT;
    ph->key_len = PW_KEY_LEN;
    if (nf == 1) {
        ph->n = PW_SCRYPT_N;
        ph->r = PW_SCRYPT_R;
        ph->p = PW_SCRYPT_P;
        return CRUMB_OK;
    }
    if (nf != 4 || parse_u64(f[1], flen[1], &ph->n) < 0 ||
        parse_u64(f[2], flen[2], &ph->r) < 0 ||
        parse_u64(f[3], flen[3], &ph->p) < 0)
        return CRUMB_EMALFORMED;
    /* What scrypt itself refuses (RFC 7914): N a power of two above 1,
     * r and p positive, N < 2^(16 r). */
    if (ph->n < 2 || (ph->n & (ph->n - 1)) != 0 || ph->r == 0 || ph->p == 0)
        return CRUMB_EMALFORMED;
    if (ph->n > PW_SCRYPT_N_MAX || ph->r > PW_SCRYPT_R_MAX ||
        ph->p > PW_SCRYPT_P_MAX || ph->n * ph->r * ph->p > PW_SCRYPT_COST_MAX)
        return CRUMB_EUNSUPPORTED;
    if (16 * ph->r < 64 && ph->n >= (UINT64_C(1) << (16 * ph->r)))
        return CRUMB_EMALFORMED;
    return CRUMB_OK;
}

static int
parse_pbkdf2(pw_hash *ph, const char **f, const size_t *flen, int nf)
{
    ph->kind = PW_PBKDF2;
    ph->iter = PW_PBKDF2_DEFAULT_ITER;
    if (nf > 3)
        return CRUMB_EMALFORMED;
    if (nf == 1 || field_is(f[1], flen[1], "sha256")) {
        ph->digest = "SHA256";
        ph->key_len = 32;
    } else if (field_is(f[1], flen[1], "sha512")) {
        ph->digest = "SHA512";
        ph->key_len = 64;
    } else {
        return flen[1] ? CRUMB_EUNSUPPORTED : CRUMB_EMALFORMED;
    }
    if (nf == 3) {
        if (parse_u64(f[2], flen[2], &ph->iter) < 0 || ph->iter == 0)
            return CRUMB_EMALFORMED;
        if (ph->iter > PW_PBKDF2_ITER_MAX)
            return CRUMB_EUNSUPPORTED;
    }
    return CRUMB_OK;
}

/*
 * Reads METHOD$SALT$HEX the way werkzeug's check_password_hash does (split
 * on the first two '$'), but stricter: the hex must be lowercase and as
 * long as the method's key, since werkzeug compares hex strings and any
 * other hex can never match. A method werkzeug has and crumb lacks (sha1,
 * other digests, argon2 one day) is EUNSUPPORTED; garbage is EMALFORMED.
 */
static int
parse_hash(const char *hash, pw_hash *ph)
{
    memset(ph, 0, sizeof *ph);
    if (!hash)
        return CRUMB_EMALFORMED;
    const char *d1 = strchr(hash, '$');
    const char *d2 = d1 ? strchr(d1 + 1, '$') : NULL;
    if (!d2)
        return CRUMB_EMALFORMED;

    const char *f[4];
    size_t flen[4];
    int nf = split_colons(hash, (size_t)(d1 - hash), f, flen, 4);
    if (nf < 1)
        return CRUMB_EMALFORMED;
    int rc;
    if (field_is(f[0], flen[0], "scrypt"))
        rc = parse_scrypt(ph, f, flen, nf);
    else if (field_is(f[0], flen[0], "pbkdf2"))
        rc = parse_pbkdf2(ph, f, flen, nf);
    else
        rc = flen[0] ? CRUMB_EUNSUPPORTED : CRUMB_EMALFORMED;
    if (rc != CRUMB_OK)
        return rc;

    ph->salt = d1 + 1;
    ph->salt_len = (size_t)(d2 - ph->salt);
    ph->hex = d2 + 1;
    ph->hex_len = strlen(ph->hex);
    if (ph->salt_len == 0 || ph->salt_len > PW_SALT_MAX ||
        ph->hex_len != 2 * ph->key_len)
        return CRUMB_EMALFORMED;
    for (size_t i = 0; i < ph->hex_len; i++) {
        char c = ph->hex[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return CRUMB_EMALFORMED;
    }
    return CRUMB_OK;
}

/* Runs the hash's KDF over @pw into @key (ph->key_len bytes). */
static int
derive(const pw_hash *ph, const char *pw, unsigned char *key)
{
    OSSL_PARAM params[7], *p = params;
    size_t pwlen = strlen(pw);
    int pkcs5 = 1; /* no SP 800-132 floor: werkzeug allows short salts */
    uint32_t r32 = (uint32_t)ph->r, p32 = (uint32_t)ph->p;
    uint64_t n64 = ph->n, iter = ph->iter, maxmem;

    /* Casts drop const only for the parameter API's sake; OpenSSL copies
     * and never writes the password or salt. */
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD,
                                             (void *)pw, pwlen);
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
                                             (void *)ph->salt, ph->salt_len);
    if (ph->kind == PW_SCRYPT) {
        /* Exactly what OpenSSL allocates: B (128 r p) and V (128 r (N+2)).
         * The bounds in parse_scrypt() keep this near 1 GiB at most. */
        maxmem = 128 * ph->r * (ph->n + 2 + ph->p);
        *p++ = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n64);
        *p++ = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r32);
        *p++ = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p32);
        *p++ =
            OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem);
    } else {
        *p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
                                                (char *)ph->digest, 0);
        *p++ = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_ITER, &iter);
        *p++ = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_PKCS5, &pkcs5);
    }
    *p = OSSL_PARAM_construct_end();

    EVP_KDF *kdf =
        EVP_KDF_fetch(NULL, ph->kind == PW_SCRYPT ? "SCRYPT" : "PBKDF2", NULL);
    EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    int ok = ctx && EVP_KDF_derive(ctx, key, ph->key_len, params) == 1;
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
    return ok ? CRUMB_OK : CRUMB_ECRYPTO;
}

static void
to_hex(const unsigned char *in, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * len] = '\0';
}

/* @len characters from salt_chars, uniformly: bytes of 248 and above are
 * dropped so that 62 divides the range. */
static int
random_salt(char *out, size_t len)
{
    unsigned char buf[32];
    size_t have = 0;
    while (have < len) {
        int rc = crumb_random_bytes(buf, sizeof buf);
        if (rc != CRUMB_OK)
            return rc;
        for (size_t i = 0; i < sizeof buf && have < len; i++)
            if (buf[i] < 248)
                out[have++] = salt_chars[buf[i] % 62];
    }
    out[len] = '\0';
    return CRUMB_OK;
}

int
crumb_password_hash(const char *password, char **out)
{
    char salt[PW_SALT_LEN + 1], hex[2 * PW_KEY_LEN + 1];
    unsigned char key[PW_KEY_LEN];
    size_t pwlen = password ? strlen(password) : 0;

    if (out)
        *out = NULL;
    if (!out || pwlen == 0 || pwlen > PW_MAX_LEN)
        return CRUMB_EINVAL;
    int rc = random_salt(salt, PW_SALT_LEN);
    if (rc != CRUMB_OK)
        return rc;

    pw_hash ph = {.kind = PW_SCRYPT,
                  .n = PW_SCRYPT_N,
                  .r = PW_SCRYPT_R,
                  .p = PW_SCRYPT_P,
                  .key_len = PW_KEY_LEN,
                  .salt = salt,
                  .salt_len = PW_SALT_LEN};
    rc = derive(&ph, password, key);
    if (rc != CRUMB_OK)
        goto out;
    to_hex(key, sizeof key, hex);

    size_t size = sizeof "scrypt:32768:8:1$$" + PW_SALT_LEN + 2 * PW_KEY_LEN;
    char *s = malloc(size);
    if (!s) {
        rc = CRUMB_ENOMEM;
        goto out;
    }
    snprintf(s, size, "scrypt:%u:%u:%u$%s$%s", PW_SCRYPT_N, PW_SCRYPT_R,
             PW_SCRYPT_P, salt, hex);
    *out = s;
out:
    OPENSSL_cleanse(key, sizeof key);
    OPENSSL_cleanse(hex, sizeof hex);
    return rc;
}

int
crumb__password_check(const char *hash)
{
    pw_hash ph;
    return parse_hash(hash, &ph);
}

/*
 * The comparison is of the hex strings, as werkzeug does, with
 * CRYPTO_memcmp; the lengths are equal by then (parse_hash checked the
 * stored one). Only the method's cost shows in the time taken.
 */
int
crumb_password_verify(const char *hash, const char *password)
{
    unsigned char key[64];
    char hex[2 * sizeof key + 1];
    pw_hash ph;

    int rc = parse_hash(hash, &ph);
    if (rc != CRUMB_OK)
        return rc;
    if (!password)
        return CRUMB_EINVAL;
    rc = derive(&ph, password, key);
    if (rc == CRUMB_OK) {
        to_hex(key, ph.key_len, hex);
        rc = CRYPTO_memcmp(hex, ph.hex, ph.hex_len) == 0 ? CRUMB_OK
                                                         : CRUMB_EBADSIG;
    }
    OPENSSL_cleanse(key, sizeof key);
    OPENSSL_cleanse(hex, sizeof hex);
    return rc;
}

int
crumb_password_verify_dummy(const char *password)
{
    unsigned char key[PW_KEY_LEN];
    char hex[2 * PW_KEY_LEN + 1];
    pw_hash ph = {.kind = PW_SCRYPT,
                  .n = PW_SCRYPT_N,
                  .r = PW_SCRYPT_R,
                  .p = PW_SCRYPT_P,
                  .key_len = PW_KEY_LEN,
                  .salt = dummy_salt,
                  .salt_len = sizeof dummy_salt - 1};
    /* The result does not matter, only the work; a failure is still a
     * refusal. */
    if (derive(&ph, password ? password : "", key) == CRUMB_OK)
        to_hex(key, sizeof key, hex);
    OPENSSL_cleanse(key, sizeof key);
    OPENSSL_cleanse(hex, sizeof hex);
    return CRUMB_EBADSIG;
}

int
crumb_password_needs_rehash(const char *hash)
{
    pw_hash ph;
    if (parse_hash(hash, &ph) != CRUMB_OK)
        return 1;
    return !(ph.kind == PW_SCRYPT && ph.n == PW_SCRYPT_N &&
             ph.r == PW_SCRYPT_R && ph.p == PW_SCRYPT_P &&
             ph.salt_len >= PW_SALT_LEN);
}
