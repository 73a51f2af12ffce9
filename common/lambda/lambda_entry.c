#include "lambda/lambda_entry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws_client.h"
#include "aws/sfn.h"
#include "config/config.h"
#include "core/exitcodes.h"
#include "core/log.h"
#include "core/signals.h"

/* Runs the named step on doc (NULL for the first one): *answered = 1 and *doc
 * the step's answer, or *answered = 0 with out holding the step's error. Returns
 * 0, or the kind of an event the step refused (out says so too). */
static int chain(const struct lambda_step_ctx *ctx, const char *step, cJSON **doc, cJSON *input,
                 int *answered, struct lambda_step_outcome *out)
{
    cJSON *ev = cJSON_CreateObject();
    cJSON_AddStringToObject(ev, "step", step);
    if (*doc)
        cJSON_AddItemReferenceToObject(ev, "document", *doc);
    if (input)
        cJSON_AddItemReferenceToObject(ev, "input", input);
    lambda_step_outcome_release(out);
    int rc = lambda_step_run(ctx, ev, out);
    cJSON_Delete(ev);
    *answered = out->document != NULL;
    if (*answered) {
        cJSON_Delete(*doc);
        *doc = out->document;
        out->document = NULL;
    }
    return rc;
}

/* The read-only steps in a row. 0 with out's document, or 0 with out holding the
 * error of the step that failed (the invocation's answer, as for one step). */
static int dry_run(const struct lambda_step_ctx *ctx, struct lambda_step_outcome *out)
{
    cJSON *input = cJSON_CreateObject();
    cJSON_AddTrueToObject(input, "dryRun");
    cJSON *doc = NULL;
    int answered = 0;
    int rc = chain(ctx, "snapshot", &doc, input, &answered, out);
    if (rc == 0 && answered) {
        /* check-engine answers the document with its dry-run marks only: keep ours */
        cJSON *keep = cJSON_Duplicate(doc, 1);
        rc = chain(ctx, "check-engine", &keep, NULL, &answered, out);
        cJSON_Delete(keep);
    }
    if (rc == 0 && answered)
        rc = chain(ctx, "create", &doc, NULL, &answered, out);
    cJSON_Delete(input);
    if (rc == 0 && answered) {
        out->document = doc;
        return 0;
    }
    cJSON_Delete(doc);
    return rc;
}

static int entry_fail(struct lambda_step_outcome *out, const struct err *e)
{
    snprintf(out->error_type, sizeof out->error_type, "drr.%s",
             drr_exit_name(err_exit_code(e->kind, e->signo)));
    snprintf(out->error_message, sizeof out->error_message, "%s", e->msg);
    return e->kind;
}

/* A real run outlives any Lambda: it is an execution of the state machine, named
 * after this invocation (so a retried invocation starts no second one) and so the
 * run id of its clone. */
static int start_execution(const struct lambda_step_ctx *ctx, struct lambda_step_outcome *out)
{
    struct err e = {0};
    const char *arn = getenv("DRR_STATE_MACHINE_ARN");
    const char *cfg_path = getenv("DBLAB_RDS_REFRESH_CONFIG");
    if (!arn || !*arn) {
        err_set(&e, ERR_CONFIG,
                "DRR_STATE_MACHINE_ARN is not set: the entry function "
                "starts that state machine (deploy/sam/template.yaml sets it)");
        return entry_fail(out, &e);
    }
    if (!cfg_path || !*cfg_path) {
        err_set(&e, ERR_CONFIG, "DBLAB_RDS_REFRESH_CONFIG is not set");
        return entry_fail(out, &e);
    }
    struct config cfg;
    int rc = config_load(cfg_path, &cfg, &e);
    struct aws_ctx *aws = NULL;
    if (rc == 0)
        rc = aws_ctx_new_from_config(&cfg, &aws, &e);
    if (rc == 0)
        aws_ctx_set_cancel(aws, signals_cancel());
    char name[80];
    snprintf(name, sizeof name, "invoke-%.64s", ctx->request_id ? ctx->request_id : "manual");
    char *exec_arn = NULL, *date = NULL;
    if (rc == 0)
        rc = sfn_start_execution(aws, arn, name, "{\"dryRun\":false}", &exec_arn, &date, &e);
    if (rc == 0) {
        log_info("started execution %s", exec_arn);
        out->document = cJSON_CreateObject();
        cJSON_AddStringToObject(out->document, "executionArn", exec_arn);
        cJSON_AddStringToObject(out->document, "startDate", date);
    } else {
        entry_fail(out, &e);
    }
    free(exec_arn);
    free(date);
    aws_ctx_free(aws);
    config_release(&cfg);
    return rc;
}

int lambda_entry_run(const struct lambda_step_ctx *ctx, const cJSON *event,
                     struct lambda_step_outcome *out)
{
    memset(out, 0, sizeof *out);
    const cJSON *dry = cJSON_GetObjectItemCaseSensitive(event, "dryRun");
    if (dry && !cJSON_IsBool(dry)) {
        snprintf(out->error_type, sizeof out->error_type, "drr.input");
        snprintf(out->error_message, sizeof out->error_message, "dryRun: must be true or false");
        return ERR_INPUT;
    }
    if (cJSON_IsTrue(dry))
        return dry_run(ctx, out);
    return start_execution(ctx, out);
}
