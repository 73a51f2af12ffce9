/* The SDKs' standard retry mode. See aws_retry.h. */
#include "aws/aws_retry.h"

#include <math.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "core/signals.h"

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

enum aws_retry_class aws_retry_classify(long http_status, const char *code, int timed_out)
{
    if (timed_out)
        return AWS_RETRY_TIMEOUT;
    if (http_status == 0)
        return AWS_RETRY_TRANSIENT;
    /* A 2xx without an error code is a success; one WITH a code (an error
     * document in a 2xx) is judged by its code, as botocore's checkers do. */
    if (http_status >= 200 && http_status < 300 && (!code || !*code))
        return AWS_RETRY_NONE;
    if (aws_retry_is_throttling_code(code) || http_status == 429)
        return AWS_RETRY_THROTTLING;
    if (in_list(transient_codes, code))
        return AWS_RETRY_TRANSIENT;
    if (http_status == 500 || http_status == 502 || http_status == 503 || http_status == 504)
        return AWS_RETRY_TRANSIENT;
    return AWS_RETRY_NONE;
}

void aws_retry_seed(struct aws_retry *r, uint64_t seed)
{
    r->rng = seed ? seed : 0x9E3779B97F4A7C15ULL;
}

void aws_retry_init(struct aws_retry *r, int max_attempts)
{
    memset(r, 0, sizeof *r);
    r->max_attempts = max_attempts > 0 ? max_attempts : CONFIG_DEFAULT_MAX_ATTEMPTS;
    r->base_delay = AWS_RETRY_BASE_DELAY;
    r->max_delay = AWS_RETRY_MAX_DELAY;
    r->quota = r->quota_capacity = AWS_RETRY_QUOTA;
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != (ssize_t)sizeof seed)
        seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    aws_retry_seed(r, seed);
}

/* xorshift64* (Vigna): plenty for jitter, and reproducible from a seed. */
static double next_uniform(struct aws_retry *r)
{
    if (r->random_fn) {
        double u = r->random_fn(r->random_ctx);
        return u < 0 ? 0 : (u >= 1 ? nextafter(1.0, 0.0) : u);
    }
    uint64_t x = r->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    r->rng = x;
    return (double)((x * 0x2545F4914F6CDD1DULL) >> 11) * 0x1.0p-53;
}

double aws_retry_delay(struct aws_retry *r, int attempt)
{
    if (attempt < 1)
        attempt = 1;
    /* 2^(attempt-1) overflows nothing: it is capped long before 2^63. */
    double ceiling = attempt > 62 ? r->max_delay : r->base_delay * ldexp(1.0, attempt - 1);
    if (ceiling > r->max_delay)
        ceiling = r->max_delay;
    return next_uniform(r) * ceiling;
}

int aws_retry_next(struct aws_retry *r, enum aws_retry_class cls, int attempt, double *delay,
                   int *cost, const char **why)
{
    *delay = 0;
    *cost = 0;
    if (cls == AWS_RETRY_NONE) {
        *why = "not retryable";
        return 0;
    }
    if (attempt >= r->max_attempts) {
        *why = "max attempts reached";
        return 0;
    }
    int c = cls == AWS_RETRY_TIMEOUT ? AWS_RETRY_TIMEOUT_COST : AWS_RETRY_COST;
    if (r->quota < c) {
        *why = "retry quota exhausted";
        return 0;
    }
    r->quota -= c;
    *cost = c;
    *delay = aws_retry_delay(r, attempt);
    *why = "retrying";
    return 1;
}

void aws_retry_on_success(struct aws_retry *r, int last_cost)
{
    r->quota += last_cost > 0 ? last_cost : AWS_RETRY_NO_RETRY_REFUND;
    if (r->quota > r->quota_capacity)
        r->quota = r->quota_capacity;
}

int aws_retry_sleep(struct aws_retry *r, double delay)
{
    if (r->sleep_fn)
        return r->sleep_fn(delay, r->sleep_ctx);
    return signals_sleep(delay);
}
