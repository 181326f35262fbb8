/* bench_iface_store.c - the store path of a request without HTTP: open,
 * increment, save, from several threads; CPU time per request. */
#include <crumb/error.h>
#include <crumb/iface.h>
#include <crumb/session.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

/*
 * What crumb-shop's /visits asks of the session layer, minus HTTP and
 * the page: crumb_iface_open() of a stored session (load, parse),
 * crumb_session_incr() of "visits", crumb_iface_save() (dump, compare-
 * and-set save). THREADS threads share SESSIONS sessions, thread t taking
 * sessions t, t + THREADS, ... in turn (SESSIONS = 1: all on one, the
 * conflict case). The figure is the process' user + system CPU time per
 * request (getrusage), which other load on the machine disturbs less than
 * the rate; the store server's own CPU (redis-server) is not in it.
 *
 * Usage: bench_iface_store URI [THREADS [SESSIONS [REQUESTS]]]
 *   defaults: 8 threads, 64 sessions, 40000 requests in all.
 */

typedef struct job {
    crumb_iface *iface;
    char **cookies;
    int first, step, nsessions, n, failures;
} job;

static double
cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static double
mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One request on the session with Cookie header @hdr; 0 on success. */
static int
request(crumb_iface *iface, const char *hdr)
{
    crumb_session *s = NULL;
    crumb_open_reason why;
    int rc = crumb_iface_open(iface, hdr, hdr ? strlen(hdr) : 0, &s, &why);
    if (rc != CRUMB_OK)
        return -1;
    int64_t n;
    rc = crumb_session_incr(s, "visits", 1, &n);
    crumb_save_result res;
    if (rc == CRUMB_OK)
        rc = crumb_iface_save(iface, s, &res);
    if (rc == CRUMB_OK)
        crumb_save_result_cleanup(&res);
    crumb_session_free(s);
    if (rc != CRUMB_OK || (hdr && why != CRUMB_OPEN_OK)) {
        /* The first failure of each thread says why. */
        static _Thread_local int told;
        if (!told++)
            fprintf(stderr, "request: %s, open reason %d: %s\n",
                    crumb_strerror(rc), (int)why, crumb_iface_errmsg(iface));
        return -1;
    }
    return 0;
}

static void *
run(void *arg)
{
    job *j = arg;
    int k = j->first % j->nsessions;
    for (int i = 0; i < j->n; i++) {
        if (request(j->iface, j->cookies[k]) != 0)
            j->failures++;
        k = (k + j->step) % j->nsessions;
    }
    return NULL;
}

/* A new stored session; its Cookie header, malloc'd. */
static char *
new_session(crumb_iface *iface)
{
    crumb_session *s = NULL;
    crumb_save_result res;
    char *hdr = NULL;
    if (crumb_iface_open(iface, NULL, 0, &s, NULL) != CRUMB_OK)
        return NULL;
    crumb_session_set_int(s, "visits", 0);
    if (crumb_iface_save(iface, s, &res) == CRUMB_OK) {
        if (res.set_cookie) {
            size_t len = strcspn(res.set_cookie, ";");
            hdr = malloc(len + 1);
            if (hdr) {
                memcpy(hdr, res.set_cookie, len);
                hdr[len] = '\0';
            }
        }
        crumb_save_result_cleanup(&res);
    }
    crumb_session_free(s);
    return hdr;
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr,
                "usage: %s URI [THREADS [SESSIONS [REQUESTS]]]\n", argv[0]);
        return 2;
    }
    int threads = argc > 2 ? atoi(argv[2]) : 8;
    int nsessions = argc > 3 ? atoi(argv[3]) : 64;
    int total = argc > 4 ? atoi(argv[4]) : 40000;
    if (threads < 1 || threads > 256 || nsessions < 1 || total < threads) {
        fprintf(stderr, "bad arguments\n");
        return 2;
    }
    static const char key[] = "bench-secret-key-0123456789abcdef0123456789";
    crumb_config cfg;
    crumb_config_init(&cfg);
    cfg.secret_key = key;
    cfg.secret_key_len = sizeof(key) - 1;
    cfg.store_uri = argv[1];
    crumb_iface *iface = NULL;
    int rc = crumb_iface_new(&iface, &cfg);
    if (rc != CRUMB_OK) {
        fprintf(stderr, "iface: %s (%s)\n", crumb_strerror(rc),
                crumb_iface_errmsg(iface));
        return 1;
    }
    char **cookies = calloc((size_t)nsessions, sizeof(*cookies));
    for (int i = 0; cookies && i < nsessions; i++)
        if (!(cookies[i] = new_session(iface))) {
            fprintf(stderr, "cannot make a session: %s\n",
                    crumb_iface_errmsg(iface));
            return 1;
        }
    job *jobs = calloc((size_t)threads, sizeof(*jobs));
    pthread_t *th = calloc((size_t)threads, sizeof(*th));
    if (!cookies || !jobs || !th)
        return 1;
    double c0 = cpu_seconds(), t0 = mono();
    for (int i = 0; i < threads; i++) {
        jobs[i] = (job){iface, cookies, i, threads, nsessions,
                        total / threads, 0};
        pthread_create(&th[i], NULL, run, &jobs[i]);
    }
    int failures = 0, done = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(th[i], NULL);
        failures += jobs[i].failures;
        done += jobs[i].n;
    }
    double wall = mono() - t0, cpu = cpu_seconds() - c0;
    printf("%-40.40s threads %3d sessions %5d  %8.0f req/s  %6.1f us "
           "CPU/req  failures %d\n",
           argv[1], threads, nsessions, done / wall, cpu * 1e6 / done,
           failures);
    for (int i = 0; i < nsessions; i++)
        free(cookies[i]);
    free(cookies);
    free(jobs);
    free(th);
    crumb_iface_free(iface);
    return failures ? 1 : 0;
}
