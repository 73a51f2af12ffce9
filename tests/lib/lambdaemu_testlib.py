"""Helpers for tests of and with tests/emulators/lambda_emulator.py.

  emu = start({"fn": {"command": [...], "timeout": 5}})
  status, headers, body = emu.invoke("fn", {"x": 1})
  emu.runtime("fn")            # "127.0.0.1:PORT", the function's Runtime API
  emu.stop()
"""
import http.client
import json
import os
import subprocess
import sys
import tempfile
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
EMULATOR = os.path.join(TOP, "tests", "emulators", "lambda_emulator.py")


def request(hostport, method, path, body=None, headers=None, timeout=30):
    host, port = hostport.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    data = resp.read()
    hdrs = {k.lower(): v for k, v in resp.getheaders()}
    conn.close()
    return resp.status, hdrs, data


class Emulator:
    def __init__(self, proc, port, workdir):
        self.proc = proc
        self.addr = "127.0.0.1:%d" % port
        self.url = "http://" + self.addr
        self.workdir = workdir

    def invoke(self, name, event, timeout=60):
        return request(self.addr, "POST", "/2015-03-31/functions/%s/invocations" % name,
                       event if isinstance(event, bytes) else json.dumps(event).encode(),
                       timeout=timeout)

    def ctl(self, method, path, body=None):
        status, _, data = request(self.addr, method, "/_emulator/" + path, body)
        assert status == 200, (status, data)
        return json.loads(data)

    def runtime(self, name):
        return self.ctl("GET", "sandboxes")[name]["runtimeApi"]

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def start(functions, extra_args=()):
    workdir = tempfile.mkdtemp(prefix="lambdaemu.")
    fpath = os.path.join(workdir, "functions.json")
    with open(fpath, "w") as f:
        json.dump(functions, f)
    port_file = os.path.join(workdir, "port")
    proc = subprocess.Popen([sys.executable, EMULATOR, "--functions", fpath, "--port", "0",
                             "--port-file", port_file] + list(extra_args))
    for _ in range(200):
        if os.path.exists(port_file):
            with open(port_file) as f:
                return Emulator(proc, int(f.read()), workdir)
        if proc.poll() is not None:
            raise RuntimeError("the Lambda emulator exited with %d" % proc.returncode)
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError("the Lambda emulator did not start")
