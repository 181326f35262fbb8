/* crumb/random.h - randomness from the operating system's CSPRNG. */
#ifndef CRUMB_RANDOM_H
#define CRUMB_RANDOM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * crumb_random_bytes - fill @buf with @len bytes from OpenSSL's CSPRNG
 * (seeded by the OS). Returns CRUMB_OK, CRUMB_EINVAL (over 2^31-1 bytes)
 * or CRUMB_ECRYPTO. Thread-safe.
 */
int crumb_random_bytes(void *buf, size_t len);

/**
 * crumb_random_token - @nbytes random bytes as URL-safe base64 (no
 * padding) into @out, which needs CRUMB_B64_ENCODED_LEN(nbytes) + 1 bytes;
 * NUL-terminated. Returns CRUMB_OK, CRUMB_EINVAL (nbytes > 512),
 * CRUMB_ECRYPTO.
 */
int crumb_random_token(size_t nbytes, char *out, size_t out_size);

#ifdef __cplusplus
}
#endif
#endif
