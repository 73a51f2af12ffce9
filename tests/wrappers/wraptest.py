"""Shared pieces of the scheduler-wrapper tests (Python side): the emulators,
their control endpoints, the managed clones left in the AWS emulator, and the
config file the wrappers run with."""
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

TOP = os.environ.get("DRR_TOP") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("DRR_BIN") or os.path.join(TOP, "bin")
COMMANDS = ("rds-snapshot-latest", "rds-clone-create", "rds-clone-wait", "dblab-refresh",
            "rds-clone-delete", "rds-clone-gc", "dblab-rds-config", "dblab-rds-refresh")


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def check_commands():
    for tool in COMMANDS:
        if not os.access(os.path.join(BIN, tool), os.X_OK):
            fail("missing command %s in %s (run make)" % (tool, BIN))


def http(method, url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read() or b"null")


class Emulators:
    """tests/emulators/run-emulators in the background; .env holds its env file."""

    def __init__(self, tmp, time_scale=600):
        self.env_file = os.path.join(tmp, "emulators.env")
        self.log = os.path.join(tmp, "emulators.log")
        self.proc = subprocess.Popen(
            [os.path.join(TOP, "tests", "emulators", "run-emulators"), "--env-file", self.env_file,
             "--time-scale", str(time_scale)],
            stdout=subprocess.DEVNULL, stderr=open(self.log, "w"))
        deadline = time.monotonic() + 35
        while not (os.path.exists(self.env_file) and os.path.getsize(self.env_file)):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                fail("the emulators did not start:\n" + open(self.log).read()[-2000:])
            time.sleep(0.02)
        self.env = {}
        for line in open(self.env_file):
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                k, v = line.split("=", 1)
                self.env[k] = v.strip("'\"")
        self.aws_url = self.env["AWS_EMULATOR_URL"]
        self.dblab_url = self.env["DBLAB_EMULATOR_URL"]
        self.token = self.env["DBLAB_EMULATOR_TOKEN"]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def aws_fault(self, spec):
        return http("POST", self.aws_url + "/_emulator/faults", spec)

    def dblab_fault(self, spec):
        return http("POST", self.dblab_url + "/_emulator/faults", spec)


def _managed_clones_now(aws_url):
    state = http("GET", aws_url + "/_emulator/state")
    names = []
    for kind in ("instances", "clusters"):
        items = state.get(kind, [])
        items = items.values() if isinstance(items, dict) else items
        for item in items:
            ident = item.get("DBInstanceIdentifier") or item.get("DBClusterIdentifier") or item.get("id")
            status = item.get("DBInstanceStatus") or item.get("Status") or ""
            # dblab-refresh-legacy is a seeded fixture (a clone of an older tool), not ours.
            if ident and ident.startswith("dblab-refresh-") and ident != "dblab-refresh-legacy":
                names.append((ident, status))
    return names


def managed_clones(aws_url, settle=60, allow_deleting=False):
    """Managed clones still in the emulator. A deleted clone is 'deleting' for a
    while (the delete request does not wait): give it time to be gone, or accept
    'deleting' when allow_deleting."""
    deadline = time.monotonic() + settle
    while True:
        left = [n for n, s in _managed_clones_now(aws_url)
                if not (allow_deleting and s == "deleting")]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.5)


def write_config(path, dblab_url, aws_endpoint=None, source="production-db"):
    """The config the wrappers run with: short polls for the emulators' scaled time;
    the token comes from ${DBLAB_TOKEN} as in production."""
    aws = "aws:\n  region: us-east-1\n"
    if aws_endpoint:
        aws += "  endpoint: %s\n" % aws_endpoint
    with open(path, "w") as f:
        f.write("source:\n  type: rds\n  identifier: %s\n"
                "clone:\n  instanceClass: db.t3.medium\n  waitTimeout: 10m\n"
                "dblab:\n  apiEndpoint: %s\n  token: ${DBLAB_TOKEN}\n  pollInterval: 1s\n"
                "  timeout: 10m\n  startTimeout: 1m\n" % (source, dblab_url) + aws)
    return path


def validate_rundoc(line):
    """Validates one run document (a JSON line) against docs/run-document.schema.json."""
    r = subprocess.run(["/usr/bin/python3", os.path.join(TOP, "tests", "lib", "validate_rundoc.py")],
                       input=line.encode(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        fail("run document does not validate: %s\n%s" % (r.stdout.decode(), line[:2000]))
