/* AWS Step Functions: StartExecution (awsJson1_0, X-Amz-Target
 * AWSStepFunctions.StartExecution), the one call the seed's entry function makes.
 * With a name, StartExecution is idempotent (the same name and input answer the same
 * execution), so the client's retries are safe. */
#ifndef DRR_SFN_H
#define DRR_SFN_H

#include "aws/aws_client.h"

/* Starts state_machine_arn with input (a JSON text) under name. On 0, *execution_arn
 * and *start_date (RFC 3339) are malloc'd. */
int sfn_start_execution(struct aws_ctx *aws, const char *state_machine_arn, const char *name,
                        const char *input, char **execution_arn, char **start_date, struct err *e);

#endif
