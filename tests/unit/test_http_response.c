/* test_http_response.c - responses: redirects, headers, error pages. */
#include <crumb/error.h>

#include "http_int.h"
#include "test.h"

static crumb_http *
server(void)
{
    crumb_http_options o;
    crumb_http_options_init(&o);
    o.log = 0;
    crumb_http *h = NULL;
    CHECK_RC(crumb_http_new(&h, &o), CRUMB_OK);
    return h;
}

static const char *
header(const crumb_http_req *r, const char *name)
{
    return crumb__kv_get(&r->headers, name);
}

TEST(test_respond_and_replace)
{
    crumb_http *h = server();
    crumb_http_req *r = calloc(1, sizeof(*r));
    r->h = h;
    CHECK_RC(crumb_http_respond(r, 200, "text/plain", "hi", 2), CRUMB_OK);
    CHECK_INT(r->status, ==, 200);
    CHECK_MEM(r->resp, r->resp_len, "hi", 2);
    CHECK_RC(crumb_http_respond(r, 201, "text/plain", "again", 5), CRUMB_OK);
    CHECK_INT(r->status, ==, 201);
    CHECK_MEM(r->resp, r->resp_len, "again", 5);
    CHECK_RC(crumb_http_respond(r, 99, NULL, NULL, 0), CRUMB_EINVAL);
    CHECK_RC(crumb_http_respond(r, 200, "text/html\r\nX: y", "", 0),
             CRUMB_EINVAL);
    crumb__req_free(r);
    crumb_http_free(h);
}

TEST(test_redirects)
{
    crumb_http *h = server();
    crumb_http_req *r = calloc(1, sizeof(*r));
    r->h = h;
    CHECK_RC(crumb_http_redirect(r, 303, "/login?next=%2Fdashboard"),
             CRUMB_OK);
    CHECK_INT(r->status, ==, 303);
    CHECK_STR(header(r, "Location"), "/login?next=%2Fdashboard");
    CHECK_RC(crumb_http_redirect(r, 302, "/"), CRUMB_OK);
    CHECK_INT(r->status, ==, 302);
    CHECK_STR(header(r, "Location"), "/");
    CHECK_INT(r->headers.n, ==, 1); /* replaced, not added */
    CHECK_RC(crumb_http_redirect(r, 200, "/"), CRUMB_EINVAL);
    CHECK_RC(crumb_http_redirect(r, 302, ""), CRUMB_EINVAL);
    CHECK_RC(crumb_http_redirect(r, 302, "/\r\nSet-Cookie: x=1"),
             CRUMB_EINVAL);
    CHECK_STR(header(r, "Location"), "/");
    crumb__req_free(r);
    crumb_http_free(h);
}

TEST(test_header_add_refuses_injection)
{
    crumb_http *h = server();
    crumb_http_req *r = calloc(1, sizeof(*r));
    r->h = h;
    CHECK_RC(crumb_http_header_add(r, "X-Ok", "value"), CRUMB_OK);
    CHECK_RC(crumb_http_header_add(r, "X-Bad", "a\r\nb"), CRUMB_EINVAL);
    CHECK_RC(crumb_http_header_add(r, "X-Bad\n", "a"), CRUMB_EINVAL);
    CHECK_RC(crumb_http_header_add(r, "X:Bad", "a"), CRUMB_EINVAL);
    CHECK_RC(crumb_http_header_add(r, "", "a"), CRUMB_EINVAL);
    CHECK_INT(r->headers.n, ==, 1);
    crumb__req_free(r);
    crumb_http_free(h);
}

TEST(test_default_error_page_escapes)
{
    crumb_http *h = server();
    crumb_http_req *r = calloc(1, sizeof(*r));
    r->h = h;
    crumb_http_error(r, 404, "no <script>alert(1)</script> here");
    CHECK_INT(r->status, ==, 404);
    CHECK(r->resp && r->resp_len > 0);
    char *body = strndup(r->resp, r->resp_len);
    CHECK(strstr(body, "<script>") == NULL);
    CHECK(strstr(body, "&lt;script&gt;") != NULL);
    CHECK(strstr(body, "404 Not Found") != NULL);
    free(body);
    crumb__req_free(r);
    crumb_http_free(h);
}

static void
bad_hook(crumb_http_req *req, int status, const char *message, void *ctx)
{
    (*(int *)ctx)++; /* sets no response: the default page must follow */
}

TEST(test_error_hook_fallback)
{
    int calls = 0;
    crumb_http_options o;
    crumb_http_options_init(&o);
    o.log = 0;
    o.on_error = bad_hook;
    o.error_ctx = &calls;
    crumb_http *h = NULL;
    CHECK_RC(crumb_http_new(&h, &o), CRUMB_OK);
    crumb_http_req *r = calloc(1, sizeof(*r));
    r->h = h;
    crumb_http_error(r, 413, "too big");
    CHECK_INT(calls, ==, 1);
    CHECK_INT(r->status, ==, 413);
    crumb__req_free(r);
    crumb_http_free(h);
}

TEST(test_render_missing_template)
{
    crumb_http *h = server();
    crumb_http_req *r = calloc(1, sizeof(*r));
    r->h = h;
    CHECK_RC(crumb_http_render(r, 200, "nope", NULL), CRUMB_ENOTFOUND);
    CHECK_INT(r->status, ==, 500);
    crumb__req_free(r);
    crumb_http_free(h);
}

TEST(test_new_bad_template_dir)
{
    crumb_http_options o;
    crumb_http_options_init(&o);
    o.template_dir = "/nonexistent/templates";
    crumb_http *h = NULL;
    CHECK_RC(crumb_http_new(&h, &o), CRUMB_EIO);
    CHECK(h != NULL);
    CHECK(strstr(crumb_http_errmsg(h), "/nonexistent/templates") != NULL);
    crumb_http_free(h);
}

TEST(test_bad_addr)
{
    const char *bad[] = {"localhost", "127.0.0.1", "127.0.0.1:", "1.2.3:80",
                         "127.0.0.1:99999", "[::1:80", "host:80"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        crumb_http_options o;
        crumb_http_options_init(&o);
        o.addr = bad[i];
        o.log = 0;
        crumb_http *h = NULL;
        CHECK_RC(crumb_http_new(&h, &o), CRUMB_OK);
        if (crumb_http_start(h) != CRUMB_EINVAL)
            T_FAIL_("%s accepted", bad[i]);
        crumb_http_free(h);
    }
}

TEST(test_start_port_zero_and_stop)
{
    crumb_http_options o;
    crumb_http_options_init(&o);
    o.addr = "127.0.0.1:0";
    o.log = 0;
    o.threads = 1;
    crumb_http *h = NULL;
    CHECK_RC(crumb_http_new(&h, &o), CRUMB_OK);
    CHECK_INT(crumb_http_port(h), ==, 0);
    CHECK_RC(crumb_http_start(h), CRUMB_OK);
    CHECK(crumb_http_port(h) != 0);
    crumb_http_stop(h);
    crumb_http_stop(h);
    CHECK_INT(crumb_http_port(h), ==, 0);
    crumb_http_free(h);
}

int
main(void)
{
    TEST_BEGIN();
    RUN(test_respond_and_replace);
    RUN(test_redirects);
    RUN(test_header_add_refuses_injection);
    RUN(test_default_error_page_escapes);
    RUN(test_error_hook_fallback);
    RUN(test_render_missing_template);
    RUN(test_new_bad_template_dir);
    RUN(test_bad_addr);
    RUN(test_start_port_zero_and_stop);
    return TEST_END();
}
