/* Typed calls of the RDS Query API (version 2014-10-31) over aws_client, and the
 * model structs the commands use. Element and parameter names are exactly those of
 * botocore's model (botocore/data/rds/2014-10-31/service-2.json).
 *
 * Describes are paginated (Marker / MaxRecords=100) and delivered page by page to
 * a callback, one item at a time; each page is freed before the next is fetched,
 * so memory stays flat however many resources an account holds.
 *
 * Errors: every function returns 0 or an error kind (core/err.h) with e->msg naming the
 * resource and carrying AWS's code, message and RequestId. When ae is non-NULL it
 * receives the AWS error (code "" when the failure was not an AWS error answer),
 * so callers can act on DBInstanceNotFound, DBInstanceAlreadyExists, ... */
#ifndef DRR_RDS_H
#define DRR_RDS_H

#include <stddef.h>
#include <stdint.h>
#include "aws/aws_xml.h" /* struct aws_error */
#include "core/err.h"

struct aws_ctx;

#define RDS_MAX_RECORDS 100

struct rds_tag {
    char *key;
    char *value;
};

struct rds_tags {
    struct rds_tag *v;
    size_t n;
};

enum rds_kind { RDS_KIND_INSTANCE = 0, RDS_KIND_CLUSTER };

/* DBSnapshot or DBClusterSnapshot (kind says which). Unset ints are -1, unset
 * times 0, unset strings NULL. */
struct rds_snapshot {
    enum rds_kind kind;
    char *id;        /* DBSnapshotIdentifier / DBClusterSnapshotIdentifier */
    char *arn;       /* DBSnapshotArn / DBClusterSnapshotArn */
    char *source_id; /* DBInstanceIdentifier / DBClusterIdentifier */
    char *status;
    char *snapshot_type; /* automated, manual, awsbackup, shared, public */
    char *engine;
    char *engine_version;
    char *engine_mode;   /* clusters only */
    int64_t create_time; /* SnapshotCreateTime */
    int encrypted;       /* Encrypted / StorageEncrypted */
    char *kms_key_id;
    int port;
    int allocated_storage;
    char *storage_type;
    struct rds_tags tags; /* TagList when the describe returns it */
};

/* MasterUserSecret: the Secrets Manager secret RDS keeps the master password in
 * (ManageMasterUserPassword). The ARN names it; the value is never in a describe. */
struct rds_master_secret {
    char *arn;    /* SecretArn, NULL when RDS does not manage the password */
    char *status; /* SecretStatus: creating, active, rotating, impaired */
};

struct rds_instance {
    char *id;     /* DBInstanceIdentifier */
    char *arn;    /* DBInstanceArn */
    char *status; /* DBInstanceStatus */
    char *engine;
    char *engine_version;
    char *instance_class;   /* DBInstanceClass */
    char *endpoint_address; /* Endpoint/Address (absent while creating) */
    int endpoint_port;      /* Endpoint/Port, -1 when absent */
    int64_t create_time;    /* InstanceCreateTime, 0 while creating */
    int storage_encrypted;
    char *kms_key_id;
    int allocated_storage;
    int deletion_protection;
    char *cluster_id; /* DBClusterIdentifier for Aurora members */
    char *db_name;
    char *master_username;           /* MasterUsername */
    struct rds_master_secret secret; /* MasterUserSecret (RDS instances; Aurora: the cluster's) */
    int backup_retention; /* BackupRetentionPeriod (days, 0 = no automated backups), -1 absent */
    int64_t latest_restorable_time; /* LatestRestorableTime, 0 absent */
    struct rds_tags tags;
};

struct rds_cluster_member {
    char *instance_id;
    int is_writer; /* IsClusterWriter */
};

struct rds_cluster {
    char *id;  /* DBClusterIdentifier */
    char *arn; /* DBClusterArn */
    char *status;
    char *engine;
    char *engine_version;
    char *engine_mode;
    char *endpoint; /* writer endpoint */
    char *reader_endpoint;
    int port;
    int64_t create_time; /* ClusterCreateTime */
    int storage_encrypted;
    char *kms_key_id;
    int allocated_storage;
    int deletion_protection;
    struct rds_cluster_member *members;
    size_t n_members;
    char *master_username;            /* MasterUsername */
    struct rds_master_secret secret;  /* MasterUserSecret */
    int backup_retention;             /* BackupRetentionPeriod, -1 absent */
    int64_t earliest_restorable_time; /* EarliestRestorableTime, 0 absent */
    int64_t latest_restorable_time;   /* LatestRestorableTime, 0 absent */
    struct rds_tags tags;
};

void rds_tags_release(struct rds_tags *t);
void rds_tags_add(struct rds_tags *t, const char *key, const char *value);
/* The value of key, or NULL. */
const char *rds_tags_get(const struct rds_tags *t, const char *key);

void rds_snapshot_release(struct rds_snapshot *s);
void rds_instance_release(struct rds_instance *i);
void rds_cluster_release(struct rds_cluster *c);
/* Deep copies (the callbacks' items live only during the callback). */
void rds_snapshot_copy(struct rds_snapshot *dst, const struct rds_snapshot *src);
void rds_instance_copy(struct rds_instance *dst, const struct rds_instance *src);
void rds_cluster_copy(struct rds_cluster *dst, const struct rds_cluster *src);

/* ---- Parsing (exposed for the unit tests): node is the <DBSnapshot>,
 * <DBClusterSnapshot>, <DBInstance> or <DBCluster> element. */
struct _xmlNode;
void rds_parse_snapshot(const struct _xmlNode *node, enum rds_kind kind, struct rds_snapshot *out);
void rds_parse_instance(const struct _xmlNode *node, struct rds_instance *out);
void rds_parse_cluster(const struct _xmlNode *node, struct rds_cluster *out);
void rds_parse_tag_list(const struct _xmlNode *tag_list, struct rds_tags *out);

/* Callback per item: return 0 to continue, RDS_STOP to stop paging (the call then
 * returns 0), or an error kind (core/err.h) (with e set) to abort. */
#define RDS_STOP (-1) /* = AWS_PAGE_STOP */
typedef int (*rds_snapshot_cb)(const struct rds_snapshot *s, void *ud, struct err *e);
typedef int (*rds_instance_cb)(const struct rds_instance *i, void *ud, struct err *e);
typedef int (*rds_cluster_cb)(const struct rds_cluster *c, void *ud, struct err *e);

/* One page of a Describe* answer: result is its <ActionResult> element (may be
 * NULL: no items). Calls cb for each item. Exposed for the unit tests. */
int rds_page_snapshots(const struct _xmlNode *result, enum rds_kind kind, rds_snapshot_cb cb,
                       void *ud, struct err *e);
int rds_page_instances(const struct _xmlNode *result, rds_instance_cb cb, void *ud, struct err *e);
int rds_page_clusters(const struct _xmlNode *result, rds_cluster_cb cb, void *ud, struct err *e);

/* ---- Describes */
struct rds_snapshot_query {
    const char *source_id;   /* DBInstanceIdentifier / DBClusterIdentifier, or NULL */
    const char *snapshot_id; /* DBSnapshotIdentifier / DBClusterSnapshotIdentifier (name or ARN) */
    const char *snapshot_type; /* SnapshotType or NULL (= automated + manual) */
    int include_shared;        /* IncludeShared=true */
};
int rds_describe_db_snapshots(struct aws_ctx *aws, const struct rds_snapshot_query *q,
                              rds_snapshot_cb cb, void *ud, struct aws_error *ae, struct err *e);
int rds_describe_db_cluster_snapshots(struct aws_ctx *aws, const struct rds_snapshot_query *q,
                                      rds_snapshot_cb cb, void *ud, struct aws_error *ae,
                                      struct err *e);
/* id NULL = every instance / cluster of the account, all pages. */
int rds_describe_db_instances(struct aws_ctx *aws, const char *id, rds_instance_cb cb, void *ud,
                              struct aws_error *ae, struct err *e);
int rds_describe_db_clusters(struct aws_ctx *aws, const char *id, rds_cluster_cb cb, void *ud,
                             struct aws_error *ae, struct err *e);

/* Single-resource conveniences: 0 and *out filled, ERR_NOT_FOUND when AWS
 * says DBInstanceNotFound / DBClusterNotFoundFault, else the error. */
int rds_get_instance(struct aws_ctx *aws, const char *id, struct rds_instance *out,
                     struct aws_error *ae, struct err *e);
int rds_get_cluster(struct aws_ctx *aws, const char *id, struct rds_cluster *out,
                    struct aws_error *ae, struct err *e);

/* ---- Creating */
/* Optional settings shared by the restore / create calls. NULL / -1 / TRI unset
 * (tristate -1) leave AWS's default. */
struct rds_create_opts {
    const char *instance_class;         /* DBInstanceClass */
    const char *subnet_group;           /* DBSubnetGroupName */
    const char *const *security_groups; /* VpcSecurityGroupIds */
    size_t n_security_groups;
    int publicly_accessible;             /* -1 unset, 0, 1 */
    int enable_iam_auth;                 /* -1 unset, 0, 1 (EnableIAMDatabaseAuthentication) */
    const char *parameter_group;         /* DBParameterGroupName */
    const char *option_group;            /* OptionGroupName */
    const char *cluster_parameter_group; /* DBClusterParameterGroupName */
    int port;                            /* 0 = unset */
    const char *storage_type;
    const char *db_name;     /* DBName (instance) / DatabaseName (cluster) */
    int deletion_protection; /* DeletionProtection of a restore (0 = false) */
    const struct rds_tags *tags;
};

int rds_restore_db_instance_from_snapshot(struct aws_ctx *aws, const char *id,
                                          const char *snapshot_id, const struct rds_create_opts *o,
                                          struct rds_instance *out, struct aws_error *ae,
                                          struct err *e);
/* engine / engine_version from the snapshot (required by the API). */
int rds_restore_db_cluster_from_snapshot(struct aws_ctx *aws, const char *id,
                                         const char *snapshot_id, const char *engine,
                                         const char *engine_version,
                                         const struct rds_create_opts *o, struct rds_cluster *out,
                                         struct aws_error *ae, struct err *e);
/* restore_type "copy-on-write" or NULL (full copy); restore_time 0 = latest restorable. */
int rds_restore_db_cluster_to_point_in_time(struct aws_ctx *aws, const char *id,
                                            const char *source_cluster_id, const char *restore_type,
                                            int64_t restore_time, const struct rds_create_opts *o,
                                            struct rds_cluster *out, struct aws_error *ae,
                                            struct err *e);
int rds_restore_db_instance_to_point_in_time(struct aws_ctx *aws, const char *id,
                                             const char *source_instance_id, int64_t restore_time,
                                             const struct rds_create_opts *o,
                                             struct rds_instance *out, struct aws_error *ae,
                                             struct err *e);
/* An Aurora cluster member: DBClusterIdentifier + Engine + DBInstanceClass. */
int rds_create_db_instance_in_cluster(struct aws_ctx *aws, const char *id, const char *cluster_id,
                                      const char *engine, const struct rds_create_opts *o,
                                      struct rds_instance *out, struct aws_error *ae,
                                      struct err *e);

/* ---- Changing and deleting */
/* DeletionProtection=false, ApplyImmediately=true. */
int rds_disable_instance_deletion_protection(struct aws_ctx *aws, const char *id,
                                             struct aws_error *ae, struct err *e);
int rds_disable_cluster_deletion_protection(struct aws_ctx *aws, const char *id,
                                            struct aws_error *ae, struct err *e);
/* ManageMasterUserPassword=true, ApplyImmediately=true: RDS makes a new master
 * password that only Secrets Manager holds (MasterUserSecret). Instance: the
 * status goes through resetting-master-credentials. */
int rds_manage_master_password(struct aws_ctx *aws, enum rds_kind kind, const char *id,
                               struct aws_error *ae, struct err *e);
/* The restorable window of an RDS instance's automated backups in this region
 * (DescribeDBInstanceAutomatedBackups, the active backup's RestoreWindow):
 * 0 with *earliest / *latest set (0 when AWS gives none). */
int rds_instance_restore_window(struct aws_ctx *aws, const char *id, int64_t *earliest,
                                int64_t *latest, struct aws_error *ae, struct err *e);
/* skip_final_snapshot / delete_automated_backups: -1 = do not send (Aurora members). */
int rds_delete_db_instance(struct aws_ctx *aws, const char *id, int skip_final_snapshot,
                           int delete_automated_backups, struct aws_error *ae, struct err *e);
int rds_delete_db_cluster(struct aws_ctx *aws, const char *id, struct aws_error *ae, struct err *e);

/* 1 when ae holds AWS error code. */
int rds_error_is(const struct aws_error *ae, const char *code);

#endif
