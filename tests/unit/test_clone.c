/* Clone naming, the tag set, the guard, garbage-collection eligibility and the
 * adaptive poll schedule. */
#include <check.h>
#include "check_main.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clone.h"
#include "clone_poll.h"
#include "config.h"
#include "exitcodes.h"

#define T_2026_11_26_020000 1795658400LL

static void managed_tags(struct rds_tags *t)
{
    memset(t, 0, sizeof *t);
    rds_tags_add(t, "ManagedBy", "dblab-rds-refresh");
    rds_tags_add(t, "AutoDelete", "true");
    rds_tags_add(t, "DeleteAfter", "2026-11-28T02:00:00Z");
    rds_tags_add(t, "dblab-rds-refresh:snapshot", "rds:production-db-2026-11-25-03-10");
}

START_TEST(test_name_for_time)
{
    char name[CLONE_NAME_MAX + 1];
    clone_name_for_time(T_2026_11_26_020000 + 3661, name, sizeof name);
    ck_assert_str_eq(name, "dblab-refresh-20261126-030101");
    struct err e;
    err_clear(&e);
    ck_assert_int_eq(clone_name_check(name, &e), 0);
}
END_TEST

START_TEST(test_name_for_run_id)
{
    char a[CLONE_NAME_MAX + 1], b[CLONE_NAME_MAX + 1], c[CLONE_NAME_MAX + 1];
    struct err e;
    err_clear(&e);
    const char *airflow = "scheduled__2026-11-26T02:00:00+00:00";
    clone_name_for_run_id(airflow, a, sizeof a);
    clone_name_for_run_id(airflow, b, sizeof b);
    ck_assert_str_eq(a, b); /* deterministic: a retried step finds its clone */
    ck_assert_int_eq(clone_name_check(a, &e), 0);
    ck_assert_int_eq(strncmp(a, "dblab-refresh-scheduled-2026-11-26t02-00-00-00", 45), 0);
    ck_assert_uint_le(strlen(a), CLONE_NAME_MAX);

    /* Another run, another name, even when the slugs collide. */
    clone_name_for_run_id("scheduled__2026-11-26T02:00:00+00:01", c, sizeof c);
    ck_assert_str_ne(a, c);
    clone_name_for_run_id("a_b", b, sizeof b);
    clone_name_for_run_id("a-b", c, sizeof c);
    ck_assert_str_ne(b, c);
    ck_assert_int_eq(strncmp(b, "dblab-refresh-a-b-", 18), 0);

    /* Nothing usable in the run id: the hash alone. */
    clone_name_for_run_id("___ \xc3\xa9\xc3\xa9 !!", b, sizeof b);
    ck_assert_int_eq(clone_name_check(b, &e), 0);
    ck_assert_uint_eq(strlen(b), strlen(CLONE_PREFIX) + 8);

    /* Long ids are cut, never past the limit, never ending in a hyphen. */
    char longid[400];
    memset(longid, 'x', sizeof longid - 1);
    longid[sizeof longid - 1] = '\0';
    longid[30] = '-';
    longid[31] = '-';
    clone_name_for_run_id(longid, b, sizeof b);
    ck_assert_int_eq(clone_name_check(b, &e), 0);
    ck_assert_uint_le(strlen(b), CLONE_NAME_MAX);
    ck_assert_uint_ge(strlen(b), CLONE_NAME_MAX - 1); /* the cut hyphen */
    for (int i = 0; i < 200; i++) {
        char id[32];
        snprintf(id, sizeof id, "%d-%d__--", i, i * 7);
        clone_name_for_run_id(id, b, sizeof b);
        ck_assert_msg(clone_name_check(b, &e) == 0, "%s -> %s: %s", id, b, e.msg);
    }
    /* Nomad / Rundeck shapes */
    clone_name_for_run_id("refresh/periodic-1795658400", b, sizeof b);
    ck_assert_int_eq(strncmp(b, "dblab-refresh-refresh-periodic-1795658400-", 42), 0);
    clone_name_for_run_id("12345", b, sizeof b);
    ck_assert_int_eq(strncmp(b, "dblab-refresh-12345-", 20), 0);
}
END_TEST

START_TEST(test_name_check)
{
    struct err e;
    err_clear(&e);
    ck_assert_int_eq(clone_name_check("dblab-refresh-1", &e), 0);
    ck_assert_int_eq(clone_name_check("", &e), DRR_EXIT_USAGE);
    ck_assert_int_eq(clone_name_check(NULL, &e), DRR_EXIT_USAGE);
    ck_assert_int_eq(clone_name_check("production-db", &e), DRR_EXIT_USAGE);
    ck_assert_ptr_nonnull(strstr(e.msg, "dblab-refresh-"));
    ck_assert_int_eq(clone_name_check("dblab-refresh-", &e), DRR_EXIT_USAGE);
    ck_assert_int_eq(clone_name_check("dblab-refresh--x", &e), DRR_EXIT_USAGE);
    ck_assert_int_eq(clone_name_check("dblab-refresh-X", &e), DRR_EXIT_USAGE);
    ck_assert_int_eq(clone_name_check("dblab-refresh-a_b", &e), DRR_EXIT_USAGE);
    ck_assert_int_eq(clone_name_check("dblab-refresh-a;rm", &e), DRR_EXIT_USAGE);
    char longname[80];
    snprintf(longname, sizeof longname, "dblab-refresh-%s",
             "01234567890123456789012345678901234567890");
    ck_assert_int_eq(clone_name_check(longname, &e), DRR_EXIT_USAGE); /* 54 + "-instance" */
    longname[CLONE_NAME_MAX] = '\0';
    ck_assert_int_eq(clone_name_check(longname, &e), 0);
}
END_TEST

START_TEST(test_run_id_from_env)
{
    const char *var;
    unsetenv("AIRFLOW_CTX_DAG_RUN_ID");
    unsetenv("NOMAD_JOB_ID");
    unsetenv("NOMAD_ALLOC_ID");
    unsetenv("RD_JOB_EXECID");
    ck_assert_ptr_null(clone_run_id_from_env(&var));
    ck_assert_ptr_null(var);
    setenv("RD_JOB_EXECID", "4711", 1);
    ck_assert_str_eq(clone_run_id_from_env(&var), "4711");
    ck_assert_str_eq(var, "RD_JOB_EXECID");
    setenv("NOMAD_ALLOC_ID", "5b0e-alloc", 1);
    setenv("NOMAD_JOB_ID", "refresh", 1); /* the parent job: same every run, not used */
    ck_assert_str_eq(clone_run_id_from_env(&var), "5b0e-alloc");
    setenv("NOMAD_JOB_ID", "refresh/periodic-1795658400", 1);
    ck_assert_str_eq(clone_run_id_from_env(&var), "refresh/periodic-1795658400");
    setenv("AIRFLOW_CTX_DAG_RUN_ID", "manual__x", 1);
    ck_assert_str_eq(clone_run_id_from_env(&var), "manual__x");
    ck_assert_str_eq(var, "AIRFLOW_CTX_DAG_RUN_ID");
    setenv("AIRFLOW_CTX_DAG_RUN_ID", "", 1); /* empty = unset */
    ck_assert_str_eq(clone_run_id_from_env(&var), "refresh/periodic-1795658400");
    unsetenv("AIRFLOW_CTX_DAG_RUN_ID");
    unsetenv("NOMAD_JOB_ID");
    unsetenv("NOMAD_ALLOC_ID");
    unsetenv("RD_JOB_EXECID");
}
END_TEST

START_TEST(test_tags_build)
{
    struct config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.clone.max_age = 48 * 3600;
    struct config_tag user[] = {{"team", "data"}, {"ManagedBy", "someone-else"},
                                {"AutoDelete", "false"}};
    cfg.clone.tags = user;
    cfg.clone.n_tags = 3;
    struct rds_tags t = {NULL, 0};
    clone_tags_build(&t, &cfg, "production-db", "rds:production-db-2026-11-25-03-10", "run-1",
                     T_2026_11_26_020000);
    ck_assert_str_eq(rds_tags_get(&t, "ManagedBy"), "dblab-rds-refresh");
    ck_assert_str_eq(rds_tags_get(&t, "AutoDelete"), "true");
    ck_assert_str_eq(rds_tags_get(&t, "DeleteAfter"), "2026-11-28T02:00:00Z");
    ck_assert_str_eq(rds_tags_get(&t, CLONE_TAG_SOURCE), "production-db");
    ck_assert_str_eq(rds_tags_get(&t, CLONE_TAG_SNAPSHOT), "rds:production-db-2026-11-25-03-10");
    ck_assert_str_eq(rds_tags_get(&t, CLONE_TAG_RUN_ID), "run-1");
    ck_assert_str_eq(rds_tags_get(&t, "team"), "data");
    ck_assert_uint_eq(t.n, 7); /* the user's ManagedBy / AutoDelete never override ours */
    rds_tags_free(&t);

    clone_tags_build(&t, &cfg, "production-db", "s", NULL, T_2026_11_26_020000);
    ck_assert_ptr_null(rds_tags_get(&t, CLONE_TAG_RUN_ID));
    rds_tags_free(&t);
}
END_TEST

START_TEST(test_guard)
{
    struct err e;
    err_clear(&e);
    struct rds_tags t;
    managed_tags(&t);
    struct rds_tags none = {NULL, 0};
    struct rds_tags other = {NULL, 0};
    rds_tags_add(&other, "ManagedBy", "terraform");

    ck_assert_int_eq(clone_guard_check("DB instance", "dblab-refresh-1", &t, "production-db", &e), 0);
    /* an unrelated instance, even with our tags */
    ck_assert_int_eq(clone_guard_check("DB instance", "billing-db", &t, "production-db", &e),
                     DRR_EXIT_GUARD);
    ck_assert_ptr_nonnull(strstr(e.msg, "billing-db"));
    /* the trap: our prefix, not our tag */
    ck_assert_int_eq(clone_guard_check("DB instance", "dblab-refresh-legacy", &none,
                                       "production-db", &e), DRR_EXIT_GUARD);
    ck_assert_ptr_nonnull(strstr(e.msg, "ManagedBy"));
    ck_assert_int_eq(clone_guard_check("DB instance", "dblab-refresh-legacy", &other,
                                       "production-db", &e), DRR_EXIT_GUARD);
    ck_assert_int_eq(clone_guard_check("DB instance", "dblab-refresh-legacy", NULL,
                                       "production-db", &e), DRR_EXIT_GUARD);
    /* the source is refused whatever its name and tags say */
    ck_assert_int_eq(clone_guard_check("DB instance", "dblab-refresh-src", &t, "dblab-refresh-src",
                                       &e), DRR_EXIT_GUARD);
    ck_assert_ptr_nonnull(strstr(e.msg, "source"));
    ck_assert_int_eq(clone_guard_check("DB instance", "DBLAB-REFRESH-SRC", &t, "dblab-refresh-src",
                                       &e), DRR_EXIT_GUARD);
    ck_assert_int_eq(clone_guard_check("DB instance", NULL, &t, "x", &e), DRR_EXIT_GUARD);
    ck_assert_int_eq(clone_guard_check("DB instance", "", &t, "x", &e), DRR_EXIT_GUARD);
    /* a prefix that only looks like ours */
    ck_assert_int_eq(clone_guard_check("DB instance", "dblab-refreshx", &t, "x", &e), DRR_EXIT_GUARD);

    /* adoption: ours AND from the same snapshot */
    ck_assert_int_eq(clone_adopt_check("DB instance", "dblab-refresh-1", &t, "production-db",
                                       "rds:production-db-2026-11-25-03-10", &e), 0);
    ck_assert_int_eq(clone_adopt_check("DB instance", "dblab-refresh-1", &t, "production-db",
                                       "rds:production-db-2026-11-26-03-10", &e), DRR_EXIT_GUARD);
    ck_assert_ptr_nonnull(strstr(e.msg, "2026-11-25"));
    ck_assert_int_eq(clone_adopt_check("DB instance", "dblab-refresh-legacy", &none,
                                       "production-db", "s", &e), DRR_EXIT_GUARD);
    ck_assert_ptr_nonnull(strstr(e.msg, "cannot be adopted"));
    rds_tags_free(&t);
    rds_tags_free(&other);
}
END_TEST

START_TEST(test_gc_eligible)
{
    const char *why;
    struct rds_tags t;
    managed_tags(&t); /* DeleteAfter 2026-11-28T02:00:00Z */
    int64_t now = T_2026_11_26_020000;
    int64_t created = now - 3600;
    int64_t max_age = 48 * 3600;
    ck_assert_int_eq(clone_gc_eligible("dblab-refresh-1", &t, created, "p", max_age, now, &why), 0);
    ck_assert_str_eq(why, "not expired");
    /* DeleteAfter passed */
    ck_assert_int_eq(clone_gc_eligible("dblab-refresh-1", &t, created, "p", max_age,
                                       now + 2 * 86400, &why), 1);
    ck_assert_str_eq(why, "DeleteAfter has passed");
    /* older than the maximum age (-max-age 30m) */
    ck_assert_int_eq(clone_gc_eligible("dblab-refresh-1", &t, created, "p", 1800, now, &why), 1);
    ck_assert_str_eq(why, "older than the maximum age");
    /* age unknown while creating (no InstanceCreateTime): only DeleteAfter decides */
    ck_assert_int_eq(clone_gc_eligible("dblab-refresh-1", &t, 0, "p", 1800, now, &why), 0);
    /* never the unmanaged, never the source, never AutoDelete=false */
    ck_assert_int_eq(clone_gc_eligible("billing-db", &t, created, "p", 1, now + 9e6, &why), 0);
    ck_assert_int_eq(clone_gc_eligible("dblab-refresh-1", &t, created, "dblab-refresh-1", 1,
                                       now + 9e6, &why), 0);
    struct rds_tags keep;
    memset(&keep, 0, sizeof keep);
    rds_tags_add(&keep, "ManagedBy", "dblab-rds-refresh");
    rds_tags_add(&keep, "AutoDelete", "false");
    rds_tags_add(&keep, "DeleteAfter", "2000-01-01T00:00:00Z");
    ck_assert_int_eq(clone_gc_eligible("dblab-refresh-2", &keep, created, "p", 1, now, &why), 0);
    ck_assert_str_eq(why, "AutoDelete is not true");
    struct rds_tags none = {NULL, 0};
    ck_assert_int_eq(clone_gc_eligible("dblab-refresh-legacy", &none, 1, "p", 1, now, &why), 0);
    /* an unparsable DeleteAfter does not make a clone eligible by itself */
    struct rds_tags bad;
    memset(&bad, 0, sizeof bad);
    rds_tags_add(&bad, "ManagedBy", "dblab-rds-refresh");
    rds_tags_add(&bad, "AutoDelete", "true");
    rds_tags_add(&bad, "DeleteAfter", "tomorrow");
    ck_assert_int_eq(clone_gc_eligible("dblab-refresh-3", &bad, created, "p", max_age, now, &why), 0);
    rds_tags_free(&t);
    rds_tags_free(&keep);
    rds_tags_free(&bad);
}
END_TEST

/* The numbers of the closing note: a 20-minute restore. */
START_TEST(test_poll_schedule)
{
    unsetenv("DBLAB_RDS_REFRESH_POLL_SCALE");
    struct poll_schedule p;
    poll_init(&p, 42);
    double first = poll_next(&p);
    ck_assert(first <= POLL_FIRST && first >= POLL_FIRST * (1 - POLL_JITTER));
    double prev = first;
    for (int i = 0; i < 200; i++) {
        double d = poll_next(&p);
        ck_assert(d <= POLL_CAP);                 /* the detection bound */
        ck_assert(d >= POLL_FIRST * (1 - POLL_JITTER));
        prev = d;
    }
    ck_assert(prev >= POLL_CAP * (1 - POLL_JITTER));

    int worst_calls = 0;
    double worst_delay = 0, sum_calls = 0;
    for (uint64_t seed = 1; seed <= 1000; seed++) {
        int calls;
        double delay;
        poll_init(&p, seed);
        poll_simulate(&p, 1200, &calls, &delay);
        ck_assert(delay <= POLL_CAP);
        if (calls > worst_calls)
            worst_calls = calls;
        if (delay > worst_delay)
            worst_delay = delay;
        sum_calls += calls;
    }
    int fixed = 1 + 1200 / 30;
    printf("poll schedule, 20-minute restore: adaptive %.1f describe calls on average "
           "(at most %d), worst detection delay %.1f s; fixed 30 s poll: %d calls, 30 s\n",
           sum_calls / 1000, worst_calls, worst_delay, fixed);

    /* scaled for tests against a fast emulator clock */
    setenv("DBLAB_RDS_REFRESH_POLL_SCALE", "0.01", 1);
    poll_init(&p, 7);
    ck_assert(poll_next(&p) <= POLL_FIRST * 0.01);
    setenv("DBLAB_RDS_REFRESH_POLL_SCALE", "nonsense", 1);
    ck_assert(poll_scale() == 1.0);
    unsetenv("DBLAB_RDS_REFRESH_POLL_SCALE");
}
END_TEST

int main(void)
{
    return run_suites(SUITE_OF_TESTS("clone", 0,
                                     test_name_for_time,
                                     test_name_for_run_id,
                                     test_name_check,
                                     test_run_id_from_env,
                                     test_tags_build,
                                     test_guard,
                                     test_gc_eligible,
                                     test_poll_schedule),
                      NULL);
}
