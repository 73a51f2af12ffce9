#!/usr/bin/python3
"""Fidelity proof: Debian's awscli, the reference client, against the AWS
emulator for every operation the project uses.  awscli builds each request
from the official botocore model and parses each response with it, so a
response that parses into the expected fields here has the element names,
nesting, list members and scalar formats AWS uses.

The /usr/bin/aws binary is run as a process for a few calls; the bulk runs the
same installed awscli driver in-process (awscli.clidriver, what /usr/bin/aws
calls), which keeps the test at a few seconds instead of ~1 s of interpreter
start-up per call."""
import contextlib
import datetime
import io
import json
import os
import subprocess
import sys
import tempfile
import unittest
import warnings

warnings.simplefilter("ignore", ImportWarning)  # awscli's vendored six, on import
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "emulators"))

try:
    # First: awscli v2 aliases "botocore" to its own bundled copy, an independent
    # reference next to the python3-botocore model the emulator validates with.
    import awscli.clidriver  # noqa: E402
except ImportError:
    awscli = None

from awsemu.testing import ACCESS_KEY, DEFAULT_SEED, SECRET_KEY, TOP, Emulator  # noqa: E402

AWS = "/usr/bin/aws"
MANY = os.path.join(TOP, "tests", "fixtures", "emulator", "many-snapshots.json")
EMU = None
TMP = None
DRIVER = None


def setUpModule():
    global EMU, TMP  # pylint: disable=global-statement
    if awscli is None or not os.access(AWS, os.X_OK):
        raise unittest.SkipTest("awscli (/usr/bin/aws) is not installed")
    TMP = tempfile.TemporaryDirectory(prefix="awsemu-awscli.")
    empty = os.path.join(TMP.name, "empty")
    open(empty, "w").close()
    os.environ.update({
        "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": empty,
        "AWS_SHARED_CREDENTIALS_FILE": empty, "AWS_PAGER": "",
        "AWS_MAX_ATTEMPTS": "1", "AWS_RETRY_MODE": "standard"})
    for k in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL"):
        os.environ.pop(k, None)
    EMU = Emulator()


def tearDownModule():
    if EMU:
        EMU.stop()
    if TMP:
        TMP.cleanup()


def common():
    return ["--endpoint-url", EMU.url, "--no-cli-pager", "--output", "json"]


def aws(*args):
    """Run awscli in-process; returns (rc, parsed stdout or None, stderr)."""
    global DRIVER  # pylint: disable=global-statement
    if DRIVER is None:
        DRIVER = awscli.clidriver.create_clidriver()
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = DRIVER.main(common() + list(args))
    text = out.getvalue()
    return rc, (json.loads(text) if text.strip() else None), err.getvalue()


def aws_process(*args):
    proc = subprocess.run([AWS] + common() + list(args), capture_output=True, text=True,
                          timeout=120, check=False)
    return proc.returncode, (json.loads(proc.stdout) if proc.stdout.strip() else None), \
        proc.stderr


def parse_time(text):
    return datetime.datetime.fromisoformat(text)


class AwsCli(unittest.TestCase):
    def setUp(self):
        EMU.control("POST", "/_emulator/seed", {"path": DEFAULT_SEED})
        EMU.control("DELETE", "/_emulator/faults")

    def ok(self, *args, runner=aws):
        rc, out, err = runner(*args)
        self.assertEqual(rc, 0, f"aws {' '.join(args)}: {err}")
        return out

    def fails(self, code, *args):
        rc, _, err = aws(*args)
        self.assertNotEqual(rc, 0)
        self.assertIn(f"An error occurred ({code})", err)
        return err

    def newest_snapshot(self):
        out = self.ok("rds", "describe-db-snapshots", "--db-instance-identifier", "production-db",
                      "--snapshot-type", "automated")
        return max(out["DBSnapshots"], key=lambda s: parse_time(s["SnapshotCreateTime"]))

    # ------------------------------------------------------------ the real binary
    def test_binary(self):
        out = self.ok("rds", "describe-db-instances", "--db-instance-identifier",
                      "production-db", runner=aws_process)
        inst = out["DBInstances"][0]
        self.assertEqual(inst["DBInstanceIdentifier"], "production-db")
        self.assertEqual(inst["Endpoint"]["Port"], 5432)
        self.assertIsInstance(inst["StorageEncrypted"], bool)
        out = self.ok("rds", "describe-db-snapshots", "--db-instance-identifier", "production-db",
                      "--query", "DBSnapshots[0].DBSnapshotIdentifier", runner=aws_process)
        self.assertIsInstance(out, str)
        rc, _, err = aws_process("rds", "describe-db-instances", "--db-instance-identifier",
                                 "no-such-db")
        self.assertEqual(rc, 254, err)
        self.assertIn("An error occurred (DBInstanceNotFound) when calling the "
                      "DescribeDBInstances operation", err)
        self.assertIn("DBInstance no-such-db not found.", err)

    # ------------------------------------------------------------ describes
    def test_describe_db_snapshots(self):
        out = self.ok("rds", "describe-db-snapshots", "--db-instance-identifier", "production-db")
        snaps = out["DBSnapshots"]
        types = {s["SnapshotType"] for s in snaps}
        self.assertEqual(types, {"automated", "manual", "awsbackup"})
        for s in snaps:
            for field in ("DBSnapshotIdentifier", "DBSnapshotArn", "SnapshotCreateTime",
                          "Engine", "EngineVersion", "Status", "Encrypted", "KmsKeyId",
                          "Port", "AllocatedStorage", "TagList"):
                self.assertIn(field, s)
            parse_time(s["SnapshotCreateTime"])
        newest = self.newest_snapshot()
        self.assertRegex(newest["DBSnapshotIdentifier"],
                         r"^rds:production-db-\d{4}-\d\d-\d\d-\d\d-\d\d$")
        out = self.ok("rds", "describe-db-snapshots", "--snapshot-type", "shared")
        self.assertEqual(len(out["DBSnapshots"]), 1)
        out = self.ok("rds", "describe-db-snapshots", "--filters",
                      "Name=db-instance-id,Values=production-db",
                      "Name=snapshot-type,Values=manual,awsbackup")
        self.assertEqual({s["SnapshotType"] for s in out["DBSnapshots"]},
                         {"manual", "awsbackup"})

    def test_pagination(self):
        EMU.control("POST", "/_emulator/seed", {"path": MANY})
        # awscli's own paginator over Marker: all 252 snapshots, no duplicates.
        out = self.ok("rds", "describe-db-snapshots", "--db-instance-identifier", "production-db",
                      "--page-size", "100")
        ids = [s["DBSnapshotIdentifier"] for s in out["DBSnapshots"]]
        self.assertEqual(len(ids), 252)
        self.assertEqual(len(set(ids)), 252)
        calls = EMU.calls(action="DescribeDBSnapshots")
        self.assertEqual(len(calls), 3)
        self.assertEqual([c["params"].get("MaxRecords") for c in calls], [100, 100, 100])
        # --max-items / --starting-token
        first = self.ok("rds", "describe-db-snapshots", "--db-instance-identifier",
                        "production-db", "--max-items", "30", "--page-size", "20")
        self.assertEqual(len(first["DBSnapshots"]), 30)
        second = self.ok("rds", "describe-db-snapshots", "--db-instance-identifier",
                         "production-db", "--max-items", "30", "--page-size", "20",
                         "--starting-token", first["NextToken"])
        both = [s["DBSnapshotIdentifier"] for s in first["DBSnapshots"] + second["DBSnapshots"]]
        self.assertEqual(len(set(both)), 60)
        # --no-paginate + --marker: the raw Marker element.
        page = self.ok("rds", "describe-db-snapshots", "--no-paginate", "--max-records", "20")
        self.assertEqual(len(page["DBSnapshots"]), 20)
        self.assertIn("Marker", page)
        page2 = self.ok("rds", "describe-db-snapshots", "--no-paginate", "--max-records", "20",
                        "--marker", page["Marker"])
        self.assertFalse({s["DBSnapshotIdentifier"] for s in page["DBSnapshots"]} &
                         {s["DBSnapshotIdentifier"] for s in page2["DBSnapshots"]})
        self.fails("InvalidParameterValue", "rds", "describe-db-snapshots", "--no-paginate",
                   "--max-records", "10")

    def test_describe_db_cluster_snapshots(self):
        out = self.ok("rds", "describe-db-cluster-snapshots", "--db-cluster-identifier",
                      "production-aurora")
        snaps = out["DBClusterSnapshots"]
        self.assertEqual(len(snaps), 8)
        for s in snaps:
            for field in ("DBClusterSnapshotIdentifier", "DBClusterSnapshotArn", "Engine",
                          "EngineVersion", "StorageEncrypted", "SnapshotCreateTime",
                          "AvailabilityZones"):
                self.assertIn(field, s)
        out = self.ok("rds", "describe-db-cluster-snapshots", "--include-shared",
                      "--snapshot-type", "shared")
        self.assertTrue(out["DBClusterSnapshots"][0]["DBClusterSnapshotArn"].startswith(
            "arn:aws:rds:us-east-1:210987654321:cluster-snapshot:"))

    def test_describe_db_instances_and_clusters(self):
        out = self.ok("rds", "describe-db-instances")
        names = {i["DBInstanceIdentifier"] for i in out["DBInstances"]}
        self.assertTrue({"production-db", "billing-db", "dblab-refresh-legacy",
                         "production-aurora-writer"} <= names)
        inst = [i for i in out["DBInstances"] if i["DBInstanceIdentifier"] == "production-db"][0]
        self.assertEqual(inst["DBSubnetGroup"]["Subnets"][0]["SubnetStatus"], "Active")
        self.assertEqual(inst["VpcSecurityGroups"][0]["Status"], "active")
        self.assertEqual(inst["TagList"][0]["Key"], "Environment")
        out = self.ok("rds", "describe-db-clusters", "--db-cluster-identifier",
                      "production-aurora")
        cl = out["DBClusters"][0]
        self.assertEqual(cl["Engine"], "aurora-postgresql")
        self.assertEqual(len(cl["DBClusterMembers"]), 2)
        self.assertIn("ReaderEndpoint", cl)
        self.assertIsInstance(cl["DBClusterMembers"][0]["IsClusterWriter"], bool)
        self.fails("DBClusterNotFoundFault", "rds", "describe-db-clusters",
                   "--db-cluster-identifier", "nope")

    # ------------------------------------------------------------ preflight describes
    def test_preflight_describes(self):
        """What the preflight reads before a restore: awscli parses each answer with
        the model, so names, list members and types are AWS's."""
        out = self.ok("rds", "describe-db-subnet-groups", "--db-subnet-group-name",
                      "dblab-clones")
        self.assertEqual(out["DBSubnetGroups"][0]["DBSubnetGroupName"], "dblab-clones")
        self.assertEqual(out["DBSubnetGroups"][0]["Subnets"][0]["SubnetStatus"], "Active")
        self.assertIn("DBSubnetGroup 'default-vpc' not found.", self.fails(
            "DBSubnetGroupNotFoundFault", "rds", "describe-db-subnet-groups",
            "--db-subnet-group-name", "default-vpc"))
        out = self.ok("rds", "describe-db-parameter-groups", "--db-parameter-group-name",
                      "dblab-clone-postgres16")
        self.assertEqual(out["DBParameterGroups"][0]["DBParameterGroupFamily"], "postgres16")
        self.fails("DBParameterGroupNotFound", "rds", "describe-db-parameter-groups",
                   "--db-parameter-group-name", "nope")
        out = self.ok("rds", "describe-db-cluster-parameter-groups",
                      "--db-cluster-parameter-group-name", "dblab-clone-aurora-postgresql16")
        self.assertEqual(out["DBClusterParameterGroups"][0]["DBParameterGroupFamily"],
                         "aurora-postgresql16")
        self.fails("DBParameterGroupNotFound", "rds", "describe-db-cluster-parameter-groups",
                   "--db-cluster-parameter-group-name", "nope")
        out = self.ok("rds", "describe-option-groups", "--option-group-name",
                      "default:postgres-16")
        og = out["OptionGroupsList"][0]
        self.assertEqual((og["EngineName"], og["MajorEngineVersion"]), ("postgres", "16"))
        self.fails("OptionGroupNotFoundFault", "rds", "describe-option-groups",
                   "--option-group-name", "nope")
        out = self.ok("rds", "describe-db-engine-versions", "--engine", "postgres",
                      "--engine-version", "16.4")
        self.assertEqual(out["DBEngineVersions"][0]["DBParameterGroupFamily"], "postgres16")
        out = self.ok("rds", "describe-orderable-db-instance-options", "--engine", "postgres",
                      "--engine-version", "16.4", "--db-instance-class", "db.t3.medium")
        opt = out["OrderableDBInstanceOptions"]
        self.assertEqual(len(opt), 1)
        self.assertIs(opt[0]["Vpc"], True)
        self.assertEqual(opt[0]["AvailabilityZones"][0]["Name"], "us-east-1a")
        # not orderable: an empty list, no error (as AWS answers)
        for engine, cls in (("postgres", "db.m1.small"), ("postgres", "db.t2.small"),
                            ("aurora-postgresql", "db.t3.micro")):
            out = self.ok("rds", "describe-orderable-db-instance-options", "--engine", engine,
                          "--engine-version", "16.4", "--db-instance-class", cls)
            self.assertEqual(out["OrderableDBInstanceOptions"], [], cls)
        # every page: awscli follows the Marker itself
        out = self.ok("rds", "describe-orderable-db-instance-options", "--engine", "postgres")
        self.assertGreater(len(out["OrderableDBInstanceOptions"]), 100)
        self.assertEqual(len({(o["EngineVersion"], o["DBInstanceClass"])
                              for o in out["OrderableDBInstanceOptions"]}),
                         len(out["OrderableDBInstanceOptions"]))
        self.fails("InvalidParameterValue", "rds", "describe-orderable-db-instance-options",
                   "--engine", "postgress")

    # ------------------------------------------------------------ RDS instance path
    def test_instance_restore_modify_tag_delete(self):
        snap = self.newest_snapshot()
        name = "dblab-refresh-20260102-020304"
        out = self.ok("rds", "restore-db-instance-from-db-snapshot",
                      "--db-instance-identifier", name,
                      "--db-snapshot-identifier", snap["DBSnapshotIdentifier"],
                      "--db-instance-class", "db.t4g.medium",
                      "--db-subnet-group-name", "dblab-clones",
                      "--vpc-security-group-ids", "sg-0a1b2c3d4e5f60718", "sg-0fedcba9876543210",
                      "--db-parameter-group-name", "dblab-clone-postgres16",
                      "--no-publicly-accessible", "--no-multi-az", "--no-deletion-protection",
                      "--tags", "Key=ManagedBy,Value=dblab-rds-refresh", "Key=AutoDelete,Value=true")
        inst = out["DBInstance"]
        self.assertEqual(inst["DBInstanceStatus"], "creating")
        self.assertEqual([g["VpcSecurityGroupId"] for g in inst["VpcSecurityGroups"]],
                         ["sg-0a1b2c3d4e5f60718", "sg-0fedcba9876543210"])
        self.assertEqual(inst["DBParameterGroups"][0]["DBParameterGroupName"],
                         "dblab-clone-postgres16")
        self.fails("DBInstanceAlreadyExists", "rds", "restore-db-instance-from-db-snapshot",
                   "--db-instance-identifier", name,
                   "--db-snapshot-identifier", snap["DBSnapshotIdentifier"])
        EMU.advance(3600)
        out = self.ok("rds", "describe-db-instances", "--db-instance-identifier", name)
        inst = out["DBInstances"][0]
        self.assertEqual(inst["DBInstanceStatus"], "available")
        self.assertTrue(inst["Endpoint"]["Address"].startswith(name + "."))
        arn = inst["DBInstanceArn"]
        self.ok("rds", "add-tags-to-resource", "--resource-name", arn, "--tags",
                "Key=DeleteAfter,Value=2026-01-03T02:03:04Z")
        tags = self.ok("rds", "list-tags-for-resource", "--resource-name", arn)["TagList"]
        self.assertEqual({t["Key"] for t in tags}, {"ManagedBy", "AutoDelete", "DeleteAfter"})
        self.ok("rds", "remove-tags-from-resource", "--resource-name", arn, "--tag-keys",
                "AutoDelete")
        out = self.ok("rds", "modify-db-instance", "--db-instance-identifier", name,
                      "--deletion-protection", "--apply-immediately")
        self.assertTrue(out["DBInstance"]["DeletionProtection"])
        self.fails("InvalidParameterCombination", "rds", "delete-db-instance",
                   "--db-instance-identifier", name, "--skip-final-snapshot")
        self.ok("rds", "modify-db-instance", "--db-instance-identifier", name,
                "--no-deletion-protection", "--apply-immediately")
        out = self.ok("rds", "delete-db-instance", "--db-instance-identifier", name,
                      "--skip-final-snapshot", "--delete-automated-backups")
        self.assertEqual(out["DBInstance"]["DBInstanceStatus"], "deleting")
        EMU.advance(3600)
        self.fails("DBInstanceNotFound", "rds", "describe-db-instances",
                   "--db-instance-identifier", name)

    def test_point_in_time_and_create(self):
        out = self.ok("rds", "restore-db-instance-to-point-in-time",
                      "--source-db-instance-identifier", "production-db",
                      "--target-db-instance-identifier", "pitr-latest",
                      "--use-latest-restorable-time", "--db-subnet-group-name", "dblab-clones")
        self.assertEqual(out["DBInstance"]["DBInstanceStatus"], "creating")
        when = (datetime.datetime.now(datetime.timezone.utc) -
                datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        out = self.ok("rds", "restore-db-instance-to-point-in-time",
                      "--source-db-instance-identifier", "production-db",
                      "--target-db-instance-identifier", "pitr-yesterday",
                      "--restore-time", when)
        self.assertEqual(out["DBInstance"]["DBInstanceIdentifier"], "pitr-yesterday")
        out = self.ok("rds", "create-db-instance", "--db-instance-identifier", "scratch",
                      "--db-instance-class", "db.t3.micro", "--engine", "postgres",
                      "--allocated-storage", "20", "--master-username", "postgres",
                      "--master-user-password", "not-a-real-password")
        self.assertEqual(out["DBInstance"]["DBInstanceStatus"], "creating")

    # ------------------------------------------------------------ Aurora path
    def test_aurora_restore_member_modify_delete(self):
        snaps = self.ok("rds", "describe-db-cluster-snapshots", "--db-cluster-identifier",
                        "production-aurora", "--snapshot-type", "automated")
        snap = max(snaps["DBClusterSnapshots"], key=lambda s: parse_time(s["SnapshotCreateTime"]))
        name = "dblab-refresh-aurora-20260102"
        out = self.ok("rds", "restore-db-cluster-from-snapshot",
                      "--db-cluster-identifier", name,
                      "--snapshot-identifier", snap["DBClusterSnapshotIdentifier"],
                      "--engine", snap["Engine"], "--engine-version", snap["EngineVersion"],
                      "--db-subnet-group-name", "dblab-clones",
                      "--vpc-security-group-ids", "sg-0a1b2c3d4e5f60718",
                      "--db-cluster-parameter-group-name", "dblab-clone-aurora-postgresql16",
                      "--no-deletion-protection",
                      "--tags", "Key=ManagedBy,Value=dblab-rds-refresh")
        self.assertEqual(out["DBCluster"]["Status"], "creating")
        out = self.ok("rds", "create-db-instance", "--db-instance-identifier", name + "-instance",
                      "--db-cluster-identifier", name, "--engine", "aurora-postgresql",
                      "--db-instance-class", "db.r6g.large",
                      "--tags", "Key=ManagedBy,Value=dblab-rds-refresh")
        self.assertEqual(out["DBInstance"]["DBClusterIdentifier"], name)
        EMU.advance(3600)
        cl = self.ok("rds", "describe-db-clusters", "--db-cluster-identifier", name)["DBClusters"][0]
        self.assertEqual(cl["Status"], "available")
        self.assertEqual(cl["DBClusterMembers"][0]["IsClusterWriter"], True)
        self.assertTrue(cl["Endpoint"].startswith(name + ".cluster-"))
        out = self.ok("rds", "modify-db-cluster", "--db-cluster-identifier", name,
                      "--no-deletion-protection", "--apply-immediately")
        self.assertFalse(out["DBCluster"]["DeletionProtection"])
        self.fails("InvalidDBClusterStateFault", "rds", "delete-db-cluster",
                   "--db-cluster-identifier", name, "--skip-final-snapshot")
        self.ok("rds", "delete-db-instance", "--db-instance-identifier", name + "-instance")
        out = self.ok("rds", "delete-db-cluster", "--db-cluster-identifier", name,
                      "--skip-final-snapshot")
        self.assertEqual(out["DBCluster"]["Status"], "deleting")
        out = self.ok("rds", "restore-db-cluster-to-point-in-time",
                      "--db-cluster-identifier", "aurora-cow-clone",
                      "--source-db-cluster-identifier", "production-aurora",
                      "--restore-type", "copy-on-write", "--use-latest-restorable-time")
        self.assertIn("CloneGroupId", out["DBCluster"])

    # ------------------------------------------------------------ point in time (issue 16)
    def test_restorable_window(self):
        now = datetime.datetime.now(datetime.timezone.utc)
        inst = self.ok("rds", "describe-db-instances", "--db-instance-identifier",
                       "production-db")["DBInstances"][0]
        self.assertEqual(inst["BackupRetentionPeriod"], 7)
        latest = parse_time(inst["LatestRestorableTime"])
        self.assertLess(abs((now - latest).total_seconds() - 300), 60)
        out = self.ok("rds", "describe-db-instance-automated-backups",
                      "--db-instance-identifier", "production-db")
        (backup,) = out["DBInstanceAutomatedBackups"]
        self.assertEqual((backup["Status"], backup["DBInstanceIdentifier"], backup["Region"]),
                         ("active", "production-db", "us-east-1"))
        window = backup["RestoreWindow"]
        earliest = parse_time(window["EarliestTime"])
        self.assertLess(earliest, parse_time(window["LatestTime"]))
        self.assertGreater((now - earliest).days, 5)
        self.assertTrue(backup["DBInstanceAutomatedBackupsArn"].startswith(
            "arn:aws:rds:us-east-1:123456789012:auto-backup:ab-"))
        self.fails("DBInstanceAutomatedBackupNotFound", "rds",
                   "describe-db-instance-automated-backups", "--db-instance-identifier", "nope")
        cl = self.ok("rds", "describe-db-clusters", "--db-cluster-identifier",
                     "production-aurora")["DBClusters"][0]
        self.assertLess(parse_time(cl["EarliestRestorableTime"]),
                        parse_time(cl["LatestRestorableTime"]))
        before = (earliest - datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        err = self.fails("InvalidRestoreFault", "rds", "restore-db-instance-to-point-in-time",
                         "--source-db-instance-identifier", "production-db",
                         "--target-db-instance-identifier", "too-early", "--restore-time", before)
        self.assertIn("outside the restorable window", err)
        self.fails("InvalidRestoreFault", "rds", "restore-db-cluster-to-point-in-time",
                   "--db-cluster-identifier", "too-early", "--source-db-cluster-identifier",
                   "production-aurora", "--restore-type", "full-copy", "--restore-to-time", before)
        # No automated backups: no point in time.
        self.ok("rds", "create-db-instance", "--db-instance-identifier", "no-backups",
                "--db-instance-class", "db.t3.micro", "--engine", "postgres",
                "--allocated-storage", "20", "--master-username", "postgres",
                "--master-user-password", "not-a-real-password", "--backup-retention-period", "0")
        EMU.advance(3600)
        self.fails("PointInTimeRestoreNotEnabled", "rds", "restore-db-instance-to-point-in-time",
                   "--source-db-instance-identifier", "no-backups",
                   "--target-db-instance-identifier", "x", "--use-latest-restorable-time")
        self.fails("DBInstanceAutomatedBackupNotFound", "rds",
                   "describe-db-instance-automated-backups", "--db-instance-identifier",
                   "no-backups")

    def test_copy_on_write_is_faster(self):
        for name, kind in (("cow-clone", "copy-on-write"), ("full-copy", "full-copy")):
            out = self.ok("rds", "restore-db-cluster-to-point-in-time",
                          "--db-cluster-identifier", name, "--source-db-cluster-identifier",
                          "production-aurora", "--restore-type", kind,
                          "--use-latest-restorable-time")
            self.assertEqual(out["DBCluster"]["Status"], "creating")
        EMU.advance(120)
        status = {c["DBClusterIdentifier"]: c["Status"] for c in
                  self.ok("rds", "describe-db-clusters")["DBClusters"]}
        self.assertEqual((status["cow-clone"], status["full-copy"]), ("available", "creating"))

    def test_managed_master_password(self):
        out = self.ok("rds", "restore-db-instance-to-point-in-time",
                      "--source-db-instance-identifier", "production-db",
                      "--target-db-instance-identifier", "managed-clone",
                      "--use-latest-restorable-time")
        self.assertNotIn("MasterUserSecret", out["DBInstance"])
        self.fails("InvalidDBInstanceState", "rds", "modify-db-instance",
                   "--db-instance-identifier", "managed-clone", "--manage-master-user-password",
                   "--apply-immediately")
        EMU.advance(3600)
        self.fails("InvalidParameterCombination", "rds", "modify-db-instance",
                   "--db-instance-identifier", "managed-clone", "--manage-master-user-password",
                   "--master-user-password", "not-a-real-password", "--apply-immediately")
        inst = self.ok("rds", "modify-db-instance", "--db-instance-identifier", "managed-clone",
                       "--manage-master-user-password", "--apply-immediately")["DBInstance"]
        self.assertEqual(inst["DBInstanceStatus"], "resetting-master-credentials")
        secret = inst["MasterUserSecret"]
        self.assertEqual(secret["SecretStatus"], "creating")
        self.assertRegex(secret["SecretArn"],
                         r"^arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-"
                         r"[0-9a-f-]{36}-[0-9a-f]{6}$")
        self.assertTrue(secret["KmsKeyId"].startswith("arn:aws:kms:us-east-1:123456789012:key/"))
        value = self.ok("secretsmanager", "get-secret-value", "--secret-id", secret["SecretArn"])
        creds = json.loads(value["SecretString"])
        self.assertEqual(creds["username"], "postgres")
        self.assertGreaterEqual(len(creds["password"]), 20)
        EMU.advance(600)
        inst = self.ok("rds", "describe-db-instances", "--db-instance-identifier",
                       "managed-clone")["DBInstances"][0]
        self.assertEqual((inst["DBInstanceStatus"], inst["MasterUserSecret"]["SecretStatus"]),
                         ("available", "active"))
        # RDS deletes the secret with the DB (RDS User Guide, rds-secrets-manager).
        self.ok("rds", "delete-db-instance", "--db-instance-identifier", "managed-clone",
                "--skip-final-snapshot")
        EMU.advance(3600)
        self.fails("ResourceNotFoundException", "secretsmanager", "get-secret-value",
                   "--secret-id", secret["SecretArn"])

        self.ok("rds", "restore-db-cluster-to-point-in-time", "--db-cluster-identifier",
                "managed-cluster", "--source-db-cluster-identifier", "production-aurora",
                "--restore-type", "copy-on-write", "--use-latest-restorable-time")
        EMU.advance(3600)
        cl = self.ok("rds", "modify-db-cluster", "--db-cluster-identifier", "managed-cluster",
                     "--manage-master-user-password", "--apply-immediately")["DBCluster"]
        self.assertEqual(cl["Status"], "resetting-master-credentials")
        arn = cl["MasterUserSecret"]["SecretArn"]
        self.assertIn(":secret:rds!cluster-", arn)
        EMU.advance(600)
        cl = self.ok("rds", "describe-db-clusters", "--db-cluster-identifier",
                     "managed-cluster")["DBClusters"][0]
        self.assertEqual((cl["Status"], cl["MasterUserSecret"]["SecretStatus"]),
                         ("available", "active"))
        self.ok("rds", "delete-db-cluster", "--db-cluster-identifier", "managed-cluster",
                "--skip-final-snapshot")
        EMU.advance(3600)
        self.fails("ResourceNotFoundException", "secretsmanager", "get-secret-value",
                   "--secret-id", arn)

    # ------------------------------------------------------------ STS, secrets
    def test_sts(self):
        out = self.ok("sts", "assume-role", "--role-arn",
                      "arn:aws:iam::123456789012:role/dblab-rds-refresh",
                      "--role-session-name", "awscli", "--duration-seconds", "900")
        creds = out["Credentials"]
        self.assertTrue(creds["AccessKeyId"].startswith("ASIA"))
        parse_time(creds["Expiration"].replace("Z", "+00:00"))
        self.assertEqual(out["AssumedRoleUser"]["Arn"],
                         "arn:aws:sts::123456789012:assumed-role/dblab-rds-refresh/awscli")
        out = self.ok("sts", "assume-role-with-web-identity", "--role-arn",
                      "arn:aws:iam::123456789012:role/dblab-rds-refresh-irsa",
                      "--role-session-name", "irsa",
                      "--web-identity-token", "emulator-web-identity-token")
        self.assertIn("SessionToken", out["Credentials"])
        self.assertEqual(out["SubjectFromWebIdentityToken"],
                         "system:serviceaccount:dblab:dblab-rds-refresh")
        self.assertIsNone(EMU.calls(action="AssumeRoleWithWebIdentity")[-1]["accessKeyId"])
        out = self.ok("sts", "get-caller-identity")
        self.assertEqual(out["Account"], "123456789012")

    def test_secrets(self):
        out = self.ok("secretsmanager", "get-secret-value", "--secret-id", "dblab/token")
        self.assertEqual(out["SecretString"], "emulator-dblab-token-from-secretsmanager")
        self.assertTrue(out["ARN"].startswith(
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:dblab/token-"))
        out2 = self.ok("secretsmanager", "get-secret-value", "--secret-id", out["ARN"])
        self.assertEqual(out2["Name"], "dblab/token")
        self.fails("ResourceNotFoundException", "secretsmanager", "get-secret-value",
                   "--secret-id", "dblab/nope")
        out = self.ok("ssm", "get-parameter", "--name", "/dblab/token", "--with-decryption")
        self.assertEqual(out["Parameter"]["Value"], "emulator-dblab-token-from-ssm")
        self.assertEqual(out["Parameter"]["Type"], "SecureString")
        self.fails("ParameterNotFound", "ssm", "get-parameter", "--name", "/dblab/nope")

    def test_throttling_seen_by_awscli(self):
        EMU.fault(action="DescribeDBInstances", type="throttle", count=1)
        self.fails("Throttling", "rds", "describe-db-instances")


if __name__ == "__main__":
    if awscli is None or not os.access(AWS, os.X_OK):
        print("SKIP: Debian's awscli (/usr/bin/aws) is not installed")
        sys.exit(77)
    unittest.main(verbosity=1)
