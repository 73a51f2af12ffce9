/* Parsing of RDS Query API responses into the model structs of rds.h.
 * Element names are botocore's; list members are wrapped as AWS sends them
 * (<TagList><Tag>..</Tag></TagList>, <DBClusterMembers><DBClusterMember>..). */
#include "rds/rds.h"
#include "rds/rds_internal.h"

#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws_xml.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"

static const xmlNode *child(const xmlNode *n, const char *name)
{
    return n ? aws_xml_child(n, name) : NULL;
}

static char *str_child(const xmlNode *n, const char *name)
{
    return n ? xstrdup(aws_xml_text(n, name)) : NULL;
}

/* -1 when absent or invalid (every integer of these models is >= 0). */
static int int_child(const xmlNode *n, const char *name)
{
    long long v;
    if (!n || aws_xml_int(n, name, &v) != 0 || v < 0 || v > 0x7fffffffLL)
        return -1;
    return (int)v;
}

static int bool_child(const xmlNode *n, const char *name)
{
    int v = 0;
    if (!n || aws_xml_bool(n, name, &v) != 0)
        return 0;
    return v;
}

static int64_t time_child(const xmlNode *n, const char *name)
{
    int64_t t = 0;
    if (!n || aws_xml_time(n, name, &t) != 0)
        return 0;
    return t;
}

void rds_tags_add(struct rds_tags *t, const char *key, const char *value)
{
    t->v = xrealloc(t->v, (t->n + 1) * sizeof *t->v);
    t->v[t->n].key = xstrdup(key);
    t->v[t->n].value = xstrdup(value ? value : "");
    t->n++;
}

const char *rds_tags_get(const struct rds_tags *t, const char *key)
{
    if (!t)
        return NULL;
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->v[i].key, key) == 0)
            return t->v[i].value;
    return NULL;
}

void rds_tags_release(struct rds_tags *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->v[i].key);
        free(t->v[i].value);
    }
    free(t->v);
    t->v = NULL;
    t->n = 0;
}

static void tags_copy(struct rds_tags *dst, const struct rds_tags *src)
{
    memset(dst, 0, sizeof *dst);
    for (size_t i = 0; i < src->n; i++)
        rds_tags_add(dst, src->v[i].key, src->v[i].value);
}

void rds_parse_tag_list(const xmlNode *tag_list, struct rds_tags *out)
{
    if (!tag_list)
        return;
    for (const xmlNode *c = aws_xml_child(tag_list, "Tag"); c; c = aws_xml_next(c)) {
        char *k = str_child(c, "Key");
        char *v = str_child(c, "Value");
        if (k)
            rds_tags_add(out, k, v);
        free(k);
        free(v);
    }
}

void rds_parse_snapshot(const xmlNode *n, enum rds_kind kind, struct rds_snapshot *s)
{
    memset(s, 0, sizeof *s);
    s->kind = kind;
    int cluster = kind == RDS_KIND_CLUSTER;
    s->id = str_child(n, cluster ? "DBClusterSnapshotIdentifier" : "DBSnapshotIdentifier");
    s->arn = str_child(n, cluster ? "DBClusterSnapshotArn" : "DBSnapshotArn");
    s->source_id = str_child(n, cluster ? "DBClusterIdentifier" : "DBInstanceIdentifier");
    s->status = str_child(n, "Status");
    s->snapshot_type = str_child(n, "SnapshotType");
    s->engine = str_child(n, "Engine");
    s->engine_version = str_child(n, "EngineVersion");
    s->engine_mode = cluster ? str_child(n, "EngineMode") : NULL;
    s->create_time = time_child(n, "SnapshotCreateTime");
    s->encrypted = bool_child(n, cluster ? "StorageEncrypted" : "Encrypted");
    s->kms_key_id = str_child(n, "KmsKeyId");
    s->port = int_child(n, "Port");
    s->allocated_storage = int_child(n, "AllocatedStorage");
    s->storage_type = cluster ? NULL : str_child(n, "StorageType");
    rds_parse_tag_list(child(n, "TagList"), &s->tags);
}

static void parse_master_secret(const xmlNode *n, struct rds_master_secret *s)
{
    s->arn = str_child(n, "SecretArn");
    s->status = str_child(n, "SecretStatus");
}

static void master_secret_release(struct rds_master_secret *s)
{
    free(s->arn);
    free(s->status);
}

static void master_secret_copy(struct rds_master_secret *d, const struct rds_master_secret *s)
{
    d->arn = xstrdup(s->arn);
    d->status = xstrdup(s->status);
}

void rds_parse_instance(const xmlNode *n, struct rds_instance *i)
{
    memset(i, 0, sizeof *i);
    i->id = str_child(n, "DBInstanceIdentifier");
    i->arn = str_child(n, "DBInstanceArn");
    i->status = str_child(n, "DBInstanceStatus");
    i->engine = str_child(n, "Engine");
    i->engine_version = str_child(n, "EngineVersion");
    i->instance_class = str_child(n, "DBInstanceClass");
    const xmlNode *ep = child(n, "Endpoint");
    i->endpoint_address = str_child(ep, "Address");
    i->endpoint_port = ep ? int_child(ep, "Port") : -1;
    i->create_time = time_child(n, "InstanceCreateTime");
    i->storage_encrypted = bool_child(n, "StorageEncrypted");
    i->kms_key_id = str_child(n, "KmsKeyId");
    i->allocated_storage = int_child(n, "AllocatedStorage");
    i->deletion_protection = bool_child(n, "DeletionProtection");
    i->cluster_id = str_child(n, "DBClusterIdentifier");
    i->db_name = str_child(n, "DBName");
    i->master_username = str_child(n, "MasterUsername");
    parse_master_secret(child(n, "MasterUserSecret"), &i->secret);
    i->backup_retention = int_child(n, "BackupRetentionPeriod");
    i->latest_restorable_time = time_child(n, "LatestRestorableTime");
    rds_parse_tag_list(child(n, "TagList"), &i->tags);
}

void rds_parse_cluster(const xmlNode *n, struct rds_cluster *c)
{
    memset(c, 0, sizeof *c);
    c->id = str_child(n, "DBClusterIdentifier");
    c->arn = str_child(n, "DBClusterArn");
    c->status = str_child(n, "Status");
    c->engine = str_child(n, "Engine");
    c->engine_version = str_child(n, "EngineVersion");
    c->engine_mode = str_child(n, "EngineMode");
    c->endpoint = str_child(n, "Endpoint");
    c->reader_endpoint = str_child(n, "ReaderEndpoint");
    c->port = int_child(n, "Port");
    c->create_time = time_child(n, "ClusterCreateTime");
    c->storage_encrypted = bool_child(n, "StorageEncrypted");
    c->kms_key_id = str_child(n, "KmsKeyId");
    c->allocated_storage = int_child(n, "AllocatedStorage");
    c->deletion_protection = bool_child(n, "DeletionProtection");
    const xmlNode *members = child(n, "DBClusterMembers");
    if (members) {
        for (const xmlNode *m = aws_xml_child(members, "DBClusterMember"); m; m = aws_xml_next(m)) {
            char *iid = str_child(m, "DBInstanceIdentifier");
            if (!iid)
                continue;
            c->members = xrealloc(c->members, (c->n_members + 1) * sizeof *c->members);
            c->members[c->n_members].instance_id = iid;
            c->members[c->n_members].is_writer = bool_child(m, "IsClusterWriter");
            c->n_members++;
        }
    }
    c->master_username = str_child(n, "MasterUsername");
    parse_master_secret(child(n, "MasterUserSecret"), &c->secret);
    c->backup_retention = int_child(n, "BackupRetentionPeriod");
    c->earliest_restorable_time = time_child(n, "EarliestRestorableTime");
    c->latest_restorable_time = time_child(n, "LatestRestorableTime");
    rds_parse_tag_list(child(n, "TagList"), &c->tags);
}

void rds_snapshot_release(struct rds_snapshot *s)
{
    if (!s)
        return;
    free(s->id);
    free(s->arn);
    free(s->source_id);
    free(s->status);
    free(s->snapshot_type);
    free(s->engine);
    free(s->engine_version);
    free(s->engine_mode);
    free(s->kms_key_id);
    free(s->storage_type);
    rds_tags_release(&s->tags);
    memset(s, 0, sizeof *s);
}

void rds_instance_release(struct rds_instance *i)
{
    if (!i)
        return;
    free(i->id);
    free(i->arn);
    free(i->status);
    free(i->engine);
    free(i->engine_version);
    free(i->instance_class);
    free(i->endpoint_address);
    free(i->kms_key_id);
    free(i->cluster_id);
    free(i->db_name);
    free(i->master_username);
    master_secret_release(&i->secret);
    rds_tags_release(&i->tags);
    memset(i, 0, sizeof *i);
}

void rds_cluster_release(struct rds_cluster *c)
{
    if (!c)
        return;
    free(c->id);
    free(c->arn);
    free(c->status);
    free(c->engine);
    free(c->engine_version);
    free(c->engine_mode);
    free(c->endpoint);
    free(c->reader_endpoint);
    free(c->kms_key_id);
    for (size_t k = 0; k < c->n_members; k++)
        free(c->members[k].instance_id);
    free(c->members);
    free(c->master_username);
    master_secret_release(&c->secret);
    rds_tags_release(&c->tags);
    memset(c, 0, sizeof *c);
}

void rds_snapshot_copy(struct rds_snapshot *d, const struct rds_snapshot *s)
{
    *d = *s;
    d->id = xstrdup(s->id);
    d->arn = xstrdup(s->arn);
    d->source_id = xstrdup(s->source_id);
    d->status = xstrdup(s->status);
    d->snapshot_type = xstrdup(s->snapshot_type);
    d->engine = xstrdup(s->engine);
    d->engine_version = xstrdup(s->engine_version);
    d->engine_mode = xstrdup(s->engine_mode);
    d->kms_key_id = xstrdup(s->kms_key_id);
    d->storage_type = xstrdup(s->storage_type);
    tags_copy(&d->tags, &s->tags);
}

void rds_instance_copy(struct rds_instance *d, const struct rds_instance *s)
{
    *d = *s;
    d->id = xstrdup(s->id);
    d->arn = xstrdup(s->arn);
    d->status = xstrdup(s->status);
    d->engine = xstrdup(s->engine);
    d->engine_version = xstrdup(s->engine_version);
    d->instance_class = xstrdup(s->instance_class);
    d->endpoint_address = xstrdup(s->endpoint_address);
    d->kms_key_id = xstrdup(s->kms_key_id);
    d->cluster_id = xstrdup(s->cluster_id);
    d->db_name = xstrdup(s->db_name);
    d->master_username = xstrdup(s->master_username);
    master_secret_copy(&d->secret, &s->secret);
    tags_copy(&d->tags, &s->tags);
}

void rds_cluster_copy(struct rds_cluster *d, const struct rds_cluster *s)
{
    *d = *s;
    d->id = xstrdup(s->id);
    d->arn = xstrdup(s->arn);
    d->status = xstrdup(s->status);
    d->engine = xstrdup(s->engine);
    d->engine_version = xstrdup(s->engine_version);
    d->engine_mode = xstrdup(s->engine_mode);
    d->endpoint = xstrdup(s->endpoint);
    d->reader_endpoint = xstrdup(s->reader_endpoint);
    d->kms_key_id = xstrdup(s->kms_key_id);
    d->members = s->n_members ? xcalloc(s->n_members, sizeof *d->members) : NULL;
    for (size_t k = 0; k < s->n_members; k++) {
        d->members[k].instance_id = xstrdup(s->members[k].instance_id);
        d->members[k].is_writer = s->members[k].is_writer;
    }
    d->master_username = xstrdup(s->master_username);
    master_secret_copy(&d->secret, &s->secret);
    tags_copy(&d->tags, &s->tags);
}

/* <ActionResponse><ActionResult>...: the result element. */
static const xmlNode *result_of(xmlDoc *doc, const char *action, struct err *e)
{
    const xmlNode *res = aws_xml_result(doc, action);
    if (!res)
        err_set(e, ERR_AWS_BAD_ANSWER, "%s: the response has no <%sResult> element", action,
                action);
    return res;
}

typedef int (*item_fn)(const xmlNode *item, void *ctx, struct err *e);

/* Walks <list_name><item_name>... of one page's result element. */
static int walk_page(const xmlNode *result, const char *list_name, const char *item_name,
                     item_fn fn, void *ctx, struct err *e)
{
    const xmlNode *list = child(result, list_name);
    if (!list)
        return 0;
    for (const xmlNode *c = aws_xml_child(list, item_name); c; c = aws_xml_next(c)) {
        int rc = fn(c, ctx, e);
        if (rc)
            return rc;
    }
    return 0;
}

int rds_snapshot_item(const xmlNode *n, void *p, struct err *e)
{
    struct rds_snap_ctx *c = p;
    struct rds_snapshot s;
    rds_parse_snapshot(n, c->kind, &s);
    int rc = c->cb(&s, c->ud, e);
    rds_snapshot_release(&s);
    return rc;
}

int rds_instance_item(const xmlNode *n, void *p, struct err *e)
{
    struct rds_inst_ctx *c = p;
    struct rds_instance i;
    rds_parse_instance(n, &i);
    int rc = c->cb(&i, c->ud, e);
    rds_instance_release(&i);
    return rc;
}

int rds_cluster_item(const xmlNode *n, void *p, struct err *e)
{
    struct rds_clus_ctx *c = p;
    struct rds_cluster cl;
    rds_parse_cluster(n, &cl);
    int rc = c->cb(&cl, c->ud, e);
    rds_cluster_release(&cl);
    return rc;
}

int rds_page_snapshots(const xmlNode *result, enum rds_kind kind, rds_snapshot_cb cb, void *ud,
                       struct err *e)
{
    struct rds_snap_ctx c = {kind, cb, ud};
    if (kind == RDS_KIND_CLUSTER)
        return walk_page(result, "DBClusterSnapshots", "DBClusterSnapshot", rds_snapshot_item, &c,
                         e);
    return walk_page(result, "DBSnapshots", "DBSnapshot", rds_snapshot_item, &c, e);
}

int rds_page_instances(const xmlNode *result, rds_instance_cb cb, void *ud, struct err *e)
{
    struct rds_inst_ctx c = {cb, ud};
    return walk_page(result, "DBInstances", "DBInstance", rds_instance_item, &c, e);
}

int rds_page_clusters(const xmlNode *result, rds_cluster_cb cb, void *ud, struct err *e)
{
    struct rds_clus_ctx c = {cb, ud};
    return walk_page(result, "DBClusters", "DBCluster", rds_cluster_item, &c, e);
}

int rds_result_item(xmlDoc *doc, const char *action, const char *item_name, const xmlNode **out,
                    struct err *e)
{
    const xmlNode *res = result_of(doc, action, e);
    if (!res)
        return e->kind;
    *out = child(res, item_name);
    if (!*out)
        return err_set(e, ERR_AWS_BAD_ANSWER, "%s: the response has no <%s>", action, item_name);
    return 0;
}
