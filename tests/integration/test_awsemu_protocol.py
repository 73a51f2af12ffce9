#!/usr/bin/python3
"""AWS emulator: SigV4 verification, model validation and the error format.

Requests are signed with botocore's own signer and then broken on purpose; the
emulator must answer with the code, HTTP status and XML AWS uses."""
import datetime
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "emulators"))

from awsemu.testing import RDS_NS, Emulator, rds_params, xml_error  # noqa: E402

UTC = datetime.timezone.utc
STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"


class Protocol(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.emu = Emulator()

    @classmethod
    def tearDownClass(cls):
        cls.emu.stop()

    def rds(self, action, **params):
        return self.emu.signed("rds", rds_params(action, **params))

    def assertAwsError(self, resp, status, code, ns=RDS_NS, message_part=None):
        st, headers, body = resp
        self.assertEqual(st, status, body)
        etype, ecode, message, request_id, got_ns = xml_error(body)
        self.assertEqual(ecode, code, message)
        self.assertEqual(got_ns, ns)
        self.assertEqual(etype, "Sender" if status < 500 else "Receiver")
        self.assertRegex(request_id, r"^[0-9a-f-]{36}$")
        self.assertEqual(headers.get("x-amzn-RequestId"), request_id)
        if message_part:
            self.assertIn(message_part, message)
        return message

    # ------------------------------------------------------------ signatures
    def test_valid_signature_accepted(self):
        st, _, body = self.rds("DescribeDBInstances", DBInstanceIdentifier="production-db")
        self.assertEqual(st, 200, body)
        self.assertIn(b"<DescribeDBInstancesResponse xmlns=\"" + RDS_NS.encode(), body)

    def test_wrong_secret(self):
        resp = self.emu.signed("rds", rds_params("DescribeDBInstances"), secret="wrong")
        self.assertAwsError(resp, 403, "SignatureDoesNotMatch",
                            message_part="The request signature we calculated")

    def test_body_changed_after_signing(self):
        import urllib.parse
        signed_body = urllib.parse.urlencode(rds_params("DescribeDBInstances")).encode()
        other = urllib.parse.urlencode(rds_params("DescribeDBClusters")).encode()
        import botocore.auth
        import botocore.awsrequest
        import botocore.credentials
        req = botocore.awsrequest.AWSRequest(
            method="POST", url=self.emu.url + "/", data=signed_body,
            headers={"Content-Type": "application/x-www-form-urlencoded",
                     "Host": f"127.0.0.1:{self.emu.port}"})
        botocore.auth.SigV4Auth(botocore.credentials.Credentials(
            "AKIDTESTEMULATOR", "emulator-secret-key"), "rds", "us-east-1").add_auth(req)
        resp = self.emu.raw("POST", "/", other, dict(req.headers.items()))
        self.assertAwsError(resp, 403, "SignatureDoesNotMatch")

    def test_signed_header_changed(self):
        def tamper(h):
            h["Host"] = "rds.us-east-1.amazonaws.com"
        resp = self.emu.signed("rds", rds_params("DescribeDBInstances"), tamper=tamper)
        self.assertAwsError(resp, 403, "SignatureDoesNotMatch")

    def test_missing_authorization(self):
        import urllib.parse
        resp = self.emu.raw("POST", "/", urllib.parse.urlencode(
            rds_params("DescribeDBInstances")).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertAwsError(resp, 403, "MissingAuthenticationToken")

    def test_garbled_authorization(self):
        for bad in ("AWS4-HMAC-SHA256 Credential=AKIDTESTEMULATOR/20240101/us-east-1/rds",
                    "AWS4-HMAC-SHA256 garbage",
                    "Basic dXNlcjpwYXNz",
                    "AWS4-HMAC-SHA256 Credential=AKIDTESTEMULATOR/us-east-1/rds/aws4_request, "
                    "SignedHeaders=host;x-amz-date, Signature=00"):
            def tamper(h, bad=bad):
                h["Authorization"] = bad
            resp = self.emu.signed("rds", rds_params("DescribeDBInstances"), tamper=tamper)
            self.assertAwsError(resp, 400, "IncompleteSignature")

    def test_host_not_signed(self):
        def tamper(h):
            h["Authorization"] = h["Authorization"].replace("SignedHeaders=content-type;host;",
                                                            "SignedHeaders=content-type;")
        resp = self.emu.signed("rds", rds_params("DescribeDBInstances"), tamper=tamper)
        self.assertAwsError(resp, 400, "IncompleteSignature", message_part="Host")

    def test_unknown_access_key(self):
        resp = self.emu.signed("rds", rds_params("DescribeDBInstances"),
                               access_key="AKIDUNKNOWN0000000", secret="x")
        self.assertAwsError(resp, 403, "InvalidClientTokenId")

    def test_static_key_with_session_token(self):
        resp = self.emu.signed("rds", rds_params("DescribeDBInstances"), token="bogus")
        self.assertAwsError(resp, 403, "InvalidClientTokenId")

    def test_clock_skew(self):
        for minutes in (-6, 6):
            when = datetime.datetime.utcnow() + datetime.timedelta(minutes=minutes)
            resp = self.emu.signed("rds", rds_params("DescribeDBInstances"), when=when)
            self.assertAwsError(resp, 400, "RequestExpired")
        when = datetime.datetime.utcnow() - datetime.timedelta(minutes=4)
        st, _, body = self.emu.signed("rds", rds_params("DescribeDBInstances"), when=when)
        self.assertEqual(st, 200, body)

    def test_wrong_region_and_service_scope(self):
        resp = self.emu.signed("rds", rds_params("DescribeDBInstances"), region="eu-west-1")
        self.assertAwsError(resp, 403, "SignatureDoesNotMatch", message_part="region")
        resp = self.emu.signed("rds", rds_params("DescribeDBInstances"), sign_service="ec2")
        self.assertAwsError(resp, 403, "SignatureDoesNotMatch", message_part="'rds'")
        # An STS action signed for rds is an unknown RDS action.
        resp = self.emu.signed("rds", {"Action": "AssumeRole", "Version": "2011-06-15"})
        self.assertAwsError(resp, 400, "InvalidAction")

    def test_session_credentials_lifecycle(self):
        st, _, body = self.emu.signed("sts", {
            "Action": "AssumeRole", "Version": "2011-06-15",
            "RoleArn": "arn:aws:iam::123456789012:role/dblab-rds-refresh",
            "RoleSessionName": "protocol-test"})
        self.assertEqual(st, 200, body)
        import xml.etree.ElementTree as ET
        root = ET.fromstring(body)
        ns = {"s": STS_NS}
        key = root.findtext("s:AssumeRoleResult/s:Credentials/s:AccessKeyId", namespaces=ns)
        secret = root.findtext("s:AssumeRoleResult/s:Credentials/s:SecretAccessKey",
                               namespaces=ns)
        token = root.findtext("s:AssumeRoleResult/s:Credentials/s:SessionToken", namespaces=ns)
        self.assertTrue(key.startswith("ASIA"))
        st, _, body = self.emu.signed("rds", rds_params("DescribeDBInstances"),
                                      access_key=key, secret=secret, token=token)
        self.assertEqual(st, 200, body)
        resp = self.emu.signed("rds", rds_params("DescribeDBInstances"),
                               access_key=key, secret=secret)  # token missing
        self.assertAwsError(resp, 403, "InvalidClientTokenId")
        self.emu.control("POST", "/_emulator/credentials/expire")
        resp = self.emu.signed("rds", rds_params("DescribeDBInstances"),
                               access_key=key, secret=secret, token=token)
        self.assertAwsError(resp, 403, "ExpiredToken")

    # ------------------------------------------------------------ model validation
    def test_invalid_action(self):
        self.assertAwsError(self.rds("DescribeDBInstancez"), 400, "InvalidAction")
        resp = self.emu.signed("rds", {"Action": "DescribeDBInstances", "Version": "2013-01-10"})
        self.assertAwsError(resp, 400, "InvalidAction")
        resp = self.emu.signed("rds", {"Version": "2014-10-31"})
        self.assertAwsError(resp, 400, "MissingAction")
        resp = self.emu.signed("rds", {"Action": "DescribeDBInstances"})
        self.assertAwsError(resp, 400, "MissingParameter", message_part="Version")

    def test_unknown_parameters(self):
        for bad in ({"DBInstanceIdentifer": "production-db"},          # typo
                    {"Filters.member.1.Name": "engine",                # wrong list name
                     "Filters.member.1.Values.member.1": "postgres"},
                    {"Filters.Filter.0.Name": "engine",                # index from 0
                     "Filters.Filter.0.Values.Value.1": "postgres"},
                    {"Filters.Filter.1.Name": "engine",
                     "Filters.Filter.1.Values.1": "postgres"},         # missing .Value
                    {"MaxRecords.Value": "20"}):
            resp = self.rds("DescribeDBInstances", **bad)
            self.assertAwsError(resp, 400, "InvalidParameterValue")
        resp = self.rds("RestoreDBInstanceFromDBSnapshot", DBInstanceIdentifier="x1",
                        DBSnapshotIdentifier="rds:production-db-x",
                        **{"VpcSecurityGroupIds.member.1": "sg-0123456789abcdef0"})
        self.assertAwsError(resp, 400, "InvalidParameterValue", message_part="VpcSecurityGroupIds")

    def test_missing_required(self):
        resp = self.rds("DeleteDBInstance", SkipFinalSnapshot="true")
        self.assertAwsError(resp, 400, "MissingParameter", message_part="DBInstanceIdentifier")
        resp = self.rds("DescribeDBInstances", **{"Filters.Filter.1.Name": "engine"})
        self.assertAwsError(resp, 400, "MissingParameter", message_part="Values")
        resp = self.rds("AddTagsToResource",
                        ResourceName="arn:aws:rds:us-east-1:123456789012:db:production-db")
        self.assertAwsError(resp, 400, "MissingParameter", message_part="Tags")

    def test_type_and_range_validation(self):
        self.assertAwsError(self.rds("DescribeDBInstances", MaxRecords="abc"), 400,
                            "InvalidParameterValue")
        self.assertAwsError(self.rds("DescribeDBInstances", MaxRecords="19"), 400,
                            "InvalidParameterValue", message_part="MaxRecords")
        self.assertAwsError(self.rds("DescribeDBInstances", MaxRecords="101"), 400,
                            "InvalidParameterValue", message_part="MaxRecords")
        self.assertAwsError(self.rds("DeleteDBInstance", DBInstanceIdentifier="billing-db",
                                     SkipFinalSnapshot="True"), 400, "InvalidParameterValue")
        self.assertAwsError(self.rds("RestoreDBClusterToPointInTime", DBClusterIdentifier="c1",
                                     SourceDBClusterIdentifier="production-aurora",
                                     RestoreToTime="yesterday"), 400, "InvalidParameterValue")
        self.assertAwsError(self.rds("DescribeDBSnapshots", SnapshotType="nightly"), 400,
                            "InvalidParameterValue")
        self.assertAwsError(self.rds("DescribeDBInstances",
                                     **{"Filters.Filter.1.Name": "name",
                                        "Filters.Filter.1.Values.Value.1": "x"}),
                            400, "InvalidParameterValue", message_part="filter")
        self.assertAwsError(self.rds("DescribeDBSnapshots", Marker="not-a-marker"), 400,
                            "InvalidParameterValue", message_part="Marker")
        self.assertAwsError(self.rds("RestoreDBInstanceFromDBSnapshot",
                                     DBInstanceIdentifier="bad--name",
                                     DBSnapshotIdentifier="rds:production-db-x"),
                            400, "InvalidParameterValue", message_part="identifier")

    def test_modelled_error_statuses(self):
        m = self.assertAwsError(self.rds("DescribeDBInstances", DBInstanceIdentifier="nope"),
                                404, "DBInstanceNotFound")
        self.assertIn("nope", m)
        self.assertAwsError(self.rds("DescribeDBClusters", DBClusterIdentifier="nope"),
                            404, "DBClusterNotFoundFault")
        self.assertAwsError(self.rds("DescribeDBSnapshots", DBSnapshotIdentifier="nope"),
                            404, "DBSnapshotNotFound")
        self.assertAwsError(self.rds("DescribeDBClusterSnapshots",
                                     DBClusterSnapshotIdentifier="nope"),
                            404, "DBClusterSnapshotNotFoundFault")

    def test_form_encoding_edge_cases(self):
        # Query parameters in the URL count like body parameters (GET is valid).
        import urllib.parse
        q = urllib.parse.urlencode(rds_params("DescribeDBInstances",
                                              DBInstanceIdentifier="production-db"))
        st, _, body = self.emu.signed("rds", b"", path="/?" + q,
                                      headers={"Content-Type":
                                               "application/x-www-form-urlencoded"})
        self.assertEqual(st, 200, body)
        # A JSON body to a Query API has no Action.
        st, _, body = self.emu.signed("rds", b"{}", headers={"Content-Type": "application/json"})
        self.assertEqual(st, 400)
        self.assertEqual(xml_error(body)[1], "MissingAction")
        # Duplicate parameters are rejected.
        body = b"Action=DescribeDBInstances&Version=2014-10-31&MaxRecords=20&MaxRecords=30"
        resp = self.emu.signed("rds", body, headers={"Content-Type":
                                                     "application/x-www-form-urlencoded"})
        self.assertAwsError(resp, 400, "InvalidParameterValue")

    def test_keep_alive_and_expect_continue(self):
        """libcurl reuses one connection and may send Expect: 100-continue."""
        import socket
        import urllib.parse
        import botocore.auth
        import botocore.awsrequest
        import botocore.credentials

        def signed_bytes(params, extra=None):
            body = urllib.parse.urlencode(params).encode()
            req = botocore.awsrequest.AWSRequest(
                method="POST", url=self.emu.url + "/", data=body,
                headers={"Content-Type": "application/x-www-form-urlencoded",
                         "Host": f"127.0.0.1:{self.emu.port}"})
            botocore.auth.SigV4Auth(botocore.credentials.Credentials(
                "AKIDTESTEMULATOR", "emulator-secret-key"), "rds", "us-east-1").add_auth(req)
            head = "POST / HTTP/1.1\r\n" + "".join(
                f"{k}: {v}\r\n" for k, v in req.headers.items()) + \
                f"Content-Length: {len(body)}\r\n" + (extra or "") + "\r\n"
            return head.encode(), body

        with socket.create_connection(("127.0.0.1", self.emu.port), timeout=30) as sock:
            f = sock.makefile("rb")

            def response():
                status = f.readline()
                length = 0
                while True:
                    line = f.readline()
                    if line in (b"\r\n", b""):
                        break
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                return status, f.read(length)

            for params in (rds_params("DescribeDBInstances", DBInstanceIdentifier="nope"),
                           rds_params("DescribeDBInstances", DBInstanceIdentifier="billing-db")):
                head, body = signed_bytes(params)
                sock.sendall(head + body)
                status, data = response()
                self.assertIn(b"HTTP/1.1 ", status)
            self.assertIn(b"billing-db", data)
            head, body = signed_bytes(rds_params("DescribeDBClusters"),
                                      "Expect: 100-continue\r\n")
            sock.sendall(head)
            self.assertIn(b"100", f.readline())
            f.readline()
            sock.sendall(body)
            status, data = response()
            self.assertIn(b"200", status)
            self.assertIn(b"production-aurora", data)

    # ------------------------------------------------------------ JSON services
    def json_call(self, service, target, payload, **kw):
        st, headers, body = self.emu.signed(service, json.dumps(payload).encode(),
                                            headers={"X-Amz-Target": target}, **kw)
        return st, headers, json.loads(body)

    def test_json_services(self):
        st, _, out = self.json_call("secretsmanager", "secretsmanager.GetSecretValue",
                                    {"SecretId": "dblab/token"})
        self.assertEqual(st, 200, out)
        self.assertEqual(out["SecretString"], "emulator-dblab-token-from-secretsmanager")
        st, _, out = self.json_call("secretsmanager", "secretsmanager.GetSecretValue",
                                    {"SecretId": "dblab/nope"})
        self.assertEqual((st, out["__type"]), (400, "ResourceNotFoundException"))
        st, _, out = self.json_call("secretsmanager", "secretsmanager.GetSecretValue", {})
        self.assertEqual((st, out["__type"]), (400, "ValidationException"))
        st, _, out = self.json_call("secretsmanager", "secretsmanager.GetSecretValue",
                                    {"SecretId": "dblab/token", "Extra": 1})
        self.assertEqual((st, out["__type"]), (400, "SerializationException"))
        st, _, out = self.json_call("ssm", "AmazonSSM.GetParameter",
                                    {"Name": "/dblab/token", "WithDecryption": True})
        self.assertEqual(out["Parameter"]["Value"], "emulator-dblab-token-from-ssm")
        st, _, out = self.json_call("ssm", "AmazonSSM.GetParameter", {"Name": "/dblab/token"})
        self.assertNotEqual(out["Parameter"]["Value"], "emulator-dblab-token-from-ssm")
        st, _, out = self.json_call("ssm", "AmazonSSM.GetParameter", {"Name": "/dblab/nope"})
        self.assertEqual((st, out["__type"]), (400, "ParameterNotFound"))
        # Signed for the wrong service: the target says ssm, the scope secretsmanager.
        st, _, out = self.json_call("ssm", "AmazonSSM.GetParameter", {"Name": "/dblab/token"},
                                    sign_service="secretsmanager")
        self.assertEqual((st, out["__type"]), (403, "InvalidSignatureException"))
        st, _, out = self.json_call("ssm", "AmazonSSM.GetParameter", {"Name": "/dblab/token"},
                                    secret="wrong")
        self.assertEqual((st, out["__type"]), (403, "InvalidSignatureException"))
        st, _, out = self.json_call("ssm", "AmazonSSM.GetParameter", {"Name": "/dblab/token"},
                                    access_key="AKIDNOPE", secret="x")
        self.assertEqual((st, out["__type"]), (403, "UnrecognizedClientException"))

    # ------------------------------------------------------------ call log
    def test_call_log_redacts_secrets(self):
        self.rds("CreateDBInstance", DBInstanceIdentifier="log-test", DBInstanceClass="db.t3.micro",
                 Engine="postgres", AllocatedStorage="20", MasterUsername="postgres",
                 MasterUserPassword="super-secret-password-1")
        calls = self.emu.calls(action="CreateDBInstance")
        self.assertTrue(calls)
        text = json.dumps(calls)
        self.assertNotIn("super-secret-password-1", text)
        self.assertEqual(calls[-1]["params"]["MasterUserPassword"], "***")
        self.assertEqual(calls[-1]["accessKeyId"], "AKIDTESTEMULATOR")
        self.assertEqual(calls[-1]["status"], 200)


class SigV4Suite(unittest.TestCase):
    """The official SigV4 suite: every header-signed case whose path is "/" (what
    the AWS APIs here use; the path-normalization cases concern other services)
    must verify, and the same request with one signature digit changed must not.
    A verifier stricter than AWS would reject a correct client."""

    def test_suite(self):
        import email.message
        from urllib.parse import quote
        from awsemu import sigv4
        from awsemu.errors import AwsError
        shared = os.environ.get("DRR_SHARED_DIR", "/work/shared")
        base = os.path.join(shared, "reference", "sigv4", "v4")
        if not os.path.isdir(base):
            self.skipTest(f"no SigV4 suite at {base}")
        checked = 0
        for case in sorted(os.listdir(base)):
            with open(os.path.join(base, case, "context.json")) as f:
                ctx = json.load(f)
            with open(os.path.join(base, case, "header-signed-request.txt"), "rb") as f:
                raw = f.read().decode("utf-8")
            head, _, body = raw.partition("\n\n")
            lines = head.split("\n")
            method, rest = lines[0].split(" ", 1)
            target = rest.rsplit(" ", 1)[0]
            if not target.startswith("/?") and target != "/":
                continue
            headers = email.message.Message()
            last = None
            for line in lines[1:]:
                if line.startswith(" ") and last:     # obs-fold continuation
                    values = headers.get_all(last)
                    del headers[last]
                    values[-1] += " " + line.strip()
                    for v in values:
                        headers[last] = v
                    continue
                name, _, value = line.partition(":")
                headers[name] = value
                last = name
            creds = ctx["credentials"]
            now = datetime.datetime.strptime(ctx["timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(
                tzinfo=UTC)

            def lookup(_key, token, _now, creds=creds):
                if token != creds.get("token"):
                    return None, ("InvalidClientTokenId", "bad token")
                return creds["secret_access_key"], None
            wire = quote(target, safe="/?=&%~")
            with self.subTest(case=case):
                sigv4.verify(method, wire, headers, body.encode(), lookup, ctx["region"],
                             ctx["service"], now)
                auth = headers["Authorization"]
                del headers["Authorization"]
                headers["Authorization"] = auth[:-1] + ("0" if auth[-1] != "0" else "1")
                with self.assertRaises(AwsError) as cm:
                    sigv4.verify(method, wire, headers, body.encode(), lookup, ctx["region"],
                                 ctx["service"], now)
                self.assertEqual(cm.exception.code, "SignatureDoesNotMatch")
            checked += 1
        self.assertEqual(checked, 22)


class Process(unittest.TestCase):
    def test_startup_port_file_and_sigterm(self):
        import signal
        import time
        emu = Emulator()
        try:
            print(f"\nstart-up to port file: {emu.startup_seconds * 1000:.0f} ms", file=sys.stderr)
            self.assertLess(emu.startup_seconds, 10)  # generous: CI machines are busy
            st, _, _ = emu.raw("GET", "/_emulator/health")
            self.assertEqual(st, 200)
            t = time.monotonic()
            emu.proc.send_signal(signal.SIGTERM)
            self.assertEqual(emu.proc.wait(10), 0)
            self.assertLess(time.monotonic() - t, 5)
        finally:
            emu.stop()

    def test_bad_seed_refused(self):
        import subprocess
        import tempfile
        from awsemu.testing import EMULATOR
        with tempfile.TemporaryDirectory() as d:
            bad = os.path.join(d, "bad.json")
            with open(bad, "w") as f:
                f.write('{"instancez": []}')
            proc = subprocess.run(["/usr/bin/python3", EMULATOR, "--port", "0", "--seed", bad,
                                   "--port-file", os.path.join(d, "port")],
                                  capture_output=True, text=True, timeout=60, check=False)
            self.assertEqual(proc.returncode, 78, proc.stderr)
            self.assertIn("instancez", proc.stderr)
            # Refused before it announced a port.
            self.assertFalse(os.path.exists(os.path.join(d, "port")))
            with open(bad, "w") as f:
                f.write("{not json")
            proc = subprocess.run(["/usr/bin/python3", EMULATOR, "--port", "0", "--seed", bad],
                                  capture_output=True, text=True, timeout=60, check=False)
            self.assertEqual(proc.returncode, 78, proc.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=1)
