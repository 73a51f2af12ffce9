#include "lambda_entry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exitcodes.h"
#include "log.h"

/* Runs the named step on doc (NULL for the first one); on success *doc is the
 * step's answer. */
static int chain(const struct lambda_step_ctx *ctx, const char *step, cJSON **doc,
                 cJSON *input, struct lambda_step_outcome *out)
{
    cJSON *ev = cJSON_CreateObject();
    cJSON_AddStringToObject(ev, "step", step);
    if (*doc)
        cJSON_AddItemReferenceToObject(ev, "document", *doc);
    if (input)
        cJSON_AddItemReferenceToObject(ev, "input", input);
    lambda_step_outcome_free(out);
    lambda_step_run(ctx, ev, out);
    cJSON_Delete(ev);
    if (!out->document)
        return out->error_type[0] ? 1 : 1;
    cJSON_Delete(*doc);
    *doc = out->document;
    out->document = NULL;
    return 0;
}

static int dry_run(const struct lambda_step_ctx *ctx, struct lambda_step_outcome *out)
{
    cJSON *input = cJSON_CreateObject();
    cJSON_AddTrueToObject(input, "dryRun");
    cJSON *doc = NULL;
    int rc = chain(ctx, "snapshot", &doc, input, out);
    if (rc == 0) {
        /* check-engine answers the document with its dry-run marks only: keep ours */
        cJSON *keep = cJSON_Duplicate(doc, 1);
        rc = chain(ctx, "check-engine", &keep, NULL, out);
        cJSON_Delete(keep);
    }
    if (rc == 0)
        rc = chain(ctx, "create", &doc, NULL, out);
    cJSON_Delete(input);
    if (rc == 0) {
        out->document = doc;
        return 0;
    }
    cJSON_Delete(doc);
    return rc;
}

int lambda_entry_run(const struct lambda_step_ctx *ctx, const cJSON *event,
                     struct lambda_step_outcome *out)
{
    memset(out, 0, sizeof *out);
    const cJSON *dry = cJSON_GetObjectItemCaseSensitive(event, "dryRun");
    if (dry && !cJSON_IsBool(dry)) {
        snprintf(out->error_type, sizeof out->error_type, "drr.input");
        snprintf(out->error_message, sizeof out->error_message,
                 "dryRun: must be true or false");
        return DRR_EXIT_INPUT;
    }
    if (cJSON_IsTrue(dry))
        return dry_run(ctx, out);
    snprintf(out->error_type, sizeof out->error_type, "drr.config");
    snprintf(out->error_message, sizeof out->error_message,
             "a real run starts the state machine: not built yet");
    return DRR_EXIT_CONFIG;
}
