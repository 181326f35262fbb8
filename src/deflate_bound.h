/* deflate_bound.h - proving that zlib cannot shorten a small input. */
#ifndef CRUMB_DEFLATE_BOUND_H
#define CRUMB_DEFLATE_BOUND_H

#include <stddef.h>

/*
 * crumb__deflate_cannot_win - 1 when a lower bound on the length of
 * zlib.compress(@p) shows it is not at least 2 bytes shorter than @len
 * (itsdangerous's rule for keeping the compressed form), so deflate need
 * not run; 0 when the bound cannot tell (run deflate to know).
 *
 * Sound for every deflate encoder that writes one block for the input,
 * which zlib does at memory level 6 and 8 for inputs of up to 4000 bytes;
 * longer inputs always give 0. The argument is in deflate_bound.c and
 * tests/unit/test_sign.c checks it against compress2().
 * Thread-safety: safe; uses a per-thread table.
 */
int crumb__deflate_cannot_win(const unsigned char *p, size_t len);

#endif
