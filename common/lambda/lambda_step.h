/* One pipeline step per Lambda invocation (the Step Functions state machine of
 * deploy/sam calls the runtime once per step). The event:
 *
 *   {"step": "snapshot", "input": {"dryRun": false}, "runId": "<execution name>"}
 *   {"step": "check-engine" | "create" | "clone-wait" | "refresh-start" |
 *            "refresh-status" | "delete", "document": <run document>}
 *
 * The step runs its command (step_exec.h) and answers the next run document. A
 * "not yet" of the single-check steps (clone-wait = rds-clone-wait -once,
 * refresh-status = dblab-refresh -status: exit 75 WITH a document) is an answer
 * too: the state machine's Choice reads wait.status / refresh.status. Any other
 * failure is the invocation's error: errorType "drr.<exit name>" (docs/
 * exit-codes.md: "drr.clone-failed", "drr.tempfail", ...; "drr.deadline" when the
 * step was stopped before Lambda's deadline) and errorMessage the command's one-line
 * error. */
#ifndef DRR_LAMBDA_STEP_H
#define DRR_LAMBDA_STEP_H

#include <cjson/cJSON.h>
#include "core/err.h"

struct lambda_step_ctx {
    const char *bin_dir;     /* where the commands are; NULL: in $PATH */
    double term_at, kill_at; /* clock_monotonic() times the step must be stopped by */
    const char *request_id;  /* the invocation's (names the entry's execution) */
};

struct lambda_step_outcome {
    cJSON *document;     /* the answer (owned), or NULL on error */
    char error_type[64]; /* "drr.<name>" */
    char error_message[1024];
};

/* Runs the step an event names. Returns 0 (outcome filled: a document or an error
 * the step reported) or an error kind when the event is not one (outcome's error
 * filled as "drr.input" too). */
int lambda_step_run(const struct lambda_step_ctx *ctx, const cJSON *event,
                    struct lambda_step_outcome *out);
void lambda_step_outcome_release(struct lambda_step_outcome *out);

/* 1 if dir holds every command a step runs, executable. */
int lambda_step_commands_in(const char *dir);

/* The step names, NULL-terminated (for messages and tests). */
extern const char *const lambda_step_names[];

#endif
