/* The small text formats, each with a round-trip property that aborts (a
 * fuzzer crash) when it fails:
 *  - durations: duration_format(duration_parse(s)) parses back to the same
 *    value; any value in range formats to text that parses back to it; a
 *    key's duration is Go's nanosecond parse (plus "d") rounded up to seconds;
 *  - times: clock_parse_rfc3339(s) formatted and parsed again gives the same
 *    instant (years 1000-9999: RFC 3339's four-digit years); dblab_parse_time;
 *  - environment expansion: escaping every '$' of any string as "$$" expands
 *    back to that string with no variable referenced; any expansion either
 *    fails with a reason or succeeds, never both.
 * The first byte picks the format; the rest is the text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/buf.h"
#include "core/clock.h"
#include "dblab/dblab.h"
#include "fuzz.h"

#define YEAR_1000  (-30610224000LL) /* 1000-01-01T00:00:00Z */
#define YEAR_10000 (253402300800LL) /* 10000-01-01T00:00:00Z */

void fuzz_init(void)
{
}

static void property(int ok, const char *what, const char *input)
{
    if (!ok) {
        fprintf(stderr, "round-trip property failed: %s (input \"%s\")\n", what, input);
        abort();
    }
}

static void durations(const char *s, const uint8_t *raw, size_t n)
{
    int64_t d, again;
    char text[64];
    int64_t ns;
    (void)duration_parse_go(s, &ns); /* Go's time.ParseDuration, ported */
    if (duration_parse(s, &d) == 0) {
        property(d > 0, "a parsed duration is positive", s);
        property(duration_parse_ns(s, &ns) == 0 && duration_ns_to_seconds(ns) == d,
                 "a key's duration is the nanosecond parse rounded up to seconds", s);
        duration_format(d, text, sizeof text);
        property(duration_parse(text, &again) == 0 && again == d, "format(parse(s)) parses to s",
                 s);
    }
    if (n >= 8) { /* any value in range: format, then parse */
        uint64_t v;
        memcpy(&v, raw, 8);
        int64_t want = (int64_t)(v % ((uint64_t)100 * 365 * 86400)) + 1;
        duration_format(want, text, sizeof text);
        property(duration_parse(text, &again) == 0 && again == want, "parse(format(n)) == n", text);
    }
}

static void times(const char *s)
{
    int64_t t, again;
    char text[64];
    if (clock_parse_rfc3339(s, &t) == 0 && t >= YEAR_1000 && t < YEAR_10000) {
        clock_format_rfc3339(t, text, sizeof text);
        property(clock_parse_rfc3339(text, &again) == 0 && again == t,
                 "format(parse(t)) parses to t", s);
    }
    (void)dblab_parse_time(s, &t);
}

static const char *lookup(const char *name, void *ctx)
{
    (void)ctx;
    static const char *const vars[][2] = {
        {"A", "x"}, {"HOME", "/h"}, {"1", "one"}, {"EMPTY", ""}, {"DOLLAR", "$A"},
    };
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        if (strcmp(name, vars[i][0]) == 0)
            return vars[i][1];
    return NULL;
}

static void expansion(const char *s)
{
    char *out, *why;
    int refs = 0;
    int rc = env_expand_with(s, lookup, NULL, &out, &why, &refs);
    property(rc == 0 ? out != NULL && why == NULL : out == NULL && why != NULL,
             "a result or a reason, never both", s);
    free(out);
    free(why);

    struct buf esc = BUF_INIT; /* every '$' doubled: a literal */
    for (const char *p = s; *p != '\0'; p++) {
        if (*p == '$')
            buf_putc(&esc, '$');
        buf_putc(&esc, *p);
    }
    rc = env_expand_with(buf_cstr(&esc), lookup, NULL, &out, &why, &refs);
    property(rc == 0 && refs == 0 && strcmp(out, s) == 0, "expand(escape(s)) == s", s);
    free(out);
    buf_release(&esc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    char *s = fuzz_cstr(data + 1, size - 1);
    switch (data[0] % 3) {
    case 0:
        durations(s, data + 1, size - 1);
        break;
    case 1:
        times(s);
        break;
    default:
        expansion(s);
        break;
    }
    free(s);
    return 0;
}
