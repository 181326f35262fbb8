/* test_remember.c - remember-me tokens on every store backend: issue,
 * rotation, replay (theft), forgery, expiry, revocation. */
#include <crumb/remember.h>

#include "test.h"
#include "backends.h"

#define T0 ((int64_t)1700000000)
#define LIFE ((int64_t)30 * 86400)

typedef struct used {
    crumb_remember_outcome outcome;
    char user[65];
    char next[CRUMB_REMEMBER_TOKEN_SIZE];
} used;

static used
consume(crumb_store *st, const char *token, int64_t now)
{
    used u;
    memset(&u, 0, sizeof(u));
    CHECK_RC(crumb_remember_consume(st, token, LIFE, now, u.user,
                                    sizeof(u.user), u.next, sizeof(u.next),
                                    &u.outcome),
             CRUMB_OK);
    return u;
}

static void
issue(crumb_store *st, const char *user, int64_t now, char *tok)
{
    CHECK_RC(crumb_remember_issue(st, user, LIFE, now, tok,
                                  CRUMB_REMEMBER_TOKEN_SIZE),
             CRUMB_OK);
}

TEST(token_shape)
{
    crumb_store *st = b_open_store();
    char a[CRUMB_REMEMBER_TOKEN_SIZE], b[CRUMB_REMEMBER_TOKEN_SIZE];
    issue(st, "42", T0, a);
    issue(st, "42", T0, b);
    CHECK_INT(strlen(a), ==, 16 + 1 + 43);
    CHECK(a[16] == ':');
    CHECK(strcmp(a, b) != 0);
    for (const char *p = a; *p; p++)
        CHECK(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                     "0123456789-_:", *p));
    crumb_store_close(st);
}

TEST(consume_rotates)
{
    crumb_store *st = b_open_store();
    char tok[CRUMB_REMEMBER_TOKEN_SIZE];
    issue(st, "alice", T0, tok);
    used u = consume(st, tok, T0 + 10);
    CHECK_INT(u.outcome, ==, CRUMB_REMEMBER_OK);
    CHECK_STR(u.user, "alice");
    CHECK_INT(strlen(u.next), ==, 60);
    CHECK(strncmp(u.next, tok, 16) != 0); /* a new selector too */
    used v = consume(st, u.next, T0 + 20);
    CHECK_INT(v.outcome, ==, CRUMB_REMEMBER_OK);
    CHECK_STR(v.user, "alice");
    crumb_store_close(st);
}

/* The old token again after rotation: nobody, and every token of that
 * user ends, including the one the rightful browser now holds. */
TEST(replay_is_theft)
{
    crumb_store *st = b_open_store();
    char tok[CRUMB_REMEMBER_TOKEN_SIZE], other[CRUMB_REMEMBER_TOKEN_SIZE];
    char bob[CRUMB_REMEMBER_TOKEN_SIZE];
    issue(st, "alice", T0, tok);
    issue(st, "alice", T0, other);
    issue(st, "bob", T0, bob);
    used u = consume(st, tok, T0 + 1);
    CHECK_INT(u.outcome, ==, CRUMB_REMEMBER_OK);
    /* within the grace: refused, nothing else happens */
    CHECK_INT(consume(st, tok, T0 + 2).outcome, ==, CRUMB_REMEMBER_RACED);
    used r = consume(st, tok, T0 + 1 + CRUMB_REMEMBER_GRACE);
    CHECK_INT(r.outcome, ==, CRUMB_REMEMBER_THEFT);
    CHECK_STR(r.user, "alice");
    CHECK_STR(r.next, "");
    CHECK_INT(consume(st, u.next, T0 + 9).outcome, ==,
              CRUMB_REMEMBER_REVOKED);
    CHECK_INT(consume(st, other, T0 + 9).outcome, ==,
              CRUMB_REMEMBER_REVOKED);
    used b = consume(st, bob, T0 + 9);
    CHECK_INT(b.outcome, ==, CRUMB_REMEMBER_OK);
    CHECK_STR(b.user, "bob");
    /* a token issued after the theft works */
    char fresh[CRUMB_REMEMBER_TOKEN_SIZE];
    issue(st, "alice", T0 + 10, fresh);
    CHECK_INT(consume(st, fresh, T0 + 11).outcome, ==, CRUMB_REMEMBER_OK);
    crumb_store_close(st);
}

TEST(wrong_validator_is_theft)
{
    crumb_store *st = b_open_store();
    char tok[CRUMB_REMEMBER_TOKEN_SIZE], other[CRUMB_REMEMBER_TOKEN_SIZE];
    issue(st, "alice", T0, tok);
    issue(st, "alice", T0, other);
    char forged[CRUMB_REMEMBER_TOKEN_SIZE];
    strcpy(forged, tok);
    forged[20] = forged[20] == 'A' ? 'B' : 'A';
    used f = consume(st, forged, T0 + 1);
    CHECK_INT(f.outcome, ==, CRUMB_REMEMBER_THEFT);
    CHECK_STR(f.user, "alice");
    CHECK_INT(consume(st, tok, T0 + 2).outcome, ==, CRUMB_REMEMBER_REVOKED);
    CHECK_INT(consume(st, other, T0 + 2).outcome, ==,
              CRUMB_REMEMBER_REVOKED);
    crumb_store_close(st);
}

TEST(forged_and_malformed)
{
    crumb_store *st = b_open_store();
    char tok[CRUMB_REMEMBER_TOKEN_SIZE];
    issue(st, "alice", T0, tok);
    const char *bad[] = {"", ":", "abc", "x:y", tok + 1,
                         "AAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                         "AAAAAAAAAAAAAAA=:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                         "AAAAAAAAAAAAAAAA;AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                         "AAAAAAAAAAAAAAA+:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                         NULL};
    for (size_t i = 0; bad[i]; i++) {
        used u = consume(st, bad[i], T0 + 1);
        if (u.outcome != CRUMB_REMEMBER_MALFORMED)
            T_FAIL_("%s: %s", bad[i], crumb_remember_outcome_str(u.outcome));
    }
    used u = consume(st, NULL, T0 + 1);
    CHECK_INT(u.outcome, ==, CRUMB_REMEMBER_MALFORMED);
    /* a well-formed token nobody issued */
    used n = consume(st, "AAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                     T0 + 1);
    CHECK_INT(n.outcome, ==, CRUMB_REMEMBER_UNKNOWN);
    CHECK_STR(n.user, "");
    /* none of that hurt the real token */
    CHECK_INT(consume(st, tok, T0 + 2).outcome, ==, CRUMB_REMEMBER_OK);
    crumb_store_close(st);
}

TEST(expiry)
{
    crumb_store *st = b_open_store();
    char tok[CRUMB_REMEMBER_TOKEN_SIZE];
    issue(st, "alice", T0, tok);
    used u = consume(st, tok, T0 + LIFE);
    CHECK_INT(u.outcome, ==, CRUMB_REMEMBER_UNKNOWN);
    issue(st, "alice", T0, tok);
    u = consume(st, tok, T0 + LIFE - 1);
    CHECK_INT(u.outcome, ==, CRUMB_REMEMBER_OK);
    /* the successor lives a full lifetime from its issue */
    CHECK_INT(consume(st, u.next, T0 + 2 * LIFE - 2).outcome, ==,
              CRUMB_REMEMBER_OK);
    crumb_store_close(st);
}

TEST(revoke_user_and_forget)
{
    crumb_store *st = b_open_store();
    char a[CRUMB_REMEMBER_TOKEN_SIZE], b[CRUMB_REMEMBER_TOKEN_SIZE];
    char c[CRUMB_REMEMBER_TOKEN_SIZE];
    issue(st, "alice", T0, a);
    issue(st, "alice", T0, b);
    issue(st, "alice", T0, c);
    CHECK_RC(crumb_remember_forget(st, a), CRUMB_OK);
    CHECK_RC(crumb_remember_forget(st, a), CRUMB_ENOTFOUND);
    CHECK_INT(consume(st, a, T0 + 1).outcome, ==, CRUMB_REMEMBER_UNKNOWN);
    /* the selector alone does not end a token */
    char wrong[CRUMB_REMEMBER_TOKEN_SIZE];
    strcpy(wrong, b);
    wrong[30] = wrong[30] == 'A' ? 'B' : 'A';
    CHECK_RC(crumb_remember_forget(st, wrong), CRUMB_ENOTFOUND);
    CHECK_RC(crumb_remember_forget(st, "junk"), CRUMB_ENOTFOUND);
    CHECK_RC(crumb_remember_revoke_user(st, "alice", T0 + 2), CRUMB_OK);
    CHECK_INT(consume(st, b, T0 + 3).outcome, ==, CRUMB_REMEMBER_REVOKED);
    CHECK_INT(consume(st, c, T0 + 3).outcome, ==, CRUMB_REMEMBER_REVOKED);
    crumb_store_close(st);
}

/* Two servers on one store: a token issued by one rotates on the other,
 * and a replay on the first is the theft signal for both. */
TEST(shared_between_handles)
{
    crumb_store *st = b_open_store();
    crumb_store *st2 = b_open_again(st);
    crumb_store *other = st2 ? st2 : st;
    char tok[CRUMB_REMEMBER_TOKEN_SIZE];
    issue(st, "carol", T0, tok);
    used u = consume(other, tok, T0 + 1);
    CHECK_INT(u.outcome, ==, CRUMB_REMEMBER_OK);
    CHECK_INT(consume(st, tok, T0 + 10).outcome, ==, CRUMB_REMEMBER_THEFT);
    CHECK_INT(consume(other, u.next, T0 + 11).outcome, ==,
              CRUMB_REMEMBER_REVOKED);
    crumb_store_close(st2);
    crumb_store_close(st);
}

TEST(bad_arguments)
{
    crumb_store *st = b_open_store();
    char tok[CRUMB_REMEMBER_TOKEN_SIZE], user[65];
    crumb_remember_outcome o;
    CHECK_RC(crumb_remember_issue(st, "", LIFE, T0, tok, sizeof(tok)),
             CRUMB_EINVAL);
    CHECK_RC(crumb_remember_issue(st, "a\nb", LIFE, T0, tok, sizeof(tok)),
             CRUMB_EINVAL);
    char long_user[80];
    memset(long_user, 'u', 65);
    long_user[65] = '\0';
    CHECK_RC(crumb_remember_issue(st, long_user, LIFE, T0, tok, sizeof(tok)),
             CRUMB_EINVAL);
    CHECK_RC(crumb_remember_issue(st, "a", 0, T0, tok, sizeof(tok)),
             CRUMB_EINVAL);
    CHECK_RC(crumb_remember_issue(st, "a", LIFE, T0, tok, 10), CRUMB_EINVAL);
    CHECK_RC(crumb_remember_issue(NULL, "a", LIFE, T0, tok, sizeof(tok)),
             CRUMB_EINVAL);
    CHECK_RC(crumb_remember_consume(st, "x", LIFE, T0, user, 10, tok,
                                    sizeof(tok), &o),
             CRUMB_EINVAL);
    CHECK_RC(crumb_remember_revoke_user(st, "", T0), CRUMB_EINVAL);
    /* a 64-byte user id is fine */
    long_user[64] = '\0';
    issue(st, long_user, T0, tok);
    used u = consume(st, tok, T0 + 1);
    CHECK_INT(u.outcome, ==, CRUMB_REMEMBER_OK);
    CHECK_STR(u.user, long_user);
    crumb_store_close(st);
}

/* Concurrent use of one token: exactly one request wins. */
TEST(one_winner)
{
    crumb_store *st = b_open_store();
    char tok[CRUMB_REMEMBER_TOKEN_SIZE];
    issue(st, "dave", T0, tok);
    int pipes[2];
    CHECK(pipe(pipes) == 0);
    enum { N = 6 };
    for (int i = 0; i < N; i++) {
        if (fork() == 0) {
            crumb_store *mine = strcmp(b_backend_, "memory") == 0
                                    ? st
                                    : b_open_store();
            used u = consume(mine, tok, T0 + 1);
            char c = u.outcome == CRUMB_REMEMBER_OK      ? 'w'
                     : u.outcome == CRUMB_REMEMBER_RACED ? 'r'
                                                         : 'x';
            if (write(pipes[1], &c, 1) != 1)
                _exit(2);
            _exit(0);
        }
    }
    close(pipes[1]);
    int wins = 0, n = 0, others = 0;
    char c;
    while (read(pipes[0], &c, 1) == 1) {
        n++;
        wins += c == 'w';
        others += c == 'x';
    }
    while (wait(NULL) > 0)
        ;
    CHECK_INT(n, ==, N);
    /* a memory store is per process: each child has its own copy */
    if (strcmp(b_backend_, "memory") != 0) {
        CHECK_INT(wins, ==, 1);
        CHECK_INT(others, ==, 0); /* the losers raced; no theft signal */
    }
    crumb_store_close(st);
}

int
main(void)
{
    TEST_BEGIN();
    int nb = b_setup();
    if (nb < 0)
        return 1;
    for (int b = 0; b < nb; b++) {
        RUN_B(b, token_shape);
        RUN_B(b, consume_rotates);
        RUN_B(b, replay_is_theft);
        RUN_B(b, wrong_validator_is_theft);
        RUN_B(b, forged_and_malformed);
        RUN_B(b, expiry);
        RUN_B(b, revoke_user_and_forget);
        RUN_B(b, shared_between_handles);
        RUN_B(b, bad_arguments);
        RUN_B(b, one_winner);
    }
    b_teardown();
    return TEST_END();
}
