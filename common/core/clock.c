#include "core/clock.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static clock_now_fn injected_now;
static void *injected_ctx;

int64_t clock_now(void)
{
    if (injected_now)
        return injected_now(injected_ctx);
    return (int64_t)time(NULL);
}

double clock_monotonic(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void clock_set(clock_now_fn fn, void *ctx)
{
    injected_now = fn;
    injected_ctx = ctx;
}

static void to_tm(int64_t t, struct tm *tm)
{
    time_t tt = (time_t)t;
    gmtime_r(&tt, tm);
}

void clock_format_rfc3339(int64_t t, char *out, size_t outlen)
{
    struct tm tm;
    to_tm(t, &tm);
    strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void clock_format_amz(int64_t t, char *out, size_t outlen)
{
    struct tm tm;
    to_tm(t, &tm);
    strftime(out, outlen, "%Y%m%dT%H%M%SZ", &tm);
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int clock_parse_rfc3339(const char *s, int64_t *out)
{
    int Y, M, D, h, m, sec;
    if (!s || strlen(s) < 19)
        return -1;
    if (digits(s, 4, &Y) || s[4] != '-' || digits(s + 5, 2, &M) || s[7] != '-' ||
        digits(s + 8, 2, &D) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &m) || s[16] != ':' ||
        digits(s + 17, 2, &sec))
        return -1;
    if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60)
        return -1;
    const char *p = s + 19;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return -1;
        while (isdigit((unsigned char)*p))
            p++; /* sub-second precision is dropped: every wait here is in seconds */
    }
    int offset = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        int sign = *p == '-' ? -1 : 1;
        if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om) || oh > 23 || om > 59)
            return -1;
        offset = sign * (oh * 3600 + om * 60);
        p += 6;
    } else {
        return -1;
    }
    if (*p != '\0')
        return -1;
    struct tm tm = {0};
    tm.tm_year = Y - 1900;
    tm.tm_mon = M - 1;
    tm.tm_mday = D;
    tm.tm_hour = h;
    tm.tm_min = m;
    tm.tm_sec = sec;
    time_t t = timegm(&tm);
    /* timegm normalises 2026-02-31 into March: refuse dates that do not exist. */
    struct tm check;
    gmtime_r(&t, &check);
    if (check.tm_mday != D || check.tm_mon != M - 1)
        return -1;
    *out = (int64_t)t - offset;
    return 0;
}
