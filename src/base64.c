/* base64.c - RFC 4648 base64: standard (padded) and URL-safe (unpadded). */
#include <limits.h>
#include <stdint.h>

#include <crumb/base64.h>

static const char std_alphabet[64] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_alphabet[64] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Reverse tables hold value + 1 for each alphabet character, so the
 * implicit zero of every other entry means "not in the alphabet". */
#define B64_REV(c62, c63)                                                    \
    {                                                                        \
        ['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5, ['F'] = 6,    \
        ['G'] = 7, ['H'] = 8, ['I'] = 9, ['J'] = 10, ['K'] = 11, ['L'] = 12, \
        ['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16, ['Q'] = 17,          \
        ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22,          \
        ['W'] = 23, ['X'] = 24, ['Y'] = 25, ['Z'] = 26, ['a'] = 27,          \
        ['b'] = 28, ['c'] = 29, ['d'] = 30, ['e'] = 31, ['f'] = 32,          \
        ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36, ['k'] = 37,          \
        ['l'] = 38, ['m'] = 39, ['n'] = 40, ['o'] = 41, ['p'] = 42,          \
        ['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47,          \
        ['v'] = 48, ['w'] = 49, ['x'] = 50, ['y'] = 51, ['z'] = 52,          \
        ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56, ['4'] = 57,          \
        ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62,          \
        [c62] = 63, [c63] = 64                                               \
    }

static const unsigned char std_rev[256] = B64_REV('+', '/');
static const unsigned char url_rev[256] = B64_REV('-', '_');

/* Encodes full groups, then the 1 or 2 leftover bytes; pads when asked. */
static size_t
encode(const char *alpha, const unsigned char *in, size_t len, char *out,
       int pad)
{
    char *o = out;
    size_t i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
                     in[i + 2];
        o[0] = alpha[v >> 18];
        o[1] = alpha[(v >> 12) & 63];
        o[2] = alpha[(v >> 6) & 63];
        o[3] = alpha[v & 63];
        o += 4;
    }
    size_t rest = len - i;
    if (rest == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        *o++ = alpha[v >> 18];
        *o++ = alpha[(v >> 12) & 63];
        if (pad) {
            *o++ = '=';
            *o++ = '=';
        }
    } else if (rest == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        *o++ = alpha[v >> 18];
        *o++ = alpha[(v >> 12) & 63];
        *o++ = alpha[(v >> 6) & 63];
        if (pad)
            *o++ = '=';
    }
    return (size_t)(o - out);
}

/*
 * Decodes unpadded input (the caller strips padding). Refuses characters
 * outside @rev's alphabet, a length of 1 mod 4, and non-zero bits left over
 * in the last character: with those rules every byte string has exactly one
 * accepted encoding, so no two signatures compare equal by accident.
 */
static long
decode(const unsigned char *rev, const char *in, size_t len,
       unsigned char *out)
{
    const unsigned char *s = (const unsigned char *)in;
    unsigned char *o = out;
    size_t i = 0;
    if (len % 4 == 1 || len > (size_t)LONG_MAX)
        return -1;
    for (; i + 4 <= len; i += 4) {
        unsigned a = rev[s[i]], b = rev[s[i + 1]], c = rev[s[i + 2]],
                 d = rev[s[i + 3]];
        if (!a || !b || !c || !d)
            return -1;
        uint32_t v = (uint32_t)(a - 1) << 18 | (uint32_t)(b - 1) << 12 |
                     (uint32_t)(c - 1) << 6 | (uint32_t)(d - 1);
        o[0] = (unsigned char)(v >> 16);
        o[1] = (unsigned char)(v >> 8);
        o[2] = (unsigned char)v;
        o += 3;
    }
    size_t rest = len - i;
    if (rest == 2) {
        unsigned a = rev[s[i]], b = rev[s[i + 1]];
        if (!a || !b || ((b - 1) & 0x0f))
            return -1;
        *o++ = (unsigned char)((a - 1) << 2 | (b - 1) >> 4);
    } else if (rest == 3) {
        unsigned a = rev[s[i]], b = rev[s[i + 1]], c = rev[s[i + 2]];
        if (!a || !b || !c || ((c - 1) & 0x03))
            return -1;
        *o++ = (unsigned char)((a - 1) << 2 | (b - 1) >> 4);
        *o++ = (unsigned char)(((b - 1) & 0x0f) << 4 | (c - 1) >> 2);
    }
    return (long)(o - out);
}

size_t
crumb_b64url_encode(const void *in, size_t len, char *out)
{
    return encode(url_alphabet, in, len, out, 0);
}

long
crumb_b64url_decode(const char *in, size_t len, unsigned char *out)
{
    return decode(url_rev, in, len, out);
}

size_t
crumb_b64_encode(const void *in, size_t len, char *out)
{
    return encode(std_alphabet, in, len, out, 1);
}

/* Padding, when present, must make the length a multiple of 4 and may only
 * be what the unpadded length calls for ("xx==" or "xxx="). */
long
crumb_b64_decode(const char *in, size_t len, unsigned char *out)
{
    size_t n = len;
    if (n > 0 && in[n - 1] == '=') {
        if (len % 4 != 0)
            return -1;
        n--;
        if (n > 0 && in[n - 1] == '=')
            n--;
        if (n % 4 < 2)
            return -1;
    }
    return decode(std_rev, in, n, out);
}
