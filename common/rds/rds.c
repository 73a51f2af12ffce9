/* The typed RDS calls: parameters by botocore's member names, one Query call each,
 * describes paged with Marker / MaxRecords. */
#include "rds/rds.h"

#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws_client.h"
#include "aws/aws_query.h"
#include "aws/aws_xml.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "rds/rds_internal.h"

int rds_error_is(const struct aws_error *ae, const char *code)
{
    return ae && strcmp(ae->code, code) == 0;
}

/* One call. On failure e->msg names the resource, then carries the client's
 * message with AWS's Code, Message and RequestId. */
static int call(struct aws_ctx *aws, const char *action, const char *resource,
                const struct aws_params *p, xmlDoc **doc, struct aws_error *ae, struct err *e)
{
    struct aws_error scratch;
    if (!ae)
        ae = &scratch;
    aws_error_clear(ae);
    *doc = NULL;
    int rc = aws_query_call(aws, "rds", action, p, doc, ae, e);
    if (rc == 0)
        return 0;
    if (*doc) {
        xmlFreeDoc(*doc);
        *doc = NULL;
    }
    if (resource)
        err_prefix(e, "%s", resource);
    return rc;
}

/* ---- Describes, paged by aws_query_paginate (streamed: one item in memory at a time) */

static int paginate(struct aws_ctx *aws, const char *action, const char *resource,
                    const struct aws_params *p, const char *list_name, const char *item_name,
                    aws_item_fn fn, void *ctx, struct aws_error *ae, struct err *e)
{
    struct aws_error scratch;
    if (!ae)
        ae = &scratch;
    aws_error_clear(ae);
    int pages = 0;
    int rc = aws_query_paginate(aws, "rds", action, p, RDS_MAX_RECORDS, list_name, item_name, fn,
                                ctx, &pages, ae, e);
    if (rc && resource)
        err_prefix(e, "%s", resource);
    log_debug("%s%s%s: %d page(s)", action, resource ? " " : "", resource ? resource : "", pages);
    return rc;
}

static int describe_snapshots(struct aws_ctx *aws, enum rds_kind kind,
                              const struct rds_snapshot_query *q, rds_snapshot_cb cb, void *ud,
                              struct aws_error *ae, struct err *e)
{
    int cluster = kind == RDS_KIND_CLUSTER;
    struct aws_params p = AWS_PARAMS_INIT;
    aws_params_add(&p, cluster ? "DBClusterIdentifier" : "DBInstanceIdentifier", q->source_id);
    aws_params_add(&p, cluster ? "DBClusterSnapshotIdentifier" : "DBSnapshotIdentifier",
                   q->snapshot_id);
    aws_params_add(&p, "SnapshotType", q->snapshot_type);
    if (q->include_shared)
        aws_params_add_bool(&p, "IncludeShared", 1);
    struct rds_snap_ctx ctx = {kind, cb, ud};
    const char *res = q->snapshot_id ? q->snapshot_id : q->source_id;
    int rc = paginate(aws, cluster ? "DescribeDBClusterSnapshots" : "DescribeDBSnapshots", res, &p,
                      cluster ? "DBClusterSnapshots" : "DBSnapshots",
                      cluster ? "DBClusterSnapshot" : "DBSnapshot", rds_snapshot_item, &ctx, ae, e);
    aws_params_release(&p);
    return rc;
}

int rds_describe_db_snapshots(struct aws_ctx *aws, const struct rds_snapshot_query *q,
                              rds_snapshot_cb cb, void *ud, struct aws_error *ae, struct err *e)
{
    return describe_snapshots(aws, RDS_KIND_INSTANCE, q, cb, ud, ae, e);
}

int rds_describe_db_cluster_snapshots(struct aws_ctx *aws, const struct rds_snapshot_query *q,
                                      rds_snapshot_cb cb, void *ud, struct aws_error *ae,
                                      struct err *e)
{
    return describe_snapshots(aws, RDS_KIND_CLUSTER, q, cb, ud, ae, e);
}

int rds_describe_db_instances(struct aws_ctx *aws, const char *id, rds_instance_cb cb, void *ud,
                              struct aws_error *ae, struct err *e)
{
    struct aws_params p = AWS_PARAMS_INIT;
    aws_params_add(&p, "DBInstanceIdentifier", id);
    struct rds_inst_ctx ctx = {cb, ud};
    int rc = paginate(aws, "DescribeDBInstances", id, &p, "DBInstances", "DBInstance",
                      rds_instance_item, &ctx, ae, e);
    aws_params_release(&p);
    return rc;
}

int rds_describe_db_clusters(struct aws_ctx *aws, const char *id, rds_cluster_cb cb, void *ud,
                             struct aws_error *ae, struct err *e)
{
    struct aws_params p = AWS_PARAMS_INIT;
    aws_params_add(&p, "DBClusterIdentifier", id);
    struct rds_clus_ctx ctx = {cb, ud};
    int rc = paginate(aws, "DescribeDBClusters", id, &p, "DBClusters", "DBCluster",
                      rds_cluster_item, &ctx, ae, e);
    aws_params_release(&p);
    return rc;
}

static int keep_instance(const struct rds_instance *i, void *ud, struct err *e)
{
    (void)e;
    struct rds_instance *out = ud;
    if (out->id)
        return RDS_STOP;
    rds_instance_copy(out, i);
    return 0;
}

static int keep_cluster(const struct rds_cluster *c, void *ud, struct err *e)
{
    (void)e;
    struct rds_cluster *out = ud;
    if (out->id)
        return RDS_STOP;
    rds_cluster_copy(out, c);
    return 0;
}

int rds_get_instance(struct aws_ctx *aws, const char *id, struct rds_instance *out,
                     struct aws_error *ae, struct err *e)
{
    struct aws_error scratch;
    if (!ae)
        ae = &scratch;
    memset(out, 0, sizeof *out);
    int rc = rds_describe_db_instances(aws, id, keep_instance, out, ae, e);
    if (rc == 0 && !out->id)
        return err_set(e, ERR_NOT_FOUND, "DB instance %s: not found (empty describe)", id);
    if (rc && rds_error_is(ae, "DBInstanceNotFound"))
        return err_reclassify(e, ERR_NOT_FOUND);
    return rc;
}

int rds_get_cluster(struct aws_ctx *aws, const char *id, struct rds_cluster *out,
                    struct aws_error *ae, struct err *e)
{
    struct aws_error scratch;
    if (!ae)
        ae = &scratch;
    memset(out, 0, sizeof *out);
    int rc = rds_describe_db_clusters(aws, id, keep_cluster, out, ae, e);
    if (rc == 0 && !out->id)
        return err_set(e, ERR_NOT_FOUND, "DB cluster %s: not found (empty describe)", id);
    if (rc && rds_error_is(ae, "DBClusterNotFoundFault"))
        return err_reclassify(e, ERR_NOT_FOUND);
    return rc;
}

/* ---- Creating */

static void add_tags(struct aws_params *p, const struct rds_tags *tags)
{
    if (!tags || tags->n == 0)
        return;
    struct aws_tag *t = xcalloc(tags->n, sizeof *t);
    for (size_t i = 0; i < tags->n; i++) {
        t[i].key = tags->v[i].key;
        t[i].value = tags->v[i].value;
    }
    aws_params_add_tags(p, "Tags", t, tags->n);
    free(t);
}

static void add_tristate(struct aws_params *p, const char *key, int v)
{
    if (v == 0 || v == 1)
        aws_params_add_bool(p, key, v);
}

static void add_security_groups(struct aws_params *p, const struct rds_create_opts *o)
{
    if (o->n_security_groups)
        aws_params_add_list(p, "VpcSecurityGroupIds", "VpcSecurityGroupId", o->security_groups,
                            o->n_security_groups);
}

/* The changing calls answer with the one DBInstance / DBCluster they act on:
 * call action, free p, and parse that item into out (NULL: only checked) as a
 * struct rds_instance or, for a cluster, a struct rds_cluster. */
static int changing_call(struct aws_ctx *aws, const char *action, const char *id,
                         struct aws_params *p, enum rds_kind kind, void *out, struct aws_error *ae,
                         struct err *e)
{
    xmlDoc *doc;
    int rc = call(aws, action, id, p, &doc, ae, e);
    aws_params_release(p);
    if (rc)
        return rc;
    const xmlNode *n;
    int cluster = kind == RDS_KIND_CLUSTER;
    rc = rds_result_item(doc, action, cluster ? "DBCluster" : "DBInstance", &n, e);
    if (rc == 0 && out && cluster)
        rds_parse_cluster(n, out);
    else if (rc == 0 && out)
        rds_parse_instance(n, out);
    xmlFreeDoc(doc);
    return rc;
}

static int instance_call(struct aws_ctx *aws, const char *action, const char *id,
                         struct aws_params *p, struct rds_instance *out, struct aws_error *ae,
                         struct err *e)
{
    return changing_call(aws, action, id, p, RDS_KIND_INSTANCE, out, ae, e);
}

static int cluster_call(struct aws_ctx *aws, const char *action, const char *id,
                        struct aws_params *p, struct rds_cluster *out, struct aws_error *ae,
                        struct err *e)
{
    return changing_call(aws, action, id, p, RDS_KIND_CLUSTER, out, ae, e);
}

/* What a new DB instance is made with, from the snapshot or to a point in time. */
static void add_instance_opts(struct aws_params *p, const struct rds_create_opts *o)
{
    aws_params_add(p, "DBInstanceClass", o->instance_class);
    if (o->port > 0)
        aws_params_add_int(p, "Port", o->port);
    aws_params_add(p, "DBSubnetGroupName", o->subnet_group);
    add_tristate(p, "PubliclyAccessible", o->publicly_accessible);
    aws_params_add(p, "DBName", o->db_name);
    aws_params_add(p, "OptionGroupName", o->option_group);
    add_tags(p, o->tags);
    aws_params_add(p, "StorageType", o->storage_type);
    add_security_groups(p, o);
    add_tristate(p, "EnableIAMDatabaseAuthentication", o->enable_iam_auth);
    aws_params_add(p, "DBParameterGroupName", o->parameter_group);
    aws_params_add_bool(p, "DeletionProtection", o->deletion_protection != 0);
}

/* A point-in-time restore's time as key (RFC 3339), or its latest restorable time. */
static void add_restore_time(struct aws_params *p, const char *key, int64_t restore_time)
{
    if (restore_time > 0) {
        char t[32];
        clock_format_rfc3339(restore_time, t, sizeof t);
        aws_params_add(p, key, t);
    } else {
        aws_params_add_bool(p, "UseLatestRestorableTime", 1);
    }
}

int rds_restore_db_instance_from_snapshot(struct aws_ctx *aws, const char *id,
                                          const char *snapshot_id, const struct rds_create_opts *o,
                                          struct rds_instance *out, struct aws_error *ae,
                                          struct err *e)
{
    struct aws_params p = AWS_PARAMS_INIT;
    aws_params_add(&p, "DBInstanceIdentifier", id);
    aws_params_add(&p, "DBSnapshotIdentifier", snapshot_id);
    add_instance_opts(&p, o);
    return instance_call(aws, "RestoreDBInstanceFromDBSnapshot", id, &p, out, ae, e);
}

static void add_cluster_opts(struct aws_params *p, const struct rds_create_opts *o)
{
    if (o->port > 0)
        aws_params_add_int(p, "Port", o->port);
    aws_params_add(p, "DBSubnetGroupName", o->subnet_group);
    aws_params_add(p, "OptionGroupName", o->option_group);
    add_security_groups(p, o);
    add_tags(p, o->tags);
    add_tristate(p, "EnableIAMDatabaseAuthentication", o->enable_iam_auth);
    aws_params_add(p, "DBClusterParameterGroupName", o->cluster_parameter_group);
    aws_params_add_bool(p, "DeletionProtection", o->deletion_protection != 0);
}

int rds_restore_db_cluster_from_snapshot(struct aws_ctx *aws, const char *id,
                                         const char *snapshot_id, const char *engine,
                                         const char *engine_version,
                                         const struct rds_create_opts *o, struct rds_cluster *out,
                                         struct aws_error *ae, struct err *e)
{
    struct aws_params p = AWS_PARAMS_INIT;
    aws_params_add(&p, "DBClusterIdentifier", id);
    aws_params_add(&p, "SnapshotIdentifier", snapshot_id);
    aws_params_add(&p, "Engine", engine);
    aws_params_add(&p, "EngineVersion", engine_version);
    aws_params_add(&p, "DatabaseName", o->db_name);
    add_cluster_opts(&p, o);
    return cluster_call(aws, "RestoreDBClusterFromSnapshot", id, &p, out, ae, e);
}

int rds_restore_db_cluster_to_point_in_time(struct aws_ctx *aws, const char *id,
                                            const char *source_cluster_id, const char *restore_type,
                                            int64_t restore_time, const struct rds_create_opts *o,
                                            struct rds_cluster *out, struct aws_error *ae,
                                            struct err *e)
{
    struct aws_params p = AWS_PARAMS_INIT;
    aws_params_add(&p, "DBClusterIdentifier", id);
    aws_params_add(&p, "RestoreType", restore_type);
    aws_params_add(&p, "SourceDBClusterIdentifier", source_cluster_id);
    add_restore_time(&p, "RestoreToTime", restore_time);
    add_cluster_opts(&p, o);
    return cluster_call(aws, "RestoreDBClusterToPointInTime", id, &p, out, ae, e);
}

int rds_restore_db_instance_to_point_in_time(struct aws_ctx *aws, const char *id,
                                             const char *source_instance_id, int64_t restore_time,
                                             const struct rds_create_opts *o,
                                             struct rds_instance *out, struct aws_error *ae,
                                             struct err *e)
{
    struct aws_params p = AWS_PARAMS_INIT;
    aws_params_add(&p, "SourceDBInstanceIdentifier", source_instance_id);
    aws_params_add(&p, "TargetDBInstanceIdentifier", id);
    add_restore_time(&p, "RestoreTime", restore_time);
    add_instance_opts(&p, o);
    return instance_call(aws, "RestoreDBInstanceToPointInTime", id, &p, out, ae, e);
}

int rds_create_db_instance_in_cluster(struct aws_ctx *aws, const char *id, const char *cluster_id,
                                      const char *engine, const struct rds_create_opts *o,
                                      struct rds_instance *out, struct aws_error *ae, struct err *e)
{
    struct aws_params p = AWS_PARAMS_INIT;
    aws_params_add(&p, "DBInstanceIdentifier", id);
    aws_params_add(&p, "DBInstanceClass", o->instance_class);
    aws_params_add(&p, "Engine", engine);
    aws_params_add(&p, "DBParameterGroupName", o->parameter_group);
    add_tristate(&p, "PubliclyAccessible", o->publicly_accessible);
    add_tags(&p, o->tags);
    aws_params_add(&p, "DBClusterIdentifier", cluster_id);
    return instance_call(aws, "CreateDBInstance", id, &p, out, ae, e);
}

/* ---- Changing and deleting */

int rds_disable_instance_deletion_protection(struct aws_ctx *aws, const char *id,
                                             struct aws_error *ae, struct err *e)
{
    struct aws_params p = AWS_PARAMS_INIT;
    aws_params_add(&p, "DBInstanceIdentifier", id);
    aws_params_add_bool(&p, "ApplyImmediately", 1);
    aws_params_add_bool(&p, "DeletionProtection", 0);
    return instance_call(aws, "ModifyDBInstance", id, &p, NULL, ae, e);
}

int rds_disable_cluster_deletion_protection(struct aws_ctx *aws, const char *id,
                                            struct aws_error *ae, struct err *e)
{
    struct aws_params p = AWS_PARAMS_INIT;
    aws_params_add(&p, "DBClusterIdentifier", id);
    aws_params_add_bool(&p, "ApplyImmediately", 1);
    aws_params_add_bool(&p, "DeletionProtection", 0);
    return cluster_call(aws, "ModifyDBCluster", id, &p, NULL, ae, e);
}

int rds_manage_master_password(struct aws_ctx *aws, enum rds_kind kind, const char *id,
                               struct aws_error *ae, struct err *e)
{
    struct aws_params p = AWS_PARAMS_INIT;
    int cluster = kind == RDS_KIND_CLUSTER;
    aws_params_add(&p, cluster ? "DBClusterIdentifier" : "DBInstanceIdentifier", id);
    aws_params_add_bool(&p, "ApplyImmediately", 1);
    aws_params_add_bool(&p, "ManageMasterUserPassword", 1);
    return cluster ? cluster_call(aws, "ModifyDBCluster", id, &p, NULL, ae, e)
                   : instance_call(aws, "ModifyDBInstance", id, &p, NULL, ae, e);
}

struct window {
    int64_t earliest, latest;
};

/* The active automated backup (the instance's own; retained ones are of deleted
 * instances of the same name). */
static int window_item(const xmlNode *b, void *ctx, struct err *e)
{
    (void)e;
    struct window *w = ctx;
    const char *status = aws_xml_text(b, "Status");
    if (!status || strcmp(status, "active") != 0)
        return 0;
    const xmlNode *rw = aws_xml_child(b, "RestoreWindow");
    if (rw) {
        aws_xml_time(rw, "EarliestTime", &w->earliest);
        aws_xml_time(rw, "LatestTime", &w->latest);
    }
    return 0;
}

int rds_instance_restore_window(struct aws_ctx *aws, const char *id, int64_t *earliest,
                                int64_t *latest, struct aws_error *ae, struct err *e)
{
    struct aws_params p = AWS_PARAMS_INIT;
    aws_params_add(&p, "DBInstanceIdentifier", id);
    struct window w = {0, 0};
    int rc =
        paginate(aws, "DescribeDBInstanceAutomatedBackups", id, &p, "DBInstanceAutomatedBackups",
                 "DBInstanceAutomatedBackup", window_item, &w, ae, e);
    aws_params_release(&p);
    *earliest = w.earliest;
    *latest = w.latest;
    return rc;
}

int rds_delete_db_instance(struct aws_ctx *aws, const char *id, int skip_final_snapshot,
                           int delete_automated_backups, struct aws_error *ae, struct err *e)
{
    struct aws_params p = AWS_PARAMS_INIT;
    aws_params_add(&p, "DBInstanceIdentifier", id);
    if (skip_final_snapshot >= 0)
        aws_params_add_bool(&p, "SkipFinalSnapshot", skip_final_snapshot);
    if (delete_automated_backups >= 0)
        aws_params_add_bool(&p, "DeleteAutomatedBackups", delete_automated_backups);
    return instance_call(aws, "DeleteDBInstance", id, &p, NULL, ae, e);
}

int rds_delete_db_cluster(struct aws_ctx *aws, const char *id, struct aws_error *ae, struct err *e)
{
    struct aws_params p = AWS_PARAMS_INIT;
    aws_params_add(&p, "DBClusterIdentifier", id);
    aws_params_add_bool(&p, "SkipFinalSnapshot", 1);
    return cluster_call(aws, "DeleteDBCluster", id, &p, NULL, ae, e);
}
