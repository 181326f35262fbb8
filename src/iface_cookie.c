/* iface_cookie.c - sessions kept whole in a signed cookie, as Flask's
 * SecureCookieSessionInterface keeps them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include <crumb/cookie.h>
#include <crumb/error.h>
#include <crumb/iface.h>
#include <crumb/tagjson.h>

#include "iface_internal.h"
#include "internal.h"

#define DEFAULT_LIFETIME (31 * 24 * 3600) /* Flask's: 31 days */
#define DEFAULT_MAX_SIZE 4093             /* werkzeug's max_cookie_size */
#define MIN_KEY_LEN 32
/* A cookie value this long was never sent by a browser: refuse to parse. */
#define OPEN_VALUE_MAX 8192

_Thread_local char crumb__iface_errbuf[256];
#define errbuf crumb__iface_errbuf

int64_t
crumb_clock_real(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec;
}

void
crumb_config_init(crumb_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->cookie_httponly = 1;
    cfg->cookie_samesite = CRUMB_SAMESITE_LAX;
    cfg->cookie_max_size = DEFAULT_MAX_SIZE;
    cfg->permanent_lifetime = DEFAULT_LIFETIME;
    cfg->refresh_each_request = 1;
    cfg->idle_timeout = 30 * 60;
    cfg->absolute_timeout = 12 * 3600;
    cfg->touch_interval = 15;
}

int64_t
crumb_iface_now(const crumb_iface *iface)
{
    return iface->cfg.clock ? iface->cfg.clock(iface->cfg.clock_ctx)
                            : crumb_clock_real(NULL);
}

void
crumb__setcookie_base(const crumb_iface *iface, crumb_setcookie *c)
{
    memset(c, 0, sizeof *c);
    c->name = iface->cookie_name;
    c->domain = iface->cookie_domain;
    c->path = iface->cookie_path;
    c->secure = iface->cfg.cookie_secure;
    c->httponly = iface->cfg.cookie_httponly;
    c->partitioned = iface->cfg.cookie_partitioned;
    c->samesite = iface->cfg.cookie_samesite;
}

static char *
dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

void
crumb_iface_free(crumb_iface *iface)
{
    if (!iface)
        return;
    crumb__iface_store_cleanup(iface);
    crumb_signer_free(iface->signer);
    free(iface->cookie_name);
    free(iface->cookie_domain);
    free(iface->cookie_path);
    free(iface);
}

int
crumb_iface_new(crumb_iface **out, const crumb_config *cfg)
{
    *out = NULL;
    if (!cfg)
        return CRUMB_EINVAL;
    int has_key = cfg->secret_key && cfg->secret_key_len > 0;
    if (!has_key && !cfg->store_uri)
        return CRUMB_ENOKEY;
    crumb_iface *iface = calloc(1, sizeof *iface);
    if (!iface)
        return CRUMB_ENOMEM;
    iface->cfg = *cfg;
    /* The caller's key buffers are not kept: the signer copies them. */
    iface->cfg.secret_key = NULL;
    iface->cfg.fallback_keys = NULL;
    if (iface->cfg.cookie_max_size == 0)
        iface->cfg.cookie_max_size = DEFAULT_MAX_SIZE;
    if (iface->cfg.permanent_lifetime <= 0)
        iface->cfg.permanent_lifetime = DEFAULT_LIFETIME;

    int rc = CRUMB_ENOMEM;
    iface->cookie_name =
        strdup(cfg->cookie_name ? cfg->cookie_name : "session");
    iface->cookie_path = strdup(cfg->cookie_path ? cfg->cookie_path : "/");
    iface->cookie_domain = dup_or_null(cfg->cookie_domain);
    if (!iface->cookie_name || !iface->cookie_path ||
        (cfg->cookie_domain && !iface->cookie_domain))
        goto fail;

    if (has_key) {
        rc = crumb_signer_new(&iface->signer, &cfg->signer);
        if (rc != CRUMB_OK)
            goto fail;
        rc = crumb_signer_add_key(iface->signer, cfg->secret_key,
                                  cfg->secret_key_len);
        for (size_t i = 0; rc == CRUMB_OK && i < cfg->fallback_count; i++)
            rc =
                crumb_signer_add_key(iface->signer, cfg->fallback_keys[i].bytes,
                                     cfg->fallback_keys[i].len);
        if (rc != CRUMB_OK)
            goto fail;
    }

    /* Refuse now a cookie configuration that every save would refuse. */
    crumb_setcookie probe;
    crumb__setcookie_base(iface, &probe);
    probe.value = "x";
    char *text = NULL;
    size_t text_len = 0;
    rc = crumb_setcookie_format(&probe, &text, &text_len);
    free(text);
    if (rc != CRUMB_OK)
        goto fail;

    if (cfg->store_uri) {
        rc = crumb__iface_store_init(iface, cfg);
        if (rc != CRUMB_OK)
            goto fail;
    }
    if (has_key && cfg->secret_key_len < MIN_KEY_LEN)
        iface->warning = "secret key is shorter than 32 bytes: use "
                         "`crumb keygen` for a strong one";
    *out = iface;
    return CRUMB_OK;
fail:
    crumb_iface_free(iface);
    return rc;
}

const char *
crumb_iface_warning(const crumb_iface *iface)
{
    return iface->warning;
}

const char *
crumb_iface_errmsg(const crumb_iface *iface)
{
    (void)iface;
    return errbuf;
}

const crumb_signer *
crumb_iface_signer(const crumb_iface *iface)
{
    return iface->signer;
}

const char *
crumb_open_reason_str(crumb_open_reason r)
{
    switch (r) {
    case CRUMB_OPEN_OK:
        return "ok";
    case CRUMB_OPEN_NO_COOKIE:
        return "no cookie";
    case CRUMB_OPEN_MALFORMED:
        return "malformed";
    case CRUMB_OPEN_BAD_SIGNATURE:
        return "bad signature";
    case CRUMB_OPEN_EXPIRED:
        return "expired";
    case CRUMB_OPEN_TOO_LARGE:
        return "too large";
    case CRUMB_OPEN_UNKNOWN_ID:
        return "unknown session id";
    case CRUMB_OPEN_IDLE_TIMEOUT:
        return "idle timeout";
    case CRUMB_OPEN_ABSOLUTE_TIMEOUT:
        return "absolute timeout";
    case CRUMB_OPEN_CORRUPT:
        return "corrupt record";
    }
    return "unknown";
}

/*
 * Flask tags the session dict itself: a session whose only key is a tag
 * key (" t") is written as {" di": {" t__": v}}. Undo that on load.
 */
json_t *
crumb__unwrap_root(json_t *root)
{
    if (crumb_tag_of(root) != CRUMB_TAG_DICT)
        return root;
    json_t *inner = json_object_get(root, " di");
    const char *k = json_object_iter_key(json_object_iter(inner));
    size_t klen = k ? strlen(k) : 0;
    json_t *plain = json_object();
    if (!plain || klen < 2) {
        json_decref(plain);
        json_decref(root);
        return NULL;
    }
    char key[1024];
    if (klen - 2 >= sizeof key) {
        json_decref(plain);
        json_decref(root);
        return NULL;
    }
    memcpy(key, k, klen - 2);
    key[klen - 2] = '\0';
    json_object_set(plain, key, json_object_get(inner, k));
    json_decref(root);
    return plain;
}

int
crumb_iface_open(crumb_iface *iface, const char *cookie_header,
                 size_t header_len, crumb_session **out,
                 crumb_open_reason *reason)
{
    crumb_open_reason why = CRUMB_OPEN_NO_COOKIE;
    json_t *data = NULL;
    const char *val = NULL;
    size_t vlen = 0;
    *out = NULL;
    if (iface->store_uri)
        return crumb__iface_store_open(iface, cookie_header, header_len, out,
                                       reason);

    int rc = cookie_header ? crumb_cookie_get(cookie_header, header_len,
                                              iface->cookie_name, &val, &vlen)
                           : CRUMB_ENOTFOUND;
    if (rc == CRUMB_ETOOBIG || (rc == CRUMB_OK && vlen > OPEN_VALUE_MAX)) {
        why = CRUMB_OPEN_TOO_LARGE;
    } else if (rc == CRUMB_OK && vlen > 0) {
        rc = crumb_signer_loads(iface->signer, val, vlen,
                                iface->cfg.permanent_lifetime,
                                crumb_iface_now(iface), &data, NULL);
        switch (rc) {
        case CRUMB_OK:
            why = CRUMB_OPEN_OK;
            data = crumb__unwrap_root(data);
            if (!data)
                why = CRUMB_OPEN_MALFORMED;
            break;
        case CRUMB_EBADSIG:
            why = CRUMB_OPEN_BAD_SIGNATURE;
            break;
        case CRUMB_EEXPIRED:
            why = CRUMB_OPEN_EXPIRED;
            break;
        case CRUMB_ETOOBIG:
            why = CRUMB_OPEN_TOO_LARGE;
            break;
        case CRUMB_ENOMEM:
            return CRUMB_ENOMEM;
        default:
            why = CRUMB_OPEN_MALFORMED;
            break;
        }
    }

    crumb_session *s;
    if (why == CRUMB_OPEN_OK) {
        s = crumb_session_new_from(data, 1);
        if (s)
            crumb_session_set_new(s, 0);
    } else {
        s = crumb_session_new();
    }
    if (!s)
        return CRUMB_ENOMEM;
    *out = s;
    if (reason)
        *reason = why;
    return CRUMB_OK;
}

void
crumb_save_result_cleanup(crumb_save_result *res)
{
    if (!res)
        return;
    free(res->set_cookie);
    res->set_cookie = NULL;
}

int
crumb__save_delete(crumb_iface *iface, crumb_save_result *res)
{
    crumb_setcookie c;
    crumb__setcookie_base(iface, &c);
    c.value = "";
    c.has_expires = 1;
    c.expires = 0;
    c.has_max_age = 1;
    c.max_age = 0;
    int rc = crumb_setcookie_format(&c, &res->set_cookie, NULL);
    if (rc == CRUMB_OK) {
        res->deleted = 1;
        res->vary_cookie = 1;
    }
    return rc;
}

int
crumb_iface_save(crumb_iface *iface, crumb_session *s, crumb_save_result *res)
{
    memset(res, 0, sizeof *res);
    errbuf[0] = '\0';
    if (iface->store_uri)
        return crumb__iface_store_save(iface, s, res);
    if (crumb_session_destroying(s))
        crumb_session_clear(s);
    if (crumb_session_regenerating(s))
        crumb_session_mark_modified(s);
    int accessed = crumb_session_was_accessed(s);
    int modified = crumb_session_is_modified(s);
    int permanent = crumb_session_is_permanent(s);
    /* crumb_session_data() marks accessed; read the flag first. */
    const json_t *data = crumb_session_data(s);

    if (json_object_size(data) == 0) {
        if (!modified) {
            res->vary_cookie = accessed;
            return CRUMB_OK;
        }
        return crumb__save_delete(iface, res);
    }
    res->vary_cookie = accessed;
    if (!modified && !(permanent && iface->cfg.refresh_each_request))
        return CRUMB_OK;

    int64_t now = crumb_iface_now(iface);
    json_t *root = crumb_tag_wrap_dict((json_t *)data);
    if (!root)
        return CRUMB_ENOMEM;
    char *value = NULL;
    size_t vlen = 0;
    int rc = crumb_signer_dumps(iface->signer, root, now, &value, &vlen);
    json_decref(root);
    if (rc != CRUMB_OK)
        return rc;

    crumb_setcookie c;
    crumb__setcookie_base(iface, &c);
    c.value = value;
    if (permanent) {
        c.has_expires = 1;
        c.expires = now + iface->cfg.permanent_lifetime;
        c.has_max_age = 1;
        c.max_age = iface->cfg.permanent_lifetime;
    }
    char *header = NULL;
    size_t hlen = 0;
    rc = crumb_setcookie_format(&c, &header, &hlen);
    free(value);
    if (rc != CRUMB_OK)
        return rc;
    if (hlen > iface->cfg.cookie_max_size) {
        snprintf(errbuf, sizeof errbuf,
                 "session cookie is %zu bytes, over the %zu a browser keeps:"
                 " store less in the session or use a server-side store",
                 hlen, iface->cfg.cookie_max_size);
        free(header);
        return CRUMB_ETOOBIG;
    }
    res->set_cookie = header;
    res->vary_cookie = 1;
    return CRUMB_OK;
}
