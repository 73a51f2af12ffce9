/* Runs one pipeline command as a child process for the Lambda runtime: the run
 * document on its stdin, its stdout (the next document) captured, its stderr passed
 * through line by line (to CloudWatch) with the last ERROR line kept, and a deadline:
 * SIGTERM at term_at (the commands stop cleanly on it: rds-clone-create rolls back,
 * a wait returns 143), SIGKILL at kill_at.
 *
 * Why a child process and not an in-process call: each command is a main() with
 * process-wide state (signal handlers, the redaction list, libcurl's global init,
 * exit paths), so a child gives the command exactly the life it has on a shell
 * pipeline, keeps a crash in one step from taking the runtime down, and lets the
 * runtime stop a step before Lambda's deadline with the signal every command
 * already handles. */
#ifndef DRR_STEP_EXEC_H
#define DRR_STEP_EXEC_H

#include <stdint.h>
#include "core/buf.h"
#include "core/err.h"

struct step_exec {
    const char *const *argv; /* argv[0]: a path, or a name looked up in $PATH */
    const char *input;       /* written to stdin; NULL = /dev/null */
    double term_at;          /* clock_monotonic() times; <= 0 = none */
    double kill_at;
};

struct step_result {
    int exit_code;        /* the child's, or 128+N when a signal ended it */
    int signaled;         /* 1 when a signal ended it (exit_code is 128+N then) */
    int stopped;          /* 1 when this runner sent SIGTERM/SIGKILL (the deadline) */
    int output_too_big;   /* stdout passed STEP_MAX_OUTPUT: killed */
    struct buf out;       /* stdout */
    char last_error[512]; /* the last ERROR log line's message, "" if none */
};

#define STEP_MAX_OUTPUT (1024 * 1024)

/* 0 when the child ran (whatever its exit code), else ERR_INTERNAL (could
 * not start it: e names the program). r must be freed with step_result_release. */
int step_exec_run(const struct step_exec *x, struct step_result *r, struct err *e);
void step_result_release(struct step_result *r);

#endif
