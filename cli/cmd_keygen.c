/* cmd_keygen.c - `crumb keygen`: a new random secret key. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <crumb/crumb.h>

#include "cli.h"

static const char keygen_help[] =
    "usage: crumb keygen [--bytes N]\n"
    "\n"
    "Prints a new secret key: N random bytes (default 32, at least 32) from\n"
    "the operating system's CSPRNG, as URL-safe base64 text, usable as\n"
    "CRUMB_SECRET_KEY or as Flask's SECRET_KEY.\n";

int
cli_keygen(int argc, char **argv)
{
    static const struct option opts[] = {
        {"bytes", required_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long long nbytes = 32;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "b:h", opts, NULL)) != -1) {
        switch (c) {
        case 'b':
            if (cli_parse_i64(optarg, &nbytes) || nbytes < 32 ||
                nbytes > 512) {
                cli_error("keygen", "--bytes wants 32..512");
                return 2;
            }
            break;
        case 'h':
            fputs(keygen_help, stdout);
            return 0;
        default:
            fputs(keygen_help, stderr);
            return 2;
        }
    }
    if (optind != argc) {
        fputs(keygen_help, stderr);
        return 2;
    }
    char out[CRUMB_B64_ENCODED_LEN(512) + 1];
    int rc = crumb_random_token((size_t)nbytes, out, sizeof out);
    if (rc != CRUMB_OK) {
        cli_error("keygen", "%s", crumb_strerror(rc));
        return 1;
    }
    puts(out);
    return 0;
}
