/* The retry policy with a seeded random source: classification, delays within
 * the full-jitter bounds, the cap, the quota, and interruption by a signal. */
#include <check.h>
#include <signal.h>
#include <string.h>

#include "aws/aws_retry.h"
#include "check_main.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/signals.h"

START_TEST(test_classify)
{
    static const char *throttles[] = {"Throttling",
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
                                      "EC2ThrottledException"};
    for (size_t i = 0; i < sizeof throttles / sizeof throttles[0]; i++) {
        ck_assert_int_eq(aws_retry_classify(400, throttles[i], 0), RETRY_THROTTLING);
        ck_assert(aws_retry_is_throttling_code(throttles[i]));
    }
    ck_assert_int_eq(aws_retry_classify(429, "", 0), RETRY_THROTTLING);
    ck_assert_int_eq(aws_retry_classify(400, "RequestTimeout", 0), RETRY_TRANSIENT);
    ck_assert_int_eq(aws_retry_classify(400, "RequestTimeoutException", 0), RETRY_TRANSIENT);
    ck_assert_int_eq(aws_retry_classify(500, "InternalError", 0), RETRY_TRANSIENT);
    for (long s = 500; s <= 504; s++)
        ck_assert_int_eq(aws_retry_classify(s, "", 0), s == 501 ? RETRY_NONE : RETRY_TRANSIENT);
    ck_assert_int_eq(aws_retry_classify(0, NULL, 0), RETRY_TRANSIENT); /* connection error */
    ck_assert_int_eq(aws_retry_classify(0, NULL, 1), RETRY_TIMEOUT);
    /* Client errors fail at once. */
    ck_assert_int_eq(aws_retry_classify(400, "InvalidParameterValue", 0), RETRY_NONE);
    ck_assert_int_eq(aws_retry_classify(404, "DBSnapshotNotFound", 0), RETRY_NONE);
    ck_assert_int_eq(aws_retry_classify(403, "AccessDenied", 0), RETRY_NONE);
    ck_assert_int_eq(aws_retry_classify(400, "DBInstanceAlreadyExists", 0), RETRY_NONE);
    ck_assert_int_eq(aws_retry_classify(200, "", 0), RETRY_NONE);
    ck_assert(!aws_retry_is_throttling_code("throttling")); /* case matters, as in the SDKs */
    ck_assert(!aws_retry_is_throttling_code(NULL));
}
END_TEST

START_TEST(test_defaults)
{
    struct retry r;
    aws_retry_init(&r, 0);
    ck_assert_int_eq(r.max_attempts, CONFIG_DEFAULT_MAX_ATTEMPTS);
    ck_assert_int_eq(r.quota, 500);
    ck_assert(r.base_delay == 1.0 && r.max_delay == 20.0);
    aws_retry_init(&r, 3);
    ck_assert_int_eq(r.max_attempts, 3);
}
END_TEST

START_TEST(test_delays_within_bounds_and_capped)
{
    struct retry r;
    aws_retry_init(&r, 100);
    retry_seed(&r, 42);
    double maxseen[12] = {0};
    double sum_late = 0;
    int n_late = 0;
    for (int round = 0; round < 2000; round++) {
        for (int attempt = 1; attempt <= 12; attempt++) {
            double d = retry_delay(&r, attempt);
            double ceiling = attempt >= 6 ? 20.0 : (double)(1 << (attempt - 1));
            ck_assert_msg(d >= 0 && d < ceiling, "attempt %d delay %f ceiling %f", attempt, d,
                          ceiling);
            if (d > maxseen[attempt - 1])
                maxseen[attempt - 1] = d;
            if (attempt >= 6) {
                sum_late += d;
                n_late++;
            }
        }
    }
    /* Full jitter really spreads: near the ceiling sometimes, mean about half the cap. */
    ck_assert(maxseen[0] > 0.95);
    ck_assert(maxseen[11] > 19.0);
    double mean = sum_late / n_late;
    ck_assert_msg(mean > 9.0 && mean < 11.0, "mean %f", mean);
    ck_assert(retry_delay(&r, 1000) < 20.0); /* no overflow for huge attempts */
}
END_TEST

START_TEST(test_seed_is_reproducible)
{
    struct retry a, b;
    aws_retry_init(&a, 8);
    aws_retry_init(&b, 8);
    retry_seed(&a, 7);
    retry_seed(&b, 7);
    for (int i = 1; i <= 50; i++)
        ck_assert(retry_delay(&a, i % 8 + 1) == retry_delay(&b, i % 8 + 1));
    retry_seed(&b, 8);
    int differ = 0;
    for (int i = 1; i <= 50; i++)
        differ += retry_delay(&a, 5) != retry_delay(&b, 5);
    ck_assert_int_gt(differ, 45);
}
END_TEST

static double fixed_random(void *ctx)
{
    return *(double *)ctx;
}

START_TEST(test_injected_random)
{
    struct retry r;
    aws_retry_init(&r, 8);
    double u = 0.5;
    r.random_fn = fixed_random;
    r.random_ctx = &u;
    ck_assert(retry_delay(&r, 1) == 0.5);
    ck_assert(retry_delay(&r, 3) == 2.0);
    ck_assert(retry_delay(&r, 7) == 10.0); /* 0.5 * min(20, 64) */
    u = 1.5;                               /* out of range input is clamped below 1 */
    ck_assert(retry_delay(&r, 7) < 20.0);
}
END_TEST

START_TEST(test_non_retryable_fails_at_once)
{
    struct retry r;
    aws_retry_init(&r, 8);
    double d;
    int cost;
    const char *why;
    ck_assert_int_eq(retry_next(&r, RETRY_NONE, 1, &d, &cost, &why), 0);
    ck_assert_str_eq(why, "not retryable");
    ck_assert_int_eq(r.quota, 500); /* nothing charged */
}
END_TEST

START_TEST(test_max_attempts)
{
    struct retry r;
    aws_retry_init(&r, 3);
    retry_seed(&r, 1);
    double d;
    int cost;
    const char *why;
    ck_assert_int_eq(retry_next(&r, RETRY_THROTTLING, 1, &d, &cost, &why), 1);
    ck_assert_int_eq(cost, 5);
    ck_assert(d >= 0 && d < 1.0);
    ck_assert_int_eq(retry_next(&r, RETRY_TRANSIENT, 2, &d, &cost, &why), 1);
    ck_assert(d >= 0 && d < 2.0);
    ck_assert_int_eq(retry_next(&r, RETRY_TRANSIENT, 3, &d, &cost, &why), 0);
    ck_assert_str_eq(why, "max attempts reached");
    ck_assert_int_eq(r.quota, 490);
}
END_TEST

START_TEST(test_quota_exhaustion_and_refund)
{
    struct retry r;
    aws_retry_init(&r, 1000);
    retry_seed(&r, 3);
    double d;
    int cost;
    const char *why;
    /* 500 tokens: 50 timeout retries (10 each) drain it. */
    for (int i = 0; i < 50; i++)
        ck_assert_int_eq(retry_next(&r, RETRY_TIMEOUT, 1, &d, &cost, &why), 1);
    ck_assert_int_eq(r.quota, 0);
    ck_assert_int_eq(retry_next(&r, RETRY_THROTTLING, 1, &d, &cost, &why), 0);
    ck_assert_str_eq(why, "retry quota exhausted");
    /* Successes refill it: a first-try success adds 1, a retried one refunds its cost. */
    retry_on_success(&r, 0);
    ck_assert_int_eq(r.quota, 1);
    retry_on_success(&r, 10);
    ck_assert_int_eq(r.quota, 11);
    ck_assert_int_eq(retry_next(&r, RETRY_THROTTLING, 1, &d, &cost, &why), 1);
    ck_assert_int_eq(r.quota, 6);
    ck_assert_int_eq(retry_next(&r, RETRY_TIMEOUT, 1, &d, &cost, &why), 0); /* needs 10 */
    /* Never above capacity. */
    for (int i = 0; i < 1000; i++)
        retry_on_success(&r, 5);
    ck_assert_int_eq(r.quota, 500);
}
END_TEST

struct sleep_log {
    double total;
    int calls;
};

static int fake_sleep(double seconds, void *ctx)
{
    struct sleep_log *l = ctx;
    l->total += seconds;
    l->calls++;
    return 0;
}

START_TEST(test_injected_sleep)
{
    struct retry r;
    aws_retry_init(&r, 8);
    struct sleep_log l = {0, 0};
    r.sleep_fn = fake_sleep;
    r.sleep_ctx = &l;
    ck_assert_int_eq(retry_sleep(&r, NULL, 3.5), 0);
    ck_assert_int_eq(l.calls, 1);
    ck_assert(l.total == 3.5);
}
END_TEST

START_TEST(test_signal_interrupts_backoff)
{
    signals_install();
    struct retry r;
    aws_retry_init(&r, 8);
    struct cancel on_signal = signals_cancel();
    raise(SIGTERM);
    double t0 = clock_monotonic();
    ck_assert_int_eq(retry_sleep(&r, &on_signal, 10.0), SIGTERM);
    ck_assert(clock_monotonic() - t0 < 1.0);
}
END_TEST

int main(void)
{
    return run_suites(SUITE_OF_TESTS("aws_retry", 0, test_classify, test_defaults,
                                     test_delays_within_bounds_and_capped,
                                     test_seed_is_reproducible, test_injected_random,
                                     test_non_retryable_fails_at_once, test_max_attempts,
                                     test_quota_exhaustion_and_refund, test_injected_sleep,
                                     test_signal_interrupts_backoff),
                      NULL);
}
