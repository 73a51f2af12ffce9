/* SIGINT/SIGTERM/SIGHUP handling shared by every command. The handler only
 * records the signal; long waits check signals_pending() and end cleanly (no
 * half-done action), and the command exits 128+signal. */
#ifndef DRR_SIGNALS_H
#define DRR_SIGNALS_H

void signals_install(void);
/* The first signal received, 0 if none. */
int signals_pending(void);
/* Sleeps up to seconds (fractional), returning early (non-zero) when a signal arrives. */
int signals_sleep(double seconds);

#endif
