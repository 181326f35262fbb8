/* expiry.c - pages that need a login, and saying why a session ended. */
#include <stdio.h>
#include <string.h>

#include <crumb/error.h>

#include "checkout.h"

/*
 * When the idle or absolute timeout (or the cookie's lifetime) ends a
 * session, the data is gone: a store has dropped the record and a cookie
 * that old is not read. Only the request that still presents the old
 * cookie knows why its session is new (crumb_http_session_reason()), so
 * a page that needs a login passes that reason on to /login as a word in
 * the query, and the login page turns the word into a fixed sentence.
 * Nothing the visitor sends is ever shown: an unknown word shows nothing.
 *
 * A store drops a record at the moment its timeout passes (its expires_at
 * is that moment), so in practice a timed-out server-side session comes
 * back as an unknown id, not as an idle or absolute timeout: "ended" then
 * states both rules, and revocation from elsewhere, rather than guess.
 */
static char idle_text[256];
static char absolute_text[256];
static char expired_text[256];
static char ended_text[400];

/* "30 minutes", "12 hours", "31 days", "1 hour", "90 seconds". */
static void
format_duration(int64_t secs, char *out, size_t size)
{
    static const struct {
        int64_t unit;
        const char *name;
    } units[] = {{86400, "day"}, {3600, "hour"}, {60, "minute"}, {1, "second"}};
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (secs >= units[i].unit && secs % units[i].unit == 0) {
            long long n = (long long)(secs / units[i].unit);
            snprintf(out, size, "%lld %s%s", n, units[i].name,
                     n == 1 ? "" : "s");
            return;
        }
    }
    snprintf(out, size, "%lld seconds", (long long)secs);
}

void
shop_expiry_init(const shop_config *c)
{
    char d[48];
    format_duration(c->idle_timeout, d, sizeof(d));
    snprintf(idle_text, sizeof(idle_text),
             "Your session expired: you were signed out after %s without "
             "activity. Please log in again to continue.", d);
    format_duration(c->absolute_timeout, d, sizeof(d));
    snprintf(absolute_text, sizeof(absolute_text),
             "Your session expired: you were signed out after %s, the "
             "longest a login lasts. Please log in again to continue.", d);
    char rules[200] = "";
    size_t n = 0;
    if (c->idle_timeout > 0) {
        format_duration(c->idle_timeout, d, sizeof(d));
        n += (size_t)snprintf(rules + n, sizeof(rules) - n,
                              "after %s without activity, ", d);
    }
    if (c->absolute_timeout > 0 && n < sizeof(rules)) {
        format_duration(c->absolute_timeout, d, sizeof(d));
        snprintf(rules + n, sizeof(rules) - n, "%s after logging in, ", d);
    }
    snprintf(ended_text, sizeof(ended_text),
             "Your session has ended: you are signed out %sor when the "
             "session is ended from another device. Please log in again to "
             "continue.", rules);
    format_duration(c->permanent_lifetime, d, sizeof(d));
    snprintf(expired_text, sizeof(expired_text),
             "Your session expired after %s. Please log in again to "
             "continue.", d);
}

/* The word for the login page's query, or NULL when the session was not
 * ended by time (no cookie, a forged one, a rotated key...). */
static const char *
reason_word(crumb_open_reason r)
{
    switch (r) {
    case CRUMB_OPEN_IDLE_TIMEOUT: return "idle";
    case CRUMB_OPEN_ABSOLUTE_TIMEOUT: return "absolute";
    case CRUMB_OPEN_EXPIRED: return "expired";
    case CRUMB_OPEN_UNKNOWN_ID: return "ended";
    default: return NULL;
    }
}

const char *
shop_expiry_notice(const char *word)
{
    if (!word)
        return NULL;
    if (strcmp(word, "idle") == 0)
        return idle_text;
    if (strcmp(word, "absolute") == 0)
        return absolute_text;
    if (strcmp(word, "expired") == 0)
        return expired_text;
    if (strcmp(word, "ended") == 0)
        return ended_text;
    return NULL;
}

/* Percent-encodes @s for a query value into @out; 0, or -1 when it does
 * not fit. Only unreserved characters (RFC 3986) stay as they are. */
static int
query_escape(const char *s, char *out, size_t size)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        int plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                    (*p >= '0' && *p <= '9') || strchr("-._~", *p);
        if (o + (plain ? 1 : 3) >= size)
            return -1;
        if (plain) {
            out[o++] = (char)*p;
        } else {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    out[o] = '\0';
    return 0;
}

/* To the login form with what brings the user back and why they left. */
static void
to_login(crumb_http_req *req, const char *why)
{
    char next[1024], loc[1200];
    if (query_escape(crumb_http_path(req), next, sizeof(next)) != 0)
        snprintf(next, sizeof(next), "%%2F");
    snprintf(loc, sizeof(loc), "/login?next=%s%s%s", next,
             why ? "&expired=" : "", why ? why : "");
    crumb_http_redirect(req, crumb_http_method(req)[0] == 'G' ? 302 : 303,
                        loc);
}

int
shop_require_login(crumb_http_req *req, crumb_user *u)
{
    if (shop_current_user(req, u))
        return 1;
    to_login(req, reason_word(crumb_http_session_reason(req)));
    return 0;
}

int
shop_expired_post(crumb_http_req *req)
{
    /* A form posted after its session timed out fails the CSRF check
     * (its token belonged to the session that ended) and nothing
     * changed; telling the user why, and taking them to log in and back,
     * beats a bare 403. */
    const char *why = reason_word(crumb_http_session_reason(req));
    if (!why || strcmp(crumb_http_method(req), "POST") != 0)
        return 0;
    to_login(req, why);
    return 1;
}
