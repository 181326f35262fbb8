/* test_tagjson.c - Flask tagged JSON: Python-exact dumps, tags, HTTP dates. */
#include <crumb/error.h>
#include <crumb/tagjson.h>

#include "test.h"

#ifndef VECTOR_DIR
#define VECTOR_DIR "tests/vectors"
#endif

/* Each line of a vector file without its newline, skipping '#' comments.
 * Returns 0 at the end. */
static int
next_line(FILE *f, char **line, size_t *cap, size_t *len)
{
    ssize_t n;
    while ((n = getline(line, cap, f)) >= 0) {
        if (n > 0 && (*line)[n - 1] == '\n')
            (*line)[--n] = '\0';
        if (n == 0 || (*line)[0] == '#')
            continue;
        *len = (size_t)n;
        return 1;
    }
    return 0;
}

static FILE *
open_vector(const char *name)
{
    char path[512];
    const char *root = getenv("CRUMB_ROOT");
    if (root)
        snprintf(path, sizeof path, "%s/" VECTOR_DIR "/%s", root, name);
    else
        snprintf(path, sizeof path, VECTOR_DIR "/%s", name);
    FILE *f = fopen(path, "r");
    if (!f)
        T_FAIL_("cannot open %s", path);
    return f;
}

static char *
dumps_str(const json_t *v)
{
    char *s = NULL;
    size_t n = 0;
    CHECK_RC(crumb_tagjson_dumps(v, &s, &n), CRUMB_OK);
    CHECK_INT(strlen(s), ==, n);
    return s;
}

static void
check_dumps(json_t *v, const char *want)
{
    CHECK(v != NULL);
    char *s = dumps_str(v);
    CHECK_STR(s, want);
    free(s);
    json_decref(v);
}

static void
check_float(double x, const char *want)
{
    json_t *a = json_pack("[f]", x);
    char buf[64];
    snprintf(buf, sizeof buf, "[%s]", want);
    check_dumps(a, buf);
}

TEST(float_repr_cases)
{
    check_float(1e-05, "1e-05");
    check_float(0.0001, "0.0001");
    check_float(1e16, "1e+16");
    check_float(1234567890123456.0, "1234567890123456.0");
    check_float(1.5e300, "1.5e+300");
    check_float(-0.0, "-0.0");
    check_float(0.0, "0.0");
    check_float(1.0, "1.0");
    check_float(0.1, "0.1");
    check_float(0.1 + 0.2, "0.30000000000000004");
    check_float(-2.5, "-2.5");
    check_float(5e-324, "5e-324");
    check_float(1e22, "1e+22");
    check_float(123456789012345678.0, "1.2345678901234568e+17");
}

TEST(float_repr_vectors)
{
    FILE *f = open_vector("floats.txt");
    char *line = NULL;
    size_t cap = 0, len, count = 0;
    while (next_line(f, &line, &cap, &len)) {
        char *tab = strchr(line, '\t');
        CHECK(tab != NULL);
        *tab = '\0';
        check_float(strtod(line, NULL), tab + 1);
        count++;
    }
    free(line);
    fclose(f);
    CHECK_INT(count, >=, 20);
}

TEST(string_escapes)
{
    check_dumps(json_pack("[s]", "a\"b\\c\b\f\n\r\t/"),
                "[\"a\\\"b\\\\c\\b\\f\\n\\r\\t/\"]");
    check_dumps(json_pack("[s]", "\x01\x1f\x7f"),
                "[\"\\u0001\\u001f\\u007f\"]");
    check_dumps(json_pack("[s]", "\xc3\xa9\xe2\x98\x83\xef\xbf\xbf"),
                "[\"\\u00e9\\u2603\\uffff\"]");
    /* Non-BMP: a lowercase surrogate pair. */
    check_dumps(json_pack("[s]", "\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf"),
                "[\"\\ud83d\\ude00\\udbff\\udfff\"]");
    /* NUL inside a value. */
    check_dumps(json_pack("[s#]", "a\0b", 3), "[\"a\\u0000b\"]");
    check_dumps(json_pack("[s]", ""), "[\"\"]");
}

TEST(invalid_utf8_refused)
{
    json_t *a = json_array();
    json_array_append_new(a, json_stringn_nocheck("\xff", 1));
    char *s = NULL;
    CHECK_RC(crumb_tagjson_dumps(a, &s, NULL), CRUMB_EINVAL);
    json_decref(a);
    a = json_array();
    json_array_append_new(a, json_stringn_nocheck("\xed\xa0\x80", 3));
    CHECK_RC(crumb_tagjson_dumps(a, &s, NULL), CRUMB_EINVAL);
    json_decref(a);
}

TEST(keys_sorted_by_code_point)
{
    check_dumps(json_pack("{s:i,s:i,s:i,s:i,s:i}", "b", 1, "a", 2,
                          "\xc3\xa9", 3, "\xf0\x9f\x98\x80", 4, "B", 5),
                "{\"B\":5,\"a\":2,\"b\":1,\"\\u00e9\":3,"
                "\"\\ud83d\\ude00\":4}");
    /* More keys than fit the stack sort. */
    json_t *o = json_object();
    for (int i = 99; i >= 0; i--) {
        char k[16];
        snprintf(k, sizeof k, "k%02d", i);
        json_object_set_new(o, k, json_integer(i));
    }
    char *s = dumps_str(o);
    CHECK(strncmp(s, "{\"k00\":0,\"k01\":1,", 17) == 0);
    CHECK(strstr(s, "\"k98\":98,\"k99\":99}") != NULL);
    free(s);
    json_decref(o);
    check_dumps(json_pack("{s:{},s:[],s:n,s:b,s:b,s:I}", "e", "a", "n", "t",
                          1, "f", 0, "i", (json_int_t)-9223372036854775807LL
                          - 1),
                "{\"a\":[],\"e\":{},\"f\":false,\"i\":-9223372036854775808,"
                "\"n\":null,\"t\":true}");
}

static json_t *
nested(int levels)
{
    json_t *v = json_integer(1);
    for (int i = 0; i < levels; i++) {
        json_t *a = json_array();
        json_array_append_new(a, v);
        v = a;
    }
    return v;
}

TEST(nesting_limit)
{
    char *s = NULL;
    json_t *ok = nested(511);
    CHECK_RC(crumb_tagjson_dumps(ok, &s, NULL), CRUMB_OK);
    free(s);
    CHECK_RC(crumb_tagjson_check(ok), CRUMB_OK);
    json_decref(ok);
    json_t *deep = nested(600);
    CHECK_RC(crumb_tagjson_dumps(deep, &s, NULL), CRUMB_EINVAL);
    CHECK_RC(crumb_tagjson_check(deep), CRUMB_EMALFORMED);
    json_decref(deep);
}

/* Flask-written JSON reads and writes back byte for byte. */
TEST(flask_vectors_round_trip)
{
    FILE *f = open_vector("tagjson.txt");
    char *line = NULL;
    size_t cap = 0, len, count = 0;
    while (next_line(f, &line, &cap, &len)) {
        json_t *v = NULL;
        CHECK_RC(crumb_tagjson_loads(line, len, &v), CRUMB_OK);
        char *s = dumps_str(v);
        CHECK_STR(s, line);
        free(s);
        json_decref(v);
        count++;
    }
    free(line);
    fclose(f);
    CHECK_INT(count, >=, 15);
}

static int
loads_rc(const char *text)
{
    json_t *v = NULL;
    int rc = crumb_tagjson_loads(text, strlen(text), &v);
    CHECK((rc == CRUMB_OK) == (v != NULL));
    json_decref(v);
    return rc;
}

TEST(loads_basics)
{
    CHECK_RC(loads_rc("{}"), CRUMB_OK);
    CHECK_RC(loads_rc("[]"), CRUMB_EMALFORMED);
    CHECK_RC(loads_rc("1"), CRUMB_EMALFORMED);
    CHECK_RC(loads_rc("{"), CRUMB_EMALFORMED);
    CHECK_RC(loads_rc(""), CRUMB_EMALFORMED);
    CHECK_RC(loads_rc("{\"a\":NaN}"), CRUMB_EMALFORMED);
    /* Duplicate keys: the last wins, as in Python. */
    json_t *v = NULL;
    CHECK_RC(crumb_tagjson_loads("{\"a\":1,\"a\":2}", 13, &v), CRUMB_OK);
    CHECK_INT(json_integer_value(json_object_get(v, "a")), ==, 2);
    json_decref(v);
    CHECK_RC(crumb_tagjson_loads("{\"a\":\"x\\u0000y\"}", 16, &v), CRUMB_OK);
    CHECK_INT(json_string_length(json_object_get(v, "a")), ==, 3);
    json_decref(v);
}

TEST(tags_valid)
{
    CHECK_RC(loads_rc("{\"a\":{\" t\":[1,{\" b\":\"AA==\"}]}}"), CRUMB_OK);
    CHECK_RC(loads_rc("{\"a\":{\" b\":\"\"}}"), CRUMB_OK);
    CHECK_RC(loads_rc("{\"a\":{\" b\":\"Zm9v\"}}"), CRUMB_OK);
    CHECK_RC(loads_rc("{\"a\":{\" m\":\"<b>x</b>\"}}"), CRUMB_OK);
    CHECK_RC(loads_rc("{\"a\":{\" u\":\"12345678123456781234567812345678\"}}"),
             CRUMB_OK);
    CHECK_RC(loads_rc("{\"a\":{\" u\":\"12345678-1234-5678-1234-"
                      "567812345678\"}}"),
             CRUMB_OK);
    CHECK_RC(loads_rc("{\"a\":{\" u\":\"{12345678-1234-5678-1234-"
                      "567812345678}\"}}"),
             CRUMB_OK);
    CHECK_RC(loads_rc("{\"a\":{\" u\":\"urn:uuid:12345678-1234-5678-1234-"
                      "567812345678\"}}"),
             CRUMB_OK);
    CHECK_RC(loads_rc("{\"a\":{\" u\":\"ABCDEF78123456781234567812345678\"}}"),
             CRUMB_OK);
    CHECK_RC(loads_rc("{\"a\":{\" d\":\"Wed, 21 Oct 2015 07:28:00 GMT\"}}"),
             CRUMB_OK);
    CHECK_RC(loads_rc("{\"a\":{\" di\":{\" t__\":{\" t\":[]}}}}"), CRUMB_OK);
    CHECK_RC(loads_rc("{\" t\":[1]}"), CRUMB_OK);
    /* Two keys: a plain dict, whatever the keys. */
    CHECK_RC(loads_rc("{\"a\":{\" b\":1,\" t\":2}}"), CRUMB_OK);
    CHECK_RC(loads_rc("{\"a\":{\" x\":1}}"), CRUMB_OK);
    CHECK_RC(loads_rc("{\"a\":{\"b\":1}}"), CRUMB_OK);
}

TEST(tags_invalid)
{
    CHECK_RC(loads_rc("{\"a\":{\" t\":{}}}"), CRUMB_EMALFORMED);
    CHECK_RC(loads_rc("{\"a\":{\" t\":[{\" b\":\"!\"}]}}"), CRUMB_EMALFORMED);
    CHECK_RC(loads_rc("{\"a\":{\" b\":1}}"), CRUMB_EMALFORMED);
    CHECK_RC(loads_rc("{\"a\":{\" b\":\"Zm9v=\"}}"), CRUMB_EMALFORMED);
    CHECK_RC(loads_rc("{\"a\":{\" b\":\"Z\"}}"), CRUMB_EMALFORMED);
    CHECK_RC(loads_rc("{\"a\":{\" m\":[]}}"), CRUMB_EMALFORMED);
    CHECK_RC(loads_rc("{\"a\":{\" u\":\"1234\"}}"), CRUMB_EMALFORMED);
    CHECK_RC(loads_rc("{\"a\":{\" u\":\"12345678123456781234567812345678"
                      "9\"}}"),
             CRUMB_EMALFORMED);
    CHECK_RC(loads_rc("{\"a\":{\" u\":\"g2345678123456781234567812345678\"}}"),
             CRUMB_EMALFORMED);
    CHECK_RC(loads_rc("{\"a\":{\" u\":null}}"), CRUMB_EMALFORMED);
    CHECK_RC(loads_rc("{\"a\":{\" d\":\"yesterday\"}}"), CRUMB_EMALFORMED);
    CHECK_RC(loads_rc("{\"a\":{\" d\":\"Thu, 21 Oct 2015 07:28:00 GMT\"}}"),
             CRUMB_EMALFORMED);
    CHECK_RC(loads_rc("{\"a\":{\" d\":1445412480}}"), CRUMB_EMALFORMED);
    CHECK_RC(loads_rc("{\"a\":{\" di\":{\" t\":[]}}}"), CRUMB_EMALFORMED);
    CHECK_RC(loads_rc("{\"a\":{\" di\":{\"a__\":1,\"b__\":2}}}"),
             CRUMB_EMALFORMED);
    CHECK_RC(loads_rc("{\"a\":{\" di\":[]}}"), CRUMB_EMALFORMED);
    CHECK_RC(loads_rc("{\"a\":{\" di\":{\" t__\":{\" t\":1}}}}"),
             CRUMB_EMALFORMED);
    CHECK_RC(loads_rc("{\"a\":[{\"b\":{\" u\":\"x\"}}]}"), CRUMB_EMALFORMED);
}

TEST(tag_of_and_names)
{
    CHECK_INT(crumb_tag_of(NULL), ==, CRUMB_TAG_NONE);
    json_t *v = json_pack("{s:[]}", " t");
    CHECK_INT(crumb_tag_of(v), ==, CRUMB_TAG_TUPLE);
    json_decref(v);
    v = json_pack("{s:{}}", " di");
    CHECK_INT(crumb_tag_of(v), ==, CRUMB_TAG_DICT);
    json_decref(v);
    v = json_pack("{s:i}", " dx", 1);
    CHECK_INT(crumb_tag_of(v), ==, CRUMB_TAG_NONE);
    json_decref(v);
    CHECK_STR(crumb_tag_name(CRUMB_TAG_NONE), "");
    CHECK_STR(crumb_tag_name(CRUMB_TAG_BYTES), " b");
    CHECK_STR(crumb_tag_name(CRUMB_TAG_DICT), " di");
    CHECK_STR(crumb_tag_name((crumb_tag)99), "");
}

TEST(constructors_and_readers)
{
    json_t *arr = json_pack("[i,s]", 1, "x");
    json_t *t = crumb_tag_tuple_new(arr);
    const json_t *items = NULL;
    CHECK_RC(crumb_tag_tuple_items(t, &items), CRUMB_OK);
    CHECK(json_equal((json_t *)items, arr));
    check_dumps(t, "{\" t\":[1,\"x\"]}");
    json_decref(arr);
    CHECK(crumb_tag_tuple_new(NULL) == NULL);

    json_t *b = crumb_tag_bytes_new("\x00\xff" "bytes", 7);
    unsigned char *raw = NULL;
    size_t rawlen = 0;
    CHECK_RC(crumb_tag_bytes_get(b, &raw, &rawlen), CRUMB_OK);
    CHECK_MEM(raw, rawlen, "\x00\xff" "bytes", 7);
    free(raw);
    CHECK_RC(crumb_tag_markup_get(b, NULL), CRUMB_ETYPE);
    check_dumps(b, "{\" b\":\"AP9ieXRlcw==\"}");

    json_t *m = crumb_tag_markup_new("<b>x</b>");
    const char *html = NULL;
    CHECK_RC(crumb_tag_markup_get(m, &html), CRUMB_OK);
    CHECK_STR(html, "<b>x</b>");
    check_dumps(m, "{\" m\":\"<b>x</b>\"}");

    const unsigned char id[16] = {0x12, 0x34, 0x56, 0x78, 0x12, 0x34,
                                  0x56, 0x78, 0x12, 0x34, 0x56, 0x78,
                                  0x12, 0x34, 0x56, 0xab};
    unsigned char back[16];
    json_t *u = crumb_tag_uuid_new(id);
    CHECK_RC(crumb_tag_uuid_get(u, back), CRUMB_OK);
    CHECK_MEM(back, 16, id, 16);
    check_dumps(u, "{\" u\":\"123456781234567812345678123456ab\"}");

    json_t *d = crumb_tag_datetime_new(1445412480);
    int64_t ts = 0;
    CHECK_RC(crumb_tag_datetime_get(d, &ts), CRUMB_OK);
    CHECK_INT(ts, ==, 1445412480);
    check_dumps(d, "{\" d\":\"Wed, 21 Oct 2015 07:28:00 GMT\"}");

    json_t *bad = json_pack("{s:s}", " u", "nope");
    CHECK_RC(crumb_tag_uuid_get(bad, back), CRUMB_EMALFORMED);
    CHECK_RC(crumb_tag_datetime_get(bad, &ts), CRUMB_ETYPE);
    CHECK_RC(crumb_tag_tuple_items(bad, &items), CRUMB_ETYPE);
    json_decref(bad);
    bad = json_pack("{s:s}", " b", "!!");
    CHECK_RC(crumb_tag_bytes_get(bad, &raw, &rawlen), CRUMB_EMALFORMED);
    json_decref(bad);
}

TEST(wrap_dict)
{
    json_t *plain = json_pack("{s:[i]}", " t", 1);
    json_t *w = crumb_tag_wrap_dict(plain);
    CHECK_INT(crumb_tag_of(w), ==, CRUMB_TAG_DICT);
    CHECK_RC(crumb_tagjson_check(w), CRUMB_OK);
    check_dumps(w, "{\" di\":{\" t__\":[1]}}");
    json_decref(plain);
    plain = json_pack("{s:i}", "a", 1);
    w = crumb_tag_wrap_dict(plain);
    CHECK(w == plain);
    json_decref(w);
    json_decref(plain);
}

TEST(http_dates)
{
    char buf[30];
    int64_t t = 0;
    CHECK_RC(crumb_http_date_format(0, buf, sizeof buf), CRUMB_OK);
    CHECK_STR(buf, "Thu, 01 Jan 1970 00:00:00 GMT");
    CHECK_RC(crumb_http_date_format(-1, buf, sizeof buf), CRUMB_OK);
    CHECK_STR(buf, "Wed, 31 Dec 1969 23:59:59 GMT");
    CHECK_RC(crumb_http_date_format(951825600, buf, sizeof buf), CRUMB_OK);
    CHECK_STR(buf, "Tue, 29 Feb 2000 12:00:00 GMT");
    CHECK_RC(crumb_http_date_format(-62135596800LL, buf, sizeof buf),
             CRUMB_OK);
    CHECK_STR(buf, "Mon, 01 Jan 0001 00:00:00 GMT");
    CHECK_RC(crumb_http_date_format(253402300799LL, buf, sizeof buf),
             CRUMB_OK);
    CHECK_STR(buf, "Fri, 31 Dec 9999 23:59:59 GMT");
    CHECK_RC(crumb_http_date_format(253402300800LL, buf, sizeof buf),
             CRUMB_EINVAL);
    CHECK_RC(crumb_http_date_format(-62135596801LL, buf, sizeof buf),
             CRUMB_EINVAL);
    CHECK_RC(crumb_http_date_format(0, buf, 29), CRUMB_EINVAL);

    const char *imf = "Sun, 06 Nov 1994 08:49:37 GMT";
    CHECK_RC(crumb_http_date_parse(imf, strlen(imf), &t), CRUMB_OK);
    CHECK_INT(t, ==, 784111777);
    const char *r850 = "Sunday, 06-Nov-94 08:49:37 GMT";
    CHECK_RC(crumb_http_date_parse(r850, strlen(r850), &t), CRUMB_OK);
    CHECK_INT(t, ==, 784111777);
    const char *asc = "Sun Nov  6 08:49:37 1994";
    CHECK_RC(crumb_http_date_parse(asc, strlen(asc), &t), CRUMB_OK);
    CHECK_INT(t, ==, 784111777);
    const char *asc2 = "Wed Oct 21 07:28:00 2015";
    CHECK_RC(crumb_http_date_parse(asc2, strlen(asc2), &t), CRUMB_OK);
    CHECK_INT(t, ==, 1445412480);
    static const char *const bad[] = {
        "", "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 06 Nov 1994 08:49:37",
        "Sun, 6 Nov 1994 08:49:37 GMT", "Sun, 31 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 24:00:00 GMT", "Mon, 06 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37 GMT ", "Sun, 06 Foo 1994 08:49:37 GMT",
        "Sun Nov 6 08:49:37 1994", "Sunday, 06-Nov-1994 08:49:37 GMT",
        "Fri, 29 Feb 2019 00:00:00 GMT", "Sat, 01 Jan 0000 00:00:00 GMT",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (crumb_http_date_parse(bad[i], strlen(bad[i]), &t) !=
            CRUMB_EMALFORMED)
            T_FAIL_("accepted \"%s\"", bad[i]);
    /* Days across the whole range of years 1..9999 round-trip. */
    for (int64_t d = -719162; d < 2932897; d += 5) {
        int64_t s = d * 86400 + 3723;
        CHECK_RC(crumb_http_date_format(s, buf, sizeof buf), CRUMB_OK);
        CHECK_RC(crumb_http_date_parse(buf, 29, &t), CRUMB_OK);
        CHECK_INT(t, ==, s);
    }
}

int
main(void)
{
    TEST_BEGIN();
    RUN(float_repr_cases);
    RUN(float_repr_vectors);
    RUN(string_escapes);
    RUN(invalid_utf8_refused);
    RUN(keys_sorted_by_code_point);
    RUN(nesting_limit);
    RUN(flask_vectors_round_trip);
    RUN(loads_basics);
    RUN(tags_valid);
    RUN(tags_invalid);
    RUN(tag_of_and_names);
    RUN(constructors_and_readers);
    RUN(wrap_dict);
    RUN(http_dates);
    return TEST_END();
}
