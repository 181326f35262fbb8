/* json_number.c - JSON numbers to jansson integers and reals, read exactly
 * as json_loadb reads them: integers inline, reals by Clinger's fast path
 * when it is exact, else strtod. */
#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <crumb/error.h>

#include "json_number.h"

/* Exponents past this are kept as "huge": only strtod can judge them. */
#define EXP_HUGE 1000000L

static int
is_digit(unsigned c)
{
    return c - '0' < 10;
}

static int
read_integer(const unsigned char *d, const unsigned char *de, int neg,
             json_t **out)
{
    /* 19 digits fit in uint64_t; 20 are past int64 whatever they are. */
    if (de - d > 19)
        return CRUMB_EMALFORMED;
    uint64_t m = 0;
    for (; d < de; d++)
        m = m * 10 + (uint64_t)(*d - '0');
    if (m > (uint64_t)INT64_MAX + neg)
        return CRUMB_EMALFORMED;
    json_int_t v = (json_int_t)m;
    if (neg && m > 0)
        v = -(json_int_t)(m - 1) - 1; /* INT64_MIN without overflow */
    *out = json_integer(v);
    return *out ? CRUMB_OK : CRUMB_ENOMEM;
}

#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD == 0
/*
 * Clinger's fast path: when the digits make an integer m <= 2^53 and the
 * decimal exponent e is within +-22, m and 10^e are exact doubles and one
 * IEEE multiplication or division rounds correctly: strtod's result.
 * [d, de) are the integer digits, [f, fe) the fraction's, e10 the written
 * exponent. Returns 0 when the number needs strtod.
 */
static int
exact_real(const unsigned char *d, const unsigned char *de,
           const unsigned char *f, const unsigned char *fe, long e10, int neg,
           double *out)
{
    static const double pow10[] = {
        1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    };
    uint64_t m = 0;
    int nd = 0; /* digits in m, leading zeros not counted */
    while (d < de || f < fe) {
        unsigned c;
        if (d < de) {
            c = *d++ - '0';
        } else {
            c = *f++ - '0';
            e10--;
        }
        if (m == 0 && c == 0)
            continue;
        if (nd == 19)
            return 0; /* m would overflow */
        m = m * 10 + c;
        nd++;
    }
    if (m == 0) {
        *out = neg ? -0.0 : 0.0;
        return 1;
    }
    if (m > (uint64_t)1 << 53 || e10 < -22 || e10 > 22)
        return 0;
    double x = (double)m;
    x = e10 < 0 ? x / pow10[-e10] : x * pow10[e10];
    *out = neg ? -x : x;
    return 1;
}
#else
static int
exact_real(const unsigned char *d, const unsigned char *de,
           const unsigned char *f, const unsigned char *fe, long e10, int neg,
           double *out)
{
    return 0;
}
#endif

/*
 * strtod on a NUL-terminated copy of the number [s, e), with '.' turned
 * into the locale's decimal point as strtod wants it. A real that
 * overflows is refused (json_real takes no infinity).
 */
static int
strtod_real(const unsigned char *s, const unsigned char *e, double *out)
{
    char stackbuf[64], *end;
    size_t n = (size_t)(e - s);
    char *buf = n < sizeof stackbuf ? stackbuf : malloc(n + 1);
    if (!buf)
        return CRUMB_ENOMEM;
    memcpy(buf, s, n);
    buf[n] = '\0';
    char point = localeconv()->decimal_point[0];
    char *dot = point != '.' ? memchr(buf, '.', n) : NULL;
    if (dot)
        *dot = point;
    *out = strtod(buf, &end);
    int ok = end == buf + n && !isinf(*out);
    if (buf != stackbuf)
        free(buf);
    return ok ? CRUMB_OK : CRUMB_EMALFORMED;
}

int
crumb__json_number(const unsigned char **p, const unsigned char *end,
                   json_t **out)
{
    const unsigned char *s = *p, *q = s;
    int neg = q < end && *q == '-';
    q += neg;
    const unsigned char *d = q;
    if (q == end || !is_digit(*q))
        return CRUMB_EMALFORMED;
    if (*q == '0') {
        if (++q < end && is_digit(*q))
            return CRUMB_EMALFORMED;
    } else {
        while (q < end && is_digit(*q))
            q++;
    }
    const unsigned char *de = q, *f = q, *fe = q;
    if (q == end || (*q != '.' && *q != 'e' && *q != 'E')) {
        *p = q;
        return read_integer(d, de, neg, out);
    }
    if (*q == '.') {
        f = ++q;
        if (q == end || !is_digit(*q))
            return CRUMB_EMALFORMED;
        while (q < end && is_digit(*q))
            q++;
        fe = q;
    }
    long e10 = 0;
    if (q < end && (*q == 'e' || *q == 'E')) {
        int eneg = 0;
        if (++q < end && (*q == '+' || *q == '-'))
            eneg = *q++ == '-';
        if (q == end || !is_digit(*q))
            return CRUMB_EMALFORMED;
        /* Exact up to EXP_HUGE; past it, it only stays past it. */
        for (; q < end && is_digit(*q); q++)
            if (e10 <= EXP_HUGE)
                e10 = e10 * 10 + (*q - '0');
        if (eneg)
            e10 = -e10;
    }
    *p = q;
    double x;
    /* A huge exponent was not kept exactly: strtod decides. */
    int huge = e10 > EXP_HUGE || e10 < -EXP_HUGE;
    if (huge || !exact_real(d, de, f, fe, e10, neg, &x)) {
        int rc = strtod_real(s, q, &x);
        if (rc != CRUMB_OK)
            return rc;
    }
    *out = json_real(x);
    return *out ? CRUMB_OK : CRUMB_ENOMEM;
}
