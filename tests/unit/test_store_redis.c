/* test_store_redis.c - the redis store's own cases: URIs, and a Redis
 * that freezes, dies and comes back (a private redis-server of its own). */
#include <crumb/error.h>
#include <crumb/store.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>

#include "test.h"

#include "store_backends.h"

/* A private redis-server on a free port, started and killed by PID. */
static int
free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(bind(s, (struct sockaddr *)&a, sizeof(a)) == 0);
    socklen_t l = sizeof(a);
    CHECK(getsockname(s, (struct sockaddr *)&a, &l) == 0);
    close(s);
    return ntohs(a.sin_port);
}

static const char *
redis_server_bin(void)
{
    const char *b = getenv("CRUMB_TEST_REDIS_SERVER");
    return b && *b ? b : "/usr/bin/redis-server";
}

static pid_t
start_redis(int port)
{
    char ps[16];
    snprintf(ps, sizeof(ps), "%d", port);
    pid_t pid = fork();
    if (pid == 0) {
        /* Dies with the test, however the test ends (a failed check, the
         * harness's timeout): no stopped redis-server is left behind. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 1);
        dup2(devnull, 2);
        execl(redis_server_bin(), "redis-server", "--port", ps, "--bind",
              "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", g_dir,
              "--daemonize", "no", (char *)NULL);
        _exit(127);
    }
    CHECK(pid > 0);
    for (int i = 0; i < 200; i++) {
        struct timeval tv = {0, 100000};
        redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
        if (c && !c->err) {
            redisReply *rep = redisCommand(c, "PING");
            int ok = rep && rep->type == REDIS_REPLY_STATUS;
            freeReplyObject(rep);
            redisFree(c);
            if (ok)
                return pid;
        } else if (c) {
            redisFree(c);
        }
        usleep(25000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    T_FAIL_("redis-server on port %d did not answer", port);
}

static double
mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

TEST(redis_down_and_back)
{
    if (access(redis_server_bin(), X_OK) != 0)
        return;
    int port = free_port();
    pid_t pid = start_redis(port);
    char uri[128];
    snprintf(uri, sizeof(uri), "redis://127.0.0.1:%d/0?timeout_ms=300",
             port);
    crumb_store *st;
    CHECK_RC(crumb_store_open(&st, uri, NULL), CRUMB_OK);
    unsigned char key[32];
    mkkey(key, 110);
    crumb_store_record w, r;
    mkrec(&w, "before", "", T0, 0);
    CHECK_RC(crumb_store_save(st, key, &w, 0, T0), CRUMB_OK);

    /* Stuck (SIGSTOP): the command timeout answers. */
    kill(pid, SIGSTOP);
    double t = mono();
    CHECK_RC(crumb_store_load(st, key, T0, &r), CRUMB_EUNAVAIL);
    CHECK(mono() - t < 1.0);
    /* Meanwhile every call fails at once (the breaker), not after its
     * own timeout. */
    t = mono();
    CHECK_RC(crumb_store_load(st, key, T0, &r), CRUMB_EUNAVAIL);
    CHECK(mono() - t < 0.1);
    kill(pid, SIGCONT);
    /* Service resumes once the breaker's cool-down (250 ms) has passed. */
    usleep(300 * 1000);
    CHECK_RC(crumb_store_load(st, key, T0, &r), CRUMB_OK);
    crumb_store_record_cleanup(&r);

    /* Gone (SIGKILL): refused at once, every call, no hang. */
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    t = mono();
    CHECK_RC(crumb_store_load(st, key, T0, &r), CRUMB_EUNAVAIL);
    CHECK_RC(crumb_store_save(st, key, &w, 1, T0), CRUMB_EUNAVAIL);
    int64_t v;
    CHECK_RC(crumb_store_incr_counter(st, "c", 1, 10, T0, &v),
             CRUMB_EUNAVAIL);
    CHECK(mono() - t < 1.0);
    CHECK(strstr(crumb_store_errmsg(st), "redis") != NULL);
    crumb_store *st2;
    CHECK_RC(crumb_store_open(&st2, uri, NULL), CRUMB_EUNAVAIL);

    /* Back (empty: no persistence): the next call reconnects, and the
     * scripts are loaded again. */
    pid = start_redis(port);
    usleep(300 * 1000); /* the breaker's cool-down */
    CHECK_RC(crumb_store_load(st, key, T0, &r), CRUMB_ENOTFOUND);
    mkrec(&w, "after", "zoe", T0, T0 + 100);
    CHECK_RC(crumb_store_save(st, key, &w, 0, T0), CRUMB_OK);
    CHECK_RC(crumb_store_load(st, key, T0, &r), CRUMB_OK);
    CHECK_MEM(r.data, r.len, "after", 5);
    crumb_store_record_cleanup(&r);
    crumb_store_close(st);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

/* A Redis that forgot its scripts (SCRIPT FLUSH, or a restart) in the
 * middle of a pipelined batch: every append is still done once. */
TEST(redis_append_many_noscript)
{
    if (access(redis_server_bin(), X_OK) != 0)
        return;
    int port = free_port();
    pid_t pid = start_redis(port);
    char uri[128];
    snprintf(uri, sizeof(uri), "redis://127.0.0.1:%d/0", port);
    crumb_store *st;
    CHECK_RC(crumb_store_open(&st, uri, NULL), CRUMB_OK);
    struct timeval tv = {1, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
    CHECK(c && !c->err);
    crumb_store_log_entry ev[3] = {{"l", "1", 1, T0}, {"l", "2", 1, T0},
                                   {"m", "3", 1, T0}};
    size_t n = 0;
    for (int round = 0; round < 2; round++) {
        redisReply *rep = redisCommand(c, "SCRIPT FLUSH");
        CHECK(rep && rep->type == REDIS_REPLY_STATUS);
        freeReplyObject(rep);
        CHECK_RC(crumb_store_log_append_many(st, ev, 3, 10, 60, &n),
                 CRUMB_OK);
        CHECK(n == 3);
    }
    redisReply *rep = redisCommand(c, "LRANGE crumb:l:l 1 -1");
    CHECK(rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == 4);
    for (size_t i = 0; i < 4; i++)
        CHECK_MEM(rep->element[i]->str, rep->element[i]->len,
                  i % 2 ? "2" : "1", 1);
    freeReplyObject(rep);

    /* Gone: the batch is unavailable, at once, and nothing hangs. */
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    double t = mono();
    CHECK_RC(crumb_store_log_append_many(st, ev, 3, 10, 60, &n),
             CRUMB_EUNAVAIL);
    CHECK(n == 0);
    CHECK(mono() - t < 1.0);
    redisFree(c);
    crumb_store_close(st);
}

/* One log of a batch that cannot take an append (a key of another type
 * under its name): the others in the same script call are still done,
 * and the batch says so. */
TEST(redis_append_many_one_fails)
{
    if (access(redis_server_bin(), X_OK) != 0)
        return;
    int port = free_port();
    pid_t pid = start_redis(port);
    char uri[128];
    snprintf(uri, sizeof(uri), "redis://127.0.0.1:%d/0", port);
    crumb_store *st;
    CHECK_RC(crumb_store_open(&st, uri, NULL), CRUMB_OK);
    struct timeval tv = {1, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
    CHECK(c && !c->err);
    redisReply *rep = redisCommand(c, "SET crumb:l:bad x");
    CHECK(rep && rep->type == REDIS_REPLY_STATUS);
    freeReplyObject(rep);
    crumb_store_log_entry ev[4] = {{"a", "1", 1, T0}, {"bad", "2", 1, T0},
                                   {"b", "3", 1, T0}, {"a", "4", 1, T0}};
    size_t n = 0;
    CHECK_RC(crumb_store_log_append_many(st, ev, 4, 10, 60, &n),
             CRUMB_ESTORE);
    CHECK(n == 3);
    CHECK(strstr(crumb_store_errmsg(st), "1 of 4") != NULL);
    rep = redisCommand(c, "LRANGE crumb:l:a 1 -1");
    CHECK(rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == 2);
    freeReplyObject(rep);
    rep = redisCommand(c, "LRANGE crumb:l:b 1 -1");
    CHECK(rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == 1);
    freeReplyObject(rep);
    rep = redisCommand(c, "GET crumb:l:bad");
    CHECK(rep && rep->type == REDIS_REPLY_STRING);
    freeReplyObject(rep);
    redisFree(c);
    crumb_store_close(st);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

TEST(redis_uri)
{
    crumb_store *st;
    crumb_store_options o;
    char err[200];
    crumb_store_options_init(&o);
    o.errbuf = err;
    o.errbuf_size = sizeof(err);
    CHECK_RC(crumb_store_open(&st, "redis://", &o), CRUMB_EINVAL);
    CHECK_RC(crumb_store_open(&st, "redis://127.0.0.1:99999/0", &o),
             CRUMB_EINVAL);
    CHECK_RC(crumb_store_open(&st, "redis://127.0.0.1:1/0?bogus=1", &o),
             CRUMB_EINVAL);
    CHECK_RC(crumb_store_open(&st, "redis://127.0.0.1:1/0?timeout_ms=x",
                              &o),
             CRUMB_EINVAL);
    /* Port 1 on loopback: nobody listens, refused fast. */
    double t = mono();
    CHECK_RC(crumb_store_open(&st,
                              "redis://127.0.0.1:1/0?connect_timeout_ms=200",
                              &o),
             CRUMB_EUNAVAIL);
    CHECK(mono() - t < 1.0);
    CHECK(st == NULL);
}

int
main(void)
{
    TEST_BEGIN();
    if (backends_setup("r") < 0)
        return 1;
    RUN_FOR("redis", redis_uri);
    RUN_FOR("redis", redis_down_and_back);
    RUN_FOR("redis", redis_append_many_noscript);
    RUN_FOR("redis", redis_append_many_one_fails);
    backends_cleanup();
    return TEST_END();
}
