/* rds-snapshot-latest: finds the snapshot to restore (the configured one, or the
 * newest available snapshot of the source) and starts the run document: the
 * pipeline, the run id (chosen here, once: run_id.h), the source and the snapshot. */
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "app/run_id.h"
#include "app/rundoc.h"
#include "config/config.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "rds/pitr.h"
#include "rds/preflight.h"
#include "rds/rds.h"
#include "rds/rds_cli.h"

enum { OPT_RUN_ID = 1000 };

static const struct cli_option options[] = {
    {"run-id", required_argument, OPT_RUN_ID, "ID",
     "this run's id (default: the scheduler's, AIRFLOW_CTX_DAG_ID/AIRFLOW_CTX_DAG_RUN_ID, "
     "NOMAD_JOB_ID/NOMAD_ALLOC_ID, RD_JOB_EXECID; else a new random one)"},
    {NULL, 0, 0, NULL, NULL},
};

struct opts {
    const char *run_id;
};
static struct opts opts;

static int on_option(int id, const char *arg, void *ctx, struct err *e)
{
    struct opts *o = ctx;
    if (id == OPT_RUN_ID)
        return run_id_flag(arg, &o->run_id, e);
    return 0;
}

static const struct cli_command cmd = {
    .name = "rds-snapshot-latest",
    .summary = "find the newest available snapshot of the source (or the configured one)",
    .description =
        "With source.snapshotIdentifier (a name or an ARN, shared snapshots included) that\n"
        "snapshot is described and checked (available, PostgreSQL engine family). Otherwise\n"
        "every snapshot of source.identifier of source.snapshotType is listed, all pages, and\n"
        "the newest available one by SnapshotCreateTime is taken. source.maxSnapshotAge\n"
        "fails the run (exit 85) when that snapshot is older. With source.restoreFrom latest\n"
        "or a time (point-in-time restore) no snapshot is chosen: the source's restorable\n"
        "window is read and checked instead, and the document gets a restore section.\n"
        "Reads no input; writes the run document with pipeline (clone.pipeline), runId\n"
        "(-run-id, else the scheduler's, else a new random one), the source section,\n"
        "snapshot or restore, and dataAsOf (the time the clone's data is from).",
    .reads_document = 0,
    .needs_config = 1,
    .extra = options,
    .on_option = on_option,
    .ctx = &opts,
};

struct pick {
    struct rds_snapshot best;
    int have;
    int seen;        /* snapshots listed */
    int unavailable; /* of which not available */
};

static int consider(const struct rds_snapshot *s, void *ud, struct err *e)
{
    (void)e;
    struct pick *p = ud;
    p->seen++;
    if (!s->status || strcmp(s->status, "available") != 0) {
        p->unavailable++;
        log_debug("snapshot %s: %s, skipped", s->id ? s->id : "?", s->status ? s->status : "?");
        return 0;
    }
    if (!s->id || s->create_time <= 0)
        return 0;
    if (!p->have || s->create_time > p->best.create_time ||
        (s->create_time == p->best.create_time && strcmp(s->id, p->best.id) > 0)) {
        rds_snapshot_release(&p->best);
        rds_snapshot_copy(&p->best, s);
        p->have = 1;
    }
    return 0;
}

/* DBLab Engine restores PostgreSQL: the snapshot must be of that family (an
 * instance snapshot for an RDS source, a cluster snapshot for Aurora). */
static int check_engine(const struct config *cfg, const struct rds_snapshot *s, struct err *e)
{
    char what[300];
    snprintf(what, sizeof what, "snapshot %s", s->id);
    return rds_cli_check_engine(cfg, what, s->engine, e);
}

/* The SnapshotType / IncludeShared of a listing for source.snapshotType. */
static void listing_query(const struct config *cfg, struct rds_snapshot_query *q)
{
    memset(q, 0, sizeof *q);
    q->source_id = cfg->source.identifier;
    switch (cfg->source.snapshot_type) {
    case SNAPSHOT_AUTOMATED:
        q->snapshot_type = "automated";
        break;
    case SNAPSHOT_MANUAL:
        q->snapshot_type = "manual";
        break;
    case SNAPSHOT_AWSBACKUP:
        q->snapshot_type = "awsbackup";
        break;
    case SNAPSHOT_SHARED:
        q->snapshot_type = "shared";
        break;
    case SNAPSHOT_ANY:
        q->snapshot_type = NULL;
        q->include_shared = 1;
        break;
    }
}

/* A named snapshot: the name says which SnapshotType AWS needs to find it. */
static void named_query(const struct config *cfg, struct rds_snapshot_query *q)
{
    const char *id = cfg->source.snapshot_identifier;
    memset(q, 0, sizeof *q);
    q->snapshot_id = id;
    if (strncmp(id, "arn:", 4) == 0)
        q->include_shared = 1; /* a shared snapshot is only found by ARN with IncludeShared */
    else if (strncmp(id, "rds:", 4) == 0)
        q->snapshot_type = "automated";
    else if (strncmp(id, "awsbackup:", 10) == 0)
        q->snapshot_type = "awsbackup";
}

static int find_snapshot(struct aws_ctx *aws, const struct config *cfg, struct pick *p,
                         struct err *e)
{
    enum rds_kind kind = rds_cli_source_kind(cfg);
    struct rds_snapshot_query q;
    struct aws_error ae;
    int rc;
    const char *named = cfg->source.snapshot_identifier;
    if (named)
        named_query(cfg, &q);
    else
        listing_query(cfg, &q);
    if (kind == RDS_KIND_CLUSTER && q.snapshot_type && strcmp(q.snapshot_type, "awsbackup") == 0)
        return err_set(e, ERR_CONFIG,
                       "source.snapshotType: awsbackup does not apply to Aurora clusters");

    if (kind == RDS_KIND_CLUSTER)
        rc = rds_describe_db_cluster_snapshots(aws, &q, consider, p, &ae, e);
    else
        rc = rds_describe_db_snapshots(aws, &q, consider, p, &ae, e);

    if (named) {
        if (rc && (rds_error_is(&ae, "DBSnapshotNotFound") ||
                   rds_error_is(&ae, "DBClusterSnapshotNotFoundFault")))
            return err_set(e, ERR_NOT_FOUND,
                           "snapshot %s (source.snapshotIdentifier): not found: %s: %s "
                           "(RequestId %s)",
                           named, ae.code, ae.message, ae.request_id[0] ? ae.request_id : "-");
        if (rc)
            return rc;
        if (p->seen == 0)
            return err_set(e, ERR_NOT_FOUND, "snapshot %s (source.snapshotIdentifier): not found",
                           named);
        if (!p->have)
            return err_set(e, ERR_NOT_FOUND,
                           "snapshot %s (source.snapshotIdentifier): not available", named);
        return check_engine(cfg, &p->best, e);
    }
    if (rc)
        return rc;
    if (!p->have) {
        if (p->seen)
            return err_set(
                e, ERR_NOT_FOUND,
                "no available %s snapshot of %s %s: %d snapshot(s) listed, none available",
                q.snapshot_type ? q.snapshot_type : "", rds_cli_kind_name(kind),
                cfg->source.identifier, p->seen);
        return err_set(e, ERR_NOT_FOUND, "no %s%ssnapshot of %s %s",
                       q.snapshot_type ? q.snapshot_type : "", q.snapshot_type ? " " : "",
                       rds_cli_kind_name(kind), cfg->source.identifier);
    }
    return check_engine(cfg, &p->best, e);
}

static cJSON *source_section(const struct config *cfg)
{
    cJSON *o = cJSON_CreateObject();
    rds_cli_add_string(o, "type", source_type_name(cfg->source.type));
    rds_cli_add_string(o, "identifier", cfg->source.identifier);
    rds_cli_add_string(o, "region", cfg->aws.region);
    return o;
}

static cJSON *snapshot_section(const struct rds_snapshot *s)
{
    cJSON *o = cJSON_CreateObject();
    rds_cli_add_string(o, "id", s->id);
    rds_cli_add_string(o, "arn", s->arn);
    rds_cli_add_string(o, "type", s->snapshot_type);
    rds_cli_add_time(o, "createTime", s->create_time);
    rds_cli_add_string(o, "engine", s->engine);
    rds_cli_add_string(o, "engineVersion", s->engine_version);
    cJSON_AddBoolToObject(o, "encrypted", s->encrypted);
    rds_cli_add_string(o, "kmsKeyId", s->kms_key_id);
    if (s->port > 0) /* Aurora cluster snapshots say 0 */
        rds_cli_add_int(o, "port", s->port);
    rds_cli_add_int(o, "allocatedStorage", s->allocated_storage);
    rds_cli_add_string(o, "kind", rds_cli_kind_name(s->kind));
    return o;
}

/* The run document: pipeline, runId, the source, what the clone is made from
 * (section `name`, replacing a stale `other`) and dataAsOf. */
static int write_document(struct app *a, const char *run_id, const char *name, cJSON *section,
                          const char *other, int64_t data_as_of)
{
    cJSON *doc = app_doc(a);
    cJSON_AddStringToObject(doc, "pipeline", a->cfg.clone.pipeline);
    cJSON_AddStringToObject(doc, "runId", run_id);
    rundoc_set_section(doc, "source", source_section(&a->cfg));
    rundoc_set_section(doc, name, section);
    cJSON_DeleteItemFromObjectCaseSensitive(doc, other);
    rds_cli_set_data_as_of(doc, data_as_of);
    return rundoc_write(doc);
}

/* source.restoreFrom latest / a time: the restore point instead of a snapshot. */
static int choose_point_in_time(struct app *a, struct aws_ctx *aws, const char *run_id,
                                struct err *e)
{
    struct pitr_choice pc;
    int rc = pitr_choose(aws, &a->cfg, &pc, e);
    if (rc == 0) {
        char when[32], latest[32];
        clock_format_rfc3339(pc.time, when, sizeof when);
        clock_format_rfc3339(pc.latest, latest, sizeof latest);
        log_info("point-in-time restore of %s %s to %s%s (latest restorable %s)%s",
                 rds_cli_kind_name(pc.kind), a->cfg.source.identifier, when,
                 pc.restore_type ? (pc.use_latest ? ", copy-on-write, latest" : ", full copy") : "",
                 latest, a->cli.dry_run ? " [dry run: nothing to change in this step]" : "");
        rc = write_document(a, run_id, PITR_SECTION, pitr_section(&pc), "snapshot", pc.time);
    }
    pitr_choice_release(&pc);
    return rc;
}

static int run_command(struct app *a, struct err *e)
{
    int rc = 0;
    struct aws_ctx *aws = NULL;
    struct pick p;
    memset(&p, 0, sizeof p);
    char run_id[RUN_ID_MAX + 1];
    const char *origin = NULL;

    /* Chosen before any AWS call: a bad scheduler variable is reported at once. */
    rc = run_id_choose(opts.run_id, NULL, clock_now(), run_id, sizeof run_id, &origin, e);
    if (rc == 0) {
        log_info("pipeline %s, run %s (%s)", a->cfg.clone.pipeline, run_id, origin);
        rc = rds_cli_aws_new(&a->cfg, &aws, e);
    }
    if (rc == 0 && a->cfg.source.restore_from != RESTORE_SNAPSHOT) {
        /* pitr_choose checks the source itself, with the region in its message */
        rc = choose_point_in_time(a, aws, run_id, e);
        goto out;
    }
    /* The source first: a typo or the wrong source.type gets its own message
     * instead of "no snapshot". A source that no longer exists may still have
     * snapshots (kept after its deletion): then they are used. */
    struct err src_err;
    err_clear(&src_err);
    int src_rc = rc == 0 ? preflight_source(aws, &a->cfg, &src_err) : 0;
    if (src_rc != 0 && src_rc != ERR_NOT_FOUND) {
        rc = src_rc;
        *e = src_err;
    }
    if (rc == 0)
        rc = find_snapshot(aws, &a->cfg, &p, e);
    if (src_rc == ERR_NOT_FOUND) {
        if (rc == ERR_NOT_FOUND)
            *e = src_err;
        else if (rc == 0)
            log_warn("%s; using its snapshot %s", src_err.msg, p.best.id);
    }
    if (rc == 0 && a->cfg.source.max_snapshot_age > 0) {
        int64_t age = clock_now() - p.best.create_time;
        if (age > a->cfg.source.max_snapshot_age) {
            char agebuf[32], maxbuf[32], when[32];
            duration_format(age, agebuf, sizeof agebuf);
            duration_format(a->cfg.source.max_snapshot_age, maxbuf, sizeof maxbuf);
            clock_format_rfc3339(p.best.create_time, when, sizeof when);
            rc = err_set(e, ERR_STALE,
                         "snapshot %s was taken %s ago (%s), more than source.maxSnapshotAge %s: "
                         "have backups stopped? refusing to load stale data",
                         p.best.id, agebuf, when, maxbuf);
        }
    }
    if (rc == 0) {
        char when[32];
        clock_format_rfc3339(p.best.create_time, when, sizeof when);
        log_info("snapshot %s (%s, %s %s, taken %s)%s", p.best.id,
                 p.best.snapshot_type ? p.best.snapshot_type : "?",
                 p.best.engine ? p.best.engine : "?",
                 p.best.engine_version ? p.best.engine_version : "?", when,
                 a->cli.dry_run ? " [dry run: nothing to change in this step]" : "");
        rc = write_document(a, run_id, "snapshot", snapshot_section(&p.best), PITR_SECTION,
                            p.best.create_time);
    }
out:
    if (aws)
        log_debug("%ld AWS request(s)", rds_cli_aws_calls(aws));
    rds_snapshot_release(&p.best);
    rds_cli_aws_free(aws);
    return rc;
}

int main(int argc, char **argv)
{
    return app_main(argc, argv, &cmd, NULL, run_command);
}
