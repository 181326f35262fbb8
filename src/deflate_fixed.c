/* deflate_fixed.c - one fixed-Huffman deflate block in a zlib stream.
 *
 * Why not zlib: for a 100-byte session, deflate() spends most of its time
 * building three Huffman trees it then mostly throws away (the fixed
 * codes win on short text). This encoder writes the fixed codes directly:
 * a few hundred instructions instead of tens of thousands. Only the
 * format is shared with zlib (RFC 1950 and 1951); the bytes differ from
 * zlib.compress() whenever zlib finds other matches or a dynamic block.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include <zlib.h>

#include "deflate_fixed.h"

#define HASH_BITS 11
#define MIN_MATCH 3
#define MAX_MATCH 258

/* RFC 1951, 3.2.5: length codes 257..285 and distance codes 0..29. */
static const uint16_t len_base[29] = {
    3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
    31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
static const uint8_t len_extra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1,
                                      1, 1, 2, 2, 2, 2, 3, 3, 3, 3,
                                      4, 4, 4, 4, 5, 5, 5, 5, 0};
static const uint16_t dist_base[30] = {
    1,   2,   3,   4,   5,   7,    9,    13,   17,   25,
    33,  49,  65,  97,  129, 193,  257,  385,  513,  769,
    1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
static const uint8_t dist_extra[30] = {0, 0, 0, 0, 1, 1, 2,  2,  3,  3,
                                       4, 4, 5, 5, 6, 6, 7,  7,  8,  8,
                                       9, 9, 10, 10, 11, 11, 12, 12, 13, 13};

/* Fixed codes (RFC 1951, 3.2.6), bit-reversed: deflate sends Huffman
 * codes most significant bit first into an LSB-first bit stream. */
static uint16_t lit_code[288];
static uint8_t lit_bits[288];
static uint8_t dist_code[30];
/* Which length code (0..28, for symbols 257..285) and distance code a
 * match uses: looked up, not searched, per match. */
static uint8_t len_slot[MAX_MATCH + 1];
static uint8_t dist_slot[CRUMB__DEFLATE_FIXED_MAX + 1];
static pthread_once_t codes_once = PTHREAD_ONCE_INIT;

static unsigned
reverse(unsigned code, unsigned bits)
{
    unsigned r = 0;
    for (unsigned i = 0; i < bits; i++, code >>= 1)
        r = r << 1 | (code & 1);
    return r;
}

static void
codes_init(void)
{
    for (unsigned v = 0; v < 288; v++) {
        unsigned code, bits;
        if (v < 144)
            code = 0x30 + v, bits = 8;
        else if (v < 256)
            code = 0x190 + v - 144, bits = 9;
        else if (v < 280)
            code = v - 256, bits = 7;
        else
            code = 0xC0 + v - 280, bits = 8;
        lit_code[v] = (uint16_t)reverse(code, bits);
        lit_bits[v] = (uint8_t)bits;
    }
    for (unsigned d = 0; d < 30; d++)
        dist_code[d] = (uint8_t)reverse(d, 5);
    for (unsigned l = MIN_MATCH, c = 0; l <= MAX_MATCH; l++) {
        while (c < 28 && len_base[c + 1] <= l)
            c++;
        len_slot[l] = (uint8_t)c;
    }
    for (unsigned d = 1, c = 0; d <= CRUMB__DEFLATE_FIXED_MAX; d++) {
        while (c < 29 && dist_base[c + 1] <= d)
            c++;
        dist_slot[d] = (uint8_t)c;
    }
}

typedef struct {
    unsigned char *dst;
    size_t cap, n;
    uint64_t acc;
    unsigned nbits;
    int full;
} bitsink;

static void
put(bitsink *b, unsigned value, unsigned bits)
{
    b->acc |= (uint64_t)value << b->nbits;
    b->nbits += bits;
    while (b->nbits >= 8) {
        if (b->n == b->cap) {
            b->full = 1;
            b->nbits = 0;
            return;
        }
        b->dst[b->n++] = (unsigned char)b->acc;
        b->acc >>= 8;
        b->nbits -= 8;
    }
}

static void
put_match(bitsink *b, unsigned len, unsigned dist)
{
    unsigned lc = len_slot[len];
    put(b, lit_code[257 + lc], lit_bits[257 + lc]);
    put(b, len - len_base[lc], len_extra[lc]);
    unsigned dc = dist_slot[dist];
    put(b, dist_code[dc], 5);
    put(b, dist - dist_base[dc], dist_extra[dc]);
}

static unsigned
hash3(const unsigned char *p, unsigned bits)
{
    uint32_t v = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
    return (v * 0x9E3779B1u) >> (32 - bits);
}

/* Bits the fixed code spends on a match's length and distance. */
static unsigned
match_bits(unsigned len, unsigned dist)
{
    unsigned lc = len_slot[len], dc = dist_slot[dist];
    return lit_bits[257 + lc] + len_extra[lc] + 5 + dist_extra[dc];
}

/*
 * The greedy parse: a match whenever the newest earlier position with the
 * same 3-byte hash really starts with the same 3 bytes, else a literal.
 * Returns the block's bits (header and end-of-block included); with @b,
 * also writes the symbols. Deterministic, so counting and then writing
 * give the same stream.
 */
static uint64_t
parse(const unsigned char *src, size_t len, bitsink *b)
{
    /* Position + 1 of the newest 3-gram per hash; about 2 slots per input
     * byte, so that clearing it stays small for small inputs. */
    uint16_t head[1 << HASH_BITS];
    unsigned hb = 6;
    while (hb < HASH_BITS && ((size_t)1 << hb) < 2 * len)
        hb++;
    memset(head, 0, sizeof head[0] << hb);
    uint64_t bits = 3 + 7; /* block header, end-of-block */
    size_t i = 0;
    while (i < len) {
        if (i + MIN_MATCH <= len) {
            unsigned h = hash3(src + i, hb);
            size_t cand = head[h];
            head[h] = (uint16_t)(i + 1);
            const unsigned char *a = cand ? src + cand - 1 : NULL;
            const unsigned char *c = src + i;
            if (a && a[0] == c[0] && a[1] == c[1] && a[2] == c[2]) {
                size_t max = len - i < MAX_MATCH ? len - i : MAX_MATCH;
                size_t l = MIN_MATCH;
                while (l < max && a[l] == c[l])
                    l++;
                unsigned dist = (unsigned)(c - a);
                bits += match_bits((unsigned)l, dist);
                if (b)
                    put_match(b, (unsigned)l, dist);
                for (size_t k = i + 1; k < i + l && k + MIN_MATCH <= len;
                     k++)
                    head[hash3(src + k, hb)] = (uint16_t)(k + 1);
                i += l;
                continue;
            }
        }
        bits += lit_bits[src[i]];
        if (b)
            put(b, lit_code[src[i]], lit_bits[src[i]]);
        i++;
    }
    return bits;
}

size_t
crumb__deflate_fixed(const unsigned char *src, size_t len,
                     unsigned char *dst, size_t cap)
{
    if (len > CRUMB__DEFLATE_FIXED_MAX || cap < 2 + 1 + 4)
        return 0;
    pthread_once(&codes_once, codes_init);
    /* Count first: most small sessions do not shrink, and then nothing is
     * written. */
    size_t total = 2 + (size_t)((parse(src, len, NULL) + 7) / 8) + 4;
    if (total > cap)
        return 0;

    /* CMF 0x78: deflate, 32 KiB window; FLG 0x01: no dictionary, the
     * check bits making 0x7801 a multiple of 31. */
    dst[0] = 0x78;
    dst[1] = 0x01;
    bitsink b = {.dst = dst + 2, .cap = cap - 2 - 4};
    put(&b, 1 | 1 << 1, 3); /* BFINAL, BTYPE 01 (fixed codes) */
    parse(src, len, &b);
    put(&b, lit_code[256], lit_bits[256]);
    if (b.nbits)
        put(&b, 0, 8 - b.nbits); /* pad the last byte */
    if (b.full)
        return 0; /* cannot happen: total was checked */
    size_t n = 2 + b.n;
    uint32_t ad = (uint32_t)adler32(adler32(0, NULL, 0), src, (uInt)len);
    dst[n++] = (unsigned char)(ad >> 24);
    dst[n++] = (unsigned char)(ad >> 16);
    dst[n++] = (unsigned char)(ad >> 8);
    dst[n++] = (unsigned char)ad;
    return n;
}
