/* AWS's retryable answers and the SDKs' standard mode. See aws_retry.h. */
#include "aws/aws_retry.h"

#include <string.h>

#include "config/config.h"

/* botocore/retries/standard.py and the SDK reference's "standard" mode. */
static const char *const throttling_codes[] = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
    NULL,
};

/* Transient service-side failures, whatever the HTTP status they come with. */
static const char *const transient_codes[] = {
    "RequestTimeout",
    "RequestTimeoutException",
    "InternalError",
    "InternalFailure",
    "ServiceUnavailable",
    "IDPCommunicationError",
    NULL,
};

static int in_list(const char *const *list, const char *code)
{
    if (!code || !*code)
        return 0;
    for (size_t i = 0; list[i]; i++)
        if (strcmp(list[i], code) == 0)
            return 1;
    return 0;
}

int aws_retry_is_throttling_code(const char *code)
{
    return in_list(throttling_codes, code);
}

enum retry_class aws_retry_classify(long http_status, const char *code, int timed_out)
{
    if (timed_out)
        return RETRY_TIMEOUT;
    if (http_status == 0)
        return RETRY_TRANSIENT;
    /* A 2xx without an error code is a success; one WITH a code (an error
     * document in a 2xx) is judged by its code, as botocore's checkers do. */
    if (http_status >= 200 && http_status < 300 && (!code || !*code))
        return RETRY_NONE;
    if (aws_retry_is_throttling_code(code) || http_status == 429)
        return RETRY_THROTTLING;
    if (in_list(transient_codes, code))
        return RETRY_TRANSIENT;
    if (http_status == 500 || http_status == 502 || http_status == 503 || http_status == 504)
        return RETRY_TRANSIENT;
    return RETRY_NONE;
}

void aws_retry_init(struct retry *r, int max_attempts)
{
    retry_init(r, max_attempts > 0 ? max_attempts : CONFIG_DEFAULT_MAX_ATTEMPTS,
               AWS_RETRY_BASE_DELAY, AWS_RETRY_MAX_DELAY);
}
