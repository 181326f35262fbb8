/* json_diff.h - the differential check of crumb__json_parse against
 * jansson's json_loadb, shared by fuzz/fuzz_json.c and
 * tests/unit/test_json_parse.c. */
#ifndef CRUMB_JSON_DIFF_H
#define CRUMB_JSON_DIFF_H

#include <string.h>

#include <jansson.h>

#include <crumb/error.h>
#include <crumb/tagjson.h>

#include "json_parse.h"

/*
 * Stricter than json_equal(): the same types (an integer is not a real),
 * reals equal bit for bit (-0.0 is not 0.0), strings byte for byte, and
 * object keys in the same order.
 */
static int
json_diff_same(const json_t *a, const json_t *b)
{
    if (json_typeof(a) != json_typeof(b))
        return 0;
    switch (json_typeof(a)) {
    case JSON_OBJECT: {
        if (json_object_size(a) != json_object_size(b))
            return 0;
        void *ia = json_object_iter((json_t *)a);
        void *ib = json_object_iter((json_t *)b);
        for (; ia && ib; ia = json_object_iter_next((json_t *)a, ia),
                         ib = json_object_iter_next((json_t *)b, ib)) {
            size_t la = json_object_iter_key_len(ia);
            if (la != json_object_iter_key_len(ib) ||
                memcmp(json_object_iter_key(ia), json_object_iter_key(ib),
                       la) != 0 ||
                !json_diff_same(json_object_iter_value(ia),
                                json_object_iter_value(ib)))
                return 0;
        }
        return !ia && !ib;
    }
    case JSON_ARRAY:
        if (json_array_size(a) != json_array_size(b))
            return 0;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!json_diff_same(json_array_get(a, i), json_array_get(b, i)))
                return 0;
        return 1;
    case JSON_STRING:
        return json_string_length(a) == json_string_length(b) &&
               memcmp(json_string_value(a), json_string_value(b),
                      json_string_length(a)) == 0;
    case JSON_INTEGER:
        return json_integer_value(a) == json_integer_value(b);
    case JSON_REAL: {
        double x = json_real_value(a), y = json_real_value(b);
        return memcmp(&x, &y, sizeof x) == 0;
    }
    default:
        return 1;
    }
}

/* What crumb__json_info should say about @v at @level. */
static void
json_diff_info(const json_t *v, size_t level, crumb__json_info *info)
{
    if (level > info->depth)
        info->depth = level;
    if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++)
            json_diff_info(json_array_get(v, i), level + 1, info);
    } else if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x) {
            info->space_key |= k[0] == ' ';
            json_diff_info(x, level + 1, info);
        }
    }
}

/* crumb_tagjson_loads as it was: json_loadb, an object root, the tags. */
static int
json_diff_old_loads(const json_t *v)
{
    if (!v)
        return CRUMB_EMALFORMED;
    return json_is_object(v) ? crumb_tagjson_check(v) : CRUMB_EMALFORMED;
}

/*
 * Runs both parsers on @text. Returns NULL when they agree (both refuse,
 * or both build the same tree, and crumb_tagjson_loads gives the verdict
 * and tree the old json_loadb-based code gave), else what differs. Out of
 * memory on either side proves nothing and counts as agreement.
 */
static const char *
json_diff(const char *text, size_t len)
{
    json_error_t err;
    json_t *want = json_loadb(text, len, JSON_ALLOW_NUL, &err);
    json_t *got = NULL, *loaded = NULL;
    crumb__json_info info = {0, 0}, winfo = {0, 0};
    int rc = crumb__json_parse(text, len, &got, &info);
    const char *why = NULL;
    if (rc == CRUMB_ENOMEM ||
        (!want && json_error_code(&err) == json_error_out_of_memory))
        goto out;
    if ((rc == CRUMB_OK) != (got != NULL))
        why = "return code and tree disagree";
    else if (want && !got)
        why = "refused what json_loadb accepts";
    else if (!want && got)
        why = "accepted what json_loadb refuses";
    else if (want && !json_equal(want, got))
        why = "trees differ (json_equal)";
    else if (want && !json_diff_same(want, got))
        why = "trees differ (types, real bits, string bytes or key order)";
    if (!why && want) {
        json_diff_info(want, 1, &winfo);
        /* Upper bounds: a value replaced by a duplicate key still counts. */
        if (info.depth < winfo.depth || (winfo.space_key && !info.space_key))
            why = "crumb__json_info is wrong";
    }
    if (!why) {
        int old = json_diff_old_loads(want);
        rc = crumb_tagjson_loads(text, len, &loaded);
        if (old == CRUMB_ENOMEM || rc == CRUMB_ENOMEM)
            goto out;
        if (rc != old)
            why = "crumb_tagjson_loads verdict differs from json_loadb+check";
        else if (rc == CRUMB_OK && !json_diff_same(want, loaded))
            why = "crumb_tagjson_loads tree differs";
    }
out:
    json_decref(want);
    json_decref(got);
    json_decref(loaded);
    return why;
}

#endif
