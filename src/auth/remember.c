/* remember.c - remember-me tokens: selector:validator, hashed in a store. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <crumb/base64.h>
#include <crumb/error.h>
#include <crumb/random.h>
#include <crumb/remember.h>

#define SEL_LEN 16 /* base64url of 12 bytes */
#define VAL_LEN 43 /* base64url of 32 bytes */
#define HASH_LEN 32
#define USER_MAX CRUMB_STORE_USER_MAX
#define ENTRY_MAX (3 + 21 + 21 + 2 * HASH_LEN + USER_MAX + 8)

typedef struct entry {
    int used;        /* a "used" entry: the second number is used_at */
    int64_t gen;
    int64_t expires; /* live: when it expires; used: when it was used */
    unsigned char hash[HASH_LEN];
    char user[USER_MAX + 1];
} entry;

const char *
crumb_remember_outcome_str(crumb_remember_outcome o)
{
    switch (o) {
    case CRUMB_REMEMBER_OK:
        return "ok";
    case CRUMB_REMEMBER_MALFORMED:
        return "malformed";
    case CRUMB_REMEMBER_UNKNOWN:
        return "unknown or expired";
    case CRUMB_REMEMBER_REVOKED:
        return "revoked";
    case CRUMB_REMEMBER_RACED:
        return "used by a concurrent request";
    case CRUMB_REMEMBER_THEFT:
        return "reused or forged (theft signal)";
    }
    return "unknown outcome";
}

static int
user_ok(const char *user)
{
    if (!user || !*user || strnlen(user, USER_MAX + 1) > USER_MAX)
        return 0;
    for (const unsigned char *p = (const unsigned char *)user; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return 0;
    return 1;
}

static int
sha256(const void *data, size_t len, unsigned char out[HASH_LEN])
{
    unsigned int n = 0;
    return EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) == 1 &&
                   n == HASH_LEN
               ? CRUMB_OK
               : CRUMB_ECRYPTO;
}

static void
name_of(char *out, size_t size, const char *prefix, const char *sel)
{
    snprintf(out, size, "%s%.*s", prefix, SEL_LEN, sel);
}

/* The user's token generation; reading it is an increment by 0 of a
 * counter without a window (created at 0 on first use). */
static int
generation(crumb_store *st, const char *user, int64_t delta, int64_t now,
           int64_t *gen)
{
    char name[CRUMB_STORE_NAME_MAX + 1];
    snprintf(name, sizeof(name), "remember-gen:%s", user);
    return crumb_store_incr_counter(st, name, delta, 0, now, gen);
}

static size_t
entry_format(const entry *e, char *out, size_t size)
{
    int n = snprintf(out, size, "%s %" PRId64 " %" PRId64 " ",
                     e->used ? "u1" : "r1", e->gen, e->expires);
    if (n < 0 || (size_t)n + 2 * HASH_LEN + strlen(e->user) + 2 > size)
        return 0;
    for (size_t i = 0; i < HASH_LEN; i++)
        snprintf(out + n + 2 * i, 3, "%02x", e->hash[i]);
    n += 2 * HASH_LEN;
    n += snprintf(out + n, size - (size_t)n, " %s", e->user);
    return (size_t)n;
}

static int
hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* An entry read back from the store is checked field by field: what a
 * store returns is hostile input like any cookie. 0 when it does not
 * parse. */
static int
entry_parse(const unsigned char *data, size_t len, entry *e)
{
    char buf[ENTRY_MAX + 1];
    if (len < 3 || len > ENTRY_MAX || memchr(data, '\0', len))
        return 0;
    memcpy(buf, data, len);
    buf[len] = '\0';
    if (strncmp(buf, "r1 ", 3) != 0 && strncmp(buf, "u1 ", 3) != 0)
        return 0;
    e->used = buf[0] == 'u';
    char *p = buf + 3, *end;
    long long g = strtoll(p, &end, 10);
    if (end == p || *end != ' ' || g < 0)
        return 0;
    p = end + 1;
    long long x = strtoll(p, &end, 10);
    if (end == p || *end != ' ' || x <= 0)
        return 0;
    p = end + 1;
    for (size_t i = 0; i < HASH_LEN; i++) {
        int hi = hexval(p[2 * i]), lo = hi < 0 ? -1 : hexval(p[2 * i + 1]);
        if (lo < 0)
            return 0;
        e->hash[i] = (unsigned char)(hi << 4 | lo);
    }
    p += 2 * HASH_LEN;
    if (*p != ' ' || !user_ok(p + 1))
        return 0;
    e->gen = g;
    e->expires = x;
    strcpy(e->user, p + 1);
    return 1;
}

/* Split "selector:validator"; 0 unless both have the exact length and
 * decode (strictly) as URL-safe base64. */
static int
token_split(const char *token, const char **sel, unsigned char *val)
{
    if (!token || strlen(token) != SEL_LEN + 1 + VAL_LEN ||
        token[SEL_LEN] != ':')
        return 0;
    unsigned char tmp[CRUMB_B64_DECODED_MAX(SEL_LEN)];
    if (crumb_b64url_decode(token, SEL_LEN, tmp) !=
            CRUMB_REMEMBER_SELECTOR_BYTES ||
        crumb_b64url_decode(token + SEL_LEN + 1, VAL_LEN, val) !=
            CRUMB_REMEMBER_VALIDATOR_BYTES)
        return 0;
    *sel = token;
    return 1;
}

static int
load_entry(crumb_store *st, const char *name, int64_t now, entry *e,
           int *found)
{
    unsigned char *data = NULL;
    size_t len = 0;
    *found = 0;
    int rc = crumb_store_kv_get(st, name, now, &data, &len);
    if (rc == CRUMB_ENOTFOUND)
        return CRUMB_OK;
    if (rc != CRUMB_OK)
        return rc;
    *found = entry_parse(data, len, e);
    free(data);
    return CRUMB_OK;
}

int
crumb_remember_issue(crumb_store *st, const char *user, int64_t lifetime,
                     int64_t now, char *token, size_t size)
{
    if (token && size)
        token[0] = '\0';
    if (!st || !user_ok(user) || lifetime <= 0 || !token ||
        size < CRUMB_REMEMBER_TOKEN_SIZE)
        return CRUMB_EINVAL;
    unsigned char sel[CRUMB_REMEMBER_SELECTOR_BYTES];
    unsigned char val[CRUMB_REMEMBER_VALIDATOR_BYTES];
    entry e;
    memset(&e, 0, sizeof(e));
    int rc = crumb_random_bytes(sel, sizeof(sel));
    if (rc == CRUMB_OK)
        rc = crumb_random_bytes(val, sizeof(val));
    if (rc == CRUMB_OK)
        rc = sha256(val, sizeof(val), e.hash);
    if (rc == CRUMB_OK)
        rc = generation(st, user, 0, now, &e.gen);
    if (rc != CRUMB_OK)
        goto out;
    e.expires = now + lifetime;
    strcpy(e.user, user);
    char line[ENTRY_MAX + 1];
    size_t n = entry_format(&e, line, sizeof(line));
    char tok[CRUMB_REMEMBER_TOKEN_SIZE];
    size_t sl = crumb_b64url_encode(sel, sizeof(sel), tok);
    tok[sl] = ':';
    size_t vl = crumb_b64url_encode(val, sizeof(val), tok + sl + 1);
    tok[sl + 1 + vl] = '\0';
    char name[64];
    name_of(name, sizeof(name), "remember:", tok);
    rc = n ? crumb_store_kv_set(st, name, line, n, lifetime, now)
           : CRUMB_EINVAL;
    if (rc == CRUMB_OK)
        memcpy(token, tok, sl + vl + 2);
    OPENSSL_cleanse(tok, sizeof(tok));
out:
    OPENSSL_cleanse(val, sizeof(val));
    return rc;
}

/* The theft signal: every remember token of @user ends. */
static int
theft(crumb_store *st, const entry *e, int64_t now, char *user,
      size_t user_size, crumb_remember_outcome *outcome)
{
    *outcome = CRUMB_REMEMBER_THEFT;
    snprintf(user, user_size, "%s", e->user);
    return crumb_remember_revoke_user(st, e->user, now);
}

/*
 * The order matters. The live entry is read and its validator compared
 * (constant time) first; only then is it deleted, and only the request
 * whose deletion removed it goes on, so two concurrent requests with the
 * same token cannot both log in. The "used" entry written next is what
 * recognises a replay later. A validator that does not match a live
 * entry is not a race: someone holds the selector without the secret, or
 * an old validator of a rotated token, so the user's tokens all end.
 */
int
crumb_remember_consume(crumb_store *st, const char *token, int64_t lifetime,
                       int64_t now, char *user, size_t user_size,
                       char *new_token, size_t new_size,
                       crumb_remember_outcome *outcome)
{
    if (outcome)
        *outcome = CRUMB_REMEMBER_MALFORMED;
    if (user && user_size)
        user[0] = '\0';
    if (new_token && new_size)
        new_token[0] = '\0';
    if (!st || !outcome || !user || user_size < USER_MAX + 1 ||
        !new_token || new_size < CRUMB_REMEMBER_TOKEN_SIZE || lifetime <= 0)
        return CRUMB_EINVAL;
    const char *sel;
    unsigned char val[CRUMB_B64_DECODED_MAX(VAL_LEN)];
    unsigned char hash[HASH_LEN];
    if (!token_split(token, &sel, val))
        return CRUMB_OK;
    int rc = sha256(val, CRUMB_REMEMBER_VALIDATOR_BYTES, hash);
    OPENSSL_cleanse(val, sizeof(val));
    if (rc != CRUMB_OK)
        return rc;

    char live_name[64], used_name[64];
    name_of(live_name, sizeof(live_name), "remember:", sel);
    name_of(used_name, sizeof(used_name), "remember-used:", sel);
    entry e;
    int found;
    rc = load_entry(st, live_name, now, &e, &found);
    if (rc != CRUMB_OK)
        return rc;
    if (!found) {
        rc = load_entry(st, used_name, now, &e, &found);
        if (rc != CRUMB_OK)
            return rc;
        *outcome = CRUMB_REMEMBER_UNKNOWN;
        if (!found || !e.used)
            return CRUMB_OK;
        if (CRYPTO_memcmp(hash, e.hash, HASH_LEN) == 0 &&
            now - e.expires < CRUMB_REMEMBER_GRACE) {
            *outcome = CRUMB_REMEMBER_RACED;
            return CRUMB_OK;
        }
        return theft(st, &e, now, user, user_size, outcome);
    }
    if (e.used || CRYPTO_memcmp(hash, e.hash, HASH_LEN) != 0)
        return theft(st, &e, now, user, user_size, outcome);
    int64_t gen;
    rc = generation(st, e.user, 0, now, &gen);
    if (rc != CRUMB_OK)
        return rc;
    if (gen != e.gen) {
        crumb_store_kv_del(st, live_name);
        *outcome = CRUMB_REMEMBER_REVOKED;
        return CRUMB_OK;
    }
    /* The "used" marker goes in BEFORE the live entry is deleted: a
     * concurrent request that finds the live entry gone must find the
     * marker (a race, not an unknown token). Deleting decides the one
     * winner. */
    char line[ENTRY_MAX + 1];
    int64_t left = e.expires - now;
    entry used = e;
    used.used = 1;
    used.expires = now;
    size_t n = entry_format(&used, line, sizeof(line));
    if (n && left > 0) {
        rc = crumb_store_kv_set(st, used_name, line, n, left, now);
        if (rc != CRUMB_OK)
            return rc;
    }
    rc = crumb_store_kv_del(st, live_name);
    if (rc == CRUMB_ENOTFOUND) {
        *outcome = CRUMB_REMEMBER_RACED;
        return CRUMB_OK;
    }
    if (rc != CRUMB_OK)
        return rc;
    rc = crumb_remember_issue(st, e.user, lifetime, now, new_token,
                              new_size);
    if (rc != CRUMB_OK)
        return rc;
    snprintf(user, user_size, "%s", e.user);
    *outcome = CRUMB_REMEMBER_OK;
    return CRUMB_OK;
}

/* Only the holder of the whole token may end it: a selector alone (seen
 * in a log, say) is not enough. */
int
crumb_remember_forget(crumb_store *st, const char *token)
{
    const char *sel;
    unsigned char val[CRUMB_B64_DECODED_MAX(VAL_LEN)];
    unsigned char hash[HASH_LEN];
    if (!st)
        return CRUMB_EINVAL;
    if (!token_split(token, &sel, val))
        return CRUMB_ENOTFOUND;
    int rc = sha256(val, CRUMB_REMEMBER_VALIDATOR_BYTES, hash);
    OPENSSL_cleanse(val, sizeof(val));
    if (rc != CRUMB_OK)
        return rc;
    char name[64];
    name_of(name, sizeof(name), "remember:", sel);
    entry e;
    int found;
    rc = load_entry(st, name, 0, &e, &found);
    if (rc != CRUMB_OK)
        return rc;
    if (!found || CRYPTO_memcmp(hash, e.hash, HASH_LEN) != 0)
        return CRUMB_ENOTFOUND;
    return crumb_store_kv_del(st, name);
}

int
crumb_remember_revoke_user(crumb_store *st, const char *user, int64_t now)
{
    if (!st || !user_ok(user))
        return CRUMB_EINVAL;
    int64_t gen;
    return generation(st, user, 1, now, &gen);
}
