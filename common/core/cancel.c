/* Cancellation by predicate and deadline. See cancel.h. */
#include "core/cancel.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <time.h>

#include "core/clock.h"

int cancel_check(const struct cancel *c)
{
    if (!c)
        return 0;
    int sig = c->fn ? c->fn(c->ud) : 0;
    if (sig)
        return sig;
    if (c->deadline > 0 && clock_monotonic() >= c->deadline)
        return CANCEL_DEADLINE;
    return 0;
}

double cancel_remaining(const struct cancel *c)
{
    if (!c || c->deadline <= 0)
        return -1;
    double left = c->deadline - clock_monotonic();
    return left > 0 ? left : 0;
}

int cancel_sleep(const struct cancel *c, double seconds)
{
    int why = cancel_check(c);
    if (why || seconds <= 0)
        return why;
    double left = cancel_remaining(c);
    if (left >= 0 && left < seconds)
        seconds = left; /* then cancel_check below says CANCEL_DEADLINE */
    struct timespec req;
    req.tv_sec = (time_t)floor(seconds);
    req.tv_nsec = (long)((seconds - floor(seconds)) * 1e9);
    struct timespec rem;
    /* No SA_RESTART (signals.c): a signal ends nanosleep with EINTR, and the
     * predicate says whether it concerns this context. */
    while (nanosleep(&req, &rem) == -1 && errno == EINTR) {
        if ((why = cancel_check(c)) != 0)
            return why;
        req = rem;
    }
    return cancel_check(c);
}

void cancel_reason(int why, char *buf, size_t n)
{
    if (why == CANCEL_DEADLINE)
        snprintf(buf, n, "the time budget ran out");
    else
        snprintf(buf, n, "interrupted by signal %d", why);
}

int cancel_err(struct err *e, int why, const char *what, const char *when)
{
    char reason[64];
    cancel_reason(why, reason, sizeof reason);
    if (why == CANCEL_DEADLINE)
        return err_set(e, ERR_TIMEOUT, "%s: %s %s", what, reason, when);
    return err_interrupted(e, why, "%s: %s %s", what, reason, when);
}
