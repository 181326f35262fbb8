/* test_csrf.c - CSRF tokens: masking, verification, tampering. */
#include <jansson.h>

#include <crumb/auth.h>
#include <crumb/base64.h>
#include <crumb/error.h>
#include <crumb/session.h>

#include "test.h"

static const char b64url_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void
token_ok(crumb_session *s, char *tok)
{
    CHECK_RC(crumb_csrf_token(s, tok, CRUMB_CSRF_TOKEN_SIZE), CRUMB_OK);
    CHECK_INT(strlen(tok), ==, 86);
    CHECK_INT(strspn(tok, b64url_chars), ==, 86);
}

/* The first token creates a 32-byte secret under "_csrf"; later ones
 * reuse it. */
TEST(secret_created_once)
{
    crumb_session *s = crumb_session_new();
    char tok[CRUMB_CSRF_TOKEN_SIZE];
    crumb_session_set_new(s, 0);
    CHECK_INT(crumb_session_is_modified(s), ==, 0);
    token_ok(s, tok);
    CHECK_INT(crumb_session_is_modified(s), ==, 1);
    const char *sec = crumb_session_get_string(s, "_csrf", NULL);
    CHECK(sec != NULL);
    CHECK_INT(strlen(sec), ==, 43);
    char first[64];
    snprintf(first, sizeof first, "%s", sec);
    token_ok(s, tok);
    CHECK_STR(crumb_session_get_string(s, "_csrf", NULL), first);
    crumb_session_free(s);
}

/* A token is b64url(pad || pad ^ secret). */
TEST(token_structure)
{
    crumb_session *s = crumb_session_new();
    char tok[CRUMB_CSRF_TOKEN_SIZE];
    unsigned char raw[66], secret[33], unmasked[32];
    token_ok(s, tok);
    const char *sec = crumb_session_get_string(s, "_csrf", NULL);
    CHECK_INT(crumb_b64url_decode(sec, strlen(sec), secret), ==, 32);
    CHECK_INT(crumb_b64url_decode(tok, 86, raw), ==, 64);
    for (int i = 0; i < 32; i++)
        unmasked[i] = raw[i] ^ raw[32 + i];
    CHECK_MEM(unmasked, 32, secret, 32);
    CHECK(memcmp(raw + 32, secret, 32) != 0); /* masked, not the secret */
    crumb_session_free(s);
}

TEST(tokens_differ_and_verify)
{
    enum { N = 16 };
    crumb_session *s = crumb_session_new();
    char tok[N][CRUMB_CSRF_TOKEN_SIZE];
    for (int i = 0; i < N; i++)
        token_ok(s, tok[i]);
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < i; j++)
            CHECK(strcmp(tok[i], tok[j]) != 0);
        CHECK_RC(crumb_csrf_verify(s, tok[i]), CRUMB_OK);
    }
    crumb_session_free(s);
}

TEST(other_session_fails)
{
    crumb_session *a = crumb_session_new(), *b = crumb_session_new();
    crumb_session *c = crumb_session_new();
    char ta[CRUMB_CSRF_TOKEN_SIZE], tb[CRUMB_CSRF_TOKEN_SIZE];
    token_ok(a, ta);
    token_ok(b, tb);
    CHECK_RC(crumb_csrf_verify(a, tb), CRUMB_EBADSIG);
    CHECK_RC(crumb_csrf_verify(b, ta), CRUMB_EBADSIG);
    /* A session without a secret refuses, and gets none from verifying. */
    crumb_session_set_new(c, 0);
    CHECK_RC(crumb_csrf_verify(c, ta), CRUMB_EBADSIG);
    CHECK_INT(crumb_session_contains(c, "_csrf"), ==, 0);
    CHECK_INT(crumb_session_is_modified(c), ==, 0);
    crumb_session_free(a);
    crumb_session_free(b);
    crumb_session_free(c);
}

/* Changing any one character of a token makes it fail. */
TEST(tampered_fails)
{
    crumb_session *s = crumb_session_new();
    char tok[CRUMB_CSRF_TOKEN_SIZE], bad[CRUMB_CSRF_TOKEN_SIZE];
    token_ok(s, tok);
    for (int i = 0; i < 86; i++) {
        for (int k = 1; k < 64; k += 21) {
            memcpy(bad, tok, sizeof bad);
            const char *pos = strchr(b64url_chars, tok[i]);
            bad[i] = b64url_chars[((pos - b64url_chars) + k) % 64];
            int rc = crumb_csrf_verify(s, bad);
            if (rc != CRUMB_EBADSIG)
                T_FAIL_("char %d changed: %s", i, crumb_errname(rc));
        }
    }
    CHECK_RC(crumb_csrf_verify(s, tok), CRUMB_OK);
    crumb_session_free(s);
}

TEST(garbage_fails)
{
    crumb_session *s = crumb_session_new();
    char tok[CRUMB_CSRF_TOKEN_SIZE], buf[200];
    token_ok(s, tok);
    CHECK_RC(crumb_csrf_verify(s, NULL), CRUMB_EBADSIG);
    CHECK_RC(crumb_csrf_verify(NULL, tok), CRUMB_EBADSIG);
    CHECK_RC(crumb_csrf_verify(s, ""), CRUMB_EBADSIG);
    CHECK_RC(crumb_csrf_verify(s, "x"), CRUMB_EBADSIG);
    snprintf(buf, sizeof buf, "%.85s", tok); /* short */
    CHECK_RC(crumb_csrf_verify(s, buf), CRUMB_EBADSIG);
    snprintf(buf, sizeof buf, "%sA", tok); /* long */
    CHECK_RC(crumb_csrf_verify(s, buf), CRUMB_EBADSIG);
    snprintf(buf, sizeof buf, "%s==", tok); /* padded */
    CHECK_RC(crumb_csrf_verify(s, buf), CRUMB_EBADSIG);
    memset(buf, '!', 86);
    buf[86] = '\0';
    CHECK_RC(crumb_csrf_verify(s, buf), CRUMB_EBADSIG);
    memset(buf, 'A', 86); /* well-formed: 64 zero bytes */
    CHECK_RC(crumb_csrf_verify(s, buf), CRUMB_EBADSIG);
    /* The standard alphabet's '+' and '/' are not URL-safe base64. */
    snprintf(buf, sizeof buf, "%s", tok);
    for (int i = 0; i < 86; i++)
        buf[i] = buf[i] == '-' ? '+' : buf[i] == '_' ? '/' : buf[i];
    if (strcmp(buf, tok) != 0)
        CHECK_RC(crumb_csrf_verify(s, buf), CRUMB_EBADSIG);
    crumb_session_free(s);
}

TEST(bad_arguments)
{
    crumb_session *s = crumb_session_new();
    char tok[CRUMB_CSRF_TOKEN_SIZE];
    CHECK_RC(crumb_csrf_token(s, tok, CRUMB_CSRF_TOKEN_SIZE - 1), CRUMB_EINVAL);
    CHECK_RC(crumb_csrf_token(s, NULL, CRUMB_CSRF_TOKEN_SIZE), CRUMB_EINVAL);
    CHECK_RC(crumb_csrf_token(NULL, tok, sizeof tok), CRUMB_EINVAL);
    CHECK_INT(crumb_session_contains(s, "_csrf"), ==, 0);
    crumb_session_free(s);
}

/* A secret that is not ours (wrong type, wrong length, not base64url) is
 * replaced by a good one; tokens for the old value cannot verify. */
TEST(unusable_secret_replaced)
{
    static const char *const junk[] = {
        "garbage", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA!"};
    char tok[CRUMB_CSRF_TOKEN_SIZE];
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
        crumb_session *s = crumb_session_new();
        CHECK_RC(crumb_session_set_string(s, "_csrf", junk[i]), CRUMB_OK);
        CHECK_RC(crumb_csrf_verify(s, "A"), CRUMB_EBADSIG);
        token_ok(s, tok);
        CHECK_INT(strlen(crumb_session_get_string(s, "_csrf", "")), ==, 43);
        CHECK_RC(crumb_csrf_verify(s, tok), CRUMB_OK);
        crumb_session_free(s);
    }
    crumb_session *s = crumb_session_new();
    CHECK_RC(crumb_session_set_int(s, "_csrf", 42), CRUMB_OK);
    token_ok(s, tok);
    CHECK_RC(crumb_csrf_verify(s, tok), CRUMB_OK);
    crumb_session_free(s);
}

/* The secret lives in the session data, so a token issued before a
 * save verifies against the reloaded session. */
TEST(survives_reload)
{
    crumb_session *s = crumb_session_new();
    char tok[CRUMB_CSRF_TOKEN_SIZE];
    token_ok(s, tok);
    char *dump = json_dumps(crumb_session_data(s), JSON_COMPACT);
    CHECK(dump != NULL);
    crumb_session_free(s);
    json_t *data = json_loads(dump, 0, NULL);
    free(dump);
    CHECK(data != NULL);
    crumb_session *r = crumb_session_new_from(data, 1);
    CHECK(r != NULL);
    CHECK_RC(crumb_csrf_verify(r, tok), CRUMB_OK);
    crumb_session_free(r);
}

int
main(void)
{
    TEST_BEGIN();
    RUN(secret_created_once);
    RUN(token_structure);
    RUN(tokens_differ_and_verify);
    RUN(other_session_fails);
    RUN(tampered_fails);
    RUN(garbage_fails);
    RUN(bad_arguments);
    RUN(unusable_secret_replaced);
    RUN(survives_reload);
    return TEST_END();
}
