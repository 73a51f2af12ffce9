#!/usr/bin/python3
"""deploy/iam/policy.json is a valid IAM policy whose every action exists (issue 12).

Checked against botocore's service models (the same models the AWS CLI signs
requests from, /usr/lib/python3/dist-packages/botocore/data/SERVICE/*/service-2.json):
- the document is JSON with Version 2012-10-17, unique alphanumeric Sids, and
  only the policy elements IAM knows (Sid, Effect, Action, Resource, Condition);
- every "service:Action" names an operation of that service's model (rds, kms,
  secretsmanager, ssm), so a typo like rds:DeleteDbInstance -- which IAM accepts
  silently and never matches -- fails here;
- every condition operator is one IAM defines, and every condition key is a
  global key or one of the service's documented keys for the resources used
  (the RDS tag keys rds:db-tag/, rds:cluster-tag/, aws:RequestTag/; kms:ViaService,
  kms:GrantIsForAWSResource);
- the guard rails the docs promise are there: no wildcard action, tagging and
  creating only dblab-refresh-* with the ManagedBy request tag, modify/delete only
  dblab-refresh-* carrying ManagedBy, and no rds:RemoveTagsFromResource at all.
What IAM cannot express (tagging tied to a create action) is in docs/deploy.md."""
import glob
import json
import os
import re
import sys

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BOTOCORE = "/usr/lib/python3/dist-packages/botocore/data"

# IAM's condition operators (IAM User Guide, "Condition operators"), with the
# ...IfExists and ForAllValues:/ForAnyValue: forms.
OPERATORS = {"StringEquals", "StringNotEquals", "StringEqualsIgnoreCase",
             "StringNotEqualsIgnoreCase", "StringLike", "StringNotLike", "NumericEquals",
             "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals",
             "NumericGreaterThan", "NumericGreaterThanEquals", "DateEquals", "DateNotEquals",
             "DateLessThan", "DateLessThanEquals", "DateGreaterThan", "DateGreaterThanEquals",
             "Bool", "BinaryEquals", "IpAddress", "NotIpAddress", "ArnEquals", "ArnLike",
             "ArnNotEquals", "ArnNotLike", "Null"}
# IAM's global keys used for these services (IAM User Guide, "AWS global condition
# context keys") and the services' own (service authorization reference).
KEYS = [r"aws:RequestTag/.+", r"aws:ResourceTag/.+", r"aws:TagKeys", r"aws:CalledVia",
        r"aws:CalledViaFirst", r"aws:CalledViaLast", r"aws:ViaAWSService",
        r"rds:db-tag/.+", r"rds:cluster-tag/.+", r"rds:req-tag/.+", r"kms:ViaService",
        r"kms:GrantIsForAWSResource", r"secretsmanager:ResourceTag/.+",
        r"secretsmanager:SecretId", r"ssm:resourceTag/.+"]


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def operations(service):
    models = sorted(glob.glob(os.path.join(BOTOCORE, service, "*", "service-2.json")))
    if not models:
        print("skip: botocore's %s model is not installed" % service)
        sys.exit(77)
    return set(json.load(open(models[-1]))["operations"])


def listify(v):
    return v if isinstance(v, list) else [v]


def main():
    doc = json.load(open(os.path.join(TOP, "deploy", "iam", "policy.json")))
    if doc.get("Version") != "2012-10-17":
        fail("Version must be 2012-10-17")
    models = {s: operations(s) for s in ("rds", "kms", "secretsmanager", "ssm")}
    sids = set()
    granted = {}
    for st in doc["Statement"]:
        sid = st.get("Sid", "")
        if not re.fullmatch(r"[A-Za-z0-9]+", sid) or sid in sids:
            fail("Sid %r: must be alphanumeric and unique" % sid)
        sids.add(sid)
        extra = set(st) - {"Sid", "Effect", "Action", "Resource", "Condition"}
        if extra or st.get("Effect") not in ("Allow", "Deny"):
            fail("%s: unexpected elements %s or Effect %r" % (sid, sorted(extra), st.get("Effect")))
        for action in listify(st["Action"]):
            service, _, name = action.partition(":")
            if "*" in action or service not in models:
                fail("%s: %s is a wildcard or a service this policy should not name" % (sid, action))
            if name not in models[service]:
                fail("%s: %s is not an operation of botocore's %s model" % (sid, action, service))
            granted.setdefault(action, []).append(st)
        for op, kv in (st.get("Condition") or {}).items():
            base = re.sub(r"^(ForAllValues|ForAnyValue):", "", op)
            base = re.sub(r"IfExists$", "", base)
            if base not in OPERATORS:
                fail("%s: unknown condition operator %s" % (sid, op))
            for key in kv:
                if not any(re.fullmatch(k, key) for k in KEYS):
                    fail("%s: condition key %s is not one this policy may use" % (sid, key))
        for res in listify(st["Resource"]):
            if res != "*" and not res.startswith("arn:aws:"):
                fail("%s: resource %s is not an ARN" % (sid, res))

    # the guard rails docs/deploy.md describes
    if "rds:RemoveTagsFromResource" in granted:
        fail("rds:RemoveTagsFromResource is granted: the tool never removes tags")
    for action in ("rds:AddTagsToResource", "rds:RestoreDBInstanceFromDBSnapshot",
                   "rds:RestoreDBClusterFromSnapshot", "rds:CreateDBInstance"):
        for st in granted.get(action, []):
            clones = [r for r in listify(st["Resource"]) if ":db:" in r or ":cluster:" in r]
            if not clones:
                continue
            if any(not re.search(r":(db|cluster):dblab-refresh-\*$", r) for r in clones):
                fail("%s: %s on databases other than dblab-refresh-*" % (st["Sid"], action))
            if st.get("Condition", {}).get("StringEquals", {}).get(
                    "aws:RequestTag/ManagedBy") != "dblab-rds-refresh":
                fail("%s: %s without the ManagedBy request tag" % (st["Sid"], action))
    for action, key in (("rds:DeleteDBInstance", "rds:db-tag/ManagedBy"),
                        ("rds:ModifyDBInstance", "rds:db-tag/ManagedBy"),
                        ("rds:DeleteDBCluster", "rds:cluster-tag/ManagedBy"),
                        ("rds:ModifyDBCluster", "rds:cluster-tag/ManagedBy")):
        sts = granted.get(action)
        if not sts:
            fail("%s is not granted" % action)
        for st in sts:
            if any(not re.search(r":(db|cluster):dblab-refresh-\*$", r) for r in listify(st["Resource"])):
                fail("%s: %s on resources other than dblab-refresh-*" % (st["Sid"], action))
            if st.get("Condition", {}).get("StringEquals", {}).get(key) != "dblab-rds-refresh":
                fail("%s: %s without %s = dblab-rds-refresh" % (st["Sid"], action, key))
    print("ok: deploy/iam/policy.json: %d statements, %d actions, all in botocore's models"
          % (len(doc["Statement"]), len(granted)))


if __name__ == "__main__":
    main()
