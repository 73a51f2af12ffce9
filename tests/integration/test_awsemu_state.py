#!/usr/bin/python3
"""AWS emulator: the RDS state machine, pagination, filters, tags, faults, STS
expiry, IMDSv2 and the ECS endpoint.  Driven through botocore clients (so
every response is also parsed by botocore) and the control API; time moves
with /_emulator/advance, never with sleeps."""
import datetime
import json
import os
import sys
import unittest
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "emulators"))

import botocore.config  # noqa: E402
import botocore.exceptions  # noqa: E402
import botocore.session  # noqa: E402

from awsemu.testing import (ACCESS_KEY, DEFAULT_SEED, SECRET_KEY, TOP, Emulator,  # noqa: E402
                            rds_params, xml_error)

UTC = datetime.timezone.utc
NO_RETRY = botocore.config.Config(retries={"total_max_attempts": 1, "mode": "standard"},
                                  connect_timeout=5, read_timeout=10)


_SESSION = botocore.session.get_session()
_CLIENTS = {}


def client(emu, service, key=ACCESS_KEY, secret=SECRET_KEY, token=None):
    cache_key = (emu.port, service, key, token)
    if cache_key not in _CLIENTS:
        _CLIENTS[cache_key] = _make_client(emu, service, key, secret, token)
    return _CLIENTS[cache_key]


def _make_client(emu, service, key, secret, token):
    session = _SESSION
    return session.create_client(service, region_name="us-east-1", endpoint_url=emu.url,
                                 aws_access_key_id=key, aws_secret_access_key=secret,
                                 aws_session_token=token, config=NO_RETRY)


def code_of(exc):
    return exc.response["Error"]["Code"], exc.response["ResponseMetadata"]["HTTPStatusCode"]


EMU = None
MANY = os.path.join(TOP, "tests", "fixtures", "emulator", "many-snapshots.json")


def setUpModule():
    global EMU  # pylint: disable=global-statement
    EMU = Emulator()


def tearDownModule():
    EMU.stop()


class Base(unittest.TestCase):
    """One emulator for the whole file; every test starts from a fresh seed."""
    seed = DEFAULT_SEED

    def setUp(self):
        self.emu = EMU
        self.emu.control("POST", "/_emulator/seed", {"path": self.seed})
        self.emu.control("DELETE", "/_emulator/faults")
        self.rds = client(self.emu, "rds")

    def assertCode(self, code, status, fn, **kw):
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            fn(**kw)
        self.assertEqual(code_of(cm.exception), (code, status), cm.exception)
        return cm.exception

    def instance(self, name):
        return self.rds.describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0]

    def cluster(self, name):
        return self.rds.describe_db_clusters(DBClusterIdentifier=name)["DBClusters"][0]


class Seed(Base):
    def test_default_fixture(self):
        inst = self.instance("production-db")
        self.assertEqual((inst["Engine"], inst["DBInstanceClass"], inst["DBInstanceStatus"]),
                         ("postgres", "db.r6g.large", "available"))
        self.assertTrue(inst["EngineVersion"].startswith("16."))
        self.assertTrue(inst["StorageEncrypted"])
        self.assertTrue(inst["KmsKeyId"].startswith("arn:aws:kms:us-east-1:123456789012:key/"))
        self.assertRegex(inst["Endpoint"]["Address"],
                         r"^production-db\.[a-z0-9]{12}\.us-east-1\.rds\.amazonaws\.com$")
        self.assertEqual(inst["DBInstanceArn"],
                         "arn:aws:rds:us-east-1:123456789012:db:production-db")
        snaps = self.rds.describe_db_snapshots(DBInstanceIdentifier="production-db",
                                               SnapshotType="automated")["DBSnapshots"]
        self.assertEqual(len(snaps), 7)
        now = datetime.datetime.now(UTC)
        for s in snaps:
            self.assertRegex(s["DBSnapshotIdentifier"],
                             r"^rds:production-db-\d{4}-\d\d-\d\d-\d\d-\d\d$")
            self.assertLess(now - s["SnapshotCreateTime"], datetime.timedelta(days=7, hours=1))
        ids = {s["DBSnapshotIdentifier"] for s in self.rds.describe_db_snapshots(
            DBInstanceIdentifier="production-db")["DBSnapshots"]}
        self.assertIn("production-db-before-upgrade", ids)
        self.assertTrue(any(i.startswith("awsbackup:job-") for i in ids))
        legacy = self.instance("dblab-refresh-legacy")
        self.assertNotIn("ManagedBy", {t["Key"] for t in legacy["TagList"]})
        self.instance("billing-db")
        cl = self.cluster("production-aurora")
        self.assertEqual(cl["Engine"], "aurora-postgresql")
        writers = [m for m in cl["DBClusterMembers"] if m["IsClusterWriter"]]
        self.assertEqual([m["DBInstanceIdentifier"] for m in writers],
                         ["production-aurora-writer"])
        self.assertRegex(cl["Endpoint"], r"^production-aurora\.cluster-[a-z0-9]{12}\.")
        self.assertRegex(cl["ReaderEndpoint"], r"^production-aurora\.cluster-ro-[a-z0-9]{12}\.")
        csnaps = self.rds.describe_db_cluster_snapshots(
            DBClusterIdentifier="production-aurora", SnapshotType="automated")
        self.assertEqual(len(csnaps["DBClusterSnapshots"]), 7)

    def test_shared_snapshots(self):
        default = self.rds.describe_db_snapshots()["DBSnapshots"]
        self.assertFalse([s for s in default if s["SnapshotType"] == "shared"])
        shared = self.rds.describe_db_snapshots(SnapshotType="shared")["DBSnapshots"]
        self.assertEqual(len(shared), 1)
        arn = shared[0]["DBSnapshotArn"]
        self.assertTrue(arn.startswith("arn:aws:rds:us-east-1:210987654321:snapshot:"))
        self.assertEqual(shared[0]["DBSnapshotIdentifier"], arn)
        with_shared = self.rds.describe_db_snapshots(IncludeShared=True)["DBSnapshots"]
        self.assertIn(arn, {s["DBSnapshotArn"] for s in with_shared})
        self.assertEqual(self.rds.describe_db_snapshots(DBSnapshotIdentifier=arn)
                         ["DBSnapshots"][0]["DBSnapshotArn"], arn)
        # A shared snapshot is only reachable by its ARN.
        self.assertCode("DBSnapshotNotFound", 404, self.rds.describe_db_snapshots,
                        DBSnapshotIdentifier="shared-production-db-export")
        out = self.rds.restore_db_instance_from_db_snapshot(
            DBInstanceIdentifier="from-shared", DBSnapshotIdentifier=arn)
        self.assertEqual(out["DBInstance"]["DBInstanceStatus"], "creating")
        cshared = self.rds.describe_db_cluster_snapshots(SnapshotType="shared")
        self.assertEqual(len(cshared["DBClusterSnapshots"]), 1)

    def test_lookup_by_arn(self):
        arn = "arn:aws:rds:us-east-1:123456789012:db:production-db"
        self.assertEqual(self.instance(arn)["DBInstanceIdentifier"], "production-db")
        self.assertCode("DBInstanceNotFound", 404, self.rds.describe_db_instances,
                        DBInstanceIdentifier="arn:aws:rds:eu-west-1:123456789012:db:production-db")
        cl = self.cluster("arn:aws:rds:us-east-1:123456789012:cluster:production-aurora")
        self.assertEqual(cl["DBClusterIdentifier"], "production-aurora")
        self.assertEqual(self.instance("PRODUCTION-DB")["DBInstanceIdentifier"], "production-db")


class Pagination(Base):
    seed = MANY

    def test_pages(self):
        seen = []
        marker = None
        pages = 0
        while True:
            kw = {"DBInstanceIdentifier": "production-db", "MaxRecords": 100}
            if marker:
                kw["Marker"] = marker
            out = self.rds.describe_db_snapshots(**kw)
            pages += 1
            self.assertLessEqual(len(out["DBSnapshots"]), 100)
            seen += [s["DBSnapshotIdentifier"] for s in out["DBSnapshots"]]
            marker = out.get("Marker")
            if not marker:
                break
        self.assertEqual(len(seen), len(set(seen)))
        self.assertEqual(len(seen), 250 + 1 + 1)  # automated + manual + creating
        self.assertEqual(pages, 3)
        # botocore's paginator (the official Marker handling) sees the same set.
        paginator = self.rds.get_paginator("describe_db_snapshots")
        via = [s["DBSnapshotIdentifier"] for p in paginator.paginate(
            DBInstanceIdentifier="production-db", PaginationConfig={"PageSize": 20})
            for s in p["DBSnapshots"]]
        self.assertEqual(sorted(via), sorted(seen))
        # Marker of another operation is refused.
        self.assertCode("InvalidParameterValue", 400, self.rds.describe_db_instances,
                        Marker=marker or self.rds.describe_db_snapshots(MaxRecords=20)["Marker"])

    def test_creating_snapshot_has_no_create_time(self):
        snaps = self.rds.describe_db_snapshots(DBInstanceIdentifier="production-db",
                                               SnapshotType="automated", MaxRecords=100)
        allsnaps = []
        paginator = self.rds.get_paginator("describe_db_snapshots")
        for p in paginator.paginate(DBInstanceIdentifier="production-db"):
            allsnaps += p["DBSnapshots"]
        creating = [s for s in allsnaps if s["Status"] == "creating"]
        self.assertEqual(len(creating), 1)
        self.assertNotIn("SnapshotCreateTime", creating[0])
        del snaps

    def test_filters(self):
        out = self.rds.describe_db_snapshots(Filters=[
            {"Name": "db-instance-id", "Values": ["production-db"]},
            {"Name": "snapshot-type", "Values": ["manual"]}])
        self.assertEqual([s["SnapshotType"] for s in out["DBSnapshots"]], ["manual"])
        out = self.rds.describe_db_instances(Filters=[{"Name": "engine", "Values": ["mysql"]}])
        self.assertEqual(out["DBInstances"], [])


class Filters(Base):
    def test_instance_and_cluster_filters(self):
        out = self.rds.describe_db_instances(Filters=[
            {"Name": "db-cluster-id", "Values": ["production-aurora"]}])
        self.assertEqual(sorted(i["DBInstanceIdentifier"] for i in out["DBInstances"]),
                         ["production-aurora-reader-1", "production-aurora-writer"])
        out = self.rds.describe_db_instances(Filters=[
            {"Name": "db-instance-id",
             "Values": ["arn:aws:rds:us-east-1:123456789012:db:billing-db"]}])
        self.assertEqual([i["DBInstanceIdentifier"] for i in out["DBInstances"]], ["billing-db"])
        out = self.rds.describe_db_clusters(Filters=[
            {"Name": "engine", "Values": ["aurora-postgresql"]}])
        self.assertEqual(len(out["DBClusters"]), 1)
        out = self.rds.describe_db_cluster_snapshots(Filters=[
            {"Name": "db-cluster-id", "Values": ["production-aurora"]},
            {"Name": "snapshot-type", "Values": ["manual"]}])
        self.assertEqual(len(out["DBClusterSnapshots"]), 1)
        self.assertCode("InvalidParameterValue", 400, self.rds.describe_db_snapshots,
                        Filters=[{"Name": "db-cluster-id", "Values": ["x"]}])


class InstanceLifecycle(Base):
    def restore(self, name="dblab-refresh-20260101-020000", **kw):
        snaps = self.rds.describe_db_snapshots(DBInstanceIdentifier="production-db",
                                               SnapshotType="automated")["DBSnapshots"]
        newest = max(snaps, key=lambda s: s["SnapshotCreateTime"])
        return self.rds.restore_db_instance_from_db_snapshot(
            DBInstanceIdentifier=name, DBSnapshotIdentifier=newest["DBSnapshotIdentifier"],
            DBInstanceClass="db.t4g.medium", DBSubnetGroupName="dblab-clones",
            VpcSecurityGroupIds=["sg-0a1b2c3d4e5f60718"],
            Tags=[{"Key": "ManagedBy", "Value": "dblab-rds-refresh"}], **kw)["DBInstance"]

    def test_restore_to_available_to_deleted(self):
        created = self.restore()
        self.assertEqual(created["DBInstanceStatus"], "creating")
        self.assertNotIn("Endpoint", created)
        self.assertTrue(created["StorageEncrypted"])
        self.assertEqual(created["DBSubnetGroup"]["DBSubnetGroupName"], "dblab-clones")
        self.assertCode("DBInstanceAlreadyExists", 400, self.restore)
        name = created["DBInstanceIdentifier"]
        self.emu.advance(599)
        self.assertEqual(self.instance(name)["DBInstanceStatus"], "creating")
        self.emu.advance(2)
        inst = self.instance(name)
        self.assertEqual(inst["DBInstanceStatus"], "backing-up")
        self.assertRegex(inst["Endpoint"]["Address"],
                         rf"^{name}\.[a-z0-9]{{12}}\.us-east-1\.rds\.amazonaws\.com$")
        self.emu.advance(180)
        self.assertEqual(self.instance(name)["DBInstanceStatus"], "available")
        tags = self.rds.list_tags_for_resource(ResourceName=inst["DBInstanceArn"])["TagList"]
        self.assertEqual(tags, [{"Key": "ManagedBy", "Value": "dblab-rds-refresh"}])
        self.assertCode("InvalidParameterCombination", 400, self.rds.delete_db_instance,
                        DBInstanceIdentifier=name)
        out = self.rds.delete_db_instance(DBInstanceIdentifier=name, SkipFinalSnapshot=True,
                                          DeleteAutomatedBackups=True)
        self.assertEqual(out["DBInstance"]["DBInstanceStatus"], "deleting")
        self.assertCode("InvalidDBInstanceState", 400, self.rds.delete_db_instance,
                        DBInstanceIdentifier=name, SkipFinalSnapshot=True)
        self.emu.advance(300)
        self.assertCode("DBInstanceNotFound", 404, self.rds.describe_db_instances,
                        DBInstanceIdentifier=name)
        # Its automated backup went with it.
        snaps = self.rds.describe_db_snapshots(DBInstanceIdentifier=name)["DBSnapshots"]
        self.assertEqual(snaps, [])

    def test_eventual_consistency(self):
        self.emu.control("POST", "/_emulator/config", {"describeLagSeconds": 5})
        try:
            created = self.restore("lagging-clone")
            name = created["DBInstanceIdentifier"]
            self.assertCode("DBInstanceNotFound", 404, self.instance, name=name)
            self.assertCode("DBInstanceAlreadyExists", 400, self.restore, name=name)
            self.emu.advance(5)
            self.assertEqual(self.instance(name)["DBInstanceStatus"], "creating")
        finally:
            self.emu.control("POST", "/_emulator/config", {"describeLagSeconds": 0})

    def test_time_scale(self):
        self.emu.control("POST", "/_emulator/time-scale", {"timeScale": 100000})
        try:
            created = self.restore("scaled-clone")
            import time
            time.sleep(0.05)
            self.assertEqual(self.instance(created["DBInstanceIdentifier"])
                             ["DBInstanceStatus"], "available")
        finally:
            self.emu.control("POST", "/_emulator/time-scale", {"timeScale": 1})

    def test_deletion_protection(self):
        created = self.restore("protected-clone", DeletionProtection=True)
        self.emu.advance(3600)
        self.assertCode("InvalidParameterCombination", 400, self.rds.delete_db_instance,
                        DBInstanceIdentifier="protected-clone", SkipFinalSnapshot=True)
        out = self.rds.modify_db_instance(DBInstanceIdentifier="protected-clone",
                                          DeletionProtection=False, ApplyImmediately=True)
        self.assertEqual(out["DBInstance"]["DBInstanceStatus"], "available")
        self.assertFalse(out["DBInstance"]["DeletionProtection"])
        self.rds.delete_db_instance(DBInstanceIdentifier="protected-clone",
                                    SkipFinalSnapshot=True)
        del created

    def test_modify_not_available(self):
        self.restore("young-clone")
        self.assertCode("InvalidDBInstanceState", 400, self.rds.modify_db_instance,
                        DBInstanceIdentifier="young-clone", DeletionProtection=False)
        self.assertCode("InvalidDBInstanceState", 400, self.rds.delete_db_instance,
                        DBInstanceIdentifier="young-clone",
                        FinalDBSnapshotIdentifier="young-final")
        # Skipping the final snapshot, a creating instance can be deleted.
        self.rds.delete_db_instance(DBInstanceIdentifier="young-clone", SkipFinalSnapshot=True)

    def test_modify_password_goes_through_modifying(self):
        self.restore("pw-clone")
        self.emu.advance(3600)
        out = self.rds.modify_db_instance(DBInstanceIdentifier="pw-clone",
                                          MasterUserPassword="new-password-123",
                                          ApplyImmediately=True)
        self.assertEqual(out["DBInstance"]["DBInstanceStatus"], "modifying")
        self.assertEqual(out["DBInstance"]["PendingModifiedValues"]["MasterUserPassword"], "****")
        self.emu.advance(61)
        self.assertEqual(self.instance("pw-clone")["DBInstanceStatus"], "available")

    def test_restore_defaults_not_inherited(self):
        snaps = self.rds.describe_db_snapshots(DBInstanceIdentifier="production-db",
                                               SnapshotType="automated")["DBSnapshots"]
        out = self.rds.restore_db_instance_from_db_snapshot(
            DBInstanceIdentifier="bare-clone",
            DBSnapshotIdentifier=snaps[0]["DBSnapshotIdentifier"])["DBInstance"]
        self.assertEqual(out["DBSubnetGroup"]["DBSubnetGroupName"], "default")
        self.assertNotIn("sg-0123456789abcdef0",
                         [g["VpcSecurityGroupId"] for g in out["VpcSecurityGroups"]])
        self.assertEqual(out["DBInstanceClass"], "db.r6g.large")
        self.assertFalse(out["DeletionProtection"])

    def test_restore_validation(self):
        self.assertCode("DBSnapshotNotFound", 404, self.rds.restore_db_instance_from_db_snapshot,
                        DBInstanceIdentifier="x1", DBSnapshotIdentifier="rds:production-db-1999")
        snap = self.rds.describe_db_snapshots(SnapshotType="manual",
                                              DBInstanceIdentifier="production-db")["DBSnapshots"][0]
        sid = snap["DBSnapshotIdentifier"]
        self.assertCode("DBSubnetGroupNotFoundFault", 404,
                        self.rds.restore_db_instance_from_db_snapshot,
                        DBInstanceIdentifier="x1", DBSnapshotIdentifier=sid,
                        DBSubnetGroupName="nope")
        self.assertCode("DBParameterGroupNotFound", 404,
                        self.rds.restore_db_instance_from_db_snapshot,
                        DBInstanceIdentifier="x1", DBSnapshotIdentifier=sid,
                        DBParameterGroupName="nope")
        self.assertCode("InvalidParameterValue", 400,
                        self.rds.restore_db_instance_from_db_snapshot,
                        DBInstanceIdentifier="x1", DBSnapshotIdentifier=sid,
                        DBInstanceClass="db.huge.foo")
        self.assertCode("InvalidParameterValue", 400,
                        self.rds.restore_db_instance_from_db_snapshot,
                        DBInstanceIdentifier="x1", DBSnapshotIdentifier=sid,
                        Tags=[{"Key": "aws:reserved", "Value": "x"}])
        self.assertCode("InvalidParameterValue", 400,
                        self.rds.restore_db_instance_from_db_snapshot,
                        DBInstanceIdentifier="x1", DBSnapshotIdentifier=sid,
                        Tags=[{"Key": "RunId", "Value": "run#1,retry"}])
        self.assertCode("InvalidParameterValue", 400,
                        self.rds.restore_db_instance_from_db_snapshot,
                        DBInstanceIdentifier="dblab-refresh-" + "x" * 50,
                        DBSnapshotIdentifier=sid)
        self.assertCode("InvalidParameterCombination", 400,
                        self.rds.restore_db_instance_from_db_snapshot,
                        DBInstanceIdentifier="x1", DBSnapshotIdentifier=sid, Engine="mysql")
        self.assertEqual(self.rds.describe_db_instances(
            Filters=[{"Name": "db-instance-id", "Values": ["x1"]}])["DBInstances"], [])

    def test_point_in_time(self):
        out = self.rds.restore_db_instance_to_point_in_time(
            SourceDBInstanceIdentifier="production-db", TargetDBInstanceIdentifier="pitr-clone",
            UseLatestRestorableTime=True)["DBInstance"]
        self.assertEqual(out["DBInstanceStatus"], "creating")
        self.assertCode("InvalidParameterCombination", 400,
                        self.rds.restore_db_instance_to_point_in_time,
                        SourceDBInstanceIdentifier="production-db",
                        TargetDBInstanceIdentifier="pitr-2", UseLatestRestorableTime=True,
                        RestoreTime=datetime.datetime.now(UTC) - datetime.timedelta(hours=1))
        self.assertCode("InvalidRestoreFault", 400, self.rds.restore_db_instance_to_point_in_time,
                        SourceDBInstanceIdentifier="production-db",
                        TargetDBInstanceIdentifier="pitr-2",
                        RestoreTime=datetime.datetime.now(UTC) - datetime.timedelta(days=30))
        self.rds.restore_db_instance_to_point_in_time(
            SourceDBInstanceIdentifier="production-db", TargetDBInstanceIdentifier="pitr-3",
            RestoreTime=datetime.datetime.now(UTC) - datetime.timedelta(days=2))

    def test_create_instance_standalone(self):
        self.assertCode("MissingParameter", 400, self.rds.create_db_instance,
                        DBInstanceIdentifier="plain", DBInstanceClass="db.t3.micro",
                        Engine="postgres")
        out = self.rds.create_db_instance(DBInstanceIdentifier="plain",
                                          DBInstanceClass="db.t3.micro", Engine="postgres",
                                          AllocatedStorage=20, MasterUsername="postgres",
                                          MasterUserPassword="password-123")
        self.assertEqual(out["DBInstance"]["DBInstanceStatus"], "creating")


class Aurora(Base):
    def restore_cluster(self, name="dblab-refresh-aurora-1", **kw):
        snaps = self.rds.describe_db_cluster_snapshots(
            DBClusterIdentifier="production-aurora")["DBClusterSnapshots"]
        newest = max(snaps, key=lambda s: s["SnapshotCreateTime"])
        return self.rds.restore_db_cluster_from_snapshot(
            DBClusterIdentifier=name, SnapshotIdentifier=newest["DBClusterSnapshotIdentifier"],
            Engine="aurora-postgresql", DBSubnetGroupName="dblab-clones",
            Tags=[{"Key": "ManagedBy", "Value": "dblab-rds-refresh"}], **kw)["DBCluster"]

    def test_cluster_restore_with_writer(self):
        cl = self.restore_cluster()
        self.assertEqual(cl["Status"], "creating")
        self.assertEqual(cl["DBClusterMembers"], [])
        self.assertTrue(cl["StorageEncrypted"])
        self.assertCode("DBClusterAlreadyExistsFault", 400, self.restore_cluster)
        name = cl["DBClusterIdentifier"]
        inst = self.rds.create_db_instance(
            DBInstanceIdentifier=name + "-instance", DBClusterIdentifier=name,
            DBInstanceClass="db.r6g.large", Engine="aurora-postgresql")["DBInstance"]
        self.assertEqual(inst["DBClusterIdentifier"], name)
        reader = self.rds.create_db_instance(
            DBInstanceIdentifier=name + "-reader", DBClusterIdentifier=name,
            DBInstanceClass="db.r6g.large", Engine="aurora-postgresql")["DBInstance"]
        del reader
        self.emu.advance(300)
        self.assertEqual(self.cluster(name)["Status"], "available")
        self.assertEqual(self.instance(name + "-instance")["DBInstanceStatus"], "creating")
        self.emu.advance(200)
        self.assertEqual(self.instance(name + "-instance")["DBInstanceStatus"], "available")
        members = {m["DBInstanceIdentifier"]: m["IsClusterWriter"]
                   for m in self.cluster(name)["DBClusterMembers"]}
        self.assertEqual(members, {name + "-instance": True, name + "-reader": False})
        # Engine mismatch and master credentials on a member are refused.
        self.assertCode("InvalidParameterCombination", 400, self.rds.create_db_instance,
                        DBInstanceIdentifier="m2", DBClusterIdentifier=name,
                        DBInstanceClass="db.r6g.large", Engine="postgres")
        self.assertCode("InvalidParameterCombination", 400, self.rds.create_db_instance,
                        DBInstanceIdentifier="m2", DBClusterIdentifier=name,
                        DBInstanceClass="db.r6g.large", Engine="aurora-postgresql",
                        MasterUsername="x")
        self.assertCode("DBClusterNotFoundFault", 404, self.rds.create_db_instance,
                        DBInstanceIdentifier="m2", DBClusterIdentifier="nope",
                        DBInstanceClass="db.r6g.large", Engine="aurora-postgresql")
        # The cluster cannot go while it has members that are not deleting.
        self.assertCode("InvalidDBClusterStateFault", 400, self.rds.delete_db_cluster,
                        DBClusterIdentifier=name, SkipFinalSnapshot=True)
        self.rds.delete_db_instance(DBInstanceIdentifier=name + "-instance")
        self.rds.delete_db_instance(DBInstanceIdentifier=name + "-reader")
        out = self.rds.delete_db_cluster(DBClusterIdentifier=name, SkipFinalSnapshot=True)
        self.assertEqual(out["DBCluster"]["Status"], "deleting")
        self.emu.advance(600)
        self.assertCode("DBClusterNotFoundFault", 404, self.rds.describe_db_clusters,
                        DBClusterIdentifier=name)

    def test_cluster_validation(self):
        self.assertCode("InvalidParameterCombination", 400, self.restore_cluster,
                        name="wrong-engine", EngineVersion="15.4")
        self.assertCode("InvalidParameterValue", 400, self.restore_cluster,
                        name="bad-port", Port=80)
        snaps = self.rds.describe_db_cluster_snapshots(
            DBClusterIdentifier="production-aurora")["DBClusterSnapshots"]
        self.assertCode("InvalidParameterCombination", 400,
                        self.rds.restore_db_cluster_from_snapshot,
                        DBClusterIdentifier="c2",
                        SnapshotIdentifier=snaps[0]["DBClusterSnapshotIdentifier"],
                        Engine="aurora-mysql")
        self.assertCode("DBClusterSnapshotNotFoundFault", 404,
                        self.rds.restore_db_cluster_from_snapshot,
                        DBClusterIdentifier="c2", SnapshotIdentifier="nope",
                        Engine="aurora-postgresql")
        self.assertCode("InvalidParameterCombination", 400, self.rds.delete_db_cluster,
                        DBClusterIdentifier="production-aurora", SkipFinalSnapshot=True)

    def test_clone_copy_on_write(self):
        out = self.rds.restore_db_cluster_to_point_in_time(
            DBClusterIdentifier="aurora-clone", SourceDBClusterIdentifier="production-aurora",
            RestoreType="copy-on-write", UseLatestRestorableTime=True)["DBCluster"]
        self.assertEqual(out["Status"], "creating")
        self.assertTrue(out["CloneGroupId"])
        self.assertEqual(self.cluster("production-aurora")["CloneGroupId"], out["CloneGroupId"])
        self.assertCode("InvalidParameterCombination", 400,
                        self.rds.restore_db_cluster_to_point_in_time,
                        DBClusterIdentifier="aurora-clone-2",
                        SourceDBClusterIdentifier="production-aurora",
                        RestoreType="copy-on-write",
                        RestoreToTime=datetime.datetime.now(UTC) - datetime.timedelta(hours=1))

    def test_modify_cluster_deletion_protection(self):
        cl = self.restore_cluster("protected-aurora", DeletionProtection=True)
        self.assertCode("InvalidDBClusterStateFault", 400, self.rds.modify_db_cluster,
                        DBClusterIdentifier="protected-aurora", DeletionProtection=False)
        self.emu.advance(300)
        self.assertCode("InvalidParameterCombination", 400, self.rds.delete_db_cluster,
                        DBClusterIdentifier="protected-aurora", SkipFinalSnapshot=True)
        self.rds.modify_db_cluster(DBClusterIdentifier="protected-aurora",
                                   DeletionProtection=False, ApplyImmediately=True)
        self.rds.delete_db_cluster(DBClusterIdentifier="protected-aurora", SkipFinalSnapshot=True)
        del cl


class Tags(Base):
    def test_add_list_remove(self):
        arn = "arn:aws:rds:us-east-1:123456789012:db:billing-db"
        self.rds.add_tags_to_resource(ResourceName=arn, Tags=[{"Key": "A", "Value": "1"},
                                                              {"Key": "Team", "Value": "x"}])
        tags = {t["Key"]: t["Value"] for t in
                self.rds.list_tags_for_resource(ResourceName=arn)["TagList"]}
        self.assertEqual(tags, {"Environment": "production", "Team": "x", "A": "1"})
        self.rds.remove_tags_from_resource(ResourceName=arn, TagKeys=["A"])
        tags = self.rds.list_tags_for_resource(ResourceName=arn)["TagList"]
        self.assertNotIn("A", {t["Key"] for t in tags})
        self.assertCode("DBInstanceNotFound", 404, self.rds.list_tags_for_resource,
                        ResourceName="arn:aws:rds:us-east-1:123456789012:db:nope")
        self.assertCode("DBClusterNotFoundFault", 404, self.rds.list_tags_for_resource,
                        ResourceName="arn:aws:rds:us-east-1:123456789012:cluster:nope")
        self.assertCode("InvalidParameterValue", 400, self.rds.list_tags_for_resource,
                        ResourceName="billing-db")
        snap = self.rds.describe_db_snapshots(DBInstanceIdentifier="billing-db")["DBSnapshots"][0]
        self.rds.list_tags_for_resource(ResourceName=snap["DBSnapshotArn"])


class Faults(Base):
    def test_throttle_and_5xx(self):
        self.emu.fault(action="DescribeDBInstances", type="throttle", count=2)
        for _ in range(2):
            e = self.assertCode("Throttling", 400, self.instance, name="production-db")
            self.assertEqual(e.response["Error"]["Message"], "Rate exceeded")
        self.instance("production-db")
        self.emu.fault(action="*", type="http500")
        self.assertCode("InternalFailure", 500, self.instance, name="production-db")
        self.emu.fault(action="DescribeDBClusters", type="http503")
        self.instance("production-db")  # other actions unaffected
        self.assertCode("ServiceUnavailable", 503, self.cluster, name="production-aurora")
        calls = self.emu.calls(action="DescribeDBInstances")
        self.assertEqual([c["fault"] for c in calls], ["throttle", "throttle", None, "http500", None])

    def test_damaged_responses(self):
        body = urllib.parse.urlencode(rds_params("DescribeDBInstances"))
        hdr = {"Content-Type": "application/x-www-form-urlencoded"}
        self.emu.fault(action="DescribeDBInstances", type="truncated")
        st, _, data = self.emu.signed("rds", body.encode(), headers=hdr)
        self.assertEqual(st, 200)
        import xml.etree.ElementTree as ET
        with self.assertRaises(ET.ParseError):
            ET.fromstring(data)
        self.emu.fault(action="DescribeDBInstances", type="malformed")
        st, _, data = self.emu.signed("rds", body.encode(), headers=hdr)
        with self.assertRaises(ET.ParseError):
            ET.fromstring(data)
        self.emu.fault(action="DescribeDBInstances", type="reset")
        import http.client
        with self.assertRaises((ConnectionError, http.client.HTTPException)):
            self.emu.signed("rds", body.encode(), headers=hdr)
        st, _, data = self.emu.signed("rds", body.encode(), headers=hdr)
        self.assertEqual(st, 200)
        ET.fromstring(data)

    def test_lost_response_still_created(self):
        self.emu.fault(action="RestoreDBInstanceFromDBSnapshot", type="reset")
        snap = self.rds.describe_db_snapshots(SnapshotType="manual",
                                              DBInstanceIdentifier="production-db")["DBSnapshots"][0]
        with self.assertRaises(Exception):
            self.rds.restore_db_instance_from_db_snapshot(
                DBInstanceIdentifier="lost-response",
                DBSnapshotIdentifier=snap["DBSnapshotIdentifier"])
        self.assertEqual(self.instance("lost-response")["DBInstanceStatus"], "creating")

    def test_slow(self):
        import time
        self.emu.fault(action="DescribeDBClusters", type="slow", delaySeconds=0.5)
        t = time.monotonic()
        self.cluster("production-aurora")
        self.assertGreaterEqual(time.monotonic() - t, 0.5)

    def test_insufficient_capacity(self):
        self.emu.fault(type="insufficient-capacity")
        self.instance("production-db")  # describes are not creates
        snap = self.rds.describe_db_snapshots(SnapshotType="manual",
                                              DBInstanceIdentifier="production-db")["DBSnapshots"][0]
        self.assertCode("InsufficientDBInstanceCapacity", 400,
                        self.rds.restore_db_instance_from_db_snapshot,
                        DBInstanceIdentifier="cap-1",
                        DBSnapshotIdentifier=snap["DBSnapshotIdentifier"])
        self.assertCode("DBInstanceNotFound", 404, self.instance, name="cap-1")
        self.rds.restore_db_instance_from_db_snapshot(
            DBInstanceIdentifier="cap-1", DBSnapshotIdentifier=snap["DBSnapshotIdentifier"])

    def test_generic_error(self):
        self.emu.fault(action="DeleteDBInstance", type="error", code="InvalidDBInstanceState",
                       httpStatus=400, message="Instance is being modified")
        self.assertCode("InvalidDBInstanceState", 400, self.rds.delete_db_instance,
                        DBInstanceIdentifier="billing-db", SkipFinalSnapshot=True)

    def test_restore_outcome(self):
        self.emu.fault(type="restore-outcome", status="incompatible-restore",
                       durationSeconds=60)
        snap = self.rds.describe_db_snapshots(SnapshotType="manual",
                                              DBInstanceIdentifier="production-db")["DBSnapshots"][0]
        self.rds.restore_db_instance_from_db_snapshot(
            DBInstanceIdentifier="doomed", DBSnapshotIdentifier=snap["DBSnapshotIdentifier"])
        self.emu.advance(61)
        self.assertEqual(self.instance("doomed")["DBInstanceStatus"], "incompatible-restore")
        self.emu.fault(type="restore-outcome", status="failed", resource="cluster")
        csnap = self.rds.describe_db_cluster_snapshots(
            DBClusterIdentifier="production-aurora")["DBClusterSnapshots"][0]
        self.rds.restore_db_cluster_from_snapshot(
            DBClusterIdentifier="doomed-cluster",
            SnapshotIdentifier=csnap["DBClusterSnapshotIdentifier"], Engine="aurora-postgresql")
        self.emu.advance(3600)
        self.assertEqual(self.cluster("doomed-cluster")["Status"], "failed")

    def test_bad_fault_spec(self):
        with self.assertRaises(RuntimeError):
            self.emu.fault(type="explode")
        with self.assertRaises(RuntimeError):
            self.emu.fault(type="throttle", count=0)


class Credentials(Base):
    def test_assume_role_and_expiry(self):
        sts = client(self.emu, "sts")
        out = sts.assume_role(RoleArn="arn:aws:iam::123456789012:role/dblab-rds-refresh",
                              RoleSessionName="t1", DurationSeconds=900)
        c = out["Credentials"]
        self.assertLess(c["Expiration"] - datetime.datetime.now(UTC),
                        datetime.timedelta(seconds=901))
        rds = client(self.emu, "rds", c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
        rds.describe_db_instances(DBInstanceIdentifier="production-db")
        self.assertEqual(self.emu.calls()[-1]["accessKeyId"], c["AccessKeyId"])
        self.emu.control("POST", "/_emulator/credentials/expire")
        self.assertCode("ExpiredToken", 403, rds.describe_db_instances)
        self.assertCode("AccessDenied", 403, sts.assume_role,
                        RoleArn="arn:aws:iam::123456789012:role/not-allowed",
                        RoleSessionName="t1")
        self.assertCode("ValidationError", 400, sts.assume_role,
                        RoleArn="arn:aws:iam::123456789012:role/dblab-rds-refresh-irsa",
                        RoleSessionName="t1", DurationSeconds=7200)

    def test_short_lifetime(self):
        self.emu.control("POST", "/_emulator/config", {"credentialsLifetime": 2})
        try:
            sts = client(self.emu, "sts")
            c = sts.assume_role(RoleArn="arn:aws:iam::123456789012:role/dblab-rds-refresh",
                                RoleSessionName="short")["Credentials"]
            self.assertLessEqual(c["Expiration"] - datetime.datetime.now(UTC),
                                 datetime.timedelta(seconds=2))
        finally:
            self.emu.control("POST", "/_emulator/config", {"credentialsLifetime": None})

    def test_web_identity_unsigned(self):
        body = urllib.parse.urlencode({
            "Action": "AssumeRoleWithWebIdentity", "Version": "2011-06-15",
            "RoleArn": "arn:aws:iam::123456789012:role/dblab-rds-refresh-irsa",
            "RoleSessionName": "irsa", "WebIdentityToken": "emulator-web-identity-token"})
        st, _, data = self.emu.raw("POST", "/", body.encode(),
                                   {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(st, 200, data)
        self.assertIn(b"<AssumeRoleWithWebIdentityResult>", data)
        bad = body.replace("emulator-web-identity-token", "forged")
        st, _, data = self.emu.raw("POST", "/", bad.encode(),
                                   {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual((st, xml_error(data)[1]), (400, "InvalidIdentityToken"))
        expired = body.replace("emulator-web-identity-token",
                               "emulator-expired-web-identity-token")
        st, _, data = self.emu.raw("POST", "/", expired.encode(),
                                   {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual((st, xml_error(data)[1]), (400, "ExpiredTokenException"))
        # AssumeRole itself must be signed.
        st, _, data = self.emu.raw("POST", "/", body.replace(
            "AssumeRoleWithWebIdentity", "AssumeRole").encode(),
            {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual((st, xml_error(data)[1]), (403, "MissingAuthenticationToken"))

    def test_imds_v2(self):
        st, _, _ = self.emu.raw("GET", "/latest/meta-data/iam/security-credentials/")
        self.assertEqual(st, 401)
        st, _, _ = self.emu.raw("PUT", "/latest/api/token")
        self.assertEqual(st, 400)
        st, _, token = self.emu.raw("PUT", "/latest/api/token",
                                    headers={"X-aws-ec2-metadata-token-ttl-seconds": "60"})
        self.assertEqual(st, 200)
        hdr = {"X-aws-ec2-metadata-token": token.decode()}
        st, _, role = self.emu.raw("GET", "/latest/meta-data/iam/security-credentials/",
                                   headers=hdr)
        self.assertEqual((st, role), (200, b"dblab-rds-refresh-ec2"))
        st, _, data = self.emu.raw("GET", "/latest/meta-data/iam/security-credentials/"
                                   + role.decode(), headers=hdr)
        c = json.loads(data)
        self.assertEqual(c["Code"], "Success")
        rds = client(self.emu, "rds", c["AccessKeyId"], c["SecretAccessKey"], c["Token"])
        rds.describe_db_instances(DBInstanceIdentifier="production-db")
        st, _, _ = self.emu.raw("GET", "/latest/meta-data/iam/security-credentials/x",
                                headers={"X-aws-ec2-metadata-token": "forged"})
        self.assertEqual(st, 401)

    def test_imds_and_ecs_faults(self):
        self.emu.fault(service="imds", type="http503")
        st, _, _ = self.emu.raw("PUT", "/latest/api/token",
                                headers={"X-aws-ec2-metadata-token-ttl-seconds": "60"})
        self.assertEqual(st, 503)
        self.emu.fault(service="ecs", type="reset")
        import http.client
        with self.assertRaises((ConnectionError, http.client.HTTPException)):
            self.emu.raw("GET", "/v2/credentials/x",
                         headers={"Authorization": "emulator-ecs-authorization-token"})
        calls = self.emu.calls(service="ecs")
        self.assertEqual(calls[-1]["fault"], "reset")

    def test_ecs(self):
        st, _, _ = self.emu.raw("GET", "/v2/credentials/task-1")
        self.assertEqual(st, 401)
        st, _, data = self.emu.raw("GET", "/v2/credentials/task-1",
                                   headers={"Authorization": "emulator-ecs-authorization-token"})
        self.assertEqual(st, 200)
        c = json.loads(data)
        rds = client(self.emu, "rds", c["AccessKeyId"], c["SecretAccessKey"], c["Token"])
        rds.describe_db_instances(DBInstanceIdentifier="production-db")


class SeedOptions(Base):
    def test_stale_snapshots_and_cluster_types(self):
        self.emu.control("POST", "/_emulator/seed", {
            "credentials": [{"accessKeyId": ACCESS_KEY, "secretAccessKey": SECRET_KEY}],
            "instances": [{"id": "old-db", "automatedSnapshots": {"count": 3,
                                                                   "newestAgeHours": 72}}]})
        snaps = self.rds.describe_db_snapshots(DBInstanceIdentifier="old-db")["DBSnapshots"]
        newest = max(s["SnapshotCreateTime"] for s in snaps)
        self.assertGreater(datetime.datetime.now(UTC) - newest, datetime.timedelta(hours=72))
        self.assertCode("InvalidParameterValue", 400, self.rds.describe_db_cluster_snapshots,
                        SnapshotType="awsbackup")

    def test_creating_seconds_of_a_seeded_snapshot(self):
        seed = {"credentials": [{"accessKeyId": ACCESS_KEY, "secretAccessKey": SECRET_KEY}],
                "instances": [{"id": "db1", "automatedSnapshots": {"count": 0}, "snapshots": [
                    {"id": "rds:db1-slow", "type": "automated", "status": "creating",
                     "creatingSeconds": 86400},
                    {"id": "rds:db1-default", "type": "automated", "status": "creating"}]}]}
        self.emu.control("POST", "/_emulator/seed", seed)

        def statuses():
            snaps = self.rds.describe_db_snapshots(DBInstanceIdentifier="db1")["DBSnapshots"]
            return {s["DBSnapshotIdentifier"]: s["Status"] for s in snaps}
        self.assertEqual(statuses(), {"rds:db1-slow": "creating", "rds:db1-default": "creating"})
        self.emu.advance(3600)
        self.assertEqual(statuses(), {"rds:db1-slow": "creating", "rds:db1-default": "available"})
        self.emu.advance(86400)
        self.assertEqual(statuses(), {"rds:db1-slow": "available", "rds:db1-default": "available"})
        for bad in (-1, "long", True):
            seed["instances"][0]["snapshots"][0]["creatingSeconds"] = bad
            with self.assertRaises(RuntimeError, msg=repr(bad)):
                self.emu.control("POST", "/_emulator/seed", seed)

    def test_new_snapshot_via_control(self):
        self.emu.control("POST", "/_emulator/snapshots",
                         {"instance": "production-db", "status": "creating"})
        snaps = self.rds.describe_db_snapshots(DBInstanceIdentifier="production-db",
                                               SnapshotType="automated")["DBSnapshots"]
        self.assertEqual(sorted(s["Status"] for s in snaps).count("creating"), 1)
        self.emu.advance(301)
        snaps = self.rds.describe_db_snapshots(DBInstanceIdentifier="production-db",
                                               SnapshotType="automated")["DBSnapshots"]
        self.assertEqual({s["Status"] for s in snaps}, {"available"})


class Control(Base):
    def test_state_calls_seed(self):
        state = self.emu.state()
        self.assertIn("production-db", state["instances"])
        self.assertIn("production-aurora", state["clusters"])
        self.emu.control("DELETE", "/_emulator/calls")
        self.instance("production-db")
        self.assertEqual(len(self.emu.calls()), 1)
        self.emu.control("POST", "/_emulator/seed", {"account": "111122223333", "credentials": [
            {"accessKeyId": "AKIDTESTEMULATOR", "secretAccessKey": "emulator-secret-key"}]})
        self.assertEqual(self.rds.describe_db_instances()["DBInstances"], [])
        self.emu.control("POST", "/_emulator/seed", {"path": DEFAULT_SEED})
        self.instance("production-db")
        with self.assertRaises(RuntimeError):
            self.emu.control("POST", "/_emulator/seed", {"instancez": []})


if __name__ == "__main__":
    unittest.main(verbosity=1)
