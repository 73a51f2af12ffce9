#!/usr/bin/python3
"""iam_covers.py ROLE [FROM] < calls.json: every AWS call the AWS emulator recorded
(from index FROM on) is an action ROLE of deploy/sam/template.yaml allows, so the
least-privilege roles are proven enough by the runs themselves. Exit 1 naming the
actions it lacks."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cfn_template  # noqa: E402

TOP = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
PREFIX = {"rds": "rds", "secretsmanager": "secretsmanager", "ssm": "ssm",
          "stepfunctions": "states", "sts": "sts"}

role = sys.argv[1]
start = int(sys.argv[2]) if len(sys.argv) > 2 else 0
calls = json.load(sys.stdin)["calls"][start:]
allowed = cfn_template.actions(cfn_template.load(os.path.join(TOP, "deploy", "sam",
                                                              "template.yaml")), role)
used = {"%s:%s" % (PREFIX.get(c["service"], c["service"]), c["action"])
        for c in calls if c.get("service") and c.get("action")}
missing = sorted(used - allowed)
if missing:
    print("%s lacks: %s" % (role, " ".join(missing)), file=sys.stderr)
    sys.exit(1)
print("%s allows all %d actions used: %s" % (role, len(used), " ".join(sorted(used))))
