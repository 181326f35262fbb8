/* deflate_fixed.h - a small, fast zlib encoder for short cookie payloads. */
#ifndef CRUMB_DEFLATE_FIXED_H
#define CRUMB_DEFLATE_FIXED_H

#include <stddef.h>

/* Longest input crumb__deflate_fixed() takes. */
#define CRUMB__DEFLATE_FIXED_MAX 1024

/*
 * crumb__deflate_fixed - a zlib stream (RFC 1950) of @src[0..len): one
 * deflate block with the fixed Huffman codes (RFC 1951, 3.2.6), greedy
 * matches from a one-entry-per-hash table, then Adler-32. Any inflater
 * (Python's zlib.decompress, so Flask) reads it; the bytes are not those
 * zlib.compress() would write.
 *
 * Writes at most @cap bytes to @dst and returns the stream's length, or 0
 * when it would not fit in @cap (the caller wants it only when it is
 * shorter than the input) or @len exceeds CRUMB__DEFLATE_FIXED_MAX.
 * Thread-safety: safe (no state). Allocates nothing.
 */
size_t crumb__deflate_fixed(const unsigned char *src, size_t len,
                            unsigned char *dst, size_t cap);

#endif
