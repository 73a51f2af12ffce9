/* Parsing of RDS responses in the shapes AWS sends them (namespaced Query XML,
 * TagList/Tag, DBClusterMembers/DBClusterMember, absent Endpoint while creating,
 * Marker on all but the last page). */
#include <check.h>
#include "check_main.h"
#include <stdlib.h>
#include <string.h>

#include "aws/aws_xml.h"
#include "rds/rds.h"
#include "rds/rds_internal.h"

static xmlDoc *parse(const char *xml)
{
    xmlDoc *doc = NULL;
    struct err e;
    err_clear(&e);
    ck_assert_int_eq(aws_xml_parse(xml, strlen(xml), "test", &doc, &e), 0);
    return doc;
}

static const char snapshots_page[] =
    "<DescribeDBSnapshotsResponse xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\">\n"
    "  <DescribeDBSnapshotsResult>\n"
    "    <Marker>page-2-token</Marker>\n"
    "    <DBSnapshots>\n"
    "      <DBSnapshot>\n"
    "        <Port>5432</Port>\n"
    "        <OptionGroupName>default:postgres-16</OptionGroupName>\n"
    "        <Engine>postgres</Engine>\n"
    "        <Status>available</Status>\n"
    "        <SnapshotType>automated</SnapshotType>\n"
    "        <StorageType>gp3</StorageType>\n"
    "        <Encrypted>true</Encrypted>\n"
    "        <KmsKeyId>arn:aws:kms:us-east-1:123456789012:key/abcd</KmsKeyId>\n"
    "        <DBSnapshotArn>arn:aws:rds:us-east-1:123456789012:snapshot:rds:production-db-2026-11-25-03-10</DBSnapshotArn>\n"
    "        <VpcId>vpc-1234</VpcId>\n"
    "        <DBSnapshotIdentifier>rds:production-db-2026-11-25-03-10</DBSnapshotIdentifier>\n"
    "        <InstanceCreateTime>2024-01-01T00:00:00.000Z</InstanceCreateTime>\n"
    "        <DBInstanceIdentifier>production-db</DBInstanceIdentifier>\n"
    "        <AllocatedStorage>100</AllocatedStorage>\n"
    "        <SnapshotCreateTime>2026-11-25T03:10:42.123Z</SnapshotCreateTime>\n"
    "        <EngineVersion>16.4</EngineVersion>\n"
    "        <TagList>\n"
    "          <Tag><Key>team</Key><Value>data</Value></Tag>\n"
    "          <Tag><Key>empty</Key><Value></Value></Tag>\n"
    "        </TagList>\n"
    "        <ProcessorFeatures/>\n"
    "      </DBSnapshot>\n"
    "      <DBSnapshot>\n"
    "        <DBSnapshotIdentifier>rds:production-db-2026-11-26-03-10</DBSnapshotIdentifier>\n"
    "        <DBInstanceIdentifier>production-db</DBInstanceIdentifier>\n"
    "        <Status>creating</Status>\n"
    "        <PercentProgress>40</PercentProgress>\n"
    "        <Engine>postgres</Engine>\n"
    "        <Encrypted>false</Encrypted>\n"
    "        <TagList/>\n"
    "      </DBSnapshot>\n"
    "    </DBSnapshots>\n"
    "  </DescribeDBSnapshotsResult>\n"
    "  <ResponseMetadata><RequestId>5e8a1e36-3f7a-4b1b-9d55-0f1d1f0f9d55</RequestId></ResponseMetadata>\n"
    "</DescribeDBSnapshotsResponse>\n";

struct collected {
    struct rds_snapshot s[4];
    int n;
    int stop_after;
};

static int collect(const struct rds_snapshot *s, void *ud, struct err *e)
{
    (void)e;
    struct collected *c = ud;
    ck_assert_int_lt(c->n, 4);
    rds_snapshot_copy(&c->s[c->n++], s);
    if (c->stop_after && c->n == c->stop_after)
        return RDS_STOP;
    return 0;
}

START_TEST(test_snapshot_page)
{
    xmlDoc *doc = parse(snapshots_page);
    struct collected c;
    memset(&c, 0, sizeof c);
    struct err e;
    err_clear(&e);
    xmlNode *res = aws_xml_result(doc, "DescribeDBSnapshots");
    ck_assert_ptr_nonnull(res);
    ck_assert_int_eq(rds_page_snapshots(res, RDS_KIND_INSTANCE, collect, &c, &e), 0);
    ck_assert_int_eq(c.n, 2);
    struct rds_snapshot *s = &c.s[0];
    ck_assert_int_eq(s->kind, RDS_KIND_INSTANCE);
    ck_assert_str_eq(s->id, "rds:production-db-2026-11-25-03-10");
    ck_assert_str_eq(
        s->arn, "arn:aws:rds:us-east-1:123456789012:snapshot:rds:production-db-2026-11-25-03-10");
    ck_assert_str_eq(s->source_id, "production-db");
    ck_assert_str_eq(s->status, "available");
    ck_assert_str_eq(s->snapshot_type, "automated");
    ck_assert_str_eq(s->engine, "postgres");
    ck_assert_str_eq(s->engine_version, "16.4");
    ck_assert_str_eq(s->storage_type, "gp3");
    ck_assert_int_eq(s->encrypted, 1);
    ck_assert_str_eq(s->kms_key_id, "arn:aws:kms:us-east-1:123456789012:key/abcd");
    ck_assert_int_eq(s->port, 5432);
    ck_assert_int_eq(s->allocated_storage, 100);
    ck_assert_int_eq(s->create_time, 1795576242); /* 2026-11-25T03:10:42Z */
    ck_assert_uint_eq(s->tags.n, 2);
    ck_assert_str_eq(rds_tags_get(&s->tags, "team"), "data");
    ck_assert_str_eq(rds_tags_get(&s->tags, "empty"), "");
    ck_assert_ptr_null(rds_tags_get(&s->tags, "missing"));
    s = &c.s[1];
    ck_assert_str_eq(s->status, "creating");
    ck_assert_int_eq(s->create_time, 0); /* absent while creating */
    ck_assert_int_eq(s->port, -1);
    ck_assert_int_eq(s->allocated_storage, -1);
    ck_assert_ptr_null(s->arn);
    ck_assert_uint_eq(s->tags.n, 0);
    for (int i = 0; i < c.n; i++)
        rds_snapshot_release(&c.s[i]);
    xmlFreeDoc(doc);
}
END_TEST

START_TEST(test_snapshot_page_stop)
{
    xmlDoc *doc = parse(snapshots_page);
    struct collected c;
    memset(&c, 0, sizeof c);
    c.stop_after = 1;
    struct err e;
    err_clear(&e);
    ck_assert_int_eq(rds_page_snapshots(aws_xml_result(doc, "DescribeDBSnapshots"),
                                        RDS_KIND_INSTANCE, collect, &c, &e),
                     RDS_STOP);
    ck_assert_int_eq(c.n, 1);
    rds_snapshot_release(&c.s[0]);
    xmlFreeDoc(doc);
}
END_TEST

START_TEST(test_empty_page_without_namespace)
{
    /* The last page of an empty listing: no items, no Marker, no namespace. */
    xmlDoc *doc = parse("<DescribeDBSnapshotsResponse><DescribeDBSnapshotsResult><DBSnapshots/>"
                        "</DescribeDBSnapshotsResult><ResponseMetadata><RequestId>r</RequestId>"
                        "</ResponseMetadata></DescribeDBSnapshotsResponse>");
    struct collected c;
    memset(&c, 0, sizeof c);
    struct err e;
    err_clear(&e);
    ck_assert_int_eq(rds_page_snapshots(aws_xml_result(doc, "DescribeDBSnapshots"),
                                        RDS_KIND_INSTANCE, collect, &c, &e),
                     0);
    ck_assert_int_eq(c.n, 0);
    ck_assert_int_eq(rds_page_snapshots(NULL, RDS_KIND_INSTANCE, collect, &c, &e), 0);
    xmlFreeDoc(doc);
}
END_TEST

START_TEST(test_cluster_snapshot)
{
    xmlDoc *doc = parse(
        "<DescribeDBClusterSnapshotsResponse xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\">"
        "<DescribeDBClusterSnapshotsResult><DBClusterSnapshots><DBClusterSnapshot>"
        "<AvailabilityZones><AvailabilityZone>us-east-1a</AvailabilityZone></AvailabilityZones>"
        "<DBClusterSnapshotIdentifier>rds:production-aurora-2026-11-25-04-00</DBClusterSnapshotIdentifier>"
        "<DBClusterIdentifier>production-aurora</DBClusterIdentifier>"
        "<SnapshotCreateTime>2026-11-25T04:00:00Z</SnapshotCreateTime>"
        "<Engine>aurora-postgresql</Engine><EngineMode>provisioned</EngineMode>"
        "<AllocatedStorage>0</AllocatedStorage><Status>available</Status><Port>0</Port>"
        "<EngineVersion>16.4</EngineVersion><SnapshotType>automated</SnapshotType>"
        "<StorageEncrypted>true</StorageEncrypted><KmsKeyId>key-1</KmsKeyId>"
        "<DBClusterSnapshotArn>arn:aws:rds:us-east-1:123456789012:cluster-snapshot:rds:production-aurora-2026-11-25-04-00</DBClusterSnapshotArn>"
        "<TagList/></DBClusterSnapshot></DBClusterSnapshots></DescribeDBClusterSnapshotsResult>"
        "</DescribeDBClusterSnapshotsResponse>");
    struct collected c;
    memset(&c, 0, sizeof c);
    struct err e;
    err_clear(&e);
    ck_assert_int_eq(rds_page_snapshots(aws_xml_result(doc, "DescribeDBClusterSnapshots"),
                                        RDS_KIND_CLUSTER, collect, &c, &e),
                     0);
    ck_assert_int_eq(c.n, 1);
    ck_assert_int_eq(c.s[0].kind, RDS_KIND_CLUSTER);
    ck_assert_str_eq(c.s[0].id, "rds:production-aurora-2026-11-25-04-00");
    ck_assert_str_eq(c.s[0].source_id, "production-aurora");
    ck_assert_str_eq(c.s[0].engine, "aurora-postgresql");
    ck_assert_str_eq(c.s[0].engine_mode, "provisioned");
    ck_assert_int_eq(c.s[0].encrypted, 1); /* StorageEncrypted for clusters */
    ck_assert_int_eq(c.s[0].port, 0);
    ck_assert_str_eq(
        c.s[0].arn,
        "arn:aws:rds:us-east-1:123456789012:cluster-snapshot:rds:production-aurora-2026-11-25-04-00");
    rds_snapshot_release(&c.s[0]);
    xmlFreeDoc(doc);
}
END_TEST

struct inst_list {
    struct rds_instance v[4];
    int n;
};

static int collect_instance(const struct rds_instance *i, void *ud, struct err *e)
{
    (void)e;
    struct inst_list *l = ud;
    ck_assert_int_lt(l->n, 4);
    rds_instance_copy(&l->v[l->n++], i);
    return 0;
}

START_TEST(test_instances)
{
    xmlDoc *doc = parse(
        "<DescribeDBInstancesResponse xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\">"
        "<DescribeDBInstancesResult><DBInstances>"
        "<DBInstance><DBInstanceIdentifier>dblab-refresh-20261126-020000</DBInstanceIdentifier>"
        "<DBInstanceClass>db.t3.medium</DBInstanceClass><Engine>postgres</Engine>"
        "<DBInstanceStatus>creating</DBInstanceStatus><AllocatedStorage>100</AllocatedStorage>"
        "<DBInstanceArn>arn:aws:rds:us-east-1:123456789012:db:dblab-refresh-20261126-020000</DBInstanceArn>"
        "<DeletionProtection>false</DeletionProtection><StorageEncrypted>false</StorageEncrypted>"
        "<TagList><Tag><Key>ManagedBy</Key><Value>dblab-rds-refresh</Value></Tag></TagList>"
        "</DBInstance>"
        "<DBInstance><DBInstanceIdentifier>billing-db</DBInstanceIdentifier>"
        "<DBInstanceStatus>available</DBInstanceStatus><Engine>postgres</Engine>"
        "<EngineVersion>15.5</EngineVersion>"
        "<Endpoint><Address>billing-db.abc123.us-east-1.rds.amazonaws.com</Address>"
        "<Port>5433</Port><HostedZoneId>Z2R2ITUGPM61AM</HostedZoneId></Endpoint>"
        "<InstanceCreateTime>2023-05-01T10:00:00Z</InstanceCreateTime>"
        "<DeletionProtection>true</DeletionProtection><DBName>billing</DBName>"
        "<VpcSecurityGroups><VpcSecurityGroupMembership><VpcSecurityGroupId>sg-1</VpcSecurityGroupId>"
        "<Status>active</Status></VpcSecurityGroupMembership></VpcSecurityGroups>"
        "</DBInstance>"
        "<DBInstance><DBInstanceIdentifier>production-aurora-instance-1</DBInstanceIdentifier>"
        "<DBClusterIdentifier>production-aurora</DBClusterIdentifier>"
        "<DBInstanceStatus>available</DBInstanceStatus><Engine>aurora-postgresql</Engine>"
        "</DBInstance>"
        "</DBInstances></DescribeDBInstancesResult></DescribeDBInstancesResponse>");
    struct inst_list l;
    memset(&l, 0, sizeof l);
    struct err e;
    err_clear(&e);
    ck_assert_int_eq(
        rds_page_instances(aws_xml_result(doc, "DescribeDBInstances"), collect_instance, &l, &e),
        0);
    ck_assert_int_eq(l.n, 3);
    ck_assert_str_eq(l.v[0].id, "dblab-refresh-20261126-020000");
    ck_assert_str_eq(l.v[0].status, "creating");
    ck_assert_str_eq(l.v[0].instance_class, "db.t3.medium");
    ck_assert_ptr_null(l.v[0].endpoint_address);
    ck_assert_int_eq(l.v[0].endpoint_port, -1);
    ck_assert_int_eq(l.v[0].create_time, 0);
    ck_assert_int_eq(l.v[0].deletion_protection, 0);
    ck_assert_ptr_null(l.v[0].cluster_id);
    ck_assert_str_eq(rds_tags_get(&l.v[0].tags, "ManagedBy"), "dblab-rds-refresh");
    ck_assert_str_eq(l.v[1].endpoint_address, "billing-db.abc123.us-east-1.rds.amazonaws.com");
    ck_assert_int_eq(l.v[1].endpoint_port, 5433);
    ck_assert_int_eq(l.v[1].deletion_protection, 1);
    ck_assert_int_eq(l.v[1].create_time, 1682935200);
    ck_assert_str_eq(l.v[1].db_name, "billing");
    ck_assert_uint_eq(l.v[1].tags.n, 0);
    ck_assert_str_eq(l.v[2].cluster_id, "production-aurora");
    for (int i = 0; i < l.n; i++)
        rds_instance_release(&l.v[i]);
    xmlFreeDoc(doc);
}
END_TEST

static int keep_cluster(const struct rds_cluster *c, void *ud, struct err *e)
{
    (void)e;
    rds_cluster_copy(ud, c);
    return 0;
}

START_TEST(test_cluster_members)
{
    xmlDoc *doc = parse(
        "<DescribeDBClustersResponse xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\">"
        "<DescribeDBClustersResult><DBClusters><DBCluster>"
        "<DBClusterIdentifier>dblab-refresh-x</DBClusterIdentifier>"
        "<DBClusterArn>arn:aws:rds:us-east-1:123456789012:cluster:dblab-refresh-x</DBClusterArn>"
        "<Status>available</Status><Engine>aurora-postgresql</Engine><EngineVersion>16.4</EngineVersion>"
        "<Endpoint>dblab-refresh-x.cluster-abc.us-east-1.rds.amazonaws.com</Endpoint>"
        "<ReaderEndpoint>dblab-refresh-x.cluster-ro-abc.us-east-1.rds.amazonaws.com</ReaderEndpoint>"
        "<Port>5432</Port><DeletionProtection>true</DeletionProtection>"
        "<ClusterCreateTime>2026-11-26T02:00:05.5Z</ClusterCreateTime>"
        "<MasterUsername>postgres</MasterUsername><BackupRetentionPeriod>7</BackupRetentionPeriod>"
        "<EarliestRestorableTime>2026-11-19T02:00:00Z</EarliestRestorableTime>"
        "<LatestRestorableTime>2026-11-26T01:55:00.000Z</LatestRestorableTime>"
        "<MasterUserSecret><SecretArn>arn:aws:secretsmanager:us-east-1:123456789012:secret:"
        "rds!cluster-0f1e2d3c-aaaa-bbbb-cccc-0123456789ab-AbC123</SecretArn>"
        "<SecretStatus>active</SecretStatus><KmsKeyId>arn:aws:kms:us-east-1:1:key/k</KmsKeyId>"
        "</MasterUserSecret>"
        "<DBClusterMembers>"
        "<DBClusterMember><DBInstanceIdentifier>dblab-refresh-x-reader</DBInstanceIdentifier>"
        "<IsClusterWriter>false</IsClusterWriter><PromotionTier>1</PromotionTier></DBClusterMember>"
        "<DBClusterMember><DBInstanceIdentifier>dblab-refresh-x-instance</DBInstanceIdentifier>"
        "<IsClusterWriter>true</IsClusterWriter></DBClusterMember>"
        "</DBClusterMembers>"
        "<TagList><Tag><Key>ManagedBy</Key><Value>dblab-rds-refresh</Value></Tag>"
        "<Tag><Key>AutoDelete</Key><Value>true</Value></Tag></TagList>"
        "</DBCluster></DBClusters><Marker>m2</Marker></DescribeDBClustersResult>"
        "</DescribeDBClustersResponse>");
    struct rds_cluster c;
    memset(&c, 0, sizeof c);
    struct err e;
    err_clear(&e);
    ck_assert_int_eq(
        rds_page_clusters(aws_xml_result(doc, "DescribeDBClusters"), keep_cluster, &c, &e), 0);
    ck_assert_str_eq(c.id, "dblab-refresh-x");
    ck_assert_str_eq(c.endpoint, "dblab-refresh-x.cluster-abc.us-east-1.rds.amazonaws.com");
    ck_assert_str_eq(c.reader_endpoint,
                     "dblab-refresh-x.cluster-ro-abc.us-east-1.rds.amazonaws.com");
    ck_assert_int_eq(c.port, 5432);
    ck_assert_int_eq(c.deletion_protection, 1);
    ck_assert_int_eq(c.create_time, 1795658405);
    ck_assert_uint_eq(c.n_members, 2);
    ck_assert_str_eq(c.members[0].instance_id, "dblab-refresh-x-reader");
    ck_assert_int_eq(c.members[0].is_writer, 0);
    ck_assert_str_eq(c.members[1].instance_id, "dblab-refresh-x-instance");
    ck_assert_int_eq(c.members[1].is_writer, 1);
    ck_assert_str_eq(rds_tags_get(&c.tags, "AutoDelete"), "true");
    /* what a point-in-time restore and a managed master password read */
    ck_assert_str_eq(c.master_username, "postgres");
    ck_assert_int_eq(c.backup_retention, 7);
    ck_assert_int_eq(c.earliest_restorable_time, 1795053600);
    ck_assert_int_eq(c.latest_restorable_time, 1795658100);
    ck_assert_str_eq(c.secret.arn, "arn:aws:secretsmanager:us-east-1:123456789012:secret:"
                                   "rds!cluster-0f1e2d3c-aaaa-bbbb-cccc-0123456789ab-AbC123");
    ck_assert_str_eq(c.secret.status, "active");
    struct rds_cluster copy;
    rds_cluster_copy(&copy, &c);
    ck_assert_str_eq(copy.secret.arn, c.secret.arn);
    ck_assert_ptr_ne(copy.secret.arn, c.secret.arn);
    rds_cluster_release(&copy);
    rds_cluster_release(&c);
    rds_cluster_release(&c); /* idempotent */
    xmlFreeDoc(doc);
}
END_TEST

START_TEST(test_restore_result_and_tags)
{
    xmlDoc *doc = parse(
        "<RestoreDBInstanceFromDBSnapshotResponse xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\">"
        "<RestoreDBInstanceFromDBSnapshotResult><DBInstance>"
        "<DBInstanceIdentifier>dblab-refresh-a</DBInstanceIdentifier>"
        "<DBInstanceStatus>creating</DBInstanceStatus>"
        "<DBInstanceArn>arn:aws:rds:us-east-1:1:db:dblab-refresh-a</DBInstanceArn>"
        "</DBInstance></RestoreDBInstanceFromDBSnapshotResult>"
        "<ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata>"
        "</RestoreDBInstanceFromDBSnapshotResponse>");
    const xmlNode *n = NULL;
    struct err e;
    err_clear(&e);
    ck_assert_int_eq(rds_result_item(doc, "RestoreDBInstanceFromDBSnapshot", "DBInstance", &n, &e),
                     0);
    struct rds_instance i;
    rds_parse_instance(n, &i);
    ck_assert_str_eq(i.arn, "arn:aws:rds:us-east-1:1:db:dblab-refresh-a");
    /* absent while creating: no secret, no retention, no restorable time */
    ck_assert_ptr_null(i.secret.arn);
    ck_assert_int_eq(i.backup_retention, -1);
    ck_assert_int_eq(i.latest_restorable_time, 0);
    rds_instance_release(&i);
    /* The wrong action: the result element is not found, and the error says so. */
    ck_assert_int_ne(rds_result_item(doc, "CreateDBInstance", "DBInstance", &n, &e), 0);
    ck_assert_ptr_nonnull(strstr(e.msg, "CreateDBInstance"));
    xmlFreeDoc(doc);
}
END_TEST

int main(void)
{
    return run_suites(SUITE_OF_TESTS("rds", 0, test_snapshot_page, test_snapshot_page_stop,
                                     test_empty_page_without_namespace, test_cluster_snapshot,
                                     test_instances, test_cluster_members,
                                     test_restore_result_and_tags),
                      NULL);
}
