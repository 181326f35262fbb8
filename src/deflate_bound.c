/* deflate_bound.c - a cheap lower bound on zlib's output for small inputs.
 *
 * itsdangerous keeps zlib.compress(json) only when it is at least 2 bytes
 * shorter than the JSON. zlib's stream is a 2-byte header, the deflate
 * data padded to a byte, and a 4-byte Adler-32, so compression wins iff
 * the deflate data, T bits with its 3-bit block header, has
 *
 *     ceil(T / 8) <= n - 8,  i.e.  T <= 8 (n - 8).
 *
 * Running deflate to find out costs far more than the rest of a cookie
 * save (tree construction for three Huffman codes dominates a small
 * input). Instead we bound T from below for the two block kinds that can
 * be shorter than the input (a stored block never is), using only facts
 * of the format (RFC 1951), and skip deflate when both bounds exceed the
 * limit. When they do not, the caller runs deflate: the bound decides
 * nothing it cannot prove.
 *
 * Which bytes can be inside a match. A match of length L >= 3 at position
 * a repeats p[a-d .. a-d+L); each of its positions lies in a 3-byte window
 * inside the match, and that window occurred earlier. So a position i can
 * only be covered by a match if a 3-gram starting at i-2, i-1 or i
 * occurred before (a hash collision only makes more positions coverable,
 * which weakens the bound but keeps it sound). Positions that cannot be
 * covered are "forced" literals; the rest form maximal "runs".
 *
 * Fixed Huffman block: 3 header bits, each forced literal 8 bits (byte <
 * 144) or 9, 7 bits for end-of-block, and per run either its literals (8
 * bits each) or matches of at least 7 + 5 bits each covering <= 258 bytes.
 *
 * Dynamic Huffman block: 3 + 5 + 5 + 4 header bits, 3 bits per code-length
 * code length sent (at least 4), the code-length sequence, and the data.
 *  - Data: the forced literals and end-of-block use a prefix code, so
 *    their cost is at least the Huffman cost H of their counts; if the
 *    shortest of their code lengths is m, also at least m per symbol.
 *    A run costs at least 1 bit per literal or 2 per match.
 *  - The code lengths of symbols 0..256: a symbol is nonzero-length if it
 *    is a forced literal or end-of-block. Other literals may be used
 *    inside runs; we only go on when every byte value seen in a run is
 *    also a forced literal, so that no other entry of 0..256 can be
 *    nonzero (length symbols and distances come after 256 and only add).
 *    The sequence then alternates known zero gaps and known nonzero
 *    stretches; each code-length symbol covers entries of one value and
 *    costs at least 1 bit plus its extra bits (16: 3-6 repeats of the
 *    previous entry, +2; 17: 3-10 zeros, +3; 18: 11-138 zeros, +7). The
 *    least cost of a gap of g zeros, G[g], and of a stretch of k nonzero
 *    entries (as if all equal), V[k], are small dynamic programmes.
 *  - The shortest length m must itself be sent as a code-length symbol,
 *    so the code-length code's lengths run at least to m's place in the
 *    order 16 17 18 0 8 7 9 6 10 5 11 4 12 3 13 2 14 1 15. A code short on
 *    data pays for it here; the bound takes the least total over m.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "deflate_bound.h"

#define MAX_LEN 4000
#define TABLE 300 /* >= 258 entries of 0..256 plus slack */

static unsigned gap_cost[TABLE], run_cost[TABLE];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void
tables_init(void)
{
    for (int k = 1; k < TABLE; k++) {
        /* k zeros: literal 0s, 17 (3-10), 18 (11-138), or 16 repeating a
         * zero already sent in this gap. */
        unsigned g = gap_cost[k - 1] + 1;
        for (int j = 3; j <= 138 && j <= k; j++) {
            if (j <= 10 && gap_cost[k - j] + 4 < g)
                g = gap_cost[k - j] + 4;
            if (j >= 11 && gap_cost[k - j] + 8 < g)
                g = gap_cost[k - j] + 8;
            if (j <= 6 && k - j >= 1 && gap_cost[k - j] + 3 < g)
                g = gap_cost[k - j] + 3;
        }
        gap_cost[k] = g;
        /* k nonzero entries: one symbol each, or 16 repeating the one
         * before (never the first of the stretch: a zero precedes it). */
        unsigned v = run_cost[k - 1] + 1;
        for (int j = 3; j <= 6 && k - j >= 1; j++)
            if (run_cost[k - j] + 3 < v)
                v = run_cost[k - j] + 3;
        run_cost[k] = v;
    }
}

/* Place of each code length 1..15 in the code-length code's order. */
static const unsigned char cl_place[16] = {
    [8] = 4,  [7] = 5,  [9] = 6,  [6] = 7,   [10] = 8,
    [5] = 9,  [11] = 10, [4] = 11, [12] = 12, [3] = 13,
    [13] = 14, [2] = 15, [14] = 16, [1] = 17, [15] = 18,
};

/* 65,536 bits: which 3-gram hashes were seen, cleared after each call. */
static _Thread_local uint64_t seen[1024];

static unsigned
gram_hash(const unsigned char *p)
{
    uint32_t v = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
    return (v * 0x9E3779B1u) >> 16;
}

/* Sorts @w[0..n) ascending: counting for the small weights most symbols
 * of a short text have, insertion for the few large ones. */
static void
sort_weights(uint32_t *w, size_t n)
{
    enum { SMALL = 32 };
    unsigned short hist[SMALL] = {0};
    uint32_t big[257];
    size_t nbig = 0;
    for (size_t i = 0; i < n; i++) {
        if (w[i] < SMALL) {
            hist[w[i]]++;
            continue;
        }
        size_t j = nbig++;
        while (j > 0 && big[j - 1] > w[i]) {
            big[j] = big[j - 1];
            j--;
        }
        big[j] = w[i];
    }
    size_t o = 0;
    for (uint32_t v = 0; v < SMALL; v++)
        for (unsigned c = hist[v]; c > 0; c--)
            w[o++] = v;
    for (size_t j = 0; j < nbig; j++)
        w[o++] = big[j];
}

/* Huffman cost (sum of weight x depth) of @w[0..n), n >= 1; sorts @w. */
static uint64_t
huffman_cost(uint32_t *w, size_t n)
{
    sort_weights(w, n);
    if (n == 1)
        return w[0]; /* a lone code still takes 1 bit */
    /* Two queues: the sorted leaves and the merged nodes (which come out
     * in ascending order). */
    uint32_t merged[257];
    size_t li = 0, mi = 0, mn = 0;
    uint64_t cost = 0;
    for (size_t step = 1; step < n; step++) {
        uint32_t pick[2];
        for (int t = 0; t < 2; t++) {
            if (mi < mn && (li >= n || merged[mi] < w[li]))
                pick[t] = merged[mi++];
            else
                pick[t] = w[li++];
        }
        merged[mn++] = pick[0] + pick[1];
        cost += (uint64_t)pick[0] + pick[1];
    }
    return cost;
}

int
crumb__deflate_cannot_win(const unsigned char *p, size_t n)
{
    if (n < 8 || n > MAX_LEN)
        return 0;
    pthread_once(&tables_once, tables_init);
    const uint64_t limit = 8 * (uint64_t)(n - 8);

    uint64_t *bits = seen; /* one TLS lookup, not one per access */
    unsigned char rep[MAX_LEN];
    uint16_t hashes[MAX_LEN];
    for (size_t k = 0; k + 3 <= n; k++) {
        unsigned h = gram_hash(p + k);
        uint64_t bit = (uint64_t)1 << (h & 63);
        hashes[k] = (uint16_t)h;
        rep[k] = (bits[h >> 6] & bit) != 0;
        bits[h >> 6] |= bit;
    }
    for (size_t k = 0; k + 3 <= n; k++)
        bits[hashes[k] >> 6] = 0;

    uint32_t count[256] = {0};
    uint64_t in_run[4] = {0}, forced_set[4] = {0};
    uint64_t fixed = 3 + 7, run_dyn = 0;
    size_t run = 0;
    unsigned window = 0; /* rep[] of positions i - 2 .. i, as 3 bits */
    for (size_t i = 0; i <= n; i++) {
        window = (window << 1 | (i + 3 <= n ? rep[i] : 0)) & 7;
        if (i < n && window) {
            run++;
            in_run[p[i] >> 6] |= (uint64_t)1 << (p[i] & 63);
            continue;
        }
        if (run) {
            size_t full = run / 258;
            fixed += run < 3 ? 8 * run : 12 * (full ? full : 1);
            run_dyn += run < 3 ? run : 2 * (full ? full : 1);
            run = 0;
        }
        if (i < n) {
            count[p[i]]++;
            forced_set[p[i] >> 6] |= (uint64_t)1 << (p[i] & 63);
            fixed += p[i] < 144 ? 8 : 9;
        }
    }
    if (fixed <= limit)
        return 0;
    for (int j = 0; j < 4; j++)
        if (in_run[j] & ~forced_set[j])
            return 0; /* an unknown literal could fill a gap */

    /* Code lengths of 0..256: gaps and nonzero stretches. */
    uint32_t w[257];
    size_t nw = 0;
    uint64_t symbols = 1, cl = 0;
    int prev = -1;
    unsigned stretch = 0;
    for (int u = 0; u <= 256; u++) {
        if (u < 256 && !count[u])
            continue;
        unsigned gap = (unsigned)(u - prev - 1);
        if (gap) {
            cl += run_cost[stretch] + gap_cost[gap];
            stretch = 0;
        }
        stretch++;
        prev = u;
        if (u < 256) {
            w[nw++] = count[u];
            symbols += count[u];
        }
    }
    cl += run_cost[stretch];
    w[nw++] = 1; /* end-of-block */
    uint64_t huff = huffman_cost(w, nw);

    uint64_t best = UINT64_MAX;
    for (unsigned m = 1; m <= 15; m++) {
        unsigned sent = cl_place[m] + 1u > 4 ? cl_place[m] + 1u : 4;
        uint64_t data = huff > m * symbols ? huff : m * symbols;
        uint64_t total = 3 + 14 + 3 * sent + cl + data + run_dyn;
        if (total < best)
            best = total;
    }
    return best > limit;
}
