/* crumb/base64.h - RFC 4648 base64, standard and URL-safe alphabets. */
#ifndef CRUMB_BASE64_H
#define CRUMB_BASE64_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Bytes needed to encode @n bytes (without NUL), padded. */
#define CRUMB_B64_ENCODED_LEN(n) ((((n) + 2) / 3) * 4)
/** Bytes enough to decode @n characters. */
#define CRUMB_B64_DECODED_MAX(n) ((((n) + 3) / 4) * 3)

/**
 * crumb_b64url_encode - URL-safe alphabet, no padding (itsdangerous).
 *
 * Writes at most CRUMB_B64_ENCODED_LEN(len) bytes to @out (no NUL) and
 * returns how many. Never fails.
 */
size_t crumb_b64url_encode(const void *in, size_t len, char *out);

/**
 * crumb_b64url_decode - strict decode of unpadded URL-safe base64.
 *
 * Refuses characters outside the alphabet, padding, a length of 1 mod 4,
 * and non-zero trailing bits (so each byte string has one encoding).
 * @out needs CRUMB_B64_DECODED_MAX(len) bytes. Returns the decoded length
 * or -1 (CRUMB_EMALFORMED is what callers report).
 */
long crumb_b64url_decode(const char *in, size_t len, unsigned char *out);

/** crumb_b64_encode - standard alphabet with '=' padding. */
size_t crumb_b64_encode(const void *in, size_t len, char *out);

/**
 * crumb_b64_decode - standard alphabet, padding required when the length
 * is not a multiple of 4 ... or absent entirely; strict otherwise.
 * Returns the decoded length or -1.
 */
long crumb_b64_decode(const char *in, size_t len, unsigned char *out);

#ifdef __cplusplus
}
#endif
#endif
