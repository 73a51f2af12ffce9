/* Cancellation of a context's requests and waits, owned by whoever owns the
 * context: a predicate (a command installs "a signal is pending", signals.h)
 * and an optional deadline. The request engine -- http.c's transfers, the
 * backoffs of core/retry.h, the AWS transport -- asks cancel_check and never
 * reads global signal state itself, so one context can run on while another is
 * cancelled (create's roll-back after a signal: its own budget, deaf to the
 * signal that started it, stopped by a further one). */
#ifndef DRR_CANCEL_H
#define DRR_CANCEL_H

#include "core/err.h"

struct cancel {
    int (*fn)(void *ud); /* > 0 (a signal number): stop; 0: go on. NULL: never */
    void *ud;
    double deadline; /* clock_monotonic() time after which everything stops; 0 = none */
};

/* cancel_check's answer once the deadline has passed. */
#define CANCEL_DEADLINE (-1)

/* 0 to go on, fn's signal number, or CANCEL_DEADLINE. c may be NULL (never). */
int cancel_check(const struct cancel *c);
/* Seconds before the deadline (>= 0), or -1 when there is none. */
double cancel_remaining(const struct cancel *c);
/* Sleeps up to seconds (fractional), ending early when a signal arrives and c
 * says stop, or at the deadline. Returns cancel_check's answer then (0 when the
 * whole time passed). */
int cancel_sleep(const struct cancel *c, double seconds);
/* "interrupted by signal N" or "the time budget ran out" into buf. */
void cancel_reason(int why, char *buf, size_t n);
/* The error for a non-zero cancel_check answer: "<what>: interrupted by signal N
 * <when>" (ERR_INTERRUPTED, e->signo = N), or "<what>: the time budget ran out
 * <when>" (ERR_TIMEOUT). Returns the kind. */
int cancel_err(struct err *e, int why, const char *what, const char *when);

#endif
