/* crumb/cookie.h - Cookie header parsing and Set-Cookie formatting. */
#ifndef CRUMB_COOKIE_H
#define CRUMB_COOKIE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * RFC 6265 section 4.2.1:
 *   cookie-header = "Cookie:" OWS cookie-string OWS
 *   cookie-string = cookie-pair *( ";" SP cookie-pair )
 *   cookie-pair   = cookie-name "=" cookie-value
 *   cookie-value  = *cookie-octet / ( DQUOTE *cookie-octet DQUOTE )
 *   cookie-octet  = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E
 * Browsers send worse than this, so the parser is lenient where it is safe
 * (missing space, stray ';', pairs without '=' skipped) and strict where it
 * is not (a pair with a control character is skipped; bounded sizes).
 * docs/api/cookie.md lists every rule.
 */

#define CRUMB_COOKIE_HEADER_MAX 16384 /* longer headers are refused */
#define CRUMB_COOKIE_PAIRS_MAX 128    /* pairs past this are ignored */

typedef struct crumb_cookie_pair {
    const char *name; /* points into the header; not NUL-terminated */
    size_t name_len;
    const char *value; /* quotes removed; points into the header */
    size_t value_len;
} crumb_cookie_pair;

/**
 * crumb_cookie_parse - split a Cookie header into pairs, in order.
 *
 * Writes at most @max pairs into @pairs and returns how many were found
 * (may exceed @max: the rest are not written; at most
 * CRUMB_COOKIE_PAIRS_MAX), CRUMB_ETOOBIG when the header is longer than
 * CRUMB_COOKIE_HEADER_MAX, or CRUMB_EINVAL for a NULL @header with @len
 * > 0 or NULL @pairs with @max > 0. @header need not be NUL-terminated;
 * nothing past @len is read. Names and values are trimmed of SP and HTAB
 * and one pair of surrounding quotes is removed from a value; backslash
 * escapes inside quotes are not decoded (Flask never writes any). A pair
 * without '=', with an empty name, with a control character in its name or
 * value, or with a separator in its name is skipped. Never allocates.
 * Lifetime: pointers borrow @header.
 */
int crumb_cookie_parse(const char *header, size_t len, crumb_cookie_pair *pairs,
                       size_t max);

/**
 * crumb_cookie_get - the value of the first cookie named @name.
 *
 * First wins, as browsers send the most specific path first and as
 * werkzeug does. Sees the pairs crumb_cookie_parse returns; the name is
 * compared exactly. @value and @value_len may be NULL. Returns CRUMB_OK,
 * CRUMB_ENOTFOUND, CRUMB_ETOOBIG, or CRUMB_EINVAL (NULL @name).
 * Lifetime: *value borrows @header.
 */
int crumb_cookie_get(const char *header, size_t len, const char *name,
                     const char **value, size_t *value_len);

typedef enum crumb_samesite {
    CRUMB_SAMESITE_LAX = 0, /* the default */
    CRUMB_SAMESITE_STRICT,
    CRUMB_SAMESITE_NONE, /* requires secure */
    CRUMB_SAMESITE_OMIT  /* no attribute at all */
} crumb_samesite;

typedef struct crumb_setcookie {
    const char *name;   /* token characters only */
    const char *value;  /* cookie-octets only; NULL means "" */
    const char *domain; /* NULL or "": host-only; a leading '.' is kept */
    const char *path;   /* NULL: "/" */
    int64_t expires;    /* unix seconds, years 1-9999; when has_expires */
    int has_expires;
    int64_t max_age; /* seconds; used when has_max_age; <0 written as 0 */
    int has_max_age;
    int secure;
    int httponly;
    int partitioned;
    crumb_samesite samesite;
} crumb_setcookie;

/**
 * crumb_setcookie_format - the Set-Cookie header value for @c.
 *
 * Attribute order: name=value; Domain; Expires; Max-Age; Secure; HttpOnly;
 * Path; SameSite; Partitioned (werkzeug's order). Refuses (CRUMB_EINVAL) a
 * name that is not a token, a value with a non cookie-octet (it is never
 * quoted), a domain with other than letters, digits, '-', '.', '_', a path
 * with ';', controls or non-ASCII, an expires outside years 1-9999, an
 * unknown samesite, SameSite=None or Partitioned without Secure, and a
 * "__Host-" name with a domain, a path other than "/" or no Secure, or a
 * "__Secure-" name without Secure (prefixes compared ignoring case).
 * Returns CRUMB_OK, CRUMB_EINVAL, CRUMB_ENOMEM; on failure *out is NULL.
 * @outlen may be NULL.
 * Lifetime: *out is malloc'd, NUL-terminated, owned by the caller (free()).
 */
int crumb_setcookie_format(const crumb_setcookie *c, char **out,
                           size_t *outlen);

#ifdef __cplusplus
}
#endif
#endif
