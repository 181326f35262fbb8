/* test_http_template.c - the mustache subset: escaping, sections, partials. */
#include <crumb/error.h>
#include <crumb/http.h>

#include "test.h"

static crumb_tpl_set *
set_with(const char *name, const char *text)
{
    crumb_tpl_set *s = crumb_tpl_set_new();
    char err[128] = "";
    CHECK(s);
    int rc = crumb_tpl_set_add(s, name, text, strlen(text), err, sizeof(err));
    if (rc != CRUMB_OK)
        T_FAIL_("add %s: %s: %s", name, crumb_errname(rc), err);
    return s;
}

static char *
render(crumb_tpl_set *s, const char *name, const char *ctx_json)
{
    json_t *ctx = json_loads(ctx_json, 0, NULL);
    CHECK(ctx);
    char *out = NULL;
    size_t len = 0;
    CHECK_RC(crumb_tpl_render(s, name, ctx, &out, &len), CRUMB_OK);
    CHECK_INT(len, ==, strlen(out));
    json_decref(ctx);
    return out;
}

TEST(test_escape_by_default)
{
    crumb_tpl_set *s = set_with("t", "<p>{{ name }}|{{name}}</p>");
    char *out = render(s, "t",
                       "{\"name\": \"<script>alert('x')</script>&\\\"`\"}");
    CHECK_STR(out, "<p>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;"
                   "&quot;&#96;|&lt;script&gt;alert(&#39;x&#39;)&lt;/script"
                   "&gt;&amp;&quot;&#96;</p>");
    free(out);
    crumb_tpl_set_free(s);
}

TEST(test_raw_only_when_marked)
{
    crumb_tpl_set *s = set_with("t", "{{{ html }}}/{{ html|safe }}/{{ html }}");
    char *out = render(s, "t", "{\"html\": \"<b>\"}");
    CHECK_STR(out, "<b>/<b>/&lt;b&gt;");
    free(out);
    crumb_tpl_set_free(s);
}

TEST(test_types)
{
    crumb_tpl_set *s = set_with("t", "{{i}} {{r}} {{t}} {{f}} [{{n}}] "
                                     "[{{missing}}] {{o.a.b}}");
    char *out = render(s, "t", "{\"i\": -12, \"r\": 1.5, \"t\": true, "
                               "\"f\": false, \"n\": null, "
                               "\"o\": {\"a\": {\"b\": \"deep\"}}}");
    CHECK_STR(out, "-12 1.5 true false [] [] deep");
    free(out);
    crumb_tpl_set_free(s);
    /* Integers are formatted by hand: the edges. */
    s = set_with("t", "{{a}} {{b}} {{c}} {{d}}");
    out = render(s, "t", "{\"a\": 0, \"b\": 9223372036854775807, "
                         "\"c\": -9223372036854775808, \"d\": 1000}");
    CHECK_STR(out, "0 9223372036854775807 -9223372036854775808 1000");
    free(out);
    crumb_tpl_set_free(s);
}

TEST(test_sections)
{
    crumb_tpl_set *s = set_with(
        "t", "{{#items}}<li>{{name}}={{qty}} of {{title}}</li>{{/items}}"
             "{{^items}}empty{{/items}}{{#flag}}F{{/flag}}"
             "{{#user}}hi {{name}}{{/user}}{{#list}}[{{.}}]{{/list}}");
    char *out = render(s, "t", "{\"title\": \"cart\", \"flag\": true, "
                               "\"items\": [{\"name\": \"a\", \"qty\": 1}, "
                               "{\"name\": \"<b>\", \"qty\": 2}], "
                               "\"user\": {\"name\": \"bob\"}, "
                               "\"list\": [1, \"x\"]}");
    CHECK_STR(out, "<li>a=1 of cart</li><li>&lt;b&gt;=2 of cart</li>"
                   "Fhi bob[1][x]");
    free(out);
    out = render(s, "t", "{\"items\": [], \"flag\": false}");
    CHECK_STR(out, "empty");
    free(out);
    crumb_tpl_set_free(s);
}

TEST(test_partials_and_comments)
{
    crumb_tpl_set *s = set_with("page", "{{> head }}body{{! a comment }}"
                                        "{{>missing}}");
    char err[64];
    const char *head = "<h1>{{title}}</h1>";
    CHECK_RC(crumb_tpl_set_add(s, "head", head, strlen(head), err,
                               sizeof(err)),
             CRUMB_OK);
    char *out = render(s, "page", "{\"title\": \"T&\"}");
    CHECK_STR(out, "<h1>T&amp;</h1>body");
    free(out);
    /* a partial that includes itself stops at the depth bound */
    const char *loop = "x{{> loop }}";
    CHECK_RC(crumb_tpl_set_add(s, "loop", loop, strlen(loop), err,
                               sizeof(err)),
             CRUMB_OK);
    char *o2 = NULL;
    CHECK_RC(crumb_tpl_render(s, "loop", NULL, &o2, NULL), CRUMB_ETOOBIG);
    CHECK(o2 == NULL);
    CHECK_RC(crumb_tpl_render(s, "nope", NULL, &o2, NULL), CRUMB_ENOTFOUND);
    crumb_tpl_set_free(s);
}

TEST(test_malformed_templates)
{
    crumb_tpl_set *s = crumb_tpl_set_new();
    char err[128];
    const char *bad[] = {"{{#a}}no close", "{{/a}}", "{{#a}}{{/b}}",
                         "{{ unclosed", "{{}}", "{{{ a }}", "{{#}}{{/}}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        int rc = crumb_tpl_set_add(s, "t", bad[i], strlen(bad[i]), err,
                                   sizeof(err));
        if (rc != CRUMB_EMALFORMED)
            T_FAIL_("\"%s\" gave %s", bad[i], crumb_errname(rc));
        CHECK(err[0] != '\0');
    }
    const char *ok = "a { b } {c} }} text";
    CHECK_RC(crumb_tpl_set_add(s, "t", ok, strlen(ok), err, sizeof(err)),
             CRUMB_OK);
    char *out = NULL;
    CHECK_RC(crumb_tpl_render(s, "t", NULL, &out, NULL), CRUMB_OK);
    CHECK_STR(out, ok);
    free(out);
    crumb_tpl_set_free(s);
}

TEST(test_load_dir)
{
    char dir[] = "/tmp/crumb-tpl-XXXXXX";
    CHECK(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof(path), "%s/hello.html", dir);
    FILE *f = fopen(path, "w");
    CHECK(f);
    fputs("Hello, {{ who }}!", f);
    fclose(f);
    snprintf(path, sizeof(path), "%s/ignored.txt", dir);
    f = fopen(path, "w");
    fputs("{{#broken}}", f);
    fclose(f);
    crumb_tpl_set *s = NULL;
    char err[256];
    CHECK_RC(crumb_tpl_set_load(&s, dir, err, sizeof(err)), CRUMB_OK);
    char *out = render(s, "hello", "{\"who\": \"<you>\"}");
    CHECK_STR(out, "Hello, &lt;you&gt;!");
    free(out);
    crumb_tpl_set_free(s);
    snprintf(path, sizeof(path), "%s/bad.html", dir);
    f = fopen(path, "w");
    fputs("line1\n{{#open}}", f);
    fclose(f);
    CHECK_RC(crumb_tpl_set_load(&s, dir, err, sizeof(err)), CRUMB_EMALFORMED);
    CHECK(strstr(err, "bad.html") != NULL);
    CHECK_RC(crumb_tpl_set_load(&s, "/nonexistent/dir", err, sizeof(err)),
             CRUMB_EIO);
    snprintf(path, sizeof(path), "rm -rf %s", dir);
    CHECK_INT(system(path), ==, 0);
}

TEST(test_html_escape)
{
    char *e = crumb_html_escape("a<b>&\"'`");
    CHECK_STR(e, "a&lt;b&gt;&amp;&quot;&#39;&#96;");
    free(e);
}

/* Found by fuzz_http_template: a NUL in the text made an op whose C
 * string was shorter than its length, and rendering read past it. */
TEST(test_nul_byte_refused)
{
    crumb_tpl_set *s = crumb_tpl_set_new();
    CHECK(s);
    char err[128] = "";
    static const char text[] = "a\nb\0c{{ name }}";
    CHECK_RC(crumb_tpl_set_add(s, "t", text, sizeof(text) - 1, err,
                               sizeof(err)),
             CRUMB_EMALFORMED);
    CHECK_STR(err, "line 2: NUL byte");
    static const char tag[] = "{{# a\0b }}x{{/ a\0b }}";
    CHECK_RC(crumb_tpl_set_add(s, "t", tag, sizeof(tag) - 1, NULL, 0),
             CRUMB_EMALFORMED);
    char *out = NULL;
    CHECK_RC(crumb_tpl_render(s, "t", NULL, &out, NULL), CRUMB_ENOTFOUND);
    crumb_tpl_set_free(s);
}

/* Seen writing fuzz_http_template: nested sections over one array multiply
 * (8^10 runs here) and the render never ended. A budget stops it. */
TEST(test_render_budget)
{
    char text[512] = "";
    for (int i = 0; i < 10; i++)
        strcat(text, "{{# items }}");
    strcat(text, "x");
    for (int i = 0; i < 10; i++)
        strcat(text, "{{/ items }}");
    crumb_tpl_set *s = set_with("t", text);
    json_t *ctx = json_loads("{\"items\": [1, 2, 3, 4, 5, 6, 7, 8]}", 0,
                             NULL);
    CHECK(ctx);
    char *out = NULL;
    CHECK_RC(crumb_tpl_render(s, "t", ctx, &out, NULL), CRUMB_ETOOBIG);
    CHECK(out == NULL);
    /* A long list is well within it. */
    json_t *items = json_object_get(ctx, "items");
    for (int i = 0; i < 20000; i++)
        json_array_append_new(items, json_integer(i));
    crumb_tpl_set_free(s);
    s = set_with("t", "<ul>{{# items }}<li>{{ . }}</li>{{/ items }}</ul>");
    size_t len = 0;
    CHECK_RC(crumb_tpl_render(s, "t", ctx, &out, &len), CRUMB_OK);
    CHECK_INT(len, >, 20000 * 9);
    free(out);
    json_decref(ctx);
    crumb_tpl_set_free(s);
}

/* Pages are rendered in a 16 KiB stack area first and move to the heap
 * past it: outputs on both sides of that edge come out whole. */
TEST(test_output_around_first_buffer)
{
    static const size_t sizes[] = {0, 1, 16382, 16383, 16384, 16385, 40000};
    crumb_tpl_set *s = set_with("t", "[{{ v }}]{{{ v }}}");
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        size_t n = sizes[k];
        char *v = malloc(n + 1);
        CHECK(v);
        for (size_t i = 0; i < n; i++)
            v[i] = (char)('a' + i % 26);
        v[n] = '\0';
        json_t *ctx = json_pack("{s:s}", "v", v);
        char *out = NULL;
        size_t len = 0;
        CHECK_RC(crumb_tpl_render(s, "t", ctx, &out, &len), CRUMB_OK);
        CHECK_INT(len, ==, 2 * n + 2);
        CHECK(out && out[len] == '\0' && out[0] == '[' && out[n + 1] == ']');
        CHECK(out && memcmp(out + 1, v, n) == 0 &&
              memcmp(out + n + 2, v, n) == 0);
        free(out);
        json_decref(ctx);
        free(v);
    }
    crumb_tpl_set_free(s);
}

int
main(void)
{
    TEST_BEGIN();
    RUN(test_escape_by_default);
    RUN(test_raw_only_when_marked);
    RUN(test_types);
    RUN(test_sections);
    RUN(test_partials_and_comments);
    RUN(test_malformed_templates);
    RUN(test_load_dir);
    RUN(test_html_escape);
    RUN(test_nul_byte_refused);
    RUN(test_render_budget);
    RUN(test_output_around_first_buffer);
    return TEST_END();
}
