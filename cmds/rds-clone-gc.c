/* rds-clone-gc: the last line of defence against orphaned clones. Scans every DB
 * cluster and DB instance of the region (all pages) and deletes, through the same
 * guarded path as rds-clone-delete, those named dblab-refresh-* AND tagged
 * ManagedBy=dblab-rds-refresh AND AutoDelete=true AND of THIS pipeline (pipeline
 * and source tags) whose DeleteAfter has passed or whose age exceeds clone.maxAge
 * (-max-age). Other pipelines' clones only with -all-pipelines, and then only by
 * their own DeleteAfter: the caller's age never judges another pipeline's clone.
 * Never -exclude NAME, never anything else. One failure does not stop the others.
 * Output: one JSON line saying why each managed clone was kept or collected. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "app/rundoc.h"
#include "config/config.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/exitcodes.h"
#include "core/log.h"
#include "core/signals.h"
#include "rds/clone.h"
#include "rds/rds.h"
#include "rds/rds_cli.h"

enum { OPT_MAX_AGE = 1000, OPT_EXCLUDE, OPT_ALL_PIPELINES };

static const struct cli_option options[] = {
    {"max-age", required_argument, OPT_MAX_AGE, "DURATION",
     "collect this pipeline's clones older than this (default clone.maxAge), e.g. 24h"},
    {"all-pipelines", no_argument, OPT_ALL_PIPELINES, NULL,
     "also collect other pipelines' clones (and those without a pipeline tag) whose own "
     "DeleteAfter has passed"},
    {"exclude", required_argument, OPT_EXCLUDE, "NAME",
     "never collect this clone (the current run's); may be repeated"},
    {NULL, 0, 0, NULL, NULL},
};

#define MAX_EXCLUDES 16

struct opts {
    int64_t max_age;
    int all_pipelines;
    const char *exclude[MAX_EXCLUDES];
    size_t n_exclude;
};
static struct opts opts;

static int on_option(int id, const char *arg, void *ctx, struct err *e)
{
    struct opts *o = ctx;
    if (id == OPT_MAX_AGE) {
        if (duration_parse(arg, &o->max_age) != 0)
            return err_set(e, ERR_USAGE, "-max-age: \"%s\" is not a duration (e.g. 24h, 90m)", arg);
    } else if (id == OPT_ALL_PIPELINES) {
        o->all_pipelines = 1;
    } else if (id == OPT_EXCLUDE) {
        if (o->n_exclude == MAX_EXCLUDES)
            return err_set(e, ERR_USAGE, "-exclude: at most %d names", MAX_EXCLUDES);
        if (!*arg)
            return err_set(e, ERR_USAGE, "-exclude: empty");
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
        "AND AutoDelete=true AND with this pipeline (clone.pipeline) and source, AND its\n"
        "DeleteAfter tag has passed or it is older than clone.maxAge (-max-age).\n"
        "-all-pipelines: also other pipelines' clones whose OWN DeleteAfter has passed.\n"
        "Never an -exclude NAME. Prints one JSON line: {\"found\": [...], \"deleted\":\n"
        "[...], \"kept\": [...], \"failed\": [...], ...}, each with its reason.",
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
    int foreign;    /* another pipeline's: its delete re-checks what the scan saw */
    char *pipeline; /* its tags as seen (NULL when absent) */
    char *source;
};

struct scan {
    struct clone_gc_policy policy;
    struct candidate *c;
    size_t n;
    long scanned;
    long managed;
    cJSON *excluded;
    cJSON *kept;
    cJSON *deleting; /* managed clones AWS already shows as being deleted */
};

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

static int excluded(const char *id)
{
    for (size_t i = 0; i < opts.n_exclude; i++)
        if (strcmp(opts.exclude[i], id) == 0)
            return 1;
    return 0;
}

static void consider(struct scan *s, enum rds_kind kind, const char *id, const char *status,
                     const struct rds_tags *tags, int64_t create_time)
{
    const char *why;
    int foreign = 0;
    s->scanned++;
    if (!id)
        return;
    enum clone_gc_verdict v = clone_gc_judge(id, tags, create_time, &s->policy, &foreign, &why);
    if (v == CLONE_GC_IGNORE)
        return;
    s->managed++;
    const char *pl = rds_tags_get(tags, CLONE_TAG_PIPELINE);
    if (v == CLONE_GC_KEEP) {
        log_debug("%s %s: kept (%s)", rds_cli_kind_name(kind), id, why);
        cJSON *k = cJSON_CreateObject();
        rds_cli_add_string(k, "id", id);
        rds_cli_add_string(k, "kind", rds_cli_kind_name(kind));
        rds_cli_add_string(k, "pipeline", pl);
        rds_cli_add_string(k, "reason", why);
        cJSON_AddItemToArray(s->kept, k);
        return;
    }
    /* Already on its way out (an earlier run's or gc's delete, which AWS takes
     * minutes to finish): asking again would only be refused, and listing it as
     * deleted by THIS run would be untrue. */
    if (status && strcmp(status, "deleting") == 0) {
        log_info("%s %s: %s, already being deleted", rds_cli_kind_name(kind), id, why);
        cJSON_AddItemToArray(s->deleting, cJSON_CreateString(id));
        return;
    }
    if (excluded(id)) {
        log_info("%s %s: %s, but excluded (-exclude)", rds_cli_kind_name(kind), id, why);
        cJSON_AddItemToArray(s->excluded, cJSON_CreateString(id));
        return;
    }
    s->c = xrealloc(s->c, (s->n + 1) * sizeof *s->c);
    struct candidate *c = &s->c[s->n++];
    c->id = xstrdup(id);
    c->kind = kind;
    c->why = why;
    c->foreign = foreign;
    c->pipeline = dup_or_null(pl);
    c->source = dup_or_null(rds_tags_get(tags, CLONE_TAG_SOURCE));
}

static int on_cluster(const struct rds_cluster *c, void *ud, struct err *e)
{
    (void)e;
    consider(ud, RDS_KIND_CLUSTER, c->id, c->status, &c->tags, c->create_time);
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
    consider(s, RDS_KIND_INSTANCE, i->id, i->status, &i->tags, i->create_time);
    return signals_pending() ? RDS_STOP : 0;
}

static int run_command(struct app *a, struct err *e)
{
    int rc = 0;
    struct aws_ctx *aws = NULL;
    struct scan s;
    memset(&s, 0, sizeof s);
    struct clone_owner own;
    clone_owner_of(&own, &a->cfg, NULL);
    s.policy.own = &own;
    s.policy.all_pipelines = opts.all_pipelines;
    s.policy.max_age = opts.max_age > 0 ? opts.max_age : a->cfg.clone.max_age;
    s.policy.now = clock_now();
    s.excluded = cJSON_CreateArray();
    s.kept = cJSON_CreateArray();
    s.deleting = cJSON_CreateArray();
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
        rc = err_interrupted(e, signals_pending(), "interrupted by signal %d", signals_pending());
    if (rc == 0) {
        char agebuf[32];
        duration_format(s.policy.max_age, agebuf, sizeof agebuf);
        log_info("scanned %ld resource(s): %ld managed clone(s), %zu to collect (pipeline %s%s, "
                 "max age %s for its own clones)",
                 s.scanned, s.managed, s.n, own.pipeline,
                 opts.all_pipelines ? " and every other pipeline's expired clone" : "", agebuf);
        for (size_t i = 0; i < s.n; i++) {
            struct candidate *c = &s.c[i];
            /* Just before the delete, AWS must still say the same owner: this
             * pipeline's, or (-all-pipelines) the pipeline and source the scan saw
             * and an own DeleteAfter that has passed. */
            struct clone_owner seen = {.config_source = own.config_source,
                                       .pipeline = c->pipeline,
                                       .source = c->source,
                                       .expired_by = s.policy.now};
            struct clone_delete_opts o = {c->foreign ? &seen : &own, a->cli.dry_run, 0, 0, 0};
            cJSON *f = cJSON_CreateObject();
            rds_cli_add_string(f, "id", c->id);
            rds_cli_add_string(f, "kind", rds_cli_kind_name(c->kind));
            rds_cli_add_string(f, "pipeline", c->pipeline);
            rds_cli_add_string(f, "reason", c->why);
            cJSON_AddItemToArray(found, f);
            if (signals_pending()) {
                if (!first_failure)
                    first_failure = ERR_INTERRUPTED;
                continue;
            }
            struct clone_delete_result r;
            struct err de;
            err_clear(&de);
            int drc = clone_delete(aws, c->kind, c->id, &o, &r, &de);
            if (drc == 0) {
                if (!a->cli.dry_run)
                    cJSON_AddItemToArray(r.already_gone ? s.deleting : deleted,
                                         cJSON_CreateString(c->id));
                log_info("%s %s (%s): %s", rds_cli_kind_name(c->kind), c->id, c->why,
                         a->cli.dry_run   ? "would be deleted"
                         : r.already_gone ? "already going"
                                          : "deletion requested");
            } else {
                log_error("%s %s: %s", rds_cli_kind_name(c->kind), c->id, de.msg);
                cJSON *fl = cJSON_CreateObject();
                rds_cli_add_string(fl, "id", c->id);
                rds_cli_add_string(fl, "error", de.msg);
                rds_cli_add_int(fl, "exitCode", err_exit_code(drc, de.signo));
                cJSON_AddItemToArray(failed, fl);
                n_failed++;
                if (!first_failure)
                    first_failure = drc;
            }
            clone_delete_result_release(&r);
        }
        cJSON *out = cJSON_CreateObject();
        rds_cli_add_string(out, "apiVersion", "dblab-rds-refresh/v1");
        rds_cli_add_string(out, "kind", "gc");
        if (a->cli.dry_run)
            cJSON_AddBoolToObject(out, "dryRun", 1);
        rds_cli_add_time(out, "at", s.policy.now);
        rds_cli_add_string(out, "pipeline", own.pipeline);
        cJSON_AddBoolToObject(out, "allPipelines", opts.all_pipelines);
        rds_cli_add_int(out, "maxAgeSeconds", s.policy.max_age);
        rds_cli_add_int(out, "scanned", s.scanned);
        rds_cli_add_int(out, "managed", s.managed);
        cJSON_AddItemToObject(out, "found", found);
        cJSON_AddItemToObject(out, "deleted", deleted);
        cJSON_AddItemToObject(out, "failed", failed);
        cJSON_AddItemToObject(out, "excluded", s.excluded);
        cJSON_AddItemToObject(out, "kept", s.kept);
        cJSON_AddItemToObject(out, "deleting", s.deleting);
        found = deleted = failed = NULL;
        s.excluded = s.kept = s.deleting = NULL;
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
    cJSON_Delete(s.kept);
    cJSON_Delete(s.deleting);
    for (size_t i = 0; i < s.n; i++) {
        free(s.c[i].id);
        free(s.c[i].pipeline);
        free(s.c[i].source);
    }
    free(s.c);
    rds_cli_aws_free(aws);
    return rc;
}

int main(int argc, char **argv)
{
    return app_main(argc, argv, &cmd, NULL, run_command);
}
