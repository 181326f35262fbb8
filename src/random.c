/* random.c - random bytes and tokens from OpenSSL's CSPRNG. */
#include <openssl/rand.h>

#include <crumb/base64.h>
#include <crumb/error.h>
#include <crumb/random.h>

int
crumb_random_bytes(void *buf, size_t len)
{
    if (len == 0)
        return CRUMB_OK;
    /* RAND_bytes takes an int; callers never ask for gigabytes. */
    if (len > (size_t)0x7fffffff)
        return CRUMB_EINVAL;
    return RAND_bytes(buf, (int)len) == 1 ? CRUMB_OK : CRUMB_ECRYPTO;
}

int
crumb_random_token(size_t nbytes, char *out, size_t out_size)
{
    unsigned char raw[512];
    if (nbytes == 0 || nbytes > sizeof raw ||
        out_size < CRUMB_B64_ENCODED_LEN(nbytes) + 1)
        return CRUMB_EINVAL;
    int rc = crumb_random_bytes(raw, nbytes);
    if (rc != CRUMB_OK)
        return rc;
    size_t n = crumb_b64url_encode(raw, nbytes, out);
    out[n] = '\0';
    OPENSSL_cleanse(raw, nbytes);
    return CRUMB_OK;
}
