/* The `dblab-rds-refresh` function of deploy/sam: the seed's single-Lambda entry
 * point, so its `aws lambda invoke --payload '{"dryRun": true|false}'` still works.
 *
 *   {"dryRun": true}   answered inline: the read-only checks (the newest snapshot,
 *                      the engine, what the clone would be), the run document back;
 *   {"dryRun": false}  (or no dryRun: the seed's scheduled event) starts an execution
 *                      of the state machine ($DRR_STATE_MACHINE_ARN) and answers
 *                      {"executionArn", "startDate"}: a refresh outlives any Lambda. */
#ifndef DRR_LAMBDA_ENTRY_H
#define DRR_LAMBDA_ENTRY_H

#include <cjson/cJSON.h>
#include "lambda/lambda_step.h"

/* Returns 0 (out filled: the answer, or the error that is the invocation's
 * answer) or the kind of an event that is none (out's error says so too). */
int lambda_entry_run(const struct lambda_step_ctx *ctx, const cJSON *event,
                     struct lambda_step_outcome *out);

#endif
