#include "check_main.h"

#include <stdarg.h>
#include <stdlib.h>

int run_suites(Suite *first, ...)
{
    SRunner *sr = srunner_create(first);
    va_list ap;
    va_start(ap, first);
    for (Suite *s = va_arg(ap, Suite *); s != NULL; s = va_arg(ap, Suite *))
        srunner_add_suite(sr, s);
    va_end(ap);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr); /* frees the suites too */
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

Suite *suite_of_tests(const char *name, double timeout, const TTest *const *tests, size_t n)
{
    Suite *s = suite_create(name);
    TCase *tc = tcase_create(name);
    if (timeout > 0)
        tcase_set_timeout(tc, timeout);
    for (size_t i = 0; i < n; i++)
        tcase_add_test(tc, tests[i]);
    suite_add_tcase(s, tc);
    return s;
}
