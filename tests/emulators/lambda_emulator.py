#!/usr/bin/python3
"""AWS Lambda emulator: the Runtime API a custom runtime talks to, and the Invoke API.

  lambda_emulator.py --functions FUNCTIONS.json [--port 0] [--port-file F] [--verbose]

FUNCTIONS.json: {"NAME": {"command": [argv...], "env": {...}, "timeout": SECONDS,
                          "memory": MB}, ...}

Each function is a sandbox with its own Runtime API listener (127.0.0.1, a free port,
given to the runtime as AWS_LAMBDA_RUNTIME_API) and at most one runtime process, started
by the first invocation (the cold start) and kept for the next ones, as Lambda keeps an
execution environment warm. Invocations of one function run one at a time (Lambda would
start a second environment; the state machine never invokes concurrently).

The Runtime API (version 2018-06-01) follows AWS's reference ("Using the Lambda runtime
API for custom runtimes") and the behaviour of aws-lambda-runtime-interface-emulator
(internal/lambda/rapi/router.go and handler/, middleware.AwsRequestIDValidator,
rendering/render_error.go):
  GET  /2018-06-01/runtime/invocation/next           200, the event; headers
       Lambda-Runtime-Aws-Request-Id, -Deadline-Ms, -Invoked-Function-Arn, -Trace-Id
  POST /2018-06-01/runtime/invocation/{id}/response  202 {"status":"OK"}
  POST /2018-06-01/runtime/invocation/{id}/error     202 {"status":"OK"}
  POST /2018-06-01/runtime/init/error                202 before the first /next, else 403
  an id that is not the current invocation's: 400 InvalidRequestID; a second response
  (or error) for one invocation: 403 InvalidStateTransition; a response over 6 MiB:
  413 RequestEntityTooLarge; another path: 404; another method: 405.

The Invoke API is the Lambda service's (POST /2015-03-31/functions/{name or ARN}/
invocations), so the AWS SDKs and `aws lambda invoke --endpoint-url` call it:
  200 and the payload; a function error: 200 with X-Amz-Function-Error: Unhandled and the
  runtime's error document; the timeout: the runtime is killed (Lambda discards the
  environment) and {"errorType": "Sandbox.Timedout"}; the runtime process exiting during
  an invocation: {"errorType": "Runtime.ExitError"}; an init error: its error document.
  An unknown function: 404 ResourceNotFoundException (X-Amzn-ErrorType).

Control (tests): GET /_emulator/invocations, GET /_emulator/sandboxes,
POST /_emulator/shutdown {"function": NAME, "graceMs": N} (SIGTERM, then SIGKILL after
N ms, as Lambda shuts an environment down; answers {"exitCode"}),
POST /_emulator/faults {"type": "crash", "function": NAME, "match": TEXT, "afterMs": N}
(SIGKILLs the runtime N ms into the next invocation whose event contains TEXT: an
environment lost mid-invocation).
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

API = "/2018-06-01"
MAX_PAYLOAD = 6 * 1024 * 1024 + 100  # interop.MaxPayloadSize in the RIE
ACCOUNT = "123456789012"


def log(msg):
    print("lambda_emulator: " + msg, file=sys.stderr, flush=True)


class Invocation:
    def __init__(self, event, timeout):
        self.id = str(uuid.uuid4())
        self.event = event
        self.deadline = time.time() + timeout
        self.done = threading.Event()
        self.outcome = None        # "response", "error", "timeout", "exit", "init-error"
        self.payload = b""
        self.function_error = False
        self.answered = False      # a response or an error was accepted
        self.started = time.time()
        self.finished = None


class Sandbox:
    """One function: its Runtime API server and its runtime process."""

    def __init__(self, name, spec, region, verbose):
        self.name = name
        self.command = spec["command"]
        self.env = spec.get("env", {})
        self.timeout = float(spec.get("timeout", 30))
        self.memory = int(spec.get("memory", 128))
        self.region = region
        self.verbose = verbose
        self.arn = "arn:aws:lambda:%s:%s:function:%s" % (region, ACCOUNT, name)
        self.lock = threading.Condition()
        self.invoke_lock = threading.Lock()   # one invocation at a time
        self.proc = None
        self.initialised = False   # the runtime has called /next once
        self.current = None        # the Invocation being run
        self.delivered = False     # current was handed out by /next
        self.init_error = None
        self.cold_starts = 0
        self.history = []
        self.faults = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), runtime_handler(self))
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def api_address(self):
        return "127.0.0.1:%d" % self.server.server_address[1]

    # ---- the runtime process ---------------------------------------------------
    def _start(self):
        env = dict(os.environ)
        env.update({
            "AWS_LAMBDA_RUNTIME_API": self.api_address,
            "AWS_LAMBDA_FUNCTION_NAME": self.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.memory),
            "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/" + self.name,
            "AWS_LAMBDA_LOG_STREAM_NAME": "emulated",
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "LAMBDA_TASK_ROOT": os.getcwd(),
            "_HANDLER": self.command[-1] if len(self.command) > 1 else "",
        })
        env.update({k: str(v) for k, v in self.env.items()})
        self.initialised = False
        self.init_error = None
        self.cold_starts += 1
        self.proc = subprocess.Popen(self.command, env=env, stdin=subprocess.DEVNULL)
        proc = self.proc
        threading.Thread(target=self._watch, args=(proc,), daemon=True).start()

    def _watch(self, proc):
        rc = proc.wait()
        with self.lock:
            if self.proc is proc:
                self.proc = None
                inv = self.current
                if inv is not None and not inv.done.is_set():
                    how = ("signal: %s" % signal.Signals(-rc).name.lower().replace("sig", "")
                           if rc < 0 else "exit status %d" % rc)
                    self._finish(inv, "exit", json.dumps({
                        "errorType": "Runtime.ExitError",
                        "errorMessage": "RequestId: %s Error: Runtime exited with error: %s"
                                        % (inv.id, how)}).encode(), True)
            self.lock.notify_all()

    def _kill(self):
        proc = self.proc
        if proc is not None and proc.poll() is None:
            proc.kill()

    def _discard(self):
        """Kills the runtime and forgets it at once (called with the lock held), so the
        next invocation starts a new one: Lambda discards such an environment."""
        proc = self.proc
        if proc is not None:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            self.proc = None

    def _finish(self, inv, outcome, payload, function_error):
        inv.outcome = outcome
        inv.payload = payload
        inv.function_error = function_error
        inv.finished = time.time()
        inv.done.set()
        self.lock.notify_all()

    # ---- the Invoke side -------------------------------------------------------
    def invoke(self, event):
        with self.invoke_lock:
            inv = Invocation(event, self.timeout)
            with self.lock:
                if self.proc is None:
                    self._start()
                self.current = inv
                self.delivered = False
                self.lock.notify_all()
            self._arm_faults(inv)
            remaining = inv.deadline - time.time()
            if not inv.done.wait(max(0.0, remaining)):
                with self.lock:
                    if not inv.done.is_set():
                        # Lambda discards an environment whose invocation timed out.
                        self._finish(inv, "timeout", json.dumps({
                            "errorType": "Sandbox.Timedout",
                            "errorMessage": "RequestId: %s Error: Task timed out after %.2f "
                                            "seconds" % (inv.id, self.timeout)}).encode(), True)
                        self._discard()
            with self.lock:
                self.current = None
                if inv.outcome == "init-error":
                    self._discard()
            self.history.append({
                "function": self.name, "requestId": inv.id, "outcome": inv.outcome,
                "functionError": inv.function_error,
                "durationMs": round(((inv.finished or time.time()) - inv.started) * 1000, 1),
                "coldStarts": self.cold_starts,
                "pid": self.proc.pid if self.proc else None,
                "event": inv.event.decode("utf-8", "replace")[:2000],
            })
            return inv

    def _arm_faults(self, inv):
        for f in list(self.faults):
            if f.get("match", "") in inv.event.decode("utf-8", "replace"):
                self.faults.remove(f)
                t = threading.Timer(f.get("afterMs", 0) / 1000.0, self._kill)
                t.daemon = True
                t.start()
                return

    def shutdown(self, grace):
        """SIGTERM, wait up to grace seconds, then SIGKILL; the exit status or None."""
        with self.invoke_lock:
            with self.lock:
                proc = self.proc
                self.proc = None
            if proc is None:
                return None
            proc.terminate()
            try:
                return proc.wait(grace)
            except subprocess.TimeoutExpired:
                proc.kill()
                return proc.wait()

    def stop(self):
        with self.lock:
            self._discard()
        self.server.shutdown()


def runtime_handler(sb):
    class RuntimeAPI(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body are two writes: without TCP_NODELAY the body waits for
        # the client's delayed ACK (40 ms), which Lambda does not add.
        disable_nagle_algorithm = True

        def log_message(self, fmt, *args):
            if sb.verbose:
                log("%s: %s" % (sb.name, fmt % args))

        def _json(self, status, obj, headers=None):
            body = (json.dumps(obj) + "\n").encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def _error(self, status, etype, msg):
            self._json(status, {"errorMessage": msg, "errorType": etype})

        def _body(self):
            n = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(n) if n else b""

        def _route(self):
            p = self.path.split("?")[0]
            if not p.startswith(API + "/runtime/"):
                return None, None
            parts = p[len(API) + 1:].split("/")
            if parts == ["runtime", "invocation", "next"]:
                return "next", None
            if parts == ["runtime", "init", "error"]:
                return "init-error", None
            if len(parts) == 4 and parts[:2] == ["runtime", "invocation"] and \
                    parts[3] in ("response", "error"):
                return parts[3], parts[2]
            return None, None

        def do_GET(self):
            what, _ = self._route()
            if what is None:
                return self._not_found()
            if what != "next":
                return self._method_not_allowed()
            with sb.lock:
                sb.initialised = True
                while True:
                    inv = sb.current
                    if inv is not None and not inv.done.is_set() and not inv.answered:
                        break
                    sb.lock.wait()
                sb.delivered = True
            hdr = {
                "Lambda-Runtime-Aws-Request-Id": inv.id,
                "Lambda-Runtime-Deadline-Ms": str(int(inv.deadline * 1000)),
                "Lambda-Runtime-Invoked-Function-Arn": sb.arn,
                "Lambda-Runtime-Trace-Id": "Root=1-%08x-%s;Parent=%s;Sampled=0" % (
                    int(time.time()), uuid.uuid4().hex[:24], uuid.uuid4().hex[:16]),
            }
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(inv.event)))
            for k, v in hdr.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(inv.event)

        def do_POST(self):
            what, rid = self._route()
            if what is None:
                self._body()
                return self._not_found()
            if what == "next":
                return self._method_not_allowed()
            body = self._body()
            with sb.lock:
                if what == "init-error":
                    if sb.initialised:
                        return self._error(403, "InvalidStateTransition",
                                           "State transition from Ready to InitError failed "
                                           "for runtime. Error: State transition is not allowed")
                    etype = self.headers.get("Lambda-Runtime-Function-Error-Type") or \
                        "Runtime.Unknown"
                    sb.init_error = etype
                    inv = sb.current
                    if inv is not None and not inv.done.is_set():
                        payload = body if body else json.dumps(
                            {"errorType": etype, "errorMessage": ""}).encode()
                        sb._finish(inv, "init-error", payload, True)
                    return self._json(202, {"status": "OK"})
                inv = sb.current
                if inv is None or rid != inv.id or not sb.delivered:
                    return self._error(400, "InvalidRequestID", "Invalid request ID")
                if inv.answered or inv.done.is_set():
                    return self._error(403, "InvalidStateTransition",
                                       "State transition from ResponseSent to Invocation%s "
                                       "failed for runtime." %
                                       ("Response" if what == "response" else "ErrorResponse"))
                if what == "response" and len(body) > MAX_PAYLOAD:
                    inv.answered = True
                    sb._finish(inv, "error", json.dumps({
                        "errorType": "Function.ResponseSizeTooLarge",
                        "errorMessage": "Response payload size exceeded maximum allowed "
                                        "payload size (6291556 bytes)."}).encode(), True)
                    return self._error(413, "RequestEntityTooLarge",
                                       "Exceeded maximum allowed payload size (%d bytes)."
                                       % MAX_PAYLOAD)
                inv.answered = True
                if what == "response":
                    sb._finish(inv, "response", body, False)
                else:
                    sb._finish(inv, "error", body, True)
            return self._json(202, {"status": "OK"})

        def do_PUT(self):
            self._body()
            return self._method_not_allowed() if self._route()[0] else self._not_found()

        do_DELETE = do_PUT

        def _not_found(self):
            body = b"404 page not found\n"
            self.send_response(404)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _method_not_allowed(self):
            self.send_response(405)
            self.send_header("Content-Length", "0")
            self.end_headers()

    return RuntimeAPI


class Emulator:
    def __init__(self, functions, region, verbose):
        self.sandboxes = {n: Sandbox(n, s, region, verbose) for n, s in functions.items()}

    def find(self, name_or_arn):
        name = name_or_arn
        if name.startswith("arn:"):
            parts = name.split(":")
            name = parts[6] if len(parts) >= 7 else ""
        return self.sandboxes.get(name.split(":")[0])

    def stop(self):
        for sb in self.sandboxes.values():
            sb.stop()


def invoke_handler(emu, verbose):
    from urllib.parse import unquote

    class InvokeAPI(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, fmt, *args):
            if verbose:
                log(fmt % args)

        def _send(self, status, body, headers=None, ctype="application/json"):
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Amzn-RequestId", str(uuid.uuid4()))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def _body(self):
            n = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(n) if n else b""

        def do_GET(self):
            if self.path == "/_emulator/invocations":
                hist = [h for sb in emu.sandboxes.values() for h in sb.history]
                return self._send(200, json.dumps(hist).encode())
            if self.path == "/_emulator/sandboxes":
                return self._send(200, json.dumps({
                    n: {"pid": sb.proc.pid if sb.proc else None, "coldStarts": sb.cold_starts,
                        "invocations": len(sb.history), "runtimeApi": sb.api_address}
                    for n, sb in emu.sandboxes.items()}).encode())
            self._send(404, b'{"message":"not found"}')

        def do_POST(self):
            body = self._body()
            path = self.path.split("?")[0]
            if path == "/_emulator/faults":
                f = json.loads(body or b"{}")
                sb = emu.find(f.get("function", ""))
                if f.get("type") != "crash" or sb is None:
                    return self._send(400, b'{"message":"want {type: crash, function: NAME}"}')
                sb.faults.append(f)
                return self._send(200, b'{"ok":true}')
            if path == "/_emulator/shutdown":
                # Lambda's shutdown of an environment: SIGTERM, then SIGKILL after the
                # grace period. Answers the runtime's exit status.
                f = json.loads(body or b"{}")
                sb = emu.find(f.get("function", ""))
                if sb is None:
                    return self._send(400, b'{"message":"want {function: NAME}"}')
                rc = sb.shutdown(f.get("graceMs", 2000) / 1000.0)
                return self._send(200, json.dumps({"exitCode": rc}).encode())
            parts = path.split("/")
            # /2015-03-31/functions/{name}/invocations
            if len(parts) != 5 or parts[1] != "2015-03-31" or parts[2] != "functions" or \
                    parts[4] != "invocations":
                return self._send(404, b'{"message":"UnknownOperationException"}',
                                  {"X-Amzn-ErrorType": "UnknownOperationException"})
            name = unquote(parts[3])
            sb = emu.find(name)
            if sb is None:
                return self._send(404, json.dumps({
                    "Type": "User", "Message": "Function not found: arn:aws:lambda:%s:%s:"
                    "function:%s" % ("us-east-1", ACCOUNT, name)}).encode(),
                    {"X-Amzn-ErrorType": "ResourceNotFoundException"})
            kind = self.headers.get("X-Amz-Invocation-Type", "RequestResponse")
            if kind == "DryRun":
                return self._send(204, b"")
            if len(body) > MAX_PAYLOAD:
                return self._send(413, json.dumps({
                    "Type": "User", "message": "Request must be smaller than 6291456 bytes "
                    "for the InvokeFunction operation"}).encode(),
                    {"X-Amzn-ErrorType": "RequestTooLargeException"})
            inv = sb.invoke(body if body else b"{}")
            hdr = {"X-Amz-Executed-Version": "$LATEST"}
            if inv.function_error:
                hdr["X-Amz-Function-Error"] = "Unhandled"
            self._send(200, inv.payload, hdr)

    return InvokeAPI


def main(argv=None):
    ap = argparse.ArgumentParser(description="AWS Lambda emulator (Runtime API + Invoke)")
    ap.add_argument("--functions", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--region", default=os.environ.get("AWS_REGION", "us-east-1"))
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args(argv)
    try:
        with open(args.functions) as f:
            functions = json.load(f)
        for n, s in functions.items():
            if not isinstance(s.get("command"), list) or not s["command"]:
                raise ValueError("%s: command must be a non-empty list" % n)
    except (OSError, ValueError) as e:
        log(str(e))
        return 66
    emu = Emulator(functions, args.region, args.verbose)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), invoke_handler(emu, args.verbose))
    server.daemon_threads = True
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % server.server_address[1])
        os.replace(tmp, args.port_file)

    def stop(signum, frame):
        threading.Thread(target=server.shutdown, daemon=True).start()

    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, stop)
    try:
        server.serve_forever()
    finally:
        emu.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
