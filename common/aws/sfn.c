#include "aws/sfn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"

int sfn_start_execution(struct aws_ctx *aws, const char *state_machine_arn, const char *name,
                        const char *input, char **execution_arn, char **start_date, struct err *e)
{
    *execution_arn = *start_date = NULL;
    cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "stateMachineArn", state_machine_arn);
    cJSON_AddStringToObject(req, "name", name);
    cJSON_AddStringToObject(req, "input", input);
    char *body = cJSON_PrintUnformatted(req);
    cJSON_Delete(req);
    cJSON *resp = NULL;
    struct aws_error ae;
    int rc = aws_json_call(aws, "states", "AWSStepFunctions.StartExecution", body, &resp, &ae, e);
    cJSON_free(body);
    if (rc)
        return rc;
    /* StartExecutionOutput: executionArn (string), startDate (epoch seconds). */
    const cJSON *arn = cJSON_GetObjectItemCaseSensitive(resp, "executionArn");
    const cJSON *date = cJSON_GetObjectItemCaseSensitive(resp, "startDate");
    if (!cJSON_IsString(arn) || !arn->valuestring[0] || !cJSON_IsNumber(date)) {
        cJSON_Delete(resp);
        return err_set(e, ERR_AWS_BAD_ANSWER,
                       "states StartExecution: the answer lacks executionArn "
                       "or startDate: the execution may have started; see the state machine's "
                       "executions");
    }
    char ts[32];
    clock_format_rfc3339((int64_t)floor(date->valuedouble), ts, sizeof ts);
    *execution_arn = xstrdup(arn->valuestring);
    *start_date = xstrdup(ts);
    cJSON_Delete(resp);
    return 0;
}
