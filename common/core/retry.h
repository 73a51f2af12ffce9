/* The retry POLICY every request engine uses (the AWS transport, the DBLab
 * client, the credential chain's IMDS and container calls): how many attempts,
 * how long to wait between them, and a quota that stops retry storms. What is
 * worth retrying is the caller's to say (aws/aws_retry.h classifies AWS's
 * answers; dblab.c its own), as a retry_class.
 *
 * Delay before retry i (i = 1 after the first failed attempt), "full jitter"
 * (the AWS SDKs' standard mode, botocore/retries/standard.py):
 *     delay = random[0,1) * min(max_delay, base_delay * 2^(i-1))
 *
 * Retry quota (token bucket, per retry state; the AWS client shares one across
 * the process as the SDKs do): starts at RETRY_QUOTA; a retry costs
 * RETRY_COST tokens, RETRY_TIMEOUT_COST after a timeout; when the bucket cannot
 * pay, the error is returned instead of retried. A successful call refunds what
 * its retry cost, or RETRY_NO_RETRY_REFUND when it succeeded at once.
 *
 * Randomness is a seeded xorshift64* (seeded from getrandom(2)); tests seed it
 * or inject random_fn. Backoffs sleep through cancel_sleep (core/cancel.h) or an
 * injected sleep_fn, so a cancelled context stops a backoff at once. */
#ifndef DRR_RETRY_H
#define DRR_RETRY_H

#include <stdint.h>

struct cancel;

/* The SDKs' standard-mode quota values (botocore/retries/quota.py). */
#define RETRY_QUOTA           500
#define RETRY_COST            5
#define RETRY_TIMEOUT_COST    10
#define RETRY_NO_RETRY_REFUND 1

enum retry_class {
    RETRY_NONE = 0,   /* not retryable: fail at once */
    RETRY_THROTTLING, /* the server asked to slow down (HTTP 429, a throttling code) */
    RETRY_TRANSIENT,  /* a transient failure: HTTP 5xx, a connection error */
    RETRY_TIMEOUT,    /* the transfer timed out (costs more quota) */
};

struct retry {
    int max_attempts;  /* total attempts including the first, >= 1 */
    double base_delay; /* seconds */
    double max_delay;  /* seconds: the cap of any one delay */
    int quota;         /* tokens available */
    int quota_capacity;
    uint64_t rng; /* xorshift64* state, never 0 */
    /* Injectable for tests; NULL = the defaults (xorshift64*, cancel_sleep). */
    double (*random_fn)(void *ctx); /* uniform in [0, 1) */
    void *random_ctx;
    int (*sleep_fn)(double seconds, void *ctx); /* non-zero = cancelled (cancel_check's answer) */
    void *sleep_ctx;
};

/* max_attempts (>= 1), base and cap of the delays, a full quota, a random seed. */
void retry_init(struct retry *r, int max_attempts, double base_delay, double max_delay);
/* Deterministic jitter for tests (seed 0 is mapped to a fixed non-zero value). */
void retry_seed(struct retry *r, uint64_t seed);

/* After failed attempt number `attempt` (1-based) of class cls: returns 1 and the
 * delay in *delay when it should be retried (quota already charged: *cost says
 * how much, pass it to retry_on_success), or 0 when not, with *why saying
 * "not retryable", "max attempts reached" or "retry quota exhausted". */
int retry_next(struct retry *r, enum retry_class cls, int attempt, double *delay, int *cost,
               const char **why);
/* The delay before retry `attempt` (1-based), without charging anything. */
double retry_delay(struct retry *r, int attempt);
/* A call succeeded; last_cost is the cost of its last retry (0 if none). */
void retry_on_success(struct retry *r, int last_cost);
/* Sleeps delay seconds (the injected sleep, else cancel_sleep on cancel, which
 * may be NULL). Returns 0, or cancel_check's non-zero answer when cancelled. */
int retry_sleep(struct retry *r, const struct cancel *cancel, double delay);

#endif
