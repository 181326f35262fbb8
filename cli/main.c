/* main.c - the crumb command: dispatch to a verb. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <time.h>
#include <sys/stat.h>

#include <crumb/crumb.h>

#include "cli.h"

static const struct {
    const char *name;
    int (*run)(int, char **);
    const char *summary;
} verbs[] = {
    {"keygen", cli_keygen, "print a new random secret key"},
    {"sign", cli_sign, "sign a session (JSON) into a Flask cookie value"},
    {"decode", cli_decode, "verify and print a session cookie"},
    {"sessions", cli_sessions, "list, revoke or sweep stored sessions"},
    {"users", cli_users, "add, change, remove or list users"},
    {"analytics", cli_analytics, "page views, flows and logins, as text or "
                                 "JSON"},
};

static void
usage(FILE *f)
{
    fprintf(f, "usage: crumb VERB [OPTIONS]\n\nverbs:\n");
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        fprintf(f, "  %-8s %s\n", verbs[i].name, verbs[i].summary);
    fprintf(f, "\n`crumb VERB --help` tells more. crumb %s\n", CRUMB_VERSION);
}

void
cli_error(const char *verb, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "crumb %s: ", verb);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static int
hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int
cli_key_parse(const char *arg, int hex, unsigned char **out, size_t *len)
{
    size_t n = strlen(arg);
    if (!hex) {
        *out = malloc(n ? n : 1);
        if (!*out)
            return -1;
        memcpy(*out, arg, n);
        *len = n;
        return 0;
    }
    if (n % 2)
        return -1;
    *out = malloc(n / 2 ? n / 2 : 1);
    if (!*out)
        return -1;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hexval(arg[2 * i]), lo = hexval(arg[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            free(*out);
            *out = NULL;
            return -1;
        }
        (*out)[i] = (unsigned char)(hi << 4 | lo);
    }
    *len = n / 2;
    return 0;
}

int
cli_store_reachable(const char *verb, const char *uri, const char *cookie_why)
{
    if (!uri || !*uri) {
        cli_error(verb, "no store: give --store URI or set CRUMB_STORE "
                        "(sqlite:PATH or redis://HOST:PORT/DB)");
        return 2;
    }
    if (!strcmp(uri, "cookie")) {
        cli_error(verb, "the store is \"cookie\": %s", cookie_why);
        return 2;
    }
    if (!strncmp(uri, "memory:", 7)) {
        cli_error(verb, "a memory: store lives inside one process; the "
                        "crumb command cannot reach it");
        return 2;
    }
    struct stat sb;
    if (!strncmp(uri, "sqlite:", 7) && stat(uri + 7, &sb) != 0) {
        cli_error(verb, "no session store at %s", uri + 7);
        return 1;
    }
    return 0;
}

int
cli_parse_i64(const char *s, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end)
        return -1;
    *out = v;
    return 0;
}

void
cli_time_iso(int64_t t, char *out)
{
    struct tm tm;
    time_t tt = (time_t)t;
    if (!gmtime_r(&tt, &tm) ||
        strftime(out, CLI_TIME_SIZE, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, CLI_TIME_SIZE, "@%lld", (long long)t);
}

void
cli_printable(const char *in, char *out, size_t size)
{
    size_t i = 0;
    for (; in[i] && i + 1 < size; i++) {
        unsigned char c = (unsigned char)in[i];
        out[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    out[i] = '\0';
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("crumb %s\n", CRUMB_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        if (!strcmp(argv[1], verbs[i].name))
            return verbs[i].run(argc - 1, argv + 1);
    fprintf(stderr, "crumb: unknown verb '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
