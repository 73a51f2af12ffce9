/* The run id: its check (the ASCII part of RDS's tag-value rule), the scheduler's
 * environment, minting, and the precedence of run_id_choose. */
#include <check.h>
#include "check_main.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/run_id.h"

#define T_2026_12_03_083027 1796286627LL

static void clear_env(void)
{
    unsetenv("AIRFLOW_CTX_DAG_ID");
    unsetenv("AIRFLOW_CTX_DAG_RUN_ID");
    unsetenv("NOMAD_JOB_ID");
    unsetenv("NOMAD_ALLOC_ID");
    unsetenv("RD_JOB_EXECID");
}

START_TEST(test_check)
{
    struct err e;
    err_clear(&e);
    /* what the schedulers make */
    ck_assert_int_eq(run_id_check("scheduled__2026-12-06T02:00:00+00:00", "x", 64, &e), 0);
    ck_assert_int_eq(
        run_id_check("refresh-production/manual__2026-12-06T02:00:00.123456+00:00", "x", 64, &e),
        0);
    ck_assert_int_eq(run_id_check("refresh/periodic-1795658400", "x", 64, &e), 0);
    ck_assert_int_eq(run_id_check("4711", "x", 64, &e), 0);
    ck_assert_int_eq(run_id_check("a@b=c", "x", ERR_USAGE, &e), 0);
    /* not a tag value */
    ck_assert_int_eq(run_id_check("", "-run-id", ERR_USAGE, &e), ERR_USAGE);
    ck_assert_int_eq(run_id_check(NULL, "-run-id", ERR_USAGE, &e), ERR_USAGE);
    ck_assert_int_eq(run_id_check("a~b", "-run-id", ERR_USAGE, &e), ERR_USAGE);
    ck_assert_ptr_nonnull(strstr(e.msg, "-run-id"));
    ck_assert_ptr_nonnull(strstr(e.msg, "'~'"));
    ck_assert_int_eq(run_id_check("a b", "runId", ERR_INPUT, &e), ERR_INPUT);
    ck_assert_int_eq(run_id_check("a\nX-Injected: yes", "runId", ERR_INPUT, &e), ERR_INPUT);
    ck_assert_ptr_nonnull(strstr(e.msg, "0x0a"));
    ck_assert_int_eq(run_id_check("caf\xc3\xa9", "runId", ERR_INPUT, &e), ERR_INPUT);
    char big[258];
    memset(big, 'a', 257);
    big[257] = '\0';
    ck_assert_int_eq(run_id_check(big, "runId", ERR_INPUT, &e), ERR_INPUT);
    ck_assert_ptr_nonnull(strstr(e.msg, "256"));
    big[256] = '\0';
    ck_assert_int_eq(run_id_check(big, "runId", 65, &e), 0);
}
END_TEST

START_TEST(test_from_env)
{
    char buf[RUN_ID_MAX + 1];
    const char *var;
    clear_env();
    ck_assert_ptr_null(run_id_from_env(buf, sizeof buf, &var));
    ck_assert_ptr_null(var);
    setenv("RD_JOB_EXECID", "4711", 1);
    ck_assert_str_eq(run_id_from_env(buf, sizeof buf, &var), "4711");
    ck_assert_str_eq(var, "RD_JOB_EXECID");
    setenv("NOMAD_ALLOC_ID", "5b0e-alloc", 1);
    setenv("NOMAD_JOB_ID", "refresh", 1); /* the parent job: same every run, not used */
    ck_assert_str_eq(run_id_from_env(buf, sizeof buf, &var), "5b0e-alloc");
    setenv("NOMAD_JOB_ID", "refresh/periodic-1795658400", 1);
    ck_assert_str_eq(run_id_from_env(buf, sizeof buf, &var), "refresh/periodic-1795658400");
    /* Airflow: a run_id is unique only within its DAG, so the DAG id goes first */
    setenv("AIRFLOW_CTX_DAG_RUN_ID", "scheduled__2026-12-06T02:00:00+00:00", 1);
    ck_assert_str_eq(run_id_from_env(buf, sizeof buf, &var),
                     "scheduled__2026-12-06T02:00:00+00:00");
    ck_assert_str_eq(var, "AIRFLOW_CTX_DAG_RUN_ID");
    setenv("AIRFLOW_CTX_DAG_ID", "refresh-billing", 1);
    ck_assert_str_eq(run_id_from_env(buf, sizeof buf, &var),
                     "refresh-billing/scheduled__2026-12-06T02:00:00+00:00");
    setenv("AIRFLOW_CTX_DAG_RUN_ID", "", 1); /* empty = unset */
    ck_assert_str_eq(run_id_from_env(buf, sizeof buf, &var), "refresh/periodic-1795658400");
    /* too long for a tag value: NULL, naming the variable */
    char big[300];
    memset(big, 'd', 250);
    big[250] = '\0';
    setenv("AIRFLOW_CTX_DAG_ID", big, 1);
    setenv("AIRFLOW_CTX_DAG_RUN_ID", "manual__2026-12-06T02:00:00+00:00", 1);
    ck_assert_ptr_null(run_id_from_env(buf, sizeof buf, &var));
    ck_assert_str_eq(var, "AIRFLOW_CTX_DAG_RUN_ID");
    clear_env();
}
END_TEST

START_TEST(test_mint)
{
    char a[RUN_ID_MAX + 1], b[RUN_ID_MAX + 1];
    struct err e;
    err_clear(&e);
    ck_assert_int_eq(run_id_mint(T_2026_12_03_083027, a, sizeof a, &e), 0);
    ck_assert_int_eq(run_id_mint(T_2026_12_03_083027, b, sizeof b, &e), 0);
    /* readable UTC time, then 64 random bits */
    ck_assert_uint_eq(strlen(a), 16 + 1 + 16);
    ck_assert_int_eq(strncmp(a, "20261203T083027Z-", 17), 0);
    ck_assert_uint_eq(strspn(a + 17, "0123456789abcdef"), 16);
    ck_assert_str_ne(a, b); /* the same second, two runs */
    ck_assert_int_eq(run_id_check(a, "minted", 70, &e), 0);
}
END_TEST

START_TEST(test_choose)
{
    char out[RUN_ID_MAX + 1];
    const char *origin;
    struct err e;
    err_clear(&e);
    clear_env();
    setenv("RD_JOB_EXECID", "4711", 1);
    /* -run-id > document > environment > minted */
    ck_assert_int_eq(run_id_choose("flag-1", "doc-1", 0, out, sizeof out, &origin, &e), 0);
    ck_assert_str_eq(out, "flag-1");
    ck_assert_str_eq(origin, "-run-id");
    ck_assert_int_eq(run_id_choose(NULL, "doc-1", 0, out, sizeof out, &origin, &e), 0);
    ck_assert_str_eq(out, "doc-1");
    ck_assert_int_eq(run_id_choose(NULL, NULL, 0, out, sizeof out, &origin, &e), 0);
    ck_assert_str_eq(out, "4711");
    ck_assert_str_eq(origin, "RD_JOB_EXECID");
    clear_env();
    ck_assert_int_eq(run_id_choose(NULL, NULL, T_2026_12_03_083027, out, sizeof out, &origin, &e),
                     0);
    ck_assert_str_eq(origin, "minted");
    ck_assert_int_eq(strncmp(out, "20261203T083027Z-", 17), 0);
    /* each source's own exit code, naming it */
    ck_assert_int_eq(run_id_choose("a b", NULL, 0, out, sizeof out, &origin, &e), ERR_USAGE);
    ck_assert_int_eq(run_id_choose(NULL, "a\tb", 0, out, sizeof out, &origin, &e), ERR_INPUT);
    ck_assert_ptr_nonnull(strstr(e.msg, "runId"));
    setenv("RD_JOB_EXECID", "a~b", 1);
    ck_assert_int_eq(run_id_choose(NULL, NULL, 0, out, sizeof out, &origin, &e), ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(e.msg, "RD_JOB_EXECID"));
    clear_env();
}
END_TEST

int main(void)
{
    return run_suites(
        SUITE_OF_TESTS("run_id", 0, test_check, test_from_env, test_mint, test_choose), NULL);
}
