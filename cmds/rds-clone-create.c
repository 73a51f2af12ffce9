/* rds-clone-create: restores the temporary clone from the run document's snapshot
 * and returns as soon as AWS accepted the request (waiting is rds-clone-wait's job).
 *
 * It never leaves a clone behind when it fails after creating something: a failed
 * second step of an Aurora clone, or a signal during the create, rolls back what
 * this run made through the guarded delete path. A retried step adopts the clone
 * it already made (the same name from the same pipeline and run id, its tags say
 * this pipeline, this source, this run and the same snapshot) instead of making a
 * second one; anything else under that name is refused (exit 83), never adopted
 * and never rolled back. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/app.h"
#include "app/run_id.h"
#include "app/rundoc.h"
#include "aws/aws_client.h"
#include "config/config.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "core/signals.h"
#include "rds/clone.h"
#include "rds/clone_poll.h"
#include "rds/pitr.h"
#include "rds/preflight.h"
#include "rds/rds.h"
#include "rds/rds_cli.h"

enum { OPT_RUN_ID = 1000, OPT_CLONE_ID };

static const struct cli_option options[] = {
    {"run-id", required_argument, OPT_RUN_ID, "ID",
     "this run's id, which with clone.pipeline names the clone (default: the document's "
     "runId, then AIRFLOW_CTX_DAG_ID/AIRFLOW_CTX_DAG_RUN_ID, NOMAD_JOB_ID/NOMAD_ALLOC_ID, "
     "RD_JOB_EXECID, else a new random one)"},
    {"clone-id", required_argument, OPT_CLONE_ID, "NAME",
     "use this clone name instead of the derived one (must start with dblab-refresh-)"},
    {NULL, 0, 0, NULL, NULL},
};

struct opts {
    const char *run_id;
    const char *clone_id;
};

static int on_option(int id, const char *arg, void *ctx, struct err *e)
{
    struct opts *o = ctx;
    if (id == OPT_RUN_ID)
        return run_id_flag(arg, &o->run_id, e);
    if (id == OPT_CLONE_ID) {
        if (clone_name_check(arg, e))
            return err_prefix(e, "-clone-id");
        o->clone_id = arg;
    }
    return 0;
}

static struct opts opts;

static const struct cli_command cmd = {
    .name = "rds-clone-create",
    .summary = "restore the temporary clone from the document's snapshot or restore point",
    .description =
        "RDS: RestoreDBInstanceFromDBSnapshot with every clone.* option. Aurora:\n"
        "RestoreDBClusterFromSnapshot, then the writer instance NAME-instance with\n"
        "CreateDBInstance (the cluster is removed if that fails). With the document's\n"
        "restore section (source.restoreFrom latest or a time): RestoreDBInstanceToPointInTime,\n"
        "or RestoreDBClusterToPointInTime (RestoreType copy-on-write unless clone.copyOnWrite\n"
        "is false) then the writer instance. Everything is tagged\n"
        "ManagedBy=dblab-rds-refresh, AutoDelete=true, DeleteAfter=now+clone.maxAge and\n"
        "with its pipeline, source, snapshot and run id. The name is derived from\n"
        "(clone.pipeline, run id). Returns once AWS accepted the request, adding the\n"
        "clone section.",
    .reads_document = 1,
    .needs_config = 1,
    .extra = options,
    .on_option = on_option,
    .ctx = &opts,
};

/* and "snapshot", or "restore" for a point-in-time clone (check_document) */
static const char *const required[] = {"source", NULL};

struct create {
    struct app *a;
    struct aws_ctx *aws;
    const struct config *cfg;
    struct rds_cli_snapshot snap;
    const char *snapshot_ref; /* what the restore names: the id, or the ARN when shared */
    int point_in_time;        /* the document has a restore section, not a snapshot */
    struct pitr_choice pitr;
    char pitr_ref[64]; /* stands for the snapshot id in tags and adoption */
    char what[160];    /* "snapshot X" / "the point in time T of S" for the logs */
    char name[CLONE_NAME_MAX + 1];
    char instance_name[CLONE_NAME_MAX + sizeof CLONE_INSTANCE_SUFFIX];
    char run_id[RUN_ID_MAX + 1];
    struct clone_owner owner; /* this pipeline and this run: adoption and roll-back */
    enum rds_kind kind;
    struct rds_tags tags;
    int64_t now;
    /* results */
    char *arn;
    char *delete_after;
    int adopted;
    int created_something; /* this run made the cluster or the instance */
    int maybe_created;     /* a create was sent and its outcome is unknown */
};

static int map_create_error(const struct aws_error *ae, struct err *e, int rc)
{
    if (rds_error_is(ae, "InsufficientDBInstanceCapacity") ||
        rds_error_is(ae, "InsufficientDBClusterCapacityFault") ||
        rds_error_is(ae, "InsufficientStorageClusterCapacity"))
        return err_reclassify(e, ERR_TRANSIENT);
    if (rds_error_is(ae, "DBSnapshotNotFound") ||
        rds_error_is(ae, "DBClusterSnapshotNotFoundFault") ||
        rds_error_is(ae, "PointInTimeRestoreNotEnabled") ||
        rds_error_is(ae, "DBInstanceNotFound") || rds_error_is(ae, "DBClusterNotFoundFault"))
        return err_reclassify(e, ERR_NOT_FOUND);
    if (rds_error_is(ae, "InvalidRestoreFault")) /* the time left the window since step one */
        return err_reclassify(e, ERR_CONFIG);
    return rc;
}

/* An AWS answer that says the request was refused: nothing was created. Anything
 * else (network error, 5xx after every retry) may hide a create that happened. */
static int definitive(const struct aws_error *ae)
{
    return ae->http_status >= 400 && ae->http_status < 500 && ae->code[0];
}

static void opts_from_config(const struct create *c, struct rds_create_opts *o)
{
    const struct config *cfg = c->cfg;
    memset(o, 0, sizeof *o);
    o->instance_class = cfg->clone.instance_class;
    o->subnet_group = cfg->clone.subnet_group;
    o->security_groups = (const char *const *)cfg->clone.security_groups;
    o->n_security_groups = cfg->clone.n_security_groups;
    o->publicly_accessible = cfg->clone.publicly_accessible;
    o->enable_iam_auth = cfg->clone.enable_iam_auth;
    o->parameter_group = cfg->clone.parameter_group;
    o->option_group = cfg->clone.option_group;
    o->cluster_parameter_group = cfg->clone.cluster_parameter_group;
    o->port = cfg->clone.port;
    o->storage_type = cfg->clone.storage_type;
    o->db_name = NULL; /* a restore keeps the snapshot's databases */
    o->deletion_protection = cfg->clone.deletion_protection;
    o->tags = &c->tags;
}

/* Adoption of an instance / cluster found under our name. */
static int adopt_instance(struct create *c, const char *id, int report, struct err *e)
{
    struct rds_instance inst;
    int rc = rds_get_instance(c->aws, id, &inst, NULL, e);
    if (rc)
        return rc;
    rc = clone_adopt_check("DB instance", id, &inst.tags, &c->owner, c->snap.id, e);
    if (rc == 0 && report) {
        free(c->arn);
        c->arn = xstrdup(inst.arn);
        const char *da = rds_tags_get(&inst.tags, CLONE_TAG_DELETE_AFTER);
        if (da) {
            free(c->delete_after);
            c->delete_after = xstrdup(da);
        }
    }
    if (rc == 0)
        log_info("DB instance %s already exists, made by this run from snapshot %s (%s): adopted",
                 id, c->snap.id, inst.status ? inst.status : "?");
    rds_instance_release(&inst);
    return rc;
}

static int adopt_cluster(struct create *c, struct err *e)
{
    struct rds_cluster cl;
    int rc = rds_get_cluster(c->aws, c->name, &cl, NULL, e);
    if (rc)
        return rc;
    rc = clone_adopt_check("DB cluster", c->name, &cl.tags, &c->owner, c->snap.id, e);
    if (rc == 0) {
        free(c->arn);
        c->arn = xstrdup(cl.arn);
        const char *da = rds_tags_get(&cl.tags, CLONE_TAG_DELETE_AFTER);
        if (da) {
            free(c->delete_after);
            c->delete_after = xstrdup(da);
        }
        log_info("DB cluster %s already exists, made by this run from snapshot %s (%s): adopted",
                 c->name, c->snap.id, cl.status ? cl.status : "?");
    }
    rds_cluster_release(&cl);
    return rc;
}

/* *found = whether the resource exists (so the caller adopts); not found is an
 * answer, not an error. Returns 0 or the kind of the failure to find out. */
static int exists(struct create *c, enum rds_kind kind, const char *id, int *found, struct err *e)
{
    int rc;
    *found = 0;
    if (kind == RDS_KIND_CLUSTER) {
        struct rds_cluster cl;
        rc = rds_get_cluster(c->aws, id, &cl, NULL, e);
        rds_cluster_release(&cl);
    } else {
        struct rds_instance inst;
        rc = rds_get_instance(c->aws, id, &inst, NULL, e);
        rds_instance_release(&inst);
    }
    if (rc == 0)
        *found = 1;
    if (rc == ERR_NOT_FOUND) {
        err_clear(e);
        rc = 0;
    }
    return rc;
}

/* After a create call that failed without a definitive answer: did it happen? If
 * the resource is there and ours, adopt it; otherwise report the failure. */
static int after_unclear_failure(struct create *c, enum rds_kind kind, const char *id, int report,
                                 int rc, struct err *e)
{
    struct err e2;
    err_clear(&e2);
    int found = 0;
    if (exists(c, kind, id, &found, &e2) == 0 && found) {
        log_warn("%s; but %s exists: checking whether to adopt it", e->msg, id);
        err_clear(e);
        return kind == RDS_KIND_CLUSTER ? adopt_cluster(c, e) : adopt_instance(c, id, report, e);
    }
    return rc;
}

static int create_instance_clone(struct create *c, struct err *e)
{
    struct rds_create_opts o;
    opts_from_config(c, &o);
    int found = 0;
    int rc = exists(c, RDS_KIND_INSTANCE, c->name, &found, e);
    if (rc)
        return rc;
    if (found) {
        rc = adopt_instance(c, c->name, 1, e);
        if (rc == 0)
            c->adopted = 1;
        return rc;
    }
    if (c->a->cli.dry_run) {
        log_info("dry run: would restore DB instance %s (%s) from %s", c->name, o.instance_class,
                 c->what);
        return 0;
    }
    log_info("restoring DB instance %s (%s) from %s", c->name, o.instance_class, c->what);
    struct rds_instance inst;
    struct aws_error ae;
    c->maybe_created = 1;
    rc = c->point_in_time
             ? rds_restore_db_instance_to_point_in_time(c->aws, c->name, c->cfg->source.identifier,
                                                        c->pitr.time, &o, &inst, &ae, e)
             : rds_restore_db_instance_from_snapshot(c->aws, c->name, c->snapshot_ref, &o, &inst,
                                                     &ae, e);
    if (definitive(&ae) && !rds_error_is(&ae, "DBInstanceAlreadyExists"))
        c->maybe_created = 0;
    if (rc == 0) {
        c->created_something = 1;
        c->arn = xstrdup(inst.arn);
        rds_instance_release(&inst);
        return 0;
    }
    if (rds_error_is(&ae, "DBInstanceAlreadyExists")) {
        err_clear(e);
        rc = adopt_instance(c, c->name, 1, e);
        if (rc == 0)
            c->adopted = 1;
        return rc;
    }
    if (definitive(&ae))
        return map_create_error(&ae, e, rc);
    rc = after_unclear_failure(c, RDS_KIND_INSTANCE, c->name, 1, rc, e);
    if (rc == 0)
        c->adopted = 1;
    return rc;
}

static int create_writer_instance(struct create *c, struct err *e)
{
    int found = 0;
    int rc = exists(c, RDS_KIND_INSTANCE, c->instance_name, &found, e);
    if (rc)
        return rc;
    if (found)
        return adopt_instance(c, c->instance_name, 0, e);
    struct rds_create_opts o;
    opts_from_config(c, &o);
    if (c->a->cli.dry_run) {
        log_info("dry run: would create the writer DB instance %s (%s) in cluster %s",
                 c->instance_name, o.instance_class, c->name);
        return 0;
    }
    log_info("creating the writer DB instance %s (%s) in cluster %s", c->instance_name,
             o.instance_class, c->name);
    struct aws_error ae;
    c->maybe_created = 1;
    rc = rds_create_db_instance_in_cluster(c->aws, c->instance_name, c->name, c->snap.engine, &o,
                                           NULL, &ae, e);
    if (rc == 0) {
        c->created_something = 1;
        return 0;
    }
    if (rds_error_is(&ae, "DBInstanceAlreadyExists")) {
        err_clear(e);
        return adopt_instance(c, c->instance_name, 0, e);
    }
    if (definitive(&ae))
        return map_create_error(&ae, e, rc);
    return after_unclear_failure(c, RDS_KIND_INSTANCE, c->instance_name, 0, rc, e);
}

/* clone.engineVersion (the Go original's Aurora-only override), else the snapshot's. */
static const char *cluster_engine_version(const struct create *c)
{
    return c->cfg->clone.engine_version ? c->cfg->clone.engine_version : c->snap.engine_version;
}

static int create_cluster_clone(struct create *c, struct err *e)
{
    struct rds_create_opts o;
    opts_from_config(c, &o);
    int found = 0;
    int rc = exists(c, RDS_KIND_CLUSTER, c->name, &found, e);
    if (rc)
        return rc;
    if (found) {
        rc = adopt_cluster(c, e);
        if (rc)
            return rc;
        c->adopted = 1;
    } else if (c->a->cli.dry_run) {
        log_info("dry run: would restore DB cluster %s (%s %s) from %s", c->name, c->snap.engine,
                 cluster_engine_version(c) ? cluster_engine_version(c) : "", c->what);
    } else {
        log_info("restoring DB cluster %s (%s %s) from %s", c->name, c->snap.engine,
                 cluster_engine_version(c) ? cluster_engine_version(c) : "", c->what);
        struct rds_cluster cl;
        struct aws_error ae;
        c->maybe_created = 1;
        rc = c->point_in_time
                 ? rds_restore_db_cluster_to_point_in_time(
                       c->aws, c->name, c->cfg->source.identifier, c->pitr.restore_type,
                       c->pitr.use_latest ? 0 : c->pitr.time, &o, &cl, &ae, e)
                 : rds_restore_db_cluster_from_snapshot(c->aws, c->name, c->snapshot_ref,
                                                        c->snap.engine, cluster_engine_version(c),
                                                        &o, &cl, &ae, e);
        if (definitive(&ae) && !rds_error_is(&ae, "DBClusterAlreadyExistsFault"))
            c->maybe_created = 0;
        if (rc == 0) {
            c->created_something = 1;
            c->arn = xstrdup(cl.arn);
            rds_cluster_release(&cl);
        } else if (rds_error_is(&ae, "DBClusterAlreadyExistsFault")) {
            err_clear(e);
            rc = adopt_cluster(c, e);
            if (rc)
                return rc;
            c->adopted = 1;
        } else if (definitive(&ae)) {
            return map_create_error(&ae, e, rc);
        } else {
            rc = after_unclear_failure(c, RDS_KIND_CLUSTER, c->name, 1, rc, e);
            if (rc)
                return rc;
            c->adopted = 1;
        }
    }
    if (signals_pending())
        return err_interrupted(e, signals_pending(),
                               "interrupted by signal %d after the cluster was requested",
                               signals_pending());
    return create_writer_instance(c, e);
}

/* How long a roll-back looks for a clone whose create answer was lost, and how
 * long a roll-back after a signal may take (the driver's signal budget is 25 s;
 * the clone is tagged AutoDelete=true for rds-clone-gc in any case). */
#define ROLLBACK_GRACE  15.0
#define ROLLBACK_BUDGET 22.0

/* The roll-back: whatever exists under our name goes, through the guard. After
 * a signal it still runs, here, in bounded time: its requests run on the AWS
 * context with the roll-back's own cancellation (signals_cancel_further): deaf
 * to the signal that started it, stopped by a further one or after
 * ROLLBACK_BUDGET seconds; the command's own is restored afterwards. */
static void roll_back(struct create *c)
{
    if (c->a->cli.dry_run)
        return;
    log_warn("removing %s %s so that no clone is left behind", rds_cli_kind_name(c->kind), c->name);
    int sig = signals_pending();
    struct cancel saved = aws_ctx_cancel(c->aws);
    if (sig) {
        log_info("roll-back after signal %d: its requests run for up to %.0f s (a second "
                 "signal stops them)",
                 sig, ROLLBACK_BUDGET);
        aws_ctx_set_cancel(c->aws, signals_cancel_further(ROLLBACK_BUDGET));
    }
    struct clone_delete_opts o = {&c->owner, 0, 0, 0,
                                  c->created_something ? 0 : ROLLBACK_GRACE * poll_scale()};
    struct clone_delete_result r;
    struct err e;
    err_clear(&e);
    if (clone_delete(c->aws, c->kind, c->name, &o, &r, &e) != 0)
        log_error("roll-back of %s failed: %s (rds-clone-gc will collect it: it is tagged "
                  "AutoDelete=true)",
                  c->name, e.msg);
    clone_delete_result_release(&r);
    aws_ctx_set_cancel(c->aws, saved);
}

static cJSON *clone_section(const struct create *c)
{
    cJSON *o = cJSON_CreateObject();
    rds_cli_add_string(o, "id", c->name);
    rds_cli_add_string(o, "kind", rds_cli_kind_name(c->kind));
    cJSON *inst = cJSON_AddArrayToObject(o, "instances");
    const char *writer = c->kind == RDS_KIND_CLUSTER ? c->instance_name : c->name;
    cJSON_AddItemToArray(inst, cJSON_CreateString(writer));
    rds_cli_add_string(o, "writerInstanceId", writer);
    rds_cli_add_string(o, "arn", c->arn);
    rds_cli_add_time(o, "createTime", c->now);
    rds_cli_add_string(o, "deleteAfter", c->delete_after);
    rds_cli_add_string(o, "instanceClass", c->cfg->clone.instance_class);
    cJSON_AddBoolToObject(o, "adopted", c->adopted);
    if (c->a->cli.dry_run && !c->adopted)
        cJSON_AddBoolToObject(o, "dryRun", 1); /* what would be created */
    return o;
}

/* The run id (run_id_choose's precedence) and the name derived from it with the
 * pipeline; the document keeps the run id actually used. */
static int choose_name(struct create *c, cJSON *doc, struct err *e)
{
    const cJSON *rid = cJSON_GetObjectItemCaseSensitive(doc, "runId");
    if (rid && !cJSON_IsString(rid))
        return err_set(e, ERR_INPUT, "runId: must be a string");
    const char *origin = NULL;
    int rc = run_id_choose(opts.run_id, rid ? rid->valuestring : NULL, c->now, c->run_id,
                           sizeof c->run_id, &origin, e);
    if (rc)
        return rc;
    clone_owner_of(&c->owner, c->cfg, c->run_id);
    if (opts.clone_id) {
        snprintf(c->name, sizeof c->name, "%s", opts.clone_id);
        log_info("clone name %s (-clone-id), pipeline %s, run %s (%s)", c->name,
                 c->cfg->clone.pipeline, c->run_id, origin);
    } else {
        clone_name(c->cfg->clone.pipeline, c->run_id, c->name, sizeof c->name);
        log_info("clone name %s (pipeline %s, run %s, %s)", c->name, c->cfg->clone.pipeline,
                 c->run_id, origin);
    }
    if (clone_name_check(c->name, e))
        return err_reclassify(e, ERR_INTERNAL);
    snprintf(c->instance_name, sizeof c->instance_name, "%s%s", c->name, CLONE_INSTANCE_SUFFIX);
    cJSON *v = cJSON_CreateString(c->run_id);
    if (rid)
        cJSON_ReplaceItemInObjectCaseSensitive(doc, "runId", v);
    else
        cJSON_AddItemToObject(doc, "runId", v);
    return 0;
}

static int check_document(struct create *c, cJSON *doc, struct err *e)
{
    const char *src;
    int rc = rundoc_get_string(doc, "source", "identifier", &src, e);
    if (rc)
        return rc;
    if (strcmp(src, c->cfg->source.identifier) != 0)
        return err_set(e, ERR_INPUT,
                       "source.identifier: the document is for %s, the configuration for %s", src,
                       c->cfg->source.identifier);
    rc = rds_cli_check_pipeline(doc, c->cfg, e);
    if (rc)
        return rc;
    if (rundoc_section(doc, PITR_SECTION)) {
        rc = pitr_read(doc, &c->pitr, e);
        if (rc)
            return rc;
        c->point_in_time = 1;
        pitr_ref(&c->pitr, c->pitr_ref, sizeof c->pitr_ref);
        c->snap.id = c->pitr_ref;
        c->snap.kind = c->pitr.kind;
        c->snap.engine = c->pitr.engine;
        c->snap.engine_version = c->pitr.engine_version;
        c->snapshot_ref = c->pitr_ref;
        char t[32];
        clock_format_rfc3339(c->pitr.time, t, sizeof t);
        snprintf(c->what, sizeof c->what, "%s %s at %s%s%s",
                 c->pitr.restore_type ? "cluster" : "instance", c->cfg->source.identifier,
                 c->pitr.use_latest ? "its latest restorable time (at least " : "", t,
                 c->pitr.use_latest ? "), copy-on-write"
                                    : (c->pitr.restore_type ? ", full copy" : ""));
    } else {
        if (!rundoc_section(doc, "snapshot"))
            return err_set(e, ERR_INPUT,
                           "snapshot: missing section, and no restore "
                           "section either (run rds-snapshot-latest first)");
        rc = rds_cli_read_snapshot(doc, &c->snap, e);
        if (rc)
            return rc;
    }
    c->kind = rds_cli_source_kind(c->cfg);
    if (c->snap.kind != c->kind)
        return err_set(e, ERR_INPUT,
                       "snapshot.kind: a %s snapshot cannot make the clone of a source of type %s",
                       rds_cli_kind_name(c->snap.kind), source_type_name(c->cfg->source.type));
    if (c->kind == RDS_KIND_CLUSTER && !c->snap.engine)
        return err_set(e, ERR_INPUT, "snapshot.engine: missing (Aurora needs the engine)");
    /* A shared snapshot is restored by its ARN. */
    if (c->point_in_time)
        return 0;
    int shared = c->snap.type && strcmp(c->snap.type, "shared") == 0;
    c->snapshot_ref = (shared && c->snap.arn) ? c->snap.arn : c->snap.id;
    snprintf(c->what, sizeof c->what, "snapshot %s", c->snapshot_ref);
    return 0;
}

static int run_command(struct app *a, struct err *e)
{
    int rc = 0;
    struct create c;
    memset(&c, 0, sizeof c);
    c.a = a;
    c.cfg = &a->cfg;
    c.now = clock_now();
    cJSON *doc = app_doc(a);

    rc = check_document(&c, doc, e);
    if (rc == 0)
        rc = choose_name(&c, doc, e);
    if (rc == 0)
        rc = rds_cli_aws_new(&a->cfg, &c.aws, e);
    /* Before every create, and in the dry run: the names the restore will use. */
    if (rc == 0)
        rc = preflight_clone(
            c.aws, &a->cfg, c.snap.engine,
            c.kind == RDS_KIND_CLUSTER ? cluster_engine_version(&c) : c.snap.engine_version, e);
    if (rc == 0) {
        clone_tags_build(&c.tags, &a->cfg, c.snap.id, c.run_id, c.now);
        c.delete_after = xstrdup(rds_tags_get(&c.tags, CLONE_TAG_DELETE_AFTER));
        rc =
            c.kind == RDS_KIND_CLUSTER ? create_cluster_clone(&c, e) : create_instance_clone(&c, e);
    }
    if (rc == 0 && signals_pending())
        rc = err_interrupted(e, signals_pending(), "interrupted by signal %d during the create",
                             signals_pending());
    /* Failing after something of ours exists under this name: remove it. A guard
     * refusal means the name is someone else's: never touched. */
    if (rc != 0 && rc != ERR_GUARD && (c.created_something || c.adopted || c.maybe_created)) {
        log_warn("failed after the clone was requested: %s", e->msg);
        roll_back(&c);
    }
    if (rc == 0) {
        rundoc_set_section(doc, "clone", clone_section(&c));
        rc = rundoc_write(doc);
    }
    if (c.aws)
        log_debug("%ld AWS request(s)", rds_cli_aws_calls(c.aws));
    free(c.arn);
    free(c.delete_after);
    pitr_choice_release(&c.pitr);
    rds_tags_release(&c.tags);
    rds_cli_aws_free(c.aws);
    return rc;
}

int main(int argc, char **argv)
{
    return app_main(argc, argv, &cmd, required, run_command);
}
