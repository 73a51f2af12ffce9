#!/usr/bin/python3
"""deploy/sam/template.yaml against the CloudFormation resource specification (the
@aws-cdk/cfnspec npm package's spec/specification.json, pinned in tests/node): every
resource type exists, every property is one the type has (no invented properties), the
required ones are there, nested property types are checked member by member, every
!GetAtt names an attribute the type has, every !Ref a parameter or resource. And what
the deployment promises: the seed's parameter names, the DBLab token only as a
reference, deploy/iam/policy.json's tag conditions, log groups with retention, alarms on
failed and timed-out executions, the definition valid for asl-validator."""
import json
import os
import re
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
import cfn_template  # noqa: E402

NODE = os.path.join(TOP, "tests", "node")
SPEC = os.path.join(NODE, "node_modules", "@aws-cdk", "cfnspec", "spec", "specification.json")
TEMPLATE = os.path.join(TOP, "deploy", "sam", "template.yaml")
ASL = os.path.join(TOP, "deploy", "sam", "statemachine.asl.json")
PSEUDO = {"AWS::AccountId", "AWS::NoValue", "AWS::Partition", "AWS::Region", "AWS::StackName",
          "AWS::StackId", "AWS::URLSuffix", "AWS::NotificationARNs"}
SEED_PARAMETERS = ["RDSSourceType", "RDSSourceIdentifier", "RDSCloneInstanceClass",
                   "DBLabAPIEndpoint", "DBLabToken", "ScheduleExpression"]


def is_intrinsic(v):
    return isinstance(v, dict) and len(v) == 1 and (
        next(iter(v)) == "Ref" or next(iter(v)).startswith("Fn::"))


class SpecChecker:
    """Checks resources against the resource specification; returns problems."""

    def __init__(self, spec):
        self.spec = spec

    def check(self, template):
        problems = []
        for name, res in template["Resources"].items():
            rtype = res.get("Type")
            rspec = self.spec["ResourceTypes"].get(rtype)
            if rspec is None:
                problems.append(f"{name}: {rtype}: no such resource type")
                continue
            self._props(f"{name}", rtype, res.get("Properties", {}), rspec["Properties"],
                        problems)
        self._refs(template, template, problems)
        return problems

    def _props(self, where, rtype, props, pspec, problems):
        if is_intrinsic(props):
            for branch in self._branches(props):
                self._props(where, rtype, branch, pspec, problems)
            return
        if not isinstance(props, dict):
            problems.append(f"{where}: expected an object")
            return
        for p in props:
            if p not in pspec:
                problems.append(f"{where}.{p}: not a property of {rtype}")
        for p, ps in pspec.items():
            if ps.get("Required") and p not in props:
                problems.append(f"{where}.{p}: required by {rtype}")
        for p, v in props.items():
            if p in pspec:
                self._value(f"{where}.{p}", rtype, v, pspec[p], problems)

    def _branches(self, v):
        """The values an Fn::If may take (AWS::NoValue drops out)."""
        if isinstance(v, dict) and "Fn::If" in v:
            out = []
            for b in v["Fn::If"][1:]:
                if b == {"Ref": "AWS::NoValue"}:
                    continue
                out.extend(self._branches(b))
            return out
        return [v] if not is_intrinsic(v) else []

    def _value(self, where, rtype, v, ps, problems):
        base = rtype.split(".")[0]
        for b in (self._branches(v) if is_intrinsic(v) else [v]):
            kind = ps.get("Type")
            if kind in ("List",):
                if not isinstance(b, list):
                    problems.append(f"{where}: expected a list")
                    continue
                item = ps.get("ItemType")
                for i, x in enumerate(b):
                    if item and not is_intrinsic(x):
                        self._nested(f"{where}[{i}]", base, item, x, problems)
            elif kind == "Map":
                if not isinstance(b, dict):
                    problems.append(f"{where}: expected a map")
            elif kind:
                self._nested(where, base, kind, b, problems)
            else:
                prim = ps.get("PrimitiveType")
                if prim in ("Integer", "Long", "Double") and not isinstance(b, (int, float)) \
                        and not (isinstance(b, str) and re.fullmatch(r"-?\d+(\.\d+)?", b)):
                    problems.append(f"{where}: {prim} expected, got {b!r}")
                if prim == "String" and isinstance(b, (dict, list)) and not is_intrinsic(b):
                    problems.append(f"{where}: String expected")

    def _nested(self, where, base, tname, v, problems):
        full = f"{base}.{tname}"
        tspec = self.spec["PropertyTypes"].get(full) or self.spec["PropertyTypes"].get(tname)
        if tspec is None:
            problems.append(f"{where}: unknown property type {full}")
            return
        if "Properties" in tspec:
            self._props(where, full, v, tspec["Properties"], problems)

    def _refs(self, template, node, problems):
        if isinstance(node, dict):
            if "Ref" in node and len(node) == 1:
                r = node["Ref"]
                if r not in template.get("Parameters", {}) and r not in template["Resources"] \
                        and r not in PSEUDO:
                    problems.append(f"Ref {r}: no such parameter or resource")
            if "Fn::GetAtt" in node:
                res, att = node["Fn::GetAtt"]
                rtype = template["Resources"].get(res, {}).get("Type")
                atts = self.spec["ResourceTypes"].get(rtype, {}).get("Attributes", {})
                if att not in atts:
                    problems.append(f"GetAtt {res}.{att}: {rtype} has no such attribute")
            if "Fn::Sub" in node and isinstance(node["Fn::Sub"], str):
                for var in re.findall(r"\$\{([^}!]+)\}", node["Fn::Sub"]):
                    if "." in var:
                        self._refs(template, {"Fn::GetAtt": var.split(".", 1)}, problems)
                    else:
                        self._refs(template, {"Ref": var}, problems)
            if "Fn::If" in node:
                if node["Fn::If"][0] not in template.get("Conditions", {}):
                    problems.append(f"If {node['Fn::If'][0]}: no such condition")
            for v in node.values():
                self._refs(template, v, problems)
        elif isinstance(node, list):
            for v in node:
                self._refs(template, v, problems)


class Template(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.exists(SPEC):
            raise unittest.SkipTest("tests/node has no @aws-cdk/cfnspec (make deps)")
        with open(SPEC) as f:
            cls.checker = SpecChecker(json.load(f))
        cls.t = cfn_template.load(TEMPLATE)

    def test_against_the_resource_specification(self):
        # As deployed: `sam deploy` (aws cloudformation package) uploads the local file
        # DefinitionS3Location names and writes its S3Location {Bucket, Key} in its place.
        t = cfn_template.load(TEMPLATE)
        sm = t["Resources"]["StateMachine"]["Properties"]
        self.assertIsInstance(sm["DefinitionS3Location"], str)
        sm["DefinitionS3Location"] = {"Bucket": "sam-artifacts", "Key": "0123abcd"}
        self.assertEqual(self.checker.check(t), [])

    def test_the_checker_finds_an_invented_property(self):
        t = cfn_template.load(TEMPLATE)
        t["Resources"]["Schedule"]["Properties"]["Target"]["Timezone"] = "UTC"
        t["Resources"]["StepFunction"]["Properties"]["LoggingGroup"] = "x"
        del t["Resources"]["StateMachine"]["Properties"]["RoleArn"]
        t["Resources"]["StateMachine"]["Properties"]["DefinitionSubstitutions"]["X"] = \
            {"Fn::GetAtt": ["StepFunction", "Url"]}
        problems = "\n".join(self.checker.check(t))
        self.assertIn("Schedule.Target.Timezone: not a property", problems)
        self.assertIn("StepFunction.LoggingGroup: not a property", problems)
        self.assertIn("StateMachine.RoleArn: required", problems)
        self.assertIn("GetAtt StepFunction.Url", problems)

    def test_seed_parameters(self):
        for p in SEED_PARAMETERS:
            self.assertIn(p, self.t["Parameters"])
        self.assertEqual(self.t["Parameters"]["ScheduleExpression"]["Default"], "rate(7 days)")
        sched = self.t["Resources"]["Schedule"]["Properties"]
        self.assertEqual(sched["ScheduleExpression"], {"Ref": "ScheduleExpression"})
        self.assertEqual(sched["Target"]["Arn"], {"Ref": "StateMachine"})

    def test_the_token_is_only_a_reference(self):
        p = self.t["Parameters"]["DBLabToken"]
        self.assertTrue(p.get("NoEcho"))
        pat = re.compile(p["AllowedPattern"])
        for ok in ("secretsmanager:dblab/token", "secretsmanager:dblab/config#token",
                   "ssm:/dblab/token"):
            self.assertTrue(pat.fullmatch(ok), ok)
        for bad in ("s3cr3t-token-value", "secretsmanager:other/token", "${DBLAB_TOKEN}", ""):
            self.assertFalse(pat.fullmatch(bad), bad)

    def test_iam_keeps_the_tag_conditions(self):
        with open(os.path.join(TOP, "deploy", "iam", "policy.json")) as f:
            policy = json.load(f)
        mine = {s.get("Sid"): s for s in cfn_template.statements(self.t, "StepFunctionRole")}
        for st in policy["Statement"]:
            self.assertIn(st["Sid"], mine, st["Sid"])
            m = mine[st["Sid"]]
            self.assertEqual(sorted(m["Action"] if isinstance(m["Action"], list) else [m["Action"]]),
                             sorted(st["Action"] if isinstance(st["Action"], list) else [st["Action"]]))
            self.assertEqual(m.get("Condition"), st.get("Condition"), st["Sid"])
            want = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
            got = m["Resource"] if isinstance(m["Resource"], list) else [m["Resource"]]
            if "KMS_KEY_ID" in json.dumps(want):
                continue   # the key's ARN is a parameter here
            subst = [x if isinstance(x, str) else x["Fn::Sub"]
                     .replace("${AWS::Partition}", "aws").replace("${AWS::AccountId}", "ACCOUNT_ID")
                     .replace("${RDSSourceIdentifier}", "SOURCE_IDENTIFIER")
                     for x in got]
            self.assertEqual(sorted(subst), sorted(want), st["Sid"])
        # nothing changes RDS outside those statements
        for role in ("EntryFunctionRole", "StateMachineRole", "SchedulerRole"):
            changing = [a for a in cfn_template.actions(self.t, role)
                        if a.startswith("rds:") and not a.startswith(("rds:Describe", "rds:List"))]
            self.assertEqual(changing, [], role)

    def test_log_groups_with_retention(self):
        res = self.t["Resources"]
        groups = {r["Properties"]["LogGroupName"]: r["Properties"] for r in res.values()
                  if r["Type"] == "AWS::Logs::LogGroup"}
        for fn in ("StepFunction", "EntryFunction"):
            name = "/aws/lambda/" + res[fn]["Properties"]["FunctionName"]
            self.assertIn(name, groups)
            self.assertIn("RetentionInDays", groups[name])
        dest = res["StateMachine"]["Properties"]["LoggingConfiguration"]["Destinations"][0]
        lg = dest["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"][0]
        self.assertIn("RetentionInDays", res[lg]["Properties"])

    def test_alarms_on_failed_and_timed_out_executions(self):
        metrics = {(r["Properties"]["Namespace"], r["Properties"]["MetricName"])
                   for r in self.t["Resources"].values() if r["Type"] == "AWS::CloudWatch::Alarm"}
        self.assertIn(("AWS/States", "ExecutionsFailed"), metrics)
        self.assertIn(("AWS/States", "ExecutionsTimedOut"), metrics)

    def test_function_environment_fills_the_image_config(self):
        with open(os.path.join(TOP, "deploy", "lambda", "config.yaml")) as f:
            cfg = f.read()
        required = set(re.findall(r"\$\{([A-Z_]+)\}", cfg)) - {"AWS_REGION"}  # Lambda sets it
        optional = set(re.findall(r"\$\{([A-Z_]+):-", cfg))
        for fn in ("StepFunction", "EntryFunction"):
            env = self.t["Resources"][fn]["Properties"]["Environment"]["Variables"]
            self.assertEqual(required - set(env), set(), fn)
            for k in env:
                if k.startswith(("RDS_", "DBLAB_")) and k != "DBLAB_RDS_REFRESH_LOG_FORMAT":
                    self.assertIn(k, required | optional, f"{fn}: {k} is read by nothing")
            self.assertEqual(env["DBLAB_TOKEN"], {"Ref": "DBLabToken"})

    def test_definition(self):
        sm = self.t["Resources"]["StateMachine"]["Properties"]
        self.assertEqual(os.path.join(os.path.dirname(TEMPLATE), sm["DefinitionS3Location"]), ASL)
        with open(ASL) as f:
            text = f.read()
        self.assertEqual(set(re.findall(r"\$\{(\w+)\}", text)), set(sm["DefinitionSubstitutions"]))
        definition = json.loads(text)
        self.assertGreater(definition["TimeoutSeconds"], 0)
        p = subprocess.run(["npx", "--no-install", "asl-validator", "--json-path", ASL],
                           cwd=NODE, capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("is valid", p.stdout)
        # and the validator does reject a broken definition
        broken = dict(definition, States=dict(definition["States"]))
        broken["States"]["CreateClone"] = dict(broken["States"]["CreateClone"], Next="NoSuchState")
        path = os.path.join(os.environ.get("TMPDIR", "/tmp"), "broken-%d.asl.json" % os.getpid())
        with open(path, "w") as f:
            json.dump(broken, f)
        try:
            p = subprocess.run(["npx", "--no-install", "asl-validator", "--json-path", path],
                               cwd=NODE, capture_output=True, text=True, timeout=120)
        finally:
            os.unlink(path)
        self.assertNotIn("is valid", p.stdout)

    def test_every_task_after_create_is_caught(self):
        with open(ASL) as f:
            states = json.load(f)["States"]
        for name in ("CheckClone", "StartRefresh", "CheckRefresh"):
            catch = states[name]["Catch"]
            self.assertEqual(catch[0]["ErrorEquals"], ["States.ALL"])
            self.assertEqual(catch[0]["Next"], "DeleteAfterFailure")
        self.assertEqual(states["CreateClone"]["Catch"][0]["Next"], "DeleteAfterFailure")
        lambda_errors = {"Lambda.ServiceException", "Lambda.AWSLambdaException",
                         "Lambda.SdkClientException", "Lambda.TooManyRequestsException"}
        for name, s in states.items():
            if s["Type"] == "Task":
                self.assertTrue(any(lambda_errors <= set(r["ErrorEquals"]) for r in s["Retry"]),
                                name)

    def test_dockerfile_has_the_lambda_target(self):
        with open(os.path.join(TOP, "Dockerfile")) as f:
            self.assertRegex(f.read(), r"(?m)^FROM .* AS lambda$")
        for fn in ("StepFunction", "EntryFunction"):
            self.assertEqual(self.t["Resources"][fn]["Metadata"]["DockerBuildTarget"], "lambda")


if __name__ == "__main__":
    unittest.main(verbosity=1)
