#include "core/signals.h"

#include <signal.h>
#include <stdint.h>
#include <string.h>

#include "core/clock.h"

static volatile sig_atomic_t pending_signal;
static volatile sig_atomic_t signal_count;

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
    return pending_signal;
}

static int pending_fn(void *ud)
{
    (void)ud;
    return pending_signal;
}

struct cancel signals_cancel(void)
{
    return (struct cancel){pending_fn, NULL, 0};
}

/* ud carries the count of signals already seen when the clean-up began. */
static int further_fn(void *ud)
{
    return signal_count != (sig_atomic_t)(intptr_t)ud ? pending_signal : 0;
}

struct cancel signals_cancel_further(double seconds)
{
    return (struct cancel){further_fn, (void *)(intptr_t)signal_count, clock_monotonic() + seconds};
}

int signals_sleep(double seconds)
{
    struct cancel c = signals_cancel();
    return cancel_sleep(&c, seconds);
}
