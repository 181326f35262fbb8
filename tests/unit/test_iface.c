/* test_iface.c - the cookie session interface: Flask's open/save rules. */
#include <crumb/crumb.h>

#include "test.h"

static const char KEY[] = "a-test-secret-key-that-is-32-bytes-or-more";
static int64_t fake_now = 1700000000;

static int64_t
fake_clock(void *ctx)
{
    (void)ctx;
    return fake_now;
}

static crumb_iface *
make_iface(void (*tweak)(crumb_config *))
{
    crumb_config cfg;
    crumb_config_init(&cfg);
    cfg.secret_key = KEY;
    cfg.secret_key_len = strlen(KEY);
    cfg.clock = fake_clock;
    if (tweak)
        tweak(&cfg);
    crumb_iface *iface = NULL;
    if (crumb_iface_new(&iface, &cfg) != CRUMB_OK)
        return NULL;
    return iface;
}

/* "session=VALUE; ..." -> "session=VALUE" as a Cookie header. */
static char *
cookie_header_from(const char *set_cookie)
{
    const char *semi = strchr(set_cookie, ';');
    size_t n = semi ? (size_t)(semi - set_cookie) : strlen(set_cookie);
    char *h = malloc(n + 1);
    memcpy(h, set_cookie, n);
    h[n] = '\0';
    return h;
}

static crumb_session *
open_with(crumb_iface *iface, const char *header, crumb_open_reason *why)
{
    crumb_session *s = NULL;
    int rc = crumb_iface_open(iface, header, header ? strlen(header) : 0, &s,
                              why);
    return rc == CRUMB_OK ? s : NULL;
}

TEST(no_cookie_gives_new_session_and_no_set_cookie)
{
    crumb_iface *iface = make_iface(NULL);
    crumb_open_reason why;
    crumb_session *s = open_with(iface, NULL, &why);
    CHECK(s);
    CHECK_INT(why, ==, CRUMB_OPEN_NO_COOKIE);
    CHECK(crumb_session_is_new(s));
    crumb_save_result res;
    CHECK_RC(crumb_iface_save(iface, s, &res), CRUMB_OK);
    CHECK(res.set_cookie == NULL);
    CHECK(!res.vary_cookie);
    crumb_session_free(s);
    crumb_iface_free(iface);
}

TEST(round_trip_and_defaults)
{
    crumb_iface *iface = make_iface(NULL);
    crumb_session *s = open_with(iface, "other=1", NULL);
    crumb_session_set_string(s, "user", "ana");
    crumb_save_result res;
    CHECK_RC(crumb_iface_save(iface, s, &res), CRUMB_OK);
    CHECK(res.set_cookie);
    CHECK(res.vary_cookie);
    CHECK(strncmp(res.set_cookie, "session=", 8) == 0);
    CHECK(strstr(res.set_cookie, "; HttpOnly"));
    CHECK(strstr(res.set_cookie, "; Path=/"));
    CHECK(strstr(res.set_cookie, "; SameSite=Lax"));
    CHECK(!strstr(res.set_cookie, "Expires="));
    CHECK(!strstr(res.set_cookie, "Max-Age="));
    CHECK(!strstr(res.set_cookie, "Secure"));

    char *hdr = cookie_header_from(res.set_cookie);
    crumb_open_reason why;
    crumb_session *s2 = open_with(iface, hdr, &why);
    CHECK_INT(why, ==, CRUMB_OPEN_OK);
    CHECK(!crumb_session_is_new(s2));
    CHECK(!crumb_session_is_modified(s2));
    CHECK_STR(crumb_session_get_string(s2, "user", NULL), "ana");
    /* Read but unchanged, not permanent: no cookie, but Vary. */
    crumb_save_result res2;
    CHECK_RC(crumb_iface_save(iface, s2, &res2), CRUMB_OK);
    CHECK(res2.set_cookie == NULL);
    CHECK(res2.vary_cookie);
    free(hdr);
    crumb_save_result_cleanup(&res);
    crumb_save_result_cleanup(&res2);
    crumb_session_free(s);
    crumb_session_free(s2);
    crumb_iface_free(iface);
}

TEST(tampered_and_foreign_cookies_are_anonymous)
{
    crumb_iface *iface = make_iface(NULL);
    crumb_session *s = crumb_session_new();
    crumb_session_set_int(s, "user_id", 1);
    crumb_save_result res;
    CHECK_RC(crumb_iface_save(iface, s, &res), CRUMB_OK);
    char *hdr = cookie_header_from(res.set_cookie);
    size_t n = strlen(hdr);
    hdr[n - 3] = hdr[n - 3] == 'A' ? 'B' : 'A';
    crumb_open_reason why;
    crumb_session *s2 = open_with(iface, hdr, &why);
    CHECK_INT(why, ==, CRUMB_OPEN_BAD_SIGNATURE);
    CHECK(crumb_session_is_new(s2));
    CHECK_INT(crumb_session_count(s2), ==, 0);
    crumb_session_free(s2);

    const char *junk[] = {"session=", "session=garbage", "session=a.b.c",
                          "session=\"...\"", "session=.eJw.x.y"};
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
        s2 = open_with(iface, junk[i], &why);
        CHECK(s2);
        CHECK(crumb_session_is_new(s2));
        crumb_session_free(s2);
    }
    free(hdr);
    crumb_save_result_cleanup(&res);
    crumb_session_free(s);
    crumb_iface_free(iface);
}

TEST(expired_after_permanent_lifetime)
{
    crumb_iface *iface = make_iface(NULL);
    crumb_session *s = crumb_session_new();
    crumb_session_set_int(s, "user_id", 1);
    crumb_save_result res;
    fake_now = 1700000000;
    CHECK_RC(crumb_iface_save(iface, s, &res), CRUMB_OK);
    char *hdr = cookie_header_from(res.set_cookie);
    crumb_open_reason why;
    fake_now += 31 * 24 * 3600;
    crumb_session *s2 = open_with(iface, hdr, &why);
    CHECK_INT(why, ==, CRUMB_OPEN_OK);
    crumb_session_free(s2);
    fake_now += 1;
    s2 = open_with(iface, hdr, &why);
    CHECK_INT(why, ==, CRUMB_OPEN_EXPIRED);
    CHECK(crumb_session_is_new(s2));
    crumb_session_free(s2);
    fake_now = 1700000000;
    free(hdr);
    crumb_save_result_cleanup(&res);
    crumb_session_free(s);
    crumb_iface_free(iface);
}

TEST(permanent_sets_expires_and_refreshes)
{
    crumb_iface *iface = make_iface(NULL);
    crumb_session *s = crumb_session_new();
    crumb_session_set_permanent(s, 1);
    crumb_session_set_int(s, "user_id", 1);
    crumb_save_result res;
    CHECK_RC(crumb_iface_save(iface, s, &res), CRUMB_OK);
    CHECK(strstr(res.set_cookie, "; Expires="));
    CHECK(strstr(res.set_cookie, "; Max-Age=2678400"));
    char *hdr = cookie_header_from(res.set_cookie);
    crumb_session *s2 = open_with(iface, hdr, NULL);
    CHECK(crumb_session_is_permanent(s2));
    crumb_save_result res2;
    /* Untouched permanent session: refreshed on every request. */
    CHECK_RC(crumb_iface_save(iface, s2, &res2), CRUMB_OK);
    CHECK(res2.set_cookie != NULL);
    crumb_save_result_cleanup(&res2);
    crumb_session_free(s2);
    free(hdr);
    crumb_save_result_cleanup(&res);
    crumb_session_free(s);
    crumb_iface_free(iface);
}

static void
no_refresh(crumb_config *c)
{
    c->refresh_each_request = 0;
}

TEST(refresh_can_be_turned_off)
{
    crumb_iface *iface = make_iface(no_refresh);
    json_t *d = json_pack("{s:b,s:i}", "_permanent", 1, "n", 1);
    crumb_session *s = crumb_session_new_from(d, 1);
    crumb_session_set_new(s, 0);
    crumb_save_result res;
    CHECK_RC(crumb_iface_save(iface, s, &res), CRUMB_OK);
    CHECK(res.set_cookie == NULL);
    crumb_session_free(s);
    crumb_iface_free(iface);
}

TEST(emptied_session_gets_deletion_cookie)
{
    crumb_iface *iface = make_iface(NULL);
    json_t *d = json_pack("{s:i}", "n", 1);
    crumb_session *s = crumb_session_new_from(d, 1);
    crumb_session_clear(s);
    crumb_save_result res;
    CHECK_RC(crumb_iface_save(iface, s, &res), CRUMB_OK);
    CHECK(res.deleted);
    CHECK(res.vary_cookie);
    CHECK(strncmp(res.set_cookie, "session=;", 9) == 0);
    CHECK(strstr(res.set_cookie, "Expires=Thu, 01 Jan 1970 00:00:00 GMT"));
    CHECK(strstr(res.set_cookie, "Max-Age=0"));
    crumb_save_result_cleanup(&res);
    crumb_session_free(s);
    crumb_iface_free(iface);
}

TEST(too_large_cookie_refused)
{
    crumb_iface *iface = make_iface(NULL);
    crumb_session *s = crumb_session_new();
    /* Random-looking text does not compress below the limit. */
    char buf[6001];
    unsigned x = 12345;
    for (size_t i = 0; i < sizeof buf - 1; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (char)('!' + (x >> 16) % 90);
    }
    buf[sizeof buf - 1] = '\0';
    crumb_session_set_string(s, "blob", buf);
    crumb_save_result res;
    CHECK_RC(crumb_iface_save(iface, s, &res), CRUMB_ETOOBIG);
    CHECK(res.set_cookie == NULL);
    CHECK(strstr(crumb_iface_errmsg(iface), "4093"));
    crumb_session_free(s);
    crumb_iface_free(iface);
}

static void
host_prefix_ok(crumb_config *c)
{
    c->cookie_name = "__Host-session";
    c->cookie_secure = 1;
}

static void
host_prefix_bad(crumb_config *c)
{
    c->cookie_name = "__Host-session";
    c->cookie_secure = 1;
    c->cookie_domain = "example.com";
}

static void
samesite_none_insecure(crumb_config *c)
{
    c->cookie_samesite = CRUMB_SAMESITE_NONE;
}

TEST(cookie_configuration_checked)
{
    crumb_iface *iface = make_iface(host_prefix_ok);
    CHECK(iface);
    crumb_session *s = crumb_session_new();
    crumb_session_set_int(s, "n", 1);
    crumb_save_result res;
    CHECK_RC(crumb_iface_save(iface, s, &res), CRUMB_OK);
    CHECK(strncmp(res.set_cookie, "__Host-session=", 15) == 0);
    CHECK(strstr(res.set_cookie, "; Secure"));
    crumb_save_result_cleanup(&res);
    crumb_session_free(s);
    crumb_iface_free(iface);
    CHECK(make_iface(host_prefix_bad) == NULL);
    CHECK(make_iface(samesite_none_insecure) == NULL);
}

TEST(keys_empty_refused_short_warned_fallback_accepted)
{
    crumb_config cfg;
    crumb_config_init(&cfg);
    crumb_iface *iface = NULL;
    CHECK_RC(crumb_iface_new(&iface, &cfg), CRUMB_ENOKEY);
    cfg.secret_key = "";
    CHECK_RC(crumb_iface_new(&iface, &cfg), CRUMB_ENOKEY);
    cfg.secret_key = "short";
    cfg.secret_key_len = 5;
    CHECK_RC(crumb_iface_new(&iface, &cfg), CRUMB_OK);
    CHECK(crumb_iface_warning(iface) != NULL);

    /* A cookie signed with "short" stays valid after rotating to KEY. */
    crumb_session *s = crumb_session_new();
    crumb_session_set_int(s, "n", 7);
    crumb_save_result res;
    CHECK_RC(crumb_iface_save(iface, s, &res), CRUMB_OK);
    char *hdr = cookie_header_from(res.set_cookie);
    crumb_iface_free(iface);

    crumb_key old = {"short", 5};
    cfg.secret_key = KEY;
    cfg.secret_key_len = strlen(KEY);
    cfg.fallback_keys = &old;
    cfg.fallback_count = 1;
    CHECK_RC(crumb_iface_new(&iface, &cfg), CRUMB_OK);
    CHECK(crumb_iface_warning(iface) == NULL);
    crumb_open_reason why;
    crumb_session *s2 = open_with(iface, hdr, &why);
    CHECK_INT(why, ==, CRUMB_OPEN_OK);
    CHECK_INT(crumb_session_get_int(s2, "n", 0), ==, 7);
    crumb_session_free(s2);
    crumb_iface_free(iface);

    cfg.fallback_count = 0;
    CHECK_RC(crumb_iface_new(&iface, &cfg), CRUMB_OK);
    s2 = open_with(iface, hdr, &why);
    CHECK_INT(why, ==, CRUMB_OPEN_BAD_SIGNATURE);
    crumb_session_free(s2);
    crumb_iface_free(iface);
    free(hdr);
    crumb_save_result_cleanup(&res);
    crumb_session_free(s);
}

TEST(root_dict_escaping_round_trips)
{
    crumb_iface *iface = make_iface(NULL);
    crumb_session *s = crumb_session_new();
    crumb_session_set_int(s, " t", 5); /* a key that looks like a tag */
    crumb_save_result res;
    CHECK_RC(crumb_iface_save(iface, s, &res), CRUMB_OK);
    char *hdr = cookie_header_from(res.set_cookie);
    crumb_session *s2 = open_with(iface, hdr, NULL);
    CHECK_INT(crumb_session_get_int(s2, " t", 0), ==, 5);
    crumb_session_free(s2);
    free(hdr);
    crumb_save_result_cleanup(&res);
    crumb_session_free(s);
    crumb_iface_free(iface);
}

TEST(open_reason_strings)
{
    CHECK_STR(crumb_open_reason_str(CRUMB_OPEN_BAD_SIGNATURE), "bad signature");
    CHECK_STR(crumb_open_reason_str(CRUMB_OPEN_EXPIRED), "expired");
    CHECK_STR(crumb_open_reason_str(CRUMB_OPEN_MALFORMED), "malformed");
}

int
main(void)
{
    TEST_BEGIN();
    RUN(no_cookie_gives_new_session_and_no_set_cookie);
    RUN(round_trip_and_defaults);
    RUN(tampered_and_foreign_cookies_are_anonymous);
    RUN(expired_after_permanent_lifetime);
    RUN(permanent_sets_expires_and_refreshes);
    RUN(refresh_can_be_turned_off);
    RUN(emptied_session_gets_deletion_cookie);
    RUN(too_large_cookie_refused);
    RUN(cookie_configuration_checked);
    RUN(keys_empty_refused_short_warned_fallback_accepted);
    RUN(root_dict_escaping_round_trips);
    RUN(open_reason_strings);
    return TEST_END();
}
