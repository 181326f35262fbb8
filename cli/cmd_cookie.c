/* cmd_cookie.c - `crumb sign` and `crumb decode`: Flask session cookies
 * from the command line. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <crumb/crumb.h>

#include "cli.h"

#define MAX_FALLBACKS 16

static const char sign_help[] =
    "usage: crumb sign (--secret-key KEY | --secret-key-hex HEX)\n"
    "                  [--salt S] [--timestamp T] [--digest sha1|sha256|sha512]\n"
    "                  [--compression flask|fast] JSON\n"
    "\n"
    "Prints the cookie value Flask would send for the session JSON (an\n"
    "object in Flask's tagged JSON: {\"t\": {\" t\": [1, 2]}} holds a tuple,\n"
    "\" b\" bytes, \" d\" a datetime, \" u\" a UUID, \" m\" Markup).\n"
    "--salt defaults to \"cookie-session\", --timestamp to now (unix seconds),\n"
    "--digest to sha1 (Flask's). --compression flask (the default) writes\n"
    "exactly Flask's bytes; fast is what libcrumb does by default: the same\n"
    "session, maybe another zlib stream.\n";

static const char decode_help[] =
    "usage: crumb decode [--secret-key KEY | --secret-key-hex HEX]\n"
    "                    [--fallback-key KEY | --fallback-key-hex HEX]...\n"
    "                    [--max-age SECONDS] [--now UNIX_TIME] [--salt S]\n"
    "                    [--digest sha1|sha256|sha512] COOKIE\n"
    "\n"
    "Verifies a session cookie (Flask's or crumb's) and prints the session\n"
    "as tagged JSON. Exits 0 when valid; otherwise 1 with the reason\n"
    "(malformed, bad signature, expired) on stderr. Without a key the\n"
    "payload is printed UNVERIFIED with a warning, and the exit status is 1.\n";

struct cookie_opts {
    unsigned char *key;
    size_t key_len;
    unsigned char *fallback[MAX_FALLBACKS];
    size_t fallback_len[MAX_FALLBACKS];
    size_t nfallback;
    crumb_signer_options signer;
    long long timestamp, max_age, now;
    int has_timestamp, has_max_age, has_now;
};

static void
cookie_opts_free(struct cookie_opts *o)
{
    free(o->key);
    for (size_t i = 0; i < o->nfallback; i++)
        free(o->fallback[i]);
}

enum {
    OPT_KEY = 1000,
    OPT_KEY_HEX,
    OPT_FALLBACK,
    OPT_FALLBACK_HEX,
    OPT_SALT,
    OPT_TIMESTAMP,
    OPT_MAX_AGE,
    OPT_NOW,
    OPT_DIGEST,
    OPT_COMPRESSION,
};

/* Parses the options both verbs share; returns -1 after printing why,
 * 1 after printing help, 0 to go on. */
static int
parse_cookie_opts(const char *verb, const char *help, int argc, char **argv,
                  struct cookie_opts *o)
{
    static const struct option opts[] = {
        {"secret-key", required_argument, NULL, OPT_KEY},
        {"secret-key-hex", required_argument, NULL, OPT_KEY_HEX},
        {"fallback-key", required_argument, NULL, OPT_FALLBACK},
        {"fallback-key-hex", required_argument, NULL, OPT_FALLBACK_HEX},
        {"salt", required_argument, NULL, OPT_SALT},
        {"timestamp", required_argument, NULL, OPT_TIMESTAMP},
        {"max-age", required_argument, NULL, OPT_MAX_AGE},
        {"now", required_argument, NULL, OPT_NOW},
        {"digest", required_argument, NULL, OPT_DIGEST},
        {"compression", required_argument, NULL, OPT_COMPRESSION},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_KEY:
        case OPT_KEY_HEX:
            free(o->key);
            o->key = NULL;
            if (cli_key_parse(optarg, c == OPT_KEY_HEX, &o->key,
                              &o->key_len)) {
                cli_error(verb, "--secret-key-hex wants hex digits");
                return -1;
            }
            break;
        case OPT_FALLBACK:
        case OPT_FALLBACK_HEX:
            if (o->nfallback == MAX_FALLBACKS) {
                cli_error(verb, "at most %d fallback keys", MAX_FALLBACKS);
                return -1;
            }
            if (cli_key_parse(optarg, c == OPT_FALLBACK_HEX,
                              &o->fallback[o->nfallback],
                              &o->fallback_len[o->nfallback])) {
                cli_error(verb, "--fallback-key-hex wants hex digits");
                return -1;
            }
            o->nfallback++;
            break;
        case OPT_SALT:
            o->signer.salt = optarg;
            break;
        case OPT_TIMESTAMP:
        case OPT_MAX_AGE:
        case OPT_NOW: {
            long long v;
            if (cli_parse_i64(optarg, &v) || v < 0) {
                cli_error(verb, "%s wants a non-negative integer",
                          argv[optind - 1]);
                return -1;
            }
            if (c == OPT_TIMESTAMP)
                o->timestamp = v, o->has_timestamp = 1;
            else if (c == OPT_MAX_AGE)
                o->max_age = v, o->has_max_age = 1;
            else
                o->now = v, o->has_now = 1;
            break;
        }
        case OPT_DIGEST:
            if (!strcmp(optarg, "sha1"))
                o->signer.digest = CRUMB_DIGEST_SHA1;
            else if (!strcmp(optarg, "sha256"))
                o->signer.digest = CRUMB_DIGEST_SHA256;
            else if (!strcmp(optarg, "sha512"))
                o->signer.digest = CRUMB_DIGEST_SHA512;
            else {
                cli_error(verb, "--digest wants sha1, sha256 or sha512");
                return -1;
            }
            break;
        case OPT_COMPRESSION:
            if (!strcmp(optarg, "flask"))
                o->signer.compression = CRUMB_COMPRESS_FLASK;
            else if (!strcmp(optarg, "fast"))
                o->signer.compression = CRUMB_COMPRESS_FAST;
            else {
                cli_error(verb, "--compression wants flask or fast");
                return -1;
            }
            break;
        case 'h':
            fputs(help, stdout);
            return 1;
        default:
            fputs(help, stderr);
            return -1;
        }
    }
    if (optind != argc - 1) {
        fputs(help, stderr);
        return -1;
    }
    return 0;
}

/* A signer holding the key and then the fallbacks; NULL after an error. */
static crumb_signer *
make_signer(const char *verb, const struct cookie_opts *o)
{
    crumb_signer *s = NULL;
    int rc = crumb_signer_new(&s, &o->signer);
    if (rc == CRUMB_OK)
        rc = crumb_signer_add_key(s, o->key, o->key_len);
    for (size_t i = 0; rc == CRUMB_OK && i < o->nfallback; i++)
        rc = crumb_signer_add_key(s, o->fallback[i], o->fallback_len[i]);
    if (rc != CRUMB_OK) {
        cli_error(verb, "%s", rc == CRUMB_EINVAL ? "a secret key is empty"
                                                 : crumb_strerror(rc));
        crumb_signer_free(s);
        return NULL;
    }
    if (o->key_len < 32)
        fprintf(stderr, "crumb %s: warning: the secret key is shorter than "
                        "32 bytes\n", verb);
    return s;
}

int
cli_sign(int argc, char **argv)
{
    struct cookie_opts o = {0};
    o.signer.compression = CRUMB_COMPRESS_FLASK; /* Flask's exact bytes */
    int status = 2;
    crumb_signer *s = NULL;
    json_t *obj = NULL;
    char *out = NULL;
    int p = parse_cookie_opts("sign", sign_help, argc, argv, &o);
    if (p != 0) {
        status = p > 0 ? 0 : 2;
        goto out;
    }
    if (!o.key) {
        cli_error("sign", "--secret-key or --secret-key-hex is required");
        goto out;
    }
    json_error_t err;
    obj = json_loads(argv[argc - 1], JSON_ALLOW_NUL, &err);
    if (!obj) {
        cli_error("sign", "invalid JSON: %s (column %d)", err.text,
                  err.column);
        goto out;
    }
    crumb_tag tag = crumb_tag_of(obj);
    if (!json_is_object(obj) || (tag != CRUMB_TAG_NONE && tag != CRUMB_TAG_DICT)) {
        cli_error("sign", "the session must be a JSON object (a dict)");
        goto out;
    }
    if (crumb_tagjson_check(obj) != CRUMB_OK) {
        cli_error("sign", "malformed tagged value in the JSON");
        goto out;
    }
    status = 1;
    s = make_signer("sign", &o);
    if (!s)
        goto out;
    size_t len;
    int64_t ts = o.has_timestamp ? o.timestamp : crumb_clock_real(NULL);
    int rc = crumb_signer_dumps(s, obj, ts, &out, &len);
    if (rc != CRUMB_OK) {
        cli_error("sign", "%s", crumb_strerror(rc));
        goto out;
    }
    puts(out);
    status = 0;
out:
    free(out);
    json_decref(obj);
    crumb_signer_free(s);
    cookie_opts_free(&o);
    return status;
}

static int
print_json(const json_t *v)
{
    char *text = NULL;
    size_t len;
    if (crumb_tagjson_dumps(v, &text, &len) != CRUMB_OK)
        return -1;
    puts(text);
    free(text);
    return 0;
}

int
cli_decode(int argc, char **argv)
{
    struct cookie_opts o = {0};
    int status = 2;
    crumb_signer *s = NULL;
    json_t *obj = NULL;
    int p = parse_cookie_opts("decode", decode_help, argc, argv, &o);
    if (p != 0) {
        status = p > 0 ? 0 : 2;
        goto out;
    }
    const char *cookie = argv[argc - 1];
    size_t len = strlen(cookie);
    status = 1;
    if (!o.key) {
        int rc = crumb_payload_decode(cookie, len, 0, &obj);
        if (rc != CRUMB_OK) {
            cli_error("decode", "malformed cookie: %s", crumb_strerror(rc));
            goto out;
        }
        print_json(obj);
        fprintf(stderr, "crumb decode: warning: no secret key given: the "
                        "signature was NOT verified\n");
        goto out;
    }
    s = make_signer("decode", &o);
    if (!s)
        goto out;
    int64_t now = o.has_now ? o.now : crumb_clock_real(NULL);
    int64_t ts = 0;
    int rc = crumb_signer_loads(s, cookie, len, o.has_max_age ? o.max_age : -1,
                                now, &obj, &ts);
    switch (rc) {
    case CRUMB_OK:
        if (print_json(obj) == 0)
            status = 0;
        break;
    case CRUMB_EBADSIG:
        cli_error("decode", "bad signature: no given key signed this cookie");
        break;
    case CRUMB_EEXPIRED:
        cli_error("decode", "expired: older than --max-age %lld s (or signed "
                            "in the future) at %lld",
                  o.max_age, (long long)now);
        break;
    case CRUMB_ETOOBIG:
        cli_error("decode", "malformed cookie: payload too large");
        break;
    case CRUMB_EMALFORMED:
        cli_error("decode", "malformed cookie: not a signed session value");
        break;
    default:
        cli_error("decode", "%s", crumb_strerror(rc));
        break;
    }
out:
    json_decref(obj);
    crumb_signer_free(s);
    cookie_opts_free(&o);
    return status;
}
