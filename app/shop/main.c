/* main.c - crumb-shop: the reference web app over crumb's HTTP layer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <crumb/error.h>
#include <crumb/http.h>
#include <crumb/iface.h>

#include "checkout.h"

static int
run(shop_config *c)
{
    crumb_config cfg;
    crumb_config_init(&cfg);
    cfg.secret_key = c->secret;
    cfg.secret_key_len = c->secret_len;
    cfg.fallback_keys = c->fallbacks;
    cfg.fallback_count = c->nfallbacks;
    cfg.cookie_name = c->cookie_name;
    cfg.cookie_secure = c->cookie_secure;
    cfg.cookie_samesite = c->samesite;
    cfg.signer.compression = c->compression;
    cfg.permanent_lifetime = c->permanent_lifetime;
    if (strcmp(c->store, "cookie") != 0)
        cfg.store_uri = c->store;
    cfg.idle_timeout = c->idle_timeout;
    cfg.absolute_timeout = c->absolute_timeout;
    if (c->clock_file) {
        cfg.clock = shop_test_clock;
        cfg.clock_ctx = (void *)c->clock_file;
        fprintf(stderr, "crumb-shop: test clock from %s\n", c->clock_file);
    }

    crumb_iface *iface = NULL;
    crumb_http *h = NULL;
    int status = 1;
    int rc = crumb_iface_new(&iface, &cfg);
    if (rc != CRUMB_OK) {
        fprintf(stderr, "crumb-shop: session setup: %s (%s)\n",
                crumb_strerror(rc), crumb_iface_errmsg(iface));
        goto out;
    }
    if (crumb_iface_warning(iface))
        fprintf(stderr, "crumb-shop: warning: %s\n",
                crumb_iface_warning(iface));
    if (shop_users_init(c->users_uri) != CRUMB_OK ||
        shop_orders_init(c->data_dir) != CRUMB_OK)
        goto out;
    shop_expiry_init(c);

    char tdir[4096], css[4096];
    snprintf(tdir, sizeof(tdir), "%s/templates", c->app_dir);
    snprintf(css, sizeof(css), "%s/static/style.css", c->app_dir);
    crumb_http_options opt;
    crumb_http_options_init(&opt);
    opt.addr = c->addr;
    opt.iface = iface;
    opt.template_dir = tdir;
    opt.threads = c->threads;
    opt.log = c->log;
    opt.on_error = shop_error;
    opt.after = shop_analytics_after;
    rc = crumb_http_new(&h, &opt);
    if (rc != CRUMB_OK) {
        fprintf(stderr, "crumb-shop: %s: %s\n", crumb_strerror(rc),
                h ? crumb_http_errmsg(h) : "");
        goto out;
    }
    if (crumb_http_static(h, "/static/style.css", css, "text/css") !=
            CRUMB_OK ||
        shop_routes_account(h) != CRUMB_OK || shop_routes_demo(h) != CRUMB_OK ||
        shop_routes_cart(h) != CRUMB_OK ||
        shop_routes_sessions(h) != CRUMB_OK ||
        shop_routes_checkout(h) != CRUMB_OK ||
        shop_routes_orders(h) != CRUMB_OK ||
        shop_routes_analytics(h) != CRUMB_OK ||
        shop_accounts_init(h, c) != CRUMB_OK ||
        shop_routes_accounts(h) != CRUMB_OK ||
        shop_routes_admin(h) != CRUMB_OK) {
        fprintf(stderr, "crumb-shop: %s\n", crumb_http_errmsg(h));
        goto out;
    }
    if (shop_analytics_start(iface) != CRUMB_OK) {
        fprintf(stderr, "crumb-shop: no analytics writer thread\n");
        goto out;
    }
    rc = crumb_http_start(h);
    if (rc != CRUMB_OK) {
        fprintf(stderr, "crumb-shop: %s\n", crumb_http_errmsg(h));
        goto out;
    }
    const char *host = c->addr;
    const char *colon = strrchr(host, ':');
    /* A redis URI may carry a password: then only its scheme is shown. */
    const char *shown = strchr(c->store, '@') ? "redis" : c->store;
    printf("crumb-shop: listening on http://%.*s:%u/ (%s, store %s)\n",
           (int)(colon - host), host, (unsigned)crumb_http_port(h),
           c->production ? "production" : c->test_env ? "test"
                                                      : "development",
           shown);
    fflush(stdout);
    if (shop_sweep_start(iface, c->gc_interval) != CRUMB_OK)
        fprintf(stderr, "crumb-shop: no session sweep thread\n");
    crumb_http_run(h);
    status = 0;
out:
    shop_sweep_stop();
    crumb_http_free(h);
    shop_analytics_stop(); /* after the last request, before the store */
    crumb_iface_free(iface);
    shop_accounts_cleanup();
    shop_users_cleanup();
    shop_orders_cleanup();
    return status;
}

int
main(int argc, char **argv)
{
    shop_config c;
    int rc = shop_config_load(&c, argc, argv);
    if (rc == 0)
        rc = run(&c);
    shop_config_cleanup(&c);
    return rc ? 1 : 0;
}
