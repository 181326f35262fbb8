/* test_throttle.c - login throttling on every store backend: limits,
 * growing delays, reset on success, per address, shared, moved clocks. */
#include <crumb/remember.h>

#include "test.h"
#include "backends.h"

#define T0 ((int64_t)1700000000)

static crumb_throttle_limits
limits(void)
{
    crumb_throttle_limits l;
    crumb_throttle_limits_init(&l);
    return l;
}

static int64_t
check(crumb_store *st, const crumb_throttle_limits *l, const char *user,
      const char *addr, int64_t now)
{
    int64_t r = -1;
    CHECK_RC(crumb_throttle_check(st, l, user, addr, now, &r), CRUMB_OK);
    return r;
}

static int64_t
fail(crumb_store *st, const crumb_throttle_limits *l, const char *user,
     const char *addr, int64_t now)
{
    int64_t r = -1;
    CHECK_RC(crumb_throttle_fail(st, l, user, addr, now, &r), CRUMB_OK);
    return r;
}

static int64_t
failures_of(crumb_store *st, const crumb_throttle_limits *l,
            const char *user, const char *addr, int64_t now)
{
    int64_t n = -1;
    CHECK_RC(crumb_throttle_failures(st, l, user, addr, now, &n), CRUMB_OK);
    return n;
}

TEST(defaults)
{
    crumb_throttle_limits l = limits();
    CHECK_INT(l.max_user, ==, 5);
    CHECK_INT(l.max_addr, ==, 100);
    CHECK_INT(l.window, ==, 900);
}

/* Five failures pass; the sixth attempt is refused before any password
 * check, and each further refusal doubles the delay. */
TEST(user_limit_and_growth)
{
    crumb_store *st = b_open_store();
    crumb_throttle_limits l = limits();
    for (int i = 0; i < 4; i++) {
        CHECK_INT(check(st, &l, "alice", "10.0.0.1", T0), ==, 0);
        CHECK_INT(fail(st, &l, "alice", "10.0.0.1", T0), ==, 0);
    }
    CHECK_INT(check(st, &l, "alice", "10.0.0.1", T0), ==, 0);
    CHECK_INT(fail(st, &l, "alice", "10.0.0.1", T0), ==, 2);
    CHECK_INT(check(st, &l, "alice", "10.0.0.1", T0), ==, 4);
    CHECK_INT(check(st, &l, "alice", "10.0.0.1", T0), ==, 8);
    CHECK_INT(check(st, &l, "alice", "10.0.0.1", T0 + 1), ==, 16);
    CHECK_INT(failures_of(st, &l, "alice", NULL, T0 + 1), ==, 8);
    /* another user from the same address is not blocked */
    CHECK_INT(check(st, &l, "bob", "10.0.0.1", T0 + 1), ==, 0);
    /* after the delay, one more attempt may check the password */
    CHECK_INT(check(st, &l, "alice", "10.0.0.1", T0 + 1 + 16), ==, 0);
    crumb_store_close(st);
}

TEST(capped_at_window)
{
    crumb_store *st = b_open_store();
    crumb_throttle_limits l = limits();
    l.window = 60;
    int64_t r = 0;
    for (int i = 0; i < 40; i++)
        r = fail(st, &l, "alice", NULL, T0);
    CHECK_INT(r, ==, 60);
    CHECK_INT(check(st, &l, "alice", NULL, T0 + 1), ==, 60);
    /* the window passes: a clean slate */
    CHECK_INT(check(st, &l, "alice", NULL, T0 + 200), ==, 0);
    CHECK_INT(failures_of(st, &l, "alice", NULL, T0 + 200), ==, 0);
    crumb_store_close(st);
}

TEST(success_resets_user_only)
{
    crumb_store *st = b_open_store();
    crumb_throttle_limits l = limits();
    l.max_addr = 8;
    for (int i = 0; i < 5; i++)
        fail(st, &l, "alice", "10.0.0.9", T0);
    CHECK(check(st, &l, "alice", "10.0.0.9", T0) > 0);
    CHECK_RC(crumb_throttle_success(st, &l, "alice", T0 + 10), CRUMB_OK);
    CHECK_INT(failures_of(st, &l, "alice", NULL, T0 + 10), ==, 0);
    CHECK_INT(check(st, &l, "alice", "10.0.0.9", T0 + 10), ==, 0);
    CHECK_INT(failures_of(st, &l, NULL, "10.0.0.9", T0 + 10), ==, 6);
    crumb_store_close(st);
}

/* One address trying many names hits the address limit. */
TEST(addr_limit)
{
    crumb_store *st = b_open_store();
    crumb_throttle_limits l = limits();
    l.max_addr = 10;
    char name[32];
    for (int i = 0; i < 10; i++) {
        snprintf(name, sizeof(name), "user%d", i);
        CHECK_INT(check(st, &l, name, "192.0.2.7", T0), ==, 0);
        fail(st, &l, name, "192.0.2.7", T0);
    }
    CHECK(check(st, &l, "someone_else", "192.0.2.7", T0) > 0);
    CHECK_INT(check(st, &l, "someone_else", "192.0.2.8", T0), ==, 0);
    crumb_store_close(st);
}

/* An IPv6 client counts for its /64; a v4-mapped address as the v4. */
TEST(ipv6_prefix)
{
    crumb_store *st = b_open_store();
    crumb_throttle_limits l = limits();
    fail(st, &l, NULL, "2001:db8:1:2::1", T0);
    fail(st, &l, NULL, "2001:db8:1:2:ffff::9", T0);
    CHECK_INT(failures_of(st, &l, NULL, "2001:db8:1:2:abcd::", T0), ==, 2);
    CHECK_INT(failures_of(st, &l, NULL, "2001:db8:1:3::1", T0), ==, 0);
    fail(st, &l, NULL, "::ffff:10.1.2.3", T0);
    CHECK_INT(failures_of(st, &l, NULL, "10.1.2.3", T0), ==, 1);
    /* junk and huge names are bounded by hashing */
    char big[4000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    CHECK_INT(fail(st, &l, big, big, T0), ==, 0);
    CHECK_INT(failures_of(st, &l, big, NULL, T0), ==, 1);
    crumb_store_close(st);
}

/* Two servers on one store see the same counts. */
TEST(shared_between_handles)
{
    crumb_store *st = b_open_store();
    crumb_store *st2 = b_open_again(st);
    crumb_store *other = st2 ? st2 : st;
    crumb_throttle_limits l = limits();
    for (int i = 0; i < 5; i++)
        fail(i % 2 ? st : other, &l, "carol", "10.0.0.3", T0);
    CHECK_INT(check(other, &l, "carol", "10.0.0.4", T0), ==, 4);
    CHECK_INT(check(st, &l, "carol", "10.0.0.4", T0), ==, 8);
    CHECK_RC(crumb_throttle_success(other, &l, "carol", T0 + 100), CRUMB_OK);
    CHECK_INT(check(st, &l, "carol", "10.0.0.4", T0 + 100), ==, 0);
    crumb_store_close(st2);
    crumb_store_close(st);
}

TEST(bad_arguments)
{
    crumb_store *st = b_open_store();
    crumb_throttle_limits l = limits();
    int64_t r;
    CHECK_RC(crumb_throttle_check(NULL, &l, "a", "b", T0, &r), CRUMB_EINVAL);
    CHECK_RC(crumb_throttle_check(st, NULL, "a", "b", T0, &r), CRUMB_EINVAL);
    CHECK_RC(crumb_throttle_check(st, &l, "a", "b", T0, NULL), CRUMB_EINVAL);
    l.window = 0;
    CHECK_RC(crumb_throttle_fail(st, &l, "a", "b", T0, &r), CRUMB_EINVAL);
    l = limits();
    CHECK_RC(crumb_throttle_success(st, &l, "", T0), CRUMB_EINVAL);
    CHECK_RC(crumb_throttle_failures(st, &l, "a", "b", T0, &r), CRUMB_EINVAL);
    /* nobody named on either side: nothing counted, nothing blocked */
    CHECK_RC(crumb_throttle_check(st, &l, NULL, "", T0, &r), CRUMB_OK);
    CHECK_INT(r, ==, 0);
    crumb_store_close(st);
}

int
main(void)
{
    TEST_BEGIN();
    RUN(defaults);
    int nb = b_setup();
    if (nb < 0)
        return 1;
    for (int b = 0; b < nb; b++) {
        RUN_B(b, user_limit_and_growth);
        RUN_B(b, capped_at_window);
        RUN_B(b, success_resets_user_only);
        RUN_B(b, addr_limit);
        RUN_B(b, ipv6_prefix);
        RUN_B(b, shared_between_handles);
        RUN_B(b, bad_arguments);
    }
    b_teardown();
    return TEST_END();
}
