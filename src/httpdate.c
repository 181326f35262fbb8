/* httpdate.c - HTTP dates (RFC 7231 section 7.1.1.1) without libc time. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <crumb/error.h>
#include <crumb/tagjson.h>

static const char wkday_names[7][4] = {"Mon", "Tue", "Wed", "Thu",
                                       "Fri", "Sat", "Sun"};
static const char *const weekday_names[7] = {
    "Monday", "Tuesday", "Wednesday", "Thursday",
    "Friday", "Saturday", "Sunday"};
static const char month_names[12][4] = {"Jan", "Feb", "Mar", "Apr",
                                        "May", "Jun", "Jul", "Aug",
                                        "Sep", "Oct", "Nov", "Dec"};

/* Seconds from 0001-01-01 to 1970-01-01, and up to 10000-01-01. */
#define SECONDS_YEAR1 (-62135596800LL)
#define SECONDS_YEAR10000 253402300800LL

/*
 * Days since 1970-01-01 of a proleptic Gregorian date, counting in eras of
 * 400 years (146097 days) that start on March 1st so the leap day is the
 * last day of each shifted year.
 */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* The inverse of days_from_civil(). */
static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int64_t
floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return q - ((a % b != 0) && ((a < 0) != (b < 0)));
}

int
crumb_http_date_format(int64_t unix_seconds, char *buf, size_t size)
{
    if (!buf || size < 30 || unix_seconds < SECONDS_YEAR1 ||
        unix_seconds >= SECONDS_YEAR10000)
        return CRUMB_EINVAL;
    int64_t days = floor_div(unix_seconds, 86400);
    int64_t secs = unix_seconds - days * 86400;
    int64_t y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    /* 1970-01-01 was a Thursday (index 3 from Monday). */
    int wd = (int)((days % 7 + 7 + 3) % 7);
    snprintf(buf, size, "%s, %02d %s %04d %02d:%02d:%02d GMT",
             wkday_names[wd], d, month_names[m - 1], (int)y,
             (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
    return CRUMB_OK;
}

/* A tiny cursor over the input for the three grammars below. */
typedef struct cursor {
    const char *p, *end;
} cursor;

static int
lit(cursor *c, const char *s)
{
    size_t n = strlen(s);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, s, n) != 0)
        return 0;
    c->p += n;
    return 1;
}

/* Exactly @n ASCII digits. */
static int
digits(cursor *c, int n, int *out)
{
    int v = 0;
    if (c->end - c->p < n)
        return 0;
    for (int i = 0; i < n; i++) {
        char ch = c->p[i];
        if (ch < '0' || ch > '9')
            return 0;
        v = v * 10 + (ch - '0');
    }
    c->p += n;
    *out = v;
    return 1;
}

static int
month(cursor *c, int *m)
{
    for (int i = 0; i < 12; i++)
        if (lit(c, month_names[i])) {
            *m = i + 1;
            return 1;
        }
    return 0;
}

/* time-of-day = hour ":" minute ":" second */
static int
time_of_day(cursor *c, int *h, int *mi, int *s)
{
    return digits(c, 2, h) && lit(c, ":") && digits(c, 2, mi) &&
           lit(c, ":") && digits(c, 2, s);
}

static int
day_name(cursor *c, int *wd, int full)
{
    for (int i = 0; i < 7; i++)
        if (lit(c, full ? weekday_names[i] : wkday_names[i])) {
            *wd = i;
            return 1;
        }
    return 0;
}

/*
 * IMF-fixdate  = day-name "," SP date1 SP time-of-day SP "GMT"
 *                date1 = day SP month SP year     ; 02 Jun 1982
 * rfc850-date  = day-name-l "," SP date2 SP time-of-day SP "GMT"
 *                date2 = day "-" month "-" 2DIGIT ; 02-Jun-82
 * asctime-date = day-name SP date3 SP time-of-day SP year
 *                date3 = month SP ( 2DIGIT / ( SP DIGIT )) ; Jun  2
 * A two-digit year is read as Python's email.utils does: above 68 is in
 * the 1900s, otherwise in the 2000s. The weekday must match the date.
 */
int
crumb_http_date_parse(const char *s, size_t len, int64_t *unix_seconds)
{
    if (!s)
        return CRUMB_EMALFORMED;
    cursor c = {s, s + len};
    int wd, d = 0, m = 0, y = 0, h = 0, mi = 0, sec = 0, ok;
    cursor save = c;
    if (day_name(&c, &wd, 0) && lit(&c, ", ")) {
        ok = digits(&c, 2, &d) && lit(&c, " ") && month(&c, &m) &&
             lit(&c, " ") && digits(&c, 4, &y) && lit(&c, " ") &&
             time_of_day(&c, &h, &mi, &sec) && lit(&c, " GMT");
    } else if (c = save, day_name(&c, &wd, 1) && lit(&c, ", ")) {
        ok = digits(&c, 2, &d) && lit(&c, "-") && month(&c, &m) &&
             lit(&c, "-") && digits(&c, 2, &y) && lit(&c, " ") &&
             time_of_day(&c, &h, &mi, &sec) && lit(&c, " GMT");
        y += y > 68 ? 1900 : 2000;
    } else if (c = save, day_name(&c, &wd, 0) && lit(&c, " ")) {
        ok = month(&c, &m) && lit(&c, " ") &&
             (lit(&c, " ") ? digits(&c, 1, &d) : digits(&c, 2, &d)) &&
             lit(&c, " ") && time_of_day(&c, &h, &mi, &sec) &&
             lit(&c, " ") && digits(&c, 4, &y);
    } else {
        return CRUMB_EMALFORMED;
    }
    if (!ok || c.p != c.end || y < 1 || d < 1 || h > 23 || mi > 59 ||
        sec > 59)
        return CRUMB_EMALFORMED;
    static const int mdays[12] = {31, 29, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > mdays[m - 1] || (m == 2 && d == 29 && !leap))
        return CRUMB_EMALFORMED;
    int64_t days = days_from_civil(y, m, d);
    if ((int)((days % 7 + 7 + 3) % 7) != wd)
        return CRUMB_EMALFORMED;
    if (unix_seconds)
        *unix_seconds = days * 86400 + h * 3600 + mi * 60 + sec;
    return CRUMB_OK;
}
