/* fuzz_http_template.c - libFuzzer target: compile the input as a
 * template and render it with a fixed context whose strings hold markup.
 * Unless the template asks for raw output ({{{ }}} or |safe), every '<'
 * that comes from the context is escaped. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <crumb/error.h>
#include <crumb/http.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
require(int cond)
{
    if (!cond)
        __builtin_trap();
}

/* Every unsafe string of the context holds MARK right after a '<', and
 * the template text never holds MARK (it is replaced on the way in): a
 * MARK in the output came from the context, and its '<' must be "&lt;". */
#define MARK '\x01'

static const char context_json[] =
    "{\"name\": \"<\\u0001x>\","
    " \"title\": \"Tom & <\\u0001b>'Jerry'\\\"`\","
    " \"user\": {\"name\": \"<\\u0001u>\", \"admin\": true, \"id\": 7,"
    "          \"tags\": [\"<\\u0001t>\", \"ok\"],"
    "          \"profile\": {\"bio\": \"<\\u0001script>\"}},"
    " \"items\": [\"<\\u0001i>\", \"plain\", 3, 2.5, true, null,"
    "            {\"name\": \"<\\u0001n>\", \"price\": 10},"
    "            [\"<\\u0001deep>\", [\"<\\u0001deeper>\"]]],"
    " \"rows\": [{\"cells\": [\"<\\u0001c>\", \"d\"]}, {\"cells\": []}],"
    " \"n\": 42, \"big\": -9223372036854775807, \"f\": 1e300,"
    " \"t\": true, \"no\": false, \"nil\": null, \"empty\": [],"
    " \"s\": \"\", \"obj\": {}}";

/* 1 when @t (NUL-free copy) may emit raw values. */
static int
uses_raw(const char *t)
{
    return strstr(t, "{{{") != NULL || strstr(t, "|safe") != NULL;
}

static void
check_escaped(const char *out, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (out[i] != MARK)
            continue;
        require(i >= 4 && memcmp(out + i - 4, "&lt;", 4) == 0);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static json_t *ctx;
    if (!ctx) {
        ctx = json_loads(context_json, 0, NULL);
        require(ctx != NULL);
    }
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    for (size_t i = 0; i < size; i++)
        text[i] = data[i] == MARK ? '?' : (char)data[i];
    text[size] = '\0';

    crumb_tpl_set *set = crumb_tpl_set_new();
    require(set != NULL);
    char err[256];
    err[0] = '\0';
    int rc = crumb_tpl_set_add(set, "t", text, size, err, sizeof(err));
    require(rc == CRUMB_OK || rc == CRUMB_EMALFORMED || rc == CRUMB_ENOMEM);
    if (rc == CRUMB_EMALFORMED)
        require(err[0] != '\0' && strlen(err) < sizeof(err));
    /* A partial that calls back: recursion must stay bounded. */
    static const char partial[] = "<p>{{ name }}{{> t }}</p>";
    rc = crumb_tpl_set_add(set, "p", partial, sizeof(partial) - 1, NULL, 0);
    require(rc == CRUMB_OK || rc == CRUMB_ENOMEM);

    char *out = NULL;
    size_t len = 0;
    rc = crumb_tpl_render(set, "t", ctx, &out, &len);
    require(rc == CRUMB_OK || rc == CRUMB_ENOTFOUND || rc == CRUMB_ETOOBIG ||
            rc == CRUMB_ENOMEM);
    require((rc == CRUMB_OK) == (out != NULL));
    if (out) {
        require(out[len] == '\0');
        /* A NUL-free template and context: the output is a C string. */
        if (!memchr(text, '\0', size))
            require(strlen(out) == len);
        if (!memchr(text, '\0', size) && !uses_raw(text))
            check_escaped(out, len);
        free(out);
    }
    crumb_tpl_set_free(set);

    /* crumb_html_escape leaves no markup at all. */
    char *e = crumb_html_escape(text);
    if (e) {
        require(strpbrk(e, "<>\"'`") == NULL);
        free(e);
    }
    free(text);
    return 0;
}
