/* json_number.h - JSON numbers to jansson values (json_parse.c's part). */
#ifndef CRUMB_JSON_NUMBER_H
#define CRUMB_JSON_NUMBER_H

#include <jansson.h>

/**
 * crumb__json_number - read the JSON number at *p (before @end) as
 * json_loadb reads it: without ".", "e" or "E" an integer, which must fit
 * int64; otherwise a real, which must not overflow a double (it may
 * underflow to 0). No leading zeros, no "+", no bare "-".
 *
 * Returns CRUMB_OK with *p moved past the number, CRUMB_EMALFORMED or
 * CRUMB_ENOMEM (*p then unspecified).
 * Lifetime: *out is a new reference owned by the caller.
 * Thread-safety: reads the locale's decimal point for reals that need
 * strtod(), as jansson does.
 */
int crumb__json_number(const unsigned char **p, const unsigned char *end,
                       json_t **out);

#endif
