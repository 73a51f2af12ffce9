/* signals: the first signal is pending until the end; a deferred clean-up
 * (create's roll-back) sees none for a bounded time, unless a second one comes. */
#include <check.h>
#include <signal.h>
#include <time.h>

#include "check_main.h"
#include "core/signals.h"

START_TEST(defer_is_bounded_and_a_second_signal_ends_it)
{
    signals_install();
    ck_assert_int_eq(signals_pending(), 0);
    raise(SIGTERM);
    ck_assert_int_eq(signals_pending(), SIGTERM);
    ck_assert_int_eq(signals_sleep(5), SIGTERM); /* returns at once */

    signals_defer(30);
    ck_assert_int_eq(signals_pending(), 0); /* the clean-up's requests run */
    ck_assert_int_eq(signals_sleep(0.01), 0);
    raise(SIGINT);                                /* the user insists */
    ck_assert_int_eq(signals_pending(), SIGTERM); /* the first signal still names it */
    signals_resume();

    signals_defer(0.05);
    ck_assert_int_eq(signals_pending(), 0);
    struct timespec ts = {0, 100 * 1000 * 1000};
    nanosleep(&ts, NULL);
    ck_assert_int_eq(signals_pending(), SIGTERM); /* the budget is over */
    signals_resume();
    ck_assert_int_eq(signals_pending(), SIGTERM);
}
END_TEST

int main(void)
{
    return run_suites(SUITE_OF_TESTS("signals", 0, defer_is_bounded_and_a_second_signal_ends_it),
                      NULL);
}
