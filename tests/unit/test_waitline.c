/* waitline: the progress text of a long wait (step, status, elapsed, expected). */
#include <check.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "app/waitline.h"

START_TEST(format)
{
    struct waitline w;
    waitline_init(&w, "clone-wait", 1200);
    waitline_status(&w, "creating");
    char out[256];
    waitline_format(&w, w.start + 192.4, out, sizeof out);
    ck_assert_str_eq(out, "clone-wait: creating, 3m12s elapsed (expected ~20m)");
    waitline_format(&w, w.start + 1500, out, sizeof out);
    ck_assert_str_eq(out, "clone-wait: creating, 25m elapsed (expected ~20m, taking longer)");
    waitline_init(&w, "refresh", 0);
    waitline_format(&w, w.start + 5, out, sizeof out);
    ck_assert_str_eq(out, "refresh: starting, 5s elapsed");
    waitline_status(&w, NULL); /* no status: the last one stays */
    waitline_status(&w, "");
    waitline_format(&w, w.start, out, sizeof out);
    ck_assert_str_eq(out, "refresh: starting, 0s elapsed");
    /* bounded */
    char tiny[12];
    waitline_format(&w, w.start + 5, tiny, sizeof tiny);
    ck_assert_uint_eq(strlen(tiny), sizeof tiny - 1);
}
END_TEST

/* Not a terminal (the test's stderr is a file or pipe): no line drawing. */
START_TEST(not_a_tty_sleeps)
{
    int saved = dup(STDERR_FILENO);
    int null = open("/dev/null", O_WRONLY);
    dup2(null, STDERR_FILENO);
    struct waitline w;
    waitline_init(&w, "refresh", 60);
    dup2(saved, STDERR_FILENO);
    close(null);
    close(saved);
    ck_assert_int_eq(w.tty, 0);
    ck_assert_int_eq(waitline_sleep(&w, 0.01), 0);
}
END_TEST

int main(void)
{
    return run_suites(SUITE_OF_TESTS("waitline", 0, format, not_a_tty_sleeps), NULL);
}
