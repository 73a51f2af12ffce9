/* Durations as the Go original writes them (time.ParseDuration, ported in
 * duration.c) plus this project's unit "d". In core/ because every folder reads
 * durations: the configuration's keys and the commands' flags alike. */
#ifndef DRR_DURATION_H
#define DRR_DURATION_H

#include <stddef.h>
#include <stdint.h>

/* Go's time.ParseDuration, ported exactly (duration.c): "500ms", "1h30m", "-1.5h",
 * "0" -> nanoseconds. 0 ok, -1 invalid (syntax, unknown unit, overflow). */
int duration_parse_go(const char *s, int64_t *ns);
/* The same plus this project's unit "d" (24h). */
int duration_parse_ns(const char *s, int64_t *ns);
/* Nanoseconds -> whole seconds, rounded up; <= 0 -> 0. */
int64_t duration_ns_to_seconds(int64_t ns);
/* A key's or flag's duration: Go syntax plus "d", positive, rounded up to whole
 * seconds, at most 100 years ("500ms" -> 1, "1h30m" -> 5400, "7d"). 0 ok, -1 invalid. */
int duration_parse(const char *s, int64_t *out);
/* 5400 -> "1h30m" into out. */
void duration_format(int64_t seconds, char *out, size_t outlen);

#endif
