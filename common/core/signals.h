/* SIGINT/SIGTERM/SIGHUP handling shared by every command. The handler only
 * records the signal; long waits check signals_pending() and end cleanly (no
 * half-done action), and the command exits 128+signal. */
#ifndef DRR_SIGNALS_H
#define DRR_SIGNALS_H

void signals_install(void);
/* The first signal received, 0 if none (or while deferred, below). Checked by
 * every wait and request (http.c aborts a transfer when it is set). */
int signals_pending(void);
/* A bounded clean-up after a signal (create's roll-back): for the next seconds
 * signals_pending() reports nothing, so the clean-up's requests run; a further
 * signal, or the end of that time, cancels them again. signals_resume() ends it. */
void signals_defer(double seconds);
void signals_resume(void);
/* Sleeps up to seconds (fractional), returning early (non-zero) when a signal arrives. */
int signals_sleep(double seconds);

#endif
