/* rds-clone-delete: deletes the run's clone through the guarded delete path
 * (clone.h): described first, refused unless it is named dblab-refresh-* AND
 * tagged ManagedBy=dblab-rds-refresh, never the configured source. Idempotent:
 * not found or already deleting is success. The clone comes from the input
 * document, or -clone-id, or -run-id (the name rds-clone-create derives from that
 * run id: a scheduler's clean-up can find a clone whose create never printed its
 * document, e.g. a create killed after AWS accepted the request). */
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

enum { OPT_WAIT = 1000, OPT_CLONE_ID, OPT_RUN_ID, OPT_GRACE };

static const struct cli_option options[] = {
    {"wait", no_argument, OPT_WAIT, NULL,
     "wait until the clone is gone (up to clone.waitTimeout)"},
    {"clone-id", required_argument, OPT_CLONE_ID, "NAME",
     "delete this clone (no input document is read; its kind follows source.type)"},
    {"run-id", required_argument, OPT_RUN_ID, "ID",
     "delete the clone rds-clone-create -run-id ID made (the same derived name; no input "
     "document is read; its kind follows source.type)"},
    {"grace", required_argument, OPT_GRACE, "DURATION",
     "when the clone is not found, look again for this long (a create whose answer was "
     "lost may not be visible yet), e.g. 15s"},
    {NULL, 0, 0, NULL, NULL},
};

struct opts {
    int wait;
    const char *clone_id;
    const char *run_id;
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
            return err_set(e, DRR_EXIT_USAGE, "-clone-id: empty");
        o->clone_id = arg;
    } else if (id == OPT_RUN_ID) {
        if (!*arg)
            return err_set(e, DRR_EXIT_USAGE, "-run-id: empty");
        o->run_id = arg;
    } else if (id == OPT_GRACE) {
        if (duration_parse(arg, &o->grace) != 0)
            return err_set(e, DRR_EXIT_USAGE, "-grace: \"%s\" is not a duration (e.g. 15s)", arg);
    }
    return 0;
}

static const struct cli_command cmd = {
    .name = "rds-clone-delete",
    .summary = "delete the run's clone (guarded, idempotent)",
    .description =
        "Describes the clone and refuses (exit 83, nothing deleted) unless its name starts\n"
        "with dblab-refresh- AND it is tagged ManagedBy=dblab-rds-refresh; the configured\n"
        "source is refused whatever its tags. RDS: deletion protection off if on, then\n"
        "DeleteDBInstance SkipFinalSnapshot=true DeleteAutomatedBackups=true. Aurora: the\n"
        "member instances, then DeleteDBCluster SkipFinalSnapshot=true. Not found or\n"
        "already deleting is success.",
    .reads_document = CLI_DOCUMENT_ON_DEMAND, /* not with -clone-id or -run-id */
    .needs_config = 1,
    .extra = options,
    .on_option = on_option,
    .ctx = &opts,
};

static const char *const required[] = {"clone", NULL};

int main(int argc, char **argv)
{
    struct app a;
    int rc = app_start(&a, argc, argv, &cmd, NULL);
    if (rc != 0) {
        app_end(&a);
        return rc < 0 ? 0 : rc;
    }
    struct err e;
    err_clear(&e);
    struct aws_ctx *aws = NULL;
    struct clone_delete_result r;
    memset(&r, 0, sizeof r);
    cJSON *doc = NULL;
    const char *id = opts.clone_id;
    char derived[CLONE_NAME_MAX + 1];
    enum rds_kind kind = rds_cli_source_kind(&a.cfg);
    if (opts.clone_id && opts.run_id) {
        rc = err_set(&e, DRR_EXIT_USAGE, "-clone-id and -run-id: give one of them");
    } else if (opts.run_id) {
        clone_name_for_run_id(opts.run_id, derived, sizeof derived);
        id = derived;
        log_info("clone name %s (from run id \"%s\")", id, opts.run_id);
    } else if (!id && (rc = app_read_document(&a, required)) == 0) {
        const char *kind_s;
        doc = app_doc(&a);
        rc = rundoc_get_string(doc, "clone", "id", &id, &e);
        if (rc == 0)
            rc = rundoc_get_string(doc, "clone", "kind", &kind_s, &e);
        if (rc == 0 && rds_cli_parse_kind(kind_s, &kind) != 0)
            rc = err_set(&e, DRR_EXIT_INPUT, "clone.kind: \"%s\" is neither instance nor cluster",
                         kind_s);
    }
    if (doc == NULL)
        doc = app_doc(&a);
    if (rc == 0)
        rc = rds_cli_aws_new(&a.cfg, &aws, &e);
    if (rc == 0) {
        struct clone_delete_opts o = {a.cfg.source.identifier, a.cli.dry_run, opts.wait,
                                      a.cfg.clone.wait_timeout, (double)opts.grace};
        rc = clone_delete(aws, kind, id, &o, &r, &e);
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
        if (a.cli.dry_run)
            cJSON_AddBoolToObject(d, "dryRun", 1); /* what would be deleted */
        rundoc_set_section(doc, "deleted", d);
        log_info("%s %s: %s", rds_cli_kind_name(kind), id,
                 r.already_gone ? "already gone" : a.cli.dry_run ? "would be deleted" :
                 opts.wait ? "deleted" : "deletion requested");
    }
    if (rc == 0)
        rc = rundoc_write(doc);
    clone_delete_result_free(&r);
    rds_cli_aws_free(aws);
    app_end(&a);
    return rds_cli_fail(rc, &e);
}
