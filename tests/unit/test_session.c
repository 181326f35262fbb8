/* test_session.c - the session object: typed access, flags, journal. */
#include <crumb/crumb.h>

#include "test.h"

TEST(new_session_is_new_and_clean)
{
    crumb_session *s = crumb_session_new();
    CHECK(s);
    CHECK(crumb_session_is_new(s));
    CHECK(!crumb_session_is_modified(s));
    CHECK(!crumb_session_was_accessed(s));
    CHECK(!crumb_session_is_permanent(s));
    crumb_session_free(s);
    crumb_session_free(NULL);
}

TEST(typed_get_set)
{
    crumb_session *s = crumb_session_new();
    CHECK_RC(crumb_session_set_string(s, "name", "john_doe"), CRUMB_OK);
    CHECK_RC(crumb_session_set_int(s, "n", 123), CRUMB_OK);
    CHECK_RC(crumb_session_set_double(s, "f", 2.5), CRUMB_OK);
    CHECK_RC(crumb_session_set_bool(s, "b", 1), CRUMB_OK);
    CHECK_RC(crumb_session_set_null(s, "z"), CRUMB_OK);
    CHECK_STR(crumb_session_get_string(s, "name", NULL), "john_doe");
    CHECK_INT(crumb_session_get_int(s, "n", 0), ==, 123);
    CHECK(crumb_session_get_double(s, "f", 0) == 2.5);
    CHECK(crumb_session_get_double(s, "n", 0) == 123.0);
    CHECK_INT(crumb_session_get_bool(s, "b", 0), ==, 1);
    CHECK(json_is_null(crumb_session_get_json(s, "z")));
    /* Wrong type or absent: the default. */
    CHECK_STR(crumb_session_get_string(s, "n", "def"), "def");
    CHECK_INT(crumb_session_get_int(s, "name", -1), ==, -1);
    CHECK_INT(crumb_session_get_bool(s, "missing", 7), ==, 7);
    CHECK_INT(crumb_session_count(s), ==, 5);
    CHECK(crumb_session_contains(s, "z"));
    CHECK(!crumb_session_contains(s, "nope"));
    CHECK(crumb_session_is_modified(s));
    crumb_session_free(s);
}

TEST(reads_mark_accessed_not_modified)
{
    crumb_session *s = crumb_session_new();
    (void)crumb_session_get_int(s, "x", 0);
    CHECK(crumb_session_was_accessed(s));
    CHECK(!crumb_session_is_modified(s));
    crumb_session_free(s);
}

TEST(invalid_input_refused)
{
    crumb_session *s = crumb_session_new();
    CHECK_RC(crumb_session_set_string(s, "k", "\xff\xfe"), CRUMB_EINVAL);
    CHECK_RC(crumb_session_set_string(s, "\xc3", "v"), CRUMB_EINVAL);
    CHECK_RC(crumb_session_set_string(s, NULL, "v"), CRUMB_EINVAL);
    CHECK_RC(crumb_session_set_string(s, "k", NULL), CRUMB_EINVAL);
    json_t *bad = json_pack("{s:i}", " u", 5); /* UUID tag, not a string */
    CHECK_RC(crumb_session_set_json(s, "k", bad), CRUMB_EINVAL);
    json_decref(bad);
    CHECK_INT(crumb_session_count(s), ==, 0);
    crumb_session_free(s);
}

TEST(delete_and_clear)
{
    crumb_session *s = crumb_session_new();
    crumb_session_set_int(s, "a", 1);
    crumb_session_set_int(s, "b", 2);
    CHECK_RC(crumb_session_delete(s, "a"), CRUMB_OK);
    CHECK_RC(crumb_session_delete(s, "a"), CRUMB_ENOTFOUND);
    CHECK_INT(crumb_session_count(s), ==, 1);
    crumb_session_clear(s);
    CHECK_INT(crumb_session_count(s), ==, 0);
    const crumb_change *c;
    CHECK_INT(crumb_session_changes(s, &c), ==, 1);
    CHECK_INT(c[0].op, ==, CRUMB_CHANGE_CLEAR);
    crumb_session_free(s);
}

TEST(paths_and_nested_values)
{
    crumb_session *s = crumb_session_new();
    json_t *v = json_string("dark");
    CHECK_RC(crumb_session_set_path(s, "/prefs/theme", v), CRUMB_OK);
    json_decref(v);
    CHECK_STR(json_string_value(crumb_session_get_path(s, "/prefs/theme")),
              "dark");
    /* Escapes per RFC 6901. */
    v = json_true();
    CHECK_RC(crumb_session_set_path(s, "/a~1b/c~0d", v), CRUMB_OK);
    CHECK(json_is_true(json_object_get(
        json_object_get(crumb_session_data(s), "a/b"), "c~d")));
    CHECK_RC(crumb_session_set_path(s, "/bad~2", v), CRUMB_EINVAL);
    CHECK_RC(crumb_session_set_path(s, "nope", v), CRUMB_EINVAL);
    /* A scalar in the way is refused. */
    CHECK_RC(crumb_session_set_path(s, "/prefs/theme/x", v), CRUMB_EINVAL);
    json_decref(v);
    /* Arrays: replace, append with "-". */
    json_t *arr = json_pack("[ss]", "item1", "item2");
    crumb_session_set_json(s, "list", arr);
    json_decref(arr);
    v = json_string("item3");
    CHECK_RC(crumb_session_set_path(s, "/list/-", v), CRUMB_OK);
    CHECK_RC(crumb_session_set_path(s, "/list/01", v), CRUMB_EINVAL);
    json_decref(v);
    CHECK_INT(json_array_size(crumb_session_get_json(s, "list")), ==, 3);
    CHECK_RC(crumb_session_delete_path(s, "/list/0"), CRUMB_OK);
    CHECK_STR(json_string_value(crumb_session_get_path(s, "/list/0")),
              "item2");
    crumb_session_free(s);
}

TEST(edit_marks_modified)
{
    json_t *d = json_pack("{s:{s:i}}", "cart", "1", 2);
    crumb_session *s = crumb_session_new_from(d, 1);
    CHECK(!crumb_session_is_modified(s));
    json_t *cart = crumb_session_edit(s, "cart");
    CHECK(cart);
    json_object_set_new(cart, "2", json_integer(5));
    CHECK(crumb_session_is_modified(s));
    const crumb_change *c;
    CHECK_INT(crumb_session_changes(s, &c), ==, 1);
    CHECK_INT(c[0].op, ==, CRUMB_CHANGE_SET);
    CHECK_STR(c[0].path, "/cart");
    CHECK_INT(json_integer_value(json_object_get(c[0].value, "2")), ==, 5);
    CHECK(crumb_session_edit(s, "absent") == NULL);
    crumb_session_free(s);
}

TEST(incr_counts_and_journals)
{
    crumb_session *s = crumb_session_new();
    int64_t r = 0;
    CHECK_RC(crumb_session_incr(s, "visits", 1, &r), CRUMB_OK);
    CHECK_INT(r, ==, 1);
    CHECK_RC(crumb_session_incr(s, "visits", 41, &r), CRUMB_OK);
    CHECK_INT(r, ==, 42);
    CHECK_RC(crumb_session_incr_path(s, "/cart/3", 2, &r), CRUMB_OK);
    CHECK_INT(r, ==, 2);
    crumb_session_set_string(s, "str", "x");
    CHECK_RC(crumb_session_incr(s, "str", 1, &r), CRUMB_ETYPE);
    crumb_session_set_int(s, "big", INT64_MAX);
    CHECK_RC(crumb_session_incr(s, "big", 1, &r), CRUMB_ETOOBIG);

    /* The journal replays onto another copy: increments add up. */
    json_t *other = json_pack("{s:i,s:{s:i}}", "visits", 100, "cart", "3", 1);
    const crumb_change *c;
    size_t n = crumb_session_changes(s, &c);
    CHECK_RC(crumb_session_apply_changes(other, c, n), CRUMB_OK);
    CHECK_INT(json_integer_value(json_object_get(other, "visits")), ==, 142);
    CHECK_INT(json_integer_value(
                  json_object_get(json_object_get(other, "cart"), "3")),
              ==, 3);
    CHECK_STR(json_string_value(json_object_get(other, "str")), "x");
    json_decref(other);
    crumb_session_changes_reset(s);
    CHECK_INT(crumb_session_changes(s, &c), ==, 0);
    crumb_session_free(s);
}

TEST(apply_skips_bad_increment)
{
    json_t *d = json_pack("{s:s}", "n", "text");
    crumb_change ch[2] = {
        {CRUMB_CHANGE_INCR, "/n", NULL, 1},
        {CRUMB_CHANGE_SET, "/m", json_integer(9), 0},
    };
    CHECK_RC(crumb_session_apply_changes(d, ch, 2), CRUMB_ETYPE);
    CHECK_INT(json_integer_value(json_object_get(d, "m")), ==, 9);
    json_decref((json_t *)ch[1].value);
    json_decref(d);
}

TEST(permanent_is_stored_like_flask)
{
    crumb_session *s = crumb_session_new();
    CHECK_RC(crumb_session_set_permanent(s, 1), CRUMB_OK);
    CHECK(crumb_session_is_permanent(s));
    CHECK(json_is_true(crumb_session_get_json(s, "_permanent")));
    crumb_session_set_permanent(s, 0);
    CHECK(!crumb_session_is_permanent(s));
    crumb_session_free(s);
}

TEST(tagged_values)
{
    crumb_session *s = crumb_session_new();
    json_t *b = crumb_tag_bytes_new("\x00\x01\xff", 3);
    CHECK(b);
    CHECK_RC(crumb_session_set_json(s, "raw", b), CRUMB_OK);
    json_decref(b);
    unsigned char *out = NULL;
    size_t len = 0;
    CHECK_RC(crumb_tag_bytes_get(crumb_session_get_json(s, "raw"), &out, &len),
             CRUMB_OK);
    CHECK_MEM(out, len, "\x00\x01\xff", 3);
    free(out);
    crumb_session_free(s);
}

TEST(new_from_refuses_non_object)
{
    CHECK(crumb_session_new_from(json_integer(1), 1) == NULL);
    json_t *a = json_array();
    CHECK(crumb_session_new_from(a, 0) == NULL);
    json_decref(a);
}

int
main(void)
{
    TEST_BEGIN();
    RUN(new_session_is_new_and_clean);
    RUN(typed_get_set);
    RUN(reads_mark_accessed_not_modified);
    RUN(invalid_input_refused);
    RUN(delete_and_clear);
    RUN(paths_and_nested_values);
    RUN(edit_marks_modified);
    RUN(incr_counts_and_journals);
    RUN(apply_skips_bad_increment);
    RUN(permanent_is_stored_like_flask);
    RUN(tagged_values);
    RUN(new_from_refuses_non_object);
    return TEST_END();
}
