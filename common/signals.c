#include "signals.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <time.h>

static volatile sig_atomic_t pending_signal;

static void on_signal(int sig)
{
    if (!pending_signal)
        pending_signal = sig;
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
    return pending_signal;
}

int signals_sleep(double seconds)
{
    if (pending_signal)
        return pending_signal;
    if (seconds <= 0)
        return 0;
    struct timespec req;
    req.tv_sec = (time_t)floor(seconds);
    req.tv_nsec = (long)((seconds - floor(seconds)) * 1e9);
    struct timespec rem;
    while (nanosleep(&req, &rem) == -1 && errno == EINTR) {
        if (pending_signal)
            return pending_signal;
        req = rem;
    }
    return pending_signal;
}
