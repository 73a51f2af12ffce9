/* The retry policy: capped full-jitter backoff, attempts, quota. See retry.h. */
#include "core/retry.h"

#include <math.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "core/cancel.h"

void retry_seed(struct retry *r, uint64_t seed)
{
    r->rng = seed ? seed : 0x9E3779B97F4A7C15ULL;
}

void retry_init(struct retry *r, int max_attempts, double base_delay, double max_delay)
{
    memset(r, 0, sizeof *r);
    r->max_attempts = max_attempts > 0 ? max_attempts : 1;
    r->base_delay = base_delay;
    r->max_delay = max_delay;
    r->quota = r->quota_capacity = RETRY_QUOTA;
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != (ssize_t)sizeof seed)
        seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    retry_seed(r, seed);
}

/* xorshift64* (Vigna): plenty for jitter, and reproducible from a seed. */
static double next_uniform(struct retry *r)
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

double retry_delay(struct retry *r, int attempt)
{
    if (attempt < 1)
        attempt = 1;
    /* 2^(attempt-1) overflows nothing: it is capped long before 2^63. */
    double ceiling = attempt > 62 ? r->max_delay : r->base_delay * ldexp(1.0, attempt - 1);
    if (ceiling > r->max_delay)
        ceiling = r->max_delay;
    return next_uniform(r) * ceiling;
}

int retry_next(struct retry *r, enum retry_class cls, int attempt, double *delay, int *cost,
               const char **why)
{
    *delay = 0;
    *cost = 0;
    if (cls == RETRY_NONE) {
        *why = "not retryable";
        return 0;
    }
    if (attempt >= r->max_attempts) {
        *why = "max attempts reached";
        return 0;
    }
    int c = cls == RETRY_TIMEOUT ? RETRY_TIMEOUT_COST : RETRY_COST;
    if (r->quota < c) {
        *why = "retry quota exhausted";
        return 0;
    }
    r->quota -= c;
    *cost = c;
    *delay = retry_delay(r, attempt);
    *why = "retrying";
    return 1;
}

void retry_on_success(struct retry *r, int last_cost)
{
    r->quota += last_cost > 0 ? last_cost : RETRY_NO_RETRY_REFUND;
    if (r->quota > r->quota_capacity)
        r->quota = r->quota_capacity;
}

int retry_sleep(struct retry *r, const struct cancel *cancel, double delay)
{
    if (r->sleep_fn)
        return r->sleep_fn(delay, r->sleep_ctx);
    return cancel_sleep(cancel, delay);
}
