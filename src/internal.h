/* internal.h - declarations shared between libcrumb's own files only. */
#ifndef CRUMB_INTERNAL_H
#define CRUMB_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <crumb/session.h>

/* What a server-side interface keeps with a session (session.c holds it,
 * iface_store.c fills it). */
typedef struct crumb__session_srv {
    unsigned char key[32]; /* SHA-256 of the id: the record key */
    char id[64];           /* the cookie id; "" for none yet */
    char handle[17];       /* hex of key[0..8]; "" for none */
    int64_t version;       /* loaded record's version; 0: no record */
    int64_t created, last_seen;
    char user[65], addr[47], agent[65];
    unsigned regenerate : 1, destroy : 1, meta_changed : 1;
} crumb__session_srv;

/* The session's server-side state. Lifetime: @s's. */
crumb__session_srv *crumb__session_srv_of(crumb_session *s);

#endif
