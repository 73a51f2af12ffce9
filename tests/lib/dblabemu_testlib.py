"""Helpers for the DBLab emulator's own tests (tests/integration/test_dblabemu_*).

start() launches tests/emulators/dblab_emulator.py on a free loopback port and returns
an Emulator with api() (the engine API, token sent by default), ctl() (the
/_emulator/* control API) and stop(). Every test file runs on /usr/bin/python3.
"""
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

TOP = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
EMULATOR = os.path.join(TOP, "tests", "emulators", "dblab_emulator.py")
FIXTURES = os.path.join(TOP, "tests", "fixtures", "dblab")
SHARED = os.environ.get("DRR_SHARED_DIR") or os.path.join(TOP, "..", "shared")
TOKEN = "emulator-test-token"


def fixture(name):
    return os.path.join(FIXTURES, name)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def text(self):
        return self.body.decode("utf-8")

    def json(self):
        return json.loads(self.text)


class Emulator:
    def __init__(self, proc, port, scheme, workdir, ssl_context=None):
        self.proc = proc
        self.port = port
        self.url = "%s://127.0.0.1:%d" % (scheme, port)
        self.workdir = workdir
        self.ssl_context = ssl_context

    def request(self, method, path, body=None, headers=None, raw=None, timeout=10, ssl_context=None):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers or {})
        if data is not None and "Content-Type" not in (headers or {}):
            req.add_header("Content-Type", "application/json")
        ctx = ssl_context or self.ssl_context
        try:
            with urllib.request.urlopen(req, timeout=timeout, context=ctx) as resp:
                return Response(resp.status, resp.headers, resp.read())
        except urllib.error.HTTPError as e:
            return Response(e.code, e.headers, e.read())

    def api(self, method, path, body=None, token=TOKEN, raw=None, **kw):
        headers = {"Verification-Token": token} if token is not None else {}
        return self.request(method, path, body, headers=headers, raw=raw, **kw)

    def ctl(self, method, name, body=None):
        resp = self.request(method, "/_emulator/" + name, body)
        if resp.status != 200:
            raise AssertionError("control %s %s: %d %s" % (method, name, resp.status, resp.text))
        return resp.json()

    def state(self):
        return self.ctl("GET", "state")

    def advance(self, seconds):
        return self.ctl("POST", "advance", {"seconds": seconds})

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for name in os.listdir(self.workdir):
            os.unlink(os.path.join(self.workdir, name))
        os.rmdir(self.workdir)


def start(seed=None, token=TOKEN, time_scale=None, aws_url=None, tls=None, extra=None):
    """tls: (cert, key, client ssl.SSLContext) or None."""
    workdir = tempfile.mkdtemp(prefix="dblabemu-test.")
    port_file = os.path.join(workdir, "port")
    cmd = ["/usr/bin/python3", EMULATOR, "--port", "0", "--port-file", port_file]
    env = dict(os.environ)
    if token is not None:
        env["DBLAB_EMULATOR_TOKEN"] = token
    if seed:
        cmd += ["--seed", seed]
    if time_scale:
        cmd += ["--time-scale", str(time_scale)]
    if aws_url:
        cmd += ["--aws-url", aws_url]
    if tls:
        cmd += ["--tls-cert", tls[0], "--tls-key", tls[1]]
    cmd += extra or []
    log = open(os.path.join(workdir, "stderr"), "wb")
    proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    log.close()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if os.path.exists(port_file):
            with open(port_file) as f:
                port = int(f.read())
            return Emulator(proc, port, "https" if tls else "http", workdir, tls[2] if tls else None)
        if proc.poll() is not None:
            with open(os.path.join(workdir, "stderr")) as f:
                raise RuntimeError("emulator exited %d: %s" % (proc.returncode, f.read()))
        time.sleep(0.01)
    proc.kill()
    raise RuntimeError("emulator did not start")


def run_tests(module_name="__main__"):
    import unittest
    result = unittest.main(module=module_name, exit=False, verbosity=2).result
    sys.exit(0 if result.wasSuccessful() else 1)
