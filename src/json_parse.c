/* json_parse.c - a strict one-pass JSON reader that builds jansson trees;
 * it accepts what json_loadb(JSON_ALLOW_NUL) accepts, in far fewer steps. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <crumb/error.h>

#include "json_number.h"
#include "json_parse.h"

/*
 * RFC 8259, with jansson's choices where the RFC leaves room (numbers are
 * read in json_number.c):
 *
 *   text   = ws ( object / array ) ws            ; jansson's default
 *   object = "{" ws [ member *( ws "," ws member ) ] ws "}"
 *   member = string ws ":" ws value               ; no NUL in a key
 *   array  = "[" ws [ value *( ws "," ws value ) ] ws "]"
 *   value  = object / array / string / number / "true" / "false" / "null"
 *   number = [ "-" ] ( "0" / %x31-39 *DIGIT ) [ "." 1*DIGIT ]
 *            [ ( "e" / "E" ) [ "+" / "-" ] 1*DIGIT ]
 *   string = %x22 *( %x20-21 / %x23-5B / %x5D-10FFFF as UTF-8
 *                  / "\" ( %x22 / "\" / "/" / "b" / "f" / "n" / "r" / "t"
 *                        / "u" 4HEXDIG ) ) %x22
 *   ws     = *( %x20 / %x09 / %x0A / %x0D )
 *
 * A number without ".", "e" or "E" is an integer and must fit int64; any
 * other is a real and must not overflow a double. A \u escape of a high
 * surrogate must be followed by one of a low surrogate; lone surrogates
 * are refused. Every value counts one level of depth. One NUL byte right
 * after a number or a literal is skipped (see past_lookahead()).
 */

#define INLINE_DEPTH 32 /* containers tracked before the stack is malloc'd */
#define INLINE_SCRATCH 128

/* Where a string with escapes is decoded. Decoded text is never longer
 * than its source, so one size check per string is enough. */
typedef struct scratch {
    char *p;
    size_t cap;
    char inl[INLINE_SCRATCH];
} scratch;

typedef struct reader {
    const unsigned char *p, *end;
    int err; /* why the last NULL or -1 came back */
    scratch key, val;
} reader;

/* 1 for the bytes that stand for themselves inside a string: printable
 * ASCII but '"' and '\\'. Control bytes and non-ASCII are 0. */
static const unsigned char plain[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x00 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x10 */
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x20 '"' */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x30 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x40 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, /* 0x50 '\\' */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x60 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x70 */
};

static void *
fail(reader *r, int rc)
{
    r->err = rc;
    return NULL;
}

static int
is_digit(unsigned c)
{
    return c - '0' < 10;
}

static inline void
skip_ws(reader *r)
{
    const unsigned char *p = r->p, *end = r->end;
    if (p < end && *p > ' ') /* compact JSON: no whitespace at all */
        return;
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    r->p = p;
}

#if defined(__GNUC__) && defined(__BYTE_ORDER__) &&                            \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

/*
 * The high bit of each byte of @x that is not plain (see plain[]): below
 * 0x20, '"', '\\', or 0x80 and above. Each test is the has-a-zero-byte
 * trick, (v - 0x01..) & ~v & 0x80..; a borrow can only mark bytes above a
 * true match, so the lowest bit set is exact, and that is all we use.
 */
static uint64_t
special8(uint64_t x)
{
    uint64_t q = x ^ (ONES * '"'), b = x ^ (ONES * '\\');
    uint64_t t =
        ((x - ONES * 0x20) & ~x) | ((q - ONES) & ~q) | ((b - ONES) & ~b) | x;
    return t & HIGHS;
}

/* Past the plain bytes at @q: 8 at a time while 8 are left. */
static const unsigned char *
skip_plain(const unsigned char *q, const unsigned char *end)
{
    while (end - q >= 8) {
        uint64_t x;
        memcpy(&x, q, 8);
        uint64_t m = special8(x);
        if (m)
            return q + (__builtin_ctzll(m) >> 3); /* little endian */
        q += 8;
    }
    while (q < end && plain[*q])
        q++;
    return q;
}
#else
static const unsigned char *
skip_plain(const unsigned char *q, const unsigned char *end)
{
    while (q < end && plain[*q])
        q++;
    return q;
}
#endif

static void
scratch_init(scratch *b)
{
    b->p = b->inl;
    b->cap = sizeof b->inl;
}

static void
scratch_cleanup(scratch *b)
{
    if (b->p != b->inl)
        free(b->p);
}

/* Room for @need bytes; the old contents are not kept. */
static int
scratch_reserve(scratch *b, size_t need)
{
    if (need <= b->cap)
        return 0;
    char *p = malloc(need);
    if (!p)
        return -1;
    scratch_cleanup(b);
    b->p = p;
    b->cap = need;
    return 0;
}

/*
 * The length of the well-formed UTF-8 sequence at @q (whose first byte is
 * >= 0x80), or 0. Well-formed as in Unicode's table 3-7: no overlong
 * forms, no surrogates (ED A0..BF), nothing past U+10FFFF (F4 90..).
 */
static size_t
utf8_seq(const unsigned char *q, const unsigned char *end)
{
    size_t avail = (size_t)(end - q);
    unsigned c = q[0], lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        return avail >= 2 && (q[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
        if (avail < 3 || q[1] < lo || q[1] > hi || (q[2] & 0xC0) != 0x80)
            return 0;
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
        if (avail < 4 || q[1] < lo || q[1] > hi || (q[2] & 0xC0) != 0x80 ||
            (q[3] & 0xC0) != 0x80)
            return 0;
        return 4;
    }
    return 0;
}

/* Writes code point @u (not a surrogate, <= 0x10FFFF) as UTF-8. */
static size_t
utf8_put(char *o, uint32_t u)
{
    if (u < 0x80) {
        o[0] = (char)u;
        return 1;
    }
    if (u < 0x800) {
        o[0] = (char)(0xC0 | u >> 6);
        o[1] = (char)(0x80 | (u & 0x3F));
        return 2;
    }
    if (u < 0x10000) {
        o[0] = (char)(0xE0 | u >> 12);
        o[1] = (char)(0x80 | (u >> 6 & 0x3F));
        o[2] = (char)(0x80 | (u & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | u >> 18);
    o[1] = (char)(0x80 | (u >> 12 & 0x3F));
    o[2] = (char)(0x80 | (u >> 6 & 0x3F));
    o[3] = (char)(0x80 | (u & 0x3F));
    return 4;
}

/* The value of the 4 hex digits at @q, or -1. */
static long
hex4(const unsigned char *q, const unsigned char *end)
{
    long v = 0;
    if (end - q < 4)
        return -1;
    for (int i = 0; i < 4; i++) {
        unsigned c = q[i];
        if (is_digit(c))
            c -= '0';
        else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
            c = (c | 0x20) - 'a' + 10;
        else
            return -1;
        v = v << 4 | (long)c;
    }
    return v;
}

/*
 * Decodes one escape at @q (a backslash) to @o. Returns the bytes written
 * and moves *qp past the escape, or -1 for a bad escape: an unknown
 * letter, short hex, a lone or misordered surrogate.
 */
static int
unescape(const unsigned char **qp, const unsigned char *end, char *o)
{
    const unsigned char *q = *qp;
    if (end - q < 2)
        return -1;
    *qp = q + 2;
    switch (q[1]) {
    case '"':
    case '\\':
    case '/':
        *o = (char)q[1];
        return 1;
    case 'b':
        *o = '\b';
        return 1;
    case 'f':
        *o = '\f';
        return 1;
    case 'n':
        *o = '\n';
        return 1;
    case 'r':
        *o = '\r';
        return 1;
    case 't':
        *o = '\t';
        return 1;
    case 'u':
        break;
    default:
        return -1;
    }
    long u = hex4(q + 2, end);
    if (u < 0 || (u >= 0xDC00 && u <= 0xDFFF))
        return -1;
    q += 6;
    if (u >= 0xD800 && u <= 0xDBFF) {
        if (end - q < 2 || q[0] != '\\' || q[1] != 'u')
            return -1;
        long lo = hex4(q + 2, end);
        if (lo < 0xDC00 || lo > 0xDFFF)
            return -1;
        q += 6;
        u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
    }
    *qp = q;
    return (int)utf8_put(o, (uint32_t)u);
}

/*
 * The rest of a string from its first backslash at @q, decoded into @b
 * with the plain bytes [start, q) before it. *nul tells whether a \u0000
 * put a NUL in it.
 */
static int
read_escaped(reader *r, scratch *b, const unsigned char *start,
             const unsigned char *q, const char **s, size_t *n, int *nul)
{
    const unsigned char *end = r->end;
    if (scratch_reserve(b, (size_t)(end - start)) != 0) {
        r->err = CRUMB_ENOMEM;
        return -1;
    }
    char *o = b->p;
    memcpy(o, start, (size_t)(q - start));
    o += q - start;
    *nul = 0;
    for (;;) {
        if (q == end)
            break;
        unsigned c = *q;
        if (plain[c]) {
            *o++ = (char)c;
            q++;
        } else if (c == '"') {
            *s = b->p;
            *n = (size_t)(o - b->p);
            r->p = q + 1;
            return 0;
        } else if (c == '\\') {
            int k = unescape(&q, end, o);
            if (k < 0)
                break;
            *nul |= k == 1 && *o == '\0';
            o += k;
        } else {
            size_t k = c >= 0x80 ? utf8_seq(q, end) : 0;
            if (!k)
                break;
            memcpy(o, q, k);
            o += k;
            q += k;
        }
    }
    r->err = CRUMB_EMALFORMED;
    return -1;
}

/* read_string() past its first non-plain byte at @q: UTF-8 sequences,
 * escapes (then decoding into @b), the closing quote or an error. */
static int
read_string_rest(reader *r, scratch *b, const unsigned char *start,
                 const unsigned char *q, const char **s, size_t *n, int *nul)
{
    const unsigned char *end = r->end;
    for (;;) {
        if (q == end)
            break;
        if (*q == '"') {
            *s = (const char *)start;
            *n = (size_t)(q - start);
            *nul = 0;
            r->p = q + 1;
            return 0;
        }
        if (*q == '\\')
            return read_escaped(r, b, start, q, s, n, nul);
        size_t k = *q >= 0x80 ? utf8_seq(q, end) : 0;
        if (!k)
            break;
        q = skip_plain(q + k, end);
    }
    r->err = CRUMB_EMALFORMED;
    return -1;
}

/*
 * Reads the string whose opening quote is at r->p. Its bytes (*s, *n) are
 * in the input when it has no escape, else in @b until @b's next use;
 * *nul tells whether it holds a NUL. r->p moves past the closing quote.
 * Returns 0 or -1 (r->err set). Inline for the common case: plain ASCII.
 */
static inline int
read_string(reader *r, scratch *b, const char **s, size_t *n, int *nul)
{
    const unsigned char *start = r->p + 1;
    const unsigned char *q = skip_plain(start, r->end);
    if (q < r->end && *q == '"') {
        *s = (const char *)start;
        *n = (size_t)(q - start);
        *nul = 0;
        r->p = q + 1;
        return 0;
    }
    return read_string_rest(r, b, start, q, s, n, nul);
}

/*
 * jansson's lexer looks one byte past a number, true, false or null and
 * puts it back; a NUL byte put back is lost, as its one-character buffer
 * takes NUL for "empty". So one NUL right after such a token is skipped:
 * json_loadb takes "[1\0]" for [1]. Python would refuse it and Flask never
 * writes it; we skip it too so that both parsers accept the same texts.
 */
static const unsigned char *
past_lookahead(const unsigned char *q, const unsigned char *end)
{
    return q < end && *q == '\0' ? q + 1 : q;
}

/* The number at r->p (see json_number.c), then past_lookahead(). */
static json_t *
read_number(reader *r)
{
    json_t *v;
    int rc = crumb__json_number(&r->p, r->end, &v);
    if (rc != CRUMB_OK)
        return fail(r, rc);
    r->p = past_lookahead(r->p, r->end);
    return v;
}

static json_t *
read_word(reader *r, const char *word, size_t len, json_t *v)
{
    if ((size_t)(r->end - r->p) < len || memcmp(r->p, word, len) != 0)
        return fail(r, CRUMB_EMALFORMED);
    r->p = past_lookahead(r->p + len, r->end);
    return v;
}

static json_t *
made(reader *r, json_t *v)
{
    return v ? v : fail(r, CRUMB_ENOMEM);
}

/*
 * The value at r->p (not at the end) as a new reference: a scalar read in
 * full, or an empty container whose '{' or '[' was consumed. NULL with
 * r->err set on failure.
 */
static json_t *
read_value(reader *r)
{
    const char *s;
    size_t n;
    int nul;
    switch (*r->p) {
    case '{':
        r->p++;
        return made(r, json_object());
    case '[':
        r->p++;
        return made(r, json_array());
    case '"':
        if (read_string(r, &r->val, &s, &n, &nul) != 0)
            return NULL;
        return made(r, json_stringn_nocheck(s, n));
    case 't':
        return read_word(r, "true", 4, json_true());
    case 'f':
        return read_word(r, "false", 5, json_false());
    case 'n':
        return read_word(r, "null", 4, json_null());
    case '-':
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9':
        return read_number(r);
    default:
        return fail(r, CRUMB_EMALFORMED);
    }
}

/* Where the reader stands inside the innermost open container. */
enum {
    AT_OPEN,  /* just after '{' or '[': a member, a value or the close */
    AT_COMMA, /* just after ',': a member or a value */
    AT_VALUE  /* just after a value: ',' or the close */
};

/* The open containers, innermost last: borrowed, the tree owns them. */
typedef struct stack {
    json_t **v;
    size_t n, cap;
    size_t deepest; /* the deepest level a value was read at */
    int space_key;
    json_t *inl[INLINE_DEPTH];
} stack;

static int
push(stack *st, json_t *v)
{
    if (st->n == st->cap) {
        json_t **nv = malloc(2 * st->cap * sizeof *nv);
        if (!nv)
            return -1;
        memcpy(nv, st->v, st->n * sizeof *nv);
        if (st->v != st->inl)
            free(st->v);
        st->v = nv;
        st->cap *= 2;
    }
    st->v[st->n++] = v;
    return 0;
}

static int
fail_rc(reader *r, int rc)
{
    r->err = rc;
    return -1;
}

/* After a member's key: ws ":" ws, and something after it. */
static int
read_colon(reader *r)
{
    skip_ws(r);
    if (r->p == r->end || *r->p != ':')
        return -1;
    r->p++;
    skip_ws(r);
    return r->p == r->end ? -1 : 0;
}

/*
 * Reads everything inside the open container @st holds (the root) up to
 * its close. A container goes into its parent as soon as it opens, so the
 * whole tree hangs from the root at every step and freeing the root cleans
 * up any failure. A key is consumed by then, so one key buffer serves
 * every level. Returns 0 or -1 with r->err set.
 */
static int
read_tree(reader *r, stack *st)
{
    int state = AT_OPEN;
    while (st->n > 0) {
        skip_ws(r);
        if (r->p == r->end)
            return fail_rc(r, CRUMB_EMALFORMED);
        json_t *top = st->v[st->n - 1];
        int in_object = json_is_object(top);
        unsigned char c = *r->p;
        if (state != AT_COMMA && c == (in_object ? '}' : ']')) {
            r->p++;
            st->n--;
            state = AT_VALUE;
            continue;
        }
        if (state == AT_VALUE) {
            if (c != ',')
                return fail_rc(r, CRUMB_EMALFORMED);
            r->p++;
            state = AT_COMMA;
            continue;
        }
        const char *key = NULL;
        size_t klen = 0;
        if (in_object) {
            int nul;
            if (c != '"')
                return fail_rc(r, CRUMB_EMALFORMED);
            if (read_string(r, &r->key, &key, &klen, &nul) != 0)
                return -1;
            if (nul || read_colon(r) != 0)
                return fail_rc(r, CRUMB_EMALFORMED);
            st->space_key |= klen > 0 && key[0] == ' ';
        }
        if (st->n + 1 > CRUMB__JSON_MAX_DEPTH) /* the new value's level */
            return fail_rc(r, CRUMB_EMALFORMED);
        if (st->n + 1 > st->deepest)
            st->deepest = st->n + 1;
        json_t *v = read_value(r);
        if (!v)
            return -1;
        int opens = json_is_object(v) || json_is_array(v);
        /* Both setters take @v, even when they fail. */
        if (in_object ? json_object_setn_new_nocheck(top, key, klen, v)
                      : json_array_append_new(top, v))
            return fail_rc(r, CRUMB_ENOMEM);
        state = AT_VALUE;
        if (opens) {
            if (push(st, v) != 0)
                return fail_rc(r, CRUMB_ENOMEM);
            state = AT_OPEN;
        }
    }
    skip_ws(r);
    return r->p == r->end ? 0 : fail_rc(r, CRUMB_EMALFORMED);
}

int
crumb__json_parse(const char *text, size_t len, json_t **out,
                  crumb__json_info *info)
{
    reader r;
    stack st;
    *out = NULL;
    if (!text)
        return CRUMB_EMALFORMED;
    r.p = (const unsigned char *)text;
    r.end = r.p + len;
    r.err = CRUMB_EMALFORMED;
    skip_ws(&r);
    if (r.p == r.end || (*r.p != '{' && *r.p != '['))
        return CRUMB_EMALFORMED;
    json_t *root = *r.p++ == '{' ? json_object() : json_array();
    if (!root)
        return CRUMB_ENOMEM;
    scratch_init(&r.key);
    scratch_init(&r.val);
    st.v = st.inl;
    st.cap = INLINE_DEPTH;
    st.n = 1;
    st.inl[0] = root;
    st.deepest = 1;
    st.space_key = 0;
    int rc = read_tree(&r, &st) == 0 ? CRUMB_OK : r.err;
    if (st.v != st.inl)
        free(st.v);
    scratch_cleanup(&r.key);
    scratch_cleanup(&r.val);
    if (rc != CRUMB_OK) {
        json_decref(root);
        return rc;
    }
    if (info) {
        info->depth = st.deepest;
        info->space_key = st.space_key;
    }
    *out = root;
    return CRUMB_OK;
}
