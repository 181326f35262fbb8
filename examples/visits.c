/* visits.c - the README's example: open a session from a Cookie header,
 * count a visit, print the Set-Cookie header to send back. */
#include <crumb/crumb.h>
#include <stdio.h>
#include <string.h>

int
main(int argc, char **argv)
{
    crumb_config cfg;
    crumb_config_init(&cfg); /* Flask's defaults */
    cfg.secret_key = "change-me-use-crumb-keygen-32-bytes+";
    cfg.secret_key_len = 36;
    crumb_iface *iface;
    if (crumb_iface_new(&iface, &cfg) != CRUMB_OK)
        return 1;

    /* The request's Cookie header: pass the previous output to count on. */
    const char *hdr = argc > 1 ? argv[1] : "";
    crumb_session *s;
    crumb_open_reason why; /* tampered/expired: a new session */
    if (crumb_iface_open(iface, hdr, strlen(hdr), &s, &why) != CRUMB_OK)
        return 1;
    int64_t visits = 0;
    crumb_session_incr(s, "visits", 1, &visits);
    fprintf(stderr, "cookie: %s, visits: %lld\n", crumb_open_reason_str(why),
            (long long)visits);

    crumb_save_result res; /* the Set-Cookie header for the response */
    if (crumb_iface_save(iface, s, &res) == CRUMB_OK && res.set_cookie)
        printf("Set-Cookie: %s\n", res.set_cookie);
    crumb_save_result_cleanup(&res);
    crumb_session_free(s);
    crumb_iface_free(iface);
    return 0;
}
