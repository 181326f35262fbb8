/* cli.h - what the crumb command's verb files share. */
#ifndef CRUMB_CLI_H
#define CRUMB_CLI_H

#include <stddef.h>
#include <stdint.h>

/* Each verb: argv[0] is the verb's name; returns the exit status. */
int cli_keygen(int argc, char **argv);
int cli_sign(int argc, char **argv);
int cli_decode(int argc, char **argv);
int cli_sessions(int argc, char **argv);
int cli_users(int argc, char **argv);
int cli_analytics(int argc, char **argv);

/* Reports "crumb VERB: message" on stderr. */
void cli_error(const char *verb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A key given as text or as hex (--*-key-hex). Returns 0 or -1 (bad hex);
 * *out is malloc'd. */
int cli_key_parse(const char *arg, int hex, unsigned char **out, size_t *len);

/*
 * Whether the crumb command can reach the session store @uri (else says
 * why as VERB and returns the exit status): one is given (--store or
 * CRUMB_STORE), it is not "cookie" (@cookie_why says what that means for
 * VERB) nor "memory:" (inside one process), and an sqlite: file exists
 * (status 1); usage errors are status 2. Returns 0 to go on.
 */
int cli_store_reachable(const char *verb, const char *uri,
                        const char *cookie_why);

/* Parses a decimal int64 strictly; returns 0 or -1. */
int cli_parse_i64(const char *s, long long *out);

/* Unix seconds as ISO 8601 UTC ("2023-11-14T22:13:20Z") into @out, which
 * needs CLI_TIME_SIZE bytes. */
#define CLI_TIME_SIZE 32
void cli_time_iso(int64_t t, char *out);

/* @in with control characters replaced by '?', for a terminal: text read
 * back from a store or a database is not trusted. Truncates to @size. */
void cli_printable(const char *in, char *out, size_t size);

#endif
