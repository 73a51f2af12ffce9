/* Durations as the configuration writes them: one or more <number><unit>
 * groups, units d, h, m, s (e.g. "90s", "30m", "4h", "1h30m", "7d", "2d12h",
 * "1.5h"). The total must be a positive whole number of seconds (sub-second
 * units are refused: nothing here is that precise) and at most 100 years. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define DURATION_MAX ((int64_t)100 * 365 * 86400)

int duration_parse(const char *s, int64_t *out)
{
    if (s == NULL || *s == '\0')
        return -1;
    /* Whole seconds are accumulated exactly; fractions in millionths. */
    int64_t total = 0;
    int64_t frac_micro = 0;
    const char *p = s;
    while (*p != '\0') {
        if (!isdigit((unsigned char)*p) && *p != '.')
            return -1;
        int64_t whole = 0;
        int digits = 0;
        while (isdigit((unsigned char)*p)) {
            whole = whole * 10 + (*p - '0');
            if (whole > DURATION_MAX)
                return -1;
            p++;
            digits++;
        }
        int64_t frac = 0, scale = 1;   /* fraction = frac / scale */
        if (*p == '.') {
            p++;
            while (isdigit((unsigned char)*p)) {
                if (scale < 1000000) {
                    frac = frac * 10 + (*p - '0');
                    scale *= 10;
                }
                p++;
                digits++;
            }
        }
        if (digits == 0)
            return -1;
        int64_t unit;
        switch (*p) {
        case 'd': unit = 86400; break;
        case 'h': unit = 3600; break;
        case 'm': unit = 60; break;
        case 's': unit = 1; break;
        default: return -1;    /* no unit, or "ms", "us", "w", ... */
        }
        p++;
        if (*p == 's' && unit == 60)   /* "ms" */
            return -1;
        total += whole * unit;
        frac_micro += frac * unit * (1000000 / scale);
        if (total > DURATION_MAX)
            return -1;
    }
    if (frac_micro % 1000000 != 0)
        return -1;                     /* not whole seconds */
    total += frac_micro / 1000000;
    if (total <= 0 || total > DURATION_MAX)
        return -1;
    *out = total;
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
#define PART(v, u) \
    if ((v) > 0 && n < outlen) { \
        int w = snprintf(out + n, outlen - n, "%lld%s", (long long)(v), u); \
        if (w > 0) n += (size_t)w; \
    }
    PART(d, "d")
    PART(h, "h")
    PART(m, "m")
    PART(s, "s")
#undef PART
}
