/* What a long wait shows (rds-clone-wait, dblab-refresh): the step, the time
 * elapsed, the last status and the expected duration (-expect, which the driver
 * takes from the previous run).
 *
 *   on a terminal (stderr a tty, text logs, TERM not "dumb"): one line rewritten
 *     in place every second while sleeping, erased before anything else is
 *     logged:  "clone-wait: creating, 3m12s elapsed (expected ~20m)"
 *   otherwise: the same as a plain log line once a minute (scaled like the
 *     polling, DBLAB_RDS_REFRESH_POLL_SCALE), so a log file shows progress
 *     between the step's own lines. */
#ifndef DRR_WAITLINE_H
#define DRR_WAITLINE_H

#include <stddef.h>
#include <stdint.h>

struct waitline {
    const char *step;
    double start;    /* clock_monotonic() at the start of the wait */
    int64_t expect;  /* seconds; 0 = unknown */
    double next_log; /* non-terminal: when the next log line is due */
    int tty;
    char status[64];
};

void waitline_init(struct waitline *w, const char *step, int64_t expect_seconds);
/* The last status seen ("creating", "refreshing", ...). */
void waitline_status(struct waitline *w, const char *status);
/* signals_sleep(seconds) that shows the progress meanwhile; returns like it
 * (non-zero when a signal arrived). The terminal line is erased on return. */
int waitline_sleep(struct waitline *w, double seconds);
/* The text shown, for tests: "step: status, 3m12s elapsed (expected ~20m)". */
void waitline_format(const struct waitline *w, double now, char *out, size_t outlen);

#endif
