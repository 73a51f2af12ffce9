#include "core/signals.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"

static volatile sig_atomic_t pending_signal;
static volatile sig_atomic_t signal_count;
static double defer_until; /* clock_monotonic() deadline; 0: not deferring */
static sig_atomic_t defer_count;

static void on_signal(int sig)
{
    if (!pending_signal)
        pending_signal = sig;
    signal_count++;
}

void signals_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    /* No SA_RESTART: a blocking call (nanosleep, poll inside libcurl) returns
     * EINTR so the caller notices the signal promptly. */
    sa.sa_flags = 0;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    /* A closed stdout pipe must be an error return from write, not a silent death. */
    signal(SIGPIPE, SIG_IGN);
}

int signals_pending(void)
{
    if (pending_signal && defer_until > 0 && signal_count == defer_count &&
        clock_monotonic() < defer_until)
        return 0;
    return pending_signal;
}

void signals_defer(double seconds)
{
    defer_count = signal_count;
    defer_until = clock_monotonic() + seconds;
}

void signals_resume(void)
{
    defer_until = 0;
}

int signals_sleep(double seconds)
{
    if (signals_pending())
        return signals_pending();
    if (seconds <= 0)
        return 0;
    struct timespec req;
    req.tv_sec = (time_t)floor(seconds);
    req.tv_nsec = (long)((seconds - floor(seconds)) * 1e9);
    struct timespec rem;
    while (nanosleep(&req, &rem) == -1 && errno == EINTR) {
        if (signals_pending())
            return signals_pending();
        req = rem;
    }
    return signals_pending();
}
