#include "lambda/lambda_step.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/rundoc.h"
#include "core/buf.h"
#include "core/exitcodes.h"
#include "core/log.h"
#include "lambda/step_exec.h"

struct step_def {
    const char *name;
    const char *command;
    const char *flag; /* extra flag, or NULL */
    int not_yet_ok;   /* exit 75 with a document is "not yet", an answer */
};

static const struct step_def steps[] = {
    {"snapshot", "rds-snapshot-latest", NULL, 0},
    {"check-engine", "dblab-refresh", "-dry-run", 0},
    {"create", "rds-clone-create", NULL, 0},
    {"clone-wait", "rds-clone-wait", "-once", 1},
    {"refresh-start", "dblab-refresh", "-start", 0},
    {"refresh-status", "dblab-refresh", "-status", 1},
    {"delete", "rds-clone-delete", NULL, 0},
};
#define N_STEPS (sizeof steps / sizeof steps[0])

const char *const lambda_step_names[] = {"snapshot",      "check-engine",   "create", "clone-wait",
                                         "refresh-start", "refresh-status", "delete", NULL};

int lambda_step_commands_in(const char *dir)
{
    for (size_t i = 0; i < N_STEPS; i++) {
        char *path = xasprintf("%s/%s", dir, steps[i].command);
        int ok = access(path, X_OK) == 0;
        free(path);
        if (!ok)
            return 0;
    }
    return 1;
}

void lambda_step_outcome_release(struct lambda_step_outcome *out)
{
    cJSON_Delete(out->document);
    memset(out, 0, sizeof *out);
}

/* The invocation's error, named after the exit code the failure maps to
 * ("drr.input", "drr.clone-failed"): a step's own failure is a kind, a step
 * command's failure is the exit code it ended with (exit_code >= 0). */
static void name_error(struct lambda_step_outcome *out, int exit_code, const char *fmt, va_list ap)
{
    vsnprintf(out->error_message, sizeof out->error_message, fmt, ap);
    snprintf(out->error_type, sizeof out->error_type, "drr.%s", drr_exit_name(exit_code));
}

static int fail(struct lambda_step_outcome *out, int kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct lambda_step_outcome *out, int kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    name_error(out, err_exit_code(kind, 0), fmt, ap);
    va_end(ap);
    return kind;
}

static void command_failed(struct lambda_step_outcome *out, int exit_code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void command_failed(struct lambda_step_outcome *out, int exit_code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    name_error(out, exit_code, fmt, ap);
    va_end(ap);
}

/* The document a step reads: the event's "document", or for the first step none. */
static int step_input(const struct step_def *s, const cJSON *event, char **text,
                      struct lambda_step_outcome *out)
{
    *text = NULL;
    const cJSON *doc = cJSON_GetObjectItemCaseSensitive(event, "document");
    if (strcmp(s->name, "snapshot") == 0)
        return 0;
    if (!cJSON_IsObject(doc))
        return fail(out, ERR_INPUT, "step %s: the event has no \"document\" object", s->name);
    *text = cJSON_PrintUnformatted(doc);
    return 0;
}

/* What the step's command prints must be a run document; a "not yet" too. */
static int parse_output(const struct step_def *s, const struct step_result *r,
                        struct lambda_step_outcome *out)
{
    struct err pe = {0};
    cJSON *doc = NULL;
    if (rundoc_parse(buf_cstr(&r->out), s->command, NULL, &doc, &pe) != 0)
        return fail(out, ERR_INTERNAL,
                    "step %s: %s exited %d but its output is not a run "
                    "document: %s",
                    s->name, s->command, r->exit_code, pe.msg);
    out->document = doc;
    return 0;
}

int lambda_step_run(const struct lambda_step_ctx *ctx, const cJSON *event,
                    struct lambda_step_outcome *out)
{
    memset(out, 0, sizeof *out);
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(event, "step");
    if (!cJSON_IsObject(event) || !cJSON_IsString(name))
        return fail(out, ERR_INPUT,
                    "the event has no \"step\" (one of snapshot, "
                    "check-engine, create, clone-wait, refresh-start, refresh-status, delete)");
    const struct step_def *s = NULL;
    for (size_t i = 0; i < N_STEPS && !s; i++)
        if (strcmp(steps[i].name, name->valuestring) == 0)
            s = &steps[i];
    if (!s)
        return fail(out, ERR_INPUT, "step: unknown step \"%.64s\"", name->valuestring);

    char *input = NULL;
    int rc = step_input(s, event, &input, out);
    if (rc)
        return rc;
    /* no bin_dir: the command is looked up in $PATH (step_exec uses posix_spawnp) */
    char *path =
        ctx->bin_dir ? xasprintf("%s/%s", ctx->bin_dir, s->command) : xasprintf("%s", s->command);
    const char *argv[6] = {path, NULL, NULL, NULL, NULL, NULL};
    int argc = 1;
    char *run_id_arg = NULL;
    if (s->flag)
        argv[argc++] = s->flag;
    if (strcmp(s->name, "snapshot") == 0) {
        const cJSON *in = cJSON_GetObjectItemCaseSensitive(event, "input");
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(in, "dryRun")))
            argv[argc++] = "-dry-run";
        /* The execution is the run: its name names the clone (from pipeline and
         * runId), so a crashed create's clone is found again by run id. */
        const cJSON *rid = cJSON_GetObjectItemCaseSensitive(event, "runId");
        if (cJSON_IsString(rid) && rid->valuestring[0]) {
            argv[argc++] = "-run-id";
            argv[argc++] = rid->valuestring;
        }
    } else if (strcmp(s->name, "delete") == 0) {
        /* No clone section: the create may still have made one before it died (a
         * crash, the deadline): delete this run's clone, found by its run id and
         * proven ours by its tags. */
        const cJSON *doc = cJSON_GetObjectItemCaseSensitive(event, "document");
        const cJSON *rid = cJSON_GetObjectItemCaseSensitive(doc, "runId");
        if (!rundoc_section(doc, "clone")) {
            if (!cJSON_IsString(rid) || !rid->valuestring[0]) {
                free(path);
                cJSON_free(input);
                return fail(out, ERR_INPUT,
                            "step delete: the document has neither a "
                            "clone section nor a runId: nothing names the clone");
            }
            run_id_arg = xstrdup(rid->valuestring);
            argv[argc++] = "-run-id";
            argv[argc++] = run_id_arg;
            cJSON_free(input);
            input = NULL;
        }
    }
    struct step_exec x = {argv, input, ctx->term_at, ctx->kill_at};
    struct step_result r;
    struct err e = {0};
    log_info("step %s: %s%s%s", s->name, s->command, s->flag ? " " : "", s->flag ? s->flag : "");
    rc = step_exec_run(&x, &r, &e);
    free(path);
    free(run_id_arg);
    cJSON_free(input);
    if (rc)
        return fail(out, rc, "step %s: %s", s->name, e.msg);

    if (r.exit_code == 0 || (s->not_yet_ok && r.exit_code == DRR_EXIT_TEMPFAIL && r.out.len)) {
        rc = parse_output(s, &r, out);
    } else if (r.output_too_big) {
        rc = fail(out, ERR_INTERNAL, "step %s: %s wrote more than %d bytes", s->name, s->command,
                  STEP_MAX_OUTPUT);
    } else {
        command_failed(out,
                       r.exit_code >= DRR_EXIT_SIGNAL_BASE ? DRR_EXIT_SIGNAL_BASE : r.exit_code,
                       "%s", r.last_error[0] ? r.last_error : "");
        if (!r.last_error[0])
            snprintf(out->error_message, sizeof out->error_message, "step %s: %s exited %d",
                     s->name, s->command, r.exit_code);
        if (r.stopped) {
            snprintf(out->error_type, sizeof out->error_type, "drr.deadline");
            char tail[512];
            memcpy(tail, out->error_message, sizeof tail - 1);
            tail[sizeof tail - 1] = '\0';
            snprintf(out->error_message, sizeof out->error_message,
                     "step %s: stopped before the Lambda deadline (exit %d): %s", s->name,
                     r.exit_code, tail);
        } else if (r.signaled) {
            /* Killed by a signal it did not handle (SIGSEGV, SIGABRT, the OOM killer). */
            snprintf(out->error_type, sizeof out->error_type, "drr.crash");
            if (!r.last_error[0])
                snprintf(out->error_message, sizeof out->error_message,
                         "step %s: %s was killed by signal %d", s->name, s->command,
                         r.exit_code - DRR_EXIT_SIGNAL_BASE);
        } else if (r.exit_code > DRR_EXIT_SIGNAL_BASE) {
            snprintf(out->error_type, sizeof out->error_type, "drr.signal");
        }
        rc = 0; /* the step ran and failed: its error is the answer */
    }
    step_result_release(&r);
    return rc;
}
