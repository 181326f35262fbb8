/* cmd_users.c - `crumb users add|passwd|del|list|role`: the user database. */
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <crumb/crumb.h>

#include "cli.h"

#define USERS_DEFAULT "sqlite:./var/users.db"
#define PASSWORD_MAX 1024

static const char users_help[] =
    "usage: crumb users add USERNAME [--admin] [--password-stdin]\n"
    "       crumb users passwd USERNAME [--password-stdin]\n"
    "       crumb users del USERNAME\n"
    "       crumb users list [--json]\n"
    "       crumb users role USERNAME ROLES\n"
    "\n"
    "Every verb takes --users URI; else the environment's CRUMB_USERS, else\n"
    USERS_DEFAULT " (crumb-shop's data directory). Passwords are\n"
    "asked on the terminal (twice, not echoed), or read as one line from\n"
    "standard input with --password-stdin; never from the command line.\n"
    "`crumb users VERB --help` tells more.\n";

static const char add_help[] =
    "usage: crumb users add USERNAME [--admin] [--password-stdin]\n"
    "                       [--users URI]\n"
    "\n"
    "Creates a user (3 to 32 characters of A-Z a-z 0-9 _ . -) with the\n"
    "role \"user\", and \"admin\" too with --admin. The password needs at\n"
    "least 8 characters; it is stored as a scrypt hash.\n";

static const char passwd_help[] =
    "usage: crumb users passwd USERNAME [--password-stdin] [--users URI]\n"
    "\n"
    "Sets a new password and its change time: crumb-shop's sessions logged\n"
    "in before are anonymous at their next page. Their records stay until\n"
    "they expire: `crumb sessions revoke --user USERNAME` removes them.\n";

static const char del_help[] =
    "usage: crumb users del USERNAME [--users URI]\n"
    "\n"
    "Removes the user. Their open sessions stay until they expire or are\n"
    "revoked (`crumb sessions revoke --user USERNAME`).\n";

static const char list_help[] =
    "usage: crumb users list [--json] [--users URI]\n"
    "\n"
    "Prints every user: name, roles, created, password changed (UTC), or\n"
    "with --json one JSON object per line.\n";

static const char role_help[] =
    "usage: crumb users role USERNAME ROLES [--users URI] [--store URI]\n"
    "\n"
    "Replaces the user's roles with ROLES, a comma-separated list such as\n"
    "\"user,admin\". With the session store (--store URI, else the\n"
    "environment's CRUMB_STORE: sqlite:PATH or redis://HOST:PORT/DB), the\n"
    "user's open sessions take the new roles at their next page, each with\n"
    "a new id. Without one (or with CRUMB_STORE=cookie), open sessions keep\n"
    "the old roles until the user logs in again.\n";

enum { OPT_USERS = 1000, OPT_ADMIN, OPT_STDIN, OPT_JSON, OPT_STORE };

struct users_opts {
    const char *uri;
    const char *store; /* role: the session store to tell */
    int admin, from_stdin, json;
};

/* Parses the options of `users VERB`, leaving exactly @nargs operands
 * at argv[optind]; returns -1 after printing why (exit 2), 1 after
 * printing help (exit 0), 0 to go on. */
static int
parse_opts(const char *help, int argc, char **argv, int nargs,
           struct users_opts *o)
{
    static const struct option opts[] = {
        {"users", required_argument, NULL, OPT_USERS},
        {"admin", no_argument, NULL, OPT_ADMIN},
        {"password-stdin", no_argument, NULL, OPT_STDIN},
        {"json", no_argument, NULL, OPT_JSON},
        {"store", required_argument, NULL, OPT_STORE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_USERS:
            o->uri = optarg;
            break;
        case OPT_ADMIN:
            o->admin = 1;
            break;
        case OPT_STDIN:
            o->from_stdin = 1;
            break;
        case OPT_JSON:
            o->json = 1;
            break;
        case OPT_STORE:
            o->store = optarg;
            break;
        case 'h':
            fputs(help, stdout);
            return 1;
        default:
            fputs(help, stderr);
            return -1;
        }
    }
    if (argc - optind != nargs) {
        fputs(help, stderr);
        return -1;
    }
    if (!o->uri)
        o->uri = getenv("CRUMB_USERS");
    if (!o->uri || !*o->uri)
        o->uri = USERS_DEFAULT;
    return 0;
}

/* Opens the database; unless @create, a missing file is an error rather
 * than a new empty database. NULL after saying why. */
static crumb_users *
open_users(const char *uri, int create)
{
    const char *path = !strncmp(uri, "sqlite:", 7) ? uri + 7
                       : strchr(uri, ':')        ? NULL
                                                 : uri;
    struct stat sb;
    if (!create && path && stat(path, &sb) != 0) {
        cli_error("users", "no user database at %s (--users or "
                           "CRUMB_USERS name another)", path);
        return NULL;
    }
    crumb_users *db = NULL;
    int rc = crumb_users_open(&db, uri);
    if (rc != CRUMB_OK) {
        const char *why = db ? crumb_users_errmsg(db) : "";
        cli_error("users", "cannot open the user database %s: %s", uri,
                  why && *why ? why : crumb_strerror(rc));
        crumb_users_close(db);
        return NULL;
    }
    return db;
}

static int
check_name(const char *name)
{
    if (crumb_username_valid(name))
        return 0;
    char safe[80];
    cli_printable(name, safe, sizeof safe);
    cli_error("users", "invalid username \"%s\": 3 to 32 characters of "
                       "A-Z a-z 0-9 _ . -", safe);
    return -1;
}

/*
 * What add, passwd, del and role start with: their options and @nargs
 * operands (the first a user name, checked), then the database. Returns
 * -1 with *db open (the caller closes it), or the exit status.
 */
static int
verb_begin(const char *help, int argc, char **argv, int nargs, int create,
           struct users_opts *o, crumb_users **db)
{
    int p = parse_opts(help, argc, argv, nargs, o);
    if (p != 0)
        return p > 0 ? 0 : 2;
    if (check_name(argv[optind]) != 0)
        return 1;
    *db = open_users(o->uri, create);
    return *db ? -1 : 1;
}


static void
wipe(char *p, size_t n)
{
    volatile char *v = p;
    while (n--)
        *v++ = 0;
}

/* The terminal state to restore if a signal comes while echo is off. */
static int tty_fd = -1;
static struct termios tty_saved;

static void
restore_tty(int sig)
{
    if (tty_fd >= 0)
        tcsetattr(tty_fd, TCSAFLUSH, &tty_saved);
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Reads one line from @fd into @buf without its newline; returns its
 * length, or -1 at end of input before a newline with nothing read, or
 * when longer than @size - 1 (then the rest is not read). */
static long
read_line(int fd, char *buf, size_t size)
{
    size_t n = 0;
    for (;;) {
        char c;
        ssize_t r = read(fd, &c, 1);
        if (r <= 0 && n == 0)
            return -1;
        if (r <= 0 || c == '\n')
            break;
        if (n + 1 >= size)
            return -1;
        buf[n++] = c;
    }
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    buf[n] = '\0';
    return (long)n;
}

/* Asks @prompt on the terminal with echo off. Returns 0 or -1. */
static int
ask_tty(int fd, const char *prompt, char *buf, size_t size)
{
    struct termios t;
    if (tcgetattr(fd, &tty_saved) != 0)
        return -1;
    t = tty_saved;
    t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
    tty_fd = fd;
    signal(SIGINT, restore_tty);
    signal(SIGTERM, restore_tty);
    signal(SIGHUP, restore_tty);
    /* Echo off (dropping what was typed before), then the prompt: what
     * is typed after the prompt is never discarded. */
    if (tcsetattr(fd, TCSAFLUSH, &t) != 0 ||
        write(fd, prompt, strlen(prompt)) < 0) {
        tcsetattr(fd, TCSADRAIN, &tty_saved);
        tty_fd = -1;
        return -1;
    }
    long n = read_line(fd, buf, size);
    tcsetattr(fd, TCSADRAIN, &tty_saved);
    tty_fd = -1;
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    if (write(fd, "\n", 1) < 0)
        return -1;
    return n < 0 ? -1 : 0;
}

/* The new password for @name into @pw (PASSWORD_MAX + 2 bytes): one line
 * of stdin, or asked twice on the terminal. Returns 0, or 1 after saying
 * why (exit 1), or 2 (exit 2: no terminal). */
static int
get_password(const char *name, int from_stdin, char *pw, size_t size)
{
    if (from_stdin) {
        if (read_line(STDIN_FILENO, pw, size) < 0) {
            cli_error("users", "no password line on standard input (or "
                               "longer than %d bytes)", PASSWORD_MAX);
            return 1;
        }
        return 0;
    }
    int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        cli_error("users", "no terminal to ask the password on: use "
                           "--password-stdin");
        return 2;
    }
    char prompt[80], again[PASSWORD_MAX + 2];
    snprintf(prompt, sizeof prompt, "New password for %s: ", name);
    int status = 0;
    if (ask_tty(fd, prompt, pw, size) != 0 ||
        ask_tty(fd, "Again: ", again, sizeof again) != 0) {
        cli_error("users", "could not read the password");
        status = 1;
    } else if (strcmp(pw, again) != 0) {
        cli_error("users", "the passwords do not match");
        status = 1;
    }
    wipe(again, sizeof again);
    close(fd);
    return status;
}

static void
password_refused(void)
{
    cli_error("users", "password refused: it needs at least 8 characters "
                       "(and at most %d bytes)", PASSWORD_MAX);
}

static int
users_add(int argc, char **argv)
{
    struct users_opts o = {0};
    crumb_users *db = NULL;
    int begun = verb_begin(add_help, argc, argv, 1, 1, &o, &db);
    if (begun >= 0)
        return begun;
    const char *name = argv[optind];
    crumb_user u;
    int status = 1;
    char pw[PASSWORD_MAX + 2];
    pw[0] = '\0';
    if (crumb_users_get(db, name, &u) == CRUMB_OK) {
        cli_error("users", "user \"%s\" already exists", name);
        goto out;
    }
    status = get_password(name, o.from_stdin, pw, sizeof pw);
    if (status != 0)
        goto out;
    status = 1;
    int rc = crumb_users_add(db, name, pw, NULL,
                             o.admin ? "user,admin" : "user", &u);
    if (rc == CRUMB_EEXIST)
        cli_error("users", "user \"%s\" already exists", name);
    else if (rc == CRUMB_EINVAL)
        password_refused();
    else if (rc != CRUMB_OK)
        cli_error("users", "cannot add \"%s\": %s (%s)", name,
                  crumb_strerror(rc), crumb_users_errmsg(db));
    else {
        printf("added %s (roles: %s)\n", u.username, u.roles);
        status = 0;
    }
out:
    wipe(pw, sizeof pw);
    crumb_users_close(db);
    return status;
}

static int
users_passwd(int argc, char **argv)
{
    struct users_opts o = {0};
    crumb_users *db = NULL;
    int begun = verb_begin(passwd_help, argc, argv, 1, 0, &o, &db);
    if (begun >= 0)
        return begun;
    const char *name = argv[optind];
    crumb_user u;
    int status = 1;
    char pw[PASSWORD_MAX + 2];
    pw[0] = '\0';
    if (crumb_users_get(db, name, &u) != CRUMB_OK) {
        cli_error("users", "no user \"%s\"", name);
        goto out;
    }
    status = get_password(name, o.from_stdin, pw, sizeof pw);
    if (status != 0)
        goto out;
    status = 1;
    int rc = crumb_users_set_password(db, name, pw);
    if (rc == CRUMB_EINVAL)
        password_refused();
    else if (rc == CRUMB_ENOTFOUND)
        cli_error("users", "no user \"%s\"", name);
    else if (rc != CRUMB_OK)
        cli_error("users", "cannot change the password: %s (%s)",
                  crumb_strerror(rc), crumb_users_errmsg(db));
    else {
        printf("password of %s changed\n", name);
        status = 0;
    }
out:
    wipe(pw, sizeof pw);
    crumb_users_close(db);
    return status;
}

static int
users_del(int argc, char **argv)
{
    struct users_opts o = {0};
    crumb_users *db = NULL;
    int begun = verb_begin(del_help, argc, argv, 1, 0, &o, &db);
    if (begun >= 0)
        return begun;
    const char *name = argv[optind];
    int status = 1;
    int rc = crumb_users_delete(db, name);
    if (rc == CRUMB_ENOTFOUND)
        cli_error("users", "no user \"%s\"", name);
    else if (rc != CRUMB_OK)
        cli_error("users", "cannot remove \"%s\": %s (%s)", name,
                  crumb_strerror(rc), crumb_users_errmsg(db));
    else {
        printf("removed %s\n", name);
        status = 0;
    }
    crumb_users_close(db);
    return status;
}

/*
 * Bumps the user's generation in the session store named by @uri, so
 * that their open sessions reload their roles. 0 when told, 1 when the
 * store could not be reached (after saying why), 2 when there is no
 * store to tell (nothing said).
 */
static int
tell_sessions(const char *uri, int64_t user_id)
{
    if (!uri || !*uri || !strcmp(uri, "cookie") || !strncmp(uri, "memory:", 7))
        return 2;
    if (cli_store_reachable("users", uri, "") != 0)
        return 1;
    crumb_store_options so;
    crumb_store_options_init(&so);
    char why[256] = "";
    so.errbuf = why;
    so.errbuf_size = sizeof(why);
    crumb_store *st = NULL;
    int rc = crumb_store_open(&st, uri, &so);
    char id[32];
    snprintf(id, sizeof(id), "%lld", (long long)user_id);
    int64_t gen = 0;
    if (rc == CRUMB_OK)
        rc = crumb_store_user_generation(st, id, 1, (int64_t)time(NULL),
                                         &gen);
    crumb_store_close(st);
    if (rc != CRUMB_OK) {
        cli_error("users", "the roles are set, but the session store %s "
                           "could not be told: %s%s%s",
                  uri, crumb_strerror(rc), *why ? ": " : "", why);
        return 1;
    }
    return 0;
}

static int
users_role(int argc, char **argv)
{
    struct users_opts o = {0};
    crumb_users *db = NULL;
    int begun = verb_begin(role_help, argc, argv, 2, 0, &o, &db);
    if (begun >= 0)
        return begun;
    const char *name = argv[optind], *roles = argv[optind + 1];
    int status = 1;
    crumb_user u;
    int rc = crumb_users_set_roles(db, name, roles);
    if (rc == CRUMB_OK)
        rc = crumb_users_get(db, name, &u);
    if (rc == CRUMB_ENOTFOUND) {
        cli_error("users", "no user \"%s\"", name);
    } else if (rc == CRUMB_EINVAL) {
        char safe[CRUMB_ROLES_MAX + 1];
        cli_printable(roles, safe, sizeof safe);
        cli_error("users", "invalid roles \"%s\": a comma-separated list "
                           "of names such as user,admin", safe);
    } else if (rc != CRUMB_OK) {
        cli_error("users", "cannot set the roles: %s (%s)",
                  crumb_strerror(rc), crumb_users_errmsg(db));
    } else {
        printf("roles of %s: %s\n", name, roles);
        const char *store = o.store ? o.store : getenv("CRUMB_STORE");
        switch (tell_sessions(store, u.id)) {
        case 0:
            printf("open sessions of %s take them at their next page\n",
                   name);
            status = 0;
            break;
        case 2:
            printf("open sessions of %s keep the old roles until the next "
                   "login (no session store: --store or CRUMB_STORE)\n",
                   name);
            status = 0;
            break;
        }
    }
    crumb_users_close(db);
    return status;
}

static int
print_user_json(const crumb_user *u)
{
    char created[CLI_TIME_SIZE], changed[CLI_TIME_SIZE];
    cli_time_iso(u->created, created);
    cli_time_iso(u->password_changed, changed);
    json_t *roles = json_array();
    char buf[CRUMB_ROLES_MAX + 1];
    snprintf(buf, sizeof buf, "%s", u->roles);
    char *save = NULL;
    for (char *r = strtok_r(buf, ",", &save); r && roles;
         r = strtok_r(NULL, ",", &save))
        json_array_append_new(roles, json_string(r));
    json_t *o = json_pack("{s:I, s:s, s:o*, s:s, s:s}", "id",
                          (json_int_t)u->id, "username", u->username,
                          "roles", roles, "created", created,
                          "password_changed", changed);
    if (!o)
        return -1;
    char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!text)
        return -1;
    puts(text);
    free(text);
    return 0;
}

static int
users_list(int argc, char **argv)
{
    struct users_opts o = {0};
    int p = parse_opts(list_help, argc, argv, 0, &o);
    if (p != 0)
        return p > 0 ? 0 : 2;
    crumb_users *db = open_users(o.uri, 0);
    if (!db)
        return 1;
    crumb_user *users = NULL;
    size_t n = 0;
    int rc = crumb_users_list(db, &users, &n);
    int status = 0;
    if (rc != CRUMB_OK) {
        cli_error("users", "cannot list the users: %s (%s)",
                  crumb_strerror(rc), crumb_users_errmsg(db));
        status = 1;
    } else if (!o.json && n == 0) {
        printf("no users\n");
    } else if (!o.json) {
        printf("%-32s  %-20s  %-20s  %s\n", "USERNAME", "ROLES", "CREATED",
               "PASSWORD CHANGED");
    }
    for (size_t i = 0; i < n; i++) {
        char created[CLI_TIME_SIZE], changed[CLI_TIME_SIZE];
        if (o.json) {
            if (print_user_json(&users[i]) != 0)
                status = 1;
            continue;
        }
        cli_time_iso(users[i].created, created);
        cli_time_iso(users[i].password_changed, changed);
        printf("%-32s  %-20s  %-20s  %s\n", users[i].username,
               users[i].roles, created, changed);
    }
    free(users);
    crumb_users_close(db);
    return status;
}

int
cli_users(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*run)(int, char **);
    } verbs[] = {
        {"add", users_add},   {"passwd", users_passwd},
        {"del", users_del},   {"list", users_list},
        {"role", users_role},
    };
    if (argc < 2) {
        fputs(users_help, stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(users_help, stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        if (!strcmp(argv[1], verbs[i].name))
            return verbs[i].run(argc - 1, argv + 1);
    cli_error("users", "unknown verb '%s'", argv[1]);
    fputs(users_help, stderr);
    return 2;
}
