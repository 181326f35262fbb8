/* config.c - crumb-shop's settings from the environment and arguments. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <crumb/error.h>
#include <crumb/random.h>

#include "shop.h"

#define MIN_KEY_LEN 32

static const char *
env(const char *name, const char *def)
{
    const char *v = getenv(name);
    return v && *v ? v : def;
}

static int
env_bool(const char *name, int def)
{
    const char *v = env(name, NULL);
    if (!v)
        return def;
    return strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0 ||
           strcasecmp(v, "yes") == 0 || strcasecmp(v, "on") == 0;
}

static int
dir_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Templates and the stylesheet: CRUMB_SHOP_DIR, else ./app/shop (make
 * run), else next to the binary (build/crumb-shop -> ../app/shop). */
static char *
find_app_dir(void)
{
    const char *v = env("CRUMB_SHOP_DIR", NULL);
    if (v)
        return strdup(v);
    if (dir_exists("app/shop/templates"))
        return strdup("app/shop");
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 64);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            strcpy(slash, "/../app/shop");
            return strdup(exe);
        }
    }
    return strdup("app/shop");
}

/*
 * Development convenience: with no CRUMB_SECRET_KEY, a random key is made
 * once and kept in DATA_DIR/secret_key (0600, created exclusively), so
 * sessions survive restarts. Production never does this.
 */
static int
dev_key(shop_config *c)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/secret_key", c->data_dir);
    char buf[256];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
            n--;
        if (n < MIN_KEY_LEN) {
            fprintf(stderr, "crumb-shop: %s is too short; delete it to "
                            "make a new one\n", path);
            return 1;
        }
        c->secret = malloc((size_t)n + 1);
        if (!c->secret)
            return 1;
        memcpy(c->secret, buf, (size_t)n);
        c->secret[n] = '\0';
        c->secret_len = (size_t)n;
        fprintf(stderr, "crumb-shop: development secret key from %s\n",
                path);
        return 0;
    }
    unsigned char raw[32];
    if (crumb_random_bytes(raw, sizeof(raw)) != CRUMB_OK) {
        fprintf(stderr, "crumb-shop: no randomness for a secret key\n");
        return 1;
    }
    c->secret = malloc(2 * sizeof(raw) + 2);
    if (!c->secret)
        return 1;
    for (size_t i = 0; i < sizeof(raw); i++)
        snprintf(c->secret + 2 * i, 3, "%02x", raw[i]);
    c->secret_len = 2 * sizeof(raw);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        fprintf(stderr, "crumb-shop: cannot create %s: %s\n", path,
                strerror(errno));
        return 1;
    }
    c->secret[c->secret_len] = '\n';
    int ok = write(fd, c->secret, c->secret_len + 1) ==
             (ssize_t)(c->secret_len + 1);
    c->secret[c->secret_len] = '\0';
    close(fd);
    if (!ok) {
        fprintf(stderr, "crumb-shop: cannot write %s\n", path);
        return 1;
    }
    fprintf(stderr, "crumb-shop: generated a development secret key in %s "
                    "(mode 0600); set CRUMB_SECRET_KEY in production\n",
            path);
    return 0;
}

static int
load_fallbacks(shop_config *c)
{
    const char *v = env("CRUMB_SECRET_KEY_FALLBACKS", NULL);
    if (!v)
        return 0;
    c->fallbacks_buf = strdup(v);
    if (!c->fallbacks_buf)
        return 1;
    c->fallbacks_len = strlen(v);
    char *save = NULL;
    for (char *k = strtok_r(c->fallbacks_buf, ",", &save); k;
         k = strtok_r(NULL, ",", &save)) {
        if (!*k)
            continue;
        if (c->nfallbacks == sizeof(c->fallbacks) / sizeof(c->fallbacks[0])) {
            fprintf(stderr, "crumb-shop: at most 8 fallback keys\n");
            return 1;
        }
        c->fallbacks[c->nfallbacks].bytes = k;
        c->fallbacks[c->nfallbacks].len = strlen(k);
        c->nfallbacks++;
    }
    return 0;
}

/* A number of seconds, 0 or more, from @name (default @def). */
static int
env_seconds(const char *name, const char *def, int64_t *out)
{
    const char *v = env(name, def);
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (*end || end == v || n < 0 || errno) {
        fprintf(stderr, "crumb-shop: %s must be a number of seconds (0 "
                        "turns it off)\n", name);
        return 1;
    }
    *out = n;
    return 0;
}

/* @a then @b in a new string (free()), or NULL. */
static char *
join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 1;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s%s", a, b);
    return s;
}

/*
 * CRUMB_STORE: "cookie" (signed cookies), or a store URI: "memory:",
 * "sqlite:PATH", "redis://HOST:PORT/DB[?prefix=P]". Unset: SQLite in the
 * data directory. The users follow a Redis store unless CRUMB_USERS says
 * otherwise, so that every server behind a balancer sees every account.
 */
static int
load_store(shop_config *c)
{
    const char *v = env("CRUMB_STORE", NULL);
    if (!v) {
        c->store = join("sqlite:", c->data_dir);
        char *full = c->store ? join(c->store, "/sessions.db") : NULL;
        free(c->store);
        c->store = full;
    } else if (strcmp(v, "cookie") == 0 || strcmp(v, "memory:") == 0 ||
               (strncmp(v, "sqlite:", 7) == 0 && v[7]) ||
               strncmp(v, "redis://", 8) == 0) {
        c->store = strdup(v);
    } else {
        fprintf(stderr, "crumb-shop: CRUMB_STORE must be cookie, memory:, "
                        "sqlite:PATH or redis://HOST:PORT/DB\n");
        return 1;
    }
    const char *users = env("CRUMB_USERS", NULL);
    if (users)
        c->users_uri = strdup(users);
    else if (c->store && strncmp(c->store, "redis://", 8) == 0)
        c->users_uri = strdup(c->store);
    else {
        c->users_uri = join("sqlite:", c->data_dir);
        char *full = c->users_uri ? join(c->users_uri, "/users.db") : NULL;
        free(c->users_uri);
        c->users_uri = full;
    }
    return c->store && c->users_uri ? 0 : 1;
}

static void
usage(void)
{
    fprintf(stderr,
            "usage: crumb-shop [--listen HOST:PORT]\n"
            "environment: CRUMB_ADDR, CRUMB_ENV=development|production,\n"
            "  CRUMB_SECRET_KEY, CRUMB_SECRET_KEY_FALLBACKS (comma list),\n"
            "  CRUMB_STORE=cookie|memory:|sqlite:PATH|redis://HOST:PORT/DB\n"
            "  (sqlite:DATA_DIR/sessions.db), CRUMB_DATA_DIR (./var),\n"
            "  CRUMB_USERS (sqlite:DATA_DIR/users.db; with a redis store,\n"
            "  that redis), CRUMB_IDLE_TIMEOUT (1800 s, 0 off),\n"
            "  CRUMB_ABSOLUTE_TIMEOUT (43200 s, 0 off),\n"
            "  CRUMB_GC_INTERVAL (300 s between session sweeps, 0 off),\n"
            "  CRUMB_TEST_CLOCK_FILE (development and test only),\n"
            "  CRUMB_PERMANENT_LIFETIME\n"
            "  (2678400 s), CRUMB_COOKIE_SECURE, CRUMB_COOKIE_NAME,\n"
            "  CRUMB_COOKIE_SAMESITE=Lax|Strict|None,\n"
            "  CRUMB_COOKIE_COMPRESSION=fast|flask, CRUMB_THREADS,\n"
            "  CRUMB_LOG=1|0, CRUMB_SHOP_DIR\n");
}

int
shop_config_load(shop_config *c, int argc, char **argv)
{
    memset(c, 0, sizeof(*c));
    c->addr = env("CRUMB_ADDR", "127.0.0.1:8080");
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc) {
            c->addr = argv[++i];
        } else if (strncmp(argv[i], "--listen=", 9) == 0) {
            c->addr = argv[i] + 9;
        } else {
            usage();
            return 1;
        }
    }
    const char *e = env("CRUMB_ENV", "development");
    if (strcmp(e, "production") == 0) {
        c->production = 1;
    } else if (strcmp(e, "test") == 0) {
        c->test_env = 1;
    } else if (strcmp(e, "development") != 0) {
        fprintf(stderr, "crumb-shop: CRUMB_ENV must be development, test "
                        "or production, not \"%s\"\n", e);
        return 1;
    }
    c->data_dir = env("CRUMB_DATA_DIR", "./var");
    if (mkdir(c->data_dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "crumb-shop: cannot create %s: %s\n", c->data_dir,
                strerror(errno));
        return 1;
    }
    if (load_store(c) != 0)
        return 1;

    const char *key = env("CRUMB_SECRET_KEY", NULL);
    if (key) {
        if (strlen(key) < MIN_KEY_LEN) {
            fprintf(stderr, "crumb-shop: CRUMB_SECRET_KEY is %zu bytes; "
                            "use at least %d random bytes (try `crumb "
                            "keygen`)\n", strlen(key), MIN_KEY_LEN);
            if (c->production)
                return 1;
        }
        c->secret = strdup(key);
        if (!c->secret)
            return 1;
        c->secret_len = strlen(key);
    } else if (c->production) {
        fprintf(stderr, "crumb-shop: CRUMB_ENV=production needs "
                        "CRUMB_SECRET_KEY (at least %d random bytes; try "
                        "`crumb keygen`)\n", MIN_KEY_LEN);
        return 1;
    } else if (dev_key(c) != 0) {
        return 1;
    }
    if (load_fallbacks(c) != 0)
        return 1;

    char *end;
    const char *lt = env("CRUMB_PERMANENT_LIFETIME", "2678400");
    c->permanent_lifetime = strtoll(lt, &end, 10);
    if (*end || c->permanent_lifetime <= 0) {
        fprintf(stderr, "crumb-shop: CRUMB_PERMANENT_LIFETIME must be a "
                        "positive number of seconds\n");
        return 1;
    }
    c->cookie_secure = env_bool("CRUMB_COOKIE_SECURE", 0);
    c->cookie_name = env("CRUMB_COOKIE_NAME", "session");
    const char *ss = env("CRUMB_COOKIE_SAMESITE", "Lax");
    if (strcasecmp(ss, "Lax") == 0)
        c->samesite = CRUMB_SAMESITE_LAX;
    else if (strcasecmp(ss, "Strict") == 0)
        c->samesite = CRUMB_SAMESITE_STRICT;
    else if (strcasecmp(ss, "None") == 0)
        c->samesite = CRUMB_SAMESITE_NONE;
    else {
        fprintf(stderr, "crumb-shop: CRUMB_COOKIE_SAMESITE must be Lax, "
                        "Strict or None\n");
        return 1;
    }
    const char *cz = env("CRUMB_COOKIE_COMPRESSION", "fast");
    if (strcmp(cz, "fast") == 0)
        c->compression = CRUMB_COMPRESS_FAST;
    else if (strcmp(cz, "flask") == 0)
        c->compression = CRUMB_COMPRESS_FLASK;
    else {
        fprintf(stderr, "crumb-shop: CRUMB_COOKIE_COMPRESSION must be fast "
                        "or flask\n");
        return 1;
    }
    if (env_seconds("CRUMB_IDLE_TIMEOUT", "1800", &c->idle_timeout) != 0 ||
        env_seconds("CRUMB_ABSOLUTE_TIMEOUT", "43200",
                    &c->absolute_timeout) != 0 ||
        env_seconds("CRUMB_GC_INTERVAL", "300", &c->gc_interval) != 0)
        return 1;
    c->clock_file = env("CRUMB_TEST_CLOCK_FILE", NULL);
    if (c->clock_file && c->production) {
        fprintf(stderr, "crumb-shop: CRUMB_TEST_CLOCK_FILE is ignored in "
                        "production\n");
        c->clock_file = NULL;
    }
    c->threads = (unsigned)strtoul(env("CRUMB_THREADS", "0"), NULL, 10);
    c->log = env_bool("CRUMB_LOG", 1);
    c->app_dir = find_app_dir();
    return c->app_dir ? 0 : 1;
}

void
shop_config_cleanup(shop_config *c)
{
    if (c->secret) {
        volatile char *p = c->secret;
        for (size_t i = 0; i < c->secret_len; i++)
            p[i] = 0;
        free(c->secret);
    }
    if (c->fallbacks_buf) {
        volatile char *p = c->fallbacks_buf;
        for (size_t i = 0; i < c->fallbacks_len; i++)
            p[i] = 0;
        free(c->fallbacks_buf);
    }
    free(c->users_uri);
    free(c->store);
    free(c->app_dir);
}
