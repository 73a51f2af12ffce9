"""Helpers for the emulator's own tests (tests/integration/test_awsemu_*):
start/stop an emulator process, call the control API, and send requests
signed with botocore's signer (optionally tampered with)."""
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
EMULATOR = os.path.join(TOP, "tests", "emulators", "aws_emulator.py")
DEFAULT_SEED = os.path.join(TOP, "tests", "fixtures", "emulator", "default.json")
ACCESS_KEY = "AKIDTESTEMULATOR"
SECRET_KEY = "emulator-secret-key"
RDS_NS = "http://rds.amazonaws.com/doc/2014-10-31/"


class Emulator:
    """An aws_emulator.py process on a free loopback port."""

    def __init__(self, seed=DEFAULT_SEED, time_scale=1.0, extra=()):
        self.dir = tempfile.mkdtemp(prefix="awsemu-test.")
        port_file = os.path.join(self.dir, "port")
        args = [sys.executable if sys.executable.startswith("/usr/bin/") else "/usr/bin/python3",
                EMULATOR, "--port", "0", "--port-file", port_file,
                "--time-scale", str(time_scale), "--quiet", *extra]
        if seed:
            args += ["--seed", seed]
        self.log = open(os.path.join(self.dir, "stderr"), "w+b")  # noqa: SIM115
        started = time.monotonic()
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=self.log)
        while not os.path.exists(port_file):
            if self.proc.poll() is not None:
                self.log.seek(0)
                raise RuntimeError("emulator exited: " + self.log.read().decode())
            if time.monotonic() - started > 30:
                self.stop()
                raise RuntimeError("emulator did not start in 30 s")
            time.sleep(0.02)
        self.startup_seconds = time.monotonic() - started
        with open(port_file) as f:
            self.port = int(f.read())
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        for name in os.listdir(self.dir):
            os.unlink(os.path.join(self.dir, name))
        os.rmdir(self.dir)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    # ---------------------------------------------------------------- control API
    def control(self, method, path, obj=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        body = json.dumps(obj).encode() if obj is not None else None
        conn.request(method, path, body=body,
                     headers={"Content-Type": "application/json"} if body else {})
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        if resp.status != 200:
            raise RuntimeError(f"{method} {path} -> {resp.status}: {data!r}")
        return json.loads(data)

    def fault(self, **spec):
        return self.control("POST", "/_emulator/faults", spec)

    def advance(self, seconds):
        return self.control("POST", "/_emulator/advance", {"seconds": seconds})

    def state(self):
        return self.control("GET", "/_emulator/state")

    def calls(self, **filters):
        q = urllib.parse.urlencode(filters)
        return self.control("GET", "/_emulator/calls" + ("?" + q if q else ""))["calls"]

    # ---------------------------------------------------------------- raw requests
    def raw(self, method, path, body=b"", headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, dict(resp.getheaders()), data
        finally:
            conn.close()

    def signed(self, service, body, headers=None, access_key=ACCESS_KEY, secret=SECRET_KEY,
               token=None, region="us-east-1", sign_service=None, when=None, tamper=None,
               path="/"):
        """Sign a POST like botocore does and send it.  body: dict (form-encoded
        Query params) or bytes.  tamper(headers) may change the signed request."""
        # Imported here: awscli aliases its own botocore and must be imported first
        # by tests that use it.
        import botocore.auth  # pylint: disable=import-outside-toplevel
        import botocore.awsrequest  # pylint: disable=import-outside-toplevel
        import botocore.credentials  # pylint: disable=import-outside-toplevel
        if isinstance(body, dict):
            body = urllib.parse.urlencode(body).encode()
            ctype = "application/x-www-form-urlencoded; charset=utf-8"
        else:
            ctype = "application/x-amz-json-1.1"
        hdrs = {"Content-Type": ctype, "Host": f"127.0.0.1:{self.port}"}
        hdrs.update(headers or {})
        req = botocore.awsrequest.AWSRequest(method="POST", url=self.url + path, data=body,
                                             headers=hdrs)
        creds = botocore.credentials.Credentials(access_key, secret, token)
        signer = botocore.auth.SigV4Auth(creds, sign_service or service, region)
        if when is None:
            signer.add_auth(req)
        else:
            _sign_at(signer, req, when)
        out = dict(req.headers.items())
        if tamper:
            tamper(out)
        return self.raw("POST", path, body, out)


def _sign_at(signer, req, when):
    """SigV4Auth.add_auth with a chosen timestamp (botocore always uses utcnow)."""
    req.context["timestamp"] = when.strftime("%Y%m%dT%H%M%SZ")
    signer._modify_request_before_signing(req)  # pylint: disable=protected-access
    canonical = signer.canonical_request(req)
    string_to_sign = signer.string_to_sign(req, canonical)
    signature = signer.signature(string_to_sign, req)
    signer._inject_signature_to_request(req, signature)  # pylint: disable=protected-access


def xml_error(body):
    """(Type, Code, Message, RequestId) of a Query ErrorResponse, checking its shape."""
    import xml.etree.ElementTree as ET
    root = ET.fromstring(body)
    ns = root.tag[1:].split("}")[0] if root.tag.startswith("{") else ""
    q = (lambda n: f"{{{ns}}}{n}") if ns else (lambda n: n)
    assert root.tag == q("ErrorResponse"), root.tag
    err = root.find(q("Error"))
    return (err.findtext(q("Type")), err.findtext(q("Code")), err.findtext(q("Message")),
            root.findtext(q("RequestId")), ns)


def rds_params(action, **params):
    out = {"Action": action, "Version": "2014-10-31"}
    out.update(params)
    return out
