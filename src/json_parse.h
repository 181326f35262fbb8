/* json_parse.h - libcrumb's own JSON reader, building jansson trees. */
#ifndef CRUMB_JSON_PARSE_H
#define CRUMB_JSON_PARSE_H

#include <stddef.h>

#include <jansson.h>

/* The deepest nesting accepted, counting every value (the root is level
 * 1): jansson's JSON_PARSER_MAX_DEPTH, so both refuse the same texts. */
#define CRUMB__JSON_MAX_DEPTH 2048

/* What the parser saw on its way, so a caller can skip a second walk over
 * the tree when nothing it looks for is there. Both are upper bounds: a
 * value a duplicate key replaced still counts. */
typedef struct crumb__json_info {
    size_t depth;  /* the deepest value's level; the root is 1 */
    int space_key; /* some object key starts with a space (a Flask tag) */
} crumb__json_info;

/**
 * crumb__json_parse - parse @len bytes of JSON text into a jansson tree.
 *
 * Accepts exactly the texts json_loadb(text, len, JSON_ALLOW_NUL, &err)
 * accepts and builds the same tree (same types, integer vs real, same
 * values, same key order; a duplicate key keeps its first place and its
 * last value). The root must be an array or an object. Strings must be
 * valid UTF-8 and may hold NUL (\u0000), keys may not. Integers outside
 * int64, reals that overflow a double, NaN and Infinity are refused. Like
 * json_loadb, it skips one NUL byte right after a number, true, false or
 * null ("[1\0]" is [1]): a jansson quirk kept for sameness.
 * Nesting is bounded by CRUMB__JSON_MAX_DEPTH; no recursion.
 *
 * @info, when not NULL, is filled on success.
 * Returns CRUMB_OK, CRUMB_EMALFORMED (also for a NULL @text) or
 * CRUMB_ENOMEM; on failure *out is NULL and nothing is left allocated.
 * Lifetime: *out is a new reference owned by the caller (json_decref()).
 * Thread-safety: none needed; reads the locale's decimal point only for
 * reals that take strtod().
 */
int crumb__json_parse(const char *text, size_t len, json_t **out,
                      crumb__json_info *info);

#endif
