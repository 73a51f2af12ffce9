/* rds-clone-delete: deletes the run's clone through the guarded delete path
 * (clone.h): described first, refused unless it is named dblab-refresh-* AND
 * tagged ManagedBy=dblab-rds-refresh AND with this pipeline and source AND, when
 * a run is named (-run-id, or the document's runId), that run; never the
 * configured source. Idempotent: not found or already deleting is success. The
 * clone comes from the input document, or -clone-id, or -run-id (the name
 * rds-clone-create derives from (clone.pipeline, run id): a scheduler's clean-up
 * or the driver's recovery finds a clone whose create never printed its document,
 * e.g. a create killed after AWS accepted the request). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/app.h"
#include "app/run_id.h"
#include "app/rundoc.h"
#include "config/config.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "rds/clone.h"
#include "rds/go_state.h"
#include "rds/rds.h"
#include "rds/rds_cli.h"

enum { OPT_WAIT = 1000, OPT_CLONE_ID, OPT_RUN_ID, OPT_GRACE, OPT_GO_STATE };

static const struct cli_option options[] = {
    {"wait", no_argument, OPT_WAIT, NULL, "wait until the clone is gone (up to clone.waitTimeout)"},
    {"clone-id", required_argument, OPT_CLONE_ID, "NAME",
     "delete this clone of this pipeline (no input document is read; its kind follows "
     "source.type)"},
    {"run-id", required_argument, OPT_RUN_ID, "ID",
     "delete run ID's clone of this pipeline: the name derived from (clone.pipeline, ID) "
     "unless -clone-id names it, and its run-id tag must be ID (no input document is read)"},
    {"grace", required_argument, OPT_GRACE, "DURATION",
     "when the clone is not found, look again for this long (a create whose answer was "
     "lost may not be visible yet), e.g. 15s"},
    {"go-state", required_argument, OPT_GO_STATE, "FILE",
     "delete the clone the Go rds-refresh recorded in FILE (its meta/rds-refresh.state; "
     "no input document is read), then remove FILE as the Go tool did"},
    {NULL, 0, 0, NULL, NULL},
};

struct opts {
    int wait;
    const char *clone_id;
    const char *run_id;
    const char *go_state;
    int64_t grace;
};
static struct opts opts;

static int on_option(int id, const char *arg, void *ctx, struct err *e)
{
    struct opts *o = ctx;
    if (id == OPT_WAIT) {
        o->wait = 1;
    } else if (id == OPT_CLONE_ID) {
        if (!*arg)
            return err_set(e, ERR_USAGE, "-clone-id: empty");
        o->clone_id = arg;
    } else if (id == OPT_RUN_ID) {
        return run_id_flag(arg, &o->run_id, e);
    } else if (id == OPT_GO_STATE) {
        if (!*arg)
            return err_set(e, ERR_USAGE, "-go-state: empty");
        o->go_state = arg;
    } else if (id == OPT_GRACE) {
        if (duration_parse(arg, &o->grace) != 0)
            return err_set(e, ERR_USAGE, "-grace: \"%s\" is not a duration (e.g. 15s)", arg);
    }
    return 0;
}

static const struct cli_command cmd = {
    .name = "rds-clone-delete",
    .summary = "delete the run's clone (guarded, idempotent)",
    .description =
        "Describes the clone and refuses (exit 83, nothing deleted) unless its name starts\n"
        "with dblab-refresh- AND it is tagged ManagedBy=dblab-rds-refresh AND with this\n"
        "pipeline (clone.pipeline) and source AND, when a run is named (-run-id, the\n"
        "document's runId), that run id; the configured source is refused whatever its\n"
        "tags. RDS: deletion protection off if on, then\n"
        "DeleteDBInstance SkipFinalSnapshot=true DeleteAutomatedBackups=true. Aurora: the\n"
        "member instances, then DeleteDBCluster SkipFinalSnapshot=true. Not found or\n"
        "already deleting is success.",
    .reads_document = CLI_DOCUMENT_ON_DEMAND, /* not with -clone-id, -run-id, -go-state */
    .needs_config = 1,
    .extra = options,
    .on_option = on_option,
    .ctx = &opts,
};

static const char *const required[] = {"clone", NULL};

/* -go-state: the clone the Go tool recorded. 0 with *id set (or NULL: nothing
 * recorded), or an error kind. The region must be the configured one: deleting
 * in another region would find nothing and wrongly call the clone gone. */
static int from_go_state(const struct config *cfg, struct go_state *gs, const char **id,
                         enum rds_kind *kind, struct err *e)
{
    *id = NULL;
    int found = 0;
    int rc = go_state_read(opts.go_state, gs, &found, e);
    if (rc)
        return rc;
    if (!found) {
        log_info("%s: no Go state file: no clone recorded", opts.go_state);
        return 0;
    }
    if (gs->aws_region && cfg->aws.region && strcmp(gs->aws_region, cfg->aws.region) != 0)
        return err_set(e, ERR_CONFIG,
                       "%s: aws_region: the Go state records %s, the "
                       "configuration says %s (aws.region)",
                       opts.go_state, gs->aws_region, cfg->aws.region);
    if (!gs->clone_id) {
        log_info("%s: the Go run recorded no clone (it stopped before creating one)",
                 opts.go_state);
        return 0;
    }
    *id = gs->clone_id;
    *kind = gs->is_cluster ? RDS_KIND_CLUSTER : RDS_KIND_INSTANCE;
    log_info("%s: the Go rds-refresh recorded DB %s %s", opts.go_state,
             gs->is_cluster ? "cluster" : "instance", *id);
    return 0;
}

/* After the recorded clone is gone (or none was recorded): the Go tool's
 * StateFile.Clear. */
static void clear_go_state(int dry_run)
{
    if (dry_run) {
        log_info("dry run: would remove %s", opts.go_state);
        return;
    }
    if (unlink(opts.go_state) == 0)
        log_info("removed %s", opts.go_state);
    else if (errno != ENOENT)
        log_warn("cannot remove %s: %s", opts.go_state, strerror(errno));
}

static int run_command(struct app *a, struct err *e)
{
    int rc = 0;
    struct aws_ctx *aws = NULL;
    struct clone_delete_result r;
    memset(&r, 0, sizeof r);
    cJSON *doc = NULL;
    const char *id = opts.clone_id;
    const char *run_id = opts.run_id;
    char derived[CLONE_NAME_MAX + 1];
    enum rds_kind kind = rds_cli_source_kind(&a->cfg);
    struct go_state gs;
    memset(&gs, 0, sizeof gs);
    int go_record = 0;
    if (opts.go_state && (opts.clone_id || opts.run_id)) {
        rc = err_set(e, ERR_USAGE, "-go-state: not with -clone-id or -run-id");
    } else if (opts.go_state) {
        rc = from_go_state(&a->cfg, &gs, &id, &kind, e);
        if (rc == 0 && id == NULL) {
            if (access(opts.go_state, F_OK) == 0)
                clear_go_state(a->cli.dry_run);
            rc = rundoc_write(app_doc(a));
            go_state_release(&gs);
            return rc;
        }
        go_record = 1;
    } else if (opts.clone_id) {
        /* named as given: the guard refuses anything that is not this pipeline's */
    } else if (opts.run_id) {
        clone_name(a->cfg.clone.pipeline, opts.run_id, derived, sizeof derived);
        id = derived;
        log_info("clone name %s (pipeline %s, run %s)", id, a->cfg.clone.pipeline, opts.run_id);
    } else if ((rc = app_read_document(a, required)) == 0) {
        const char *kind_s;
        doc = app_doc(a);
        rc = rds_cli_check_pipeline(doc, &a->cfg, e);
        if (rc == 0)
            rc = rundoc_get_string(doc, "clone", "id", &id, e);
        if (rc == 0)
            rc = rundoc_get_string(doc, "clone", "kind", &kind_s, e);
        if (rc == 0 && rds_cli_parse_kind(kind_s, &kind) != 0)
            rc =
                err_set(e, ERR_INPUT, "clone.kind: \"%s\" is neither instance nor cluster", kind_s);
        /* The whole name rule, not only the prefix: what a document names is input. */
        if (rc == 0 && clone_name_check(id, e) != 0) {
            err_prefix(e, "clone.id");
            rc = err_reclassify(e, ERR_INPUT);
        }
        /* the document names its run: the clone must be that run's */
        const cJSON *rid = cJSON_GetObjectItemCaseSensitive(doc, "runId");
        if (rc == 0 && rid &&
            (!cJSON_IsString(rid) || run_id_check(rid->valuestring, "runId", ERR_INPUT, e)))
            rc = cJSON_IsString(rid) ? (int)e->kind
                                     : err_set(e, ERR_INPUT, "runId: must be a string");
        if (rc == 0 && rid)
            run_id = rid->valuestring;
    }
    if (doc == NULL)
        doc = app_doc(a);
    if (rc == 0)
        rc = rds_cli_aws_new(&a->cfg, &aws, e);
    if (rc == 0) {
        struct clone_owner owner;
        clone_owner_of(&owner, &a->cfg, run_id);
        /* The Go tool's own record names a clone it made before pipelines existed:
         * one without any pipeline tag may go (one with a tag must be ours). */
        owner.untagged_ok = go_record;
        struct clone_delete_opts o = {&owner, a->cli.dry_run, opts.wait, a->cfg.clone.wait_timeout,
                                      (double)opts.grace};
        rc = clone_delete(aws, kind, id, &o, &r, e);
    }
    if (rc == 0) {
        cJSON *d = cJSON_CreateObject();
        rds_cli_add_string(d, "id", id);
        rds_cli_add_time(d, "at", clock_now());
        cJSON_AddBoolToObject(d, "alreadyGone", r.already_gone);
        cJSON *inst = cJSON_AddArrayToObject(d, "instances");
        if (kind == RDS_KIND_INSTANCE)
            cJSON_AddItemToArray(inst, cJSON_CreateString(id));
        for (size_t i = 0; i < r.n_instances; i++)
            cJSON_AddItemToArray(inst, cJSON_CreateString(r.instances[i]));
        if (a->cli.dry_run)
            cJSON_AddBoolToObject(d, "dryRun", 1); /* what would be deleted */
        rundoc_set_section(doc, "deleted", d);
        log_info("%s %s: %s", rds_cli_kind_name(kind), id,
                 r.already_gone   ? "already gone"
                 : a->cli.dry_run ? "would be deleted"
                 : opts.wait      ? "deleted"
                                  : "deletion requested");
    }
    if (rc == 0 && opts.go_state)
        clear_go_state(a->cli.dry_run);
    if (rc == 0)
        rc = rundoc_write(doc);
    go_state_release(&gs);
    clone_delete_result_release(&r);
    rds_cli_aws_free(aws);
    return rc;
}

int main(int argc, char **argv)
{
    return app_main(argc, argv, &cmd, NULL, run_command);
}
