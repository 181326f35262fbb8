/* crumb/sign.h - itsdangerous-compatible signer and timed serializer. */
#ifndef CRUMB_SIGN_H
#define CRUMB_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The format is itsdangerous's URLSafeTimedSerializer, which Flask uses for
 * its session cookie:
 *
 *   cookie    = payload "." timestamp "." signature
 *   payload   = b64url(json) | "." b64url(zlib(json))   (compressed form is
 *               used only when it is at least 2 bytes shorter)
 *   timestamp = b64url(big-endian seconds, leading zero bytes stripped)
 *   signature = b64url(HMAC(derived_key, payload "." timestamp))
 *   derived   = HMAC(secret_key, salt)            ("hmac" key derivation)
 *
 * b64url is RFC 4648 section 5 without padding. See docs/cookie-format.md.
 */

typedef enum crumb_digest {
    CRUMB_DIGEST_SHA1 = 0, /* Flask's default */
    CRUMB_DIGEST_SHA256,
    CRUMB_DIGEST_SHA512
} crumb_digest;

typedef enum crumb_keyderiv {
    CRUMB_KEYDERIV_HMAC = 0,      /* HMAC(secret, salt): Flask's */
    CRUMB_KEYDERIV_CONCAT,        /* H(salt + secret) */
    CRUMB_KEYDERIV_DJANGO_CONCAT, /* H(salt + "signer" + secret) */
    CRUMB_KEYDERIV_NONE           /* the secret itself */
} crumb_keyderiv;

/*
 * How a payload is compressed. Both write a zlib stream Flask reads, and
 * only when it makes the payload at least 2 bytes shorter (itsdangerous's
 * rule); they differ in which zlib stream, and in cost.
 */
typedef enum crumb_compression {
    /* Payloads up to 1 KiB: one fixed-Huffman block from crumb's own small
     * encoder, about 1/20 of zlib's cost; longer ones as FLASK. Cookies
     * may differ from Flask's bytes (never in what they decode to). */
    CRUMB_COMPRESS_FAST = 0,
    /* Exactly zlib.compress(json): crumb's cookie is Flask's cookie, byte
     * for byte. deflate() runs on every save unless a cheap bound proves
     * it cannot win. */
    CRUMB_COMPRESS_FLASK
} crumb_compression;

typedef struct crumb_signer_options {
    const char *salt;              /* NULL: "cookie-session" */
    crumb_digest digest;           /* default SHA1 */
    crumb_keyderiv key_derivation; /* default HMAC */
    size_t max_decompressed;       /* 0: 1 MiB; bound on zlib payloads */
    crumb_compression compression; /* default FAST */
} crumb_signer_options;

typedef struct crumb_signer crumb_signer;

/**
 * crumb_signer_new - a signer with Flask's settings or those in @opts.
 *
 * @opts may be NULL (Flask's defaults). Keys are added afterwards.
 * Returns CRUMB_OK, CRUMB_EINVAL, CRUMB_ENOMEM.
 * Lifetime: *out is owned by the caller; free with crumb_signer_free().
 * Thread-safety: after the last crumb_signer_add_key() a signer may be used
 * by many threads at once (it is read-only while signing and verifying).
 */
int crumb_signer_new(crumb_signer **out, const crumb_signer_options *opts);

/**
 * crumb_signer_add_key - add a secret key (arbitrary bytes).
 *
 * The first key added signs; every key added verifies, the first one tried
 * first, then the others in the order they were added (fallbacks for key
 * rotation). An empty key is refused with CRUMB_EINVAL. The key is copied;
 * the copy and the derived key are wiped on free.
 * Returns CRUMB_OK, CRUMB_EINVAL, CRUMB_ENOMEM, CRUMB_ECRYPTO.
 */
int crumb_signer_add_key(crumb_signer *s, const void *key, size_t len);

/** crumb_signer_key_count - number of keys added. */
size_t crumb_signer_key_count(const crumb_signer *s);

/** crumb_signer_free - wipe and free; accepts NULL. */
void crumb_signer_free(crumb_signer *s);

/**
 * crumb_signer_sign - timed-sign @payload (already encoded) at @timestamp.
 *
 * Writes payload "." ts "." sig. Returns CRUMB_OK, CRUMB_EINVAL (negative
 * timestamp), CRUMB_ENOKEY (no key), CRUMB_ENOMEM, CRUMB_ECRYPTO.
 * Lifetime: *out is NUL-terminated, malloc'd, owned by the caller (free()).
 */
int crumb_signer_sign(const crumb_signer *s, const char *payload, size_t len,
                      int64_t timestamp, char **out, size_t *outlen);

/**
 * crumb_signer_unsign - verify a timed-signed value.
 *
 * @max_age < 0 disables the age check; otherwise a value older than
 * @max_age seconds at @now, or signed in the future, is CRUMB_EEXPIRED
 * (after the signature was found good). On success *payload points into
 * @value (no copy) and *payload_len, *timestamp are set; each out pointer
 * may be NULL.
 * Returns CRUMB_OK, CRUMB_EMALFORMED, CRUMB_EBADSIG, CRUMB_EEXPIRED,
 * CRUMB_ENOKEY, CRUMB_ECRYPTO. The comparison is constant-time.
 * Lifetime: *payload borrows @value.
 */
int crumb_signer_unsign(const crumb_signer *s, const char *value, size_t len,
                        int64_t max_age, int64_t now, const char **payload,
                        size_t *payload_len, int64_t *timestamp);

/**
 * crumb_signer_dumps - serialize tagged JSON @obj as Flask does and sign it.
 *
 * @obj is Flask tagged JSON (see crumb/tagjson.h); it is written as Python's
 * json.dumps would (compact, sorted keys, ASCII), compressed when shorter,
 * and timed-signed at @timestamp.
 * Returns CRUMB_OK, CRUMB_EINVAL (not serializable, or a negative
 * timestamp), CRUMB_ENOKEY, CRUMB_ENOMEM, CRUMB_ECRYPTO.
 * Lifetime: *out is malloc'd, NUL-terminated, owned by the caller (free()).
 */
int crumb_signer_dumps(const crumb_signer *s, const json_t *obj,
                       int64_t timestamp, char **out, size_t *outlen);

/**
 * crumb_signer_loads - verify, decompress and parse a signed value.
 *
 * As crumb_signer_unsign(), then the payload is decoded and parsed as
 * tagged JSON whose tags are checked (crumb_tagjson_loads()).
 * Returns CRUMB_OK, CRUMB_EMALFORMED, CRUMB_EBADSIG, CRUMB_EEXPIRED,
 * CRUMB_ETOOBIG (decompressed past the bound), CRUMB_ENOKEY, CRUMB_ENOMEM.
 * Lifetime: *out is a new reference owned by the caller (json_decref()).
 */
int crumb_signer_loads(const crumb_signer *s, const char *value, size_t len,
                       int64_t max_age, int64_t now, json_t **out,
                       int64_t *timestamp);

/**
 * crumb_payload_decode - decode a payload without checking any signature.
 *
 * For tools (`crumb decode` without a key). @value is a whole signed value
 * or just its payload part. Returns as crumb_signer_loads() minus the
 * signature and age codes.
 * Lifetime: *out is a new reference owned by the caller.
 */
int crumb_payload_decode(const char *value, size_t len, size_t max_decompressed,
                         json_t **out);

#ifdef __cplusplus
}
#endif
#endif
