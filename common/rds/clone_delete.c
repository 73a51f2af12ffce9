/* The one guarded delete path (rds-clone-delete, rds-clone-gc, rds-clone-create's
 * own roll-back). Every resource -- the instance, the cluster and each of its
 * members -- is described and guarded for the caller's owner (prefix, ManagedBy,
 * pipeline, source, run id) just before it is changed; nothing else is touched. */
#include "rds/clone.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws_client.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/cancel.h"
#include "rds/clone_poll.h"

/* A resource in these states is on its way out: nothing left to do. */
static int going_away(const char *status)
{
    return status && (strcmp(status, "deleting") == 0 || strcmp(status, "deleted") == 0);
}

/* How long a delete keeps retrying a resource that is busy (InvalidDBInstanceState
 * while being modified, a cluster whose members are not yet deleting) when not
 * asked to wait: short enough for a driver's 25-second signal budget. */
#define BUSY_RETRY_SECONDS 20.0

/* The waits between a delete's calls stop when its calls would: on the
 * context's cancellation (a command's signal; the roll-back's own budget). */
static int wait_on(struct aws_ctx *aws, double seconds, const char *what, struct err *e)
{
    int stop = aws_ctx_sleep(aws, seconds);
    return stop ? cancel_err(e, stop, what, "while waiting") : 0;
}

static void add_instance(struct clone_delete_result *r, const char *id)
{
    r->instances = xrealloc(r->instances, (r->n_instances + 1) * sizeof *r->instances);
    r->instances[r->n_instances++] = xstrdup(id);
}

void clone_delete_result_release(struct clone_delete_result *r)
{
    for (size_t i = 0; i < r->n_instances; i++)
        free(r->instances[i]);
    free(r->instances);
    free(r->arn);
    memset(r, 0, sizeof *r);
}

/* Describes the instance or the cluster id; on success copies its status into
 * status ("" when AWS gave none). Returns rds_get_*'s code. */
static int describe_status(struct aws_ctx *aws, enum rds_kind kind, const char *id, char *status,
                           size_t n, struct aws_error *ae, struct err *e)
{
    int rc;
    const char *st = NULL;
    struct rds_instance inst;
    struct rds_cluster cl;
    memset(&inst, 0, sizeof inst);
    memset(&cl, 0, sizeof cl);
    if (kind == RDS_KIND_CLUSTER) {
        rc = rds_get_cluster(aws, id, &cl, ae, e);
        st = cl.status;
    } else {
        rc = rds_get_instance(aws, id, &inst, ae, e);
        st = inst.status;
    }
    snprintf(status, n, "%s", rc == 0 && st ? st : "");
    rds_instance_release(&inst);
    rds_cluster_release(&cl);
    return rc;
}

/* After "not found": when the create's answer was lost, AWS may not show the clone
 * yet. Looks again until it appears (*appeared = 1) or the grace period ends
 * (*appeared = 0). Returns 0 or the kind of a failure to look. */
static int appears(struct aws_ctx *aws, enum rds_kind kind, const char *id, double grace,
                   int *appeared, struct err *e)
{
    *appeared = 0;
    if (grace <= 0)
        return 0;
    struct poll_schedule ps;
    poll_init(&ps, 0);
    double start = clock_monotonic();
    while (clock_monotonic() - start < grace) {
        int rc = wait_on(aws, poll_next(&ps), id, e);
        if (rc)
            return rc;
        char status[64];
        rc = describe_status(aws, kind, id, status, sizeof status, NULL, e);
        if (rc == 0) {
            log_info("DB %s %s appeared after %.1f s",
                     kind == RDS_KIND_CLUSTER ? "cluster" : "instance", id,
                     clock_monotonic() - start);
            *appeared = 1;
            return 0;
        }
        if (rc != ERR_NOT_FOUND && rc != ERR_TRANSIENT)
            return rc;
        err_clear(e);
    }
    return 0;
}

/* Waits until describe says not found. */
static int wait_gone(struct aws_ctx *aws, enum rds_kind kind, const char *id, int64_t timeout,
                     struct err *e)
{
    struct poll_schedule ps;
    poll_init(&ps, 0);
    double start = clock_monotonic();
    const char *kn = kind == RDS_KIND_CLUSTER ? "cluster" : "instance";
    for (;;) {
        struct aws_error ae;
        char status[64];
        int rc = describe_status(aws, kind, id, status, sizeof status, &ae, e);
        if (rc == 0)
            log_debug("DB %s %s: %s", kn, id, status[0] ? status : "?");
        if (rc == ERR_NOT_FOUND) {
            err_clear(e);
            log_info("DB %s %s is gone", kn, id);
            return 0;
        }
        if (rc)
            return rc;
        double waited = clock_monotonic() - start;
        if (waited >= (double)timeout)
            return err_set(e, ERR_TIMEOUT,
                           "DB %s %s: still present after %.0f s (clone.waitTimeout)", kn, id,
                           waited);
        double d = poll_next(&ps);
        if (waited + d > (double)timeout)
            d = (double)timeout - waited;
        if ((rc = wait_on(aws, d, id, e)) != 0)
            return rc;
    }
}

enum change { CHANGE_DELETE, CHANGE_UNPROTECT };

/* DeleteDBInstance / DeleteDBCluster, or turning deletion protection off
 * (ModifyDB*), retried while AWS says the resource is busy (creating, modifying,
 * backing-up: a clone restored with clone.deletionProtection cannot be modified
 * before it is available), for BUSY_RETRY_SECONDS, or up to busy_limit when
 * waiting. Not found, or already on its way out, is success (*gone = 1). */
static int change_call(struct aws_ctx *aws, enum rds_kind kind, const char *id, int aurora_member,
                       enum change what, double busy_limit, int *gone, struct err *e)
{
    const int cluster = kind == RDS_KIND_CLUSTER;
    struct poll_schedule ps;
    poll_init(&ps, 0);
    double start = clock_monotonic();
    for (;;) {
        struct aws_error ae;
        int rc;
        if (what == CHANGE_UNPROTECT)
            rc = cluster ? rds_disable_cluster_deletion_protection(aws, id, &ae, e)
                         : rds_disable_instance_deletion_protection(aws, id, &ae, e);
        else
            rc = cluster         ? rds_delete_db_cluster(aws, id, &ae, e)
                 : aurora_member ? rds_delete_db_instance(aws, id, -1, -1, &ae, e)
                                 : rds_delete_db_instance(aws, id, 1, 1, &ae, e);
        if (rc == 0)
            return 0;
        if (rds_error_is(&ae, cluster ? "DBClusterNotFoundFault" : "DBInstanceNotFound")) {
            err_clear(e);
            *gone = 1;
            return 0;
        }
        if (!rds_error_is(&ae, cluster ? "InvalidDBClusterStateFault" : "InvalidDBInstanceState"))
            return rc;
        /* Already deleting is success; anything else (modifying, backing-up) may pass. */
        char status[64];
        struct err e2;
        err_clear(&e2);
        int rc2 = describe_status(aws, kind, id, status, sizeof status, NULL, &e2);
        if (rc2 == ERR_NOT_FOUND || (rc2 == 0 && going_away(status))) {
            err_clear(e);
            *gone = 1;
            return 0;
        }
        if (clock_monotonic() - start > busy_limit)
            return err_reclassify(e, ERR_TRANSIENT);
        log_warn("%s; retrying", e->msg);
        if ((rc = wait_on(aws, poll_next(&ps), id, e)) != 0)
            return rc;
    }
}

/* How long turning deletion protection off may wait for a busy clone: a clone
 * still being restored accepts no ModifyDB* until it is available, so with -wait
 * (the driver's delete) that may take the whole clone.waitTimeout. */
static double busy_limit(const struct clone_delete_opts *o)
{
    return o->wait ? (double)o->wait_timeout : BUSY_RETRY_SECONDS * poll_scale();
}

/* Guard, deletion protection, delete: one instance. */
static int delete_one_instance(struct aws_ctx *aws, const char *id, int aurora_member,
                               const struct clone_delete_opts *o, int *gone, char **arn,
                               struct err *e)
{
    struct rds_instance inst;
    struct aws_error ae;
    *gone = 0;
    int rc = rds_get_instance(aws, id, &inst, &ae, e);
    if (rc == ERR_NOT_FOUND && !aurora_member) {
        err_clear(e);
        int appeared = 0;
        rc = appears(aws, RDS_KIND_INSTANCE, id, o->not_found_grace, &appeared, e);
        if (rc)
            return rc;
        rc = appeared ? rds_get_instance(aws, id, &inst, &ae, e) : ERR_NOT_FOUND;
    }
    if (rc == ERR_NOT_FOUND) {
        err_clear(e);
        log_info("DB instance %s: not found, nothing to delete", id);
        *gone = 1;
        return 0;
    }
    if (rc)
        return rc;
    rc = clone_guard_check("DB instance", id, &inst.tags, o->owner, e);
    if (rc) {
        rds_instance_release(&inst);
        return rc;
    }
    if (arn && !*arn)
        *arn = xstrdup(inst.arn);
    if (going_away(inst.status)) {
        log_info("DB instance %s: already %s", id, inst.status);
        *gone = 1;
        rds_instance_release(&inst);
        return 0;
    }
    int protected = inst.deletion_protection;
    rds_instance_release(&inst);
    if (o->dry_run) {
        log_info("dry run: would delete DB instance %s%s", id,
                 protected ? " (after turning deletion protection off)" : "");
        return 0;
    }
    if (protected) {
        log_warn("DB instance %s has deletion protection on; turning it off", id);
        rc = change_call(aws, RDS_KIND_INSTANCE, id, aurora_member, CHANGE_UNPROTECT, busy_limit(o),
                         gone, e);
        if (rc || *gone)
            return rc;
    }
    log_info("deleting DB instance %s", id);
    return change_call(aws, RDS_KIND_INSTANCE, id, aurora_member, CHANGE_DELETE,
                       BUSY_RETRY_SECONDS * poll_scale(), gone, e);
}

static int delete_instance_clone(struct aws_ctx *aws, const char *name,
                                 const struct clone_delete_opts *o, struct clone_delete_result *r,
                                 struct err *e)
{
    int gone = 0;
    int rc = delete_one_instance(aws, name, 0, o, &gone, &r->arn, e);
    if (rc)
        return rc;
    r->already_gone = gone;
    /* "gone" also means already deleting: -wait waits for that too (wait_gone
     * returns at once when it is not found). */
    if (o->wait && !o->dry_run)
        return wait_gone(aws, RDS_KIND_INSTANCE, name, o->wait_timeout, e);
    return 0;
}

/* -wait on an Aurora clone: the cluster AND its members gone, within one
 * timeout. The members are what is billed; the cluster's absence is not taken as
 * proof of theirs (the emulator can order them either way, and -wait is a promise
 * about everything the delete touched). */
static int wait_cluster_gone(struct aws_ctx *aws, const char *name,
                             const struct clone_delete_result *r, int64_t timeout, struct err *e)
{
    double start = clock_monotonic();
    int rc = wait_gone(aws, RDS_KIND_CLUSTER, name, timeout, e);
    for (size_t i = 0; rc == 0 && i < r->n_instances; i++) {
        int64_t left = timeout - (int64_t)(clock_monotonic() - start);
        rc = wait_gone(aws, RDS_KIND_INSTANCE, r->instances[i], left > 0 ? left : 0, e);
    }
    return rc;
}

static int delete_cluster_clone(struct aws_ctx *aws, const char *name,
                                const struct clone_delete_opts *o, struct clone_delete_result *r,
                                struct err *e)
{
    struct rds_cluster cl;
    struct aws_error ae;
    int rc = rds_get_cluster(aws, name, &cl, &ae, e);
    if (rc == ERR_NOT_FOUND) {
        err_clear(e);
        int appeared = 0;
        rc = appears(aws, RDS_KIND_CLUSTER, name, o->not_found_grace, &appeared, e);
        if (rc)
            return rc;
        rc = appeared ? rds_get_cluster(aws, name, &cl, &ae, e) : ERR_NOT_FOUND;
    }
    if (rc == ERR_NOT_FOUND) {
        err_clear(e);
        /* A writer instance may outlive a half-made cluster only in theory (AWS
         * refuses a member without its cluster), but a roll-back may have created
         * the instance name alone: check it too, through the same guard. */
        char inst[CLONE_NAME_MAX + sizeof CLONE_INSTANCE_SUFFIX + 1];
        snprintf(inst, sizeof inst, "%s%s", name, CLONE_INSTANCE_SUFFIX);
        int gone = 0;
        rc = delete_one_instance(aws, inst, 1, o, &gone, NULL, e);
        if (rc)
            return rc;
        if (!gone)
            add_instance(r, inst);
        log_info("DB cluster %s: not found, nothing to delete", name);
        r->already_gone = 1;
        return 0;
    }
    if (rc)
        return rc;
    rc = clone_guard_check("DB cluster", name, &cl.tags, o->owner, e);
    if (rc) {
        rds_cluster_release(&cl);
        return rc;
    }
    r->arn = xstrdup(cl.arn);
    int protected = cl.deletion_protection;
    int cluster_away = going_away(cl.status);
    /* Members first: each one guarded on its own. */
    for (size_t i = 0; i < cl.n_members; i++) {
        const char *mid = cl.members[i].instance_id;
        int gone = 0;
        rc = delete_one_instance(aws, mid, 1, o, &gone, NULL, e);
        if (rc) {
            err_prefix(e, "DB cluster %s: member", name);
            rds_cluster_release(&cl);
            return rc;
        }
        add_instance(r, mid);
    }
    rds_cluster_release(&cl);
    if (cluster_away) {
        log_info("DB cluster %s: already deleting", name);
        r->already_gone = 1;
        return o->wait && !o->dry_run ? wait_cluster_gone(aws, name, r, o->wait_timeout, e) : 0;
    }
    if (o->dry_run) {
        log_info("dry run: would delete DB cluster %s%s", name,
                 protected ? " (after turning deletion protection off)" : "");
        return 0;
    }
    int cluster_gone = 0; /* not reported; wait_gone returns at once when it is gone */
    if (protected) {
        log_warn("DB cluster %s has deletion protection on; turning it off", name);
        rc = change_call(aws, RDS_KIND_CLUSTER, name, 0, CHANGE_UNPROTECT, busy_limit(o),
                         &cluster_gone, e);
        if (rc)
            return rc;
    }
    log_info("deleting DB cluster %s", name);
    rc = change_call(aws, RDS_KIND_CLUSTER, name, 0, CHANGE_DELETE,
                     BUSY_RETRY_SECONDS * poll_scale(), &cluster_gone, e);
    if (rc)
        return rc;
    if (o->wait)
        return wait_cluster_gone(aws, name, r, o->wait_timeout, e);
    return 0;
}

int clone_delete(struct aws_ctx *aws, enum rds_kind kind, const char *name,
                 const struct clone_delete_opts *o, struct clone_delete_result *r, struct err *e)
{
    memset(r, 0, sizeof *r);
    /* Checked before any call: a name without the prefix is never even described. */
    if (strncmp(name, CLONE_PREFIX, strlen(CLONE_PREFIX)) != 0 ||
        (o->owner->config_source && strcasecmp(name, o->owner->config_source) == 0))
        return clone_guard_check(kind == RDS_KIND_CLUSTER ? "DB cluster" : "DB instance", name,
                                 NULL, o->owner, e);
    if (kind == RDS_KIND_CLUSTER)
        return delete_cluster_clone(aws, name, o, r, e);
    return delete_instance_clone(aws, name, o, r, e);
}
