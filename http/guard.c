/* guard.c - logins in the session, role and fresh-login guards, proxies. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <crumb/error.h>

#include "http_int.h"

#define K_USER "_user_id"
#define K_ROLES "_roles"
#define K_LOGIN_AT "_login_at"
#define K_AUTH_AT "_auth_at"
#define K_FRESH "_fresh"
#define K_GEN "_gen"

#define PROXIES_MAX 32

typedef struct proxy_net {
    int family; /* AF_INET or AF_INET6 */
    unsigned char addr[16];
    unsigned bits;
} proxy_net;

struct crumb__auth {
    crumb_http_auth a;
    char *login_path;
    char *confirm_path;
    proxy_net proxies[PROXIES_MAX];
    size_t nproxies;
};

void
crumb__auth_free(struct crumb__auth *a)
{
    if (!a)
        return;
    free(a->login_path);
    free(a->confirm_path);
    free(a);
}

static struct crumb__auth *
auth_of(crumb_http *h)
{
    if (!h->auth)
        h->auth = calloc(1, sizeof(*h->auth));
    return h->auth;
}

int
crumb_http_set_auth(crumb_http *h, const crumb_http_auth *auth)
{
    if (!h || !auth)
        return CRUMB_EINVAL;
    struct crumb__auth *a = auth_of(h);
    if (!a)
        return CRUMB_ENOMEM;
    char *lp = strdup(auth->login_path ? auth->login_path : "/login");
    char *cp = strdup(auth->confirm_path ? auth->confirm_path
                                         : "/login/confirm");
    if (!lp || !cp) {
        free(lp);
        free(cp);
        return CRUMB_ENOMEM;
    }
    free(a->login_path);
    free(a->confirm_path);
    a->a = *auth;
    a->login_path = lp;
    a->confirm_path = cp;
    a->a.login_path = lp;
    a->a.confirm_path = cp;
    return CRUMB_OK;
}

/* ---- the client address behind trusted proxies ---- */

/* "10.0.0.0/8", "::1", "[::1]": 1 and *n filled, or 0. */
static int
net_parse(const char *s, size_t len, proxy_net *n)
{
    char buf[64];
    while (len && (*s == ' ' || *s == '\t'))
        s++, len--;
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    if (len >= 2 && s[0] == '[' && s[len - 1] == ']')
        s++, len -= 2;
    if (len == 0 || len >= sizeof(buf))
        return 0;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *slash = strchr(buf, '/');
    long bits = -1;
    if (slash) {
        char *end;
        *slash = '\0';
        bits = strtol(slash + 1, &end, 10);
        if (end == slash + 1 || *end || bits < 0)
            return 0;
    }
    memset(n, 0, sizeof(*n));
    if (inet_pton(AF_INET, buf, n->addr) == 1) {
        n->family = AF_INET;
        n->bits = bits < 0 ? 32 : (unsigned)bits;
        return n->bits <= 32;
    }
    if (inet_pton(AF_INET6, buf, n->addr) == 1) {
        n->family = AF_INET6;
        n->bits = bits < 0 ? 128 : (unsigned)bits;
        return n->bits <= 128;
    }
    return 0;
}

static int
net_contains(const proxy_net *net, const proxy_net *ip)
{
    if (net->family != ip->family)
        return 0;
    unsigned full = net->bits / 8, rest = net->bits % 8;
    if (memcmp(net->addr, ip->addr, full) != 0)
        return 0;
    if (!rest)
        return 1;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (net->addr[full] & mask) == (ip->addr[full] & mask);
}

int
crumb_http_set_trusted_proxies(crumb_http *h, const char *list)
{
    if (!h)
        return CRUMB_EINVAL;
    proxy_net nets[PROXIES_MAX];
    size_t n = 0;
    for (const char *p = list; p && *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        int blank = 1;
        for (size_t i = 0; i < len; i++)
            blank &= p[i] == ' ' || p[i] == '\t';
        if (!blank) {
            if (n == PROXIES_MAX || !net_parse(p, len, &nets[n]))
                return CRUMB_EINVAL;
            n++;
        }
        p = comma ? comma + 1 : p + len;
    }
    struct crumb__auth *a = auth_of(h);
    if (!a)
        return CRUMB_ENOMEM;
    memcpy(a->proxies, nets, n * sizeof(nets[0]));
    a->nproxies = n;
    return CRUMB_OK;
}

static int
trusted(const struct crumb__auth *a, const proxy_net *ip)
{
    for (size_t i = 0; i < a->nproxies; i++)
        if (net_contains(&a->proxies[i], ip))
            return 1;
    return 0;
}

/*
 * X-Forwarded-For is "client, proxy1, proxy2": each proxy appends the
 * address it received the request from. Only the entries our own trusted
 * proxies appended can be believed, so the walk goes from the right and
 * stops at the first address that is not a trusted proxy; anything left
 * of it may be the client's own invention. An entry that does not parse
 * ends the walk at the last good address.
 */
void
crumb__proxy_resolve(crumb_http_req *req)
{
    struct crumb__auth *a = req->h->auth;
    proxy_net ip;
    if (!a || !a->nproxies || !req->addr[0] ||
        !net_parse(req->addr, strlen(req->addr), &ip) || !trusted(a, &ip))
        return;
    const char *xff = crumb_http_header(req, "X-Forwarded-For");
    if (!xff)
        return;
    size_t end = strlen(xff);
    while (end > 0) {
        size_t start = end;
        while (start > 0 && xff[start - 1] != ',')
            start--;
        proxy_net hop;
        if (!net_parse(xff + start, end - start, &hop))
            return;
        char text[48];
        if (!inet_ntop(hop.family, hop.addr, text, sizeof(text)))
            return;
        snprintf(req->addr, sizeof(req->addr), "%s", text);
        if (!trusted(a, &hop))
            return;
        end = start ? start - 1 : 0;
    }
}

/* ---- logging ---- */

void
crumb_http_log_note(crumb_http_req *req, const char *note)
{
    if (req)
        req->log_note = note;
}

void
crumb_http_logf(crumb_http *h, const char *fmt, ...)
{
    if (!h || !h->opt.log || !h->log)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n > sizeof(line) - 2)
        n = (int)sizeof(line) - 2;
    for (int i = 0; i < n; i++)
        if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
            line[i] = '?';
    line[n++] = '\n';
    crumb__log_write(h->log, line, (size_t)n);
}

/* ---- the store, the clock ---- */

int64_t
crumb_http_now(crumb_http_req *req)
{
    crumb_iface *iface = req ? req->h->opt.iface : NULL;
    return iface ? crumb_iface_now(iface) : crumb_clock_real(NULL);
}

crumb_store *
crumb_http_store_acquire(crumb_http *h)
{
    if (!h)
        return NULL;
    if (h->auth && h->auth->a.store)
        return h->auth->a.store;
    if (!h->opt.iface || !crumb_iface_server_side(h->opt.iface))
        return NULL;
    return crumb_iface_store_acquire(h->opt.iface);
}

void
crumb_http_store_release(crumb_http *h, crumb_store *st)
{
    if (!h || !st || (h->auth && st == h->auth->a.store))
        return;
    crumb_iface_store_release(h->opt.iface, st);
}

/* A user's generation (crumb_store_user_generation()), 0 until bumped.
 * CRUMB_EUNSUPPORTED when there is no store to keep it. */
static int
generation(crumb_http *h, const char *user, int64_t delta, int64_t now,
           int64_t *gen)
{
    *gen = 0;
    crumb_store *st = crumb_http_store_acquire(h);
    if (!st)
        return h->opt.iface && crumb_iface_server_side(h->opt.iface)
                   ? CRUMB_EUNAVAIL
                   : CRUMB_EUNSUPPORTED;
    int rc = crumb_store_user_generation(st, user, delta, now, gen);
    crumb_http_store_release(h, st);
    return rc;
}

int
crumb_http_user_changed(crumb_http *h, int64_t now, const char *user_id)
{
    if (!h || !user_id || !*user_id ||
        strlen(user_id) > CRUMB_STORE_USER_MAX)
        return CRUMB_EINVAL;
    int64_t gen;
    return generation(h, user_id, 1, now, &gen);
}

/* ---- logging in and out ---- */

int
crumb_http_login(crumb_http_req *req, const char *user_id,
                 const char *roles, int fresh)
{
    crumb_session *s = req ? crumb_http_session(req) : NULL;
    if (!s || !user_id || !*user_id ||
        strlen(user_id) > CRUMB_STORE_USER_MAX)
        return CRUMB_EINVAL;
    int64_t now = crumb_http_now(req), gen = 0;
    int rc = generation(req->h, user_id, 0, now, &gen);
    if (rc != CRUMB_OK && rc != CRUMB_EUNSUPPORTED)
        return rc;
    crumb_session_clear(s);
    crumb_session_regenerate(s);
    rc = crumb_session_set_user(s, user_id);
    if (rc == CRUMB_OK)
        rc = crumb_session_set_string(s, K_USER, user_id);
    if (rc == CRUMB_OK)
        rc = crumb_session_set_string(s, K_ROLES, roles ? roles : "user");
    if (rc == CRUMB_OK)
        rc = crumb_session_set_int(s, K_LOGIN_AT, now);
    if (rc == CRUMB_OK)
        rc = crumb_session_set_int(s, K_AUTH_AT, fresh ? now : 0);
    if (rc == CRUMB_OK)
        rc = crumb_session_set_bool(s, K_FRESH, fresh);
    if (rc == CRUMB_OK)
        rc = crumb_session_set_int(s, K_GEN, gen);
    return rc;
}

void
crumb_http_logout(crumb_http_req *req)
{
    crumb_session *s = req ? crumb_http_session(req) : NULL;
    if (!s)
        return;
    crumb_session_clear(s);
    crumb_session_destroy(s);
}

int
crumb_http_confirm_login(crumb_http_req *req)
{
    crumb_session *s = req ? crumb_http_session(req) : NULL;
    if (!s || !crumb_session_contains(s, K_USER))
        return CRUMB_EINVAL;
    crumb_session_regenerate(s);
    int rc = crumb_session_set_int(s, K_AUTH_AT, crumb_http_now(req));
    if (rc == CRUMB_OK)
        rc = crumb_session_set_bool(s, K_FRESH, 1);
    return rc;
}

/*
 * The generation check: a session made before the user's roles changed
 * reloads them and gets a new id, or ends. 1 logged in, 0 anonymous, -1
 * the store or the loader failed (a 503 response is set).
 */
static int
check_user(crumb_http_req *req, const char **id_out)
{
    crumb_session *s = crumb_http_session(req);
    const char *id = s ? crumb_session_get_string(s, K_USER, NULL) : NULL;
    *id_out = NULL;
    if (!id || !*id)
        return 0;
    int64_t now = crumb_http_now(req), gen;
    int rc = generation(req->h, id, 0, now, &gen);
    if (rc == CRUMB_EUNSUPPORTED ||
        (rc == CRUMB_OK && gen == crumb_session_get_int(s, K_GEN, 0))) {
        *id_out = id;
        return 1;
    }
    if (rc != CRUMB_OK)
        goto unavailable;
    struct crumb__auth *a = req->h->auth;
    char roles[256] = "";
    rc = a && a->a.load_user
             ? a->a.load_user(req, id, roles, sizeof(roles), a->a.ctx)
             : CRUMB_ENOTFOUND;
    if (rc == CRUMB_ENOTFOUND) {
        crumb_http_logout(req);
        crumb_http_log_note(req, "user changed: logged out");
        return 0;
    }
    if (rc != CRUMB_OK)
        goto unavailable;
    crumb_session_regenerate(s);
    if (crumb_session_set_string(s, K_ROLES, roles) != CRUMB_OK ||
        crumb_session_set_int(s, K_GEN, gen) != CRUMB_OK)
        goto unavailable;
    crumb_http_log_note(req, "user changed: session regenerated");
    *id_out = crumb_session_get_string(s, K_USER, NULL);
    return 1;
unavailable:
    crumb_http_header_add(req, "Retry-After", "5");
    crumb_http_error(req, 503, "The session store is unreachable; try "
                               "again shortly.");
    return -1;
}

const char *
crumb_http_current_user(crumb_http_req *req)
{
    const char *id;
    return req && check_user(req, &id) == 1 ? id : NULL;
}

int
crumb_http_has_role(crumb_http_req *req, const char *role)
{
    crumb_session *s = req ? crumb_http_session(req) : NULL;
    if (!s || !role || !*role || !crumb_session_contains(s, K_USER))
        return 0;
    const char *roles = crumb_session_get_string(s, K_ROLES, "");
    size_t rl = strlen(role);
    for (const char *p = roles; *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == rl && strncmp(p, role, rl) == 0)
            return 1;
        p = comma ? comma + 1 : p + len;
    }
    return 0;
}

int
crumb_http_local_path(const char *next)
{
    if (!next || next[0] != '/' || next[1] == '/' || next[1] == '\\')
        return 0;
    for (const unsigned char *p = (const unsigned char *)next; *p; p++)
        if (*p < 0x21 || *p == 0x7f || *p == '\\')
            return 0;
    return strlen(next) < 512;
}

/* ---- the guards ---- */

/* Appends @s percent-encoded (everything but unreserved and, with
 * @keep_slash, '/') to @out at *o; 0 when it does not fit. */
static int
enc(char *out, size_t size, size_t *o, const char *s, int keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        int plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                    (*p >= '0' && *p <= '9') || strchr("-._~", *p) ||
                    (keep_slash && *p == '/');
        if (*o + (plain ? 1 : 3) >= size)
            return 0;
        if (plain) {
            out[(*o)++] = (char)*p;
        } else {
            out[(*o)++] = '%';
            out[(*o)++] = hex[*p >> 4];
            out[(*o)++] = hex[*p & 15];
        }
    }
    out[*o] = '\0';
    return 1;
}

/* Where to come back to: this page (path and query, re-encoded) for GET
 * and HEAD; for a form post, the page the form was on when the Referer
 * names this host, else "/". */
static void
come_back_to(crumb_http_req *req, char *out, size_t size)
{
    size_t o = 0;
    out[0] = '\0';
    const char *m = crumb_http_method(req);
    if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0) {
        int ok = enc(out, size, &o, crumb_http_path(req), 1);
        for (size_t i = 0; ok && i < req->query.n; i++) {
            ok = o + 1 < size;
            if (ok)
                out[o++] = i ? '&' : '?';
            ok = ok && enc(out, size, &o, req->query.items[i].name, 0);
            ok = ok && o + 1 < size;
            if (ok)
                out[o++] = '=';
            ok = ok && enc(out, size, &o, req->query.items[i].value, 0);
        }
        if (!ok)
            snprintf(out, size, "/");
        return;
    }
    const char *ref = crumb_http_header(req, "Referer");
    const char *host = crumb_http_header(req, "Host");
    const char *p = ref ? strstr(ref, "://") : NULL;
    size_t hl = host ? strlen(host) : 0;
    if (p && hl && strncasecmp(p + 3, host, hl) == 0 && p[3 + hl] == '/' &&
        crumb_http_local_path(p + 3 + hl) && strlen(p + 3 + hl) < size)
        snprintf(out, size, "%s", p + 3 + hl);
    else
        snprintf(out, size, "/");
}

static void
redirect_with_next(crumb_http_req *req, const char *to)
{
    char back[1024], loc[3200];
    come_back_to(req, back, sizeof(back));
    size_t o = (size_t)snprintf(loc, sizeof(loc), "%s?next=", to);
    if (o >= sizeof(loc) || !enc(loc, sizeof(loc), &o, back, 0))
        snprintf(loc, sizeof(loc), "%s", to);
    crumb_http_redirect(req, 303, loc);
}

static const char *
path_or(crumb_http_req *req, int confirm)
{
    struct crumb__auth *a = req->h->auth;
    if (confirm)
        return a && a->confirm_path ? a->confirm_path : "/login/confirm";
    return a && a->login_path ? a->login_path : "/login";
}

int
crumb_http_login_required(crumb_http_req *req)
{
    const char *id;
    int r = check_user(req, &id);
    if (r < 0)
        return 1;
    if (r == 1)
        return 0;
    redirect_with_next(req, path_or(req, 0));
    return 1;
}

int
crumb_http_role_required(crumb_http_req *req, const char *role)
{
    if (crumb_http_login_required(req))
        return 1;
    if (crumb_http_has_role(req, role))
        return 0;
    crumb_http_log_note(req, "role refused");
    crumb_http_error(req, 403, "You do not have permission to see this "
                               "page.");
    return 1;
}

int
crumb_http_fresh_required(crumb_http_req *req, int64_t max_age)
{
    if (crumb_http_login_required(req))
        return 1;
    crumb_session *s = crumb_http_session(req);
    int64_t at = crumb_session_get_int(s, K_AUTH_AT, 0);
    int64_t now = crumb_http_now(req);
    if (at > 0 && now >= at - 60 && now - at <= max_age)
        return 0;
    crumb_http_log_note(req, "login not fresh");
    redirect_with_next(req, path_or(req, 1));
    return 1;
}

void
crumb__auth_before(crumb_http_req *req)
{
    struct crumb__auth *a = req->h->auth;
    if (a && a->a.before)
        a->a.before(req, a->a.before_ctx);
}
