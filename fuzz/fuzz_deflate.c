/* fuzz_deflate.c - libFuzzer target for the cookie compressors: crumb's
 * fixed-Huffman stream must inflate (with zlib) to the input and be kept
 * only when 2 bytes shorter; the "zlib cannot win" bound must never say
 * so when zlib.compress() does win. Aborts when either breaks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "deflate_bound.h"
#include "deflate_fixed.h"

#include "fuzz_check.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static unsigned char out[CRUMB__DEFLATE_FIXED_MAX + 64];
    static unsigned char back[CRUMB__DEFLATE_FIXED_MAX + 64];
    static unsigned char z[8192 + 64];
    if (size <= CRUMB__DEFLATE_FIXED_MAX) {
        size_t cap = size + 16 < sizeof out ? size + 16 : sizeof out;
        size_t n = crumb__deflate_fixed(data, size, out, cap);
        if (n) {
            FUZZ_CHECK(n <= cap);
            uLongf bl = sizeof back;
            FUZZ_CHECK(uncompress(back, &bl, out, (uLong)n) == Z_OK);
            FUZZ_CHECK(bl == size && memcmp(back, data, size) == 0);
        }
        /* With room for exactly "2 bytes shorter" it either fits or not. */
        if (size >= 9) {
            size_t m = crumb__deflate_fixed(data, size, out, size - 2);
            FUZZ_CHECK(m == 0 || m == n);
        }
    }
    if (size <= 4096) {
        uLongf zl = sizeof z;
        FUZZ_CHECK(compress2(z, &zl, data, size, Z_DEFAULT_COMPRESSION) ==
                   Z_OK);
        int wins = size >= 2 && zl <= size - 2;
        if (crumb__deflate_cannot_win(data, size))
            FUZZ_CHECK(!wins);
    }
    return 0;
}
