/* test_sign.c - itsdangerous/Flask known answers, tampering, age, zlib. */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <zlib.h>

#include <crumb/base64.h>
#include <crumb/error.h>
#include <crumb/sign.h>
#include <crumb/tagjson.h>

#include "deflate_bound.h"
#include "sign_internal.h"
#include "test.h"

static FILE *
open_vector(const char *name)
{
    char path[512];
    const char *root = getenv("CRUMB_ROOT");
    snprintf(path, sizeof path, "%s%stests/vectors/%s", root ? root : "",
             root ? "/" : "", name);
    FILE *f = fopen(path, "r");
    if (!f)
        T_FAIL_("cannot open %s", path);
    return f;
}

/* Splits a tab-separated vector line in place; returns the field count. */
static int
split_tabs(char *line, char **fields, int max)
{
    int n = 0;
    char *p = line;
    while (n < max) {
        fields[n++] = p;
        p = strchr(p, '\t');
        if (!p)
            break;
        *p++ = '\0';
    }
    return n;
}

static size_t
unhex(const char *hex, unsigned char *out)
{
    size_t n = 0;
    for (; hex[0] && hex[1]; hex += 2) {
        unsigned v;
        sscanf(hex, "%2x", &v);
        out[n++] = (unsigned char)v;
    }
    return n;
}

static int
read_line(FILE *f, char **line, size_t *cap)
{
    ssize_t n;
    while ((n = getline(line, cap, f)) >= 0) {
        if (n > 0 && (*line)[n - 1] == '\n')
            (*line)[--n] = '\0';
        if (n > 0 && (*line)[0] != '#')
            return 1;
    }
    return 0;
}

static crumb_signer *
signer_with(const char *key, const crumb_signer_options *opts)
{
    crumb_signer *s = NULL;
    CHECK_RC(crumb_signer_new(&s, opts), CRUMB_OK);
    CHECK_RC(crumb_signer_add_key(s, key, strlen(key)), CRUMB_OK);
    return s;
}

static char *
sign_str(const crumb_signer *s, const char *payload, int64_t ts)
{
    char *out = NULL;
    size_t n = 0;
    CHECK_RC(crumb_signer_sign(s, payload, strlen(payload), ts, &out, &n),
             CRUMB_OK);
    CHECK_INT(strlen(out), ==, n);
    return out;
}

static int
unsign_rc(const crumb_signer *s, const char *v, size_t len, int64_t max_age,
          int64_t now)
{
    return crumb_signer_unsign(s, v, len, max_age, now, NULL, NULL, NULL);
}

TEST(itsdangerous_vectors)
{
    static const struct {
        const char *name;
        int v;
    } digests[] = {{"sha1", CRUMB_DIGEST_SHA1},
                   {"sha256", CRUMB_DIGEST_SHA256},
                   {"sha512", CRUMB_DIGEST_SHA512}},
      derivs[] = {{"hmac", CRUMB_KEYDERIV_HMAC},
                  {"concat", CRUMB_KEYDERIV_CONCAT},
                  {"django-concat", CRUMB_KEYDERIV_DJANGO_CONCAT},
                  {"none", CRUMB_KEYDERIV_NONE}};
    FILE *f = open_vector("itsdangerous.txt");
    char *line = NULL, *fl[8];
    size_t cap = 0;
    int count = 0;
    while (read_line(f, &line, &cap)) {
        CHECK_INT(split_tabs(line, fl, 8), ==, 7);
        crumb_signer_options o = {.salt = fl[1]};
        for (int i = 0; i < 3; i++)
            if (!strcmp(fl[2], digests[i].name))
                o.digest = (crumb_digest)digests[i].v;
        for (int i = 0; i < 4; i++)
            if (!strcmp(fl[3], derivs[i].name))
                o.key_derivation = (crumb_keyderiv)derivs[i].v;
        unsigned char key[256];
        size_t klen = unhex(fl[0], key);
        int64_t ts = strtoll(fl[4], NULL, 10);
        crumb_signer *s = NULL;
        CHECK_RC(crumb_signer_new(&s, &o), CRUMB_OK);
        CHECK_RC(crumb_signer_add_key(s, key, klen), CRUMB_OK);
        char *out = sign_str(s, fl[5], ts);
        CHECK_STR(out, fl[6]);
        const char *p = NULL;
        size_t plen = 0;
        int64_t got_ts = -1;
        CHECK_RC(crumb_signer_unsign(s, out, strlen(out), -1, 0, &p, &plen,
                                     &got_ts),
                 CRUMB_OK);
        CHECK_MEM(p, plen, fl[5], strlen(fl[5]));
        CHECK_INT(got_ts, ==, ts);
        free(out);
        crumb_signer_free(s);
        count++;
    }
    free(line);
    fclose(f);
    CHECK_INT(count, ==, 48);
}

/* Cookies Flask wrote: we read them, write their JSON back byte for byte,
 * and sign the same value at the same time into the same cookie. */
TEST(flask_session_vectors)
{
    FILE *f = open_vector("flask_sessions.txt");
    char *line = NULL, *fl[6];
    size_t cap = 0;
    int count = 0, compressed = 0;
    while (read_line(f, &line, &cap)) {
        CHECK_INT(split_tabs(line, fl, 6), ==, 4);
        unsigned char key[256];
        size_t klen = unhex(fl[0], key);
        int64_t ts = strtoll(fl[1], NULL, 10);
        crumb_signer_options flask = {.compression = CRUMB_COMPRESS_FLASK};
        crumb_signer *s = NULL, *fast = NULL;
        CHECK_RC(crumb_signer_new(&s, &flask), CRUMB_OK);
        CHECK_RC(crumb_signer_add_key(s, key, klen), CRUMB_OK);
        CHECK_RC(crumb_signer_new(&fast, NULL), CRUMB_OK);
        CHECK_RC(crumb_signer_add_key(fast, key, klen), CRUMB_OK);
        json_t *v = NULL;
        int64_t got_ts = 0;
        CHECK_RC(crumb_signer_loads(s, fl[3], strlen(fl[3]), 3600, ts + 10,
                                    &v, &got_ts),
                 CRUMB_OK);
        CHECK_INT(got_ts, ==, ts);
        char *json = NULL;
        CHECK_RC(crumb_tagjson_dumps(v, &json, NULL), CRUMB_OK);
        CHECK_STR(json, fl[2]);
        free(json);
        char *cookie = NULL;
        size_t clen = 0;
        CHECK_RC(crumb_signer_dumps(s, v, ts, &cookie, &clen), CRUMB_OK);
        CHECK_STR(cookie, fl[3]);
        CHECK_INT(clen, ==, strlen(fl[3]));
        compressed += cookie[0] == '.';
        free(cookie);
        /* The default policy may pick another zlib stream (or none), never
         * another session. */
        CHECK_RC(crumb_signer_dumps(fast, v, ts, &cookie, &clen), CRUMB_OK);
        json_t *again = NULL;
        CHECK_RC(crumb_signer_loads(s, cookie, clen, 3600, ts + 10, &again,
                                    NULL),
                 CRUMB_OK);
        CHECK(json_equal(again, v));
        json_decref(again);
        free(cookie);
        crumb_signer_free(fast);
        json_decref(v);
        CHECK_RC(crumb_payload_decode(fl[3], strlen(fl[3]), 0, &v),
                 CRUMB_OK);
        CHECK_RC(crumb_tagjson_dumps(v, &json, NULL), CRUMB_OK);
        CHECK_STR(json, fl[2]);
        free(json);
        json_decref(v);
        crumb_signer_free(s);
        count++;
    }
    free(line);
    fclose(f);
    CHECK_INT(count, >=, 10);
    CHECK_INT(compressed, >=, 3);
}

/* RFC 2202 HMAC-SHA1 cases through the OpenSSL call we build on, then the
 * signer with KEYDERIV_NONE gives HMAC(key, payload "." ts). */
TEST(rfc2202_hmac_sha1)
{
    static const struct {
        int keyrep, keybyte;
        const char *data;
        int datarep, databyte;
        const char *digest;
    } cases[] = {
        {20, 0x0b, "Hi There", 0, 0,
         "b617318655057264e28bc0b6fb378c8ef146be00"},
        {0, 0, "what do ya want for nothing?", 0, 0,
         "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"},
        {20, 0xaa, NULL, 50, 0xdd, "125d7342b9ac11cd91a39af48aa17b4f63f175d3"},
        {80, 0xaa, "Test Using Larger Than Block-Size Key - Hash Key First",
         0, 0, "aa4ae5e15272d00e95705637ce8a3b55ed402112"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unsigned char key[80], data[64], md[20], want[20];
        size_t klen = 4, dlen;
        if (cases[i].keyrep) {
            klen = (size_t)cases[i].keyrep;
            memset(key, cases[i].keybyte, klen);
        } else {
            memcpy(key, "Jefe", 4);
        }
        if (cases[i].data) {
            dlen = strlen(cases[i].data);
            memcpy(data, cases[i].data, dlen);
        } else {
            dlen = (size_t)cases[i].datarep;
            memset(data, cases[i].databyte, dlen);
        }
        unsigned int mdlen = 0;
        CHECK(HMAC(EVP_sha1(), key, (int)klen, data, dlen, md, &mdlen));
        unhex(cases[i].digest, want);
        CHECK_MEM(md, mdlen, want, 20);
    }
    crumb_signer_options o = {.key_derivation = CRUMB_KEYDERIV_NONE};
    crumb_signer *s = NULL;
    CHECK_RC(crumb_signer_new(&s, &o), CRUMB_OK);
    CHECK_RC(crumb_signer_add_key(s, "Jefe", 4), CRUMB_OK);
    char *out = sign_str(s, "what do ya want for nothing?", 0);
    unsigned char md[20], sig[20];
    unsigned int mdlen = 0;
    HMAC(EVP_sha1(), "Jefe", 4, (const unsigned char *)out, 29, md, &mdlen);
    const char *dot = strrchr(out, '.');
    CHECK_INT(crumb_b64url_decode(dot + 1, strlen(dot + 1), sig), ==, 20);
    CHECK_MEM(sig, 20, md, 20);
    free(out);
    crumb_signer_free(s);
}

TEST(keys_and_rotation)
{
    crumb_signer *s = NULL;
    CHECK_RC(crumb_signer_new(&s, NULL), CRUMB_OK);
    char *tmp = (char *)"x";
    size_t n;
    CHECK_RC(crumb_signer_sign(s, "e30", 3, 1, &tmp, &n), CRUMB_ENOKEY);
    CHECK(tmp == NULL);
    CHECK_RC(unsign_rc(s, "e30.AQ.x", 8, -1, 0), CRUMB_ENOKEY);
    CHECK_RC(crumb_signer_add_key(s, "", 0), CRUMB_EINVAL);
    CHECK_RC(crumb_signer_add_key(s, NULL, 3), CRUMB_EINVAL);
    CHECK_INT(crumb_signer_key_count(s), ==, 0);
    crumb_signer_free(s);

    crumb_signer *old = signer_with("old-key", NULL);
    crumb_signer *rot = signer_with("new-key", NULL);
    for (int i = 0; i < 5; i++) {
        char k[24];
        snprintf(k, sizeof k, "filler-%d", i);
        CHECK_RC(crumb_signer_add_key(rot, k, strlen(k)), CRUMB_OK);
    }
    CHECK_RC(crumb_signer_add_key(rot, "old-key", 7), CRUMB_OK);
    CHECK_INT(crumb_signer_key_count(rot), ==, 7);
    char *by_old = sign_str(old, "e30", 100);
    char *by_rot = sign_str(rot, "e30", 100);
    crumb_signer *fresh = signer_with("new-key", NULL);
    char *by_new = sign_str(fresh, "e30", 100);
    CHECK_STR(by_rot, by_new); /* the first key signs */
    CHECK_RC(unsign_rc(rot, by_old, strlen(by_old), -1, 0), CRUMB_OK);
    CHECK_RC(unsign_rc(rot, by_rot, strlen(by_rot), -1, 0), CRUMB_OK);
    CHECK_RC(unsign_rc(old, by_rot, strlen(by_rot), -1, 0), CRUMB_EBADSIG);
    /* Many calls reuse pooled contexts; results stay right. */
    for (int i = 0; i < 100; i++)
        CHECK_RC(unsign_rc(rot, by_old, strlen(by_old), -1, 0), CRUMB_OK);
    free(by_old);
    free(by_rot);
    free(by_new);
    crumb_signer_free(old);
    crumb_signer_free(rot);
    crumb_signer_free(fresh);
    crumb_signer_free(NULL);
}

TEST(max_age_and_negative_age)
{
    crumb_signer *s = signer_with("k", NULL);
    char *v = sign_str(s, "e30", 1000);
    size_t n = strlen(v);
    int64_t ts = 0;
    CHECK_RC(unsign_rc(s, v, n, 60, 1000), CRUMB_OK);
    CHECK_RC(unsign_rc(s, v, n, 60, 1060), CRUMB_OK);
    CHECK_RC(unsign_rc(s, v, n, 60, 1061), CRUMB_EEXPIRED);
    CHECK_RC(unsign_rc(s, v, n, 60, 999), CRUMB_EEXPIRED);
    CHECK_RC(unsign_rc(s, v, n, 0, 1000), CRUMB_OK);
    CHECK_RC(unsign_rc(s, v, n, -1, 0), CRUMB_OK);
    CHECK_RC(unsign_rc(s, v, n, -1, INT64_MAX), CRUMB_OK);
    CHECK_RC(unsign_rc(s, v, n, INT64_MAX, INT64_MIN), CRUMB_EEXPIRED);
    CHECK_RC(crumb_signer_unsign(s, v, n, 60, 1030, NULL, NULL, &ts),
             CRUMB_OK);
    CHECK_INT(ts, ==, 1000);
    /* A forged value that would also be expired reports the forgery. */
    v[0] = 'f';
    CHECK_RC(unsign_rc(s, v, n, 60, 5000), CRUMB_EBADSIG);
    free(v);
    char *out = NULL;
    CHECK_RC(crumb_signer_sign(s, "e30", 3, -1, &out, &n), CRUMB_EINVAL);
    v = sign_str(s, "e30", INT64_MAX);
    CHECK_RC(crumb_signer_unsign(s, v, strlen(v), -1, 0, NULL, NULL, &ts),
             CRUMB_OK);
    CHECK_INT(ts, ==, INT64_MAX);
    free(v);
    v = sign_str(s, "e30", 0);
    CHECK(strstr(v, "e30..") == v);
    CHECK_RC(crumb_signer_unsign(s, v, strlen(v), 10, 10, NULL, NULL, &ts),
             CRUMB_OK);
    CHECK_INT(ts, ==, 0);
    free(v);
    crumb_signer_free(s);
}

/* Changing any byte of a signed value, or cutting it short, never yields
 * a value that verifies. */
TEST(every_tamper_rejected)
{
    static const char repl[] = "AQgw_-.=Z9a \x80";
    crumb_signer *s = signer_with("tamper-key", NULL);
    json_t *obj = json_pack("{s:s,s:i}", "user_id", "42", "n", 7);
    char *v = NULL;
    size_t n = 0;
    CHECK_RC(crumb_signer_dumps(s, obj, 1700000000, &v, &n), CRUMB_OK);
    CHECK_RC(unsign_rc(s, v, n, -1, 0), CRUMB_OK);
    for (size_t i = 0; i < n; i++) {
        char orig = v[i];
        for (const char *r = repl; *r; r++) {
            if (*r == orig)
                continue;
            v[i] = *r;
            json_t *got = NULL;
            int rc = crumb_signer_loads(s, v, n, -1, 0, &got, NULL);
            if (rc == CRUMB_OK)
                T_FAIL_("tampered at %zu with '%c' accepted: %s", i, *r, v);
            CHECK(got == NULL);
        }
        v[i] = orig;
    }
    for (size_t len = 0; len < n; len++)
        if (unsign_rc(s, v, len, -1, 0) == CRUMB_OK)
            T_FAIL_("truncated to %zu accepted", len);
    /* Appending is caught as well. */
    char *longer = malloc(n + 2);
    memcpy(longer, v, n);
    longer[n] = 'A';
    CHECK_RC(unsign_rc(s, longer, n + 1, -1, 0), CRUMB_EBADSIG);
    free(longer);
    free(v);
    json_decref(obj);
    crumb_signer_free(s);
}

TEST(malformed_values)
{
    crumb_signer *s = signer_with("k", NULL);
    CHECK_RC(unsign_rc(s, "", 0, -1, 0), CRUMB_EMALFORMED);
    CHECK_RC(unsign_rc(s, "abc", 3, -1, 0), CRUMB_EMALFORMED);
    CHECK_RC(unsign_rc(s, "abc.def", 7, -1, 0), CRUMB_EMALFORMED);
    CHECK_RC(unsign_rc(s, "a.b.c", 5, -1, 0), CRUMB_EBADSIG);
    CHECK_RC(unsign_rc(s, "..", 2, -1, 0), CRUMB_EBADSIG);
    crumb_signer_free(s);

    /* A good signature over a timestamp longer than 8 bytes. */
    crumb_signer_options o = {.key_derivation = CRUMB_KEYDERIV_NONE};
    CHECK_RC(crumb_signer_new(&s, &o), CRUMB_OK);
    CHECK_RC(crumb_signer_add_key(s, "raw", 3), CRUMB_OK);
    const char *body = "e30.AAAAAAAAAAAA";
    unsigned char md[20];
    unsigned int mdlen;
    HMAC(EVP_sha1(), "raw", 3, (const unsigned char *)body, strlen(body), md,
         &mdlen);
    char v[128];
    size_t n = strlen(body);
    memcpy(v, body, n);
    v[n++] = '.';
    n += crumb_b64url_encode(md, 20, v + n);
    CHECK_RC(unsign_rc(s, v, n, -1, 0), CRUMB_EMALFORMED);

    /* Signed, but the payload is not base64 / JSON / an object. */
    static const char *const bad_payloads[] = {"!!", "e3", "WzFd", "bnVsbA",
                                               ".e30", ".", "eyJhIjp9"};
    for (size_t i = 0; i < sizeof bad_payloads / sizeof *bad_payloads; i++) {
        char *sv = sign_str(s, bad_payloads[i], 5);
        json_t *got = NULL;
        CHECK_RC(crumb_signer_loads(s, sv, strlen(sv), -1, 0, &got, NULL),
                 CRUMB_EMALFORMED);
        free(sv);
    }
    crumb_signer_free(s);
    CHECK_RC(crumb_signer_new(&s, &(crumb_signer_options){.digest = 7}),
             CRUMB_EINVAL);
    CHECK(s == NULL);
}

/* Compressed exactly when zlib saves at least 2 bytes, like itsdangerous. */
TEST(compression_threshold)
{
    crumb_signer_options flask = {.compression = CRUMB_COMPRESS_FLASK};
    crumb_signer *s = signer_with("k", &flask);
    char text[200];
    int both[2] = {0, 0};
    for (int len = 0; len < 120; len++) {
        for (int i = 0; i < len; i++)
            text[i] = "abcabcabdxyz0123"[(i * 7 + len) % (len % 16 + 1)];
        text[len] = '\0';
        json_t *obj = json_pack("{s:s}", "v", text);
        char *json = NULL;
        size_t jlen = 0;
        CHECK_RC(crumb_tagjson_dumps(obj, &json, &jlen), CRUMB_OK);
        unsigned char z[512];
        uLongf zlen = sizeof z;
        CHECK(compress2(z, &zlen, (const Bytef *)json, jlen,
                        Z_DEFAULT_COMPRESSION) == Z_OK);
        int want = zlen < jlen - 1;
        char *v = NULL;
        size_t n;
        CHECK_RC(crumb_signer_dumps(s, obj, 42, &v, &n), CRUMB_OK);
        CHECK_INT(v[0] == '.', ==, want);
        both[want]++;
        if (want) {
            char b64[1024];
            size_t bn = crumb_b64url_encode(z, zlen, b64);
            CHECK(strncmp(v + 1, b64, bn) == 0 && v[1 + bn] == '.');
        }
        json_t *back = NULL;
        CHECK_RC(crumb_signer_loads(s, v, n, -1, 0, &back, NULL), CRUMB_OK);
        CHECK(json_equal(back, obj));
        json_decref(back);
        free(v);
        free(json);
        json_decref(obj);
    }
    CHECK_INT(both[0], >, 5);
    CHECK_INT(both[1], >, 5);
    crumb_signer_free(s);
}

/* A deterministic generator (xorshift64*), so failures repeat. */
static uint64_t
rng_next(uint64_t *st)
{
    *st ^= *st >> 12;
    *st ^= *st << 25;
    *st ^= *st >> 27;
    return *st * 2685821657736338717ULL;
}

/* Fills @buf with one of several kinds of input: random bytes, a small
 * alphabet, JSON-like text built from repeated tokens, long runs. */
static void
fill_input(uint64_t *st, int kind, unsigned char *buf, size_t len)
{
    static const char *const tok[] = {
        "{\"", "\":\"", "\",\"", "\"}", "user_id", "_csrf", "cart",
        "42", "1", "true", "_permanent", "_fresh", ":", ",", "[", "]",
        " t", " b", "q2mN8x1vR0aLk3JtYp7WcZ", "a", "0",
    };
    size_t i = 0;
    while (i < len) {
        uint64_t r = rng_next(st);
        switch (kind) {
        case 0:
            buf[i++] = (unsigned char)r;
            break;
        case 1:
            buf[i++] = "ab\"{:,"[r % 6];
            break;
        case 2: {
            const char *t = tok[r % (sizeof tok / sizeof *tok)];
            for (size_t k = 0; t[k] && i < len; k++)
                buf[i++] = (unsigned char)t[k];
            break;
        }
        case 3:
            buf[i++] = (r % 8) ? 'a' : (unsigned char)(r >> 8);
            break;
        default:
            buf[i++] = (unsigned char)(32 + r % 95);
            break;
        }
    }
}

/*
 * The compression decision and bytes equal compress2(level -1), which is
 * what Python's zlib.compress gives, for every size 1..400 and every kind
 * of input, plus larger sizes around SMALL_MAX_LEN and inputs whose hash
 * buckets overflow (those take the memory level 8 stream).
 */
TEST(compress_matches_zlib)
{
    crumb_signer_options flask = {.compression = CRUMB_COMPRESS_FLASK};
    crumb_signer *s = signer_with("k", &flask);
    static const size_t big[] = {1000, 2048, 3999, 4000, 4001, 6000};
    unsigned char in[8192], got[8192], want[8192 + 64];
    uint64_t st = 0x9e3779b97f4a7c15ULL;
    int wins = 0, losses = 0;
    for (int round = 0; round < 3; round++)
        for (int kind = 0; kind < 5; kind++)
            for (size_t n = 1; n <= 400 + sizeof big / sizeof *big; n++) {
                size_t len = n <= 400 ? n : big[n - 401];
                fill_input(&st, kind, in, len);
                uLongf wl = sizeof want;
                CHECK(compress2(want, &wl, in, len, Z_DEFAULT_COMPRESSION) ==
                      Z_OK);
                long expect = len >= 2 && wl <= len - 2 ? (long)wl : 0;
                long gotn = crumb__signer_try_compress(s, (const char *)in,
                                                       len, got);
                if (len < 8 && expect == 0)
                    expect = gotn; /* too short to ever win */
                CHECK_INT(gotn, ==, expect);
                if (gotn > 0) {
                    CHECK_MEM(got, gotn, want, wl);
                    wins++;
                } else {
                    losses++;
                }
            }
    CHECK_INT(wins, >, 1000);
    CHECK_INT(losses, >, 1000);
    crumb_signer_free(s);
}

/*
 * The default (FAST) policy: up to 1 KiB crumb's own fixed-Huffman
 * stream, kept exactly when it is at least 2 bytes shorter, always a
 * valid zlib stream of the same bytes; longer inputs as FLASK.
 */
TEST(compress_fast_round_trips)
{
    crumb_signer *s = signer_with("k", NULL);
    unsigned char in[2048], got[2048], back[2048];
    uint64_t st = 0x2545F4914F6CDD1DULL;
    int wins = 0, losses = 0;
    for (int round = 0; round < 4; round++)
        for (int kind = 0; kind < 5; kind++)
            for (size_t len = 1; len <= 1100; len += 1 + len / 64) {
                fill_input(&st, kind, in, len);
                long n = crumb__signer_try_compress(s, (const char *)in, len,
                                                    got);
                CHECK_INT(n, >=, 0);
                if (n == 0) {
                    losses++;
                    continue;
                }
                wins++;
                CHECK_INT(n, <=, (long)len - 2);
                uLongf bl = sizeof back;
                CHECK(uncompress(back, &bl, got, (uLong)n) == Z_OK);
                CHECK_MEM(back, bl, in, len);
            }
    CHECK_INT(wins, >, 500);
    CHECK_INT(losses, >, 200);
    /* The benchmark's session, and a tiny one: no compression pays. */
    static const char *const small[] = {
        "{\"_csrf\":\"q2mN8x1vR0aLk3JtYp7WcZ\",\"cart\":{\"1\":2},"
        "\"user_id\":\"42\",\"visits\":1}",
        "{\"visits\":12}",
    };
    for (size_t i = 0; i < sizeof small / sizeof *small; i++)
        CHECK_INT(crumb__signer_try_compress(s, small[i], strlen(small[i]),
                                             got), ==, 0);
    /* A repetitive one does get compressed, and Flask's zlib reads it. */
    const char *rep = "{\"a\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}";
    long n = crumb__signer_try_compress(s, rep, strlen(rep), got);
    CHECK_INT(n, >, 0);
    crumb_signer_free(s);
}

/*
 * crumb__deflate_cannot_win() never says "cannot" when zlib does win
 * (compress_matches_zlib checks that through the FLASK path too), and it
 * does decide the small sessions a shop writes.
 */
TEST(deflate_bound_sound)
{
    unsigned char in[4200], want[4200 + 64];
    uint64_t st = 0xD1B54A32D192ED03ULL;
    int decided = 0, total = 0;
    for (int round = 0; round < 6; round++)
        for (int kind = 0; kind < 5; kind++)
            for (size_t len = 1; len <= 4100; len += 1 + len / 16) {
                fill_input(&st, kind, in, len);
                uLongf wl = sizeof want;
                CHECK(compress2(want, &wl, in, len, Z_DEFAULT_COMPRESSION) ==
                      Z_OK);
                int wins = len >= 2 && wl <= len - 2;
                int cannot = crumb__deflate_cannot_win(in, len);
                if (cannot)
                    CHECK(!wins);
                decided += cannot;
                total++;
            }
    CHECK_INT(decided, >, total / 10);
    static const char *const small[] = {
        "{\"visits\":12}",
        "{\"_csrf\":\"q2mN8x1vR0aLk3JtYp7WcZ\",\"cart\":{\"1\":2},"
        "\"user_id\":\"42\"}",
        "{\"_fresh\":true,\"_user_id\":\"1234\"}",
    };
    for (size_t i = 0; i < sizeof small / sizeof *small; i++)
        CHECK_INT(crumb__deflate_cannot_win((const unsigned char *)small[i],
                                            strlen(small[i])), ==, 1);
}

static char *
sign_compressed(const crumb_signer *s, const void *raw, size_t len)
{
    uLongf zlen = compressBound(len);
    unsigned char *z = malloc(zlen);
    CHECK(compress2(z, &zlen, raw, len, 9) == Z_OK);
    char *p = malloc(CRUMB_B64_ENCODED_LEN(zlen) + 2);
    p[0] = '.';
    p[1 + crumb_b64url_encode(z, zlen, p + 1)] = '\0';
    char *v = sign_str(s, p, 7);
    free(p);
    free(z);
    return v;
}

TEST(zip_bomb_bounded)
{
    crumb_signer *s = signer_with("k", NULL);
    /* 8 MiB of spaces inside a JSON object, a few KiB compressed. */
    size_t big = (size_t)8 << 20;
    char *raw = malloc(big);
    memset(raw, ' ', big);
    raw[0] = '{';
    raw[big - 1] = '}';
    char *v = sign_compressed(s, raw, big);
    CHECK_INT(strlen(v), <, 20000);
    json_t *got = NULL;
    CHECK_RC(crumb_signer_loads(s, v, strlen(v), -1, 0, &got, NULL),
             CRUMB_ETOOBIG);
    CHECK_RC(crumb_payload_decode(v, strlen(v), 0, &got), CRUMB_ETOOBIG);
    CHECK_RC(crumb_payload_decode(v, strlen(v), big, &got), CRUMB_OK);
    json_decref(got);
    free(v);
    crumb_signer_free(s);

    /* The bound is exact: max_decompressed bytes pass, one more fails. */
    crumb_signer_options o = {.max_decompressed = 1000};
    s = signer_with("k", &o);
    memset(raw, ' ', 1001);
    raw[0] = '{';
    raw[999] = '}';
    v = sign_compressed(s, raw, 1000);
    CHECK_RC(crumb_signer_loads(s, v, strlen(v), -1, 0, &got, NULL),
             CRUMB_OK);
    json_decref(got);
    free(v);
    raw[999] = ' ';
    raw[1000] = '}';
    v = sign_compressed(s, raw, 1001);
    CHECK_RC(crumb_signer_loads(s, v, strlen(v), -1, 0, &got, NULL),
             CRUMB_ETOOBIG);
    free(v);
    /* Truncated and trailing-garbage zlib streams. */
    uLongf zlen = 64;
    unsigned char z[80];
    compress2(z, &zlen, (const Bytef *)"{\"a\":1}", 7, 6);
    char p[200];
    p[0] = '.';
    p[1 + crumb_b64url_encode(z, zlen - 1, p + 1)] = '\0';
    CHECK_RC(crumb_payload_decode(p, strlen(p), 0, &got), CRUMB_EMALFORMED);
    z[zlen] = 0;
    p[1 + crumb_b64url_encode(z, zlen + 1, p + 1)] = '\0';
    CHECK_RC(crumb_payload_decode(p, strlen(p), 0, &got), CRUMB_EMALFORMED);
    p[1 + crumb_b64url_encode(z, zlen, p + 1)] = '\0';
    CHECK_RC(crumb_payload_decode(p, strlen(p), 0, &got), CRUMB_OK);
    json_decref(got);
    free(raw);
    crumb_signer_free(s);
}

TEST(payload_decode_forms)
{
    json_t *got = NULL;
    CHECK_RC(crumb_payload_decode("eyJhIjoxfQ", 10, 0, &got), CRUMB_OK);
    CHECK_INT(json_integer_value(json_object_get(got, "a")), ==, 1);
    json_decref(got);
    const char *whole = "eyJhIjoxfQ.ZVPxAA.whatever-signature";
    CHECK_RC(crumb_payload_decode(whole, strlen(whole), 0, &got), CRUMB_OK);
    json_decref(got);
    CHECK_RC(crumb_payload_decode("", 0, 0, &got), CRUMB_EMALFORMED);
    CHECK(got == NULL);
    CHECK_RC(crumb_payload_decode(".", 1, 0, &got), CRUMB_EMALFORMED);
    CHECK_RC(crumb_payload_decode("e30=", 4, 0, &got), CRUMB_EMALFORMED);
}

TEST(dumps_errors)
{
    crumb_signer *s = NULL;
    CHECK_RC(crumb_signer_new(&s, NULL), CRUMB_OK);
    json_t *obj = json_object();
    char *out = NULL;
    size_t n;
    CHECK_RC(crumb_signer_dumps(s, obj, 1, &out, &n), CRUMB_ENOKEY);
    CHECK_RC(crumb_signer_add_key(s, "k", 1), CRUMB_OK);
    CHECK_RC(crumb_signer_dumps(s, NULL, 1, &out, &n), CRUMB_EINVAL);
    CHECK_RC(crumb_signer_dumps(s, obj, -5, &out, &n), CRUMB_EINVAL);
    json_object_set_new(obj, "bad", json_stringn_nocheck("\xff", 1));
    CHECK_RC(crumb_signer_dumps(s, obj, 1, &out, &n), CRUMB_EINVAL);
    CHECK(out == NULL);
    json_decref(obj);
    crumb_signer_free(s);
}

int
main(void)
{
    TEST_BEGIN();
    RUN(itsdangerous_vectors);
    RUN(flask_session_vectors);
    RUN(rfc2202_hmac_sha1);
    RUN(keys_and_rotation);
    RUN(max_age_and_negative_age);
    RUN(every_tamper_rejected);
    RUN(malformed_values);
    RUN(compression_threshold);
    RUN(compress_matches_zlib);
    RUN(compress_fast_round_trips);
    RUN(deflate_bound_sound);
    RUN(zip_bomb_bounded);
    RUN(payload_decode_forms);
    RUN(dumps_errors);
    return TEST_END();
}
