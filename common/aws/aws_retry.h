/* Retries as the AWS SDKs' "standard" mode does them, tuned for an unattended job.
 *
 * Retried: throttling error codes (and HTTP 429), transient codes (RequestTimeout,
 * InternalError, ...), HTTP 500/502/503/504, and connection errors / timeouts
 * (no HTTP answer). Everything else fails at once.
 *
 * Delay before retry i (i = 1 after the first failed attempt), full jitter:
 *     delay = random[0,1) * min(max_delay, base_delay * 2^(i-1))
 * defaults base 1 s, cap 20 s (the SDKs' values); the number of attempts comes
 * from aws.maxAttempts / AWS_MAX_ATTEMPTS (default CONFIG_DEFAULT_MAX_ATTEMPTS = 8,
 * more than the SDKs' 3: a 2 AM job would rather wait a minute than fail).
 *
 * Retry quota (token bucket, shared by every call of the process, like the SDKs'):
 * starts at 500; a retry costs 5 tokens, 10 after a timeout; when the bucket cannot
 * pay, the error is returned instead of retried (stops retry storms against a
 * struggling service). A successful call refunds what its retry cost, or 1 token
 * when it succeeded at once, never above 500.
 *
 * Randomness is a seeded xorshift64* (seeded from getrandom(2) by default); tests
 * seed it, or replace it. Sleeps go through signals_sleep (or an injected sleep),
 * so SIGINT/SIGTERM/SIGHUP interrupt a backoff at once. */
#ifndef DRR_AWS_RETRY_H
#define DRR_AWS_RETRY_H

#include <stdint.h>

#define AWS_RETRY_BASE_DELAY      1.0
#define AWS_RETRY_MAX_DELAY       20.0
#define AWS_RETRY_QUOTA           500
#define AWS_RETRY_COST            5
#define AWS_RETRY_TIMEOUT_COST    10
#define AWS_RETRY_NO_RETRY_REFUND 1

enum aws_retry_class {
    AWS_RETRY_NONE = 0,   /* not retryable: fail at once */
    AWS_RETRY_THROTTLING, /* throttling code or HTTP 429 */
    AWS_RETRY_TRANSIENT,  /* transient code, HTTP 5xx, connection error */
    AWS_RETRY_TIMEOUT,    /* the transfer timed out (costs more quota) */
};

struct aws_retry {
    int max_attempts;  /* total attempts including the first, >= 1 */
    double base_delay; /* seconds */
    double max_delay;  /* seconds */
    int quota;         /* tokens available */
    int quota_capacity;
    uint64_t rng; /* xorshift64* state, never 0 */
    /* Injectable for tests; NULL = the defaults (xorshift64*, signals_sleep). */
    double (*random_fn)(void *ctx); /* uniform in [0, 1) */
    void *random_ctx;
    int (*sleep_fn)(double seconds, void *ctx); /* non-zero = interrupted (signal number) */
    void *sleep_ctx;
};

/* Defaults above; max_attempts <= 0 means CONFIG_DEFAULT_MAX_ATTEMPTS. */
void aws_retry_init(struct aws_retry *r, int max_attempts);
/* Deterministic jitter for tests (seed 0 is mapped to a fixed non-zero value). */
void aws_retry_seed(struct aws_retry *r, uint64_t seed);

/* Classifies a failed attempt. http_status 0 = no HTTP answer (network error);
 * timed_out = the transfer timed out; code = the AWS error code ("" / NULL if none).
 * A 2xx with a code (an error document sent with a 2xx) is judged by its code. */
enum aws_retry_class aws_retry_classify(long http_status, const char *code, int timed_out);
/* 1 if code is one of the SDKs' throttling codes. */
int aws_retry_is_throttling_code(const char *code);

/* After failed attempt number `attempt` (1-based) of class cls: returns 1 and the
 * delay in *delay when it should be retried (quota already charged: *cost says
 * how much, pass it to aws_retry_on_success), or 0 when not, with *why saying
 * "not retryable", "max attempts reached" or "retry quota exhausted". */
int aws_retry_next(struct aws_retry *r, enum aws_retry_class cls, int attempt, double *delay,
                   int *cost, const char **why);
/* The delay before retry `attempt` (1-based), without charging anything. */
double aws_retry_delay(struct aws_retry *r, int attempt);
/* A call succeeded; last_cost is the cost of its last retry (0 if none). */
void aws_retry_on_success(struct aws_retry *r, int last_cost);
/* Sleeps delay seconds (signals_sleep or the injected sleep). Returns 0, or the
 * signal number when interrupted. */
int aws_retry_sleep(struct aws_retry *r, double delay);

#endif
