#!/usr/bin/python3
"""With --aws-url, a refresh reaches its source only if the configured host is the endpoint
of an available RDS instance or Aurora cluster in the AWS emulator (or, for an rdsIam
source, dbInstanceIdentifier names an available instance): otherwise it fails with the
alert the engine's dump job would raise. This catches a wrong endpoint end to end.

The check logic runs against a stub of the AWS emulator's GET /_emulator/state; the
last class runs it against the real AWS emulator when tests/emulators/aws_emulator.py
is present.
"""
import http.server
import json
import os
import sys
import threading
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import dblabemu_testlib as lib  # noqa: E402

AWS_EMULATOR = os.path.join(lib.TOP, "tests", "emulators", "aws_emulator.py")
AWS_SEED = os.path.join(lib.TOP, "tests", "fixtures", "emulator", "default.json")
HOST = "clone-1.c0abcdef1234.us-east-1.rds.amazonaws.com"
CLUSTER = "clone-aurora.cluster-c0abcdef1234.us-east-1.rds.amazonaws.com"
READER = "clone-aurora.cluster-ro-c0abcdef1234.us-east-1.rds.amazonaws.com"


def aws_state(status="available", port=5432):
    """The shape of the AWS emulator's dump (awsemu/rds.py RDS.dump)."""
    return {
        "instances": {
            "clone-1": {"DBInstanceIdentifier": "clone-1", "DBInstanceStatus": status,
                        "Endpoint": {"Address": HOST, "Port": port, "HostedZoneId": "Z2R2ITUGPM61AM"}},
            "clone-aurora-writer": {"DBInstanceIdentifier": "clone-aurora-writer",
                                    "DBInstanceStatus": "available", "DBClusterIdentifier": "clone-aurora",
                                    "Endpoint": {"Address": "clone-aurora-writer.c0abcdef1234.us-east-1"
                                                            ".rds.amazonaws.com", "Port": 5432}},
        },
        "clusters": {"clone-aurora": {"DBClusterIdentifier": "clone-aurora", "Status": "available",
                                      "Endpoint": CLUSTER, "ReaderEndpoint": READER, "Port": 5432}},
        "snapshots": {"rds:gone-db-2026-11-20-03-10": {"DBSnapshotIdentifier": "rds:gone-db-2026-11-20-03-10",
                                                       "DBInstanceIdentifier": "gone-db", "Status": "available"}},
    }


class StubAws:
    def __init__(self):
        self.state = aws_state()
        stub = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = json.dumps(stub.state).encode()
                self.send_response(200 if self.path == "/_emulator/state" else 404)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def set_source(emu, **conn):
    body = {"retrieval": {"spec": {"logicalDump": {"options": {"source": {"connection": conn}}}}}}
    resp = emu.api("POST", "/admin/config", body)
    assert resp.status == 200, resp.text


def refresh(emu):
    """Trigger, let it run to the end, return retrieving."""
    resp = emu.api("POST", "/full-refresh")
    assert resp.status == 200, resp.text
    emu.advance(120)
    return emu.api("GET", "/status").json()["retrieving"]


class StubCase(unittest.TestCase):
    SEED = None

    @classmethod
    def setUpClass(cls):
        cls.aws = StubAws()
        cls.emu = lib.start(seed=cls.SEED, aws_url=cls.aws.url, time_scale=0.001)

    @classmethod
    def tearDownClass(cls):
        cls.emu.stop()
        cls.aws.close()

    def setUp(self):
        self.emu.ctl("POST", "reset")
        self.aws.state = aws_state()

    def assertFailed(self, r, *needles):
        self.assertEqual(r["status"], "failed", r)
        msg = r["alerts"]["refresh_failed"]["message"]
        for n in needles:
            self.assertIn(n, msg)
        return msg


class TestRemoteSource(StubCase):
    def test_available_instance_endpoint_refreshes(self):
        set_source(self.emu, host=HOST, port=5432)
        self.assertEqual(refresh(self.emu)["status"], "finished")

    def test_cluster_endpoints_refresh(self):
        for host in (CLUSTER, READER):
            with self.subTest(host=host):
                set_source(self.emu, host=host)
                self.assertEqual(refresh(self.emu)["status"], "finished")

    def test_the_seed_host_is_unknown_to_aws(self):
        # server.yml still points at the previous run's clone, long deleted.
        msg = self.assertFailed(refresh(self.emu), "dblab-refresh-previous.c0abcdef1234")
        self.assertIn("could not translate host name", msg)

    def test_wrong_host_fails_with_the_engine_alert(self):
        set_source(self.emu, host="production-db.c0abcdef1234.us-east-1.rds.amazonaws.com.typo")
        r = refresh(self.emu)
        self.assertFailed(r, 'failed to dump the database app: failed to dump a database: exit status 1. '
                             'Output: pg_dump: error: could not translate host name '
                             '"production-db.c0abcdef1234.us-east-1.rds.amazonaws.com.typo"')
        self.assertEqual(r["alerts"]["refresh_failed"]["level"], "error")

    def test_instance_not_available_refuses_connections(self):
        for status in ("creating", "backing-up", "deleting", "stopped"):
            with self.subTest(status=status):
                self.aws.state = aws_state(status=status)
                set_source(self.emu, host=HOST)
                self.assertFailed(refresh(self.emu), "Connection refused")

    def test_wrong_port_refuses_connections(self):
        set_source(self.emu, host=HOST, port=5433)
        self.assertFailed(refresh(self.emu), 'connection to server at "%s", port 5433 failed' % HOST)

    def test_aws_emulator_unreachable(self):
        set_source(self.emu, host=HOST)
        self.aws.state = None
        self.aws.close()
        try:
            self.assertFailed(refresh(self.emu), "emulator: cannot read the AWS emulator state")
        finally:
            self.aws = type(self).aws = StubAws()
            self.emu.stop()
            type(self).emu = self.emu = lib.start(aws_url=self.aws.url, time_scale=0.001)

    def test_check_uses_the_config_of_the_start(self):
        set_source(self.emu, host=HOST)
        self.emu.api("POST", "/full-refresh")
        self.emu.advance(6)  # started: the dump job has its connection
        set_source(self.emu, host="elsewhere.example")
        self.emu.advance(120)
        self.assertEqual(self.emu.api("GET", "/status").json()["retrieving"]["status"], "finished")


class TestNoDatabasesListed(StubCase):
    def test_pgx_style_message_when_listing_databases(self):
        # With no databases listed the dump job connects (pgx) to list them first.
        body = {"retrieval": {"spec": {"logicalDump": {"options": {
            "databases": {}, "source": {"connection": {"host": "nowhere.example", "username": "u",
                                                       "dbname": "d"}}}}}}}
        self.assertEqual(self.emu.api("POST", "/admin/config", body).status, 200)
        self.assertFailed(refresh(self.emu), "failed to extract the list of databases for dumping: failed to "
                          "connect to DB: failed to connect to `host=nowhere.example user=u database=d`: "
                          "hostname resolving error (lookup nowhere.example: no such host)")


class TestRdsIamSource(StubCase):
    SEED = lib.fixture("server-rdsiam.yml")

    def set_instance(self, ident):
        body = {"retrieval": {"spec": {"logicalDump": {"options": {"source": {
            "rdsIam": {"dbInstanceIdentifier": ident}}}}}}}
        self.assertEqual(self.emu.api("POST", "/admin/config", body).status, 200)

    def test_available_instance(self):
        self.set_instance("clone-1")
        self.assertEqual(refresh(self.emu)["status"], "finished")
        self.set_instance("clone-aurora-writer")
        self.assertEqual(refresh(self.emu)["status"], "finished")

    def test_cluster_identifier_is_not_an_instance(self):
        self.set_instance("clone-aurora")
        self.assertFailed(refresh(self.emu), "failed to setup connection options: DBInstanceNotFound: "
                                             "DBInstance clone-aurora not found.")

    def test_deleted_instance_with_snapshots_left(self):
        self.set_instance("gone-db")
        self.assertFailed(refresh(self.emu), "DBInstanceNotFound: DBInstance gone-db not found.")

    def test_instance_not_available(self):
        self.aws.state = aws_state(status="modifying")
        self.set_instance("clone-1")
        self.assertFailed(refresh(self.emu), "onnection refused")


@unittest.skipUnless(os.path.exists(AWS_EMULATOR), "no tests/emulators/aws_emulator.py yet")
class TestAgainstTheAwsEmulator(unittest.TestCase):
    def setUp(self):
        import subprocess
        import tempfile
        import time
        self.dir = tempfile.mkdtemp(prefix="dblabemu-aws.")
        port_file = os.path.join(self.dir, "port")
        cmd = ["/usr/bin/python3", AWS_EMULATOR, "--port", "0", "--port-file", port_file, "--quiet"]
        if os.path.exists(AWS_SEED):
            cmd += ["--seed", AWS_SEED]
        self.aws = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while not os.path.exists(port_file) and time.monotonic() < deadline:
            time.sleep(0.02)
        with open(port_file) as f:
            self.aws_url = "http://127.0.0.1:%d" % int(f.read())
        self.emu = lib.start(aws_url=self.aws_url, time_scale=0.001)

    def tearDown(self):
        self.emu.stop()
        self.aws.terminate()
        self.aws.wait()
        for name in os.listdir(self.dir):
            os.unlink(os.path.join(self.dir, name))
        os.rmdir(self.dir)

    def test_endpoints_of_the_real_state(self):
        import urllib.request
        with urllib.request.urlopen(self.aws_url + "/_emulator/state") as resp:
            state = json.loads(resp.read())
        available = [i for i in state["instances"].values()
                     if i.get("DBInstanceStatus") == "available" and i.get("Endpoint")]
        self.assertTrue(available, "the default AWS seed has available instances")
        set_source(self.emu, host=available[0]["Endpoint"]["Address"], port=available[0]["Endpoint"]["Port"])
        self.assertEqual(refresh(self.emu)["status"], "finished")
        set_source(self.emu, host="no-such-instance.c0abcdef1234.us-east-1.rds.amazonaws.com")
        r = refresh(self.emu)
        self.assertEqual(r["status"], "failed")
        self.assertIn("no-such-instance", r["alerts"]["refresh_failed"]["message"])


if __name__ == "__main__":
    lib.run_tests()
