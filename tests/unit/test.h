/* test.h - the unit test harness: each test runs in a forked child with a
 * timeout; assertions print both sides. Output, one line per test:
 *   ok <file> <name>          or        FAIL <file> <name>: <why>
 * tests/run.sh counts those lines. */
#ifndef CRUMB_TEST_H
#define CRUMB_TEST_H

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define TEST_TIMEOUT_SECONDS 30

static const char *t_file_ = "";
static int t_passed_, t_failed_;

#define TEST(name) static void name(void)

#define T_FAIL_(...)                                                         \
    do {                                                                     \
        fprintf(stderr, "  %s:%d: ", __FILE__, __LINE__);                   \
        fprintf(stderr, __VA_ARGS__);                                        \
        fprintf(stderr, "\n");                                               \
        exit(1);                                                             \
    } while (0)

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond))                                                         \
            T_FAIL_("CHECK(%s) failed", #cond);                              \
    } while (0)

#define CHECK_INT(a, op, b)                                                  \
    do {                                                                     \
        long long t_a_ = (long long)(a), t_b_ = (long long)(b);              \
        if (!(t_a_ op t_b_))                                                 \
            T_FAIL_("CHECK_INT(%s %s %s): %lld vs %lld", #a, #op, #b, t_a_,  \
                    t_b_);                                                   \
    } while (0)

/* Status codes print with their names. */
#define CHECK_RC(a, b)                                                       \
    do {                                                                     \
        int t_a_ = (a), t_b_ = (b);                                          \
        if (t_a_ != t_b_)                                                    \
            T_FAIL_("CHECK_RC(%s, %s): %s (%d) vs %s (%d)", #a, #b,          \
                    crumb_errname(t_a_), t_a_, crumb_errname(t_b_), t_b_);   \
    } while (0)

#define CHECK_STR(a, b)                                                      \
    do {                                                                     \
        const char *t_a_ = (a), *t_b_ = (b);                                 \
        if (!t_a_ || !t_b_ || strcmp(t_a_, t_b_) != 0)                       \
            T_FAIL_("CHECK_STR(%s, %s): \"%s\" vs \"%s\"", #a, #b,           \
                    t_a_ ? t_a_ : "(null)", t_b_ ? t_b_ : "(null)");         \
    } while (0)

#define CHECK_MEM(a, alen, b, blen)                                          \
    do {                                                                     \
        size_t t_al_ = (size_t)(alen), t_bl_ = (size_t)(blen);               \
        if (t_al_ != t_bl_ || memcmp((a), (b), t_al_) != 0) {                \
            fprintf(stderr, "  %s:%d: CHECK_MEM(%s, %s) differ (%zu vs %zu "  \
                            "bytes)\n    got: ",                             \
                    __FILE__, __LINE__, #a, #b, t_al_, t_bl_);               \
            for (size_t t_i_ = 0; t_i_ < t_al_ && t_i_ < 64; t_i_++)         \
                fprintf(stderr, "%02x", ((const unsigned char *)(a))[t_i_]); \
            fprintf(stderr, "\n   want: ");                                  \
            for (size_t t_i_ = 0; t_i_ < t_bl_ && t_i_ < 64; t_i_++)         \
                fprintf(stderr, "%02x", ((const unsigned char *)(b))[t_i_]); \
            fprintf(stderr, "\n");                                           \
            exit(1);                                                         \
        }                                                                    \
    } while (0)

static void
t_run_(const char *name, void (*fn)(void))
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        alarm(TEST_TIMEOUT_SECONDS);
        fn();
        exit(0);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) < 0) {
        printf("FAIL %s %s: fork/wait failed\n", t_file_, name);
        t_failed_++;
        return;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        printf("ok %s %s\n", t_file_, name);
        t_passed_++;
    } else if (WIFSIGNALED(status)) {
        printf("FAIL %s %s: killed by signal %d%s\n", t_file_, name,
               WTERMSIG(status),
               WTERMSIG(status) == SIGALRM ? " (timeout)" : "");
        t_failed_++;
    } else {
        printf("FAIL %s %s: exit %d\n", t_file_, name, WEXITSTATUS(status));
        t_failed_++;
    }
    fflush(stdout);
}

#define TEST_BEGIN() (t_file_ = __FILE__)
#define RUN(fn) t_run_(#fn, fn)
#define TEST_END()                                                           \
    (printf("# %s: %d passed, %d failed\n", t_file_, t_passed_, t_failed_), \
     t_failed_ ? 1 : 0)

#endif
