/* The progress of a long wait (waitline.h). */
#include "app/waitline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/signals.h"
#include "rds/clone_poll.h"

#define LOG_EVERY 60.0 /* seconds between plain progress lines */

void waitline_init(struct waitline *w, const char *step, int64_t expect_seconds)
{
    memset(w, 0, sizeof *w);
    w->step = step;
    w->start = clock_monotonic();
    w->expect = expect_seconds > 0 ? expect_seconds : 0;
    const char *term = getenv("TERM");
    w->tty = isatty(STDERR_FILENO) && log_current_format() == LOG_FORMAT_TEXT &&
             !(term && strcmp(term, "dumb") == 0) && log_enabled(LOG_LEVEL_INFO);
    w->next_log = w->start + LOG_EVERY * poll_scale();
    snprintf(w->status, sizeof w->status, "starting");
    if (w->expect > 0 && !w->tty) {
        /* a log has no live line: say once what the later progress lines measure against */
        char ex[32];
        duration_format(w->expect, ex, sizeof ex);
        log_info("%s: expected to take ~%s (the last run's)", step, ex);
    }
}

void waitline_status(struct waitline *w, const char *status)
{
    if (status && *status)
        snprintf(w->status, sizeof w->status, "%s", status);
}

void waitline_format(const struct waitline *w, double now, char *out, size_t outlen)
{
    char el[32], ex[32];
    /* whole seconds; the epsilon keeps start + 1500 - start (1499.9999...) at 1500 */
    int64_t elapsed = (int64_t)(now - w->start + 1e-6);
    duration_format(elapsed, el, sizeof el);
    if (w->expect > 0) {
        duration_format(w->expect, ex, sizeof ex);
        snprintf(out, outlen, "%s: %s, %s elapsed (expected ~%s%s)", w->step, w->status, el, ex,
                 elapsed > w->expect ? ", taking longer" : "");
    } else {
        snprintf(out, outlen, "%s: %s, %s elapsed", w->step, w->status, el);
    }
}

static void draw(const struct waitline *w)
{
    char line[256];
    waitline_format(w, clock_monotonic(), line, sizeof line);
    /* \r + erase line: the same line, rewritten */
    fprintf(stderr, "\r\033[K%s", line);
    fflush(stderr);
}

int waitline_sleep(struct waitline *w, double seconds)
{
    if (!w->tty) {
        double now = clock_monotonic();
        if (now >= w->next_log) {
            char line[256];
            waitline_format(w, now, line, sizeof line);
            log_info("%s", line);
            while (w->next_log <= now)
                w->next_log += LOG_EVERY * poll_scale();
        }
        return signals_sleep(seconds);
    }
    double end = clock_monotonic() + seconds;
    int sig = 0;
    for (;;) {
        draw(w);
        double left = end - clock_monotonic();
        if (left <= 0)
            break;
        if ((sig = signals_sleep(left < 1.0 ? left : 1.0)) != 0)
            break;
    }
    fputs("\r\033[K", stderr);
    fflush(stderr);
    return sig;
}
