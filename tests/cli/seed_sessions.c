/* seed_sessions.c - puts session records in a store for the cli tests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <crumb/crumb.h>

/*
 * usage: seed_sessions URI [--expired] USER...
 * One record per USER ("-" for an anonymous one), the first the most
 * recently seen: last_seen now - 10 * i, live for an hour. After
 * --expired, the records are saved an hour in the past and are expired
 * by now (a user's, so a Redis gc finds them through the user index).
 * Prints nothing; exits 0, or 1 with the reason on stderr.
 */
int
main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: seed_sessions URI [--expired] USER...\n");
        return 2;
    }
    char err[256] = "";
    crumb_store_options o;
    crumb_store_options_init(&o);
    o.errbuf = err;
    o.errbuf_size = sizeof err;
    crumb_store *st = NULL;
    int rc = crumb_store_open(&st, argv[1], &o);
    if (rc != CRUMB_OK) {
        fprintf(stderr, "seed_sessions: %s: %s\n", argv[1], err);
        return 1;
    }
    int64_t now = crumb_clock_real(NULL), at = now;
    int seen = 0;
    for (int i = 2; i < argc && rc == CRUMB_OK; i++) {
        if (!strcmp(argv[i], "--expired")) {
            at = now - 3600;
            continue;
        }
        crumb_store_record rec;
        memset(&rec, 0, sizeof rec);
        unsigned char key[CRUMB_STORE_KEY_LEN];
        rc = crumb_random_bytes(key, sizeof key);
        if (rc != CRUMB_OK)
            break;
        rec.data = (unsigned char *)"{}";
        rec.len = 2;
        rec.created = at - 100;
        rec.last_seen = at - 10 * seen++;
        rec.expires_at = at + (at == now ? 3600 : 60);
        snprintf(rec.user, sizeof rec.user, "%s",
                 strcmp(argv[i], "-") ? argv[i] : "");
        snprintf(rec.addr, sizeof rec.addr, "192.0.2.%d", seen);
        snprintf(rec.agent, sizeof rec.agent, "seed-agent/%d", seen);
        rc = crumb_store_save(st, key, &rec, 0, at);
    }
    if (rc != CRUMB_OK)
        fprintf(stderr, "seed_sessions: %s (%s)\n", crumb_strerror(rc),
                crumb_store_errmsg(st));
    crumb_store_close(st);
    return rc == CRUMB_OK ? 0 : 1;
}
