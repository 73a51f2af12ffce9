/* signals and cancellation: the first signal is pending until the end; a
 * command's contexts are cancelled by it; a clean-up's context (create's
 * roll-back, signals_cancel_further) is deaf to it for a bounded time, unless a
 * second one comes. */
#include <check.h>
#include <signal.h>
#include <time.h>

#include "check_main.h"
#include "core/cancel.h"
#include "core/clock.h"
#include "core/signals.h"

START_TEST(further_is_bounded_and_a_second_signal_ends_it)
{
    signals_install();
    struct cancel cmd = signals_cancel();
    ck_assert_int_eq(signals_pending(), 0);
    ck_assert_int_eq(cancel_check(&cmd), 0);
    raise(SIGTERM);
    ck_assert_int_eq(signals_pending(), SIGTERM);
    ck_assert_int_eq(cancel_check(&cmd), SIGTERM);
    ck_assert_int_eq(signals_sleep(5), SIGTERM); /* returns at once */
    double t0 = clock_monotonic();
    ck_assert_int_eq(cancel_sleep(&cmd, 5), SIGTERM);
    ck_assert(clock_monotonic() - t0 < 1.0);

    struct cancel rollback = signals_cancel_further(30);
    ck_assert_int_eq(cancel_check(&rollback), 0); /* the clean-up's requests run */
    ck_assert_int_eq(cancel_sleep(&rollback, 0.01), 0);
    ck_assert_int_eq(cancel_check(&cmd), SIGTERM);      /* the command's contexts stay cancelled */
    raise(SIGINT);                                      /* the user insists */
    ck_assert_int_eq(cancel_check(&rollback), SIGTERM); /* the first signal still names it */

    rollback = signals_cancel_further(0.05);
    ck_assert_int_eq(cancel_check(&rollback), 0);
    ck_assert(cancel_remaining(&rollback) > 0 && cancel_remaining(&rollback) <= 0.05);
    t0 = clock_monotonic();
    ck_assert_int_eq(cancel_sleep(&rollback, 10), CANCEL_DEADLINE); /* the budget is over */
    ck_assert(clock_monotonic() - t0 < 1.0);
    ck_assert_int_eq(cancel_check(&rollback), CANCEL_DEADLINE);
    ck_assert_int_eq(signals_pending(), SIGTERM);
}
END_TEST

START_TEST(no_cancel_never_stops)
{
    ck_assert_int_eq(cancel_check(NULL), 0);
    ck_assert(cancel_remaining(NULL) < 0);
    struct cancel none = {0};
    ck_assert_int_eq(cancel_sleep(&none, 0.01), 0);
}
END_TEST

int main(void)
{
    return run_suites(SUITE_OF_TESTS("signals", 0, further_is_bounded_and_a_second_signal_ends_it,
                                     no_cancel_never_stops),
                      NULL);
}
