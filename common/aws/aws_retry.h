/* What AWS's answers are worth retrying, and the AWS SDKs' "standard" retry
 * mode on the shared policy (core/retry.h), tuned for an unattended job.
 *
 * Retried: throttling error codes (and HTTP 429), transient codes (RequestTimeout,
 * InternalError, ...), HTTP 500/502/503/504, and connection errors / timeouts
 * (no HTTP answer). Everything else fails at once.
 *
 * Delays: full jitter with base 1 s and cap 20 s (the SDKs' values); the number
 * of attempts comes from aws.maxAttempts / AWS_MAX_ATTEMPTS (default
 * CONFIG_DEFAULT_MAX_ATTEMPTS = 8, more than the SDKs' 3: a 2 AM job would
 * rather wait a minute than fail); the quota is core/retry.h's (500 tokens,
 * shared by every call of the process through the one transport). */
#ifndef DRR_AWS_RETRY_H
#define DRR_AWS_RETRY_H

#include "core/retry.h"

#define AWS_RETRY_BASE_DELAY 1.0
#define AWS_RETRY_MAX_DELAY  20.0

/* The standard mode's policy; max_attempts <= 0 means CONFIG_DEFAULT_MAX_ATTEMPTS. */
void aws_retry_init(struct retry *r, int max_attempts);

/* Classifies a failed attempt. http_status 0 = no HTTP answer (network error);
 * timed_out = the transfer timed out; code = the AWS error code ("" / NULL if none).
 * A 2xx with a code (an error document sent with a 2xx) is judged by its code. */
enum retry_class aws_retry_classify(long http_status, const char *code, int timed_out);
/* 1 if code is one of the SDKs' throttling codes. */
int aws_retry_is_throttling_code(const char *code);

#endif
