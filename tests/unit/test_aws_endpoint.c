/* Endpoint resolution: defaults per partition, the override order, URL checks. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws_endpoint.h"
#include "check_main.h"

static void clear_env(void)
{
    unsetenv("AWS_ENDPOINT_URL");
    unsetenv("AWS_ENDPOINT_URL_RDS");
    unsetenv("AWS_ENDPOINT_URL_STS");
    unsetenv("AWS_ENDPOINT_URL_SECRETS_MANAGER");
    unsetenv("AWS_ENDPOINT_URL_SSM");
    unsetenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
    unsetenv("AWS_USE_FIPS_ENDPOINT");
}

START_TEST(test_defaults)
{
    clear_env();
    struct aws_endpoint ep;
    struct err e = {0};
    static const struct {
        const char *svc, *region, *url, *host;
    } t[] = {
        {"rds", "eu-west-1", "https://rds.eu-west-1.amazonaws.com/", "rds.eu-west-1.amazonaws.com"},
        {"sts", "us-east-2", "https://sts.us-east-2.amazonaws.com/", "sts.us-east-2.amazonaws.com"},
        {"secretsmanager", "ap-south-1", "https://secretsmanager.ap-south-1.amazonaws.com/",
         "secretsmanager.ap-south-1.amazonaws.com"},
        {"ssm", "cn-north-1", "https://ssm.cn-north-1.amazonaws.com.cn/",
         "ssm.cn-north-1.amazonaws.com.cn"},
        {"rds", "cn-northwest-1", "https://rds.cn-northwest-1.amazonaws.com.cn/",
         "rds.cn-northwest-1.amazonaws.com.cn"},
        {"rds", "us-gov-west-1", "https://rds.us-gov-west-1.amazonaws.com/",
         "rds.us-gov-west-1.amazonaws.com"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        ck_assert_int_eq(aws_endpoint_resolve(t[i].svc, t[i].region, NULL, &ep, &e), 0);
        ck_assert_str_eq(ep.url, t[i].url);
        ck_assert_str_eq(ep.host, t[i].host);
        ck_assert_str_eq(ep.path, "/");
        ck_assert_str_eq(ep.signing_name, t[i].svc);
        ck_assert_str_eq(ep.region, t[i].region);
        ck_assert_str_eq(ep.source, "default");
        aws_endpoint_release(&ep);
    }
    setenv("AWS_USE_FIPS_ENDPOINT", "true", 1);
    ck_assert_int_eq(aws_endpoint_resolve("rds", "us-east-1", NULL, &ep, &e), 0);
    ck_assert_str_eq(ep.host, "rds-fips.us-east-1.amazonaws.com");
    aws_endpoint_release(&ep);
}
END_TEST

START_TEST(test_override_order)
{
    clear_env();
    struct aws_endpoint ep;
    struct err e = {0};
    setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566", 1);
    setenv("AWS_ENDPOINT_URL_STS", "http://localhost:9000/sts", 1);
    setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://127.0.0.1:9001/", 1);

    /* RDS: the config's override wins over everything. */
    ck_assert_int_eq(
        aws_endpoint_resolve("rds", "us-east-1", "https://rds.example.internal:8443/x", &ep, &e),
        0);
    ck_assert_str_eq(ep.url, "https://rds.example.internal:8443/x/");
    ck_assert_str_eq(ep.host, "rds.example.internal:8443");
    ck_assert_str_eq(ep.path, "/x/");
    ck_assert_str_eq(ep.source, "config");
    ck_assert_str_eq(ep.signing_name, "rds");
    aws_endpoint_release(&ep);

    /* No config value: the generic variable. */
    ck_assert_int_eq(aws_endpoint_resolve("rds", "us-east-1", NULL, &ep, &e), 0);
    ck_assert_str_eq(ep.url, "http://127.0.0.1:4566/");
    ck_assert_str_eq(ep.host, "127.0.0.1:4566");
    ck_assert_str_eq(ep.source, "AWS_ENDPOINT_URL");
    aws_endpoint_release(&ep);

    ck_assert_int_eq(aws_endpoint_resolve("sts", "us-east-1", NULL, &ep, &e), 0);
    ck_assert_str_eq(ep.url, "http://localhost:9000/sts/");
    ck_assert_str_eq(ep.source, "AWS_ENDPOINT_URL_STS");
    ck_assert_str_eq(ep.signing_name, "sts"); /* signing name whatever the URL */
    aws_endpoint_release(&ep);

    ck_assert_int_eq(aws_endpoint_resolve("secretsmanager", "us-east-1", NULL, &ep, &e), 0);
    ck_assert_str_eq(ep.host, "127.0.0.1:9001");
    aws_endpoint_release(&ep);

    setenv("AWS_ENDPOINT_URL_SSM", "", 1); /* empty = unset */
    ck_assert_int_eq(aws_endpoint_resolve("ssm", "us-east-1", NULL, &ep, &e), 0);
    ck_assert_str_eq(ep.source, "AWS_ENDPOINT_URL");
    aws_endpoint_release(&ep);

    setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true", 1);
    ck_assert_int_eq(aws_endpoint_resolve("sts", "us-east-1", NULL, &ep, &e), 0);
    ck_assert_str_eq(ep.source, "default");
    aws_endpoint_release(&ep);
}
END_TEST

START_TEST(test_default_ports_and_case)
{
    clear_env();
    struct aws_endpoint ep;
    struct err e = {0};
    ck_assert_int_eq(
        aws_endpoint_resolve("rds", "us-east-1", "HTTPS://RDS.Example.COM:443", &ep, &e), 0);
    ck_assert_str_eq(ep.host, "rds.example.com");
    ck_assert_str_eq(ep.url, "https://rds.example.com/");
    aws_endpoint_release(&ep);
    ck_assert_int_eq(aws_endpoint_resolve("rds", "us-east-1", "http://[::1]:8080", &ep, &e), 0);
    ck_assert_str_eq(ep.host, "[::1]:8080");
    aws_endpoint_release(&ep);
    ck_assert_int_eq(aws_endpoint_resolve("rds", "us-east-1", "http://h:80/", &ep, &e), 0);
    ck_assert_str_eq(ep.host, "h");
    aws_endpoint_release(&ep);
}
END_TEST

START_TEST(test_invalid)
{
    clear_env();
    struct aws_endpoint ep;
    struct err e = {0};
    static const char *bad[] = {
        "ftp://x",        "rds.amazonaws.com", "https://",       "https://h:0", "https://h:99999",
        "https://h:12ab", "https://u:p@h/",    "https://h/?a=b", "https://h#f", "https://h:"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(aws_endpoint_resolve("rds", "us-east-1", bad[i], &ep, &e) == ERR_CONFIG,
                      "%s accepted", bad[i]);
        ck_assert_ptr_nonnull(strstr(e.msg, "aws.endpoint"));
        aws_endpoint_release(&ep);
    }
    setenv("AWS_ENDPOINT_URL_SSM", "nope", 1);
    ck_assert_int_eq(aws_endpoint_resolve("ssm", "us-east-1", NULL, &ep, &e), ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(e.msg, "AWS_ENDPOINT_URL_SSM"));
    aws_endpoint_release(&ep);

    ck_assert_int_eq(aws_endpoint_resolve("rds", NULL, NULL, &ep, &e), ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(e.msg, "aws.region"));
    aws_endpoint_release(&ep);
    ck_assert_int_eq(aws_endpoint_resolve("rds", "US East", NULL, &ep, &e), ERR_CONFIG);
    aws_endpoint_release(&ep);
    ck_assert_int_eq(aws_endpoint_resolve("s3", "us-east-1", NULL, &ep, &e), ERR_INTERNAL);
    aws_endpoint_release(&ep);
}
END_TEST

int main(void)
{
    return run_suites(SUITE_OF_TESTS("aws_endpoint", 0, test_defaults, test_override_order,
                                     test_default_ports_and_case, test_invalid),
                      NULL);
}
