/* Error reporting, the way curl keeps CURLcode inside and picks exit codes in
 * the tool: a function that can fail returns 0 (ERR_OK) or the nonzero kind of
 * the failure and fills a struct err with ONE line naming the file, key or
 * field at fault. The kind says what happened (not found, transient, rejected,
 * interrupted, ...), never which exit code the process will end with: that is
 * chosen once, at the command's edge (app_finish), by err_exit_code() in
 * core/exitcodes.c, the one table kind -> exit code (docs/exit-codes.md).
 *
 * Rules: err_set returns the kind it stored, so `return err_set(e, ERR_X, ...)`
 * is the one way to fail; a signal is err_interrupted (the signal number goes in
 * e->signo, the exit code 128+N is the edge's arithmetic); a yes/no answer goes
 * through an out-parameter, never through the return value. Messages never
 * contain secrets (see log.h). */
#ifndef DRR_ERR_H
#define DRR_ERR_H

#include <stddef.h>

enum err_kind {
    ERR_OK = 0,
    ERR_USAGE,              /* bad command line */
    ERR_INPUT,              /* the input run document is invalid */
    ERR_INTERNAL,           /* a bug, out of memory, a local I/O failure */
    ERR_TRANSIENT,          /* throttling, 5xx, network: worth retrying later */
    ERR_CONFIG,             /* the configuration (file, key, environment) is wrong */
    ERR_TLS,                /* TLS verification failed: retrying will not help */
    ERR_AWS_REJECTED,       /* AWS refused the request (4xx) */
    ERR_AWS_UNAUTHORIZED,   /* AccessDenied, or no usable credentials */
    ERR_AWS_BAD_ANSWER,     /* AWS answered 2xx with something that is not the answer */
    ERR_DBLAB_REJECTED,     /* the DBLab Engine refused the request */
    ERR_DBLAB_UNAUTHORIZED, /* the DBLab Engine refused the token */
    ERR_DBLAB_BAD_ANSWER,   /* the DBLab Engine answered with something unexpected */
    ERR_TIMEOUT,            /* a wait ran past its timeout */
    ERR_GUARD,              /* refused by a safety guard; nothing was changed */
    ERR_BUSY,               /* another run owns the engine or the lock */
    ERR_STALE,              /* the newest snapshot is older than allowed */
    ERR_NOT_FOUND,          /* no usable snapshot, or a named resource is missing */
    ERR_CLONE_FAILED,       /* the clone reached a terminal failure state */
    ERR_REFRESH_FAILED,     /* the DBLab refresh ran and failed */
    ERR_NOTHING_TO_DO,      /* nothing to do (a skip, not a failure, for Airflow) */
    ERR_INTERRUPTED,        /* a signal (e->signo) cut the work short */
    ERR_KIND_COUNT          /* not a kind: the number of values above */
};

struct err {
    enum err_kind kind; /* ERR_OK = no error */
    int signo;          /* the signal for ERR_INTERRUPTED, else 0 */
    char msg[1024];     /* one line, no trailing newline */
};

/* Sets e (if non-NULL) and returns kind. printf-style. Passing on a callee's
 * ERR_INTERRUPTED in new words (err_set(e, rc, ...) on the same e) keeps
 * e->signo. */
int err_set(struct err *e, enum err_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* ERR_INTERRUPTED by signal signo: sets e (if non-NULL), returns ERR_INTERRUPTED. */
int err_interrupted(struct err *e, int signo, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prefixes an existing message: "context: previous message". Returns e->kind. */
int err_prefix(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A caller that knows what a failure MEANS says so, keeping the message: the
 * AWS layer reports DBInstanceNotFound as AWS's refusal, the describe-by-id
 * above it knows that refusal is "not found". Returns kind. */
int err_reclassify(struct err *e, enum err_kind kind);
void err_clear(struct err *e);
/* The kind's stable short name ("not-found", "aws-rejected", ...), for tests and logs. */
const char *err_kind_name(int kind);
/* A short, printable, one-line excerpt of an answer that is not what was asked
 * for (a proxy's HTML page, a cut body), for a message: whitespace runs become
 * one space, other unprintable bytes '?', "..." marks a cut. Reads at most len
 * bytes (text need not be NUL-terminated); out is always terminated. */
void err_excerpt(const char *text, size_t len, char *out, size_t outlen);

#endif
