#!/usr/bin/python3
"""The deployment recipes: the IAM policy, the Kubernetes CronJob, the Dockerfile.

1. IAM (deploy/iam/policy.json): a small evaluator of the policy's grammar
   (Action/Resource wildcards, StringEquals/StringLike/Bool conditions; a
   condition on a key absent from the request is false) decides every AWS call
   the driver really makes in a full run against the AWS emulator (taken from
   the emulator's call log, with the resource ARNs and tags of each request),
   plus the Aurora calls. Every one must be allowed; and the policy must refuse
   to delete or modify a database that is not a tagged dblab-refresh-* clone
   (production-db; an untagged dblab-refresh-x), and to create a clone without
   the ManagedBy request tag.
2. The CronJob (deploy/k8s/cronjob.yaml): every document valid against the
   Kubernetes API types (kubernetes-models' OpenAPI validators, tests/lib/k8s-validate.js)
   with no unknown field (tests/wrappers/k8s_schema.py, as kubectl --validate=strict);
   this project's image (the Makefile's IMAGE at VERSION, no `command` overriding the
   Dockerfile's ENTRYPOINT); its args accepted by the real driver (a -dry-run with the
   manifest's args and its own ConfigMap, against the emulators, mount paths mapped
   to temp dirs); concurrencyPolicy Forbid, restartPolicy Never, backoffLimit 0, an
   IRSA service account, non-root, a grace period above the driver's 25 s, a
   writable /tmp under a read-only root filesystem, the token from a Secret.
3. The Dockerfile: multi-stage, Debian slim, non-root, every file the build
   needs copied (the build stage is replayed here with exactly those files:
   `make all install`), and the runtime packages providing every shared
   library the commands link. No Docker engine runs here: the image itself is
   not built.
"""
import fnmatch
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "wrappers"))
import k8s_schema  # noqa: E402
import wraptest  # noqa: E402
from wraptest import TOP, fail  # noqa: E402

ACCOUNT = "123456789012"
REGION = "us-east-1"
SOURCE = "production-db"  # what the user writes for SOURCE_IDENTIFIER


# ----------------------------------------------------------------------------- IAM

class Policy:
    def __init__(self, doc):
        if doc.get("Version") != "2012-10-17":
            fail("policy Version must be 2012-10-17")
        self.statements = doc["Statement"]
        for s in self.statements:
            if not re.fullmatch(r"[A-Za-z0-9]+", s.get("Sid", "")):
                fail("policy: Sid %r must be alphanumeric" % s.get("Sid"))
            if s.get("Effect") != "Allow":
                fail("policy: only Allow statements expected")
            for k in s:
                if k not in ("Sid", "Effect", "Action", "Resource", "Condition"):
                    fail("policy: unexpected element %s" % k)

    @staticmethod
    def _list(v):
        return v if isinstance(v, list) else [v]

    def _cond(self, cond, ctx):
        for op, kv in (cond or {}).items():
            for key, want in kv.items():
                have = ctx.get(key)
                if have is None:
                    return False  # a condition on an absent key does not match
                wants = [w.replace("ACCOUNT_ID", ACCOUNT) if isinstance(w, str) else w
                         for w in self._list(want)]
                if op == "StringEquals" and have not in wants:
                    return False
                if op == "StringLike" and not any(fnmatch.fnmatchcase(have, w) for w in wants):
                    return False
                if op == "Bool" and str(have).lower() not in [str(w).lower() for w in wants]:
                    return False
                if op not in ("StringEquals", "StringLike", "Bool"):
                    fail("policy: the test does not know condition operator %s" % op)
        return True

    def allows(self, action, resource, ctx):
        arn = resource.replace("ACCOUNT_ID", ACCOUNT)
        for s in self.statements:
            if s.get("Sid") == "RDSPointInTimeRestoreReadsTheSource":
                s = dict(s, Resource=[r.replace("SOURCE_IDENTIFIER", SOURCE)
                                      for r in self._list(s["Resource"])])
            if not any(fnmatch.fnmatchcase(action, a) for a in self._list(s["Action"])):
                continue
            res = [r.replace("ACCOUNT_ID", ACCOUNT) for r in self._list(s["Resource"])]
            if not any(fnmatch.fnmatchcase(arn, r) for r in res):
                continue
            if self._cond(s.get("Condition"), ctx):
                return True
        return False


SECRET_PREFIX = "arn:aws:secretsmanager:%s:%s:secret:" % (REGION, ACCOUNT)


def arn(kind, name):
    return "arn:aws:rds:%s:%s:%s:%s" % (REGION, ACCOUNT, kind, name)


def request_tags(params):
    """The Tags of a request: the emulator logs them parsed (a list of {Key, Value})."""
    if isinstance((params or {}).get("Tags"), list):
        return {t["Key"]: t.get("Value", "") for t in params["Tags"]}
    tags = {}
    for k, v in (params or {}).items():
        m = re.fullmatch(r"Tags\.(?:Tag|member)\.(\d+)\.(Key|Value)", k)
        if m:
            tags.setdefault(m.group(1), {})[m.group(2)] = v
    return {t["Key"]: t.get("Value", "") for t in tags.values() if "Key" in t}


def authorizations(call, clone_tags):
    """(action, resource ARN, context) checks RDS makes for one API call."""
    a, p = call["action"], call.get("params") or {}
    if a.startswith("Describe") or a == "ListTagsForResource":
        return [("rds:" + a, "*", {})]
    out = []
    rtags = request_tags(p)
    ctx = {"aws:RequestTag/" + k: v for k, v in rtags.items()}
    if a in ("RestoreDBInstanceFromDBSnapshot", "CreateDBInstance"):
        out.append(("rds:" + a, arn("db", p["DBInstanceIdentifier"]), ctx))
        if rtags:  # tag on create: RDS also authorizes rds:AddTagsToResource
            out.append(("rds:AddTagsToResource", arn("db", p["DBInstanceIdentifier"]), ctx))
        if p.get("DBSnapshotIdentifier"):
            out.append(("rds:" + a, arn("snapshot", p["DBSnapshotIdentifier"].split(":", 1)[-1]
                                        if p["DBSnapshotIdentifier"].startswith("arn:")
                                        else p["DBSnapshotIdentifier"]), {}))
        if p.get("DBClusterIdentifier"):
            out.append(("rds:" + a, arn("cluster", p["DBClusterIdentifier"]), ctx))
        for key, kind in (("DBSubnetGroupName", "subgrp"), ("DBParameterGroupName", "pg"),
                          ("OptionGroupName", "og")):
            if p.get(key):
                out.append(("rds:" + a, arn(kind, p[key]), {}))
        return out
    if a == "RestoreDBClusterFromSnapshot":
        out.append(("rds:" + a, arn("cluster", p["DBClusterIdentifier"]), ctx))
        if rtags:
            out.append(("rds:AddTagsToResource", arn("cluster", p["DBClusterIdentifier"]), ctx))
        out.append(("rds:" + a, arn("cluster-snapshot", p["SnapshotIdentifier"]), {}))
        for key, kind in (("DBSubnetGroupName", "subgrp"), ("DBClusterParameterGroupName", "cluster-pg")):
            if p.get(key):
                out.append(("rds:" + a, arn(kind, p[key]), {}))
        return out
    if a == "RestoreDBInstanceToPointInTime":
        out.append(("rds:" + a, arn("db", p["TargetDBInstanceIdentifier"]), ctx))
        if rtags:
            out.append(("rds:AddTagsToResource", arn("db", p["TargetDBInstanceIdentifier"]), ctx))
        out.append(("rds:" + a, arn("db", p["SourceDBInstanceIdentifier"]), {}))
        for key, kind in (("DBSubnetGroupName", "subgrp"), ("DBParameterGroupName", "pg"),
                          ("OptionGroupName", "og")):
            if p.get(key):
                out.append(("rds:" + a, arn(kind, p[key]), {}))
        return out
    if a in ("DeleteDBInstance", "ModifyDBInstance"):
        name = p["DBInstanceIdentifier"]
        tags = clone_tags.get(name, {})
        return [("rds:" + a, arn("db", name), {"rds:db-tag/" + k: v for k, v in tags.items()})]
    if a in ("DeleteDBCluster", "ModifyDBCluster"):
        name = p["DBClusterIdentifier"]
        tags = clone_tags.get(name, {})
        return [("rds:" + a, arn("cluster", name), {"rds:cluster-tag/" + k: v for k, v in tags.items()})]
    fail("the test does not know how RDS authorizes %s" % a)


def check_policy_against_a_run(policy, tmp):
    emus = wraptest.Emulators(tmp)
    try:
        config = wraptest.write_config(os.path.join(tmp, "config.yaml"), emus.dblab_url, emus.aws_url)
        env = {"PATH": "/usr/bin:/bin", "DBLAB_TOKEN": emus.token, "AWS_REGION": REGION,
               "AWS_ACCESS_KEY_ID": emus.env["AWS_ACCESS_KEY_ID"],
               "AWS_SECRET_ACCESS_KEY": emus.env["AWS_SECRET_ACCESS_KEY"],
               # Secrets Manager (the clone's own master password) at the emulator too
               "AWS_ENDPOINT_URL": emus.aws_url}
        r = subprocess.run([os.path.join(wraptest.BIN, "dblab-rds-refresh"), "-config", config,
                            "-state-dir", os.path.join(tmp, "state")], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if r.returncode != 0:
            sys.stderr.write(r.stderr.decode()[-3000:])
            fail("the driver run failed (exit %d)" % r.returncode)
        calls = wraptest.http("GET", emus.aws_url + "/_emulator/calls")["calls"]
    finally:
        emus.stop()
    secret_reads = [c for c in calls if c.get("service") == "secretsmanager"]
    calls = [c for c in calls if c.get("service") == "rds"]
    actions = {c["action"] for c in calls}
    for need in ("RestoreDBInstanceFromDBSnapshot", "DeleteDBInstance", "DescribeDBSnapshots"):
        if need not in actions:
            fail("the run made no %s call: %s" % (need, sorted(actions)))
    clone_tags = {}
    for c in calls:
        if c["action"] in ("RestoreDBInstanceFromDBSnapshot", "CreateDBInstance", "RestoreDBClusterFromSnapshot"):
            p = c.get("params") or {}
            clone_tags[p.get("DBInstanceIdentifier") or p.get("DBClusterIdentifier")] = request_tags(p)
    checked = set()
    for c in calls:
        for action, res, ctx in authorizations(c, clone_tags):
            if not policy.allows(action, res, ctx):
                fail("the policy denies %s on %s (%s), which a run needs" % (action, res, ctx))
            checked.add(action)
    # clone.masterPassword managed (the default of this config): dblab-refresh
    # reads the clone's RDS-made secret, tagged with the clone's ARN by RDS.
    clone = next(iter(clone_tags))
    for c in secret_reads:
        ctx = {"aws:ResourceTag/aws:rds:primaryDBInstanceArn": arn("db", clone)}
        sid = (c.get("params") or {}).get("SecretId", "")
        if not policy.allows("secretsmanager:" + c["action"], sid, ctx):
            fail("the policy denies secretsmanager:%s on %s, which a run needs" % (c["action"], sid))
        checked.add("secretsmanager:" + c["action"])
    if "secretsmanager:GetSecretValue" not in checked:
        fail("the run read no clone secret (clone.masterPassword managed is the default)")
    return sorted(checked)


def check_policy_refusals(policy):
    managed = {"rds:db-tag/ManagedBy": "dblab-rds-refresh"}
    must_deny = [
        ("rds:DeleteDBInstance", arn("db", "production-db"), managed),
        ("rds:DeleteDBInstance", arn("db", "production-db"), {}),
        ("rds:ModifyDBInstance", arn("db", "production-db"), {"rds:db-tag/ManagedBy": "x"}),
        ("rds:DeleteDBInstance", arn("db", "dblab-refresh-x"), {}),
        ("rds:DeleteDBInstance", arn("db", "dblab-refresh-x"), {"rds:db-tag/ManagedBy": "someone"}),
        ("rds:DeleteDBCluster", arn("cluster", "production-aurora"),
         {"rds:cluster-tag/ManagedBy": "dblab-rds-refresh"}),
        ("rds:DeleteDBCluster", arn("cluster", "dblab-refresh-x"), {}),
        ("rds:RestoreDBInstanceFromDBSnapshot", arn("db", "dblab-refresh-x"), {}),
        ("rds:RestoreDBInstanceFromDBSnapshot", arn("db", "other-db"),
         {"aws:RequestTag/ManagedBy": "dblab-rds-refresh"}),
        ("rds:AddTagsToResource", arn("db", "production-db"),
         {"aws:RequestTag/ManagedBy": "dblab-rds-refresh"}),
        ("rds:AddTagsToResource", arn("snapshot", "rds:production-db-2024-01-01"), {}),
        ("rds:DeleteDBSnapshot", arn("snapshot", "rds:production-db-2024-01-01"), {}),
        ("rds:RestoreDBInstanceToPointInTime", arn("db", "other-db"),
         {"aws:RequestTag/ManagedBy": "dblab-rds-refresh"}),
        ("rds:RestoreDBInstanceToPointInTime", arn("db", "dblab-refresh-x"), {}),
        ("rds:RestoreDBInstanceToPointInTime", arn("db", "billing-db"), {}),
        # production's own RDS-managed secret, and any other secret
        ("secretsmanager:GetSecretValue", SECRET_PREFIX + "rds!db-1111-aBcDeF",
         {"aws:ResourceTag/aws:rds:primaryDBInstanceArn": arn("db", "production-db")}),
        ("secretsmanager:GetSecretValue", SECRET_PREFIX + "rds!db-1111-aBcDeF", {}),
        ("secretsmanager:GetSecretValue", SECRET_PREFIX + "prod/password-aBcDeF", {}),
        ("secretsmanager:CreateSecret", SECRET_PREFIX + "rds!db-1111-aBcDeF", {}),
    ]
    for action, res, ctx in must_deny:
        if policy.allows(action, res, ctx):
            fail("the policy allows %s on %s with %s" % (action, res, ctx))
    # The Aurora path (not run here: the same evaluator on its calls).
    cl = "dblab-refresh-20240101-020000-abcd"
    ctx = {"aws:RequestTag/ManagedBy": "dblab-rds-refresh"}
    for action, res, c in [
            ("rds:RestoreDBClusterFromSnapshot", arn("cluster", cl), ctx),
            ("rds:AddTagsToResource", arn("cluster", cl), ctx),
            ("rds:RestoreDBClusterFromSnapshot", arn("cluster-snapshot", "rds:production-aurora-x"), {}),
            ("rds:CreateDBInstance", arn("db", cl + "-instance"), ctx),
            ("rds:CreateDBInstance", arn("cluster", cl), ctx),
            ("rds:DeleteDBInstance", arn("db", cl + "-instance"), {"rds:db-tag/ManagedBy": "dblab-rds-refresh"}),
            ("rds:ModifyDBCluster", arn("cluster", cl), {"rds:cluster-tag/ManagedBy": "dblab-rds-refresh"}),
            ("rds:DeleteDBCluster", arn("cluster", cl), {"rds:cluster-tag/ManagedBy": "dblab-rds-refresh"}),
            ("rds:DescribeDBClusterSnapshots", "*", {}), ("rds:DescribeDBClusters", "*", {}),
            # point in time (source.restoreFrom), a copy-on-write clone of the source
            ("rds:RestoreDBClusterToPointInTime", arn("cluster", cl), ctx),
            ("rds:RestoreDBClusterToPointInTime", arn("cluster", SOURCE), {}),
            ("rds:RestoreDBInstanceToPointInTime", arn("db", cl), ctx),
            ("rds:RestoreDBInstanceToPointInTime", arn("db", SOURCE), {}),
            ("rds:DescribeDBInstanceAutomatedBackups", "*", {}),
            # clone.masterPassword managed: RDS makes the secret, the tool reads it
            ("secretsmanager:CreateSecret", SECRET_PREFIX + "rds!cluster-2222-aBcDeF",
             {"aws:CalledViaFirst": "rds.amazonaws.com"}),
            ("secretsmanager:GetSecretValue", SECRET_PREFIX + "rds!cluster-2222-aBcDeF",
             {"aws:ResourceTag/aws:rds:primaryDBClusterArn": arn("cluster", cl)})]:
        if not policy.allows(action, res, c):
            fail("the policy denies %s on %s, which the Aurora path needs" % (action, res))


# ----------------------------------------------------------------------------- CronJob

def check_k8s_schema(docs):
    """False (nothing checked) when tests/node has not installed kubernetes-models."""
    if not os.path.isdir(os.path.join(k8s_schema.NODE_MODULES, "kubernetes-models")):
        return False
    errors = []
    for d in docs:
        errors += k8s_schema.unknown_fields(d)
    if errors:
        fail("cronjob: fields Kubernetes does not have: " + "; ".join(errors))
    r = subprocess.run(["node", os.path.join(TOP, "tests", "lib", "k8s-validate.js")],
                       input=json.dumps(docs).encode(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        fail("cronjob: not valid against the Kubernetes API types:\n" + r.stdout.decode()[-2000:])
    return True


def makefile_image():
    """(IMAGE, VERSION) as the Makefile builds the image."""
    m = re.search(r"^IMAGE \?= (\S+)$", open(os.path.join(TOP, "Makefile")).read(), re.M)
    if not m:
        fail("Makefile: no IMAGE ?= NAME (the image `make image` builds)")
    return m.group(1), open(os.path.join(TOP, "VERSION")).read().strip()


def check_cronjob_image(container):
    name, version = makefile_image()
    image = container.get("image", "")
    repo, _, tag = image.rpartition(":")
    if repo.rsplit("/", 1)[-1] != name or tag != version:
        fail("cronjob: image %r is not this project's %s:%s (make image-push)" % (image, name, version))
    dockerfile = open(os.path.join(TOP, "Dockerfile")).read()
    entry = re.findall(r"^ENTRYPOINT \[\"([^\"]+)\"", dockerfile, re.M)
    if not entry or os.path.basename(entry[-1]) != "dblab-rds-refresh":
        fail("Dockerfile: the ENTRYPOINT must be the driver")
    if container.get("command") not in (None, [entry[-1]]):
        fail("cronjob: command %r overrides the image's entrypoint" % container.get("command"))


def check_cronjob_args(docs, container, tmp):
    """The container's args, run by the real driver (-dry-run added) with the
    manifest's own ConfigMap, its mounts mapped to temp dirs, against the emulators."""
    pod = next(d for d in docs if d["kind"] == "CronJob")["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    vols = {v["name"]: v for v in pod.get("volumes", [])}
    root = os.path.join(tmp, "pod")
    os.makedirs(os.path.join(tmp, "k8s-emulators"))
    emus = wraptest.Emulators(os.path.join(tmp, "k8s-emulators"))
    try:
        mapped = {}
        for m in container.get("volumeMounts", []):
            host = os.path.join(root, m["name"])
            os.makedirs(host, exist_ok=True)
            mapped[m["mountPath"]] = host
            cm = vols[m["name"]].get("configMap")
            if cm:
                cmdoc = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == cm["name"])
                for key, text in cmdoc["data"].items():
                    cfg = yaml.safe_load(text)
                    cfg["dblab"]["apiEndpoint"] = emus.dblab_url  # the emulators stand in for
                    cfg.setdefault("aws", {})["endpoint"] = emus.aws_url  # DBLab and AWS
                    # The manifest's network placeholders filled in as a user does, with
                    # the emulated account's names: the dry run's preflight checks them.
                    cfg["clone"]["subnetGroup"] = "dblab-clones"
                    cfg["clone"]["securityGroups"] = ["sg-0123456789abcdef0"]
                    with open(os.path.join(host, key), "w") as f:
                        yaml.safe_dump(cfg, f)

        def host_path(a):
            for mount, host in mapped.items():
                if a == mount or a.startswith(mount.rstrip("/") + "/"):
                    return host + a[len(mount.rstrip("/")):]
            return a
        args = [host_path(a) for a in container.get("args", [])] + ["-dry-run"]
        env = {"PATH": "/usr/bin:/bin", "TMPDIR": mapped.get("/tmp", tmp), "DBLAB_TOKEN": emus.token,
               "AWS_ACCESS_KEY_ID": emus.env["AWS_ACCESS_KEY_ID"],
               "AWS_SECRET_ACCESS_KEY": emus.env["AWS_SECRET_ACCESS_KEY"],
               "AWS_ENDPOINT_URL": emus.aws_url}  # every AWS service at the emulator
        for e in container.get("env", []):
            if "value" in e:
                env[e["name"]] = e["value"]
        r = subprocess.run([os.path.join(wraptest.BIN, "dblab-rds-refresh")] + args, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    finally:
        emus.stop()
    if r.returncode != 0:
        fail("cronjob: the driver refuses the manifest's args %s (exit %d):\n%s"
             % (container.get("args"), r.returncode, r.stderr.decode()[-2000:]))
    if "-log-format" in args and args[args.index("-log-format") + 1] == "json":
        for line in r.stderr.decode().splitlines():
            json.loads(line)  # every log line is JSON, as the manifest asks


def check_cronjob(tmp):
    """False when the Kubernetes API types could not be checked (the rest was)."""
    docs = [d for d in yaml.safe_load_all(open(os.path.join(TOP, "deploy", "k8s", "cronjob.yaml"))) if d]
    typed = check_k8s_schema(docs)
    by_kind = {d["kind"]: d for d in docs}
    cj = by_kind.get("CronJob")
    sa = by_kind.get("ServiceAccount")
    if not cj or cj.get("apiVersion") != "batch/v1":
        fail("cronjob: a batch/v1 CronJob expected")
    spec = cj["spec"]
    if spec.get("concurrencyPolicy") != "Forbid":
        fail("cronjob: concurrencyPolicy: Forbid expected")
    if len(str(spec.get("schedule", "")).split()) != 5:
        fail("cronjob: a 5-field schedule expected")
    job = spec["jobTemplate"]["spec"]
    if job.get("backoffLimit") != 0:
        fail("cronjob: backoffLimit: 0 expected (a failed refresh is not repeated)")
    pod = job["template"]["spec"]
    if pod.get("restartPolicy") != "Never":
        fail("cronjob: restartPolicy: Never expected")
    if not sa or pod.get("serviceAccountName") != sa["metadata"]["name"] or \
            not re.match(r"^arn:aws:iam::[^:]+:role/.+", sa["metadata"].get("annotations", {})
                         .get("eks.amazonaws.com/role-arn", "")):
        fail("cronjob: an IRSA service account (eks.amazonaws.com/role-arn) expected")
    if pod.get("terminationGracePeriodSeconds", 30) <= 25:
        fail("cronjob: terminationGracePeriodSeconds must exceed the driver's 25 s")
    sc = pod.get("securityContext", {})
    if not sc.get("runAsNonRoot") or not sc.get("runAsUser"):
        fail("cronjob: non-root expected")
    c = pod["containers"][0]
    mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts", [])}
    vols = {v["name"]: v for v in pod.get("volumes", [])}
    if c.get("securityContext", {}).get("readOnlyRootFilesystem"):
        if "/tmp" not in mounts or mounts["/tmp"] not in vols:
            fail("cronjob: a read-only root filesystem needs a writable /tmp (the driver's mktemp)")
    args = c.get("args", [])
    if "-state-dir" not in args or args[args.index("-state-dir") + 1] not in mounts:
        fail("cronjob: -state-dir must be on a mounted volume")
    state = vols[mounts[args[args.index("-state-dir") + 1]]]
    if "persistentVolumeClaim" not in state:
        fail("cronjob: the state directory must survive the pod (a PersistentVolumeClaim)")
    env = {e["name"]: e for e in c.get("env", [])}
    tok = env.get("DBLAB_TOKEN", {})
    if "value" in tok or "secretKeyRef" not in tok.get("valueFrom", {}):
        fail("cronjob: DBLAB_TOKEN must come from a Secret")
    if any(re.search(r"AWS_(ACCESS|SECRET)", n) for n in env):
        fail("cronjob: no static AWS keys with IRSA")
    check_cronjob_image(c)
    check_cronjob_args(docs, c, tmp)
    return typed


# ----------------------------------------------------------------------------- Dockerfile

def check_dockerfile(tmp):
    text = open(os.path.join(TOP, "Dockerfile")).read()
    lines = [ln for ln in re.sub(r"\\\n", " ", text).splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    froms = [ln.split()[1] for ln in lines if ln.startswith("FROM ")]
    if len(froms) < 2:
        fail("Dockerfile: multi-stage expected")
    if not re.fullmatch(r"debian:[a-z]+-slim", froms[-1]):
        fail("Dockerfile: the final stage must be Debian slim, got %s" % froms[-1])
    users = [ln.split()[1] for ln in lines if ln.startswith("USER ")]
    if not users or users[-1].split(":")[0] in ("0", "root"):
        fail("Dockerfile: a non-root USER expected")
    # Replay the build stage with exactly the files it copies: make -n checks that
    # every prerequisite of `all` and `install` is there (without compiling), and
    # every file the recipes name must be among the copies.
    src = os.path.join(tmp, "src")
    os.makedirs(src)
    copied = []
    # The build stage: from the first FROM to the next one (later stages, e.g. the
    # Lambda image's, copy their own files into themselves, not into the build).
    starts = [i for i, ln in enumerate(lines) if ln.startswith("FROM ")]
    build_stage = lines[starts[0]:starts[1]]
    for ln in build_stage:
        if ln.startswith("COPY ") and "--from" not in ln:
            for p in ln.split()[1:-1]:
                p = p.rstrip("/")
                s_ = os.path.join(TOP, p)
                os.makedirs(os.path.dirname(os.path.join(src, p)), exist_ok=True)
                (shutil.copytree if os.path.isdir(s_) else shutil.copy)(s_, os.path.join(src, p))
                copied.append(p)
    r = subprocess.run(["make", "-n", "all", "install", "PREFIX=/usr/local", "DESTDIR=/out"], cwd=src,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = r.stdout.decode()
    if r.returncode != 0:
        fail("Dockerfile: the build stage cannot make all install with the copied files:\n" + out[-2000:])
    # The source files of the project (build outputs of this checkout excluded).
    ls = subprocess.run(["git", "-C", TOP, "ls-files"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    tracked = ls.stdout.decode().split() if ls.returncode == 0 else []
    for tok in set(re.findall(r"[A-Za-z0-9_.*/-]+", out)):
        if tok.startswith(("/", "-")) or tok in (".", ".."):
            continue
        used = [f for f in tracked if f == tok or f.startswith(tok + "/") or fnmatch.fnmatchcase(f, tok)]
        if used and not glob.glob(os.path.join(src, tok)):
            fail("Dockerfile: the build uses %s but does not COPY it" % tok)
    bins = wraptest.BIN
    # The runtime stage's packages must provide every library the commands link.
    runtime = text[text.rindex("FROM "):]
    pkgs = set(re.findall(r"\b(lib[a-z0-9.+-]+|ca-certificates|util-linux)\b", runtime))
    needed = set()
    for cmd in wraptest.COMMANDS:
        out = subprocess.run(["objdump", "-p", os.path.join(bins, cmd)], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL).stdout.decode()
        # (a sanitizer build's runtime is not part of the image)
        needed |= {n for n in re.findall(r"NEEDED\s+(\S+)", out) if not n.startswith(("libasan", "libubsan"))}
    for lib in sorted(needed):
        path = subprocess.run(["/sbin/ldconfig", "-p"], stdout=subprocess.PIPE).stdout.decode()
        m = re.search(r"\s%s \(.*?\) => (\S+)" % re.escape(lib), path)
        if not m:
            fail("Dockerfile: %s not found on this machine" % lib)
        owner = subprocess.run(["dpkg", "-S", os.path.realpath(m.group(1))], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL).stdout.decode().split(":")[0]
        if not owner:
            owner = subprocess.run(["dpkg", "-S", m.group(1)], stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL).stdout.decode().split(":")[0]
        if owner not in ("libc6", "libgcc-s1") and owner not in pkgs:
            fail("Dockerfile: the runtime stage lacks package %s (for %s)" % (owner, lib))
    if "ca-certificates" not in pkgs:
        fail("Dockerfile: ca-certificates expected in the runtime stage (TLS to AWS and DBLab)")


def main():
    wraptest.check_commands()
    tmp = tempfile.mkdtemp(prefix="drr-deploy.")
    try:
        policy = Policy(json.load(open(os.path.join(TOP, "deploy", "iam", "policy.json"))))
        check_policy_refusals(policy)
        checked = check_policy_against_a_run(policy, tmp)
        print("ok: IAM policy allows every call of a run (%s) and refuses the rest" % ", ".join(checked))
        typed = check_cronjob(tmp)
        print("ok: CronJob (%sthis project's image, args accepted by the driver)"
              % ("Kubernetes API types, no unknown field, " if typed else ""))
        if shutil.which("objdump") and shutil.which("dpkg"):
            check_dockerfile(tmp)
            print("ok: Dockerfile (build stage checked with make -n; image not built: no Docker engine here)")
        else:
            print("skipped: Dockerfile replay (no objdump/dpkg)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if not typed:
        # as the other tests that need tests/node do: a skip, said in one line (last)
        print("SKIP: the CronJob's Kubernetes API types not checked: tests/node has no "
              "kubernetes-models (make deps, or cd tests/node && npm ci)")
        sys.exit(77)


if __name__ == "__main__":
    main()
