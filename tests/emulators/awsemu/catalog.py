"""What an account's region offers, for the preflight describes: engine versions
with their parameter group family, orderable instance classes, and the family of
the groups a fixture names.

The data is a subset of what AWS answers in us-east-1 (the RDS User Guide's
"Supported DB engines for DB instance classes" and "Supported DB instance classes
for Aurora", and DescribeDBEngineVersions' DBParameterGroupFamily): for
PostgreSQL 10 and later the family is the engine name plus the major version
(postgres16, aurora-postgresql16).  What is not listed is not orderable, as in AWS
(an empty OrderableDBInstanceOptions list, no error)."""
import re

# engine -> the versions this emulator knows (every version in the fixtures is here)
ENGINE_VERSIONS = {
    "postgres": ["14.12", "15.7", "15.8", "16.3", "16.4", "16.6", "17.2"],
    "aurora-postgresql": ["14.12", "15.7", "15.8", "16.3", "16.4", "16.6"],
}

_SIZES = ["large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge",
          "24xlarge"]
_BURST = ["micro", "small", "medium", "large", "xlarge", "2xlarge"]
# RDS for PostgreSQL 14-17: burstable t3/t4g and the current m/r generations; not
# t2 or m4 (they end at PostgreSQL 12/13), never the long-retired m1/m3.
_RDS_PG = ([f"db.t3.{s}" for s in _BURST] + [f"db.t4g.{s}" for s in _BURST] +
           [f"db.{f}.{s}" for f in ("m5", "m6g", "m6i", "m7g", "r5", "r6g", "r6i", "r7g")
            for s in _SIZES])
# Aurora PostgreSQL: no micro/small burstables; r-classes and db.serverless.
_AURORA_PG = (["db.t3.medium", "db.t3.large", "db.t4g.medium", "db.t4g.large",
               "db.serverless"] +
              [f"db.{f}.{s}" for f in ("r5", "r6g", "r6i", "r7g") for s in _SIZES])
ORDERABLE = {"postgres": _RDS_PG, "aurora-postgresql": _AURORA_PG}


def major(version):
    """PostgreSQL 10+: the major version is the first number."""
    return version.split(".")[0]


def family(engine, version):
    return f"{engine}{major(version)}"


_FAMILY_SUFFIX = re.compile(r"(aurora-postgresql|postgres)(\d+)$")


def group_family(spec, what):
    """A fixture's parameter group: {"name", "family"}, or a name ending in its
    family by the AWS default naming (default.postgres16, my-aurora-postgresql16)."""
    if isinstance(spec, dict):
        return spec["name"].lower(), spec["family"]
    m = _FAMILY_SUFFIX.search(spec.lower().replace("default.", ""))
    if not m:
        raise ValueError(f"{what} {spec!r}: give {{\"name\", \"family\"}}; the name does "
                         "not end in a family such as postgres16")
    return spec.lower(), m.group(1) + m.group(2)


_OPTION_DEFAULT = re.compile(r"^default:([a-z-]+)-(\d+)(?:-\d+)?$")


def option_group(spec):
    """A fixture's option group: {"name", "engine", "majorVersion"}, or AWS's
    default naming default:<engine>-<major> (default:postgres-16)."""
    if isinstance(spec, dict):
        return spec["name"].lower(), spec["engine"], str(spec["majorVersion"])
    m = _OPTION_DEFAULT.match(spec.lower())
    if not m:
        raise ValueError(f"option group {spec!r}: give {{\"name\", \"engine\", "
                         "\"majorVersion\"}}")
    return spec.lower(), m.group(1), m.group(2)


def engine_versions(engine=None, version=None, fam=None):
    out = []
    for eng, versions in sorted(ENGINE_VERSIONS.items()):
        if engine is not None and eng != engine:
            continue
        for v in versions:
            if version is not None and v != version and major(v) != version:
                continue
            if fam is not None and family(eng, v) != fam:
                continue
            out.append({"Engine": eng, "EngineVersion": v,
                        "DBParameterGroupFamily": family(eng, v),
                        "MajorEngineVersion": major(v),
                        "DBEngineDescription": "PostgreSQL" if eng == "postgres"
                        else "Aurora (PostgreSQL)",
                        "DBEngineVersionDescription": f"{eng} {v}", "Status": "available"})
    return out


def orderable(engine, version=None, cls=None, region="us-east-1"):
    out = []
    for v in ENGINE_VERSIONS.get(engine, []):
        if version is not None and v != version:
            continue
        for c in ORDERABLE.get(engine, []):
            if cls is not None and c != cls:
                continue
            out.append({"Engine": engine, "EngineVersion": v, "DBInstanceClass": c,
                        "LicenseModel": "postgresql-license", "Vpc": True,
                        "SupportsStorageEncryption": True,
                        "SupportsIAMDatabaseAuthentication": True,
                        "SupportsClusters": engine.startswith("aurora"),
                        "StorageType": "aurora" if engine.startswith("aurora") else "gp3",
                        "MultiAZCapable": True, "ReadReplicaCapable": True,
                        "AvailabilityZones": [{"Name": f"{region}{z}"} for z in "abc"]})
    return out
