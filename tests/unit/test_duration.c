/* duration_parse_go: Go's time.ParseDuration, tested with Go's own table
 * (golang/go src/time/time_test.go: parseDurationTests, parseDurationErrorTests,
 * TestParseDurationRoundTrip's extremes), ported case for case. Then this
 * project's layer on top (duration_parse: "d", positive, whole seconds). */
#include <check.h>
#include <stdint.h>

#include "check_main.h"
#include "config/config.h"

#define NS   1LL
#define US   (1000 * NS)
#define MS   (1000 * US)
#define SEC  (1000 * MS)
#define MIN  (60 * SEC)
#define HOUR (60 * MIN)

static const struct {
    const char *in;
    int64_t want;
} go_ok[] = {
    /* simple */
    {"0", 0},
    {"5s", 5 * SEC},
    {"30s", 30 * SEC},
    {"1478s", 1478 * SEC},
    /* sign */
    {"-5s", -5 * SEC},
    {"+5s", 5 * SEC},
    {"-0", 0},
    {"+0", 0},
    /* decimal */
    {"5.0s", 5 * SEC},
    {"5.6s", 5 * SEC + 600 * MS},
    {"5.s", 5 * SEC},
    {".5s", 500 * MS},
    {"1.0s", 1 * SEC},
    {"1.00s", 1 * SEC},
    {"1.004s", 1 * SEC + 4 * MS},
    {"1.0040s", 1 * SEC + 4 * MS},
    {"100.00100s", 100 * SEC + 1 * MS},
    /* different units */
    {"10ns", 10 * NS},
    {"11us", 11 * US},
    {"12\xc2\xb5s", 12 * US}, /* U+00B5 */
    {"12\xce\xbcs", 12 * US}, /* U+03BC */
    {"13ms", 13 * MS},
    {"14s", 14 * SEC},
    {"15m", 15 * MIN},
    {"16h", 16 * HOUR},
    /* composite durations */
    {"3h30m", 3 * HOUR + 30 * MIN},
    {"10.5s4m", 4 * MIN + 10 * SEC + 500 * MS},
    {"-2m3.4s", -(2 * MIN + 3 * SEC + 400 * MS)},
    {"1h2m3s4ms5us6ns", 1 * HOUR + 2 * MIN + 3 * SEC + 4 * MS + 5 * US + 6 * NS},
    {"39h9m14.425s", 39 * HOUR + 9 * MIN + 14 * SEC + 425 * MS},
    /* large value */
    {"52763797000ns", 52763797000 * NS},
    /* more than 9 digits after decimal point, see https://golang.org/issue/6617 */
    {"0.3333333333333333333h", 20 * MIN},
    /* 9007199254740993 = 1<<53+1 cannot be stored precisely in a float64 */
    {"9007199254740993ns", ((1LL << 53) + 1) * NS},
    /* largest duration that can be represented by int64 in nanoseconds */
    {"9223372036854775807ns", INT64_MAX},
    {"9223372036854775.807us", INT64_MAX},
    {"9223372036s854ms775us807ns", INT64_MAX},
    {"-9223372036854775808ns", INT64_MIN},
    {"-9223372036854775.808us", INT64_MIN},
    {"-9223372036s854ms775us808ns", INT64_MIN},
    /* largest negative round trip value, see https://golang.org/issue/48629 */
    {"-2562047h47m16.854775808s", INT64_MIN},
    /* huge string; issue 15011. */
    {"0.100000000000000000000h", 6 * MIN},
    /* This value tests the first overflow check in leadingFraction. */
    {"0.830103483285477580700h", 49 * MIN + 48 * SEC + 372539827 * NS},
    /* TestParseDurationRoundTrip: Duration(math.MaxInt64).String() */
    {"2562047h47m16.854775807s", INT64_MAX},
};

static const char *const go_bad[] = {
    /* invalid */
    "",
    "3",
    "-",
    "s",
    ".",
    "-.",
    ".s",
    "+.s",
    "1d",
    "\x85\x85",
    "\xff"
    "ff",
    "hello \xff"
    "ff world",
    "\xef\xbf\xbd",
    "\xef\xbf\xbd hello \xef\xbf\xbd world",
    /* overflow */
    "9223372036854775810ns",
    "9223372036854775808ns",
    "-9223372036854775809ns",
    "9223372036854776us",
    "3000000h",
    "9223372036854775.808us",
    "9223372036854ms775us808ns",
};

START_TEST(go_parse_duration_tests)
{
    const char *in = go_ok[_i].in;
    int64_t got = 12345;
    ck_assert_msg(duration_parse_go(in, &got) == 0, "ParseDuration(%s) failed", in);
    ck_assert_msg(got == go_ok[_i].want, "ParseDuration(%s) = %lld, want %lld", in, (long long)got,
                  (long long)go_ok[_i].want);
}
END_TEST

START_TEST(go_parse_duration_error_tests)
{
    int64_t got = 12345;
    ck_assert_msg(duration_parse_go(go_bad[_i], &got) == -1, "ParseDuration(%s) accepted",
                  go_bad[_i]);
    ck_assert_int_eq(got, 12345);
}
END_TEST

/* This project's "d": only in duration_parse_ns / duration_parse, never in the Go port. */
START_TEST(days_extension)
{
    int64_t v;
    ck_assert_int_eq(duration_parse_go("7d", &v), -1);
    ck_assert_int_eq(duration_parse_ns("7d", &v), 0);
    ck_assert_int_eq(v, 7 * 24 * HOUR);
    ck_assert_int_eq(duration_parse_ns("1d12h30m", &v), 0);
    ck_assert_int_eq(v, 36 * HOUR + 30 * MIN);
    ck_assert_int_eq(duration_parse_ns("-1.5d", &v), 0);
    ck_assert_int_eq(v, -36 * HOUR);
}
END_TEST

START_TEST(seconds_rounded_up)
{
    ck_assert_int_eq(duration_ns_to_seconds(0), 0);
    ck_assert_int_eq(duration_ns_to_seconds(-5), 0);
    ck_assert_int_eq(duration_ns_to_seconds(1), 1);
    ck_assert_int_eq(duration_ns_to_seconds(SEC), 1);
    ck_assert_int_eq(duration_ns_to_seconds(SEC + 1), 2);
    ck_assert_int_eq(duration_ns_to_seconds(INT64_MAX), 9223372037LL);
}
END_TEST

static Suite *duration_suite(void)
{
    Suite *s = suite_create("duration");
    TCase *tc = tcase_create("go");
    tcase_add_loop_test(tc, go_parse_duration_tests, 0, (int)(sizeof go_ok / sizeof go_ok[0]));
    tcase_add_loop_test(tc, go_parse_duration_error_tests, 0,
                        (int)(sizeof go_bad / sizeof go_bad[0]));
    tcase_add_test(tc, days_extension);
    tcase_add_test(tc, seconds_rounded_up);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suites(duration_suite(), NULL);
}
