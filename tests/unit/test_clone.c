/* Clone naming, the tag set, the guard, garbage-collection eligibility and the
 * adaptive poll schedule. */
#include <check.h>
#include "check_main.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "rds/clone.h"
#include "rds/clone_poll.h"

#define T_2026_11_26_020000 1795658400LL

/* A clone of pipeline production-db (source production-db), run "run-1". */
static void managed_tags(struct rds_tags *t)
{
    memset(t, 0, sizeof *t);
    rds_tags_add(t, "ManagedBy", "dblab-rds-refresh");
    rds_tags_add(t, "AutoDelete", "true");
    rds_tags_add(t, "DeleteAfter", "2026-11-28T02:00:00Z");
    rds_tags_add(t, "dblab-rds-refresh:source", "production-db");
    rds_tags_add(t, "dblab-rds-refresh:pipeline", "production-db");
    rds_tags_add(t, "dblab-rds-refresh:snapshot", "rds:production-db-2026-11-25-03-10");
    rds_tags_add(t, "dblab-rds-refresh:run-id", "run-1");
}

static const struct clone_owner production = {
    .config_source = "production-db", .pipeline = "production-db", .source = "production-db"};
static const struct clone_owner billing_owner = {
    .config_source = "billing-db", .pipeline = "billing-db", .source = "billing-db"};

START_TEST(test_pipeline_name)
{
    ck_assert(clone_pipeline_ok("production-db"));
    ck_assert(clone_pipeline_ok("a"));
    ck_assert(clone_pipeline_ok("billing-db-2"));
    ck_assert(!clone_pipeline_ok(""));
    ck_assert(!clone_pipeline_ok(NULL));
    ck_assert(!clone_pipeline_ok("Production-db"));
    ck_assert(!clone_pipeline_ok("1db"));
    ck_assert(!clone_pipeline_ok("a--b"));
    ck_assert(!clone_pipeline_ok("a-"));
    ck_assert(!clone_pipeline_ok("a_b"));
    ck_assert(!clone_pipeline_ok("a b"));
    char n64[65];
    memset(n64, 'a', 64);
    n64[64] = '\0';
    ck_assert(!clone_pipeline_ok(n64));
    n64[63] = '\0';
    ck_assert(clone_pipeline_ok(n64));
    char out[CLONE_PIPELINE_MAX + 1];
    clone_pipeline_default("Production-DB", out, sizeof out);
    ck_assert_str_eq(out, "production-db");
    ck_assert(clone_pipeline_ok(out));
}
END_TEST

/* Expected hashes computed outside C: python3 -c 'import hashlib;
 * print(hashlib.sha256(b"production-db\0scheduled__2026-12-06T02:00:00+00:00").hexdigest()[:16])' */
START_TEST(test_name_rule)
{
    char a[CLONE_NAME_MAX + 1], b[CLONE_NAME_MAX + 1];
    struct err e;
    err_clear(&e);
    const char *airflow = "scheduled__2026-12-06T02:00:00+00:00";
    clone_name("production-db", airflow, a, sizeof a);
    ck_assert_str_eq(a, "dblab-refresh-production-db-scheduled-7c10a96f0f1de50b");
    clone_name("production-db", airflow, b, sizeof b);
    ck_assert_str_eq(a, b); /* deterministic: a retried step finds its clone */
    ck_assert_int_eq(clone_name_check(a, &e), 0);
    ck_assert_uint_le(strlen(a), CLONE_NAME_MAX);

    /* The same Airflow run_id in two pipelines (two DAGs): two names. */
    clone_name("billing-db", airflow, b, sizeof b);
    ck_assert_str_eq(b, "dblab-refresh-billing-db-scheduled-20-4311b66c9b82f817");
    ck_assert_str_ne(a, b);

    /* Two runs minted in the same second on two hosts: the random part differs. */
    clone_name("production-db", "20261203T083027Z-0000000000000001", a, sizeof a);
    clone_name("production-db", "20261203T083027Z-0000000000000002", b, sizeof b);
    ck_assert_str_eq(a, "dblab-refresh-production-db-20261203t-b11ac43f4fda3942");
    ck_assert_str_ne(a, b);

    /* The separator: ("ab", "c") and ("a", "bc") are different pairs. */
    clone_name("ab", "c", a, sizeof a);
    clone_name("a", "bc", b, sizeof b);
    ck_assert_str_eq(a, "dblab-refresh-ab-c-6c032e631d39a14d");
    ck_assert_str_eq(b, "dblab-refresh-a-bc-40bb547d936bbd31");

    /* Nothing readable in the run id: pipeline and hash. */
    clone_name("p", "___", a, sizeof a);
    ck_assert_int_eq(clone_name_check(a, &e), 0);
    ck_assert_uint_eq(strlen(a), strlen(CLONE_PREFIX) + 2 + 16);

    /* The longest pipeline and run id: cut, never past the limit, never a double or
     * trailing hyphen. */
    char pl[CLONE_PIPELINE_MAX + 1], rid[257];
    memset(pl, 'p', CLONE_PIPELINE_MAX);
    pl[CLONE_PIPELINE_MAX] = '\0';
    pl[13] = '-';
    memset(rid, 'r', 256);
    rid[256] = '\0';
    rid[7] = '/';
    rid[8] = '/';
    clone_name(pl, rid, a, sizeof a);
    ck_assert_msg(clone_name_check(a, &e) == 0, "%s: %s", a, e.msg);
    ck_assert_uint_le(strlen(a), CLONE_NAME_MAX);
    for (int i = 0; i < 300; i++) {
        char id[40];
        snprintf(id, sizeof id, "%d-%d__--/+:%d", i, i * 7, i % 3);
        clone_name(i % 2 ? "a-b" : "production-db", id, b, sizeof b);
        ck_assert_msg(clone_name_check(b, &e) == 0, "%s -> %s: %s", id, b, e.msg);
    }
}
END_TEST

static int cmp_names(const void *x, const void *y)
{
    return strcmp((const char *)x, (const char *)y);
}

/* 50,000 runs of two pipelines that share their run ids, all started in the same
 * second: every name distinct (64-bit H: a collision among n names has probability
 * <= n^2 / 2^65, here about 7e-11). Kept small enough for the sanitizer build. */
START_TEST(test_name_no_collision)
{
    enum { N = 25000 };
    char(*names)[CLONE_NAME_MAX + 1] = malloc(2 * N * sizeof *names);
    ck_assert_ptr_nonnull(names);
    for (int i = 0; i < N; i++) {
        char rid[64];
        snprintf(rid, sizeof rid, "20261203T083027Z-%016x", (unsigned)i * 2654435761u);
        clone_name("production-db", rid, names[2 * i], sizeof names[0]);
        clone_name("billing-db", rid, names[2 * i + 1], sizeof names[0]);
    }
    qsort(names, 2 * N, sizeof names[0], cmp_names);
    for (int i = 1; i < 2 * N; i++)
        ck_assert_msg(strcmp(names[i - 1], names[i]) != 0, "collision: %s", names[i]);
    free(names);
}
END_TEST

START_TEST(test_name_check)
{
    struct err e;
    err_clear(&e);
    ck_assert_int_eq(clone_name_check("dblab-refresh-1", &e), 0);
    ck_assert_int_eq(clone_name_check("", &e), ERR_USAGE);
    ck_assert_int_eq(clone_name_check(NULL, &e), ERR_USAGE);
    ck_assert_int_eq(clone_name_check("production-db", &e), ERR_USAGE);
    ck_assert_ptr_nonnull(strstr(e.msg, "dblab-refresh-"));
    ck_assert_int_eq(clone_name_check("dblab-refresh-", &e), ERR_USAGE);
    ck_assert_int_eq(clone_name_check("dblab-refresh--x", &e), ERR_USAGE);
    ck_assert_int_eq(clone_name_check("dblab-refresh-X", &e), ERR_USAGE);
    ck_assert_int_eq(clone_name_check("dblab-refresh-a_b", &e), ERR_USAGE);
    ck_assert_int_eq(clone_name_check("dblab-refresh-a;rm", &e), ERR_USAGE);
    char longname[80];
    snprintf(longname, sizeof longname, "dblab-refresh-%s",
             "01234567890123456789012345678901234567890");
    ck_assert_int_eq(clone_name_check(longname, &e), ERR_USAGE); /* 54 + "-instance" */
    longname[CLONE_NAME_MAX] = '\0';
    ck_assert_int_eq(clone_name_check(longname, &e), 0);
}
END_TEST

START_TEST(test_tags_build)
{
    struct config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.clone.max_age = 48 * 3600;
    cfg.source.identifier = "production-db";
    cfg.clone.pipeline = "nightly";
    struct config_tag user[] = {{"team", "data"},
                                {"ManagedBy", "someone-else"},
                                {"AutoDelete", "false"},
                                {"dblab-rds-refresh:pipeline", "x"}};
    cfg.clone.tags = user;
    cfg.clone.n_tags = 4;
    struct rds_tags t = {NULL, 0};
    clone_tags_build(&t, &cfg, "rds:production-db-2026-11-25-03-10", "run-1", T_2026_11_26_020000);
    ck_assert_str_eq(rds_tags_get(&t, "ManagedBy"), "dblab-rds-refresh");
    ck_assert_str_eq(rds_tags_get(&t, "AutoDelete"), "true");
    ck_assert_str_eq(rds_tags_get(&t, "DeleteAfter"), "2026-11-28T02:00:00Z");
    ck_assert_str_eq(rds_tags_get(&t, CLONE_TAG_SOURCE), "production-db");
    ck_assert_str_eq(rds_tags_get(&t, CLONE_TAG_PIPELINE), "nightly");
    ck_assert_str_eq(rds_tags_get(&t, CLONE_TAG_SNAPSHOT), "rds:production-db-2026-11-25-03-10");
    ck_assert_str_eq(rds_tags_get(&t, CLONE_TAG_RUN_ID), "run-1");
    ck_assert_str_eq(rds_tags_get(&t, "team"), "data");
    ck_assert_uint_eq(t.n, 8); /* the user's reserved keys never override ours */
    rds_tags_release(&t);
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
    const struct clone_owner *o = &production;

    ck_assert_int_eq(clone_guard_check("DB instance", "dblab-refresh-1", &t, o, &e), 0);
    /* an unrelated instance, even with our tags */
    ck_assert_int_eq(clone_guard_check("DB instance", "billing-db", &t, o, &e), ERR_GUARD);
    ck_assert_ptr_nonnull(strstr(e.msg, "billing-db"));
    /* the trap: our prefix, not our tag */
    ck_assert_int_eq(clone_guard_check("DB instance", "dblab-refresh-legacy", &none, o, &e),
                     ERR_GUARD);
    ck_assert_ptr_nonnull(strstr(e.msg, "ManagedBy"));
    ck_assert_int_eq(clone_guard_check("DB instance", "dblab-refresh-legacy", &other, o, &e),
                     ERR_GUARD);
    ck_assert_int_eq(clone_guard_check("DB instance", "dblab-refresh-legacy", NULL, o, &e),
                     ERR_GUARD);
    /* the source is refused whatever its name and tags say */
    struct clone_owner src = {.config_source = "dblab-refresh-src"};
    ck_assert_int_eq(clone_guard_check("DB instance", "dblab-refresh-src", &t, &src, &e),
                     ERR_GUARD);
    ck_assert_ptr_nonnull(strstr(e.msg, "source"));
    ck_assert_int_eq(clone_guard_check("DB instance", "DBLAB-REFRESH-SRC", &t, &src, &e),
                     ERR_GUARD);
    ck_assert_int_eq(clone_guard_check("DB instance", NULL, &t, o, &e), ERR_GUARD);
    ck_assert_int_eq(clone_guard_check("DB instance", "", &t, o, &e), ERR_GUARD);
    /* a prefix that only looks like ours */
    ck_assert_int_eq(clone_guard_check("DB instance", "dblab-refreshx", &t, o, &e), ERR_GUARD);

    /* another pipeline's clone: refused, naming the tag that differs */
    struct clone_owner billing = {
        .config_source = "billing-db", .pipeline = "billing-db", .source = "billing-db"};
    ck_assert_int_eq(clone_guard_check("DB instance", "dblab-refresh-1", &t, &billing, &e),
                     ERR_GUARD);
    ck_assert_ptr_nonnull(strstr(e.msg, "dblab-rds-refresh:pipeline is \"production-db\""));
    ck_assert_ptr_nonnull(strstr(e.msg, "\"billing-db\""));
    /* same pipeline name, another source */
    struct clone_owner same_name = {
        .config_source = "billing-db", .pipeline = "production-db", .source = "billing-db"};
    ck_assert_int_eq(clone_guard_check("DB instance", "dblab-refresh-1", &t, &same_name, &e),
                     ERR_GUARD);
    ck_assert_ptr_nonnull(strstr(e.msg, "dblab-rds-refresh:source"));
    /* the source tag compares case-insensitively (RDS identifiers do) */
    struct clone_owner upper = {
        .config_source = "PRODUCTION-DB", .pipeline = "production-db", .source = "PRODUCTION-DB"};
    ck_assert_int_eq(clone_guard_check("DB instance", "dblab-refresh-1", &t, &upper, &e), 0);
    /* a named run: its run id must be on the clone */
    struct clone_owner run1 = production, run2 = production;
    run1.run_id = "run-1";
    run2.run_id = "run-2";
    ck_assert_int_eq(clone_guard_check("DB instance", "dblab-refresh-1", &t, &run1, &e), 0);
    ck_assert_int_eq(clone_guard_check("DB instance", "dblab-refresh-1", &t, &run2, &e), ERR_GUARD);
    ck_assert_ptr_nonnull(strstr(e.msg, "dblab-rds-refresh:run-id is \"run-1\""));
    /* a clone from before pipelines: managed, but no pipeline tag */
    struct rds_tags old = {NULL, 0};
    rds_tags_add(&old, "ManagedBy", "dblab-rds-refresh");
    rds_tags_add(&old, "dblab-rds-refresh:source", "production-db");
    ck_assert_int_eq(clone_guard_check("DB instance", "dblab-refresh-old", &old, o, &e), ERR_GUARD);
    ck_assert_ptr_nonnull(strstr(e.msg, "no dblab-rds-refresh:pipeline tag"));
    /* gc -all-pipelines re-proves expiry from AWS: AutoDelete=true, own DeleteAfter passed */
    struct clone_owner expired = {.config_source = "billing-db",
                                  .pipeline = "production-db",
                                  .source = "production-db",
                                  .expired_by = T_2026_11_26_020000 + 3 * 86400};
    ck_assert_int_eq(clone_guard_check("DB instance", "dblab-refresh-1", &t, &expired, &e), 0);
    expired.expired_by = T_2026_11_26_020000; /* DeleteAfter is 2026-11-28 */
    ck_assert_int_eq(clone_guard_check("DB instance", "dblab-refresh-1", &t, &expired, &e),
                     ERR_GUARD);
    ck_assert_ptr_nonnull(strstr(e.msg, "DeleteAfter"));
    expired.expired_by = T_2026_11_26_020000 + 3 * 86400;
    ck_assert_int_eq(clone_guard_check("DB instance", "dblab-refresh-old", &old, &expired, &e),
                     ERR_GUARD); /* no AutoDelete tag */
    ck_assert_ptr_nonnull(strstr(e.msg, "AutoDelete"));
    /* ... except where the Go tool's own record names it (-go-state); a tagged
     * clone of another pipeline or run is still refused there */
    struct clone_owner go = production;
    go.untagged_ok = 1;
    ck_assert_int_eq(clone_guard_check("DB instance", "dblab-refresh-old", &old, &go, &e), 0);
    ck_assert_int_eq(clone_guard_check("DB instance", "dblab-refresh-1", &t, &go, &e), 0);
    struct clone_owner go_billing = billing;
    go_billing.untagged_ok = 1;
    ck_assert_int_eq(clone_guard_check("DB instance", "dblab-refresh-1", &t, &go_billing, &e),
                     ERR_GUARD);
    ck_assert_int_eq(clone_guard_check("DB instance", "dblab-refresh-legacy", &none, &go, &e),
                     ERR_GUARD); /* ManagedBy still required */

    /* adoption: this pipeline, this run AND the same snapshot */
    ck_assert_int_eq(clone_adopt_check("DB instance", "dblab-refresh-1", &t, &run1,
                                       "rds:production-db-2026-11-25-03-10", &e),
                     0);
    ck_assert_int_eq(clone_adopt_check("DB instance", "dblab-refresh-1", &t, &run1,
                                       "rds:production-db-2026-11-26-03-10", &e),
                     ERR_GUARD);
    ck_assert_ptr_nonnull(strstr(e.msg, "2026-11-25"));
    /* the snapshot alone never suffices: another run, another pipeline */
    ck_assert_int_eq(clone_adopt_check("DB instance", "dblab-refresh-1", &t, &run2,
                                       "rds:production-db-2026-11-25-03-10", &e),
                     ERR_GUARD);
    ck_assert_ptr_nonnull(strstr(e.msg, "cannot be adopted"));
    ck_assert_ptr_nonnull(strstr(e.msg, "run-id"));
    struct clone_owner billing1 = billing;
    billing1.run_id = "run-1";
    ck_assert_int_eq(clone_adopt_check("DB instance", "dblab-refresh-1", &t, &billing1,
                                       "rds:production-db-2026-11-25-03-10", &e),
                     ERR_GUARD);
    ck_assert_ptr_nonnull(strstr(e.msg, "pipeline"));
    ck_assert_int_eq(clone_adopt_check("DB instance", "dblab-refresh-old", &old, &run1,
                                       "rds:production-db-2026-11-25-03-10", &e),
                     ERR_GUARD);
    /* adoption without a run is a programming error, never a pass */
    ck_assert_int_eq(clone_adopt_check("DB instance", "dblab-refresh-1", &t, o,
                                       "rds:production-db-2026-11-25-03-10", &e),
                     ERR_INTERNAL);
    rds_tags_release(&t);
    rds_tags_release(&other);
    rds_tags_release(&old);
}
END_TEST

/* Tag sets for the gc table: each clone's own tags. */
enum gc_tags { PROD, PROD_NO_AUTODELETE, PROD_BAD_DEADLINE, PROD_OTHER_SOURCE, BILLING, OLD, NONE };

static void gc_tags_of(enum gc_tags which, struct rds_tags *t)
{
    memset(t, 0, sizeof *t);
    if (which == NONE)
        return;
    rds_tags_add(t, "ManagedBy", "dblab-rds-refresh");
    rds_tags_add(t, "AutoDelete", which == PROD_NO_AUTODELETE ? "false" : "true");
    rds_tags_add(t, "DeleteAfter",
                 which == PROD_BAD_DEADLINE ? "tomorrow" : "2026-11-28T02:00:00Z");
    const char *pl = which == BILLING ? "billing-db" : "production-db";
    const char *src =
        which == BILLING || which == PROD_OTHER_SOURCE ? "billing-db" : "production-db";
    if (which != OLD)
        rds_tags_add(t, "dblab-rds-refresh:pipeline", pl);
    rds_tags_add(t, "dblab-rds-refresh:source", src);
}

START_TEST(test_gc_judge)
{
    const int64_t now = T_2026_11_26_020000; /* DeleteAfter is now + 2 days */
    const int64_t later = now + 2 * 86400, much_later = now + 9000000;
    const int64_t created = now - 3600;
    const struct clone_owner src = {
        .config_source = "dblab-refresh-1", .pipeline = "production-db", .source = "production-db"};
    static const int64_t H48 = 48 * 3600;
    const struct {
        const char *id;
        enum gc_tags tags;
        int64_t created;
        const struct clone_owner *own;
        int all;
        int64_t max_age, now;
        enum clone_gc_verdict want;
        int foreign;
        const char *why;
    } cases[] = {
        /* this pipeline's clones: their DeleteAfter, or this pipeline's age */
        {"dblab-refresh-1", PROD, created, &production, 0, H48, now, CLONE_GC_KEEP, 0,
         "this pipeline's clone: not expired"},
        {"dblab-refresh-1", PROD, created, &production, 0, H48, later, CLONE_GC_COLLECT, 0,
         "this pipeline's clone: its DeleteAfter has passed"},
        {"dblab-refresh-1", PROD, created, &production, 0, 1800, now, CLONE_GC_COLLECT, 0,
         "this pipeline's clone: older than the maximum age"},
        /* age unknown while creating (no InstanceCreateTime): only DeleteAfter decides */
        {"dblab-refresh-1", PROD, 0, &production, 0, 1800, now, CLONE_GC_KEEP, 0, "not expired"},
        /* never the unmanaged, never the source, never AutoDelete=false */
        {"billing-db", PROD, created, &production, 1, 1, much_later, CLONE_GC_IGNORE, 0,
         "not a managed clone"},
        {"dblab-refresh-1", PROD, created, &src, 1, 1, much_later, CLONE_GC_IGNORE, 0,
         "not a managed clone"},
        {"dblab-refresh-legacy", NONE, 1, &production, 1, 1, much_later, CLONE_GC_IGNORE, 0,
         "not a managed clone"},
        {"dblab-refresh-2", PROD_NO_AUTODELETE, created, &production, 0, 1, much_later,
         CLONE_GC_KEEP, 0, "AutoDelete is not true"},
        /* an unparsable DeleteAfter does not make a clone eligible by itself */
        {"dblab-refresh-3", PROD_BAD_DEADLINE, created, &production, 0, H48, now, CLONE_GC_KEEP, 0,
         "not expired"},
        /* our pipeline's name, another source: not ours */
        {"dblab-refresh-4", PROD_OTHER_SOURCE, created, &production, 0, 1, much_later,
         CLONE_GC_KEEP, 0, "another source"},
        /* another pipeline's clone, whatever this pipeline's age (1 s): kept by default,
         * with -all-pipelines only once its OWN DeleteAfter has passed */
        {"dblab-refresh-5", BILLING, created, &production, 0, 1, now, CLONE_GC_KEEP, 0,
         "another pipeline's clone: only -all-pipelines"},
        {"dblab-refresh-5", BILLING, created, &production, 0, 1, much_later, CLONE_GC_KEEP, 0,
         "another pipeline's clone: only -all-pipelines"},
        {"dblab-refresh-5", BILLING, created, &production, 1, 1, now, CLONE_GC_KEEP, 0,
         "another pipeline's clone: its own DeleteAfter is ahead"},
        {"dblab-refresh-5", BILLING, created, &production, 1, 1, later, CLONE_GC_COLLECT, 1,
         "another pipeline's clone: its own DeleteAfter has passed (-all-pipelines)"},
        /* ... and never by the caller's age when its DeleteAfter is not readable */
        {"dblab-refresh-3", PROD_BAD_DEADLINE, created, &billing_owner, 1, 1, much_later,
         CLONE_GC_KEEP, 0, "without a valid DeleteAfter"},
        /* a clone from before pipelines: only -all-pipelines, by its own DeleteAfter */
        {"dblab-refresh-old", OLD, created, &production, 0, 1, later, CLONE_GC_KEEP, 0,
         "no pipeline tag"},
        {"dblab-refresh-old", OLD, created, &production, 1, 1, now, CLONE_GC_KEEP, 0,
         "its own DeleteAfter is ahead"},
        {"dblab-refresh-old", OLD, created, &production, 1, 1, later, CLONE_GC_COLLECT, 1,
         "its own DeleteAfter has passed"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct rds_tags t;
        gc_tags_of(cases[i].tags, &t);
        struct clone_gc_policy p = {cases[i].own, cases[i].all, cases[i].max_age, cases[i].now};
        const char *why = NULL;
        int foreign = -1;
        enum clone_gc_verdict v =
            clone_gc_judge(cases[i].id, &t, cases[i].created, &p, &foreign, &why);
        ck_assert_msg(v == cases[i].want && foreign == cases[i].foreign &&
                          strstr(why, cases[i].why) != NULL,
                      "case %zu (%s): verdict %d foreign %d \"%s\", want %d %d \"%s\"", i,
                      cases[i].id, v, foreign, why, cases[i].want, cases[i].foreign, cases[i].why);
        rds_tags_release(&t);
    }
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
        ck_assert(d <= POLL_CAP); /* the detection bound */
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
    return run_suites(SUITE_OF_TESTS("clone", 0, test_pipeline_name, test_name_rule,
                                     test_name_no_collision, test_name_check, test_tags_build,
                                     test_guard, test_gc_judge, test_poll_schedule),
                      NULL);
}
