/* Durations as the Go original writes them: Go's time.ParseDuration, ported
 * (golang/go src/time/format.go: ParseDuration, leadingInt, leadingFraction,
 * unitMap), so that every value the Go tool accepted means the same here:
 * "500ms", "1h30m", "1.5h", "-2m3.4s", ".5s", "12µs", "0". One extension, kept
 * from this project's first configs: the unit "d" (24h), which Go refuses.
 *
 * duration_parse_go() is the exact port (nanoseconds, sign, overflow rules);
 * duration_parse() is what a key or flag of this project takes: Go's syntax plus
 * "d", a positive total, rounded UP to whole seconds (every wait here counts in
 * seconds; rounding up never turns a short poll into a busy loop), at most 100
 * years. */
#include "core/duration.h"

#include <stdio.h>
#include <string.h>

#define DURATION_MAX  ((int64_t)100 * 365 * 86400)
#define NS_PER_SECOND 1000000000ULL
#define LIMIT         (1ULL << 63)

/* Go's leadingInt: the leading [0-9]*; -1 on overflow past 1<<63. */
static int leading_int(const char **s, uint64_t *out)
{
    uint64_t x = 0;
    const char *p = *s;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (x > LIMIT / 10)
            return -1;
        x = x * 10 + (uint64_t)(*p - '0');
        if (x > LIMIT)
            return -1;
    }
    *s = p;
    *out = x;
    return 0;
}

/* Go's leadingFraction: the leading [0-9]* of a fraction; on overflow it stops
 * accumulating precision instead of failing. */
static void leading_fraction(const char **s, uint64_t *out, double *scale)
{
    uint64_t x = 0;
    double sc = 1;
    int overflow = 0;
    const char *p = *s;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (overflow)
            continue;
        if (x > (LIMIT - 1) / 10) {
            overflow = 1;
            continue;
        }
        uint64_t y = x * 10 + (uint64_t)(*p - '0');
        if (y > LIMIT) {
            overflow = 1;
            continue;
        }
        x = y;
        sc *= 10;
    }
    *s = p;
    *out = x;
    *scale = sc;
}

/* Go's unitMap (plus "d" when allowed); 0 = unknown. */
static uint64_t unit_ns(const char *u, size_t n, int allow_days)
{
    static const struct {
        const char *name;
        uint64_t ns;
    } units[] = {
        {"ns", 1},
        {"us", 1000},
        {"\xc2\xb5s", 1000}, /* U+00B5 micro sign */
        {"\xce\xbcs", 1000}, /* U+03BC Greek small letter mu */
        {"ms", 1000000},
        {"s", NS_PER_SECOND},
        {"m", 60 * NS_PER_SECOND},
        {"h", 3600 * NS_PER_SECOND},
    };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strlen(units[i].name) == n && memcmp(units[i].name, u, n) == 0)
            return units[i].ns;
    if (allow_days && n == 1 && u[0] == 'd')
        return 86400 * NS_PER_SECOND;
    return 0;
}

static int parse(const char *s, int allow_days, int64_t *out)
{
    if (s == NULL)
        return -1;
    uint64_t d = 0;
    int neg = 0;
    if (*s == '-' || *s == '+') {
        neg = *s == '-';
        s++;
    }
    if (strcmp(s, "0") == 0) { /* Go's special case: a bare zero needs no unit */
        *out = 0;
        return 0;
    }
    if (*s == '\0')
        return -1;
    while (*s != '\0') {
        uint64_t v = 0, f = 0;
        double scale = 1;
        if (!(*s == '.' || (*s >= '0' && *s <= '9')))
            return -1;
        const char *before = s;
        if (leading_int(&s, &v) != 0)
            return -1;
        int pre = s != before;
        int post = 0;
        if (*s == '.') {
            s++;
            const char *frac_start = s;
            leading_fraction(&s, &f, &scale);
            post = s != frac_start;
        }
        if (!pre && !post)
            return -1; /* no digits: ".s", "-.s" */
        size_t i = 0;
        while (s[i] != '\0' && s[i] != '.' && !(s[i] >= '0' && s[i] <= '9'))
            i++;
        if (i == 0)
            return -1; /* missing unit */
        uint64_t unit = unit_ns(s, i, allow_days);
        s += i;
        if (unit == 0)
            return -1; /* unknown unit */
        if (v > LIMIT / unit)
            return -1;
        v *= unit;
        if (f > 0) {
            /* float64, as Go: nanosecond-accurate for fractions of hours */
            v += (uint64_t)((double)f * ((double)unit / scale));
            if (v > LIMIT)
                return -1;
        }
        d += v;
        if (d > LIMIT)
            return -1;
    }
    if (neg) {
        *out = d == LIMIT ? INT64_MIN : -(int64_t)d;
        return 0;
    }
    if (d > LIMIT - 1)
        return -1;
    *out = (int64_t)d;
    return 0;
}

int duration_parse_go(const char *s, int64_t *ns)
{
    int64_t v;
    if (parse(s, 0, &v) != 0)
        return -1;
    *ns = v;
    return 0;
}

int duration_parse_ns(const char *s, int64_t *ns)
{
    int64_t v;
    if (parse(s, 1, &v) != 0)
        return -1;
    *ns = v;
    return 0;
}

int64_t duration_ns_to_seconds(int64_t ns)
{
    if (ns <= 0)
        return 0;
    return (int64_t)(((uint64_t)ns + NS_PER_SECOND - 1) / NS_PER_SECOND);
}

int duration_parse(const char *s, int64_t *out)
{
    int64_t ns;
    if (duration_parse_ns(s, &ns) != 0 || ns <= 0)
        return -1;
    int64_t secs = duration_ns_to_seconds(ns);
    if (secs > DURATION_MAX)
        return -1;
    *out = secs;
    return 0;
}

void duration_format(int64_t seconds, char *out, size_t outlen)
{
    if (outlen == 0)
        return;
    if (seconds <= 0) {
        snprintf(out, outlen, "0s");
        return;
    }
    int64_t d = seconds / 86400, h = seconds % 86400 / 3600, m = seconds % 3600 / 60,
            s = seconds % 60;
    size_t n = 0;
    out[0] = '\0';
#define PART(v, u)                                                                                 \
    if ((v) > 0 && n < outlen) {                                                                   \
        int w = snprintf(out + n, outlen - n, "%lld%s", (long long)(v), u);                        \
        if (w > 0)                                                                                 \
            n += (size_t)w;                                                                        \
    }
    PART(d, "d")
    PART(h, "h")
    PART(m, "m")
    PART(s, "s")
#undef PART
}
