/* cmd_sessions.c - `crumb sessions list|revoke|gc`: stored sessions. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <crumb/crumb.h>

#include "cli.h"

#define LIST_LIMIT_DEFAULT 1000

static const char sessions_help[] =
    "usage: crumb sessions list [--user U] [--json] [--limit N]\n"
    "                           [--store URI]\n"
    "       crumb sessions revoke (HANDLE | --user U) [--store URI]\n"
    "       crumb sessions gc [--store URI]\n"
    "\n"
    "Server-side sessions in the store crumb-shop uses: --store URI, else\n"
    "the environment's CRUMB_STORE (sqlite:PATH or redis://HOST:PORT/DB).\n"
    "`crumb sessions VERB --help` tells more.\n";

static const char list_help[] =
    "usage: crumb sessions list [--user U] [--json] [--limit N]\n"
    "                           [--store URI]\n"
    "\n"
    "Prints the live sessions, most recently seen first: of user U, or of\n"
    "everyone (anonymous visitors too, at most N: default 1000). A table\n"
    "(handle, user, created, last seen, address, agent; times in UTC), or\n"
    "with --json one JSON object per line. The handle names a session for\n"
    "`crumb sessions revoke`; it is not the cookie's id.\n";

static const char revoke_help[] =
    "usage: crumb sessions revoke (HANDLE | --user U) [--store URI]\n"
    "\n"
    "Ends the session named HANDLE (from `crumb sessions list`), or every\n"
    "session of user U, and prints how many ended. The next request of\n"
    "those browsers is anonymous. An unknown HANDLE exits 1.\n";

static const char gc_help[] =
    "usage: crumb sessions gc [--store URI]\n"
    "\n"
    "Removes the expired session records now and prints how many went.\n"
    "(Expired records are unusable at once anyway; SQLite keeps them until\n"
    "a sweep, Redis drops them by itself.)\n";

enum { OPT_STORE = 1000, OPT_USER, OPT_JSON, OPT_LIMIT };

struct sess_opts {
    const char *store;
    const char *user;
    int json;
    long long limit;
};

/* Parses the options of `sessions VERB`; returns -1 after printing why
 * (exit 2), 1 after printing help (exit 0), 0 to go on. */
static int
parse_opts(const char *help, int argc, char **argv, struct sess_opts *o)
{
    static const struct option opts[] = {
        {"store", required_argument, NULL, OPT_STORE},
        {"user", required_argument, NULL, OPT_USER},
        {"json", no_argument, NULL, OPT_JSON},
        {"limit", required_argument, NULL, OPT_LIMIT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_STORE:
            o->store = optarg;
            break;
        case OPT_USER:
            if (!*optarg) {
                cli_error("sessions", "--user wants a user name");
                return -1;
            }
            o->user = optarg;
            break;
        case OPT_JSON:
            o->json = 1;
            break;
        case OPT_LIMIT:
            if (cli_parse_i64(optarg, &o->limit) || o->limit < 1 ||
                o->limit > 10000000) {
                cli_error("sessions", "--limit wants 1..10000000");
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
    if (!o->store)
        o->store = getenv("CRUMB_STORE");
    return 0;
}

/* The store mode interface for @uri, or NULL after saying why; *status
 * is the exit status then. */
static crumb_iface *
open_iface(const char *uri, int *status)
{
    *status = cli_store_reachable(
        "sessions", uri,
        "such sessions live in the browsers' cookies, there is nothing "
        "stored to list or revoke (rotate the secret key to end them all)");
    if (*status != 0)
        return NULL;
    crumb_config cfg;
    crumb_config_init(&cfg);
    cfg.store_uri = uri;
    crumb_iface *iface = NULL;
    int rc = crumb_iface_new(&iface, &cfg);
    if (rc != CRUMB_OK) {
        const char *why = crumb_iface_errmsg(NULL);
        cli_error("sessions", "%s: %s", uri,
                  why && *why ? why : crumb_strerror(rc));
        *status = rc == CRUMB_EINVAL ? 2 : 1;
        return NULL;
    }
    return iface;
}

/* Reports a failed call on @iface; returns the exit status, 1. */
static int
fail(crumb_iface *iface, const char *what, int rc)
{
    const char *why = crumb_iface_errmsg(iface);
    if (why && *why)
        cli_error("sessions", "%s: %s (%s)", what, crumb_strerror(rc), why);
    else
        cli_error("sessions", "%s: %s", what, crumb_strerror(rc));
    return 1;
}

/* A JSON string for untrusted text: as is when it is UTF-8, else with
 * every byte outside ASCII replaced by '?'. */
static json_t *
jstr(const char *s)
{
    json_t *v = json_string(s);
    if (v)
        return v;
    char buf[128];
    size_t i = 0;
    for (; s[i] && i + 1 < sizeof buf; i++)
        buf[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
    buf[i] = '\0';
    return json_string(buf);
}

static int
print_json_line(const crumb_session_info *in)
{
    char created[CLI_TIME_SIZE], seen[CLI_TIME_SIZE], exp[CLI_TIME_SIZE];
    cli_time_iso(in->created, created);
    cli_time_iso(in->last_seen, seen);
    cli_time_iso(in->expires_at, exp);
    json_t *o = json_object();
    if (!o)
        return -1;
    json_object_set_new(o, "handle", json_string(in->handle));
    json_object_set_new(o, "user", jstr(in->user));
    json_object_set_new(o, "created", json_string(created));
    json_object_set_new(o, "last_seen", json_string(seen));
    json_object_set_new(o, "expires_at",
                        in->expires_at ? json_string(exp) : json_null());
    json_object_set_new(o, "address", jstr(in->addr));
    json_object_set_new(o, "agent", jstr(in->agent));
    char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!text)
        return -1;
    puts(text);
    free(text);
    return 0;
}

static void
print_row(const crumb_session_info *in)
{
    char created[CLI_TIME_SIZE], seen[CLI_TIME_SIZE];
    char user[sizeof in->user], addr[sizeof in->addr];
    char agent[sizeof in->agent];
    cli_time_iso(in->created, created);
    cli_time_iso(in->last_seen, seen);
    cli_printable(in->user[0] ? in->user : "-", user, sizeof user);
    cli_printable(in->addr[0] ? in->addr : "-", addr, sizeof addr);
    cli_printable(in->agent[0] ? in->agent : "-", agent, sizeof agent);
    printf("%-16s  %-16s  %-20s  %-20s  %-15s  %s\n", in->handle, user,
           created, seen, addr, agent);
}

static int
sessions_list(int argc, char **argv)
{
    struct sess_opts o = {.limit = LIST_LIMIT_DEFAULT};
    int p = parse_opts(list_help, argc, argv, &o);
    if (p != 0)
        return p > 0 ? 0 : 2;
    if (optind != argc) {
        fputs(list_help, stderr);
        return 2;
    }
    int status;
    crumb_iface *iface = open_iface(o.store, &status);
    if (!iface)
        return status;
    crumb_session_info *info = NULL;
    size_t n = 0;
    int rc = o.user ? crumb_iface_list_sessions(iface, o.user, NULL, &info,
                                                &n)
                    : crumb_iface_list_all_sessions(iface, (size_t)o.limit,
                                                    &info, &n);
    if (rc != CRUMB_OK) {
        status = fail(iface, "cannot list the sessions", rc);
        crumb_iface_free(iface);
        return status;
    }
    if (!o.json && n > 0)
        printf("%-16s  %-16s  %-20s  %-20s  %-15s  %s\n", "HANDLE", "USER",
               "CREATED", "LAST SEEN", "ADDRESS", "AGENT");
    else if (!o.json)
        printf("no live sessions\n");
    status = 0;
    for (size_t i = 0; i < n; i++) {
        if (!o.json)
            print_row(&info[i]);
        else if (print_json_line(&info[i]) != 0)
            status = 1;
    }
    if (!o.user && n == (size_t)o.limit)
        fprintf(stderr, "crumb sessions: only the %zu most recently seen "
                        "are shown (--limit)\n", n);
    free(info);
    crumb_iface_free(iface);
    return status;
}

static int
sessions_revoke(int argc, char **argv)
{
    struct sess_opts o = {0};
    int p = parse_opts(revoke_help, argc, argv, &o);
    if (p != 0)
        return p > 0 ? 0 : 2;
    const char *handle = optind < argc ? argv[optind] : NULL;
    if ((handle != NULL) == (o.user != NULL) || argc - optind > 1) {
        cli_error("sessions", "revoke wants a HANDLE or --user U, not both");
        fputs(revoke_help, stderr);
        return 2;
    }
    int status;
    crumb_iface *iface = open_iface(o.store, &status);
    if (!iface)
        return status;
    size_t count = 0;
    int rc;
    if (handle) {
        rc = crumb_iface_revoke_handle(iface, handle);
        count = rc == CRUMB_OK;
    } else {
        rc = crumb_iface_revoke_user(iface, o.user, NULL, &count);
    }
    if (rc == CRUMB_ENOTFOUND && handle) {
        char safe[40];
        cli_printable(handle, safe, sizeof safe);
        cli_error("sessions", "no live session has the handle \"%s\"", safe);
        status = 1;
    } else if (rc != CRUMB_OK) {
        status = fail(iface, "cannot revoke", rc);
    } else {
        printf("%zu session%s ended\n", count, count == 1 ? "" : "s");
        status = 0;
    }
    crumb_iface_free(iface);
    return status;
}

static int
sessions_gc(int argc, char **argv)
{
    struct sess_opts o = {0};
    int p = parse_opts(gc_help, argc, argv, &o);
    if (p != 0)
        return p > 0 ? 0 : 2;
    if (optind != argc) {
        fputs(gc_help, stderr);
        return 2;
    }
    int status;
    crumb_iface *iface = open_iface(o.store, &status);
    if (!iface)
        return status;
    size_t removed = 0;
    int rc = crumb_iface_gc(iface, &removed);
    if (rc != CRUMB_OK) {
        status = fail(iface, "cannot sweep", rc);
    } else {
        printf("%zu expired session%s removed\n", removed,
               removed == 1 ? "" : "s");
        status = 0;
    }
    crumb_iface_free(iface);
    return status;
}

int
cli_sessions(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*run)(int, char **);
    } verbs[] = {
        {"list", sessions_list},
        {"revoke", sessions_revoke},
        {"gc", sessions_gc},
    };
    if (argc < 2) {
        fputs(sessions_help, stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(sessions_help, stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        if (!strcmp(argv[1], verbs[i].name))
            return verbs[i].run(argc - 1, argv + 1);
    cli_error("sessions", "unknown verb '%s'", argv[1]);
    fputs(sessions_help, stderr);
    return 2;
}
