/* test_http_router.c - routing by method and path, typed parameters. */
#include <crumb/error.h>

#include "http_int.h"
#include "test.h"

static void
h_a(crumb_http_req *req, void *ctx)
{
}

static void
h_b(crumb_http_req *req, void *ctx)
{
}

static crumb__router *
make(void)
{
    crumb__router *r = crumb__router_new();
    CHECK(r);
    CHECK_RC(crumb__router_add(r, "GET", "/", h_a, NULL, 0), CRUMB_OK);
    CHECK_RC(crumb__router_add(r, "GET", "/products", h_a, NULL, 0),
             CRUMB_OK);
    CHECK_RC(crumb__router_add(r, "POST", "/add_to_cart/<int:id>", h_b,
                               (void *)1, 0),
             CRUMB_OK);
    CHECK_RC(crumb__router_add(r, "GET", "/user/<name>/posts/<int:n>", h_a,
                               NULL, 3),
             CRUMB_OK);
    CHECK_RC(crumb__router_add(r, "GET", "/logout", h_a, NULL, 0), CRUMB_OK);
    CHECK_RC(crumb__router_add(r, "POST", "/logout", h_b, NULL, 0),
             CRUMB_OK);
    return r;
}

TEST(test_root_and_literal)
{
    crumb__router *r = make();
    crumb__match m = {0};
    CHECK_INT(crumb__router_match(r, "GET", "/", &m), ==, 200);
    CHECK(m.fn == h_a);
    CHECK_INT(crumb__router_match(r, "GET", "/products", &m), ==, 200);
    CHECK_INT(crumb__router_match(r, "HEAD", "/products", &m), ==, 200);
    CHECK_INT(crumb__router_match(r, "GET", "/products/", &m), ==, 404);
    CHECK_INT(crumb__router_match(r, "GET", "/product", &m), ==, 404);
    CHECK_INT(crumb__router_match(r, "GET", "/productsx", &m), ==, 404);
    CHECK_INT(crumb__router_match(r, "GET", "", &m), ==, 404);
    CHECK_INT(crumb__router_match(r, "GET", "//", &m), ==, 404);
    crumb__kv_cleanup(&m.params);
    crumb__router_free(r);
}

TEST(test_int_param)
{
    crumb__router *r = make();
    crumb__match m = {0};
    CHECK_INT(crumb__router_match(r, "POST", "/add_to_cart/42", &m), ==, 200);
    CHECK(m.fn == h_b);
    CHECK(m.ctx == (void *)1);
    /* The template, never the path: what analytics records. */
    CHECK_STR(m.pattern, "/add_to_cart/<int:id>");
    CHECK_STR(crumb__kv_get(&m.params, "id"), "42");
    crumb__kv_cleanup(&m.params);
    crumb__match m2 = {0};
    CHECK_INT(crumb__router_match(r, "POST", "/add_to_cart/x1", &m2), ==,
              404);
    CHECK_INT(crumb__router_match(r, "POST", "/add_to_cart/-1", &m2), ==,
              404);
    CHECK_INT(crumb__router_match(r, "POST", "/add_to_cart/", &m2), ==, 404);
    CHECK_INT(crumb__router_match(r, "POST",
                                  "/add_to_cart/9223372036854775808", &m2),
              ==, 404);
    CHECK_INT(crumb__router_match(r, "POST", "/add_to_cart/1/2", &m2), ==,
              404);
    CHECK_INT(m2.params.n, ==, 0);
    crumb__router_free(r);
}

TEST(test_two_params)
{
    crumb__router *r = make();
    crumb__match m = {0};
    CHECK_INT(crumb__router_match(r, "GET", "/user/bob/posts/7", &m), ==,
              200);
    CHECK_STR(crumb__kv_get(&m.params, "name"), "bob");
    CHECK_STR(crumb__kv_get(&m.params, "n"), "7");
    CHECK_INT(m.flags, ==, 3);
    crumb__kv_cleanup(&m.params);
    crumb__router_free(r);
}

TEST(test_405_allow)
{
    crumb__router *r = make();
    crumb__match m = {0};
    CHECK_INT(crumb__router_match(r, "GET", "/add_to_cart/1", &m), ==, 405);
    CHECK_STR(m.allow, "POST");
    CHECK_INT(crumb__router_match(r, "DELETE", "/logout", &m), ==, 405);
    CHECK_STR(m.allow, "GET, HEAD, POST");
    CHECK_INT(crumb__router_match(r, "PUT", "/products", &m), ==, 405);
    CHECK_STR(m.allow, "GET, HEAD");
    crumb__router_free(r);
}

TEST(test_bad_patterns)
{
    crumb__router *r = crumb__router_new();
    CHECK_RC(crumb__router_add(r, "GET", "nolead", h_a, NULL, 0),
             CRUMB_EINVAL);
    CHECK_RC(crumb__router_add(r, "GET", "/<float:x>", h_a, NULL, 0),
             CRUMB_EINVAL);
    CHECK_RC(crumb__router_add(r, "GET", "/<>", h_a, NULL, 0), CRUMB_EINVAL);
    CHECK_RC(crumb__router_add(r, "GET", "/a<b>", h_a, NULL, 0),
             CRUMB_EINVAL);
    CHECK_RC(crumb__router_add(r, "GET", "/<int:a-b>", h_a, NULL, 0),
             CRUMB_EINVAL);
    CHECK_RC(crumb__router_add(r, "", "/", h_a, NULL, 0), CRUMB_EINVAL);
    CHECK_RC(crumb__router_add(r, "GET", "/", NULL, NULL, 0), CRUMB_EINVAL);
    CHECK_RC(crumb__router_add(r, "GET",
                               "/<a>/<b>/<c>/<d>/<e>/<f>/<g>/<h>/<i>", h_a,
                               NULL, 0),
             CRUMB_EINVAL);
    CHECK_RC(crumb__router_add(r, "GET", "/<string:s>", h_a, NULL, 0),
             CRUMB_OK);
    crumb__match m = {0};
    CHECK_INT(crumb__router_match(r, "GET", "/anything", &m), ==, 200);
    CHECK_STR(crumb__kv_get(&m.params, "s"), "anything");
    crumb__kv_cleanup(&m.params);
    crumb__router_free(r);
}

TEST(test_first_route_wins)
{
    crumb__router *r = crumb__router_new();
    CHECK_RC(crumb__router_add(r, "GET", "/a/<int:n>", h_a, NULL, 0),
             CRUMB_OK);
    CHECK_RC(crumb__router_add(r, "GET", "/a/<s>", h_b, NULL, 0), CRUMB_OK);
    crumb__match m = {0};
    CHECK_INT(crumb__router_match(r, "GET", "/a/5", &m), ==, 200);
    CHECK(m.fn == h_a);
    crumb__kv_cleanup(&m.params);
    CHECK_INT(crumb__router_match(r, "GET", "/a/five", &m), ==, 200);
    CHECK(m.fn == h_b);
    crumb__kv_cleanup(&m.params);
    crumb__router_free(r);
}

/* <int:...> takes every value that fits int64_t, and nothing past it. */
TEST(test_int_range)
{
    crumb__router *r = crumb__router_new();
    CHECK_RC(crumb__router_add(r, "GET", "/a/<int:n>", h_a, NULL, 0),
             CRUMB_OK);
    static const char *fit[] = {
        "/a/0", "/a/007", "/a/123456789012345678",
        "/a/9223372036854775807", "/a/0009223372036854775807",
        "/a/1000000000000000000",
    };
    for (size_t i = 0; i < sizeof(fit) / sizeof(fit[0]); i++) {
        crumb__match m = {0};
        int st = crumb__router_match(r, "GET", fit[i], &m);
        if (st != 200)
            T_FAIL_("%s: %d, want 200", fit[i], st);
        crumb__kv_cleanup(&m.params);
    }
    static const char *past[] = {
        "/a/9223372036854775808", "/a/9999999999999999999",
        "/a/10000000000000000000", "/a/-1", "/a/+1", "/a/1x", "/a/ 1",
    };
    for (size_t i = 0; i < sizeof(past) / sizeof(past[0]); i++) {
        crumb__match m = {0};
        int st = crumb__router_match(r, "GET", past[i], &m);
        if (st != 404)
            T_FAIL_("%s: %d, want 404", past[i], st);
        crumb__kv_cleanup(&m.params);
    }
    crumb__router_free(r);
}

/* Found by fuzz_http_router: "/files/.." matched "/files/<name>" with
 * name "..", handing a traversal to the handler. */
TEST(test_dot_segments_match_nothing)
{
    crumb__router *r = make();
    CHECK_RC(crumb__router_add(r, "GET", "/files/<name>", h_a, NULL, 0),
             CRUMB_OK);
    CHECK_RC(crumb__router_add(r, "GET", "/<page>", h_a, NULL, 0), CRUMB_OK);
    static const char *bad[] = {
        "/files/..", "/files/.", "/..", "/.", "/user/../posts/1",
        "/user/./posts/1", "/../logout", "/logout/..", "/products/./",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        crumb__match m = {0};
        int st = crumb__router_match(r, "GET", bad[i], &m);
        if (st != 404)
            T_FAIL_("%s: %d, want 404", bad[i], st);
        CHECK_INT(m.params.n, ==, 0);
        st = crumb__router_match(r, "POST", bad[i], &m);
        if (st != 404)
            T_FAIL_("POST %s: %d, want 404", bad[i], st);
    }
    static const char *good[] = {"/files/...", "/files/.x", "/files/x..",
                                 "/.well-known", "/files/a.b"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        crumb__match m = {0};
        int st = crumb__router_match(r, "GET", good[i], &m);
        if (st != 200)
            T_FAIL_("%s: %d, want 200", good[i], st);
        crumb__kv_cleanup(&m.params);
    }
    crumb__router_free(r);
}

int
main(void)
{
    TEST_BEGIN();
    RUN(test_root_and_literal);
    RUN(test_int_param);
    RUN(test_two_params);
    RUN(test_405_allow);
    RUN(test_bad_patterns);
    RUN(test_first_route_wins);
    RUN(test_int_range);
    RUN(test_dot_segments_match_nothing);
    return TEST_END();
}
