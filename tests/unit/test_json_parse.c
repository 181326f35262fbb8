/* test_json_parse.c - crumb__json_parse against jansson's json_loadb:
 * hand-written edge cases, byte and escape sweeps, random numbers and
 * mutations, deep nesting, big inputs, out-of-memory, every fuzz corpus
 * file and the test vectors. Each input must get the same verdict and the
 * same tree from both (fuzz/json_diff.h). */
#include <dirent.h>
#include <locale.h>
#include <math.h>
#include <zlib.h>

#include <crumb/base64.h>

#include "../../fuzz/json_diff.h"
#include "test.h"

#ifndef CORPUS_DIR
#define CORPUS_DIR "fuzz/corpus"
#endif

static size_t n_same_; /* inputs compared in this test */

/* The input, escaped, for a failure message. */
static void
show(const char *text, size_t len)
{
    fprintf(stderr, "    input (%zu bytes): \"", len);
    for (size_t i = 0; i < len && i < 160; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
            fputc(c, stderr);
        else
            fprintf(stderr, "\\x%02x", c);
    }
    fprintf(stderr, "%s\"\n", len > 160 ? "..." : "");
}

#define SAME(text, len) same_((text), (len), __LINE__)

static void
same_(const char *text, size_t len, int line)
{
    const char *why = json_diff(text, len);
    if (why) {
        fprintf(stderr, "  %s:%d: %s\n", __FILE__, line, why);
        show(text, len);
        exit(1);
    }
    n_same_++;
}

/* How many inputs the test compared, for the log. */
#define DONE() printf("# %s: %zu inputs compared\n", __func__, n_same_)

/* Our verdict alone, after SAME: 1 accepted, 0 refused. */
static int
accepts(const char *text, size_t len)
{
    json_t *v = NULL;
    int rc = crumb__json_parse(text, len, &v, NULL);
    CHECK(rc == CRUMB_OK || rc == CRUMB_EMALFORMED);
    CHECK((rc == CRUMB_OK) == (v != NULL));
    json_decref(v);
    return rc == CRUMB_OK;
}

/* A case with the verdict it must get: Y accepted, N refused, D either
 * (only the agreement with jansson matters). Lengths are the literal's,
 * so a case may hold NUL bytes. */
typedef struct kase {
    const char *text;
    size_t len;
    int want; /* 1, 0, or -1 for either */
} kase;

#define Y(s) {s, sizeof s - 1, 1}
#define N(s) {s, sizeof s - 1, 0}
#define D(s) {s, sizeof s - 1, -1}

static const kase cases[] = {
    /* structure */
    Y("{}"), Y("[]"), Y(" {} "), Y("\t\n\r {}\r\n\t"), Y("[[]]"),
    Y("[{}]"), Y("{\"a\":[]}"), Y("{ \"a\" : 1 , \"b\" : [ ] }"),
    Y("[1,2]"), Y("[ 1 , 2 ]"), Y("[\n1\n]"), Y("{\"a\":1}"),
    N(""), N(" "), N("\n"), N("{"), N("}"), N("["), N("]"), N("{]"),
    N("[}"), N("{}{}"), N("{}[]"), N("{} x"), N("{}\0"), N("\0{}"),
    N("[\0]"), N("[[]"), N("[]]"), N("[1,]"), N("[,1]"), N("[1 2]"),
    N("[,]"), N("{\"a\"}"), N("{\"a\":}"), N("{\"a\" 1}"), N("{a:1}"),
    N("{'a':1}"), N("{\"a\":1,}"), N("{,\"a\":1}"), N("{\"a\":1 \"b\":2}"),
    N("{\"a\"::1}"), N("{\"a\":1:2}"), N("{1:1}"), N("{null:1}"),
    N("{\"a\":1]"), N("[1}"), N("{\"a\",1}"), N("[\"a\":1]"),
    /* the root: jansson wants an array or an object */
    N("1"), N("\"a\""), N("true"), N("null"), N("-1"), N("1.5"), N("0"),
    /* byte order marks and other bytes around the text */
    N("\xef\xbb\xbf{}"), N("{}\xef\xbb\xbf"), N("{}\xff"), N("\xff{}"),
    /* jansson skips one NUL right after a number or a literal */
    Y("[1\0]"), Y("[1.5\0]"), Y("[true\0]"), Y("{\"a\":null\0}"),
    Y("[1\0,2\0 ]"), Y("[-0\0]"), N("[1\0\0]"), N("[1 \0]"),
    N("[\"a\"\0]"), N("[[]\0]"), N("[1,\0 2]"), N("{\"a\"\0:1}"),
    N("[1\0"), N("[-\0]"), N("[1.\0]"), N("{}\x1a"), N("[1,\v2]"), N("[\f]"), N("\f{}"), N("[1\xc2\xa0]"),
    N("[\xc3\xa9]"), N("{}/**/"), N("//\n{}"), N("[1]#"),
    /* duplicate keys: the last value wins, in the first one's place */
    Y("{\"a\":1,\"a\":2}"), Y("{\"a\":{},\"b\":1,\"a\":[]}"),
    Y("{\"a\":[1,{\"b\":2}],\"a\":{\"c\":3},\"a\":null}"),
    Y("{\"\\u0061\":1,\"a\":2}"), Y("{\"a\":1,\"b\":2,\"a\":3,\"c\":4}"),
    /* literals */
    Y("[true,false,null]"), Y("{\"a\":true}"), N("[tru]"), N("[truex]"),
    N("[True]"), N("[TRUE]"), N("[nul]"), N("[nulll]"), N("[t]"),
    N("[f]"), N("[n]"), N("[falsey]"), N("[true false]"), N("[true1]"),
    N("[NaN]"), N("[nan]"), N("[Infinity]"), N("[-Infinity]"), N("[inf]"),
    N("[-inf]"), N("[undefined]"), N("{\"a\":NaN}"), N("[None]"),
    /* integers */
    Y("[0]"), Y("[-0]"), Y("[1]"), Y("[-1]"), Y("[123456789]"),
    Y("[9223372036854775807]"), N("[9223372036854775808]"),
    Y("[-9223372036854775808]"), N("[-9223372036854775809]"),
    N("[99999999999999999999]"), N("[18446744073709551615]"),
    N("[18446744073709551616]"), N("[123456789012345678901234567890]"),
    Y("[999999999999999999]"), Y("[1000000000000000000]"),
    Y("[-999999999999999999]"), N("[10000000000000000000]"), N("[00]"),
    N("[01]"), N("[-01]"), N("[-00]"), N("[-]"), N("[+1]"), N("[--1]"),
    N("[- 1]"), N("[1-]"), N("[0x10]"), N("[1_000]"), N("[1,000]x"),
    /* reals */
    Y("[1.5]"), Y("[-1.5]"), Y("[1e5]"), Y("[1E5]"), Y("[1e+5]"),
    Y("[1e-5]"), Y("[0.0]"), Y("[-0.0]"), Y("[0e0]"), Y("[-0e-0]"),
    Y("[0E+0]"), Y("[0.1]"), Y("[0.30000000000000004]"), Y("[1e308]"),
    Y("[1.7976931348623157e308]"), D("[1.7976931348623158e308]"),
    D("[1.7976931348623159e308]"), N("[1e309]"), N("[-1e309]"),
    N("[1e400]"), N("[1E400]"), Y("[5e-324]"), Y("[2e-324]"),
    Y("[1e-400]"), Y("[-1e-400]"), Y("[0e999999999999999999]"),
    Y("[1e-999999999999999999]"), N("[1e999999999999999999]"),
    Y("[4.9406564584124654e-324]"), Y("[2.2250738585072011e-308]"),
    Y("[2.2250738585072014e-308]"), Y("[123456789012345678901234567890.0]"),
    Y("[9007199254740992.0]"), Y("[9007199254740993.0]"),
    Y("[9007199254740993e0]"), Y("[9007199254740994.0]"), Y("[1e22]"),
    Y("[1e23]"), Y("[1e-22]"), Y("[1e-23]"), Y("[0.000001]"),
    Y("[100000000000000000000000.0]"), Y("[8.98846567431158e307]"),
    Y("[1.0000000000000002]"), Y("[0.1e1]"), Y("[12.34e-2]"),
    Y("[0.00000000000000000000000000000000000000001]"),
    Y("[1234567890123456789.0]"), Y("[12345678901234567890e-10]"),
    Y("[1.5 ]"), Y("[ 1.5]"), N("[.5]"), N("[1.]"), N("[1.e5]"), N("[-.5]"),
    N("[1e]"), N("[1e+]"), N("[1e-]"), N("[1ee5]"), N("[1e5.5]"),
    N("[1.5.5]"), N("[-0.]"), N("[1e+-5]"), N("[1.5e]"), N("[01.5]"),
    N("[1.5f]"), N("[1.5e5e5]"),
    /* strings */
    Y("[\"\"]"), Y("[\"a\"]"), Y("[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]"),
    Y("[\"\\u0041\"]"), Y("[\"\\u00e9\"]"), Y("[\"\\u00E9\"]"),
    Y("[\"\\uFFFF\"]"), Y("[\"\\ufffe\"]"), Y("[\"\\u0000\"]"),
    Y("[\"a\\u0000b\"]"), Y("{\"a\":\"\\u0000\"}"), N("{\"a\\u0000\":1}"),
    N("{\"\\u0000\":1}"), Y("[\"\\ud83d\\ude00\"]"),
    Y("[\"\\uD83D\\uDE00\"]"), Y("[\"\\udbff\\udfff\"]"),
    Y("[\"\\ud800\\udc00\"]"), N("[\"\\ud83d\"]"), N("[\"\\ud83dx\"]"),
    N("[\"\\ud83d\\n\"]"), N("[\"\\ud83d\\u0041\"]"), N("[\"\\ude00\"]"),
    N("[\"\\ude00\\ud83d\"]"), N("[\"\\ud83d\\ud83d\"]"),
    N("[\"\\ud83d\\ude0\"]"), N("[\"\\ud83d\\u\"]"), N("[\"\\ud83d\\"),
    N("[\"\\ud83d"), N("[\"\\a\"]"), N("[\"\\x41\"]"), N("[\"\\'\"]"),
    N("[\"\\0\"]"), N("[\"\\u\"]"), N("[\"\\u12\"]"), N("[\"\\u123\"]"),
    N("[\"\\u123g\"]"), N("[\"\\U0041\"]"), N("[\"\\ \"]"),
    N("[\"\x01\"]"), N("[\"\x1f\"]"), N("[\"\n\"]"), N("[\"\t\"]"),
    N("[\"\0\"]"), Y("[\"\x7f\"]"), Y("[\"\xc3\xa9\"]"), N("[\"\xc3\"]"),
    N("[\"\xc3\x28\"]"), N("[\"\xc0\x80\"]"), N("[\"\xc1\xbf\"]"),
    Y("[\"\xc2\x80\"]"), Y("[\"\xdf\xbf\"]"), N("[\"\xe0\x80\x80\"]"),
    N("[\"\xe0\x9f\xbf\"]"), Y("[\"\xe0\xa0\x80\"]"),
    Y("[\"\xed\x9f\xbf\"]"), N("[\"\xed\xa0\x80\"]"),
    N("[\"\xed\xbf\xbf\"]"), Y("[\"\xee\x80\x80\"]"),
    Y("[\"\xef\xbf\xbf\"]"), N("[\"\xf0\x80\x80\x80\"]"),
    N("[\"\xf0\x8f\xbf\xbf\"]"), Y("[\"\xf0\x90\x80\x80\"]"),
    Y("[\"\xf0\x9f\x98\x80\"]"), Y("[\"\xf4\x8f\xbf\xbf\"]"),
    N("[\"\xf4\x90\x80\x80\"]"), N("[\"\xf5\x80\x80\x80\"]"),
    N("[\"\xff\"]"), N("[\"\xfe\"]"), N("[\"\x80\"]"), N("[\"\xbf\"]"),
    N("[\"\xf0\x9f\x98\"]"), N("[\"\xe2\x98\"]"), N("[\"\xc3\xa9"),
    N("[\"\xf0\x9f\x98\x80"), N("[\"abc"), N("[\"abc\\"),
    N("[\"abc\\\"]"), Y("[\"\\\\\"]"), Y("[\"/\"]"), N("[\"a\"\"b\"]"),
    N("[\"a\" \"b\"]"), N("[\"\\u00e9\xc3\"]"), N("[\"\\n\x01\"]"),
    Y("[\"\\n\x7f\xc3\xa9\\u00e9\xf0\x9f\x98\x80\"]"),
    /* keys */
    Y("{\"\":1}"), Y("{\"\\ud83d\\ude00\":1}"), Y("{\" t\":[1]}"),
    Y("{\"\\u0020t\":[1]}"), Y("{\"a\":{\" t\":[1]}}"), Y("{\"\\n\":1}"),
    Y("{\"\xc3\xa9\":1}"), N("{\"\xc3\":1}"), N("{\"\\x\":1}"),
    Y("{\"a\":{\" di\":{\" t__\":{\" t\":[]}}}}"),
    Y("{\"a\":{\" b\":\"Zm9v\"}}"), Y("{\"a\":{\" b\":\"!\"}}"),
    Y("{\"a\":{\" u\":\"x\"}}"), Y("{\"a\":{\" t\":{}}}"),
    Y("{\"a\":{\" d\":\"Wed, 21 Oct 2015 07:28:00 GMT\"}}"),
    Y("[{\" t\":1}]"), Y("{\"a\":[{\"b\":{\" u\":\"x\"}}]}"),
    Y("{\"_csrf\":\"q2mN8x1vR0aLk3JtYp7WcZ\",\"cart\":{\"1\":2},"
      "\"user_id\":\"42\"}"),
};

TEST(edge_cases)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const kase *k = &cases[i];
        SAME(k->text, k->len);
        if (k->want >= 0 && accepts(k->text, k->len) != k->want) {
            fprintf(stderr, "  case %zu: want %s\n", i,
                    k->want ? "accepted" : "refused");
            show(k->text, k->len);
            exit(1);
        }
    }
    CHECK_INT(n_same_, >=, 300);
    DONE();
}

static json_t *
parse_ok(const char *text)
{
    json_t *v = NULL;
    CHECK_RC(crumb__json_parse(text, strlen(text), &v, NULL), CRUMB_OK);
    SAME(text, strlen(text));
    return v;
}

/* What the trees hold, beyond agreeing with jansson. */
TEST(documented_trees)
{
    json_t *v = parse_ok("{\"a\":1,\"b\":2,\"a\":3}");
    CHECK_INT(json_object_size(v), ==, 2);
    CHECK_STR(json_object_iter_key(json_object_iter(v)), "a");
    CHECK_INT(json_integer_value(json_object_get(v, "a")), ==, 3);
    json_decref(v);

    v = parse_ok("[-0,-0.0,0.0,1E2,9223372036854775807,"
                 "-9223372036854775808,5e-324,1e-400]");
    CHECK(json_is_integer(json_array_get(v, 0)));
    CHECK_INT(json_integer_value(json_array_get(v, 0)), ==, 0);
    CHECK(json_is_real(json_array_get(v, 1)));
    CHECK(signbit(json_real_value(json_array_get(v, 1))));
    CHECK(!signbit(json_real_value(json_array_get(v, 2))));
    CHECK(json_is_real(json_array_get(v, 3)));
    CHECK(json_real_value(json_array_get(v, 3)) == 100.0);
    CHECK(json_integer_value(json_array_get(v, 4)) == INT64_MAX);
    CHECK(json_integer_value(json_array_get(v, 5)) == INT64_MIN);
    CHECK(json_real_value(json_array_get(v, 6)) > 0);
    CHECK(json_real_value(json_array_get(v, 7)) == 0);
    json_decref(v);

    v = parse_ok("[\"a\\u0000b\",\"\\ud83d\\ude00\",\"\\u00e9\\/\"]");
    CHECK_MEM(json_string_value(json_array_get(v, 0)),
              json_string_length(json_array_get(v, 0)), "a\0b", 3);
    CHECK_STR(json_string_value(json_array_get(v, 1)), "\xf0\x9f\x98\x80");
    CHECK_STR(json_string_value(json_array_get(v, 2)), "\xc3\xa9/");
    json_decref(v);

    crumb__json_info info;
    v = NULL;
    CHECK_RC(crumb__json_parse("[[1],{\"\\u0020x\":[]}]", 20, &v, &info),
             CRUMB_OK);
    CHECK_INT(info.depth, ==, 3);
    CHECK(info.space_key);
    json_decref(v);
    CHECK_RC(crumb__json_parse(NULL, 0, &v, NULL), CRUMB_EMALFORMED);
    CHECK(v == NULL);
}

/* Every byte in each place a byte can go, and every pair in a string. */
TEST(byte_sweeps)
{
    static const char *const shapes[] = {
        "[%c]",      "[\"%c\"]", "{\"%c\":1}", "[\"\\%c\"]", "[1%c]",
        "{}%c",      "%c{}",     "[%c1]",     "[1%c2]",    "{\"a\"%c1}",
        "[1.%c]",    "[1e%c]",   "[t%c]",     "[-%c]",     "[\"\\u00%c0\"]",
    };
    char buf[32];
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        for (int b = 0; b < 256; b++) {
            /* %c writes the byte even when it is NUL; the length counts
             * it (the shapes have no other NUL). */
            int n = snprintf(buf, sizeof buf, shapes[s], b);
            SAME(buf, (size_t)n);
        }
    }
    for (int a = 0; a < 256; a++) {
        for (int b = 0; b < 256; b++) {
            char t[6] = {'[', '"', (char)a, (char)b, '"', ']'};
            SAME(t, sizeof t);
        }
    }
    /* Three- and four-byte sequences around every lead byte's limits. */
    static const unsigned char thirds[] = {0x22, 0x41, 0x7f, 0x80, 0xbf,
                                           0xc0};
    static const unsigned char fourths[] = {0x22, 0x80};
    for (int a = 0xc0; a < 256; a++) {
        for (int b = 0; b < 256; b++) {
            for (size_t c = 0; c < sizeof thirds; c++) {
                for (size_t d = 0; d < sizeof fourths; d++) {
                    char t[8] = {'[',         '"',        (char)a,
                                 (char)b,     (char)thirds[c],
                                 (char)fourths[d], '"',   ']'};
                    SAME(t, sizeof t);
                }
            }
        }
    }
    CHECK_INT(n_same_, >=, 250000);
    DONE();
}

/* Every \u escape, alone and in a key; surrogates in pairs. */
TEST(unicode_escapes)
{
    char buf[64];
    int n;
    for (unsigned u = 0; u < 0x10000; u++) {
        n = snprintf(buf, sizeof buf, u % 3 ? "[\"\\u%04x\"]" : "[\"\\u%04X\"]",
                     u);
        SAME(buf, (size_t)n);
        n = snprintf(buf, sizeof buf, "{\"\\u%04x\":1}", u);
        SAME(buf, (size_t)n);
    }
    /* One high surrogate against every second escape... */
    for (unsigned lo = 0; lo < 0x10000; lo++) {
        n = snprintf(buf, sizeof buf, "[\"\\ud83d\\u%04x\"]", lo);
        SAME(buf, (size_t)n);
    }
    /* ...and every high surrogate against the edges of the low range. */
    static const unsigned los[] = {0x0041, 0xd800, 0xdbff, 0xdc00,
                                   0xdc01, 0xdffe, 0xdfff, 0xe000};
    for (unsigned hi = 0xd7ff; hi <= 0xe000; hi++) {
        for (size_t i = 0; i < sizeof los / sizeof los[0]; i++) {
            n = snprintf(buf, sizeof buf, "[\"x\\u%04x\\u%04xy\"]", hi,
                         los[i]);
            SAME(buf, (size_t)n);
        }
        n = snprintf(buf, sizeof buf, "[\"\\u%04x\\n\"]", hi);
        SAME(buf, (size_t)n);
        n = snprintf(buf, sizeof buf, "[\"\\u%04x\"]", hi);
        SAME(buf, (size_t)n);
    }
    CHECK_INT(n_same_, >=, 190000);
    DONE();
}

/* xorshift64*: the same sequence on every run. */
static uint64_t rng_ = 0x9e3779b97f4a7c15u;

static uint64_t
rnd(void)
{
    rng_ ^= rng_ >> 12;
    rng_ ^= rng_ << 25;
    rng_ ^= rng_ >> 27;
    return rng_ * 0x2545f4914f6cdd1du;
}

static size_t
rnd_below(size_t n)
{
    return (size_t)(rnd() % n);
}

static size_t
put_digits(char *o, size_t n, int lead_nonzero)
{
    for (size_t i = 0; i < n; i++)
        o[i] = (char)('0' + (i == 0 && lead_nonzero ? 1 + rnd_below(9)
                                                    : rnd_below(10)));
    return n;
}

/* Random numbers of every shape, most valid; the fast path's limits (2^53,
 * 10^22) and strtod's (overflow, underflow, long digit runs) included. */
TEST(random_numbers)
{
    char buf[256];
    for (int i = 0; i < 150000; i++) {
        size_t n = 0;
        buf[n++] = '[';
        if (rnd_below(3) == 0)
            buf[n++] = '-';
        if (rnd_below(5) == 0)
            buf[n++] = '0';
        else
            n += put_digits(buf + n, 1 + rnd_below(rnd_below(4) ? 17 : 40),
                            1);
        if (rnd_below(2)) {
            buf[n++] = '.';
            n += put_digits(buf + n, 1 + rnd_below(rnd_below(4) ? 8 : 40), 0);
        }
        if (rnd_below(2)) {
            buf[n++] = rnd_below(2) ? 'e' : 'E';
            int r = (int)rnd_below(3);
            if (r)
                buf[n++] = r == 1 ? '+' : '-';
            n += put_digits(buf + n, 1 + rnd_below(rnd_below(8) ? 2 : 4), 0);
        }
        if (rnd_below(50) == 0) /* a stray byte somewhere */
            buf[1 + rnd_below(n - 1)] = ".eE+-0x "[rnd_below(8)];
        buf[n++] = ']';
        SAME(buf, n);
    }
    /* Integers and reals at the fast path's edges. */
    for (int64_t m = (1LL << 53) - 3; m <= (1LL << 53) + 3; m++) {
        for (int e = -25; e <= 25; e++) {
            int n = snprintf(buf, sizeof buf, "[%lld,%lld.0,%llde%d]",
                             (long long)m, (long long)m, (long long)m, e);
            SAME(buf, (size_t)n);
        }
    }
    for (int e = -330; e <= 330; e++) {
        int n = snprintf(buf, sizeof buf, "[1e%d,17e%d,0.5e%d,-9.9e%d]", e,
                         e, e, e);
        SAME(buf, (size_t)n);
    }
    DONE();
}

/* Nesting at jansson's limit (2048 levels, a scalar is a level) and at
 * crumb_tagjson_loads's (512), and far past both. */
TEST(depth)
{
    size_t cap = 2 * 3000 * 16;
    char *buf = malloc(cap);
    CHECK(buf != NULL);
    static const size_t depths[] = {1,    2,    511,  512,  513,
                                    1023, 1024, 1025, 2046, 2047,
                                    2048, 2049, 2050, 2500};
    for (size_t i = 0; i < sizeof depths / sizeof depths[0]; i++) {
        size_t d = depths[i], n = 0;
        /* arrays, empty innermost: d levels */
        for (size_t k = 0; k < d; k++)
            buf[n++] = '[';
        for (size_t k = 0; k < d; k++)
            buf[n++] = ']';
        SAME(buf, n);
        CHECK_INT(accepts(buf, n), ==, d <= 2048);
        /* arrays around a scalar: d + 1 levels */
        n = 0;
        for (size_t k = 0; k < d; k++)
            buf[n++] = '[';
        buf[n++] = '7';
        for (size_t k = 0; k < d; k++)
            buf[n++] = ']';
        SAME(buf, n);
        CHECK_INT(accepts(buf, n), ==, d + 1 <= 2048);
        /* objects: {"a":{"a":...{}}} */
        n = 0;
        for (size_t k = 0; k < d; k++) {
            memcpy(buf + n, k + 1 < d ? "{\"a\":" : "{", k + 1 < d ? 5 : 1);
            n += k + 1 < d ? 5 : 1;
        }
        for (size_t k = 0; k < d; k++)
            buf[n++] = '}';
        SAME(buf, n);
        CHECK_INT(accepts(buf, n), ==, d <= 2048);
        /* Flask's " di" tags: tag checks count a level per tag, JSON two */
        n = 0;
        for (size_t k = 0; k < d / 2; k++) {
            memcpy(buf + n, "{\" di\":{\"x__\":", 14);
            n += 14;
        }
        buf[n++] = '1';
        for (size_t k = 0; k < d / 2; k++) {
            memcpy(buf + n, "}}", 2);
            n += 2;
        }
        SAME(buf, n);
    }
    /* Unclosed, far past the limit. */
    memset(buf, '[', cap);
    SAME(buf, cap);
    memset(buf, '{', cap);
    SAME(buf, cap);
    free(buf);
    DONE();
}

/* Sizes past every inline buffer: long strings with and without escapes,
 * long keys, long arrays and objects, numbers with thousands of digits. */
TEST(big_inputs)
{
    size_t cap = 1 << 20, n;
    char *buf = malloc(cap + 64);
    CHECK(buf != NULL);
    static const char *const units[] = {"a",  "\\n", "\\u00e9", "\xc3\xa9",
                                        "\\ud83d\\ude00", "\\u0000"};
    for (size_t u = 0; u < sizeof units / sizeof units[0]; u++) {
        for (size_t len = 100; len <= cap; len *= 8) {
            size_t ul = strlen(units[u]);
            /* as a value */
            n = 0;
            buf[n++] = '[';
            buf[n++] = '"';
            while (n + ul + 2 < len) {
                memcpy(buf + n, units[u], ul);
                n += ul;
            }
            buf[n++] = '"';
            buf[n++] = ']';
            SAME(buf, n);
            CHECK(accepts(buf, n));
            /* as a key, then as a value after it */
            buf[0] = '{';
            buf[n - 1] = ':';
            memcpy(buf + n, "\"\\t\"}", 5);
            SAME(buf, n + 5);
            CHECK_INT(accepts(buf, n + 5), ==, u != 5);
            /* cut short */
            SAME(buf, n - 3);
        }
    }
    /* 100,000 numbers and 20,000 keys */
    n = 0;
    buf[n++] = '[';
    for (int i = 0; i < 100000; i++)
        n += (size_t)sprintf(buf + n, i % 3 ? "%d," : "%d.5,", i - 50000);
    buf[n - 1] = ']';
    SAME(buf, n);
    n = 0;
    buf[n++] = '{';
    for (int i = 0; i < 20000; i++)
        n += (size_t)sprintf(buf + n, "\"k%d\":[%d],", i % 15000, i);
    buf[n - 1] = '}';
    SAME(buf, n);
    /* a real and an integer with 5,000 digits */
    static const char *const fmts[] = {"[1%s]", "[0.%s1]", "[1.%s]",
                                       "[%s.0e-4990]", "[1%se-5000]"};
    char *digits = malloc(5001);
    CHECK(digits != NULL);
    for (int i = 0; i < 5000; i++)
        digits[i] = (char)('0' + (i * 7 + 3) % 10);
    digits[5000] = '\0';
    digits[0] = '4';
    for (size_t f = 0; f < sizeof fmts / sizeof fmts[0]; f++) {
        n = (size_t)snprintf(buf, cap, fmts[f], digits);
        SAME(buf, n);
    }
    free(digits);
    free(buf);
    /* Ten million fraction digits against an exponent too big to keep
     * exactly: only strtod may judge (1e90000000 overflows). */
    size_t zeros = 9999998;
    buf = malloc(zeros + 32);
    CHECK(buf != NULL);
    static const char *const exps[] = {"e99999999]", "e9999999]",
                                       "e-99999999]", "e10000000]"};
    for (size_t i = 0; i < sizeof exps / sizeof exps[0]; i++) {
        memcpy(buf, "[0.", 3);
        memset(buf + 3, '0', zeros);
        n = 3 + zeros;
        buf[n++] = '1';
        memcpy(buf + n, exps[i], strlen(exps[i]));
        n += strlen(exps[i]);
        SAME(buf, n);
        CHECK_INT(accepts(buf, n), ==, i != 0);
    }
    free(buf);
    DONE();
}

/* Valid texts of every kind, the seeds for mutations. */
static const char *const seeds[] = {
    "{\"_csrf\":\"q2mN8x1vR0aLk3JtYp7WcZ\",\"cart\":{\"1\":2},"
    "\"user_id\":\"42\"}",
    "{\"a\":[1,-2,3.5,-0.0,1e10,true,false,null,\"s\",{},[]]}",
    "{\"t\":{\" t\":[1,\"two\",3.0]},\"b\":{\" b\":\"AP9ieXRlcw==\"},"
    "\"u\":{\" u\":\"12345678123456781234567812345678\"}}",
    "[\"\\u00e9\\ud83d\\ude00\\n\\\"\\\\\\/\\b\\f\\r\\t\\u0000\"]",
    "{\"\xc3\xa9\":\"\xe2\x98\x83\xf0\x9f\x98\x80\",\"\\u0041\":1}",
    " [ 1 , [ 2 , [ 3 ] ] , { \"k\" : { \"k\" : null } } ] ",
    "[9223372036854775807,-9223372036854775808,1.7976931348623157e308,"
    "5e-324,123456789012345678.5]",
    "{\"a\":1,\"a\":{\"b\":[{\"c\":\"d\"}]},\"a\":2}",
    "{\"x\":{\" di\":{\" t__\":{\" t\":[]}}},\"d\":"
    "{\" d\":\"Wed, 21 Oct 2015 07:28:00 GMT\"}}",
};

/* Random edits of the seeds: flips, inserts of bytes that matter, cuts,
 * repeats. */
TEST(mutations)
{
    static const char alphabet[] = "{}[]\":,\\u0123456789abcdefABCDEF.eE+- "
                                   "\t\n\r\x01\x1f\x7f\x80\xbf\xc3\xed\xf0"
                                   "\xf4\xff\0tfnlrs/";
    char buf[512];
    size_t nseeds = sizeof seeds / sizeof seeds[0];
    for (int i = 0; i < 100000; i++) {
        const char *seed = seeds[rnd_below(nseeds)];
        size_t n = strlen(seed);
        memcpy(buf, seed, n);
        for (size_t edits = 1 + rnd_below(3); edits > 0; edits--) {
            size_t at = rnd_below(n + 1);
            switch (rnd_below(6)) {
            case 0: /* replace */
                if (at < n)
                    buf[at] = alphabet[rnd_below(sizeof alphabet - 1)];
                break;
            case 1: /* insert */
                if (n < sizeof buf - 1) {
                    memmove(buf + at + 1, buf + at, n - at);
                    buf[at] = alphabet[rnd_below(sizeof alphabet - 1)];
                    n++;
                }
                break;
            case 2: /* delete */
                if (at < n) {
                    memmove(buf + at, buf + at + 1, n - at - 1);
                    n--;
                }
                break;
            case 3: /* cut */
                n = at;
                break;
            case 4: /* flip a bit */
                if (at < n)
                    buf[at] ^= (char)(1 << rnd_below(8));
                break;
            default: { /* repeat a slice */
                size_t len = rnd_below(16);
                if (at + len <= n && n + len < sizeof buf) {
                    memmove(buf + at + len, buf + at, n - at);
                    n += len;
                }
                break;
            }
            }
        }
        SAME(buf, n);
    }
    DONE();
}

/* Checks @text, each suffix of it from a '{' or '[' (JSON inside other
 * formats), and each '.'-separated base64url piece decoded, inflated when
 * it can be (a cookie's payload). */
static void
same_everywhere(const char *text, size_t len)
{
    SAME(text, len);
    size_t suffixes = 0;
    for (size_t i = 1; i < len && suffixes < 200; i++) {
        if (text[i] == '{' || text[i] == '[') {
            SAME(text + i, len - i);
            suffixes++;
        }
    }
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && text[i] != '.')
            continue;
        size_t plen = i - start;
        unsigned char *raw = malloc(CRUMB_B64_DECODED_MAX(plen) + 1);
        CHECK(raw != NULL);
        long r = crumb_b64url_decode(text + start, plen, raw);
        if (r >= 0) {
            SAME((const char *)raw, (size_t)r);
            uLongf zlen = 1 << 20;
            unsigned char *z = malloc(zlen);
            CHECK(z != NULL);
            if (uncompress(z, &zlen, raw, (uLong)r) == Z_OK)
                SAME((const char *)z, (size_t)zlen);
            free(z);
        }
        free(raw);
        start = i + 1;
    }
}

static char *
read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0, got;
    char *buf = malloc(cap);
    CHECK(buf != NULL);
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            CHECK(buf != NULL);
        }
    }
    fclose(f);
    *len = n;
    return buf;
}

static void
root_path(char *out, size_t cap, const char *rel)
{
    const char *root = getenv("CRUMB_ROOT");
    snprintf(out, cap, "%s%s%s", root ? root : "", root ? "/" : "", rel);
}

/* Every file of every fuzz corpus (fuzz/corpus/<target>/...). */
TEST(fuzz_corpora)
{
    char dir[1024], path[2048];
    root_path(dir, sizeof dir, CORPUS_DIR);
    DIR *top = opendir(dir);
    if (!top)
        T_FAIL_("cannot open %s", dir);
    size_t files = 0;
    struct dirent *t;
    while ((t = readdir(top)) != NULL) {
        if (t->d_name[0] == '.')
            continue;
        char sub[1536];
        snprintf(sub, sizeof sub, "%s/%s", dir, t->d_name);
        DIR *d = opendir(sub);
        if (!d)
            continue;
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            snprintf(path, sizeof path, "%s/%s", sub, e->d_name);
            size_t len;
            char *text = read_all(path, &len);
            if (!text)
                continue;
            same_everywhere(text, len);
            free(text);
            files++;
        }
        closedir(d);
    }
    closedir(top);
    printf("# fuzz_corpora: %zu files, %zu inputs compared\n", files,
           n_same_);
    CHECK_INT(files, >=, 128);
}

/* The JSON in the known-answer files: Flask's dumps, session cookies,
 * Python's float reprs. */
TEST(vectors)
{
    static const char *const files[] = {"tests/vectors/tagjson.txt",
                                        "tests/vectors/flask_sessions.txt",
                                        "tests/vectors/floats.txt",
                                        "tests/vectors/itsdangerous.txt"};
    char path[1024];
    size_t lines = 0;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        root_path(path, sizeof path, files[i]);
        FILE *f = fopen(path, "r");
        if (!f)
            T_FAIL_("cannot open %s", path);
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        while ((n = getline(&line, &cap, f)) > 0) {
            if (line[n - 1] == '\n')
                line[--n] = '\0';
            if (n == 0 || line[0] == '#')
                continue;
            same_everywhere(line, (size_t)n);
            /* each tab-separated field, and as an array item */
            for (char *fld = line, *tab; fld; fld = tab ? tab + 1 : NULL) {
                tab = strchr(fld, '\t');
                size_t fl = tab ? (size_t)(tab - fld) : strlen(fld);
                char buf[4096];
                if (fl + 2 < sizeof buf) {
                    buf[0] = '[';
                    memcpy(buf + 1, fld, fl);
                    buf[fl + 1] = ']';
                    SAME(buf, fl + 2);
                }
                SAME(fld, fl);
            }
            lines++;
        }
        free(line);
        fclose(f);
    }
    CHECK_INT(lines, >=, 100);
    DONE();
}

/* jansson's allocations fail one by one: every failure is ENOMEM and
 * leaves nothing allocated. */
static long live_, calls_, fail_at_;

static void *
counting_malloc(size_t n)
{
    if (++calls_ == fail_at_)
        return NULL;
    void *p = malloc(n);
    live_ += p != NULL;
    return p;
}

static void
counting_free(void *p)
{
    live_ -= p != NULL;
    free(p);
}

TEST(out_of_memory)
{
    static const char *const texts[] = {
        seeds[0], seeds[1], seeds[3], seeds[4], seeds[7],
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]"
        "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
    };
    json_set_alloc_funcs(counting_malloc, counting_free);
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        for (fail_at_ = 1;; fail_at_++) {
            json_t *v = NULL;
            live_ = calls_ = 0;
            int rc = crumb__json_parse(texts[i], strlen(texts[i]), &v, NULL);
            if (rc == CRUMB_OK) {
                json_decref(v);
                CHECK_INT(live_, ==, 0);
                break;
            }
            CHECK_RC(rc, CRUMB_ENOMEM);
            CHECK(v == NULL);
            CHECK_INT(live_, ==, 0);
        }
        CHECK_INT(fail_at_, >, 1);
    }
    json_set_alloc_funcs(malloc, free);
}

/* With a locale whose decimal point is a comma, reals still read as in
 * the C locale (both parsers swap the point for strtod). Skipped when no
 * such locale is installed. */
TEST(comma_locale)
{
    static const char *const names[] = {"de_DE.UTF-8", "de_DE.utf8",
                                        "fr_FR.UTF-8", "fr_FR.utf8",
                                        "ru_RU.UTF-8", "nl_NL.UTF-8"};
    const char *got = NULL;
    for (size_t i = 0; i < sizeof names / sizeof names[0] && !got; i++)
        got = setlocale(LC_NUMERIC, names[i]);
    if (!got) {
        printf("# comma_locale: no such locale installed, skipped\n");
        return;
    }
    static const char *const texts[] = {
        "[1.5]", "[1e400]", "[0.1234567890123456789e-300]",
        "[1.7976931348623157e308, 2.5e-320]", "[1,5]"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        SAME(texts[i], strlen(texts[i]));
    json_t *v = parse_ok("[0.1234567890123456789e-300]");
    CHECK(json_real_value(json_array_get(v, 0)) == 0.1234567890123456789e-300);
    json_decref(v);
    setlocale(LC_NUMERIC, "C");
}

int
main(void)
{
    TEST_BEGIN();
    RUN(edge_cases);
    RUN(documented_trees);
    RUN(byte_sweeps);
    RUN(unicode_escapes);
    RUN(random_numbers);
    RUN(depth);
    RUN(big_inputs);
    RUN(mutations);
    RUN(fuzz_corpora);
    RUN(vectors);
    RUN(out_of_memory);
    RUN(comma_locale);
    return TEST_END();
}
