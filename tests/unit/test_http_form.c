/* test_http_form.c - percent-decoding, UTF-8 checks, url-encoded forms. */
#include <crumb/error.h>

#include "http_int.h"
#include "test.h"

static int
dec(const char *in, char *out)
{
    return crumb__pct_decode(in, strlen(in), 1, out, NULL);
}

TEST(test_decode_ok)
{
    char out[64];
    CHECK_RC(dec("a%20b+c", out), CRUMB_OK);
    CHECK_STR(out, "a b c");
    CHECK_RC(dec("%2Fdashboard", out), CRUMB_OK);
    CHECK_STR(out, "/dashboard");
    CHECK_RC(dec("%c3%a9t%C3%A9", out), CRUMB_OK);
    CHECK_STR(out, "\xc3\xa9t\xc3\xa9");
    CHECK_RC(dec("", out), CRUMB_OK);
    CHECK_STR(out, "");
    CHECK_RC(crumb__pct_decode("a+b", 3, 0, out, NULL), CRUMB_OK);
    CHECK_STR(out, "a+b");
}

TEST(test_decode_malformed)
{
    char out[64];
    CHECK_RC(dec("%", out), CRUMB_EMALFORMED);
    CHECK_RC(dec("%4", out), CRUMB_EMALFORMED);
    CHECK_RC(dec("%zz", out), CRUMB_EMALFORMED);
    CHECK_RC(dec("a%g1", out), CRUMB_EMALFORMED);
    CHECK_RC(dec("%00", out), CRUMB_EMALFORMED);
    CHECK_RC(dec("%ff", out), CRUMB_EMALFORMED);        /* not UTF-8 */
    CHECK_RC(dec("%c3", out), CRUMB_EMALFORMED);        /* truncated */
    CHECK_RC(dec("%c0%af", out), CRUMB_EMALFORMED);     /* overlong */
    CHECK_RC(dec("%ed%a0%80", out), CRUMB_EMALFORMED);  /* surrogate */
    CHECK_RC(dec("%f4%90%80%80", out), CRUMB_EMALFORMED); /* > U+10FFFF */
}

TEST(test_utf8)
{
    CHECK(crumb__utf8_valid((const unsigned char *)"plain", 5));
    CHECK(crumb__utf8_valid((const unsigned char *)"\xe2\x82\xac", 3));
    CHECK(crumb__utf8_valid((const unsigned char *)"\xf0\x9f\x8d\xaa", 4));
    CHECK(!crumb__utf8_valid((const unsigned char *)"\xe2\x82", 2));
    CHECK(!crumb__utf8_valid((const unsigned char *)"\x80", 1));
    CHECK(!crumb__utf8_valid((const unsigned char *)"\xe0\x80\xaf", 3));
    CHECK(!crumb__utf8_valid((const unsigned char *)"\xf8\x88\x80\x80\x80",
                             5));
}

TEST(test_form_parse)
{
    crumb__kvlist l = {0};
    const char *body = "username=bob&password=p%40ss+word&&remember&"
                       "next=%2Fdashboard&username=eve&empty=";
    CHECK_RC(crumb__form_parse(body, strlen(body), &l), CRUMB_OK);
    CHECK_INT(l.n, ==, 6);
    CHECK_STR(crumb__kv_get(&l, "username"), "bob");
    CHECK_STR(crumb__kv_get(&l, "password"), "p@ss word");
    CHECK_STR(crumb__kv_get(&l, "remember"), "");
    CHECK_STR(crumb__kv_get(&l, "next"), "/dashboard");
    CHECK_STR(crumb__kv_get(&l, "empty"), "");
    CHECK(crumb__kv_get(&l, "missing") == NULL);
    crumb__kv_cleanup(&l);
}

TEST(test_form_malformed)
{
    crumb__kvlist l = {0};
    CHECK_RC(crumb__form_parse("a=%zz", 5, &l), CRUMB_EMALFORMED);
    crumb__kv_cleanup(&l);
    CHECK_RC(crumb__form_parse("a%=1", 4, &l), CRUMB_EMALFORMED);
    crumb__kv_cleanup(&l);
    CHECK_RC(crumb__form_parse("a=%ff%fe", 8, &l), CRUMB_EMALFORMED);
    crumb__kv_cleanup(&l);
    /* a NUL byte inside the body is malformed, not a terminator */
    CHECK_RC(crumb__form_parse("a=1\0b=2", 7, &l), CRUMB_EMALFORMED);
    crumb__kv_cleanup(&l);
}

TEST(test_form_too_many_fields)
{
    char body[4096] = "";
    size_t o = 0;
    for (int i = 0; i < CRUMB__FORM_FIELDS_MAX + 1; i++)
        o += (size_t)snprintf(body + o, sizeof(body) - o, "f%d=1&", i);
    crumb__kvlist l = {0};
    CHECK_RC(crumb__form_parse(body, o, &l), CRUMB_ETOOBIG);
    crumb__kv_cleanup(&l);
}

int
main(void)
{
    TEST_BEGIN();
    RUN(test_decode_ok);
    RUN(test_decode_malformed);
    RUN(test_utf8);
    RUN(test_form_parse);
    RUN(test_form_malformed);
    RUN(test_form_too_many_fields);
    return TEST_END();
}
