/* test_password.c - password hashes: format, werkzeug vectors, bounds. */
#include <time.h>

#include <crumb/auth.h>
#include <crumb/error.h>

#include "auth/auth_int.h"
#include "test.h"

#define HEX128                                                                 \
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"         \
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define HEX64 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static int
is_lower_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strchr("0123456789abcdef", s[i]) || s[i] == '\0')
            return 0;
    return 1;
}

/* crumb's hash has werkzeug's shape; checked field by field. */
static void
check_shape(const char *h)
{
    const char *prefix = "scrypt:32768:8:1$";
    CHECK_INT(strlen(h), ==, strlen(prefix) + 16 + 1 + 128);
    CHECK(strncmp(h, prefix, strlen(prefix)) == 0);
    const char *salt = h + strlen(prefix);
    for (int i = 0; i < 16; i++)
        CHECK(strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                     "0123456789",
                     salt[i]) &&
              salt[i] != '\0');
    CHECK(salt[16] == '$');
    CHECK(is_lower_hex(salt + 17, 128));
}

TEST(hash_roundtrip)
{
    char *a = NULL, *b = NULL;
    CHECK_RC(crumb_password_hash("pässword", &a), CRUMB_OK);
    CHECK_RC(crumb_password_hash("pässword", &b), CRUMB_OK);
    check_shape(a);
    check_shape(b);
    CHECK(strcmp(a, b) != 0); /* fresh salt each time */
    CHECK_RC(crumb_password_verify(a, "pässword"), CRUMB_OK);
    CHECK_RC(crumb_password_verify(a, "passwörd"), CRUMB_EBADSIG);
    CHECK_INT(crumb_password_needs_rehash(a), ==, 0);
    free(a);
    free(b);
}

TEST(hash_invalid)
{
    char *h = (char *)"sentinel";
    char big[1026];
    CHECK_RC(crumb_password_hash(NULL, &h), CRUMB_EINVAL);
    CHECK(h == NULL);
    CHECK_RC(crumb_password_hash("", &h), CRUMB_EINVAL);
    CHECK_RC(crumb_password_hash("password", NULL), CRUMB_EINVAL);
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    CHECK_RC(crumb_password_hash(big, &h), CRUMB_EINVAL); /* 1025 bytes */
    CHECK(h == NULL);
}

/* Hashes written by werkzeug 3.1.8 (tests/vectors/werkzeug_hashes.txt):
 * each verifies, a wrong password does not, and only werkzeug's default
 * scrypt needs no rehash. */
TEST(werkzeug_vectors)
{
    const char *root = getenv("CRUMB_ROOT");
    char path[4096], line[4096];
    snprintf(path, sizeof path, "%s/tests/vectors/werkzeug_hashes.txt",
             root ? root : ".");
    FILE *f = fopen(path, "r");
    if (!f)
        T_FAIL_("cannot open %s", path);
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        char *tab = strchr(line, '\t');
        CHECK(tab != NULL);
        *tab = '\0';
        const char *hash = line, *pw = tab + 1;
        int rc = crumb_password_verify(hash, pw);
        if (rc != CRUMB_OK)
            T_FAIL_("%s: %s", hash, crumb_errname(rc));
        /* The bare pbkdf2 line costs a million iterations: once is enough. */
        if (strncmp(hash, "pbkdf2:sha256$", 14) != 0) {
            char wrong[1100];
            snprintf(wrong, sizeof wrong, "%sx", pw);
            CHECK_RC(crumb_password_verify(hash, wrong), CRUMB_EBADSIG);
        }
        CHECK_INT(crumb_password_needs_rehash(hash), ==,
                  strncmp(hash, "scrypt:32768:8:1$", 17) != 0);
        n++;
    }
    fclose(f);
    CHECK_INT(n, ==, 9);
}

TEST(malformed)
{
    static const char *bad[] = {
        "",
        "scrypt",
        "scrypt$saltsaltsaltsalt",
        "$saltsaltsaltsalt$" HEX128,
        ":32768:8:1$saltsaltsaltsalt$" HEX128,
        "scrypt:32768:8$saltsaltsaltsalt$" HEX128,
        "scrypt:32768:8:1:1$saltsaltsaltsalt$" HEX128,
        "scrypt:x:8:1$saltsaltsaltsalt$" HEX128,
        "scrypt:-32768:8:1$saltsaltsaltsalt$" HEX128,
        "scrypt: 32768:8:1$saltsaltsaltsalt$" HEX128,
        "scrypt:32767:8:1$saltsaltsaltsalt$" HEX128,
        "scrypt:1:8:1$saltsaltsaltsalt$" HEX128,
        "scrypt:32768:0:1$saltsaltsaltsalt$" HEX128,
        "scrypt:32768:8:0$saltsaltsaltsalt$" HEX128,
        "scrypt:65536:1:1$saltsaltsaltsalt$" HEX128,
        "scrypt:32768:8:1$$" HEX128,
        "scrypt:32768:8:1$saltsaltsaltsalt$" HEX64,
        "scrypt:32768:8:1$saltsaltsaltsalt$" HEX128 "00",
        "scrypt:32768:8:1$saltsaltsaltsalt$" HEX128 "$",
        "scrypt:32768:8:1$saltsaltsaltsalt$"
        "00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff"
        "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
        "scrypt:32768:8:1$saltsaltsaltsalt$"
        "g0112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
        "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
        "pbkdf2:sha256:0$saltsaltsaltsalt$" HEX64,
        "pbkdf2:sha256:1000:1$saltsaltsaltsalt$" HEX64,
        "pbkdf2::1000$saltsaltsaltsalt$" HEX64,
        "pbkdf2:sha256:99999999999999999999999$saltsaltsaltsalt$" HEX64,
        "pbkdf2:sha256:1000$saltsaltsaltsalt$" HEX128,
        "pbkdf2:sha512:1000$saltsaltsaltsalt$" HEX64,
    };
    CHECK_RC(crumb_password_verify(NULL, "x"), CRUMB_EMALFORMED);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = crumb_password_verify(bad[i], "x");
        if (rc != CRUMB_EMALFORMED)
            T_FAIL_("\"%s\": %s, want CRUMB_EMALFORMED", bad[i],
                    crumb_errname(rc));
        CHECK_INT(crumb_password_needs_rehash(bad[i]), ==, 1);
    }
}

/* Methods crumb lacks and parameters past the bounds are refused before
 * any work is done. */
TEST(unsupported)
{
    static const char *bad[] = {
        "scrypt:2097152:8:1$saltsaltsaltsalt$" HEX128,
        "scrypt:1048576:8:2$saltsaltsaltsalt$" HEX128,
        "scrypt:1048576:16:1$saltsaltsaltsalt$" HEX128,
        "scrypt:32768:64:1$saltsaltsaltsalt$" HEX128,
        "scrypt:32768:8:17$saltsaltsaltsalt$" HEX128,
        "pbkdf2:sha256:10000001$saltsaltsaltsalt$" HEX64,
        "pbkdf2:sha1:1000$saltsaltsaltsalt$" HEX64,
        "pbkdf2:md5:1000$saltsaltsaltsalt$" HEX64,
        "argon2:3:65536:4$saltsaltsaltsalt$" HEX64,
        "plain$$secret",
        "md5$salt$" HEX64,
    };
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = crumb_password_verify(bad[i], "x");
        if (rc != CRUMB_EUNSUPPORTED)
            T_FAIL_("\"%s\": %s, want CRUMB_EUNSUPPORTED", bad[i],
                    crumb_errname(rc));
        CHECK_RC(crumb__password_check(bad[i]), CRUMB_EUNSUPPORTED);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK_INT(t1.tv_sec - t0.tv_sec, <, 2);
    /* The bounds themselves are accepted. */
    CHECK_RC(crumb__password_check("scrypt:1048576:8:1$s$" HEX128), CRUMB_OK);
    CHECK_RC(crumb__password_check("scrypt:32768:32:1$s$" HEX128), CRUMB_OK);
    CHECK_RC(crumb__password_check("scrypt:32768:8:16$s$" HEX128), CRUMB_OK);
    CHECK_RC(crumb__password_check("scrypt$s$" HEX128), CRUMB_OK);
    CHECK_RC(crumb__password_check("pbkdf2:sha256:10000000$s$" HEX64),
             CRUMB_OK);
    CHECK_RC(crumb__password_check("pbkdf2:sha512$s$" HEX128), CRUMB_OK);
    CHECK_RC(crumb__password_check("pbkdf2$s$" HEX64), CRUMB_OK);
}

TEST(verify_null_password)
{
    CHECK_RC(crumb_password_verify("pbkdf2:sha256:1$s$" HEX64, NULL),
             CRUMB_EINVAL);
}

TEST(needs_rehash)
{
    CHECK_INT(crumb_password_needs_rehash(NULL), ==, 1);
    CHECK_INT(crumb_password_needs_rehash("nonsense"), ==, 1);
    CHECK_INT(crumb_password_needs_rehash(
                  "scrypt:32768:8:1$saltsaltsaltsalt$" HEX128),
              ==, 0);
    /* werkzeug's defaults spelt out or left out are the same thing. */
    CHECK_INT(crumb_password_needs_rehash("scrypt$saltsaltsaltsalt$" HEX128),
              ==, 0);
    CHECK_INT(crumb_password_needs_rehash("scrypt:32768:8:1$short$" HEX128), ==,
              1);
    CHECK_INT(crumb_password_needs_rehash(
                  "scrypt:65536:8:1$saltsaltsaltsalt$" HEX128),
              ==, 1);
    CHECK_INT(crumb_password_needs_rehash("pbkdf2:sha512:1000000$"
                                          "saltsaltsaltsalt$" HEX128),
              ==, 1);
}

static double
seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) +
           (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* The dummy does the work of a real verify: same order of time. */
TEST(verify_dummy)
{
    static const char h[] =
        "scrypt:32768:8:1$BqA0bfi3KRXZlzlw$891ada2e8d3807268b9d610f59448b889a"
        "5c4b9f96d72fbc8d1e9a62acc9dbc164a6d040e36e9d8a18372fb9a8a57c7bc4616d"
        "4f64079a13568cecfaba925df9";
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_RC(crumb_password_verify(h, "wrong"), CRUMB_EBADSIG);
    double real = seconds_since(&t0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_RC(crumb_password_verify_dummy("wrong"), CRUMB_EBADSIG);
    double dummy = seconds_since(&t0);
    if (dummy < real / 4)
        T_FAIL_("dummy took %.3fs, a real verify %.3fs", dummy, real);
    CHECK_RC(crumb_password_verify_dummy(NULL), CRUMB_EBADSIG);
}

/*
 * For tests/interop/test_password_interop.py: when CRUMB_HASH_OUT names a
 * file, write crumb hashes there as HASH<TAB>PASSWORD lines for werkzeug to
 * check. Does nothing otherwise.
 */
TEST(interop_out)
{
    const char *path = getenv("CRUMB_HASH_OUT");
    if (!path || !*path)
        return;
    static char longpw[1025];
    memset(longpw, 'z', 1024);
    const char *pws[] = {"pässword", "correct horse battery staple",
                         "日本語のパスワード", "a", longpw};
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    for (size_t i = 0; i < sizeof pws / sizeof pws[0]; i++) {
        char *h = NULL;
        CHECK_RC(crumb_password_hash(pws[i], &h), CRUMB_OK);
        fprintf(f, "%s\t%s\n", h, pws[i]);
        free(h);
    }
    CHECK(fclose(f) == 0);
}

int
main(void)
{
    TEST_BEGIN();
    RUN(hash_roundtrip);
    RUN(hash_invalid);
    RUN(werkzeug_vectors);
    RUN(malformed);
    RUN(unsupported);
    RUN(verify_null_password);
    RUN(needs_rehash);
    RUN(verify_dummy);
    RUN(interop_out);
    return TEST_END();
}
