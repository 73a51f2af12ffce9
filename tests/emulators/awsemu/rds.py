"""The RDS state machine and the Query API operations the project uses.

Resources are dicts keyed by the model's member names (rendered generically by
xmlrender); keys starting with "_" are internal.  Status changes follow a
timeline of (status, duration in AWS seconds) phases driven by the emulator
clock, so --time-scale and /_emulator/advance make a 15-minute restore as fast
as a test needs.  Behaviour and messages follow AWS (see tests/emulators/README.md
for the choices made where AWS documents nothing)."""
import base64
import datetime
import hashlib
import json
import random
import re
import string
import unicodedata
import uuid

from . import catalog
from .errors import AwsError, model_error

UTC = datetime.timezone.utc

# AWS seconds each phase lasts (scaled by the clock); overridable via control API.
DEFAULT_DURATIONS = {
    "instance-creating": 600,
    "instance-backing-up": 180,
    "cluster-instance-creating": 480,
    "cluster-creating": 300,
    # A copy-on-write clone shares the source's storage: only the cluster is made.
    "cluster-clone-creating": 90,
    # Point-in-time: the backup restored, then the logs replayed up to the time.
    "instance-pitr-creating": 720,
    "resetting-master-credentials": 60,
    "modifying": 60,
    "instance-deleting": 240,
    "cluster-deleting": 120,
    "snapshot-creating": 300,
}

_ID_RE = re.compile(r"^[A-Za-z](?!.*--)[A-Za-z0-9-]{0,62}$")
_ARN_RE = re.compile(
    r"^arn:(aws|aws-cn|aws-us-gov):rds:([a-z0-9-]+):(\d{12}):"
    r"(db|cluster|snapshot|cluster-snapshot|subgrp|pg|cluster-pg|og):(.+)$")
# db.<family>.<size>: families are letters+digits+suffix letters (t4g, m6gd, r7i, x2iedn);
# sizes as AWS names them.  Anything else is "Invalid DB Instance class".
_CLASS_RE = re.compile(r"^db\.(serverless|[a-z]+[0-9]+[a-z-]*\.(micro|small|medium|large|"
                       r"xlarge|[0-9]+xlarge|metal|metal-[0-9]+xl|[0-9]+xlarge\.tpc[0-9]\.mem[0-9]x))$")
ENGINES = {"postgres", "mysql", "mariadb", "aurora-postgresql", "aurora-mysql",
           "oracle-ee", "oracle-se2", "sqlserver-ee", "sqlserver-se", "sqlserver-ex",
           "sqlserver-web"}
_MODIFIABLE = {"available", "backing-up", "storage-optimization"}


def invalid(message):
    return AwsError("InvalidParameterValue", message, 400)


def combination(message):
    return AwsError("InvalidParameterCombination", message, 400)


def _rand(n, alphabet=string.ascii_lowercase + string.digits, rng=random):
    return "".join(rng.choice(alphabet) for _ in range(n))


def check_identifier(value, param):
    if not _ID_RE.match(value) or value.endswith("-"):
        raise invalid(f"The parameter {param} is not a valid identifier. Identifiers must "
                      "begin with a letter; must contain only ASCII letters, digits, and "
                      "hyphens; and must not end with a hyphen or contain two consecutive "
                      "hyphens.")
    return value.lower()


def _version(text):
    """'16.4' -> (16, 4) for comparisons; non-numeric parts compare as 0."""
    return tuple(int(x) if x.isdigit() else 0 for x in text.split("."))


def _check_port(port):
    if port is not None and not 1150 <= port <= 65535:
        raise invalid(f"Invalid port {port}: the port must be between 1150 and 65535.")


def _order_key(name):
    """Describe results come back in an order clients must not rely on."""
    return hashlib.sha256(name.encode()).hexdigest()


class Rds:
    def __init__(self, model, clock, region, account, rng=None, secrets=None):
        self.model = model
        # Secrets Manager: where RDS keeps a managed master password (ManageMasterUserPassword).
        self.secrets = secrets
        self.clock = clock
        self.region = region
        self.account = account
        self.rng = rng or random.Random()
        self.durations = dict(DEFAULT_DURATIONS)
        # Eventual consistency: for this many AWS seconds after a create/restore,
        # Describe* do not see the new resource yet (DBInstanceNotFound etc.).
        self.describe_lag = 0.0
        self.endpoint_token = _rand(12, rng=self.rng)
        self.instances = {}
        self.clusters = {}
        self.snapshots = {}          # key: identifier (own) or ARN (shared)
        self.cluster_snapshots = {}
        self.subnet_groups = {}
        self.parameter_groups = {}           # name -> DBParameterGroupFamily
        self.cluster_parameter_groups = {}   # name -> DBParameterGroupFamily
        self.option_groups = {}              # name -> (EngineName, MajorEngineVersion)
        self.security_groups = None  # None = accept any sg-xxxx
        self.kms_keys = {}
        self.outcome_faults = []     # restore-outcome faults, consumed in order

    # ------------------------------------------------------------------ helpers
    def err(self, shape, message):
        return model_error(self.model, shape, message)

    def arn(self, kind, name, account=None):
        return f"arn:aws:rds:{self.region}:{account or self.account}:{kind}:{name}"

    def now(self):
        return self.clock.now()

    def _endpoint(self, name, kind="db"):
        host = {"db": f"{name}.{self.endpoint_token}",
                "cluster": f"{name}.cluster-{self.endpoint_token}",
                "cluster-ro": f"{name}.cluster-ro-{self.endpoint_token}"}[kind]
        return f"{host}.{self.region}.rds.amazonaws.com"

    def _resolve(self, ident, kind, param):
        """An identifier or ARN of this account/region -> lower-case name.
        Returns None for an ARN of another account (shared resources)."""
        m = _ARN_RE.match(ident)
        if not m:
            return ident.lower()
        _, region, account, arn_kind, name = m.groups()
        if arn_kind != kind:
            raise invalid(f"The parameter {param} has an ARN of the wrong resource type "
                          f"({arn_kind}, expected {kind}): {ident}")
        if region != self.region:
            return None
        if account != self.account:
            return None
        return name.lower()

    def duration(self, key):
        return self.durations[key] if isinstance(key, str) else float(key)

    def _start(self, rec, phases):
        """phases: [(status, duration key or seconds)]; the first status is set now,
        the last phase (duration None) persists; a status of None removes the
        resource.  Transitions happen in tick()."""
        status_key = "DBInstanceStatus" if "DBInstanceStatus" in rec else "Status"
        t = self.clock.progress()
        timeline = []
        for i, (status, dur) in enumerate(phases):
            if i > 0:
                timeline.append([status, t])
            if dur is None:
                break
            t += self.duration(dur)
        rec[status_key] = phases[0][0]
        rec["_timeline"] = timeline
        self._entered(rec, phases[0][0])

    def tick(self):
        """Advance every resource to the clock's current progress."""
        p = self.clock.progress()
        for table, key in ((self.instances, "DBInstanceStatus"),
                           (self.clusters, "Status"),
                           (self.snapshots, "Status"),
                           (self.cluster_snapshots, "Status")):
            for name in list(table):
                rec = table[name]
                while rec.get("_timeline") and rec["_timeline"][0][1] <= p:
                    status = rec["_timeline"].pop(0)[0]
                    if status is None:
                        self._gone(table, name, rec)
                        break
                    rec[key] = status
                    self._entered(rec, status)

    def _entered(self, rec, status):
        if status == "available" and rec.get("MasterUserSecret", {}).get("SecretStatus") == "creating":
            rec["MasterUserSecret"]["SecretStatus"] = "active"
        if "DBInstanceIdentifier" in rec and "DBInstanceStatus" in rec:
            if status == "backing-up" and rec.get("BackupRetentionPeriod", 0) > 0:
                self._automated_snapshot(rec, creating=True)
            if status == "available":
                rec["PendingModifiedValues"] = {}
        if "PercentProgress" in rec and status == "available":
            rec["PercentProgress"] = 100

    def _gone(self, table, name, rec):
        del table[name]
        # "If you delete a DB instance that manages a secret in Secrets Manager, the
        # secret and its associated metadata are also deleted" (RDS User Guide,
        # rds-secrets-manager, overview).
        secret = rec.get("MasterUserSecret")
        if secret and self.secrets is not None:
            self.secrets.remove_by_arn(secret["SecretArn"])
        if table is self.instances and rec.get("_writer"):
            # Failover: the first remaining member of the cluster becomes the writer.
            for other in sorted(self.instances):
                inst = self.instances[other]
                if inst.get("DBClusterIdentifier") == rec.get("DBClusterIdentifier") \
                        and inst["DBInstanceStatus"] != "deleting":
                    inst["_writer"] = True
                    break
        if table is self.instances and rec.get("_delete_automated", True):
            for sid in [k for k, s in self.snapshots.items()
                        if s.get("SnapshotType") == "automated"
                        and s.get("DBInstanceIdentifier") == name]:
                del self.snapshots[sid]
        if table is self.clusters:
            for sid in [k for k, s in self.cluster_snapshots.items()
                        if s.get("SnapshotType") == "automated"
                        and s.get("DBClusterIdentifier") == name]:
                del self.cluster_snapshots[sid]

    # ------------------------------------------------------------------ views
    def instance_view(self, rec):
        v = {k: val for k, val in rec.items() if not k.startswith("_")}
        if rec["DBInstanceStatus"] == "creating":
            v.pop("Endpoint", None)
            v.pop("InstanceCreateTime", None)
            v.pop("LatestRestorableTime", None)
        elif rec.get("BackupRetentionPeriod", 0) > 0 and "DBClusterIdentifier" not in rec:
            v["LatestRestorableTime"] = self.now() - datetime.timedelta(minutes=5)
        if "DBClusterIdentifier" in rec:
            v["DBClusterIdentifier"] = rec["DBClusterIdentifier"]
        return v

    def cluster_members(self, cluster_id):
        members = []
        for iid in sorted(self.instances):
            inst = self.instances[iid]
            if inst.get("DBClusterIdentifier") == cluster_id:
                members.append({"DBInstanceIdentifier": iid,
                                "IsClusterWriter": bool(inst.get("_writer")),
                                "DBClusterParameterGroupStatus": "in-sync",
                                "PromotionTier": inst.get("PromotionTier", 1)})
        return members

    def cluster_view(self, rec):
        v = {k: val for k, val in rec.items() if not k.startswith("_")}
        v["DBClusterMembers"] = self.cluster_members(rec["DBClusterIdentifier"])
        if rec["Status"] not in ("creating",):
            v["LatestRestorableTime"] = self.now() - datetime.timedelta(minutes=5)
        else:
            v.pop("EarliestRestorableTime", None)
        return v

    @staticmethod
    def snapshot_view(rec):
        v = {k: val for k, val in rec.items() if not k.startswith("_")}
        if rec["Status"] == "creating":
            # AWS omits the create time until the snapshot completes.
            v.pop("SnapshotCreateTime", None)
        return v

    # ------------------------------------------------------------------ lookups
    def get_instance(self, ident, param="DBInstanceIdentifier"):
        name = self._resolve(ident, "db", param)
        rec = self.instances.get(name) if name else None
        if rec is None:
            raise self.err("DBInstanceNotFoundFault", f"DBInstance {ident} not found.")
        return rec

    def get_cluster(self, ident, param="DBClusterIdentifier"):
        name = self._resolve(ident, "cluster", param)
        rec = self.clusters.get(name) if name else None
        if rec is None:
            raise self.err("DBClusterNotFoundFault", f"DBCluster {ident} not found.")
        return rec

    def get_snapshot(self, ident, param="DBSnapshotIdentifier"):
        rec = self.snapshots.get(ident)  # shared snapshots are keyed by ARN
        if rec is None:
            name = self._resolve(ident, "snapshot", param)
            rec = self.snapshots.get(name) if name else None
        if rec is None:
            raise self.err("DBSnapshotNotFoundFault", f"DBSnapshot {ident} not found.")
        return rec

    def get_cluster_snapshot(self, ident, param="DBClusterSnapshotIdentifier"):
        rec = self.cluster_snapshots.get(ident)
        if rec is None:
            name = self._resolve(ident, "cluster-snapshot", param)
            rec = self.cluster_snapshots.get(name) if name else None
        if rec is None:
            raise self.err("DBClusterSnapshotNotFoundFault",
                           f"DBClusterSnapshot {ident} not found.")
        return rec

    # ------------------------------------------------------------------ pagination
    def _page(self, op, items, params, key):
        max_records = params.get("MaxRecords", 100)
        if not 20 <= max_records <= 100:
            raise invalid(f"Invalid value {max_records} for MaxRecords. "
                          "Must be between 20 and 100")
        items = sorted(items, key=lambda r: _order_key(key(r)))
        start = 0
        marker = params.get("Marker")
        if marker is not None:
            try:
                data = json.loads(base64.b64decode(marker, validate=True))
                if data["op"] != op:
                    raise ValueError
                after = data["after"]
            except (ValueError, KeyError, TypeError):
                raise invalid(f"The parameter Marker is not valid: {marker!r}") from None
            while start < len(items) and _order_key(key(items[start])) <= after:
                start += 1
        page = items[start:start + max_records]
        next_marker = None
        if start + max_records < len(items):
            last = _order_key(key(page[-1]))
            next_marker = base64.b64encode(json.dumps(
                {"op": op, "after": last, "n": _rand(6, rng=self.rng)}).encode()).decode()
        return page, next_marker

    @staticmethod
    def _filters(params, allowed):
        """Filters -> {name: set(values)}; unknown filter names are rejected."""
        out = {}
        for f in params.get("Filters", []):
            name = f["Name"]
            if name not in allowed:
                raise invalid(f"Unrecognized filter name: {name}. Valid filter names: "
                              f"{', '.join(sorted(allowed))}")
            if not f["Values"]:
                raise invalid(f"The filter {name} needs at least one value.")
            out.setdefault(name, set()).update(f["Values"])
        return out

    def _match_ids(self, ident, values, kind):
        for v in values:
            m = _ARN_RE.match(v)
            if m:
                if m.group(4) == kind and m.group(2) == self.region and \
                        m.group(3) == self.account and m.group(5).lower() == ident:
                    return True
            elif v.lower() == ident:
                return True
        return False

    # ------------------------------------------------------------------ validation
    def _check_class(self, cls):
        if not _CLASS_RE.match(cls):
            raise invalid(f"Invalid DB Instance class: {cls}")

    @staticmethod
    def _tag_text_ok(text):
        """RDS tags: Unicode letters, digits, white space and _ . : / = + - @ only."""
        return all(c.isalnum() or c in " \t\n\r_.:/=+-@" or unicodedata.category(c) == "Zs"
                   for c in text)

    def _check_tags(self, tags):
        keys = set()
        for t in tags:
            for part in (t.get("Key") or "", t.get("Value") or ""):
                if not self._tag_text_ok(part):
                    raise invalid(f"Invalid tag {part!r}: tags may contain only Unicode "
                                  "letters, digits, white space, and _ . : / = + - @")
            k = t.get("Key")
            if k is None:
                raise AwsError("MissingParameter", "Tag keys must not be empty", 400)
            if not 1 <= len(k) <= 128 or k.lower().startswith("aws:"):
                raise invalid(f"Invalid tag key {k!r}: 1-128 characters, must not "
                              "start with 'aws:'")
            if len(t.get("Value", "")) > 256:
                raise invalid(f"Invalid tag value for key {k!r}: at most 256 characters")
            if k in keys:
                raise invalid(f"Tag key {k!r} is given more than once")
            keys.add(k)
        return [{"Key": t["Key"], "Value": t.get("Value", "")} for t in tags]

    @staticmethod
    def _merge_tags(existing, new):
        out = [dict(t) for t in existing]
        for t in new:
            for o in out:
                if o["Key"] == t["Key"]:
                    o["Value"] = t["Value"]
                    break
            else:
                out.append(dict(t))
        if len(out) > 50:
            raise invalid("A resource can have at most 50 tags")
        return out

    def _subnet_group(self, name):
        if name is None:
            name = "default"
        group = self.subnet_groups.get(name.lower())
        if group is None:
            raise self.err("DBSubnetGroupNotFoundFault", f"DBSubnetGroup {name!r} not found.")
        return group

    def _vpc_groups(self, ids, fallback):
        if ids is None:
            return [dict(g) for g in fallback]
        out = []
        for sg in ids:
            if not re.match(r"^sg-[0-9a-f]{8,17}$", sg) or (
                    self.security_groups is not None and sg not in self.security_groups):
                raise invalid(f"Invalid security group , groupId= {sg}, groupName=.")
            out.append({"VpcSecurityGroupId": sg, "Status": "active"})
        return out

    def _existing_group(self, name, default, known, code, what):
        """A group named in a request: default when absent, else its lower-cased name
        (as RDS stores it) when it exists, else AWS's not-found error."""
        if name is None:
            return default
        if name.lower() not in known:
            raise self.err(code, f"{what} not found: {name}")
        return name.lower()

    def _param_group(self, name, default):
        return self._existing_group(name, default, self.parameter_groups,
                                    "DBParameterGroupNotFoundFault", "DBParameterGroup")

    def _cluster_param_group(self, name, default):
        return self._existing_group(name, default, self.cluster_parameter_groups,
                                    "DBClusterParameterGroupNotFoundFault",
                                    "DBClusterParameterGroup")

    def _option_group(self, name, default):
        return self._existing_group(name, default, self.option_groups,
                                    "OptionGroupNotFoundFault", "Specified OptionGroupName")

    def _az(self, az):
        if az is None:
            return f"{self.region}{self.rng.choice('abcdf')}"
        if not re.match(rf"^{re.escape(self.region)}[a-f]$", az):
            raise invalid(f"Cannot find availability zone {az} in region {self.region}")
        return az

    def _restore_time(self, params, source_view, name_time, use_latest_name,
                      earliest, latest):
        when = params.get(name_time)
        if when is not None and params.get(use_latest_name):
            raise combination(f"Cannot specify both {name_time} and "
                              f"{use_latest_name}=true")
        if when is None:
            if not params.get(use_latest_name):
                raise combination(f"Either {name_time} or {use_latest_name}=true "
                                  "must be specified")
            return latest
        if earliest is None or not earliest <= when <= latest:
            raise self.err("InvalidRestoreFault",
                           f"Restore time {when.isoformat()} is outside the restorable "
                           f"window of {source_view}")
        return when

    def _outcome(self, kind):
        """Consume a pending restore-outcome fault for a create of `kind`."""
        for f in self.outcome_faults:
            if f["left"] > 0 and f.get("resource", "any") in ("any", kind):
                f["left"] -= 1
                f["hits"] = f.get("hits", 0) + 1
                return f
        return None

    def _phases_for_new(self, kind, backing_up, creating_key=None):
        """Phases for a new instance (kind instance|cluster-instance) or cluster;
        creating_key overrides the creating phase's duration key."""
        creating_key = creating_key or {"instance": "instance-creating",
                                        "cluster-instance": "cluster-instance-creating",
                                        "cluster": "cluster-creating"}[kind]
        fault = self._outcome("cluster" if kind == "cluster" else "instance")
        if fault:
            dur = fault.get("durationSeconds", creating_key)
            if fault["status"] == "stuck":
                return [("creating", None)]
            return [("creating", dur), (fault["status"], None)]
        if backing_up:
            return [("creating", creating_key), ("backing-up", "instance-backing-up"),
                    ("available", None)]
        return [("creating", creating_key), ("available", None)]

    # ------------------------------------------------------------------ builders
    def new_instance(self, name, base, params, cluster=None, status="creating"):
        """Build an instance record; base supplies engine/storage defaults."""
        subnet = self._subnet_group(params.get("DBSubnetGroupName")
                                    or base.get("_subnet_group"))
        if cluster is not None and params.get("DBSubnetGroupName") and \
                params["DBSubnetGroupName"].lower() != cluster["DBSubnetGroup"].lower():
            raise combination("The DB instance and the DB cluster must be in the same "
                              "DB subnet group.")
        multi_az = params.get("MultiAZ", False)
        if multi_az and params.get("AvailabilityZone"):
            raise combination("Requesting a specific availability zone is not valid "
                              "for Multi-AZ instances.")
        az = self._az(params.get("AvailabilityZone"))
        engine = base["Engine"]
        _check_port(params.get("Port"))
        port = params.get("Port", base.get("Port", 5432))
        now = self.now()
        rec = {
            "DBInstanceIdentifier": name,
            "DBInstanceClass": params.get("DBInstanceClass", base.get("DBInstanceClass",
                                                                      "db.t3.micro")),
            "Engine": engine,
            "DBInstanceStatus": status,
            "MasterUsername": base.get("MasterUsername", "postgres"),
            "Endpoint": {"Address": self._endpoint(name), "Port": port,
                         "HostedZoneId": "Z2R2ITUGPM61AM"},
            "AllocatedStorage": 1 if cluster else params.get(
                "AllocatedStorage", base.get("AllocatedStorage", 20)),
            "InstanceCreateTime": now,
            "PreferredBackupWindow": base.get("PreferredBackupWindow", "03:00-03:30"),
            "BackupRetentionPeriod": (cluster or base).get("BackupRetentionPeriod", 7)
            if params.get("BackupRetentionPeriod") is None else params["BackupRetentionPeriod"],
            "DBSecurityGroups": [],
            "VpcSecurityGroups": self._vpc_groups(
                params.get("VpcSecurityGroupIds"),
                (cluster or base).get("VpcSecurityGroups") or
                [{"VpcSecurityGroupId": "sg-0a1b2c3d4e5f60718", "Status": "active"}]),
            "DBParameterGroups": [{
                "DBParameterGroupName": self._param_group(
                    params.get("DBParameterGroupName"),
                    base.get("_parameter_group", f"default.{engine}16")),
                "ParameterApplyStatus": "in-sync"}],
            "AvailabilityZone": az,
            "DBSubnetGroup": subnet,
            "PreferredMaintenanceWindow": "sun:05:00-sun:05:30",
            "PendingModifiedValues": {},
            "MultiAZ": multi_az,
            "EngineVersion": base.get("EngineVersion", "16.3"),
            "AutoMinorVersionUpgrade": params.get("AutoMinorVersionUpgrade", True),
            "ReadReplicaDBInstanceIdentifiers": [],
            "LicenseModel": "postgresql-license" if "postgres" in engine else
            "general-public-license",
            "OptionGroupMemberships": [{
                "OptionGroupName": self._option_group(
                    params.get("OptionGroupName"),
                    f"default:{engine}-{base.get('EngineVersion', '16').split('.')[0]}"),
                "Status": "in-sync"}],
            "PubliclyAccessible": params.get("PubliclyAccessible", False),
            "StorageType": params.get("StorageType", base.get("StorageType", "gp3")
                                      if not cluster else "aurora"),
            "DbInstancePort": 0,
            "StorageEncrypted": bool((cluster or base).get("StorageEncrypted",
                                                           base.get("Encrypted", False))),
            "DbiResourceId": "db-" + _rand(26, string.ascii_uppercase + string.digits,
                                           self.rng),
            "CACertificateIdentifier": "rds-ca-rsa2048-g1",
            "DomainMemberships": [],
            "CopyTagsToSnapshot": params.get("CopyTagsToSnapshot", False),
            "MonitoringInterval": 0,
            "PromotionTier": params.get("PromotionTier", 1),
            "DBInstanceArn": self.arn("db", name),
            "IAMDatabaseAuthenticationEnabled": params.get(
                "EnableIAMDatabaseAuthentication", False),
            "PerformanceInsightsEnabled": False,
            "DeletionProtection": params.get("DeletionProtection", False),
            "AssociatedRoles": [],
            "TagList": self._check_tags(params.get("Tags", [])),
            "CustomerOwnedIpEnabled": False,
            "BackupTarget": "region",
            "NetworkType": "IPV4",
        }
        if rec["StorageEncrypted"]:
            rec["KmsKeyId"] = (cluster or base).get("KmsKeyId")
        if params.get("Iops") is not None:
            rec["Iops"] = params["Iops"]
        elif base.get("Iops") is not None and not cluster:
            rec["Iops"] = base["Iops"]
        if cluster is not None:
            rec["DBClusterIdentifier"] = cluster["DBClusterIdentifier"]
            rec["_writer"] = not any(
                i.get("DBClusterIdentifier") == cluster["DBClusterIdentifier"]
                and i.get("_writer") and i["DBInstanceStatus"] != "deleting"
                for i in self.instances.values())
        rec["_subnet_group"] = subnet["DBSubnetGroupName"]
        return rec

    def new_cluster(self, name, base, params, status="creating"):
        engine = base["Engine"]
        _check_port(params.get("Port"))
        subnet = self._subnet_group(params.get("DBSubnetGroupName")
                                    or base.get("_subnet_group"))
        now = self.now()
        kms = params.get("KmsKeyId") or base.get("KmsKeyId")
        encrypted = bool(base.get("StorageEncrypted") or params.get("KmsKeyId"))
        if kms and kms not in self.kms_keys.values() and kms not in self.kms_keys:
            raise self.err("KMSKeyNotAccessibleFault",
                           f"The specified KMS key {kms} does not exist or is not accessible.")
        kms = self.kms_keys.get(kms, kms)
        rec = {
            "AllocatedStorage": 1,
            "AvailabilityZones": [f"{self.region}a", f"{self.region}b", f"{self.region}c"],
            "BackupRetentionPeriod": base.get("BackupRetentionPeriod", 7),
            "DBClusterIdentifier": name,
            "DBClusterParameterGroup": self._cluster_param_group(
                params.get("DBClusterParameterGroupName"),
                base.get("DBClusterParameterGroup", f"default.{engine}16")),
            "DBSubnetGroup": subnet["DBSubnetGroupName"],
            "Status": status,
            "EarliestRestorableTime": now,
            "Endpoint": self._endpoint(name, "cluster"),
            "ReaderEndpoint": self._endpoint(name, "cluster-ro"),
            "MultiAZ": False,
            "Engine": engine,
            "EngineVersion": params.get("EngineVersion") or base.get("EngineVersion"),
            "Port": params.get("Port", base.get("Port", 5432)),
            "MasterUsername": base.get("MasterUsername", "postgres"),
            "DBClusterOptionGroupMemberships": [],
            "PreferredBackupWindow": base.get("PreferredBackupWindow", "03:00-03:30"),
            "PreferredMaintenanceWindow": "sun:05:00-sun:05:30",
            "ReadReplicaIdentifiers": [],
            "VpcSecurityGroups": self._vpc_groups(
                params.get("VpcSecurityGroupIds"),
                base.get("VpcSecurityGroups") or
                [{"VpcSecurityGroupId": "sg-0a1b2c3d4e5f60718", "Status": "active"}]),
            "HostedZoneId": "Z2R2ITUGPM61AM",
            "StorageEncrypted": encrypted,
            "DbClusterResourceId": "cluster-" + _rand(
                26, string.ascii_uppercase + string.digits, self.rng),
            "DBClusterArn": self.arn("cluster", name),
            "AssociatedRoles": [],
            "IAMDatabaseAuthenticationEnabled": params.get(
                "EnableIAMDatabaseAuthentication", False),
            "ClusterCreateTime": now,
            "EngineMode": params.get("EngineMode", "provisioned"),
            "DeletionProtection": params.get("DeletionProtection", False),
            "HttpEndpointEnabled": False,
            "CopyTagsToSnapshot": params.get("CopyTagsToSnapshot", False),
            "CrossAccountClone": False,
            "DomainMemberships": [],
            "TagList": self._check_tags(params.get("Tags", [])),
            "AutoMinorVersionUpgrade": True,
            "NetworkType": "IPV4",
        }
        if encrypted:
            rec["KmsKeyId"] = kms
        rec["_subnet_group"] = subnet["DBSubnetGroupName"]
        return rec

    def _automated_snapshot(self, inst, creating=False, when=None):
        when = when or self.now()
        sid = f"rds:{inst['DBInstanceIdentifier']}-{when:%Y-%m-%d-%H-%M}"
        snap = self.snapshot_from_instance(inst, sid, "automated", when)
        if creating:
            snap["Status"] = "creating"
            snap["PercentProgress"] = 0
            self._start(snap, [("creating", "snapshot-creating"), ("available", None)])
        self.snapshots[sid] = snap
        return snap

    def snapshot_from_instance(self, inst, sid, stype, when, account=None, key=None):
        arn = self.arn("snapshot", sid, account)
        return {
            "DBSnapshotIdentifier": arn if account else sid,
            "DBInstanceIdentifier": inst["DBInstanceIdentifier"],
            "SnapshotCreateTime": when,
            "Engine": inst["Engine"],
            "AllocatedStorage": inst["AllocatedStorage"],
            "Status": "available",
            "Port": inst["Endpoint"]["Port"],
            "AvailabilityZone": inst["AvailabilityZone"],
            "VpcId": inst["DBSubnetGroup"]["VpcId"],
            "InstanceCreateTime": inst["InstanceCreateTime"],
            "MasterUsername": inst["MasterUsername"],
            "EngineVersion": inst["EngineVersion"],
            "LicenseModel": inst["LicenseModel"],
            "SnapshotType": stype,
            "OptionGroupName": inst["OptionGroupMemberships"][0]["OptionGroupName"],
            "PercentProgress": 100,
            "StorageType": inst["StorageType"],
            "Encrypted": inst["StorageEncrypted"],
            **({"KmsKeyId": inst["KmsKeyId"]} if inst.get("KmsKeyId") else {}),
            "DBSnapshotArn": arn,
            "IAMDatabaseAuthenticationEnabled": inst["IAMDatabaseAuthenticationEnabled"],
            "ProcessorFeatures": [],
            "DbiResourceId": inst["DbiResourceId"],
            "TagList": [dict(t) for t in inst["TagList"]] if stype != "manual" else [],
            "OriginalSnapshotCreateTime": when,
            "SnapshotTarget": "region",
            "_key": key or sid,
        }

    def cluster_snapshot_from_cluster(self, cl, sid, stype, when, account=None):
        arn = self.arn("cluster-snapshot", sid, account)
        return {
            "AvailabilityZones": list(cl["AvailabilityZones"]),
            "DBClusterSnapshotIdentifier": arn if account else sid,
            "DBClusterIdentifier": cl["DBClusterIdentifier"],
            "SnapshotCreateTime": when,
            "Engine": cl["Engine"],
            "EngineMode": cl.get("EngineMode", "provisioned"),
            "AllocatedStorage": 0,
            "Status": "available",
            "Port": 0,
            "VpcId": self.subnet_groups[cl["_subnet_group"].lower()]["VpcId"],
            "ClusterCreateTime": cl["ClusterCreateTime"],
            "MasterUsername": cl["MasterUsername"],
            "EngineVersion": cl["EngineVersion"],
            "LicenseModel": "aurora-postgresql" if "postgres" in cl["Engine"] else "aurora-mysql",
            "SnapshotType": stype,
            "PercentProgress": 100,
            "StorageEncrypted": cl["StorageEncrypted"],
            **({"KmsKeyId": cl["KmsKeyId"]} if cl.get("KmsKeyId") else {}),
            "DBClusterSnapshotArn": arn,
            "IAMDatabaseAuthenticationEnabled": cl["IAMDatabaseAuthenticationEnabled"],
            "TagList": [dict(t) for t in cl["TagList"]] if stype != "manual" else [],
            "_key": arn if account else sid,
        }

    # ================================================================ operations
    def DescribeDBInstances(self, p):
        filters = self._filters(p, {"db-cluster-id", "db-instance-id", "dbi-resource-id",
                                    "domain", "engine"})
        if "DBInstanceIdentifier" in p:
            rec = self.get_instance(p["DBInstanceIdentifier"])
            if not self._visible(rec):
                raise self.err("DBInstanceNotFoundFault",
                               f"DBInstance {p['DBInstanceIdentifier']} not found.")
            items = [rec]
        else:
            items = [r for r in self.instances.values() if self._visible(r)]
        out = []
        for r in items:
            if "db-instance-id" in filters and not self._match_ids(
                    r["DBInstanceIdentifier"], filters["db-instance-id"], "db"):
                continue
            if "db-cluster-id" in filters and not (
                    r.get("DBClusterIdentifier") and self._match_ids(
                        r["DBClusterIdentifier"], filters["db-cluster-id"], "cluster")):
                continue
            if "dbi-resource-id" in filters and r["DbiResourceId"] not in filters["dbi-resource-id"]:
                continue
            if "engine" in filters and r["Engine"] not in filters["engine"]:
                continue
            if "domain" in filters:
                continue
            out.append(r)
        page, marker = self._page("DescribeDBInstances", out, p,
                                  lambda r: r["DBInstanceIdentifier"])
        res = {"DBInstances": [self.instance_view(r) for r in page]}
        if marker:
            res["Marker"] = marker
        return res

    def DescribeDBClusters(self, p):
        filters = self._filters(p, {"clone-group-id", "db-cluster-id",
                                    "db-cluster-resource-id", "domain", "engine"})
        if "DBClusterIdentifier" in p:
            rec = self.get_cluster(p["DBClusterIdentifier"])
            if not self._visible(rec):
                raise self.err("DBClusterNotFoundFault",
                               f"DBCluster {p['DBClusterIdentifier']} not found.")
            items = [rec]
        else:
            items = [r for r in self.clusters.values() if self._visible(r)]
        out = []
        for r in items:
            if "db-cluster-id" in filters and not self._match_ids(
                    r["DBClusterIdentifier"], filters["db-cluster-id"], "cluster"):
                continue
            if "clone-group-id" in filters and r.get("CloneGroupId") not in filters["clone-group-id"]:
                continue
            if "db-cluster-resource-id" in filters and \
                    r["DbClusterResourceId"] not in filters["db-cluster-resource-id"]:
                continue
            if "engine" in filters and r["Engine"] not in filters["engine"]:
                continue
            if "domain" in filters:
                continue
            out.append(r)
        page, marker = self._page("DescribeDBClusters", out, p,
                                  lambda r: r["DBClusterIdentifier"])
        res = {"DBClusters": [self.cluster_view(r) for r in page]}
        if marker:
            res["Marker"] = marker
        return res

    def _snapshot_types(self, p, cluster=False):
        """The API reference: without SnapshotType, automated and manual (this
        emulator also returns awsbackup ones for DB snapshots, as the console's
        listing does); shared/public only with IncludeShared/IncludePublic.  The
        awsbackup type does not apply to Aurora cluster snapshots."""
        stype = p.get("SnapshotType")
        valid = {"automated", "manual", "shared", "public"} | (set() if cluster else {"awsbackup"})
        if stype is not None and stype not in valid:
            raise invalid(f"Invalid snapshot type: {stype}. Valid values: "
                          f"{', '.join(sorted(valid))}")
        if stype is not None:
            return {stype}
        types = {"automated", "manual"} | (set() if cluster else {"awsbackup"})
        if p.get("IncludeShared"):
            types.add("shared")
        if p.get("IncludePublic"):
            types.add("public")
        return types

    def DescribeDBSnapshots(self, p):
        filters = self._filters(p, {"db-instance-id", "db-snapshot-id", "dbi-resource-id",
                                    "snapshot-type", "engine"})
        types = self._snapshot_types(p)
        if "DBSnapshotIdentifier" in p:
            snap = self.get_snapshot(p["DBSnapshotIdentifier"])
            items = [snap]
            if "SnapshotType" in p and snap["SnapshotType"] not in types:
                items = []
        else:
            items = [s for s in self.snapshots.values() if s["SnapshotType"] in types]
        inst = p.get("DBInstanceIdentifier")
        inst_name = self._resolve(inst, "db", "DBInstanceIdentifier") if inst else None
        out = []
        for s in items:
            if inst is not None and s["DBInstanceIdentifier"] != inst_name:
                continue
            if p.get("DbiResourceId") and s["DbiResourceId"] != p["DbiResourceId"]:
                continue
            if "db-instance-id" in filters and not self._match_ids(
                    s["DBInstanceIdentifier"], filters["db-instance-id"], "db"):
                continue
            if "db-snapshot-id" in filters and not (
                    s["DBSnapshotIdentifier"] in filters["db-snapshot-id"]
                    or s["DBSnapshotArn"] in filters["db-snapshot-id"]):
                continue
            if "dbi-resource-id" in filters and s["DbiResourceId"] not in filters["dbi-resource-id"]:
                continue
            if "snapshot-type" in filters and s["SnapshotType"] not in filters["snapshot-type"]:
                continue
            if "engine" in filters and s["Engine"] not in filters["engine"]:
                continue
            out.append(s)
        page, marker = self._page("DescribeDBSnapshots", out, p, lambda s: s["DBSnapshotArn"])
        res = {"DBSnapshots": [self.snapshot_view(s) for s in page]}
        if marker:
            res["Marker"] = marker
        return res

    def DescribeDBClusterSnapshots(self, p):
        filters = self._filters(p, {"db-cluster-id", "db-cluster-snapshot-id",
                                    "snapshot-type", "engine"})
        types = self._snapshot_types(p, cluster=True)
        if "DBClusterSnapshotIdentifier" in p:
            snap = self.get_cluster_snapshot(p["DBClusterSnapshotIdentifier"])
            items = [snap]
            if "SnapshotType" in p and snap["SnapshotType"] not in types:
                items = []
        else:
            items = [s for s in self.cluster_snapshots.values() if s["SnapshotType"] in types]
        cl = p.get("DBClusterIdentifier")
        cl_name = self._resolve(cl, "cluster", "DBClusterIdentifier") if cl else None
        out = []
        for s in items:
            if cl is not None and s["DBClusterIdentifier"] != cl_name:
                continue
            if "db-cluster-id" in filters and not self._match_ids(
                    s["DBClusterIdentifier"], filters["db-cluster-id"], "cluster"):
                continue
            if "db-cluster-snapshot-id" in filters and not (
                    s["DBClusterSnapshotIdentifier"] in filters["db-cluster-snapshot-id"]
                    or s["DBClusterSnapshotArn"] in filters["db-cluster-snapshot-id"]):
                continue
            if "snapshot-type" in filters and s["SnapshotType"] not in filters["snapshot-type"]:
                continue
            if "engine" in filters and s["Engine"] not in filters["engine"]:
                continue
            out.append(s)
        page, marker = self._page("DescribeDBClusterSnapshots", out, p,
                                  lambda s: s["DBClusterSnapshotArn"])
        res = {"DBClusterSnapshots": [self.snapshot_view(s) for s in page]}
        if marker:
            res["Marker"] = marker
        return res

    # ---------------------------------------------------------------- restores
    def _check_new_instance_name(self, name, param):
        name = check_identifier(name, param)
        if name in self.instances:
            raise self.err("DBInstanceAlreadyExistsFault", "DB instance already exists")
        return name

    def _check_new_cluster_name(self, name):
        name = check_identifier(name, "DBClusterIdentifier")
        if name in self.clusters:
            raise self.err("DBClusterAlreadyExistsFault", "DB Cluster already exists")
        return name

    def _check_engine_family(self, requested, actual):
        if requested is not None and requested != actual:
            raise combination(f"The engine name requested for your DB instance "
                              f"({requested}) doesn't match the engine name of your "
                              f"snapshot ({actual}).")

    def RestoreDBInstanceFromDBSnapshot(self, p):
        name = self._check_new_instance_name(p["DBInstanceIdentifier"], "DBInstanceIdentifier")
        if p.get("DBClusterSnapshotIdentifier"):
            raise combination("Restoring a DB instance from a Multi-AZ DB cluster snapshot "
                              "is not supported by this emulator.")
        if not p.get("DBSnapshotIdentifier"):
            raise combination("One of DBSnapshotIdentifier or DBClusterSnapshotIdentifier "
                              "must be specified.")
        snap = self.get_snapshot(p["DBSnapshotIdentifier"])
        if snap["Status"] != "available":
            raise self.err("InvalidDBSnapshotStateFault",
                           f"Snapshot {snap['DBSnapshotIdentifier']} is not in available "
                           f"state (status {snap['Status']}).")
        self._check_engine_family(p.get("Engine"), snap["Engine"])
        if p.get("DBInstanceClass"):
            self._check_class(p["DBInstanceClass"])
        if snap["Engine"].startswith("aurora"):
            raise combination("Aurora snapshots are cluster snapshots; use "
                              "RestoreDBClusterFromSnapshot.")
        if p.get("Iops") is not None and p.get("StorageType", snap["StorageType"]) \
                not in ("io1", "io2", "gp3"):
            raise combination("Provisioned IOPS is only supported for io1, io2 and gp3 "
                              "storage.")
        # Another account's (shared) snapshot says nothing about our instances.
        source = None if snap["SnapshotType"] == "shared" else \
            self.instances.get(snap["DBInstanceIdentifier"])
        base = dict(source or {})
        base.update({
            "Engine": snap["Engine"], "EngineVersion": snap["EngineVersion"],
            "AllocatedStorage": snap["AllocatedStorage"], "Port": snap["Port"],
            "MasterUsername": snap["MasterUsername"], "StorageType": snap["StorageType"],
            "Encrypted": snap["Encrypted"], "StorageEncrypted": snap["Encrypted"],
            "KmsKeyId": snap.get("KmsKeyId"),
            "DBInstanceClass": (source or {}).get("DBInstanceClass", "db.t3.micro"),
            "BackupRetentionPeriod": 1,
        })
        self._restore_defaults(base)
        rec = self.new_instance(name, base, p)
        self._start_instance(rec, self._phases_for_new("instance", backing_up=True))
        return {"DBInstance": self.instance_view(rec)}

    @staticmethod
    def _restore_defaults(base):
        """Like AWS, a restore does not inherit the source's network placement or
        parameter groups: unless the request names them, the clone gets the
        default DB subnet group, the VPC's default security group and the
        engine's default parameter group."""
        for k in ("_subnet_group", "VpcSecurityGroups", "_parameter_group",
                  "DBClusterParameterGroup", "Iops"):
            base.pop(k, None)

    def _start_instance(self, rec, phases):
        rec["_visible_at"] = self.clock.progress() + self.describe_lag
        self.instances[rec["DBInstanceIdentifier"]] = rec
        self._start(rec, phases)

    def _visible(self, rec):
        return rec.get("_visible_at", 0) <= self.clock.progress()

    def _instance_window(self, source):
        """The restorable window: from the oldest available automated snapshot to
        the latest restorable time (five minutes behind, as RDS's log upload)."""
        autos = [s["SnapshotCreateTime"] for s in self.snapshots.values()
                 if s["SnapshotType"] == "automated" and s["Status"] == "available"
                 and s["DBInstanceIdentifier"] == source["DBInstanceIdentifier"]]
        earliest = min(autos) if autos else None
        return earliest, self.now() - datetime.timedelta(minutes=5)

    def DescribeDBInstanceAutomatedBackups(self, p):
        """The automated backups of this region's instances with a retention period
        (the API reference: current instances with retention > 0 are listed),
        each with its RestoreWindow.  Retained backups of deleted instances are not
        kept by this emulator."""
        if p.get("Filters"):
            raise invalid("The parameter Filters is not supported by this emulator.")
        out = []
        for inst in self.instances.values():
            if inst.get("DBClusterIdentifier") or inst.get("BackupRetentionPeriod", 0) <= 0 \
                    or not self._visible(inst) or inst["DBInstanceStatus"] == "creating":
                continue
            if p.get("DBInstanceIdentifier") and \
                    self._resolve(p["DBInstanceIdentifier"], "db", "DBInstanceIdentifier") != \
                    inst["DBInstanceIdentifier"]:
                continue
            if p.get("DbiResourceId") and p["DbiResourceId"] != inst["DbiResourceId"]:
                continue
            earliest, latest = self._instance_window(inst)
            backup = {
                "DBInstanceArn": inst["DBInstanceArn"], "DbiResourceId": inst["DbiResourceId"],
                "Region": self.region, "DBInstanceIdentifier": inst["DBInstanceIdentifier"],
                "RestoreWindow": {"LatestTime": latest,
                                  **({"EarliestTime": earliest} if earliest else {})},
                "AllocatedStorage": inst["AllocatedStorage"], "Status": "active",
                "Port": inst["Endpoint"]["Port"], "AvailabilityZone": inst["AvailabilityZone"],
                "VpcId": inst["DBSubnetGroup"]["VpcId"],
                "InstanceCreateTime": inst["InstanceCreateTime"],
                "MasterUsername": inst["MasterUsername"], "Engine": inst["Engine"],
                "EngineVersion": inst["EngineVersion"], "LicenseModel": inst["LicenseModel"],
                "Encrypted": inst["StorageEncrypted"], "StorageType": inst["StorageType"],
                "IAMDatabaseAuthenticationEnabled": inst["IAMDatabaseAuthenticationEnabled"],
                "BackupRetentionPeriod": inst["BackupRetentionPeriod"],
                "DBInstanceAutomatedBackupsArn": self.arn(
                    "auto-backup", "ab-" + hashlib.sha256(
                        inst["DbiResourceId"].encode()).hexdigest()[:26]),
                "BackupTarget": "region",
            }
            if inst.get("KmsKeyId"):
                backup["KmsKeyId"] = inst["KmsKeyId"]
            out.append(backup)
        if not out and (p.get("DBInstanceIdentifier") or p.get("DbiResourceId")):
            raise self.err("DBInstanceAutomatedBackupNotFoundFault",
                           f"No automated backup found for "
                           f"{p.get('DBInstanceIdentifier') or p.get('DbiResourceId')}.")
        page, marker = self._page("DescribeDBInstanceAutomatedBackups", out, p,
                                  lambda b: b["DBInstanceArn"])
        res = {"DBInstanceAutomatedBackups": page}
        if marker:
            res["Marker"] = marker
        return res

    def RestoreDBInstanceToPointInTime(self, p):
        name = self._check_new_instance_name(p["TargetDBInstanceIdentifier"],
                                             "TargetDBInstanceIdentifier")
        if p.get("SourceDBInstanceIdentifier"):
            source = self.get_instance(p["SourceDBInstanceIdentifier"],
                                       "SourceDBInstanceIdentifier")
        elif p.get("SourceDbiResourceId"):
            matches = [i for i in self.instances.values()
                       if i["DbiResourceId"] == p["SourceDbiResourceId"]]
            if not matches:
                raise self.err("DBInstanceNotFoundFault",
                               f"DBInstance with DbiResourceId {p['SourceDbiResourceId']} "
                               "not found.")
            source = matches[0]
        else:
            raise combination("One of SourceDBInstanceIdentifier, SourceDbiResourceId or "
                              "SourceDBInstanceAutomatedBackupsArn must be specified.")
        if source.get("DBClusterIdentifier"):
            raise combination("The source DB instance is a member of a DB cluster; use "
                              "RestoreDBClusterToPointInTime.")
        if source.get("BackupRetentionPeriod", 0) == 0:
            raise self.err("PointInTimeRestoreNotEnabledFault",
                           f"Point-in-time restore is not enabled for "
                           f"{source['DBInstanceIdentifier']}.")
        if source["DBInstanceStatus"] in ("creating",):
            raise self.err("InvalidDBInstanceStateFault",
                           f"DB instance {source['DBInstanceIdentifier']} is not in a "
                           "restorable state.")
        earliest, latest = self._instance_window(source)
        self._restore_time(p, source["DBInstanceIdentifier"], "RestoreTime",
                           "UseLatestRestorableTime", earliest, latest)
        self._check_engine_family(p.get("Engine"), source["Engine"])
        if p.get("DBInstanceClass"):
            self._check_class(p["DBInstanceClass"])
        base = dict(source)
        base["BackupRetentionPeriod"] = 1
        self._restore_defaults(base)
        base.pop("MasterUserSecret", None)
        rec = self.new_instance(name, base, p)
        self._start_instance(rec, self._phases_for_new("instance", backing_up=True,
                                                       creating_key="instance-pitr-creating"))
        return {"DBInstance": self.instance_view(rec)}

    def RestoreDBClusterFromSnapshot(self, p):
        name = self._check_new_cluster_name(p["DBClusterIdentifier"])
        snap = self.get_cluster_snapshot(p["SnapshotIdentifier"], "SnapshotIdentifier")
        if snap["Status"] != "available":
            raise self.err("InvalidDBClusterSnapshotStateFault",
                           f"Cluster snapshot {snap['DBClusterSnapshotIdentifier']} is not "
                           f"in available state (status {snap['Status']}).")
        if p["Engine"] != snap["Engine"]:
            raise combination(f"The engine name requested for your DB cluster "
                              f"({p['Engine']}) doesn't match the engine name of your "
                              f"snapshot ({snap['Engine']}).")
        if p.get("EngineVersion") and \
                _version(p["EngineVersion"]) < _version(snap["EngineVersion"]):
            raise combination(f"Cannot restore a {snap['Engine']} "
                              f"{snap['EngineVersion']} snapshot to the older version "
                              f"{p['EngineVersion']}.")
        source = {} if snap["SnapshotType"] == "shared" else \
            (self.clusters.get(snap["DBClusterIdentifier"]) or {})
        base = dict(source)
        base.update({"Engine": snap["Engine"], "EngineVersion": snap["EngineVersion"],
                     "MasterUsername": snap["MasterUsername"],
                     "StorageEncrypted": snap["StorageEncrypted"],
                     "KmsKeyId": snap.get("KmsKeyId"),
                     "Port": source.get("Port", 5432)})
        self._restore_defaults(base)
        rec = self.new_cluster(name, base, p)
        self._start_cluster(rec)
        return {"DBCluster": self.cluster_view(rec)}

    def _start_cluster(self, rec, creating_key="cluster-creating"):
        phases = self._phases_for_new("cluster", backing_up=False, creating_key=creating_key)
        rec["_visible_at"] = self.clock.progress() + self.describe_lag
        self.clusters[rec["DBClusterIdentifier"]] = rec
        self._start(rec, phases)

    def RestoreDBClusterToPointInTime(self, p):
        name = self._check_new_cluster_name(p["DBClusterIdentifier"])
        source = self.get_cluster(p["SourceDBClusterIdentifier"], "SourceDBClusterIdentifier")
        restore_type = p.get("RestoreType", "full-copy")
        if restore_type not in ("full-copy", "copy-on-write"):
            raise invalid(f"Invalid RestoreType {restore_type}: must be full-copy or "
                          "copy-on-write")
        if restore_type == "copy-on-write" and p.get("RestoreToTime") is not None:
            raise combination("RestoreToTime can't be specified if the RestoreType is "
                              "copy-on-write.")
        if source["Status"] != "available":
            raise self.err("InvalidDBClusterStateFault",
                           f"DB cluster {source['DBClusterIdentifier']} is not in "
                           f"available state (status {source['Status']}).")
        if restore_type == "full-copy" or p.get("UseLatestRestorableTime") is not None:
            self._restore_time(p, source["DBClusterIdentifier"], "RestoreToTime",
                               "UseLatestRestorableTime", source.get("EarliestRestorableTime"),
                               self.now() - datetime.timedelta(minutes=5))
        base = dict(source)
        self._restore_defaults(base)
        rec = self.new_cluster(name, base, p)
        if restore_type == "copy-on-write":
            group = source.get("CloneGroupId") or str(uuid.UUID(int=self.rng.getrandbits(128)))
            source["CloneGroupId"] = group
            rec["CloneGroupId"] = group
        self._start_cluster(rec, "cluster-clone-creating" if restore_type == "copy-on-write"
                            else "cluster-creating")
        return {"DBCluster": self.cluster_view(rec)}

    def CreateDBInstance(self, p):
        name = self._check_new_instance_name(p["DBInstanceIdentifier"], "DBInstanceIdentifier")
        self._check_class(p["DBInstanceClass"])
        engine = p["Engine"]
        if engine not in ENGINES:
            raise invalid(f"Invalid DB engine: {engine}")
        if p.get("DBClusterIdentifier"):
            cluster = self.get_cluster(p["DBClusterIdentifier"])
            if engine != cluster["Engine"]:
                raise combination(f"The engine name requested for your DB instance "
                                  f"({engine}) doesn't match the engine name of your DB "
                                  f"cluster ({cluster['Engine']}).")
            for forbidden in ("MasterUsername", "MasterUserPassword", "AllocatedStorage",
                              "BackupRetentionPeriod", "StorageEncrypted", "KmsKeyId",
                              "VpcSecurityGroupIds"):
                if p.get(forbidden) is not None:
                    raise combination(f"The requested DB Instance will be a member of a "
                                      f"DB Cluster. Set {forbidden} for the DB Cluster.")
            if cluster["Status"] in ("deleting",):
                raise self.err("InvalidDBClusterStateFault",
                               f"DB cluster {cluster['DBClusterIdentifier']} is in "
                               f"{cluster['Status']} state.")
            if p.get("EngineVersion") and p["EngineVersion"] != cluster["EngineVersion"]:
                raise combination("The engine version of a cluster member must be the "
                                  "cluster's engine version.")
            base = {"Engine": engine, "EngineVersion": cluster["EngineVersion"],
                    "MasterUsername": cluster["MasterUsername"], "Port": cluster["Port"],
                    "StorageEncrypted": cluster["StorageEncrypted"],
                    "KmsKeyId": cluster.get("KmsKeyId"),
                    "_subnet_group": cluster["_subnet_group"],
                    "_parameter_group": f"default.{engine}16"}
            rec = self.new_instance(name, base, p, cluster=cluster)
            self._start_instance(rec, self._phases_for_new("cluster-instance", False))
            return {"DBInstance": self.instance_view(rec)}
        if engine.startswith("aurora"):
            raise combination("DBClusterIdentifier is required to create an instance of "
                              f"engine {engine}.")
        if p.get("AllocatedStorage") is None:
            raise AwsError("MissingParameter",
                           "The request must contain the parameter AllocatedStorage", 400)
        if not p.get("MasterUsername"):
            raise AwsError("MissingParameter",
                           "The request must contain the parameter MasterUsername", 400)
        if not p.get("MasterUserPassword") and not p.get("ManageMasterUserPassword"):
            raise AwsError("MissingParameter",
                           "The request must contain the parameter MasterUserPassword", 400)
        if p.get("MasterUserPassword") and len(p["MasterUserPassword"]) < 8:
            raise invalid("The parameter MasterUserPassword is not a valid password "
                          "because it is shorter than 8 characters.")
        base = {"Engine": engine, "EngineVersion": p.get("EngineVersion", "16.3"),
                "MasterUsername": p["MasterUsername"], "Port": p.get("Port", 5432),
                "StorageEncrypted": p.get("StorageEncrypted", False),
                "KmsKeyId": p.get("KmsKeyId"), "AllocatedStorage": p["AllocatedStorage"],
                "BackupRetentionPeriod": p.get("BackupRetentionPeriod", 1)}
        rec = self.new_instance(name, base, p)
        self._start_instance(rec, self._phases_for_new(
            "instance", backing_up=rec["BackupRetentionPeriod"] > 0))
        return {"DBInstance": self.instance_view(rec)}

    # ---------------------------------------------------------------- modify
    _INSTANT = {"DBInstanceIdentifier", "ApplyImmediately", "DeletionProtection",
                "CopyTagsToSnapshot", "AutoMinorVersionUpgrade", "PromotionTier"}

    def ModifyDBInstance(self, p):
        rec = self.get_instance(p["DBInstanceIdentifier"])
        if rec["DBInstanceStatus"] not in _MODIFIABLE:
            raise self.err("InvalidDBInstanceStateFault",
                           f"Database instance is not in available state "
                           f"(status {rec['DBInstanceStatus']}).")
        if p.get("DBInstanceClass"):
            self._check_class(p["DBInstanceClass"])
        if p.get("NewDBInstanceIdentifier"):
            raise combination("Renaming is not supported by this emulator.")
        if self._manage_master_password(rec, p, cluster=False):
            return {"DBInstance": self.instance_view(rec)}
        for k in ("DeletionProtection", "CopyTagsToSnapshot", "AutoMinorVersionUpgrade",
                  "PromotionTier"):
            if k in p:
                rec[k] = p[k]
        if p.get("VpcSecurityGroupIds") is not None:
            rec["VpcSecurityGroups"] = self._vpc_groups(p["VpcSecurityGroupIds"], [])
        if p.get("DBParameterGroupName"):
            rec["DBParameterGroups"] = [{
                "DBParameterGroupName": self._param_group(p["DBParameterGroupName"], None),
                "ParameterApplyStatus": "applying"}]
        deferred = {k: v for k, v in p.items() if k not in self._INSTANT
                    and k not in ("VpcSecurityGroupIds", "DBParameterGroupName")}
        if deferred:
            pending = {}
            for k in ("DBInstanceClass", "AllocatedStorage", "BackupRetentionPeriod",
                      "MultiAZ", "EngineVersion", "Iops", "StorageType", "Port"):
                if k in deferred:
                    pending[k] = deferred[k]
            if "MasterUserPassword" in deferred:
                pending["MasterUserPassword"] = "****"
            if p.get("ApplyImmediately") or "MasterUserPassword" in deferred:
                for k, v in pending.items():
                    if k in ("MasterUserPassword",):
                        continue
                    if k == "Port":
                        rec["Endpoint"]["Port"] = v
                    else:
                        rec[k] = v
                rec["PendingModifiedValues"] = (
                    {"MasterUserPassword": "****"} if "MasterUserPassword" in pending else {})
                self._start(rec, [("modifying", "modifying"), ("available", None)])
            else:
                rec["PendingModifiedValues"] = pending
        return {"DBInstance": self.instance_view(rec)}

    def _manage_master_password(self, rec, p, cluster):
        """ManageMasterUserPassword (API reference, ModifyDBInstance / ModifyDBCluster):
        true on a DB without a managed secret makes RDS generate a new master
        password kept only in Secrets Manager; it cannot go with MasterUserPassword.
        The DB passes through resetting-master-credentials; the secret is
        "creating" until the DB is available again.  Returns True when handled
        alone (the project sends it with ApplyImmediately only)."""
        manage = p.get("ManageMasterUserPassword")
        if manage is None:
            return False
        if manage and p.get("MasterUserPassword"):
            raise combination("You can't specify MasterUserPassword when "
                              "ManageMasterUserPassword is turned on.")
        if not manage:
            if rec.get("MasterUserSecret") and not p.get("MasterUserPassword"):
                raise combination("You must specify MasterUserPassword when turning off "
                                  "ManageMasterUserPassword.")
            if rec.get("MasterUserSecret"):
                self.secrets.remove_by_arn(rec.pop("MasterUserSecret")["SecretArn"])
        elif not rec.get("MasterUserSecret"):
            arn = rec["DBClusterArn"] if cluster else rec["DBInstanceArn"]
            secret_arn = self.secrets.add_rds_master_secret(arn, cluster, rec["MasterUsername"],
                                                            self.rng)
            rec["MasterUserSecret"] = {
                "SecretArn": secret_arn, "SecretStatus": "creating",
                # Secrets Manager's AWS managed key unless MasterUserSecretKmsKeyId names one.
                "KmsKeyId": f"arn:aws:kms:{self.region}:{self.account}:key/"
                            f"{uuid.uuid5(uuid.NAMESPACE_URL, 'aws/secretsmanager')}"}
        extra = set(p) - {"DBInstanceIdentifier", "DBClusterIdentifier", "ApplyImmediately",
                          "ManageMasterUserPassword", "MasterUserPassword"}
        if extra:
            raise combination(f"This emulator changes ManageMasterUserPassword alone, not with "
                              f"{', '.join(sorted(extra))}.")
        self._start(rec, [("resetting-master-credentials", "resetting-master-credentials"),
                          ("available", None)])
        return True

    def ModifyDBCluster(self, p):
        rec = self.get_cluster(p["DBClusterIdentifier"])
        if rec["Status"] != "available":
            raise self.err("InvalidDBClusterStateFault",
                           f"DB cluster {rec['DBClusterIdentifier']} is not available for "
                           f"modification with status {rec['Status']}.")
        if p.get("NewDBClusterIdentifier"):
            raise combination("Renaming is not supported by this emulator.")
        if self._manage_master_password(rec, p, cluster=True):
            return {"DBCluster": self.cluster_view(rec)}
        for k in ("DeletionProtection", "CopyTagsToSnapshot", "BackupRetentionPeriod",
                  "AutoMinorVersionUpgrade"):
            if k in p:
                rec[k] = p[k]
        if p.get("VpcSecurityGroupIds") is not None:
            rec["VpcSecurityGroups"] = self._vpc_groups(p["VpcSecurityGroupIds"], [])
        if p.get("DBClusterParameterGroupName"):
            rec["DBClusterParameterGroup"] = self._cluster_param_group(
                p["DBClusterParameterGroupName"], None)
        if p.get("MasterUserPassword") or p.get("Port") or p.get("EngineVersion"):
            if p.get("Port"):
                rec["Port"] = p["Port"]
            if p.get("EngineVersion"):
                rec["EngineVersion"] = p["EngineVersion"]
            self._start(rec, [("modifying", "modifying"), ("available", None)])
        return {"DBCluster": self.cluster_view(rec)}

    # ---------------------------------------------------------------- delete
    def DeleteDBInstance(self, p):
        rec = self.get_instance(p["DBInstanceIdentifier"])
        name = rec["DBInstanceIdentifier"]
        skip = p.get("SkipFinalSnapshot", False)
        final = p.get("FinalDBSnapshotIdentifier")
        if rec["DBInstanceStatus"] == "deleting":
            raise self.err("InvalidDBInstanceStateFault",
                           f"Instance {name} is already being deleted.")
        if rec.get("DeletionProtection"):
            raise combination("Cannot delete protected DB Instance, please disable "
                              "deletion protection and try again.")
        if rec.get("DBClusterIdentifier"):
            if final:
                raise combination("FinalDBSnapshotIdentifier can not be specified when "
                                  "deleting a cluster instance.")
        else:
            if skip and final:
                raise combination("Cannot specify both SkipFinalSnapshot and "
                                  "FinalDBSnapshotIdentifier.")
            if not skip and not final:
                raise combination("FinalDBSnapshotIdentifier is required unless "
                                  "SkipFinalSnapshot is specified.")
            if final:
                if rec["DBInstanceStatus"] == "creating":
                    raise self.err("InvalidDBInstanceStateFault",
                                   "Instance is currently creating - a final snapshot "
                                   "cannot be taken.")
                sid = check_identifier(final, "FinalDBSnapshotIdentifier")
                if sid in self.snapshots:
                    raise self.err("DBSnapshotAlreadyExistsFault",
                                   f"Cannot create the snapshot because a snapshot with "
                                   f"the identifier {sid} already exists.")
                self.snapshots[sid] = self.snapshot_from_instance(
                    rec, sid, "manual", self.now())
        rec["_delete_automated"] = p.get("DeleteAutomatedBackups", True)
        self._start(rec, [("deleting", "instance-deleting"), (None, None)])
        return {"DBInstance": self.instance_view(rec)}

    def DeleteDBCluster(self, p):
        rec = self.get_cluster(p["DBClusterIdentifier"])
        name = rec["DBClusterIdentifier"]
        skip = p.get("SkipFinalSnapshot", False)
        final = p.get("FinalDBSnapshotIdentifier")
        if rec["Status"] == "deleting":
            raise self.err("InvalidDBClusterStateFault",
                           f"Cluster {name} is already being deleted.")
        if rec.get("DeletionProtection"):
            raise combination("Cannot delete protected Cluster, please disable deletion "
                              "protection and try again.")
        live = [i for i in self.instances.values()
                if i.get("DBClusterIdentifier") == name and i["DBInstanceStatus"] != "deleting"]
        if live:
            raise self.err("InvalidDBClusterStateFault",
                           "Cluster cannot be deleted, it still contains DB instances in "
                           "non-deleting state.")
        if skip and final:
            raise combination("Cannot specify both SkipFinalSnapshot and "
                              "FinalDBSnapshotIdentifier.")
        if not skip and not final:
            raise combination("FinalDBSnapshotIdentifier is required unless "
                              "SkipFinalSnapshot is specified.")
        if final:
            sid = check_identifier(final, "FinalDBSnapshotIdentifier")
            if sid in self.cluster_snapshots:
                raise self.err("DBClusterSnapshotAlreadyExistsFault",
                               f"Cannot create the cluster snapshot because one with the "
                               f"identifier {sid} already exists.")
            self.cluster_snapshots[sid] = self.cluster_snapshot_from_cluster(
                rec, sid, "manual", self.now())
        self._start(rec, [("deleting", "cluster-deleting"), (None, None)])
        return {"DBCluster": self.cluster_view(rec)}

    # ---------------------------------------------------------------- tags
    def _tagged(self, arn):
        m = _ARN_RE.match(arn)
        if not m:
            raise invalid(f"The specified resource name does not match an RDS resource "
                          f"in this region: {arn}")
        _, region, account, kind, name = m.groups()
        if region != self.region or account != self.account:
            raise invalid(f"The specified resource name does not match an RDS resource "
                          f"in this region: {arn}")
        lookup = {"db": self.get_instance, "cluster": self.get_cluster,
                  "snapshot": self.get_snapshot,
                  "cluster-snapshot": self.get_cluster_snapshot}.get(kind)
        if lookup is None:
            raise invalid(f"Tagging {kind} resources is not supported by this emulator.")
        return lookup(arn)

    def ListTagsForResource(self, p):
        rec = self._tagged(p["ResourceName"])
        if p.get("Filters"):
            raise invalid("The parameter Filters is not currently supported.")
        return {"TagList": [dict(t) for t in rec["TagList"]]}

    def AddTagsToResource(self, p):
        rec = self._tagged(p["ResourceName"])
        rec["TagList"] = self._merge_tags(rec["TagList"], self._check_tags(p["Tags"]))
        return None

    def RemoveTagsFromResource(self, p):
        rec = self._tagged(p["ResourceName"])
        drop = set(p["TagKeys"])
        rec["TagList"] = [t for t in rec["TagList"] if t["Key"] not in drop]
        return None

    # ---------------------------------------------------------------- catalog
    # The describes a preflight reads before a restore (subnet group, groups,
    # engine family, orderable class), answered as AWS does: a named group that
    # does not exist is its NotFound fault; an unorderable class is an empty list.
    def _describe_named(self, op, p, param, table, fault, what, view, list_key):
        name = p.get(param)
        if name is not None:
            if name.lower() not in table:
                raise self.err(fault, f"{what} not found: {name}")
            keys = [name.lower()]
        else:
            keys = list(table)
        page, marker = self._page(op, keys, p, lambda k: k)
        res = {list_key: [view(k) for k in page]}
        if marker:
            res["Marker"] = marker
        return res

    def DescribeDBSubnetGroups(self, p):
        name = p.get("DBSubnetGroupName")
        if name is not None and name.lower() not in self.subnet_groups:
            raise self.err("DBSubnetGroupNotFoundFault", f"DBSubnetGroup {name!r} not found.")
        return self._describe_named(
            "DescribeDBSubnetGroups", p, "DBSubnetGroupName", self.subnet_groups,
            "DBSubnetGroupNotFoundFault", "DBSubnetGroup",
            lambda k: dict(self.subnet_groups[k],
                           DBSubnetGroupArn=self.arn("subgrp", k)), "DBSubnetGroups")

    def DescribeDBParameterGroups(self, p):
        return self._describe_named(
            "DescribeDBParameterGroups", p, "DBParameterGroupName", self.parameter_groups,
            "DBParameterGroupNotFoundFault", "DBParameterGroup",
            lambda k: {"DBParameterGroupName": k,
                       "DBParameterGroupFamily": self.parameter_groups[k],
                       "Description": k, "DBParameterGroupArn": self.arn("pg", k)},
            "DBParameterGroups")

    def DescribeDBClusterParameterGroups(self, p):
        return self._describe_named(
            "DescribeDBClusterParameterGroups", p, "DBClusterParameterGroupName",
            self.cluster_parameter_groups, "DBParameterGroupNotFoundFault",
            "DBClusterParameterGroup",
            lambda k: {"DBClusterParameterGroupName": k,
                       "DBParameterGroupFamily": self.cluster_parameter_groups[k],
                       "Description": k, "DBClusterParameterGroupArn": self.arn("cluster-pg", k)},
            "DBClusterParameterGroups")

    def DescribeOptionGroups(self, p):
        return self._describe_named(
            "DescribeOptionGroups", p, "OptionGroupName", self.option_groups,
            "OptionGroupNotFoundFault", "Specified OptionGroupName",
            lambda k: {"OptionGroupName": k, "OptionGroupDescription": k,
                       "EngineName": self.option_groups[k][0],
                       "MajorEngineVersion": self.option_groups[k][1], "Options": [],
                       "AllowsVpcAndNonVpcInstanceMemberships": True,
                       "OptionGroupArn": self.arn("og", k)},
            "OptionGroupsList")

    def _check_engine_name(self, engine):
        if engine is not None and engine not in ENGINES:
            raise invalid(f"Invalid DB engine: {engine}")

    def DescribeDBEngineVersions(self, p):
        self._check_engine_name(p.get("Engine"))
        items = catalog.engine_versions(p.get("Engine"), p.get("EngineVersion"),
                                        p.get("DBParameterGroupFamily"))
        page, marker = self._page("DescribeDBEngineVersions", items, p,
                                  lambda v: v["Engine"] + " " + v["EngineVersion"])
        res = {"DBEngineVersions": page}
        if marker:
            res["Marker"] = marker
        return res

    def DescribeOrderableDBInstanceOptions(self, p):
        self._check_engine_name(p["Engine"])
        items = catalog.orderable(p["Engine"], p.get("EngineVersion"), p.get("DBInstanceClass"),
                                  self.region)
        if p.get("Vpc") is False:
            items = []     # every class here is VPC-only, as in AWS today
        page, marker = self._page("DescribeOrderableDBInstanceOptions", items, p,
                                  lambda o: o["EngineVersion"] + " " + o["DBInstanceClass"])
        res = {"OrderableDBInstanceOptions": page}
        if marker:
            res["Marker"] = marker
        return res

    OPERATIONS = ("DescribeDBSnapshots", "DescribeDBClusterSnapshots", "DescribeDBInstances",
                  "DescribeDBInstanceAutomatedBackups",
                  "DescribeDBClusters", "RestoreDBInstanceFromDBSnapshot",
                  "RestoreDBClusterFromSnapshot", "RestoreDBClusterToPointInTime",
                  "RestoreDBInstanceToPointInTime", "CreateDBInstance", "ModifyDBInstance",
                  "ModifyDBCluster", "DeleteDBInstance", "DeleteDBCluster",
                  "ListTagsForResource", "AddTagsToResource", "RemoveTagsFromResource",
                  "DescribeDBSubnetGroups", "DescribeDBParameterGroups",
                  "DescribeDBClusterParameterGroups", "DescribeOptionGroups",
                  "DescribeDBEngineVersions", "DescribeOrderableDBInstanceOptions")

    # ---------------------------------------------------------------- state dump
    def dump(self):
        def clean(rec):
            return {k: v for k, v in rec.items() if not k.startswith("_")}
        return {
            "instances": {k: clean(self.instance_view(v)) for k, v in self.instances.items()},
            "clusters": {k: clean(self.cluster_view(v)) for k, v in self.clusters.items()},
            "snapshots": {k: clean(v) for k, v in self.snapshots.items()},
            "clusterSnapshots": {k: clean(v) for k, v in self.cluster_snapshots.items()},
        }
