/* Error reporting: functions that can fail return 0 or a drr_exit code and fill a
 * struct err with ONE line naming the file, key or field at fault. The caller logs
 * e.msg and exits with e.code. Messages never contain secrets (see log.h). */
#ifndef DRR_ERR_H
#define DRR_ERR_H

#include <stddef.h>

struct err {
    int code;       /* drr_exit code; 0 = no error */
    char msg[1024]; /* one line, no trailing newline */
};

/* Sets e (if non-NULL) and returns code. printf-style. */
int err_set(struct err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Prefixes an existing message: "context: previous message". Returns e->code. */
int err_prefix(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void err_clear(struct err *e);

#endif
