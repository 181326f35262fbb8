/* throttle.c - failed-login counters per username and address in a store. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include <crumb/error.h>
#include <crumb/remember.h>

#define NAME_SIZE (CRUMB_STORE_NAME_MAX + 1)

void
crumb_throttle_limits_init(crumb_throttle_limits *l)
{
    l->max_user = 5;
    l->max_addr = 100;
    l->window = 900;
}

static int
limits_ok(const crumb_throttle_limits *l)
{
    return l && l->max_user > 0 && l->max_addr > 0 && l->window > 0;
}

/* Usernames come from a form and may be anything (up to the body limit):
 * the counter is named by a hash, so its name is bounded and holds no
 * attacker-chosen bytes. */
static int
user_suffix(const char *user, char *out, size_t size)
{
    unsigned char d[32];
    unsigned int n = 0;
    if (EVP_Digest(user, strlen(user), d, &n, EVP_sha256(), NULL) != 1)
        return CRUMB_ECRYPTO;
    for (size_t i = 0; i < 16 && 2 * i + 2 < size; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
    return CRUMB_OK;
}

/* Addresses are normalised by parsing: an IPv6 client controls its whole
 * /64, so that is what counts; anything that does not parse is hashed. */
static int
addr_suffix(const char *addr, char *out, size_t size)
{
    unsigned char a6[16];
    struct in_addr a4;
    if (inet_pton(AF_INET, addr, &a4) == 1) {
        inet_ntop(AF_INET, &a4, out, (socklen_t)size);
        return CRUMB_OK;
    }
    if (inet_pton(AF_INET6, addr, a6) == 1) {
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0,
                                                 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(a6, mapped, 12) == 0) {
            inet_ntop(AF_INET, a6 + 12, out, (socklen_t)size);
            return CRUMB_OK;
        }
        memset(a6 + 8, 0, 8);
        inet_ntop(AF_INET6, a6, out, (socklen_t)size);
        strncat(out, "/64", size - strlen(out) - 1);
        return CRUMB_OK;
    }
    return user_suffix(addr, out, size);
}

typedef struct side {
    char fail[NAME_SIZE];
    char block[NAME_SIZE];
    int64_t max;
} side;

static int
side_init(side *s, char kind, const char *who, int64_t max)
{
    char suf[80];
    int rc = kind == 'u' ? user_suffix(who, suf, sizeof(suf))
                         : addr_suffix(who, suf, sizeof(suf));
    if (rc != CRUMB_OK)
        return rc;
    snprintf(s->fail, sizeof(s->fail), "login-fail:%c:%s", kind, suf);
    snprintf(s->block, sizeof(s->block), "login-block:%c:%s", kind, suf);
    s->max = max;
    return CRUMB_OK;
}

/* 2^(failures - limit + 1) seconds, capped at the window. */
static int64_t
delay_for(int64_t failures, int64_t max, int64_t window)
{
    if (failures < max)
        return 0;
    int64_t k = failures - max + 1;
    if (k >= 40)
        return window;
    int64_t d = (int64_t)1 << k;
    return d < window ? d : window;
}

static int
blocked(crumb_store *st, const side *s, int64_t now, int *yes)
{
    unsigned char *data = NULL;
    size_t len;
    int rc = crumb_store_kv_get(st, s->block, now, &data, &len);
    free(data);
    *yes = rc == CRUMB_OK;
    return rc == CRUMB_ENOTFOUND ? CRUMB_OK : rc;
}

/* Counts one failure on @s and, past the limit, shuts the door for the
 * delay; *delay receives it (0 below the limit). */
static int
count_failure(crumb_store *st, const side *s, int64_t window, int64_t now,
              int64_t *delay)
{
    int64_t n;
    *delay = 0;
    int rc = crumb_store_incr_counter(st, s->fail, 1, window, now, &n);
    if (rc != CRUMB_OK)
        return rc;
    *delay = delay_for(n, s->max, window);
    if (*delay == 0)
        return CRUMB_OK;
    char v[24];
    int len = snprintf(v, sizeof(v), "%" PRId64, now + *delay);
    return crumb_store_kv_set(st, s->block, v, (size_t)len, *delay, now);
}

static int
sides(const crumb_throttle_limits *l, const char *user, const char *addr,
      side s[2], int use[2])
{
    use[0] = user && *user;
    use[1] = addr && *addr;
    int rc = CRUMB_OK;
    if (use[0])
        rc = side_init(&s[0], 'u', user, l->max_user);
    if (rc == CRUMB_OK && use[1])
        rc = side_init(&s[1], 'a', addr, l->max_addr);
    return rc;
}

static int
fail_sides(crumb_store *st, const crumb_throttle_limits *l, side s[2],
           const int use[2], int64_t now, int64_t *retry_after)
{
    int64_t worst = 0;
    for (int i = 0; i < 2; i++) {
        if (!use[i])
            continue;
        int64_t d;
        int rc = count_failure(st, &s[i], l->window, now, &d);
        if (rc != CRUMB_OK)
            return rc;
        if (d > worst)
            worst = d;
    }
    if (retry_after)
        *retry_after = worst;
    return CRUMB_OK;
}

int
crumb_throttle_check(crumb_store *st, const crumb_throttle_limits *l,
                     const char *user, const char *addr, int64_t now,
                     int64_t *retry_after)
{
    if (retry_after)
        *retry_after = 0;
    if (!st || !limits_ok(l) || !retry_after)
        return CRUMB_EINVAL;
    side s[2];
    int use[2];
    int rc = sides(l, user, addr, s, use);
    if (rc != CRUMB_OK)
        return rc;
    int any = 0;
    for (int i = 0; i < 2 && !any; i++) {
        int yes = 0;
        if (use[i] && (rc = blocked(st, &s[i], now, &yes)) != CRUMB_OK)
            return rc;
        any = yes;
    }
    if (!any)
        return CRUMB_OK;
    rc = fail_sides(st, l, s, use, now, retry_after);
    if (rc == CRUMB_OK && *retry_after == 0)
        *retry_after = 1; /* blocked, though the counts say otherwise */
    return rc;
}

int
crumb_throttle_fail(crumb_store *st, const crumb_throttle_limits *l,
                    const char *user, const char *addr, int64_t now,
                    int64_t *retry_after)
{
    if (retry_after)
        *retry_after = 0;
    if (!st || !limits_ok(l))
        return CRUMB_EINVAL;
    side s[2];
    int use[2];
    int rc = sides(l, user, addr, s, use);
    if (rc != CRUMB_OK)
        return rc;
    return fail_sides(st, l, s, use, now, retry_after);
}

/* The count is brought back to 0 by subtracting what was read: a failure
 * counted between the read and the subtraction survives, which errs on
 * the side of caution. */
int
crumb_throttle_success(crumb_store *st, const crumb_throttle_limits *l,
                       const char *user, int64_t now)
{
    if (!st || !limits_ok(l) || !user || !*user)
        return CRUMB_EINVAL;
    side s;
    int rc = side_init(&s, 'u', user, l->max_user);
    int64_t n = 0;
    if (rc == CRUMB_OK)
        rc = crumb_store_incr_counter(st, s.fail, 0, l->window, now, &n);
    if (rc == CRUMB_OK && n > 0)
        rc = crumb_store_incr_counter(st, s.fail, -n, l->window, now, &n);
    if (rc == CRUMB_OK) {
        rc = crumb_store_kv_del(st, s.block);
        if (rc == CRUMB_ENOTFOUND)
            rc = CRUMB_OK;
    }
    return rc;
}

int
crumb_throttle_failures(crumb_store *st, const crumb_throttle_limits *l,
                        const char *user, const char *addr, int64_t now,
                        int64_t *count)
{
    if (count)
        *count = 0;
    if (!st || !limits_ok(l) || !count || (!user) == (!addr))
        return CRUMB_EINVAL;
    side s;
    int rc = user ? side_init(&s, 'u', user, l->max_user)
                  : side_init(&s, 'a', addr, l->max_addr);
    if (rc != CRUMB_OK)
        return rc;
    return crumb_store_incr_counter(st, s.fail, 0, l->window, now, count);
}
