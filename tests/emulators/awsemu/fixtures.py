"""Load a seed fixture (tests/fixtures/emulator/*.json) into a fresh state.

Times in fixtures are relative to "now" at load time (ageDays / ageHours /
ageMinutes), so a fixture never goes stale.  Unknown keys are errors: a typo
in a fixture must not silently seed something else.  See
tests/fixtures/emulator/README.md for the format."""
import datetime
import json
from . import catalog

UTC = datetime.timezone.utc


class FixtureError(ValueError):
    pass


def _check_keys(obj, allowed, where):
    if not isinstance(obj, dict):
        raise FixtureError(f"{where}: expected an object")
    unknown = {k for k in obj if not k.startswith("_")} - set(allowed)
    if unknown:
        raise FixtureError(f"{where}: unknown key(s) {sorted(unknown)}")


def _age(spec, now, default_hours=0.0):
    hours = spec.get("ageDays", 0) * 24 + spec.get("ageHours", 0) + \
        spec.get("ageMinutes", 0) / 60
    if not any(k in spec for k in ("ageDays", "ageHours", "ageMinutes")):
        hours = default_hours
    return now - datetime.timedelta(hours=hours)


def _tags(spec, where):
    tags = spec.get("tags", {})
    if not isinstance(tags, dict):
        raise FixtureError(f"{where}.tags: expected an object of key: value")
    return [{"Key": k, "Value": str(v)} for k, v in tags.items()]


INSTANCE_KEYS = {"id", "engine", "engineVersion", "class", "allocatedStorage",
                 "storageType", "iops", "encrypted", "kmsKeyId", "masterUsername", "port",
                 "subnetGroup", "securityGroups", "parameterGroup", "status", "ageDays",
                 "ageHours", "deletionProtection", "tags", "backupRetentionPeriod",
                 "multiAZ", "automatedSnapshots", "snapshots", "availabilityZone",
                 "publiclyAccessible", "promotionTier"}
CLUSTER_KEYS = {"id", "engine", "engineVersion", "encrypted", "kmsKeyId",
                "masterUsername", "port", "subnetGroup", "securityGroups", "status",
                "ageDays", "ageHours", "deletionProtection", "tags",
                "backupRetentionPeriod", "instances", "automatedSnapshots", "snapshots",
                "parameterGroup"}
SNAPSHOT_KEYS = {"id", "type", "status", "ageDays", "ageHours", "ageMinutes", "tags",
                 "count", "intervalHours", "percentProgress", "creatingSeconds"}
AUTO_KEYS = {"count", "intervalHours", "hour", "minute", "creatingNow", "newestAgeHours"}
SHARED_KEYS = {"account", "id", "sourceId", "engine", "engineVersion", "ageDays",
               "ageHours", "ageMinutes", "encrypted", "kmsKeyId", "allocatedStorage",
               "status", "port"}
TOP_KEYS = {"account", "region", "endpointToken", "credentials", "sts", "imds", "ecs",
            "kmsKeys", "vpc", "parameterGroups", "clusterParameterGroups", "optionGroups",
            "instances", "clusters", "sharedSnapshots", "sharedClusterSnapshots",
            "secrets", "parameters", "stateMachines"}


def load_file(path):
    try:
        with open(path, encoding="utf-8") as f:
            fixture = json.load(f)
    except (OSError, ValueError) as e:
        raise FixtureError(f"{path}: {e}") from None
    _check_keys(fixture, TOP_KEYS, path)
    return fixture


def apply(fixture, rds, creds, store):
    """Seed the (empty) rds/creds/secret stores from a fixture object."""
    _check_keys(fixture, TOP_KEYS, "fixture")
    now = rds.now()
    if fixture.get("endpointToken"):
        rds.endpoint_token = fixture["endpointToken"]
    for c in fixture.get("credentials", []):
        _check_keys(c, {"accessKeyId", "secretAccessKey", "arn"}, "credentials[]")
        creds.static[c["accessKeyId"]] = {
            "secret": c["secretAccessKey"],
            "arn": c.get("arn", f"arn:aws:iam::{rds.account}:user/emulator")}
    sts = fixture.get("sts", {})
    _check_keys(sts, {"roles", "webIdentityTokens"}, "sts")
    if "roles" in sts:
        creds.roles = set()
        for r in sts["roles"]:
            _check_keys(r, {"arn", "maxSessionDuration"}, "sts.roles[]")
            creds.roles.add(r["arn"])
            creds.role_max_session[r["arn"]] = r.get("maxSessionDuration", 3600)
    for t in sts.get("webIdentityTokens", []):
        _check_keys(t, {"token", "subject", "audience", "provider", "expired"},
                    "sts.webIdentityTokens[]")
        creds.web_identity_tokens[t["token"]] = t
    imds = fixture.get("imds", {})
    _check_keys(imds, {"role"}, "imds")
    creds.imds_role = imds.get("role", creds.imds_role)
    ecs = fixture.get("ecs", {})
    _check_keys(ecs, {"authorizationToken", "roleArn"}, "ecs")
    creds.ecs_authorization = ecs.get("authorizationToken")
    creds.ecs_role = ecs.get("roleArn")

    rds.kms_keys = dict(fixture.get("kmsKeys", {}))
    vpc = fixture.get("vpc", {})
    _check_keys(vpc, {"id", "subnetGroups", "securityGroups"}, "vpc")
    vpc_id = vpc.get("id", "vpc-0123456789abcdef0")
    groups = vpc.get("subnetGroups") or [{"name": "default"}]
    for g in groups:
        _check_keys(g, {"name", "description", "subnets"}, "vpc.subnetGroups[]")
        subnets = g.get("subnets") or ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"]
        rds.subnet_groups[g["name"].lower()] = {
            "DBSubnetGroupName": g["name"].lower(),
            "DBSubnetGroupDescription": g.get("description", g["name"]),
            "VpcId": vpc_id,
            "SubnetGroupStatus": "Complete",
            "Subnets": [{"SubnetIdentifier": s,
                         "SubnetAvailabilityZone": {"Name": f"{rds.region}{'abc'[i % 3]}"},
                         "SubnetOutpost": {},
                         "SubnetStatus": "Active"} for i, s in enumerate(subnets)],
        }
    if "securityGroups" in vpc:
        rds.security_groups = set(vpc["securityGroups"])
    try:
        rds.parameter_groups = dict(catalog.group_family(g, "parameter group")
                                    for g in fixture.get("parameterGroups", []))
        rds.cluster_parameter_groups = dict(
            catalog.group_family(g, "cluster parameter group")
            for g in fixture.get("clusterParameterGroups", []))
        rds.option_groups = {name: (engine, major) for name, engine, major in
                             (catalog.option_group(g) for g in fixture.get("optionGroups", []))}
    except ValueError as e:
        raise FixtureError(str(e)) from None

    for spec in fixture.get("instances", []):
        _instance(spec, rds, now, None)
    for spec in fixture.get("clusters", []):
        _cluster(spec, rds, now)
    for spec in fixture.get("sharedSnapshots", []):
        _shared(spec, rds, now, cluster=False)
    for spec in fixture.get("sharedClusterSnapshots", []):
        _shared(spec, rds, now, cluster=True)
    for s in fixture.get("secrets", []):
        _check_keys(s, {"name", "secretString"}, "secrets[]")
        store.add_secret(s["name"], s["secretString"])
    for s in fixture.get("parameters", []):
        _check_keys(s, {"name", "type", "value"}, "parameters[]")
        store.add_parameter(s["name"], s["value"], s.get("type", "String"))


def _kms(rds, key):
    return rds.kms_keys.get(key, key)


def _instance(spec, rds, now, cluster):
    where = f"instance {spec.get('id')}"
    _check_keys(spec, INSTANCE_KEYS, where)
    name = spec["id"].lower()
    if cluster is not None:
        base = {"Engine": cluster["Engine"], "EngineVersion": cluster["EngineVersion"],
                "MasterUsername": cluster["MasterUsername"], "Port": cluster["Port"],
                "StorageEncrypted": cluster["StorageEncrypted"],
                "KmsKeyId": cluster.get("KmsKeyId"),
                "_subnet_group": cluster["_subnet_group"],
                "_parameter_group": f"default.{cluster['Engine']}16"}
    else:
        base = {"Engine": spec.get("engine", "postgres"),
                "EngineVersion": spec.get("engineVersion", "16.4"),
                "MasterUsername": spec.get("masterUsername", "postgres"),
                "Port": spec.get("port", 5432),
                "StorageEncrypted": spec.get("encrypted", False),
                "KmsKeyId": _kms(rds, spec["kmsKeyId"]) if spec.get("kmsKeyId") else None,
                "AllocatedStorage": spec.get("allocatedStorage", 100),
                "StorageType": spec.get("storageType", "gp3"),
                "Iops": spec.get("iops"),
                "BackupRetentionPeriod": spec.get("backupRetentionPeriod", 7),
                "_subnet_group": spec.get("subnetGroup"),
                "_parameter_group": f"default.{spec.get('engine', 'postgres')}16"}
    params = {"DBInstanceClass": spec.get("class", "db.r6g.large"),
              "DeletionProtection": spec.get("deletionProtection", False),
              "Tags": _tags(spec, where), "MultiAZ": spec.get("multiAZ", False),
              "AvailabilityZone": spec.get("availabilityZone"),
              "PubliclyAccessible": spec.get("publiclyAccessible", False),
              "PromotionTier": spec.get("promotionTier", 1)}
    if spec.get("securityGroups"):
        params["VpcSecurityGroupIds"] = spec["securityGroups"]
    if spec.get("parameterGroup"):
        params["DBParameterGroupName"] = spec["parameterGroup"]
    params = {k: v for k, v in params.items() if v is not None}
    try:
        rec = rds.new_instance(name, base, params, cluster=cluster,
                               status=spec.get("status", "available"))
    except Exception as e:  # an AwsError from validation is a fixture error here
        raise FixtureError(f"{where}: {e}") from None
    rec["InstanceCreateTime"] = _age(spec, now, default_hours=24 * 400)
    rec["_timeline"] = []
    rds.instances[name] = rec
    _snapshots(spec, rec, where, now, rds, rds.snapshot_from_instance, rds.snapshots,
               "DBSnapshotIdentifier")
    return rec


def _cluster(spec, rds, now):
    where = f"cluster {spec.get('id')}"
    _check_keys(spec, CLUSTER_KEYS, where)
    name = spec["id"].lower()
    base = {"Engine": spec.get("engine", "aurora-postgresql"),
            "EngineVersion": spec.get("engineVersion", "16.4"),
            "MasterUsername": spec.get("masterUsername", "postgres"),
            "Port": spec.get("port", 5432),
            "StorageEncrypted": spec.get("encrypted", False),
            "KmsKeyId": _kms(rds, spec["kmsKeyId"]) if spec.get("kmsKeyId") else None,
            "BackupRetentionPeriod": spec.get("backupRetentionPeriod", 7),
            "_subnet_group": spec.get("subnetGroup"),
            "DBClusterParameterGroup": spec.get("parameterGroup",
                                                f"default.{spec.get('engine', 'aurora-postgresql')}16")}
    params = {"DeletionProtection": spec.get("deletionProtection", False),
              "Tags": _tags(spec, where)}
    if spec.get("securityGroups"):
        params["VpcSecurityGroupIds"] = spec["securityGroups"]
    try:
        rec = rds.new_cluster(name, base, params, status=spec.get("status", "available"))
    except Exception as e:
        raise FixtureError(f"{where}: {e}") from None
    created = _age(spec, now, default_hours=24 * 400)
    rec["ClusterCreateTime"] = created
    rec["EarliestRestorableTime"] = now - datetime.timedelta(
        days=base["BackupRetentionPeriod"])
    rec["_timeline"] = []
    rds.clusters[name] = rec
    for inst in spec.get("instances", []):
        _instance(inst, rds, now, rec)
    _snapshots(spec, rec, where, now, rds, rds.cluster_snapshot_from_cluster,
               rds.cluster_snapshots, "DBClusterSnapshotIdentifier")


def _snapshots(spec, rec, where, now, rds, make, store, key):
    """The automated and listed snapshots of an instance or cluster record `rec`:
    make(rec, id, type, when) builds one, store holds them by their `key` field."""
    name = spec["id"].lower()
    auto = spec.get("automatedSnapshots")
    if auto:
        _check_keys(auto, AUTO_KEYS, f"{where}.automatedSnapshots")
        for when in _schedule(auto, now):
            snap = make(rec, f"rds:{name}-{when:%Y-%m-%d-%H-%M}", "automated", when)
            store[snap[key]] = snap
        if auto.get("creatingNow"):
            _creating(rds, store, make(rec, f"rds:{name}-{now:%Y-%m-%d-%H-%M}", "automated",
                                       now - datetime.timedelta(minutes=2)), key)
    for s in spec.get("snapshots", []):
        _check_keys(s, SNAPSHOT_KEYS, f"{where}.snapshots[]")
        for sid, when in _expand(s, now):
            snap = make(rec, sid, s.get("type", "manual"), when)
            snap["TagList"] = _tags(s, f"{where}.snapshots[]")
            _snap_status(rds, snap, s, store, key)


def _schedule(auto, now):
    """Times of `count` automated snapshots: one per interval, at hour:minute."""
    count = auto.get("count", 7)
    interval = datetime.timedelta(hours=auto.get("intervalHours", 24))
    # newestAgeHours: backups stopped that long ago (stale-snapshot tests).
    newest = now - datetime.timedelta(hours=auto.get("newestAgeHours", 0))
    latest = newest.replace(hour=auto.get("hour", 3), minute=auto.get("minute", 7),
                            second=0, microsecond=0)
    while latest > newest:
        latest -= datetime.timedelta(days=1)
    return [latest - i * interval for i in range(count)]


def _expand(s, now):
    """One snapshot, or `count` numbered ones (id gets -N) every intervalHours."""
    when = _age(s, now, default_hours=30)
    if "count" not in s:
        return [(s["id"].lower() if not s["id"].startswith("awsbackup:") else s["id"], when)]
    step = datetime.timedelta(hours=s.get("intervalHours", 12))
    return [(f"{s['id'].lower()}-{i + 1:04d}", when - i * step) for i in range(s["count"])]


def _snap_status(rds, snap, spec, table, id_key):
    status = spec.get("status", "available")
    if status == "creating":
        # How long (AWS seconds) it stays creating; a test that needs a snapshot
        # that is not available must not race the emulator's clock on a loaded machine.
        seconds = spec.get("creatingSeconds", "snapshot-creating")
        if seconds != "snapshot-creating" and (isinstance(seconds, bool) or
                                               not isinstance(seconds, (int, float)) or seconds < 0):
            raise FixtureError(f"snapshot {snap[id_key]}: creatingSeconds: expected a number >= 0")
        _creating(rds, table, snap, id_key, spec.get("percentProgress", 40), seconds)
        return
    snap["Status"] = status
    table[snap[id_key]] = snap


def _creating(rds, table, snap, id_key, percent=30, seconds="snapshot-creating"):
    snap["PercentProgress"] = percent
    rds._start(snap, [("creating", seconds), ("available", None)])  # pylint: disable=protected-access
    table[snap[id_key]] = snap


def _shared(spec, rds, now, cluster):
    where = f"shared snapshot {spec.get('id')}"
    _check_keys(spec, SHARED_KEYS, where)
    account = spec["account"]
    when = _age(spec, now, default_hours=48)
    engine = spec.get("engine", "aurora-postgresql" if cluster else "postgres")
    if cluster:
        fake = {"AvailabilityZones": [f"{rds.region}a"], "DBClusterIdentifier":
                spec.get("sourceId", "shared-source"), "Engine": engine,
                "EngineMode": "provisioned", "ClusterCreateTime": when,
                "MasterUsername": "postgres",
                "EngineVersion": spec.get("engineVersion", "16.4"),
                "StorageEncrypted": spec.get("encrypted", False),
                "KmsKeyId": spec.get("kmsKeyId"),
                "IAMDatabaseAuthenticationEnabled": False, "TagList": [],
                "_subnet_group": next(iter(rds.subnet_groups))}
        snap = rds.cluster_snapshot_from_cluster(fake, spec["id"].lower(), "shared", when,
                                                 account=account)
        snap["Status"] = spec.get("status", "available")
        rds.cluster_snapshots[snap["DBClusterSnapshotIdentifier"]] = snap
        return
    fake = {"DBInstanceIdentifier": spec.get("sourceId", "shared-source"), "Engine": engine,
            "AllocatedStorage": spec.get("allocatedStorage", 100),
            "Endpoint": {"Port": spec.get("port", 5432)},
            "AvailabilityZone": f"{rds.region}a",
            "DBSubnetGroup": {"VpcId": "vpc-0fedcba9876543210"},
            "InstanceCreateTime": when - datetime.timedelta(days=90),
            "MasterUsername": "postgres", "EngineVersion": spec.get("engineVersion", "16.4"),
            "LicenseModel": "postgresql-license",
            "OptionGroupMemberships": [{"OptionGroupName": "default:postgres-16"}],
            "StorageType": "gp3", "StorageEncrypted": spec.get("encrypted", False),
            "KmsKeyId": spec.get("kmsKeyId"), "IAMDatabaseAuthenticationEnabled": False,
            "DbiResourceId": "db-SHAREDSOURCE0000000000000", "TagList": []}
    snap = rds.snapshot_from_instance(fake, spec["id"].lower(), "shared", when,
                                      account=account)
    snap["Status"] = spec.get("status", "available")
    rds.snapshots[snap["DBSnapshotIdentifier"]] = snap
