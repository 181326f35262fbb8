/* cookie.c - Cookie header parsing and Set-Cookie header formatting. */
#include <crumb/cookie.h>
#include <crumb/error.h>

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A control character: CTL in RFC 5234 (%x00-1F / %x7F). */
static int
crumb_cookie_is_ctl(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

/*
 * RFC 2616 section 2.2, which RFC 6265 names for cookie-name:
 *   separators = "(" | ")" | "<" | ">" | "@" | "," | ";" | ":" | "\" | <">
 *              | "/" | "[" | "]" | "?" | "=" | "{" | "}" | SP | HT
 */
static int
crumb_cookie_is_separator(unsigned char c)
{
    switch (c) {
    case '(': case ')': case '<': case '>': case '@': case ',': case ';':
    case ':': case '\\': case '"': case '/': case '[': case ']': case '?':
    case '=': case '{': case '}': case ' ': case '\t':
        return 1;
    }
    return 0;
}

/*
 * Whether [p, p + n) holds a CTL. Eight octets at a time: a session value
 * is 100 to 4,000 octets and is checked on every request. (x - 0x20..) &
 * ~x & 0x80.. is non-zero exactly when some byte of x is below 0x20 (a
 * borrow can only reach bytes above one that is); 0x7f is that test for
 * zero after x ^ 0x7f...
 */
static int
crumb_cookie_has_ctl(const char *p, size_t n)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t x, d;
        memcpy(&x, p + i, 8);
        d = x ^ (ones * 0x7f);
        if (((x - ones * 0x20) & ~x & highs) | ((d - ones) & ~d & highs))
            return 1;
    }
    for (; i < n; i++)
        if (crumb_cookie_is_ctl((unsigned char)p[i]))
            return 1;
    return 0;
}

/* Optional whitespace, OWS in RFC 7230: SP and HTAB. */
static int
crumb_cookie_is_ows(unsigned char c)
{
    return c == ' ' || c == '\t';
}

/* Narrows [*p, *p + *n) by dropping leading and trailing SP and HTAB. */
static void
crumb_cookie_trim(const char **p, size_t *n)
{
    while (*n > 0 && crumb_cookie_is_ows((unsigned char)(*p)[0])) {
        (*p)++;
        (*n)--;
    }
    while (*n > 0 && crumb_cookie_is_ows((unsigned char)(*p)[*n - 1]))
        (*n)--;
}

/*
 * The grammar a client should send, RFC 6265 section 4.2.1:
 *   cookie-header = "Cookie:" OWS cookie-string OWS
 *   cookie-string = cookie-pair *( ";" SP cookie-pair )
 *   cookie-pair   = cookie-name "=" cookie-value
 *   cookie-name   = token
 *   cookie-value  = *cookie-octet / ( DQUOTE *cookie-octet DQUOTE )
 *   cookie-octet  = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E
 *
 * What this parser accepts instead, close to section 5.4 and to
 * werkzeug's parse_cookie:
 *   header = pair *( ";" pair )   ; any pair may be empty or junk
 *   pair   = OWS name OWS "=" OWS value OWS
 *   name   = 1*<any octet except CTL, separators>
 *   value  = *<any octet except CTL and ";">, one pair of surrounding
 *            DQUOTEs removed
 * A pair that does not match is skipped and parsing goes on after the next
 * ';'. Octets >= 0x80 pass through, as browsers send UTF-8. Backslash
 * escapes inside quotes are not decoded (werkzeug decodes "\073" style
 * octal escapes; Flask's own cookie values never contain any), and a ';'
 * always ends a pair, even between quotes, as in browsers.
 *
 * Reads exactly [p, p + n); returns 1 and fills *out for a good pair.
 */
static int
crumb_cookie_pair_parse(const char *p, size_t n, crumb_cookie_pair *out)
{
    const char *eq = memchr(p, '=', n);
    if (eq == NULL)
        return 0;

    const char *name = p;
    size_t name_len = (size_t)(eq - p);
    crumb_cookie_trim(&name, &name_len);
    if (name_len == 0)
        return 0;
    for (size_t i = 0; i < name_len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (crumb_cookie_is_ctl(c) || crumb_cookie_is_separator(c))
            return 0;
    }

    const char *value = eq + 1;
    size_t value_len = (size_t)(p + n - value);
    crumb_cookie_trim(&value, &value_len);
    if (crumb_cookie_has_ctl(value, value_len))
        return 0;
    if (value_len >= 2 && value[0] == '"' && value[value_len - 1] == '"') {
        value++;
        value_len -= 2;
    }

    out->name = name;
    out->name_len = name_len;
    out->value = value;
    out->value_len = value_len;
    return 1;
}

/*
 * Finds the next good pair at or after *pos, moving *pos past its ';'.
 * Returns 1 with *out filled, or 0 at the end of the header.
 */
static int
crumb_cookie_next(const char *header, size_t len, size_t *pos,
                  crumb_cookie_pair *out)
{
    while (*pos < len) {
        size_t start = *pos;
        const char *semi = memchr(header + start, ';', len - start);
        size_t end = semi != NULL ? (size_t)(semi - header) : len;
        *pos = semi != NULL ? end + 1 : len;
        if (crumb_cookie_pair_parse(header + start, end - start, out))
            return 1;
    }
    return 0;
}

int
crumb_cookie_parse(const char *header, size_t len, crumb_cookie_pair *pairs,
                   size_t max)
{
    if (len > CRUMB_COOKIE_HEADER_MAX)
        return CRUMB_ETOOBIG;
    if ((header == NULL && len > 0) || (pairs == NULL && max > 0))
        return CRUMB_EINVAL;

    size_t pos = 0, count = 0;
    crumb_cookie_pair pair;
    while (count < CRUMB_COOKIE_PAIRS_MAX &&
           crumb_cookie_next(header, len, &pos, &pair)) {
        if (count < max)
            pairs[count] = pair;
        count++;
    }
    return (int)count;
}

/*
 * The first match wins: a browser sends cookies with longer paths first,
 * so the first is the most specific one, and werkzeug's MultiDict (hence
 * Flask's request.cookies[name]) also returns the first. Looks only at the
 * pairs crumb_cookie_parse would return.
 */
int
crumb_cookie_get(const char *header, size_t len, const char *name,
                 const char **value, size_t *value_len)
{
    if (len > CRUMB_COOKIE_HEADER_MAX)
        return CRUMB_ETOOBIG;
    if ((header == NULL && len > 0) || name == NULL)
        return CRUMB_EINVAL;

    size_t name_len = strlen(name);
    size_t pos = 0, count = 0;
    crumb_cookie_pair pair;
    while (count < CRUMB_COOKIE_PAIRS_MAX &&
           crumb_cookie_next(header, len, &pos, &pair)) {
        count++;
        if (pair.name_len == name_len &&
            memcmp(pair.name, name, name_len) == 0) {
            if (value != NULL)
                *value = pair.value;
            if (value_len != NULL)
                *value_len = pair.value_len;
            return CRUMB_OK;
        }
    }
    return CRUMB_ENOTFOUND;
}

/*
 * RFC 7230 section 3.2.6, the characters of a token (cookie-name):
 *   tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "."
 *         / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
 */
static int
crumb_cookie_is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
        (c >= 'A' && c <= 'Z'))
        return 1;
    switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*':
    case '+': case '-': case '.': case '^': case '_': case '`': case '|':
    case '~':
        return 1;
    }
    return 0;
}

/* RFC 6265: cookie-octet = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E */
static int
crumb_cookie_is_octet(unsigned char c)
{
    return c == 0x21 || (c >= 0x23 && c <= 0x2b) || (c >= 0x2d && c <= 0x3a) ||
           (c >= 0x3c && c <= 0x5b) || (c >= 0x5d && c <= 0x7e);
}

/* A domain: letters, digits, '-', '.', '_'; a leading '.' is kept. */
static int
crumb_cookie_is_domain_char(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
           (c >= 'A' && c <= 'Z') || c == '-' || c == '.' || c == '_';
}

/* RFC 6265: path-value = <any CHAR except CTLs or ";">, CHAR being ASCII. */
static int
crumb_cookie_is_path_char(unsigned char c)
{
    return c >= 0x20 && c < 0x7f && c != ';';
}

/* Character classes for crumb_cookie_all(), one bit per predicate, built
 * once: a table lookup per octet instead of a chain of comparisons (the
 * value check runs over every Set-Cookie crumb writes). */
enum {
    CLS_TCHAR = 1,
    CLS_OCTET = 2,
    CLS_DOMAIN = 4,
    CLS_PATH = 8,
};
static unsigned char cls_table[256];
static pthread_once_t cls_once = PTHREAD_ONCE_INIT;

static void
cls_init(void)
{
    for (unsigned c = 1; c < 256; c++)
        cls_table[c] =
            (unsigned char)((crumb_cookie_is_tchar((unsigned char)c)
                                 ? CLS_TCHAR
                                 : 0) |
                            (crumb_cookie_is_octet((unsigned char)c)
                                 ? CLS_OCTET
                                 : 0) |
                            (crumb_cookie_is_domain_char((unsigned char)c)
                                 ? CLS_DOMAIN
                                 : 0) |
                            (crumb_cookie_is_path_char((unsigned char)c)
                                 ? CLS_PATH
                                 : 0));
}

/* 1 when every octet of @s is in class @cls (NUL ends @s). */
static int
crumb_cookie_all(const char *s, unsigned cls)
{
    pthread_once(&cls_once, cls_init);
    for (; *s != '\0'; s++) {
        if (!(cls_table[(unsigned char)*s] & cls))
            return 0;
    }
    return 1;
}

/* 1 when @s starts with @prefix, ASCII letters compared without case. */
static int
crumb_cookie_has_prefix(const char *s, const char *prefix)
{
    for (; *prefix != '\0'; s++, prefix++) {
        unsigned char a = (unsigned char)*s, b = (unsigned char)*prefix;
        if (a >= 'A' && a <= 'Z')
            a = (unsigned char)(a - 'A' + 'a');
        if (b >= 'A' && b <= 'Z')
            b = (unsigned char)(b - 'A' + 'a');
        if (a != b)
            return 0;
    }
    return 1;
}

/* 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z: IMF-fixdate has 4DIGIT. */
#define CRUMB_COOKIE_EXPIRES_MIN (-62135596800LL)
#define CRUMB_COOKIE_EXPIRES_MAX 253402300799LL
#define CRUMB_COOKIE_DATE_LEN 29

/*
 * RFC 7231 section 7.1.1.1, the date written after Expires=:
 *   IMF-fixdate = day-name "," SP date1 SP time-of-day SP GMT
 *   date1       = day SP month SP year   ; e.g., 02 Jun 1982
 *   time-of-day = hour ":" minute ":" second
 * English names, whatever the locale. Converts days since 1970-01-01 to a
 * proleptic Gregorian date by counting 400-year eras from 0000-03-01, so
 * that the leap day falls at the end of each counted year. @t must lie in
 * [CRUMB_COOKIE_EXPIRES_MIN, CRUMB_COOKIE_EXPIRES_MAX]; writes exactly
 * CRUMB_COOKIE_DATE_LEN characters, no NUL.
 */
static void
crumb_cookie_imf_date(int64_t t, char *out)
{
    static const char wdays[] = "SunMonTueWedThuFriSat";
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

    int64_t days = t / 86400, secs = t % 86400;
    if (secs < 0) {
        secs += 86400;
        days--;
    }
    int wday = (int)(((days % 7) + 11) % 7); /* 1970-01-01 was a Thursday */

    int64_t z = days + 719468; /* days since 0000-03-01; >= 0 in range */
    int64_t era = z / 146097;
    int64_t doe = z - era * 146097; /* [0, 146096] */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100); /* [0, 365] */
    int64_t mp = (5 * doy + 2) / 153;                      /* March = 0 */
    int mday = (int)(doy - (153 * mp + 2) / 5 + 1);
    int mon = (int)(mp < 10 ? mp + 2 : mp - 10); /* Jan = 0 */
    int year = (int)(yoe + era * 400 + (mon < 2));
    int hour = (int)(secs / 3600), min = (int)(secs / 60 % 60);
    int sec = (int)(secs % 60);

    memcpy(out, wdays + 3 * wday, 3);
    out[3] = ',';
    out[4] = ' ';
    out[5] = (char)('0' + mday / 10);
    out[6] = (char)('0' + mday % 10);
    out[7] = ' ';
    memcpy(out + 8, months + 3 * mon, 3);
    out[11] = ' ';
    out[12] = (char)('0' + year / 1000);
    out[13] = (char)('0' + year / 100 % 10);
    out[14] = (char)('0' + year / 10 % 10);
    out[15] = (char)('0' + year % 10);
    out[16] = ' ';
    out[17] = (char)('0' + hour / 10);
    out[18] = (char)('0' + hour % 10);
    out[19] = ':';
    out[20] = (char)('0' + min / 10);
    out[21] = (char)('0' + min % 10);
    out[22] = ':';
    out[23] = (char)('0' + sec / 10);
    out[24] = (char)('0' + sec % 10);
    memcpy(out + 25, " GMT", 4);
}

/*
 * The header under construction. The formatter runs twice: first with buf
 * NULL, only counting, then into a buffer of exactly that size.
 */
typedef struct crumb_cookie_out {
    char *buf;
    size_t len;
    int overflow;
} crumb_cookie_out;

static void
crumb_cookie_put(crumb_cookie_out *o, const char *s, size_t n)
{
    if (n > SIZE_MAX - 1 - o->len) {
        o->overflow = 1;
        return;
    }
    if (o->buf != NULL)
        memcpy(o->buf + o->len, s, n);
    o->len += n;
}

static void
crumb_cookie_puts(crumb_cookie_out *o, const char *s)
{
    crumb_cookie_put(o, s, strlen(s));
}

static void
crumb_cookie_put_u64(crumb_cookie_out *o, uint64_t v)
{
    char digits[20];
    size_t n = sizeof digits;
    do {
        digits[--n] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    crumb_cookie_put(o, digits + n, sizeof digits - n);
}

/*
 * RFC 6265 section 4.1.1 (with SameSite from RFC 6265bis and Partitioned
 * from CHIPS):
 *   set-cookie-string = cookie-pair *( ";" SP cookie-av )
 *   cookie-av         = expires-av / max-age-av / domain-av / path-av /
 *                       secure-av / httponly-av / extension-av
 *   expires-av        = "Expires=" sane-cookie-date
 *   max-age-av        = "Max-Age=" non-zero-digit *DIGIT
 *   domain-av         = "Domain=" domain-value
 *   path-av           = "Path=" path-value
 * Max-Age=0 is written for a deletion, as werkzeug and every browser
 * accept it although the grammar asks for a non-zero digit.
 */
static void
crumb_cookie_emit(const crumb_setcookie *c, const char *value, const char *path,
                  crumb_cookie_out *o)
{
    static const char *const samesite[] = {"Lax", "Strict", "None"};

    crumb_cookie_puts(o, c->name);
    crumb_cookie_put(o, "=", 1);
    crumb_cookie_puts(o, value);
    if (c->domain != NULL && c->domain[0] != '\0') {
        crumb_cookie_puts(o, "; Domain=");
        crumb_cookie_puts(o, c->domain);
    }
    if (c->has_expires) {
        char date[CRUMB_COOKIE_DATE_LEN];
        crumb_cookie_imf_date(c->expires, date);
        crumb_cookie_puts(o, "; Expires=");
        crumb_cookie_put(o, date, sizeof date);
    }
    if (c->has_max_age) {
        crumb_cookie_puts(o, "; Max-Age=");
        crumb_cookie_put_u64(o, c->max_age > 0 ? (uint64_t)c->max_age : 0);
    }
    if (c->secure)
        crumb_cookie_puts(o, "; Secure");
    if (c->httponly)
        crumb_cookie_puts(o, "; HttpOnly");
    crumb_cookie_puts(o, "; Path=");
    crumb_cookie_puts(o, path);
    if (c->samesite != CRUMB_SAMESITE_OMIT) {
        crumb_cookie_puts(o, "; SameSite=");
        crumb_cookie_puts(o, samesite[c->samesite]);
    }
    if (c->partitioned)
        crumb_cookie_puts(o, "; Partitioned");
}

/* CRUMB_OK when @c may be written, CRUMB_EINVAL otherwise. */
static int
crumb_setcookie_check(const crumb_setcookie *c, const char *value,
                      const char *path)
{
    if (c->name == NULL || c->name[0] == '\0' ||
        !crumb_cookie_all(c->name, CLS_TCHAR))
        return CRUMB_EINVAL;
    if (!crumb_cookie_all(value, CLS_OCTET))
        return CRUMB_EINVAL;
    if (c->domain != NULL &&
        !crumb_cookie_all(c->domain, CLS_DOMAIN))
        return CRUMB_EINVAL;
    if (!crumb_cookie_all(path, CLS_PATH))
        return CRUMB_EINVAL;
    if (c->has_expires && (c->expires < CRUMB_COOKIE_EXPIRES_MIN ||
                           c->expires > CRUMB_COOKIE_EXPIRES_MAX))
        return CRUMB_EINVAL;
    if (c->samesite != CRUMB_SAMESITE_LAX &&
        c->samesite != CRUMB_SAMESITE_STRICT &&
        c->samesite != CRUMB_SAMESITE_NONE &&
        c->samesite != CRUMB_SAMESITE_OMIT)
        return CRUMB_EINVAL;
    if ((c->samesite == CRUMB_SAMESITE_NONE || c->partitioned) && !c->secure)
        return CRUMB_EINVAL;
    if (crumb_cookie_has_prefix(c->name, "__Secure-") && !c->secure)
        return CRUMB_EINVAL;
    if (crumb_cookie_has_prefix(c->name, "__Host-") &&
        (!c->secure || (c->domain != NULL && c->domain[0] != '\0') ||
         strcmp(path, "/") != 0))
        return CRUMB_EINVAL;
    return CRUMB_OK;
}

int
crumb_setcookie_format(const crumb_setcookie *c, char **out, size_t *outlen)
{
    if (out == NULL)
        return CRUMB_EINVAL;
    *out = NULL;
    if (outlen != NULL)
        *outlen = 0;
    if (c == NULL)
        return CRUMB_EINVAL;

    const char *value = c->value != NULL ? c->value : "";
    const char *path = c->path != NULL ? c->path : "/";
    int rc = crumb_setcookie_check(c, value, path);
    if (rc != CRUMB_OK)
        return rc;

    crumb_cookie_out o = {NULL, 0, 0};
    crumb_cookie_emit(c, value, path, &o);
    if (o.overflow)
        return CRUMB_ENOMEM;
    size_t len = o.len;
    o.buf = malloc(len + 1);
    if (o.buf == NULL)
        return CRUMB_ENOMEM;
    o.len = 0;
    crumb_cookie_emit(c, value, path, &o);
    o.buf[len] = '\0';
    *out = o.buf;
    if (outlen != NULL)
        *outlen = len;
    return CRUMB_OK;
}
