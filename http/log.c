/* log.c - the request log: lines gathered in memory, written in batches. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <crumb/error.h>

#include "http_int.h"

#define LOG_BUF_SIZE (64 * 1024)
#define LOG_FLUSH_MS 100

struct crumb__log {
    int fd;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    int stop;
    char buf[LOG_BUF_SIZE];
    size_t len;
};

static void
write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return; /* a log that cannot be written is dropped */
        p += w;
        n -= (size_t)w;
    }
}

/*
 * One write() per request line costs a system call on the request's
 * thread, which at tens of thousands of requests per second is a large
 * share of the work. Lines are appended to a buffer instead and this
 * thread writes it out every LOG_FLUSH_MS, so a line reaches the log at
 * most that late. A full buffer is written by the thread that filled it.
 */
static void *
log_main(void *arg)
{
    crumb__log *l = arg;
    char *out = malloc(LOG_BUF_SIZE);
    pthread_mutex_lock(&l->mu);
    for (;;) {
        if (!l->stop) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += LOG_FLUSH_MS * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&l->cv, &l->mu, &ts);
        }
        size_t n = l->len;
        if (n && out) {
            memcpy(out, l->buf, n);
            l->len = 0;
            pthread_mutex_unlock(&l->mu);
            write_all(l->fd, out, n);
            pthread_mutex_lock(&l->mu);
        } else if (n) {
            write_all(l->fd, l->buf, n);
            l->len = 0;
        }
        if (l->stop && !l->len)
            break;
    }
    pthread_mutex_unlock(&l->mu);
    free(out);
    return NULL;
}

int
crumb__log_open(crumb__log **out, int fd)
{
    crumb__log *l = calloc(1, sizeof(*l));
    if (!l)
        return CRUMB_ENOMEM;
    l->fd = fd;
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    if (pthread_create(&l->thread, NULL, log_main, l) != 0) {
        pthread_mutex_destroy(&l->mu);
        pthread_cond_destroy(&l->cv);
        free(l);
        return CRUMB_ENOMEM;
    }
    *out = l;
    return CRUMB_OK;
}

void
crumb__log_write(crumb__log *l, const char *line, size_t n)
{
    if (n > LOG_BUF_SIZE)
        n = LOG_BUF_SIZE;
    pthread_mutex_lock(&l->mu);
    if (l->len + n > LOG_BUF_SIZE) {
        write_all(l->fd, l->buf, l->len);
        l->len = 0;
    }
    memcpy(l->buf + l->len, line, n);
    l->len += n;
    pthread_mutex_unlock(&l->mu);
}

void
crumb__log_close(crumb__log *l)
{
    if (!l)
        return;
    pthread_mutex_lock(&l->mu);
    l->stop = 1;
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
    pthread_join(l->thread, NULL);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
    free(l);
}

void
crumb__logf(crumb_http *h, const char *fmt, ...)
{
    if (!h->opt.log || !h->log)
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
    line[n++] = '\n';
    crumb__log_write(h->log, line, (size_t)n);
}

static size_t
put_str(char *out, size_t o, size_t size, const char *s)
{
    while (*s && o + 1 < size)
        out[o++] = *s++;
    return o;
}

static size_t
put_uint(char *out, size_t o, size_t size, unsigned long long v, int width)
{
    char d[24];
    int n = 0;
    do {
        d[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v && n < (int)sizeof(d));
    while (n < width && n < (int)sizeof(d))
        d[n++] = '0';
    while (n && o + 1 < size)
        out[o++] = d[--n];
    return o;
}

/*
 * One line per request: "crumb-http: METHOD PATH STATUS 1.234ms [note]".
 * The logged path is the raw path (MHD cut the query off), printable
 * ASCII only, so no query (tokens), cookie or control character ever
 * reaches the log. Formatted by hand: snprintf() was most of the line's
 * cost, paid on every request.
 */
void
crumb__log_request(crumb_http_req *req)
{
    static const char hex[] = "0123456789abcdef";
    char line[320];
    size_t o = put_str(line, 0, sizeof(line), "crumb-http: ");
    o = put_str(line, o, sizeof(line), req->method);
    line[o++] = ' ';
    const char *u = req->uri ? req->uri : "";
    size_t path_end = o + 127;
    for (; *u && *u != '?' && o + 5 < path_end; u++) {
        unsigned char c = (unsigned char)*u;
        if (c >= 0x21 && c < 0x7f && c != '\\') {
            line[o++] = (char)c;
        } else {
            line[o++] = '\\';
            line[o++] = 'x';
            line[o++] = hex[c >> 4];
            line[o++] = hex[c & 15];
        }
    }
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long us = (long long)(now.tv_sec - req->start.tv_sec) * 1000000 +
                   (now.tv_nsec - req->start.tv_nsec) / 1000;
    if (us < 0)
        us = 0;
    line[o++] = ' ';
    o = put_uint(line, o, sizeof(line), (unsigned)req->status, 0);
    line[o++] = ' ';
    o = put_uint(line, o, sizeof(line), (unsigned long long)us / 1000, 0);
    line[o++] = '.';
    o = put_uint(line, o, sizeof(line), (unsigned long long)us % 1000, 3);
    o = put_str(line, o, sizeof(line), "ms");
    if (req->log_note) {
        o = put_str(line, o, sizeof(line), " [");
        o = put_str(line, o, sizeof(line) - 2, req->log_note);
        o = put_str(line, o, sizeof(line), "]");
    }
    if (o >= sizeof(line) - 1)
        o = sizeof(line) - 2;
    line[o++] = '\n';
    if (req->h->log)
        crumb__log_write(req->h->log, line, o);
}
