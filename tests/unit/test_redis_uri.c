/* test_redis_uri.c - the redis:// URI reader that the session store and
 * the users backend share (src/redis_conn.c). */
#include <string.h>

#include <crumb/error.h>

#include "redis_conn.h"
#include "test.h"

static int
parse(const char *uri, crumb__redis_conn *r, char *prefix, char *why)
{
    memset(r, 0, sizeof *r);
    strcpy(prefix, "crumb");
    return crumb__redis_parse_uri(uri, r, prefix, 16, why, 96);
}

TEST(good_uris)
{
    crumb__redis_conn r;
    char prefix[17], why[96];
    CHECK_RC(parse("redis://cache", &r, prefix, why), CRUMB_OK);
    CHECK_STR(r.host, "cache");
    CHECK_INT(r.port, ==, 6379);
    CHECK_INT(r.db, ==, 0);
    CHECK_STR(prefix, "crumb");
    CHECK_RC(parse("redis://127.0.0.1:6380/3?prefix=shop&timeout_ms=250&"
                   "connect_timeout_ms=1500",
                   &r, prefix, why),
             CRUMB_OK);
    CHECK_STR(r.host, "127.0.0.1");
    CHECK_INT(r.port, ==, 6380);
    CHECK_INT(r.db, ==, 3);
    CHECK_STR(prefix, "shop");
    CHECK_INT(r.cmd_tv.tv_sec, ==, 0);
    CHECK_INT(r.cmd_tv.tv_usec, ==, 250000);
    CHECK_INT(r.connect_tv.tv_sec, ==, 1);
    CHECK_INT(r.connect_tv.tv_usec, ==, 500000);
    CHECK_RC(parse("redis://h/", &r, prefix, why), CRUMB_OK);
}

TEST(bad_uris_say_why)
{
    static const struct {
        const char *uri, *why;
    } cases[] = {
        {"redis://", "bad host"},
        {"redis://user@h:1/0", "bad host"},
        {"redis://h:0/0", "bad port"},
        {"redis://h:99999/0", "bad port"},
        {"redis://h:/0", "bad port"},
        {"redis://h/2000000", "bad database"},
        {"redis://h/0?bogus=1", "unknown or bad parameter"},
        {"redis://h/0?prefix", "unknown or bad parameter"},
        {"redis://h/0?prefix=", "unknown or bad parameter"},
        {"redis://h/0?prefix=12345678901234567", "unknown or bad parameter"},
        {"redis://h/0?timeout_ms=0", "unknown or bad parameter"},
        {"redis://h/0?timeout_ms=3600001", "unknown or bad parameter"},
        {"redis://h/0?connect_timeout_ms=5x", "unknown or bad parameter"},
        {"redis://h/0x", "unknown or bad parameter"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        crumb__redis_conn r;
        char prefix[17], why[96];
        CHECK_RC(parse(cases[i].uri, &r, prefix, why), CRUMB_EINVAL);
        CHECK(strncmp(why, cases[i].why, strlen(cases[i].why)) == 0);
        CHECK_STR(prefix, "crumb");
    }
}

int
main(void)
{
    TEST_BEGIN();
    RUN(good_uris);
    RUN(bad_uris_say_why);
    return TEST_END();
}
