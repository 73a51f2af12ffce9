/* Time, injectable for tests. All times are UTC seconds since the epoch. */
#ifndef DRR_CLOCK_H
#define DRR_CLOCK_H

#include <stdint.h>
#include <time.h>
#include <stddef.h>

typedef int64_t (*clock_now_fn)(void *ctx);

/* Current time from the injected clock (default: real time). */
int64_t clock_now(void);
/* Monotonic seconds (real, never injected) as a double, for durations. */
double clock_monotonic(void);
/* Test hook: replace the wall clock. fn NULL restores the real clock. */
void clock_set(clock_now_fn fn, void *ctx);

/* RFC 3339 / ISO 8601 UTC formatting "2026-11-26T02:00:00Z" into out (>= 21 bytes). */
void clock_format_rfc3339(int64_t t, char *out, size_t outlen);
/* "20261126T020000Z" (SigV4 X-Amz-Date) into out (>= 17 bytes). */
void clock_format_amz(int64_t t, char *out, size_t outlen);
/* Parses RFC 3339 as AWS and DBLab send it ("2026-11-26T02:00:00Z",
 * "2026-11-26T02:00:00.123Z", "+00:00" offsets). 0 ok, -1 invalid. */
int clock_parse_rfc3339(const char *s, int64_t *out);

#endif
