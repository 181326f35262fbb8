/* clock.c - the test clock: real time plus an offset read from a file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <crumb/iface.h>

#include "shop.h"

/*
 * CRUMB_TEST_CLOCK_FILE lets the HTTP tests move time past the idle and
 * absolute timeouts without sleeping: the file holds an integer number of
 * seconds added to real time. Each thread keeps the last offset with the
 * file's identity and modification time, and reads the file again only
 * when those changed, so a request costs a stat() and the tests see a new
 * offset from their next request on. A missing or unreadable file counts
 * as 0; only development and test builds of the configuration set it.
 */
typedef struct clock_cache {
    int valid;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    int64_t offset;
} clock_cache;

static _Thread_local clock_cache cache;

static int64_t
read_offset(const char *path)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    char buf[64];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *end;
    long long v = strtoll(buf, &end, 10);
    while (*end == '\n' || *end == '\r' || *end == ' ')
        end++;
    return end != buf && *end == '\0' ? (int64_t)v : 0;
}

int64_t
shop_test_clock(void *path)
{
    int64_t now = crumb_clock_real(NULL);
    struct stat st;
    if (stat(path, &st) != 0) {
        cache.valid = 0;
        return now;
    }
    if (!cache.valid || cache.dev != st.st_dev || cache.ino != st.st_ino ||
        cache.size != st.st_size ||
        cache.mtime.tv_sec != st.st_mtim.tv_sec ||
        cache.mtime.tv_nsec != st.st_mtim.tv_nsec) {
        cache.offset = read_offset(path);
        cache.dev = st.st_dev;
        cache.ino = st.st_ino;
        cache.size = st.st_size;
        cache.mtime = st.st_mtim;
        cache.valid = 1;
    }
    return now + cache.offset;
}
