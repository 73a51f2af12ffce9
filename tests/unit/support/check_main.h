/* The main() of a unit test program: build the suites, run them, say whether all
 * passed.
 *
 *   int main(void)
 *   {
 *       return run_suites(SUITE_OF_TESTS("aws_query", 0, test_encode, test_lists), NULL);
 *   }
 *
 * Output is Check's CK_NORMAL summary; CK_FORK (set by `make unit`) decides
 * whether each test runs in its own process. */
#ifndef DRR_TEST_CHECK_MAIN_H
#define DRR_TEST_CHECK_MAIN_H

#include <check.h>
#include <stddef.h>

/* Runs first and the further suites (a NULL-terminated list) in one runner and
 * frees them. Returns EXIT_SUCCESS when every test passed, else EXIT_FAILURE. */
int run_suites(Suite *first, ...);

/* A suite of one test case, both called name, holding tests[0..n-1] with a
 * per-test timeout in seconds (0 = Check's default, or CK_DEFAULT_TIMEOUT). */
Suite *suite_of_tests(const char *name, double timeout, const TTest *const *tests, size_t n);

/* suite_of_tests with the tests (START_TEST names) listed inline. */
#define SUITE_OF_TESTS(name, timeout, ...)                                                         \
    suite_of_tests((name), (timeout), (const TTest *const[]){__VA_ARGS__},                         \
                   sizeof((const TTest *const[]){__VA_ARGS__}) / sizeof(const TTest *))

#endif
