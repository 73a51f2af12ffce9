/* rds-clone-gc: the last line of defence against orphaned clones. Scans every DB
 * cluster and DB instance of the region (all pages) and deletes, through the same
 * guarded path as rds-clone-delete, those named dblab-refresh-* AND tagged
 * ManagedBy=dblab-rds-refresh AND AutoDelete=true whose DeleteAfter has passed or
 * whose age exceeds clone.maxAge (-max-age). Never -exclude NAME, never anything
 * else. One failure does not stop the others. Output: one JSON line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "buf.h"
#include "clock.h"
#include "clone.h"
#include "config.h"
#include "exitcodes.h"
#include "log.h"
#include "rds.h"
#include "rds_cli.h"
#include "rundoc.h"
#include "signals.h"

enum { OPT_MAX_AGE = 1000, OPT_EXCLUDE };

static const struct cli_option options[] = {
    {"max-age", required_argument, OPT_MAX_AGE, "DURATION",
     "collect clones older than this (default clone.maxAge), e.g. 24h"},
    {"exclude", required_argument, OPT_EXCLUDE, "NAME",
     "never collect this clone (the current run's); may be repeated"},
    {NULL, 0, 0, NULL, NULL},
};

#define MAX_EXCLUDES 16

struct opts {
    int64_t max_age;
    const char *exclude[MAX_EXCLUDES];
    size_t n_exclude;
};
static struct opts opts;

static int on_option(int id, const char *arg, void *ctx, struct err *e)
{
    struct opts *o = ctx;
    if (id == OPT_MAX_AGE) {
        if (duration_parse(arg, &o->max_age) != 0)
            return err_set(e, DRR_EXIT_USAGE, "-max-age: \"%s\" is not a duration (e.g. 24h, 90m)",
                           arg);
    } else if (id == OPT_EXCLUDE) {
        if (o->n_exclude == MAX_EXCLUDES)
            return err_set(e, DRR_EXIT_USAGE, "-exclude: at most %d names", MAX_EXCLUDES);
        if (!*arg)
            return err_set(e, DRR_EXIT_USAGE, "-exclude: empty");
        o->exclude[o->n_exclude++] = arg;
    }
    return 0;
}

static const struct cli_command cmd = {
    .name = "rds-clone-gc",
    .summary = "delete expired managed clones left behind by crashed runs",
    .description =
        "Scans every DB cluster and DB instance (all pages). A clone is collected only when\n"
        "its name starts with dblab-refresh- AND it is tagged ManagedBy=dblab-rds-refresh\n"
        "AND AutoDelete=true, AND its DeleteAfter tag has passed or it is older than\n"
        "clone.maxAge (-max-age). Never an -exclude NAME. Prints one JSON line:\n"
        "{\"found\": [...], \"deleted\": [...], \"failed\": [...], ...}.",
    .reads_document = 0,
    .needs_config = 1,
    .extra = options,
    .on_option = on_option,
    .ctx = &opts,
};

struct candidate {
    char *id;
    enum rds_kind kind;
    const char *why;
};

struct scan {
    const char *source_id;
    int64_t max_age;
    int64_t now;
    struct candidate *c;
    size_t n;
    long scanned;
    long managed;
    cJSON *excluded;
};

static int excluded(const char *id)
{
    for (size_t i = 0; i < opts.n_exclude; i++)
        if (strcmp(opts.exclude[i], id) == 0)
            return 1;
    return 0;
}

static void consider(struct scan *s, enum rds_kind kind, const char *id,
                     const struct rds_tags *tags, int64_t create_time)
{
    const char *why;
    s->scanned++;
    if (!id)
        return;
    int eligible = clone_gc_eligible(id, tags, create_time, s->source_id, s->max_age, s->now, &why);
    if (strcmp(why, "not a managed clone") != 0)
        s->managed++;
    if (!eligible) {
        if (strcmp(why, "not a managed clone") != 0)
            log_debug("%s %s: kept (%s)", rds_cli_kind_name(kind), id, why);
        return;
    }
    if (excluded(id)) {
        log_info("%s %s: %s, but excluded (-exclude)", rds_cli_kind_name(kind), id, why);
        cJSON_AddItemToArray(s->excluded, cJSON_CreateString(id));
        return;
    }
    s->c = xrealloc(s->c, (s->n + 1) * sizeof *s->c);
    s->c[s->n].id = xstrdup(id);
    s->c[s->n].kind = kind;
    s->c[s->n].why = why;
    s->n++;
}

static int on_cluster(const struct rds_cluster *c, void *ud, struct err *e)
{
    (void)e;
    consider(ud, RDS_KIND_CLUSTER, c->id, &c->tags, c->create_time);
    return signals_pending() ? RDS_STOP : 0;
}

static int on_instance(const struct rds_instance *i, void *ud, struct err *e)
{
    (void)e;
    struct scan *s = ud;
    if (i->cluster_id) {
        /* An Aurora member goes with its cluster (the cluster scan), never alone. */
        s->scanned++;
        return 0;
    }
    consider(s, RDS_KIND_INSTANCE, i->id, &i->tags, i->create_time);
    return signals_pending() ? RDS_STOP : 0;
}

static int run_command(struct app *a, struct err *e)
{
    int rc = 0;
    struct aws_ctx *aws = NULL;
    struct scan s;
    memset(&s, 0, sizeof s);
    s.source_id = a->cfg.source.identifier;
    s.max_age = opts.max_age > 0 ? opts.max_age : a->cfg.clone.max_age;
    s.now = clock_now();
    s.excluded = cJSON_CreateArray();
    cJSON *found = cJSON_CreateArray();
    cJSON *deleted = cJSON_CreateArray();
    cJSON *failed = cJSON_CreateArray();
    int first_failure = 0;
    size_t n_failed = 0;

    rc = rds_cli_aws_new(&a->cfg, &aws, e);
    if (rc == 0)
        rc = rds_describe_db_clusters(aws, NULL, on_cluster, &s, NULL, e);
    if (rc == 0 && !signals_pending())
        rc = rds_describe_db_instances(aws, NULL, on_instance, &s, NULL, e);
    if (rc == 0 && signals_pending())
        rc = err_set(e, DRR_EXIT_SIGNAL_BASE + signals_pending(), "interrupted by signal %d",
                     signals_pending());
    if (rc == 0) {
        char agebuf[32];
        duration_format(s.max_age, agebuf, sizeof agebuf);
        log_info("scanned %ld resource(s): %ld managed clone(s), %zu to collect (max age %s)",
                 s.scanned, s.managed, s.n, agebuf);
        struct clone_delete_opts o = {a->cfg.source.identifier, a->cli.dry_run, 0, 0, 0};
        for (size_t i = 0; i < s.n; i++) {
            struct candidate *c = &s.c[i];
            cJSON *f = cJSON_CreateObject();
            rds_cli_add_string(f, "id", c->id);
            rds_cli_add_string(f, "kind", rds_cli_kind_name(c->kind));
            rds_cli_add_string(f, "reason", c->why);
            cJSON_AddItemToArray(found, f);
            if (signals_pending()) {
                if (!first_failure)
                    first_failure = DRR_EXIT_SIGNAL_BASE + signals_pending();
                continue;
            }
            struct clone_delete_result r;
            struct err de;
            err_clear(&de);
            int drc = clone_delete(aws, c->kind, c->id, &o, &r, &de);
            if (drc == 0) {
                if (!a->cli.dry_run)
                    cJSON_AddItemToArray(deleted, cJSON_CreateString(c->id));
                log_info("%s %s (%s): %s", rds_cli_kind_name(c->kind), c->id, c->why,
                         a->cli.dry_run ? "would be deleted" :
                         r.already_gone ? "already going" : "deletion requested");
            } else {
                log_error("%s %s: %s", rds_cli_kind_name(c->kind), c->id, de.msg);
                cJSON *fl = cJSON_CreateObject();
                rds_cli_add_string(fl, "id", c->id);
                rds_cli_add_string(fl, "error", de.msg);
                rds_cli_add_int(fl, "exitCode", drc);
                cJSON_AddItemToArray(failed, fl);
                n_failed++;
                if (!first_failure)
                    first_failure = drc;
            }
            clone_delete_result_free(&r);
        }
        cJSON *out = cJSON_CreateObject();
        rds_cli_add_string(out, "apiVersion", "dblab-rds-refresh/v1");
        rds_cli_add_string(out, "kind", "gc");
        if (a->cli.dry_run)
            cJSON_AddBoolToObject(out, "dryRun", 1);
        rds_cli_add_time(out, "at", s.now);
        rds_cli_add_int(out, "maxAgeSeconds", s.max_age);
        rds_cli_add_int(out, "scanned", s.scanned);
        rds_cli_add_int(out, "managed", s.managed);
        cJSON_AddItemToObject(out, "found", found);
        cJSON_AddItemToObject(out, "deleted", deleted);
        cJSON_AddItemToObject(out, "failed", failed);
        cJSON_AddItemToObject(out, "excluded", s.excluded);
        found = deleted = failed = NULL;
        s.excluded = NULL;
        rc = rundoc_write(out);
        cJSON_Delete(out);
        if (rc == 0)
            rc = first_failure;
        if (first_failure)
            err_set(e, first_failure, "%zu of %zu clone(s) could not be deleted", n_failed, s.n);
    }
    cJSON_Delete(found);
    cJSON_Delete(deleted);
    cJSON_Delete(failed);
    cJSON_Delete(s.excluded);
    for (size_t i = 0; i < s.n; i++)
        free(s.c[i].id);
    free(s.c);
    rds_cli_aws_free(aws);
    return rc;
}

int main(int argc, char **argv)
{
    return app_main(argc, argv, &cmd, NULL, run_command);
}
