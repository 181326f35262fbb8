/* csrf.c - CSRF tokens: a session secret, masked afresh for every form. */
#include <string.h>

#include <openssl/crypto.h>

#include <crumb/auth.h>
#include <crumb/base64.h>
#include <crumb/error.h>
#include <crumb/random.h>
#include <crumb/session.h>

#define CSRF_KEY "_csrf"
#define CSRF_SECRET_LEN 32
#define CSRF_RAW_LEN (2 * CSRF_SECRET_LEN)
/* Unpadded base64url lengths: 32 bytes -> 43 chars, 64 bytes -> 86. */
#define CSRF_SECRET_B64 43
#define CSRF_TOKEN_B64 86

/*
 * The session's secret, decoded into @secret: CRUMB_OK, or CRUMB_ENOTFOUND
 * when it is missing or not exactly 32 bytes of strict base64url (a value
 * someone else put there; we treat it as absent).
 */
static int
get_secret(crumb_session *s, unsigned char *secret)
{
    unsigned char buf[CRUMB_B64_DECODED_MAX(CSRF_SECRET_B64)];
    const char *text = crumb_session_get_string(s, CSRF_KEY, NULL);
    int rc = CRUMB_ENOTFOUND;
    if (text && strlen(text) == CSRF_SECRET_B64 &&
        crumb_b64url_decode(text, CSRF_SECRET_B64, buf) == CSRF_SECRET_LEN) {
        memcpy(secret, buf, CSRF_SECRET_LEN);
        rc = CRUMB_OK;
    }
    OPENSSL_cleanse(buf, sizeof buf);
    return rc;
}

static int
new_secret(crumb_session *s, unsigned char *secret)
{
    char text[CRUMB_B64_ENCODED_LEN(CSRF_SECRET_LEN) + 1];
    int rc = crumb_random_bytes(secret, CSRF_SECRET_LEN);
    if (rc != CRUMB_OK)
        return rc;
    size_t n = crumb_b64url_encode(secret, CSRF_SECRET_LEN, text);
    text[n] = '\0';
    rc = crumb_session_set_string(s, CSRF_KEY, text);
    OPENSSL_cleanse(text, sizeof text);
    return rc;
}

int
crumb_csrf_token(crumb_session *s, char *out, size_t size)
{
    unsigned char secret[CSRF_SECRET_LEN], raw[CSRF_RAW_LEN];

    if (!s || !out || size < CRUMB_CSRF_TOKEN_SIZE)
        return CRUMB_EINVAL;
    int rc = get_secret(s, secret);
    if (rc == CRUMB_ENOTFOUND)
        rc = new_secret(s, secret);
    if (rc == CRUMB_OK)
        rc = crumb_random_bytes(raw, CSRF_SECRET_LEN);
    if (rc == CRUMB_OK) {
        for (size_t i = 0; i < CSRF_SECRET_LEN; i++)
            raw[CSRF_SECRET_LEN + i] = raw[i] ^ secret[i];
        size_t n = crumb_b64url_encode(raw, sizeof raw, out);
        out[n] = '\0';
    }
    OPENSSL_cleanse(secret, sizeof secret);
    OPENSSL_cleanse(raw, sizeof raw);
    return rc;
}

/*
 * Anything but an 86-character strict base64url string of 64 bytes is
 * refused before the session is looked at; the unmasked secret is then
 * compared with CRYPTO_memcmp. Verifying never creates a secret.
 */
int
crumb_csrf_verify(crumb_session *s, const char *token)
{
    unsigned char secret[CSRF_SECRET_LEN];
    unsigned char raw[CRUMB_B64_DECODED_MAX(CSRF_TOKEN_B64)];
    int rc = CRUMB_EBADSIG;

    if (!s || !token || strnlen(token, CSRF_TOKEN_B64 + 1) != CSRF_TOKEN_B64)
        return CRUMB_EBADSIG;
    if (crumb_b64url_decode(token, CSRF_TOKEN_B64, raw) != CSRF_RAW_LEN)
        return CRUMB_EBADSIG;
    if (get_secret(s, secret) == CRUMB_OK) {
        for (size_t i = 0; i < CSRF_SECRET_LEN; i++)
            raw[CSRF_SECRET_LEN + i] ^= raw[i];
        if (CRYPTO_memcmp(raw + CSRF_SECRET_LEN, secret, CSRF_SECRET_LEN) == 0)
            rc = CRUMB_OK;
    }
    OPENSSL_cleanse(secret, sizeof secret);
    OPENSSL_cleanse(raw, sizeof raw);
    return rc;
}
