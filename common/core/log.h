/* Logging to stderr, text or JSON lines, with UTC timestamps.
 *
 * Redaction is one layer here: every message passes through redact_apply()
 * before it is written, so a secret registered with redact_add_secret() (tokens,
 * passwords, AWS secret keys, session tokens) and anything that looks like an
 * Authorization / Verification-Token / X-Amz-Security-Token header value never
 * reaches a log line, whatever the caller formatted. */
#ifndef DRR_LOG_H
#define DRR_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum log_level {
    LOG_LEVEL_DEBUG = 0,
    LOG_LEVEL_INFO,
    LOG_LEVEL_WARN,
    LOG_LEVEL_ERROR,
    LOG_LEVEL_OFF
};
enum log_format { LOG_FORMAT_TEXT = 0, LOG_FORMAT_JSON };

/* component: the command name, printed on each line. */
void log_init(const char *component, enum log_format fmt, enum log_level min_level);
int log_parse_format(const char *s, enum log_format *out); /* 0 ok, -1 unknown */
enum log_format log_current_format(void);

void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level lvl, const char *fmt, va_list ap);
int log_enabled(enum log_level lvl);

/* Redaction. Secrets shorter than 4 bytes are ignored (they would redact noise). */
void redact_add_secret(const char *secret);
void redact_clear(void);
/* Returns a malloc'd copy of s with every registered secret and every sensitive
 * header/field value replaced by "[REDACTED]". */
char *redact_apply(const char *s);
/* s with control characters shown instead of obeyed: C0 and DEL as \xNN, UTF-8
 * C1 controls as \u00NN, a tab as a space (malloc'd). Text log lines pass
 * through it so a remote message cannot drive the terminal (ESC[2J). */
char *log_escape_controls(const char *s);

/* For tests: send log output somewhere else (NULL = stderr). */
void log_set_stream(void *stdio_file);

#endif
