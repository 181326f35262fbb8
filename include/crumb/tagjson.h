/* crumb/tagjson.h - Flask's tagged JSON: tuples, bytes, datetime, UUID... */
#ifndef CRUMB_TAGJSON_H
#define CRUMB_TAGJSON_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Flask writes Python values that JSON lacks as one-key objects whose key
 * starts with a space (flask/json/tag.py):
 *
 *   {" t": [..]}        tuple            {" b": "base64"}    bytes
 *   {" m": "<b>x</b>"}  Markup (HTML)    {" u": "32 hex"}    UUID
 *   {" d": "Wed, 21 Oct 2015 07:28:00 GMT"}                  datetime (UTC)
 *   {" di": {"K__": v}} a dict whose only key K is itself a tag key
 *
 * crumb keeps session values in this tagged form: what is in the cookie is
 * what the API holds, so no conversion runs on the hot path. The helpers
 * below build and read the tagged values.
 */

typedef enum crumb_tag {
    CRUMB_TAG_NONE = 0, /* plain JSON value */
    CRUMB_TAG_TUPLE,
    CRUMB_TAG_BYTES,
    CRUMB_TAG_MARKUP,
    CRUMB_TAG_UUID,
    CRUMB_TAG_DATETIME,
    CRUMB_TAG_DICT /* " di": an escaped one-key dict */
} crumb_tag;

/**
 * crumb_tag_of - which tag @v carries; CRUMB_TAG_NONE for plain values
 * (including a NULL @v). Only looks at the shape (one key that is a tag);
 * crumb_tagjson_check() validates contents.
 */
crumb_tag crumb_tag_of(const json_t *v);

/** crumb_tag_name - " t", " b"... for a tag; "" for CRUMB_TAG_NONE. */
const char *crumb_tag_name(crumb_tag tag);

/**
 * crumb_tagjson_check - validate every tag in @v, recursively: tuples hold
 * arrays, bytes valid base64, UUIDs 32 hex digits (dashes allowed as Python
 * does), datetimes in HTTP-date form, " di" one key ending in "__".
 * Returns CRUMB_OK or CRUMB_EMALFORMED (also for nesting over 512 levels).
 */
int crumb_tagjson_check(const json_t *v);

/**
 * crumb_tagjson_dumps - write @v exactly as Flask's session serializer does:
 * Python's json.dumps(separators=(",", ":"), sort_keys=True,
 * ensure_ascii=True), floats as Python's repr. Byte-identical to Flask for
 * the same value.
 * Returns CRUMB_OK, CRUMB_EINVAL (NaN/infinity or nesting over 512),
 * CRUMB_ENOMEM.
 * Lifetime: *out is malloc'd, NUL-terminated, owned by the caller (free()).
 */
int crumb_tagjson_dumps(const json_t *v, char **out, size_t *outlen);

/**
 * crumb_tagjson_loads - parse JSON text and check its tags.
 *
 * The root must be an object. Strings may hold NUL (\u0000) in values.
 * Returns CRUMB_OK, CRUMB_EMALFORMED, CRUMB_ENOMEM.
 * Lifetime: *out is a new reference owned by the caller (json_decref()).
 */
int crumb_tagjson_loads(const char *text, size_t len, json_t **out);

/* Constructors: each returns a new reference (NULL on failure or bad
 * argument); the caller owns it, or hands it to a crumb setter. */
json_t *crumb_tag_tuple_new(const json_t *array);   /* copies the array */
json_t *crumb_tag_bytes_new(const void *data, size_t len);
json_t *crumb_tag_markup_new(const char *html);
json_t *crumb_tag_uuid_new(const unsigned char uuid[16]);
json_t *crumb_tag_datetime_new(int64_t unix_seconds);

/**
 * Readers: return CRUMB_OK, or CRUMB_ETYPE when @v is not that tag, or
 * CRUMB_EMALFORMED when its content is bad.
 * crumb_tag_bytes_get: *out is malloc'd (free()), *len set.
 * crumb_tag_tuple_items / crumb_tag_markup_get: borrowed from @v.
 */
int crumb_tag_bytes_get(const json_t *v, unsigned char **out, size_t *len);
int crumb_tag_markup_get(const json_t *v, const char **html);
int crumb_tag_uuid_get(const json_t *v, unsigned char uuid[16]);
int crumb_tag_datetime_get(const json_t *v, int64_t *unix_seconds);
int crumb_tag_tuple_items(const json_t *v, const json_t **array);

/**
 * crumb_tag_wrap_dict - escape a plain object for storage in tagged form:
 * an object whose only key is a tag key becomes {" di": {"K__": v}}, any
 * other value is returned as is. Returns a new reference, NULL on ENOMEM.
 */
json_t *crumb_tag_wrap_dict(json_t *plain);

/**
 * crumb_http_date_format / crumb_http_date_parse - RFC 7231 IMF-fixdate
 * ("Wed, 21 Oct 2015 07:28:00 GMT"), as werkzeug's http_date writes it.
 * format writes 29 chars + NUL into @buf (>= 30 bytes); returns CRUMB_OK
 * or CRUMB_EINVAL (year outside 1..9999). parse also accepts RFC 850 and
 * asctime forms; returns CRUMB_OK or CRUMB_EMALFORMED.
 */
int crumb_http_date_format(int64_t unix_seconds, char *buf, size_t size);
int crumb_http_date_parse(const char *s, size_t len, int64_t *unix_seconds);

#ifdef __cplusplus
}
#endif
#endif
