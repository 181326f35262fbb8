/* test_cookie.c - unit tests for Cookie parsing and Set-Cookie formatting. */
#include <crumb/cookie.h>
#include <crumb/error.h>

#include "test.h"

/*
 * An exact-size heap copy of @s without its NUL, so that ASan reports any
 * read past the end of the header. Free with free().
 */
static char *
dup_exact(const char *s, size_t *len)
{
    *len = strlen(s);
    char *p = malloc(*len ? *len : 1);
    if (p == NULL)
        T_FAIL_("out of memory");
    memcpy(p, s, *len);
    return p;
}

/* Parses @s (copied to an exact-size buffer) and returns the count. */
static int
parse(const char *s, crumb_cookie_pair *pairs, size_t max, char **keep)
{
    size_t len;
    char *h = dup_exact(s, &len);
    *keep = h;
    return crumb_cookie_parse(h, len, pairs, max);
}

#define CHECK_PAIR(pair, n, v)                                                 \
    do {                                                                       \
        CHECK_MEM((pair).name, (pair).name_len, (n), strlen(n));               \
        CHECK_MEM((pair).value, (pair).value_len, (v), strlen(v));             \
    } while (0)

/* crumb_cookie_get on an exact-size copy of @h; @want NULL: not found. */
static void
check_get(const char *h, const char *name, const char *want)
{
    size_t len;
    char *buf = dup_exact(h, &len);
    const char *v = NULL;
    size_t vlen = 0;
    int rc = crumb_cookie_get(buf, len, name, &v, &vlen);
    if (want == NULL) {
        CHECK_RC(rc, CRUMB_ENOTFOUND);
    } else {
        CHECK_RC(rc, CRUMB_OK);
        CHECK_MEM(v, vlen, want, strlen(want));
        CHECK(v >= buf && v + vlen <= buf + len);
    }
    free(buf);
}

TEST(parse_several)
{
    crumb_cookie_pair p[8];
    char *h;
    CHECK_INT(parse("a=1; b=2; session=abc.def", p, 8, &h), ==, 3);
    CHECK_PAIR(p[0], "a", "1");
    CHECK_PAIR(p[1], "b", "2");
    CHECK_PAIR(p[2], "session", "abc.def");
    free(h);
}

TEST(parse_missing_spaces_and_extra_whitespace)
{
    crumb_cookie_pair p[8];
    char *h;
    CHECK_INT(parse("a=1;b=2;  c = 3 ;\td\t=\t4\t", p, 8, &h), ==, 4);
    CHECK_PAIR(p[0], "a", "1");
    CHECK_PAIR(p[1], "b", "2");
    CHECK_PAIR(p[2], "c", "3");
    CHECK_PAIR(p[3], "d", "4");
    free(h);
}

TEST(parse_quoted)
{
    crumb_cookie_pair p[8];
    char *h;
    CHECK_INT(parse("a=\"x y\"; b=\"\"; c=\"; d=\"\\073\"; e=\"q", p, 8, &h),
              ==, 5);
    CHECK_PAIR(p[0], "a", "x y");
    CHECK_PAIR(p[1], "b", "");
    CHECK_PAIR(p[2], "c", "\"");    /* one quote is not a quoted value */
    CHECK_PAIR(p[3], "d", "\\073"); /* escapes are not decoded */
    CHECK_PAIR(p[4], "e", "\"q");
    free(h);
}

TEST(parse_stray_semicolons)
{
    crumb_cookie_pair p[8];
    char *h;
    CHECK_INT(parse(";; a=1;;; ;b=2;", p, 8, &h), ==, 2);
    CHECK_PAIR(p[0], "a", "1");
    CHECK_PAIR(p[1], "b", "2");
    free(h);
}

TEST(parse_empty_and_only_separators)
{
    crumb_cookie_pair p[4];
    char *h;
    CHECK_INT(parse("", p, 4, &h), ==, 0);
    free(h);
    CHECK_INT(parse(";", p, 4, &h), ==, 0);
    free(h);
    CHECK_INT(parse(" ; ;\t;", p, 4, &h), ==, 0);
    free(h);
    CHECK_INT(crumb_cookie_parse(NULL, 0, NULL, 0), ==, 0);
    CHECK_RC(crumb_cookie_parse(NULL, 1, p, 4), CRUMB_EINVAL);
    CHECK_RC(crumb_cookie_parse("a=1", 3, NULL, 4), CRUMB_EINVAL);
}

TEST(parse_junk_pairs_skipped)
{
    crumb_cookie_pair p[8];
    char *h;
    /* no '=', empty name, name of spaces, then good ones */
    CHECK_INT(parse("junk; =e; = ; a=1; noval ;b=", p, 8, &h), ==, 2);
    CHECK_PAIR(p[0], "a", "1");
    CHECK_PAIR(p[1], "b", "");
    free(h);
}

TEST(parse_value_with_equals)
{
    crumb_cookie_pair p[4];
    char *h;
    CHECK_INT(parse("f=g=h; x===", p, 4, &h), ==, 2);
    CHECK_PAIR(p[0], "f", "g=h");
    CHECK_PAIR(p[1], "x", "==");
    free(h);
}

TEST(parse_controls_refused)
{
    crumb_cookie_pair p[8];
    char *h;
    size_t len = 0;
    /* NUL, CR, LF, DEL, vertical tab, a tab inside a value */
    static const char raw[] = "a=1\0x; b\r=2; c=3\n; d=\x7f; e=\v; f=a\tb; "
                              "g\x01=1; ok=yes";
    h = malloc(sizeof raw - 1);
    CHECK(h != NULL);
    memcpy(h, raw, sizeof raw - 1);
    len = sizeof raw - 1;
    CHECK_INT(crumb_cookie_parse(h, len, p, 8), ==, 1);
    CHECK_PAIR(p[0], "ok", "yes");
    free(h);
}

TEST(parse_separators_in_names)
{
    static const char *const bad[] = {
        "a(b=1", "a)b=1",  "a<b=1",  "a>b=1", "a@b=1", "a,b=1",
        "a:b=1", "a\\b=1", "a\"b=1", "a/b=1", "a[b=1", "a]b=1",
        "a?b=1", "a{b=1",  "a}b=1",  "a b=1", "a\tb=1"};
    crumb_cookie_pair p[2];
    char *h;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (parse(bad[i], p, 2, &h) != 0)
            T_FAIL_("\"%s\" was accepted", bad[i]);
        free(h);
    }
    /* token characters and UTF-8 are fine in names */
    CHECK_INT(parse("!#$%&'*+-.^_`|~=1; caf\xc3\xa9=2", p, 2, &h), ==, 2);
    CHECK_PAIR(p[0], "!#$%&'*+-.^_`|~", "1");
    CHECK_PAIR(p[1], "caf\xc3\xa9", "2");
    free(h);
}

TEST(parse_values_lenient)
{
    crumb_cookie_pair p[4];
    char *h;
    /* space, comma, backslash, UTF-8 are not cookie-octets but browsers
     * send them; werkzeug keeps them too */
    CHECK_INT(parse("a=x y; b=1,2; c=\\; d=\xe2\x82\xac", p, 4, &h), ==, 4);
    CHECK_PAIR(p[0], "a", "x y");
    CHECK_PAIR(p[1], "b", "1,2");
    CHECK_PAIR(p[2], "c", "\\");
    CHECK_PAIR(p[3], "d", "\xe2\x82\xac");
    free(h);
}

TEST(parse_count_past_max)
{
    crumb_cookie_pair p[2];
    char *h;
    memset(p, 0, sizeof p);
    CHECK_INT(parse("a=1; b=2; c=3; d=4", p, 2, &h), ==, 4);
    CHECK_PAIR(p[0], "a", "1");
    CHECK_PAIR(p[1], "b", "2");
    free(h);
    CHECK_INT(parse("a=1; b=2; c=3", NULL, 0, &h), ==, 3);
    free(h);
}

TEST(parse_pairs_max)
{
    /* 200 pairs: only CRUMB_COOKIE_PAIRS_MAX are seen, by get too */
    char buf[200 * 12];
    size_t len = 0;
    for (int i = 0; i < 200; i++)
        len += (size_t)snprintf(buf + len, sizeof buf - len, "k%d=%d; ", i, i);
    char *h = malloc(len);
    CHECK(h != NULL);
    memcpy(h, buf, len);
    crumb_cookie_pair p[256];
    CHECK_INT(crumb_cookie_parse(h, len, p, 256), ==, CRUMB_COOKIE_PAIRS_MAX);
    CHECK_PAIR(p[127], "k127", "127");
    const char *v;
    size_t vlen;
    CHECK_RC(crumb_cookie_get(h, len, "k127", &v, &vlen), CRUMB_OK);
    CHECK_RC(crumb_cookie_get(h, len, "k128", &v, &vlen), CRUMB_ENOTFOUND);
    free(h);
}

TEST(parse_oversized)
{
    size_t len = CRUMB_COOKIE_HEADER_MAX + 1;
    char *h = malloc(len);
    CHECK(h != NULL);
    memset(h, 'a', len);
    h[1] = '=';
    crumb_cookie_pair p[1];
    const char *v;
    size_t vlen;
    CHECK_RC(crumb_cookie_parse(h, len, p, 1), CRUMB_ETOOBIG);
    CHECK_RC(crumb_cookie_get(h, len, "a", &v, &vlen), CRUMB_ETOOBIG);
    /* exactly the maximum is fine */
    CHECK_INT(crumb_cookie_parse(h, len - 1, p, 1), ==, 1);
    CHECK_INT(p[0].value_len, ==, len - 3);
    CHECK_RC(crumb_cookie_get(h, len - 1, "a", &v, &vlen), CRUMB_OK);
    free(h);
}

TEST(parse_exact_length_buffers)
{
    /* every prefix of a header, each in its own exact-size buffer */
    static const char full[] = "a=1; b=\"q\" ; c= 3;d";
    for (size_t n = 0; n < sizeof full; n++) {
        char *h = malloc(n ? n : 1);
        CHECK(h != NULL);
        memcpy(h, full, n);
        crumb_cookie_pair p[4];
        int count = crumb_cookie_parse(h, n, p, 4);
        CHECK(count >= 0 && count <= 3);
        for (int i = 0; i < count; i++) {
            CHECK(p[i].name >= h && p[i].name + p[i].name_len <= h + n);
            CHECK(p[i].value >= h && p[i].value + p[i].value_len <= h + n);
        }
        const char *v;
        size_t vlen;
        int rc = crumb_cookie_get(h, n, "c", &v, &vlen);
        CHECK(rc == CRUMB_OK || rc == CRUMB_ENOTFOUND);
        free(h);
    }
    /* a trailing quote or space is not read past */
    check_get("a=\"", "a", "\"");
    check_get("a= ", "a", "");
    check_get("a=", "a", "");
}

TEST(get_first_wins)
{
    check_get("session=new; other=1; session=old", "session", "new");
    check_get("a=1; a=2; a=3", "a", "1");
    check_get("junk; a; a=2", "a", "2");
}

TEST(get_exact_name)
{
    check_get("Session=1; session_x=2; xsession=3", "session", NULL);
    check_get("session_x=2; session=4", "session", "4");
    check_get("a=1", "A", NULL);
    check_get("", "a", NULL);
    check_get(" sp = \"v\" ", "sp", "v");
    const char *v;
    size_t vlen;
    CHECK_RC(crumb_cookie_get("a=1", 3, NULL, &v, &vlen), CRUMB_EINVAL);
    CHECK_RC(crumb_cookie_get(NULL, 0, "a", &v, &vlen), CRUMB_ENOTFOUND);
    CHECK_RC(crumb_cookie_get("a=1", 3, "a", NULL, NULL), CRUMB_OK);
}

TEST(get_skips_refused_pairs)
{
    /* a refused pair does not hide a later good one of the same name */
    check_get("a=\x01; a=2", "a", "2");
    check_get("a b=1; b=2", "a b", NULL);
}

/* Formats @c and compares with @want; @want NULL expects CRUMB_EINVAL. */
static void
check_format(const crumb_setcookie *c, const char *want)
{
    char *out = (char *)"sentinel";
    size_t len = 12345;
    int rc = crumb_setcookie_format(c, &out, &len);
    if (want == NULL) {
        CHECK_RC(rc, CRUMB_EINVAL);
        CHECK(out == NULL);
        CHECK_INT(len, ==, 0);
        return;
    }
    CHECK_RC(rc, CRUMB_OK);
    CHECK_STR(out, want);
    CHECK_INT(len, ==, strlen(want));
    free(out);
}

static crumb_setcookie
sc(const char *name, const char *value)
{
    crumb_setcookie c;
    memset(&c, 0, sizeof c);
    c.name = name;
    c.value = value;
    c.samesite = CRUMB_SAMESITE_LAX;
    return c;
}

/*
 * Expected strings below marked "werkzeug" come from werkzeug 3.1.8's
 * werkzeug.http.dump_cookie with the same arguments (generated once).
 */
TEST(format_flask_session)
{
    /* werkzeug: dump_cookie("session", "eyJhIjoxfQ.Zx8_aQ.abc-DEF_123",
     * httponly=True, samesite="Lax") */
    crumb_setcookie c = sc("session", "eyJhIjoxfQ.Zx8_aQ.abc-DEF_123");
    c.httponly = 1;
    check_format(&c, "session=eyJhIjoxfQ.Zx8_aQ.abc-DEF_123; HttpOnly; "
                     "Path=/; SameSite=Lax");
}

TEST(format_deletion)
{
    /* werkzeug: dump_cookie("session", "", expires=0, max_age=0,
     * httponly=True, samesite="Lax") */
    crumb_setcookie c = sc("session", NULL);
    c.has_expires = 1;
    c.expires = 0;
    c.has_max_age = 1;
    c.max_age = 0;
    c.httponly = 1;
    check_format(&c, "session=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; "
                     "Max-Age=0; HttpOnly; Path=/; SameSite=Lax");
}

TEST(format_every_attribute)
{
    /* werkzeug: dump_cookie("id", "a=b", domain="example.com",
     * expires=1700000000, max_age=3600, secure=True, path="/app",
     * samesite="None") */
    crumb_setcookie c = sc("id", "a=b");
    c.domain = "example.com";
    c.has_expires = 1;
    c.expires = 1700000000;
    c.has_max_age = 1;
    c.max_age = 3600;
    c.secure = 1;
    c.path = "/app";
    c.samesite = CRUMB_SAMESITE_NONE;
    check_format(&c, "id=a=b; Domain=example.com; "
                     "Expires=Tue, 14 Nov 2023 22:13:20 GMT; Max-Age=3600; "
                     "Secure; Path=/app; SameSite=None");
    c.httponly = 1;
    c.partitioned = 1;
    check_format(&c, "id=a=b; Domain=example.com; "
                     "Expires=Tue, 14 Nov 2023 22:13:20 GMT; Max-Age=3600; "
                     "Secure; HttpOnly; Path=/app; SameSite=None; "
                     "Partitioned");
}

TEST(format_host_prefix)
{
    /* werkzeug: dump_cookie("__Host-sid", "abc", secure=True,
     * httponly=True, samesite="Strict", partitioned=True) */
    crumb_setcookie c = sc("__Host-sid", "abc");
    c.secure = 1;
    c.httponly = 1;
    c.samesite = CRUMB_SAMESITE_STRICT;
    c.partitioned = 1;
    check_format(&c, "__Host-sid=abc; Secure; HttpOnly; Path=/; "
                     "SameSite=Strict; Partitioned");
    c.path = "/";
    c.domain = "";
    check_format(&c, "__Host-sid=abc; Secure; HttpOnly; Path=/; "
                     "SameSite=Strict; Partitioned");

    crumb_setcookie bad = sc("__Host-sid", "abc");
    check_format(&bad, NULL); /* no Secure */
    bad.secure = 1;
    bad.domain = "example.com";
    check_format(&bad, NULL); /* a Domain */
    bad.domain = NULL;
    bad.path = "/app";
    check_format(&bad, NULL); /* a Path other than / */
    bad.path = "";
    check_format(&bad, NULL);
    bad = sc("__host-sid", "abc"); /* prefixes match without case */
    check_format(&bad, NULL);
}

TEST(format_secure_prefix)
{
    crumb_setcookie c = sc("__Secure-id", "1");
    check_format(&c, NULL);
    c.name = "__SECURE-id";
    check_format(&c, NULL);
    c.secure = 1;
    c.domain = "example.com";
    c.path = "/x";
    check_format(&c, "__SECURE-id=1; Domain=example.com; Secure; Path=/x; "
                     "SameSite=Lax");
    /* not a prefix */
    c = sc("__Secure", "1");
    check_format(&c, "__Secure=1; Path=/; SameSite=Lax");
}

TEST(format_samesite)
{
    crumb_setcookie c = sc("a", "1");
    check_format(&c, "a=1; Path=/; SameSite=Lax");
    c.samesite = CRUMB_SAMESITE_STRICT;
    check_format(&c, "a=1; Path=/; SameSite=Strict");
    c.samesite = CRUMB_SAMESITE_OMIT;
    check_format(&c, "a=1; Path=/");
    c.samesite = CRUMB_SAMESITE_NONE;
    check_format(&c, NULL); /* None needs Secure */
    c.secure = 1;
    check_format(&c, "a=1; Secure; Path=/; SameSite=None");
    c.samesite = (crumb_samesite)42;
    check_format(&c, NULL);
    c.samesite = (crumb_samesite)-1;
    check_format(&c, NULL);
}

TEST(format_partitioned_needs_secure)
{
    crumb_setcookie c = sc("a", "1");
    c.partitioned = 1;
    check_format(&c, NULL);
    c.secure = 1;
    check_format(&c, "a=1; Secure; Path=/; SameSite=Lax; Partitioned");
}

TEST(format_domain)
{
    crumb_setcookie c = sc("a", "1");
    c.domain = ".example.com"; /* kept; werkzeug drops the dot */
    check_format(&c, "a=1; Domain=.example.com; Path=/; SameSite=Lax");
    c.domain = "localhost";
    check_format(&c, "a=1; Domain=localhost; Path=/; SameSite=Lax");
    c.domain = ""; /* like NULL: host-only */
    check_format(&c, "a=1; Path=/; SameSite=Lax");
    static const char *const bad[] = {
        "a.com; Secure",  "a.com\r\nX: y", "a b.com", "a.com:80",
        "caf\xc3\xa9.fr", "a.com\x7f",     "a,b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        c.domain = bad[i];
        check_format(&c, NULL);
    }
}

TEST(format_path)
{
    crumb_setcookie c = sc("a", "1");
    c.path = "/a b/%20/x=y";
    check_format(&c, "a=1; Path=/a b/%20/x=y; SameSite=Lax");
    c.path = "";
    check_format(&c, "a=1; Path=; SameSite=Lax");
    static const char *const bad[] = {"/;Secure", "/\r\n", "/\t", "/\x7f",
                                      "/caf\xc3\xa9"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        c.path = bad[i];
        check_format(&c, NULL);
    }
}

TEST(format_name_refusals)
{
    static const char *const bad[] = {
        "",    "a b", "a=b",  "a;b", "a,b", "a\"b",        "a\r",
        "a\n", "a\t", "a(b)", "a/b", "a@b", "caf\xc3\xa9", "a\x7f",
        "[a]", "a:b", "{a}",  "a?",  "a\\"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        crumb_setcookie c = sc(bad[i], "1");
        check_format(&c, NULL);
    }
    crumb_setcookie c = sc(NULL, "1");
    check_format(&c, NULL);
    c = sc("!#$%&'*+-.^_`|~09azAZ", "1");
    check_format(&c, "!#$%&'*+-.^_`|~09azAZ=1; Path=/; SameSite=Lax");
}

TEST(format_value_refusals)
{
    static const char *const bad[] = {"a b",
                                      "a;b",
                                      "a,b",
                                      "a\"b",
                                      "\"ab\"",
                                      "a\\b",
                                      "a\r\nSet-Cookie: x=y",
                                      "a\tb",
                                      "a\x7f",
                                      "\xc3\xa9"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        crumb_setcookie c = sc("a", bad[i]);
        check_format(&c, NULL);
    }
    crumb_setcookie c = sc("a", "!#$%&'()*+-./09:<=>?@AZ[]^_`az{|}~");
    check_format(&c, "a=!#$%&'()*+-./09:<=>?@AZ[]^_`az{|}~; Path=/; "
                     "SameSite=Lax");
}

TEST(format_max_age)
{
    crumb_setcookie c = sc("a", "1");
    c.has_max_age = 1;
    c.max_age = -5; /* written as 0 */
    check_format(&c, "a=1; Max-Age=0; Path=/; SameSite=Lax");
    c.max_age = INT64_MIN;
    check_format(&c, "a=1; Max-Age=0; Path=/; SameSite=Lax");
    c.max_age = INT64_MAX;
    check_format(&c, "a=1; Max-Age=9223372036854775807; Path=/; "
                     "SameSite=Lax");
    c.max_age = 1209600;
    check_format(&c, "a=1; Max-Age=1209600; Path=/; SameSite=Lax");
    /* max_age is ignored without has_max_age, expires likewise */
    c.has_max_age = 0;
    c.expires = 99;
    check_format(&c, "a=1; Path=/; SameSite=Lax");
}

TEST(format_expires_dates)
{
    /* Python's datetime: (epoch + timedelta(seconds=t)).strftime(
     * "%a, %d %b %Y %H:%M:%S GMT"), year 1 zero-padded by hand */
    static const struct {
        int64_t t;
        const char *date;
    } v[] = {
        {0LL, "Thu, 01 Jan 1970 00:00:00 GMT"},
        {-1LL, "Wed, 31 Dec 1969 23:59:59 GMT"},
        {86399LL, "Thu, 01 Jan 1970 23:59:59 GMT"},
        {86400LL, "Fri, 02 Jan 1970 00:00:00 GMT"},
        {-86400LL, "Wed, 31 Dec 1969 00:00:00 GMT"},
        {951782399LL, "Mon, 28 Feb 2000 23:59:59 GMT"},
        {951782400LL, "Tue, 29 Feb 2000 00:00:00 GMT"}, /* werkzeug */
        {951868800LL, "Wed, 01 Mar 2000 00:00:00 GMT"},
        {4107542400LL, "Mon, 01 Mar 2100 00:00:00 GMT"},
        {-2203891200LL, "Thu, 01 Mar 1900 00:00:00 GMT"},
        {-62135596800LL, "Mon, 01 Jan 0001 00:00:00 GMT"},
        {-62130499200LL, "Thu, 01 Mar 0001 00:00:00 GMT"},
        {253402300799LL, "Fri, 31 Dec 9999 23:59:59 GMT"}, /* werkzeug */
        {1700000000LL, "Tue, 14 Nov 2023 22:13:20 GMT"},
        {2147483647LL, "Tue, 19 Jan 2038 03:14:07 GMT"},
        {2147483648LL, "Tue, 19 Jan 2038 03:14:08 GMT"},
        {-12219292800LL, "Fri, 15 Oct 1582 00:00:00 GMT"},
        {68256000000LL, "Fri, 12 Dec 4132 00:00:00 GMT"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        crumb_setcookie c = sc("x", "1");
        c.has_expires = 1;
        c.expires = v[i].t;
        c.samesite = CRUMB_SAMESITE_OMIT;
        char want[80];
        snprintf(want, sizeof want, "x=1; Expires=%s; Path=/", v[i].date);
        check_format(&c, want);
    }
}

TEST(format_expires_range)
{
    crumb_setcookie c = sc("x", "1");
    c.has_expires = 1;
    c.expires = -62135596801LL;
    check_format(&c, NULL);
    c.expires = 253402300800LL;
    check_format(&c, NULL);
    c.expires = INT64_MIN;
    check_format(&c, NULL);
    c.expires = INT64_MAX;
    check_format(&c, NULL);
}

TEST(format_bad_arguments)
{
    crumb_setcookie c = sc("a", "1");
    char *out = NULL;
    CHECK_RC(crumb_setcookie_format(&c, NULL, NULL), CRUMB_EINVAL);
    CHECK_RC(crumb_setcookie_format(NULL, &out, NULL), CRUMB_EINVAL);
    CHECK(out == NULL);
    CHECK_RC(crumb_setcookie_format(&c, &out, NULL), CRUMB_OK);
    CHECK_STR(out, "a=1; Path=/; SameSite=Lax");
    free(out);
}

TEST(format_then_parse)
{
    /* what we write as name=value reads back through the parser */
    crumb_setcookie c = sc("session", "eyJ4Ijo.1fQ.Zx8_aQ");
    c.secure = 1;
    char *out;
    size_t len;
    CHECK_RC(crumb_setcookie_format(&c, &out, &len), CRUMB_OK);
    const char *v;
    size_t vlen;
    CHECK_RC(crumb_cookie_get(out, len, "session", &v, &vlen), CRUMB_OK);
    CHECK_MEM(v, vlen, "eyJ4Ijo.1fQ.Zx8_aQ", 18);
    free(out);
}

int
main(void)
{
    TEST_BEGIN();
    RUN(parse_several);
    RUN(parse_missing_spaces_and_extra_whitespace);
    RUN(parse_quoted);
    RUN(parse_stray_semicolons);
    RUN(parse_empty_and_only_separators);
    RUN(parse_junk_pairs_skipped);
    RUN(parse_value_with_equals);
    RUN(parse_controls_refused);
    RUN(parse_separators_in_names);
    RUN(parse_values_lenient);
    RUN(parse_count_past_max);
    RUN(parse_pairs_max);
    RUN(parse_oversized);
    RUN(parse_exact_length_buffers);
    RUN(get_first_wins);
    RUN(get_exact_name);
    RUN(get_skips_refused_pairs);
    RUN(format_flask_session);
    RUN(format_deletion);
    RUN(format_every_attribute);
    RUN(format_host_prefix);
    RUN(format_secure_prefix);
    RUN(format_samesite);
    RUN(format_partitioned_needs_secure);
    RUN(format_domain);
    RUN(format_path);
    RUN(format_name_refusals);
    RUN(format_value_refusals);
    RUN(format_max_age);
    RUN(format_expires_dates);
    RUN(format_expires_range);
    RUN(format_bad_arguments);
    RUN(format_then_parse);
    return TEST_END();
}
