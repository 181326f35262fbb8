/* static.c - a few registered files served from memory with an ETag. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <crumb/error.h>

#include "http_int.h"

#define STATIC_FILE_MAX (4 * 1024 * 1024)

struct crumb__static {
    crumb__static *next;
    char *url;
    char *ctype;
    char *data;
    size_t len;
    char etag[24];
};

/* FNV-1a, 64 bits: the ETag only has to change when the file does. */
static uint64_t
fnv1a(const char *p, size_t len)
{
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/*
 * Files are read once, at registration: the request path is only ever
 * compared with the registered URLs, so no request can name another file
 * ("../", encoded slashes, symlinks) whatever it contains.
 */
int
crumb__static_add(crumb__static **list, const char *url_path,
                  const char *path, const char *content_type)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return CRUMB_EIO;
    crumb__static *s = calloc(1, sizeof(*s));
    char *data = malloc(STATIC_FILE_MAX + 1);
    int rc = CRUMB_OK;
    if (!s || !data) {
        rc = CRUMB_ENOMEM;
        goto out;
    }
    size_t n = fread(data, 1, STATIC_FILE_MAX + 1, f);
    if (ferror(f) || n > STATIC_FILE_MAX) {
        rc = CRUMB_EIO;
        goto out;
    }
    s->url = strdup(url_path);
    s->ctype = strdup(content_type);
    if (!s->url || !s->ctype) {
        rc = CRUMB_ENOMEM;
        goto out;
    }
    s->data = data;
    s->len = n;
    snprintf(s->etag, sizeof(s->etag), "\"%016llx\"",
             (unsigned long long)fnv1a(data, n));
    data = NULL;
    s->next = *list;
    *list = s;
    s = NULL;
out:
    fclose(f);
    free(data);
    if (s) {
        free(s->url);
        free(s->ctype);
        free(s);
    }
    return rc;
}

void
crumb__static_free(crumb__static *list)
{
    while (list) {
        crumb__static *next = list->next;
        free(list->url);
        free(list->ctype);
        free(list->data);
        free(list);
        list = next;
    }
}

int
crumb__static_serve(const crumb__static *list, crumb_http_req *req)
{
    const char *path = crumb_http_path(req);
    const crumb__static *s;
    for (s = list; s; s = s->next)
        if (strcmp(s->url, path) == 0)
            break;
    if (!s)
        return 0;
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
        crumb_http_header_add(req, "Allow", "GET, HEAD");
        crumb_http_error(req, 405, "This address only answers GET.");
        return 1;
    }
    crumb_http_header_add(req, "ETag", s->etag);
    crumb_http_header_add(req, "Cache-Control", "public, max-age=3600");
    const char *inm = crumb_http_header(req, "If-None-Match");
    if (inm && (strstr(inm, s->etag) || strcmp(inm, "*") == 0)) {
        crumb_http_respond(req, 304, NULL, NULL, 0);
        return 1;
    }
    crumb_http_respond(req, 200, s->ctype, s->data, s->len);
    return 1;
}
