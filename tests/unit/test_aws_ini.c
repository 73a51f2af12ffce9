/* aws_ini: the AWS shared config / credentials files as the SDKs read them. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "aws/aws_ini.h"
#include "check_main.h"
#include "tmpfiles.h"

static char *dir;

static void setup(void)
{
    dir = tmp_dir_new();
    setenv("HOME", dir, 1);
    unsetenv("AWS_CONFIG_FILE");
    unsetenv("AWS_SHARED_CREDENTIALS_FILE");
    unsetenv("AWS_PROFILE");
}

static void teardown(void)
{
    /* ~/.aws inside the temp dir, if a test made one */
    char *aws = NULL;
    if (asprintf(&aws, "%s/.aws", dir) >= 0) {
        tmp_dir_remove(aws);
    }
    tmp_dir_remove(dir);
    dir = NULL;
}

/* Writes the config (and credentials, if non-NULL) files and points the env at them. */
static void files(const char *config, const char *credentials)
{
    if (config != NULL) {
        char *p = tmp_write(dir, "config", config);
        setenv("AWS_CONFIG_FILE", p, 1);
        free(p);
    } else {
        setenv("AWS_CONFIG_FILE", "/nonexistent/drr-test/config", 1);
    }
    if (credentials != NULL) {
        char *p = tmp_write(dir, "credentials", credentials);
        setenv("AWS_SHARED_CREDENTIALS_FILE", p, 1);
        free(p);
    } else {
        setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/drr-test/credentials", 1);
    }
}

#define ck_get(profile, key, expected)                                                             \
    do {                                                                                           \
        char *v_ = aws_ini_get((profile), (key));                                                  \
        if ((expected) == NULL) {                                                                  \
            ck_assert_msg(v_ == NULL, "%s.%s: expected absent, got '%s'",                          \
                          (profile) ? (profile) : "(null)", (key), v_);                            \
        } else {                                                                                   \
            ck_assert_msg(v_ != NULL, "%s.%s: expected '%s', got absent",                          \
                          (profile) ? (profile) : "(null)", (key), (const char *)(expected));      \
            ck_assert_str_eq(v_, (expected));                                                      \
        }                                                                                          \
        free(v_);                                                                                  \
    } while (0)

START_TEST(profile_prefix_in_config)
{
    files("[default]\nregion = us-east-1\n"
          "[profile prod]\nregion = eu-west-1\n"
          "[staging]\nregion = ap-south-1\n",
          NULL);
    ck_get("default", "region", "us-east-1");
    ck_get(NULL, "region", "us-east-1");
    ck_get("prod", "region", "eu-west-1");
    /* [staging] without the prefix is not a profile in the config file */
    ck_get("staging", "region", NULL);
    ck_assert_int_eq(aws_ini_profile_exists("staging"), 0);
    ck_assert_int_eq(aws_ini_profile_exists("prod"), 1);
}
END_TEST

START_TEST(no_prefix_in_credentials)
{
    files(NULL, "[default]\naws_access_key_id = AKIDDEFAULT\n"
                "[prod]\naws_access_key_id = AKIDPROD\n"
                "[profile other]\naws_access_key_id = AKIDOTHER\n");
    ck_get("default", "aws_access_key_id", "AKIDDEFAULT");
    ck_get("prod", "aws_access_key_id", "AKIDPROD");
    /* "profile other" is a literal (odd) name in the credentials file */
    ck_get("other", "aws_access_key_id", NULL);
    ck_get("profile other", "aws_access_key_id", "AKIDOTHER");
}
END_TEST

START_TEST(profile_default_wins_over_default)
{
    files("[default]\nregion = us-east-1\noutput = json\n"
          "[profile default]\nregion = eu-central-1\n",
          NULL);
    ck_get("default", "region", "eu-central-1");
    /* the [default] section is ignored entirely, not merged */
    ck_get("default", "output", NULL);
}
END_TEST

START_TEST(credentials_file_wins)
{
    files("[profile prod]\nregion = eu-west-1\naws_access_key_id = AKIDFROMCONFIG\n"
          "role_arn = arn:aws:iam::123456789012:role/r\n",
          "[prod]\naws_access_key_id = AKIDFROMCREDS\nregion = us-west-2\n");
    ck_get("prod", "aws_access_key_id", "AKIDFROMCREDS");
    ck_get("prod", "region", "us-west-2");
    ck_get("prod", "role_arn", "arn:aws:iam::123456789012:role/r");
}
END_TEST

START_TEST(comments_and_whitespace)
{
    files("# a comment\n"
          "; another\n"
          "  [ profile   spaced ]   # trailing comment on a section line\n"
          "\tregion=us-east-2   ; inline comment\n"
          "output =  text#notacomment\n"
          "   \n"
          "[profile crlf]\r\n"
          "region = sa-east-1\r\n",
          NULL);
    ck_get("spaced", "region", "us-east-2");
    ck_get("spaced", "output", "text#notacomment");
    ck_get("crlf", "region", "sa-east-1");
}
END_TEST

START_TEST(case_insensitive_keys_case_sensitive_profiles)
{
    files(NULL, "[Prod]\nAWS_Access_Key_ID = AKIDUPPER\n");
    ck_get("Prod", "aws_access_key_id", "AKIDUPPER");
    ck_get("prod", "aws_access_key_id", NULL);
}
END_TEST

START_TEST(later_wins_and_sections_merge)
{
    files("[profile a]\nregion = us-east-1\n"
          "[profile b]\nregion = eu-west-1\n"
          "[profile a]\noutput = json\nregion = us-west-1\n",
          NULL);
    ck_get("a", "region", "us-west-1");
    ck_get("a", "output", "json");
    ck_get("b", "region", "eu-west-1");
}
END_TEST

START_TEST(continuation_lines)
{
    files("[profile s]\ns3 =\n  max_concurrent_requests = 10\n  addressing_style = path\n"
          "region = us-east-1\n",
          NULL);
    ck_get("s", "s3", "max_concurrent_requests = 10\naddressing_style = path");
    ck_get("s", "region", "us-east-1");
    ck_get("s", "max_concurrent_requests", NULL);
}
END_TEST

START_TEST(empty_value_is_absent)
{
    files("[default]\nregion =\n", "[default]\naws_session_token =   \n");
    ck_get("default", "region", NULL);
    ck_get("default", "aws_session_token", NULL);
    ck_assert_int_eq(aws_ini_profile_exists("default"), 1);
}
END_TEST

/* Issue 18, found by libFuzzer: an empty value on the last line without a final
 * newline made cut_property_comment start past the terminator (ASan:
 * heap-buffer-overflow). The same file with a final newline must read the same. */
START_TEST(empty_value_at_end_of_file)
{
    files("[default]\ncli_pager=", NULL);
    ck_get("default", "cli_pager", NULL);
    ck_assert_int_eq(aws_ini_profile_exists("default"), 1);
    files("[]\nng=", "[default]\nregion = eu-west-1\ncli_pager=");
    ck_get("default", "ng", NULL);
    ck_get("default", "region", "eu-west-1");
    ck_get("default", "cli_pager", NULL);
    files("[default]\nregion = us-east-1", NULL); /* a value at the end, no newline */
    ck_get("default", "region", "us-east-1");
    files("[profile s]\ns3 =\n  a = b", NULL); /* a continuation at the end */
    ck_get("s", "s3", "a = b");
    files("[default]\nregion = us-east-1 #", NULL);
    ck_get("default", "region", "us-east-1");
}
END_TEST

/* Files over AWS_INI_MAX_BYTES are refused with a line naming the file, and a
 * lookup in them finds nothing (not the part before the cap). */
START_TEST(size_cap)
{
    size_t n = AWS_INI_MAX_BYTES + 1;
    char *big = malloc(n + 1);
    ck_assert_ptr_nonnull(big);
    memset(big, '#', n);
    const char *head = "[default]\nregion = us-east-1\n";
    memcpy(big, head, strlen(head));
    big[n - 1] = '\n';
    big[n] = '\0';
    files(big, NULL);
    struct err e = {0};
    ck_assert_int_eq(aws_ini_check(&e), ERR_CONFIG);
    ck_assert_msg(strstr(e.msg, "AWS config file ") != NULL &&
                      strstr(e.msg, "/config: larger than "
                                    "1048576 bytes") != NULL,
                  "%s", e.msg);
    ck_get("default", "region", NULL);
    ck_assert_int_eq(aws_ini_profile_exists("default"), 0);
    files(NULL, big);
    ck_assert_int_eq(aws_ini_check(&e), ERR_CONFIG);
    ck_assert_msg(strstr(e.msg, "AWS credentials file ") != NULL, "%s", e.msg);
    big[n - 1] = '\0'; /* exactly at the cap: read */
    files(big, NULL);
    struct err ok = {0};
    ck_assert_int_eq(aws_ini_check(&ok), 0);
    ck_get("default", "region", "us-east-1");
    free(big);
}
END_TEST

START_TEST(missing_files)
{
    files(NULL, NULL);
    ck_get("default", "region", NULL);
    ck_assert_int_eq(aws_ini_profile_exists("default"), 0);
}
END_TEST

START_TEST(properties_before_any_section_and_garbage_ignored)
{
    files("region = us-east-1\n[default\nregion = eu-west-3\nnot a property line\n"
          "[default]\njunk\noutput = yaml\n",
          NULL);
    ck_get("default", "region", NULL);
    ck_get("default", "output", "yaml");
}
END_TEST

START_TEST(home_dot_aws)
{
    char *aws = NULL;
    ck_assert_int_ge(asprintf(&aws, "%s/.aws", dir), 0);
    ck_assert_int_eq(mkdir(aws, 0700), 0);
    char *p1 = tmp_write(aws, "config", "[profile h]\nregion = ca-central-1\n");
    char *p2 = tmp_write(aws, "credentials", "[h]\naws_access_key_id = AKIDHOME\n");
    ck_get("h", "region", "ca-central-1");
    ck_get("h", "aws_access_key_id", "AKIDHOME");
    /* "~/" in the override variables is expanded from $HOME */
    setenv("AWS_CONFIG_FILE", "~/.aws/credentials", 1);
    setenv("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/config", 1);
    ck_get("h", "aws_access_key_id", NULL); /* [h] is not a profile in a config file */
    free(p1);
    free(p2);
    free(aws);
}
END_TEST

START_TEST(aws_profile_env)
{
    files("[profile envp]\nregion = us-gov-west-1\n", NULL);
    ck_assert_str_eq(aws_ini_profile_name(NULL), "default");
    ck_assert_str_eq(aws_ini_profile_name(""), "default");
    setenv("AWS_PROFILE", "envp", 1);
    ck_assert_str_eq(aws_ini_profile_name(NULL), "envp");
    ck_assert_str_eq(aws_ini_profile_name("explicit"), "explicit");
    ck_get(NULL, "region", "us-gov-west-1");
    ck_get("explicit", "region", NULL);
}
END_TEST

START_TEST(profile_name_prefix_is_not_a_match)
{
    files("[profile prod-eu]\nregion = eu-west-1\n[profileprod]\nregion = x\n", NULL);
    ck_get("prod", "region", NULL);
    ck_get("profileprod", "region", NULL);
    ck_get("prod-eu", "region", "eu-west-1");
}
END_TEST

START_TEST(services_sections)
{
    files("[profile dev]\nservices = local\nendpoint_url = http://127.0.0.1:1\n"
          "[services local]\n"
          "rds =\n"
          "  endpoint_url = http://127.0.0.1:4566\n"
          "  other = x\n"
          "sts =\n"
          "  endpoint_url = http://127.0.0.1:4567\n"
          "[services   spaced]\nrds =\n  endpoint_url=http://h:2\n",
          NULL);
    char *svc = aws_ini_get("dev", "services");
    ck_assert_str_eq(svc, "local");
    char *rds = aws_ini_get_section("services", svc, "rds");
    ck_assert_str_eq(rds, "endpoint_url = http://127.0.0.1:4566\nother = x");
    char *url = aws_ini_subproperty(rds, "endpoint_url");
    ck_assert_str_eq(url, "http://127.0.0.1:4566");
    free(url);
    ck_assert_ptr_null(aws_ini_subproperty(rds, "missing"));
    ck_assert_ptr_null(aws_ini_subproperty(NULL, "endpoint_url"));
    char *sts = aws_ini_get_section("services", "local", "STS");
    url = aws_ini_subproperty(sts, "ENDPOINT_URL");
    ck_assert_str_eq(url, "http://127.0.0.1:4567");
    free(url);
    free(sts);
    char *sp = aws_ini_get_section("services", "spaced", "rds");
    url = aws_ini_subproperty(sp, "endpoint_url");
    ck_assert_str_eq(url, "http://h:2");
    free(url);
    free(sp);
    /* a services section is not a profile, and a profile is not a services section */
    ck_assert_int_eq(aws_ini_profile_exists("local"), 0);
    ck_assert_ptr_null(aws_ini_get_section("services", "dev", "services"));
    ck_assert_ptr_null(aws_ini_get_section("services", "nope", "rds"));
    free(rds);
    free(svc);
}
END_TEST

static Suite *aws_ini_suite(void)
{
    Suite *s = suite_create("aws_ini");
    TCase *tc = tcase_create("files");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, profile_prefix_in_config);
    tcase_add_test(tc, no_prefix_in_credentials);
    tcase_add_test(tc, profile_default_wins_over_default);
    tcase_add_test(tc, credentials_file_wins);
    tcase_add_test(tc, comments_and_whitespace);
    tcase_add_test(tc, case_insensitive_keys_case_sensitive_profiles);
    tcase_add_test(tc, later_wins_and_sections_merge);
    tcase_add_test(tc, continuation_lines);
    tcase_add_test(tc, empty_value_is_absent);
    tcase_add_test(tc, empty_value_at_end_of_file);
    tcase_add_test(tc, size_cap);
    tcase_add_test(tc, missing_files);
    tcase_add_test(tc, properties_before_any_section_and_garbage_ignored);
    tcase_add_test(tc, home_dot_aws);
    tcase_add_test(tc, aws_profile_env);
    tcase_add_test(tc, profile_name_prefix_is_not_a_match);
    tcase_add_test(tc, services_sections);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suites(aws_ini_suite(), NULL);
}
