/* test_base64.c - RFC 4648 vectors and strictness of the decoders. */
#include <crumb/base64.h>
#include <crumb/error.h>

#include "test.h"

static const struct {
    const char *raw, *std, *url;
} rfc_vectors[] = {
    {"", "", ""},
    {"f", "Zg==", "Zg"},
    {"fo", "Zm8=", "Zm8"},
    {"foo", "Zm9v", "Zm9v"},
    {"foob", "Zm9vYg==", "Zm9vYg"},
    {"fooba", "Zm9vYmE=", "Zm9vYmE"},
    {"foobar", "Zm9vYmFy", "Zm9vYmFy"},
};

TEST(rfc4648_section10)
{
    for (size_t i = 0; i < sizeof rfc_vectors / sizeof rfc_vectors[0]; i++) {
        const char *raw = rfc_vectors[i].raw;
        size_t n = strlen(raw);
        char enc[16];
        unsigned char dec[16];
        size_t e = crumb_b64_encode(raw, n, enc);
        CHECK_MEM(enc, e, rfc_vectors[i].std, strlen(rfc_vectors[i].std));
        CHECK_INT(e, ==, CRUMB_B64_ENCODED_LEN(n));
        e = crumb_b64url_encode(raw, n, enc);
        CHECK_MEM(enc, e, rfc_vectors[i].url, strlen(rfc_vectors[i].url));
        long d = crumb_b64_decode(rfc_vectors[i].std,
                                  strlen(rfc_vectors[i].std), dec);
        CHECK_MEM(dec, d, raw, n);
        /* The standard decoder also takes unpadded input. */
        d = crumb_b64_decode(rfc_vectors[i].url, strlen(rfc_vectors[i].url),
                             dec);
        CHECK_MEM(dec, d, raw, n);
        d = crumb_b64url_decode(rfc_vectors[i].url,
                                strlen(rfc_vectors[i].url), dec);
        CHECK_MEM(dec, d, raw, n);
    }
}

TEST(alphabets_differ)
{
    const unsigned char raw[] = {0xfb, 0xff, 0xbf};
    char enc[8];
    unsigned char dec[8];
    CHECK_MEM(enc, crumb_b64_encode(raw, 3, enc), "+/+/", 4);
    CHECK_MEM(enc, crumb_b64url_encode(raw, 3, enc), "-_-_", 4);
    CHECK_INT(crumb_b64url_decode("+/+/", 4, dec), ==, -1);
    CHECK_INT(crumb_b64_decode("-_-_", 4, dec), ==, -1);
    CHECK_MEM(dec, crumb_b64url_decode("-_-_", 4, dec), raw, 3);
    CHECK_MEM(dec, crumb_b64_decode("+/+/", 4, dec), raw, 3);
}

TEST(all_byte_values_round_trip)
{
    unsigned char raw[256], dec[300];
    char enc[400];
    for (int i = 0; i < 256; i++)
        raw[i] = (unsigned char)i;
    for (size_t n = 0; n <= 256; n++) {
        size_t e = crumb_b64url_encode(raw + 256 - n, n, enc);
        CHECK_MEM(dec, crumb_b64url_decode(enc, e, dec), raw + 256 - n, n);
        e = crumb_b64_encode(raw, n, enc);
        CHECK_MEM(dec, crumb_b64_decode(enc, e, dec), raw, n);
    }
}

TEST(url_decoder_is_strict)
{
    unsigned char dec[16];
    CHECK_INT(crumb_b64url_decode("Zg==", 4, dec), ==, -1); /* padding */
    CHECK_INT(crumb_b64url_decode("Zm8=", 4, dec), ==, -1);
    CHECK_INT(crumb_b64url_decode("Z", 1, dec), ==, -1); /* 1 mod 4 */
    CHECK_INT(crumb_b64url_decode("Zm9vY", 5, dec), ==, -1);
    CHECK_INT(crumb_b64url_decode("Zh", 2, dec), ==, -1); /* stray bits */
    CHECK_INT(crumb_b64url_decode("Zm9", 3, dec), ==, -1);
    CHECK_INT(crumb_b64url_decode("Zm 9v", 5, dec), ==, -1);
    CHECK_INT(crumb_b64url_decode("Zm9\n", 4, dec), ==, -1);
    CHECK_INT(crumb_b64url_decode("Zm.v", 4, dec), ==, -1);
    CHECK_INT(crumb_b64url_decode("Zm\0v", 4, dec), ==, -1);
    CHECK_INT(crumb_b64url_decode("Zm9\xc3", 4, dec), ==, -1);
    CHECK_INT(crumb_b64url_decode("", 0, dec), ==, 0);
}

/* Every tampering with the last character of an encoding is caught: only
 * one of the 64 characters decodes to the same bytes. */
TEST(url_one_encoding_per_value)
{
    static const char alpha[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const unsigned char raw[] = {0x12, 0x34, 0x56, 0x78, 0x9a};
    for (size_t n = 1; n <= 5; n++) {
        char enc[16];
        unsigned char dec[16];
        size_t e = crumb_b64url_encode(raw, n, enc);
        int same = 0;
        for (int c = 0; c < 64; c++) {
            enc[e - 1] = alpha[c];
            long d = crumb_b64url_decode(enc, e, dec);
            if (d == (long)n && memcmp(dec, raw, n) == 0)
                same++;
        }
        CHECK_INT(same, ==, 1);
    }
}

TEST(std_decoder_padding)
{
    unsigned char dec[16];
    CHECK_INT(crumb_b64_decode("Zg=", 3, dec), ==, -1);
    CHECK_INT(crumb_b64_decode("Zg===", 5, dec), ==, -1);
    CHECK_INT(crumb_b64_decode("Zm8==", 5, dec), ==, -1);
    CHECK_INT(crumb_b64_decode("Zm9v====", 8, dec), ==, -1);
    CHECK_INT(crumb_b64_decode("Zm9=", 4, dec), ==, -1); /* stray bits */
    CHECK_INT(crumb_b64_decode("Zg=a", 4, dec), ==, -1);
    CHECK_INT(crumb_b64_decode("=", 1, dec), ==, -1);
    CHECK_INT(crumb_b64_decode("====", 4, dec), ==, -1);
    CHECK_INT(crumb_b64_decode("Zm 9v", 5, dec), ==, -1);
    CHECK_INT(crumb_b64_decode("Zm9v\n", 5, dec), ==, -1);
    CHECK_INT(crumb_b64_decode("Z", 1, dec), ==, -1);
    CHECK_MEM(dec, crumb_b64_decode("Zm8=", 4, dec), "fo", 2);
    CHECK_MEM(dec, crumb_b64_decode("Zg==", 4, dec), "f", 1);
}

int
main(void)
{
    TEST_BEGIN();
    RUN(rfc4648_section10);
    RUN(alphabets_differ);
    RUN(all_byte_values_round_trip);
    RUN(url_decoder_is_strict);
    RUN(url_one_encoding_per_value);
    RUN(std_decoder_padding);
    return TEST_END();
}
