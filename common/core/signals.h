/* SIGINT/SIGTERM/SIGHUP handling shared by every command. The handler only
 * records the signal; a command installs "a signal is pending" as the
 * cancellation of its contexts (core/cancel.h), so their requests and backoffs
 * end cleanly (no half-done action), and its own waits use signals_sleep; the
 * command exits 128+signal. Nothing in the request engine reads this state. */
#ifndef DRR_SIGNALS_H
#define DRR_SIGNALS_H

#include "core/cancel.h"

void signals_install(void);
/* The first signal received, 0 if none. */
int signals_pending(void);
/* Sleeps up to seconds (fractional), returning early (non-zero) when a signal arrives. */
int signals_sleep(double seconds);

/* The cancellation a command installs on its contexts: any pending signal. */
struct cancel signals_cancel(void);
/* A clean-up's cancellation (create's roll-back after a signal): deaf to the
 * signals received so far, stopped by a further one or after `seconds`. */
struct cancel signals_cancel_further(double seconds);

#endif
