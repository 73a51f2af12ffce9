"""The HTTP front: dispatch, the AWS request pipeline and the control API.

Pipeline of an AWS API request:
  parse (Query form or awsJson1_1) -> service from the signed credential scope
  (or X-Amz-Target, or an unsigned STS action) -> SigV4 -> "before" faults ->
  model validation -> "handler" faults -> the operation (under the state lock)
  -> render -> "after" faults -> call log."""
import datetime
import json
import socket
import struct
import sys
import threading
import time
import traceback
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, parse_qsl, urlsplit

from . import fixtures, sigv4, xmlrender
from .clock import Clock
from .creds import CredentialStore
from .errors import AwsError
from .faults import FaultError, Faults, ProxyAnswer, before_error, handler_error
from .model import preload, service_model
from .query import parse_params
from .rds import Rds
from .secrets import SecretStore, validate_json
from .sfn import StepFunctions

QUERY_SERVICES = ("rds", "sts")
JSON_TARGETS = {"secretsmanager": "secretsmanager", "AmazonSSM": "ssm",
                "AWSStepFunctions": "stepfunctions"}
# The model's metadata: its jsonVersion (Content-Type) and signing name.
JSON_VERSION = {"stepfunctions": "1.0"}
SIGNING_NAME = {"stepfunctions": "states"}
UNSIGNED_ACTIONS = {("sts", "AssumeRoleWithWebIdentity"), ("sts", "AssumeRoleWithSAML")}
STS_ACTIONS = {"AssumeRole", "AssumeRoleWithWebIdentity", "GetCallerIdentity"}
# Parameter names whose values are secrets (matched case-insensitively); names like
# SecretId or NextToken are identifiers and stay readable in the call log.
SECRET_KEYS = {"secretstring", "secretbinary", "webidentitytoken", "sessiontoken",
               "secretaccesskey", "samlassertion", "tdecredentialpassword"}
MAX_BODY = 1 << 20


def _redact(value, key=""):
    if isinstance(value, dict):
        return {k: _redact(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v, key) for v in value]
    if (key.lower() in SECRET_KEYS or key.lower().endswith("password")) \
            and isinstance(value, (str, bytes)):
        return "***"
    if isinstance(value, datetime.datetime):
        return xmlrender.format_timestamp(value)
    if isinstance(value, bytes):
        return "<%d bytes>" % len(value)
    return value


def _json_default(o):
    if isinstance(o, datetime.datetime):
        return xmlrender.format_timestamp(o)
    if isinstance(o, set):
        return sorted(o)
    raise TypeError(repr(o))


class Emulator:
    """All state behind one lock; the HTTP handler threads call in here."""

    def __init__(self, region="us-east-1", time_scale=1.0, credentials_lifetime=None,
                 seed=None, quiet=False):
        self.region = region
        self.quiet = quiet
        self.lock = threading.RLock()
        self.clock = Clock(time_scale)
        self.credentials_lifetime = credentials_lifetime
        self.seed = seed
        self.calls = []
        self._seq = 0
        self.faults = Faults()
        self.rds_model = service_model("rds")
        preload(["sts", "secretsmanager", "ssm", "stepfunctions"])
        self.load(seed)

    # ---------------------------------------------------------------- seeding
    def load(self, fixture):
        fixture = fixture or {}
        account = fixture.get("account", "123456789012")
        region = fixture.get("region", self.region)
        with self.lock:
            self.account = account
            self.region = region
            self.store = SecretStore(region, account)
            self.rds = Rds(self.rds_model, self.clock, region, account, secrets=self.store)
            self.creds = CredentialStore(account, self.credentials_lifetime)
            self.creds.region = region
            self.faults = Faults()
            fixtures.apply(fixture, self.rds, self.creds, self.store)
            self.sfn = StepFunctions(region, account, fixture.get("stateMachines", []))

    def log(self, msg):
        if not self.quiet:
            sys.stderr.write(f"awsemu: {msg}\n")
            sys.stderr.flush()

    def record(self, entry):
        with self.lock:
            self._seq += 1
            entry["seq"] = self._seq
            self.calls.append(entry)

    # ---------------------------------------------------------------- control API
    def control(self, method, path, query, body):
        """Returns (status, obj)."""
        def data():
            if not body:
                return {}
            try:
                return json.loads(body)
            except ValueError as e:
                raise FaultError(f"body is not JSON: {e}") from None

        route = (method, path)
        with self.lock:
            self.rds.tick()
            if route == ("GET", "/_emulator/health"):
                return 200, {"ok": True, "region": self.region, "account": self.account}
            if route == ("GET", "/_emulator/calls"):
                calls = self.calls
                for key in ("service", "action", "errorCode"):
                    if key in query:
                        calls = [c for c in calls if c.get(key) == query[key][0]]
                if "since" in query:
                    calls = [c for c in calls if c["seq"] > int(query["since"][0])]
                return 200, {"calls": calls}
            if route in (("DELETE", "/_emulator/calls"), ("POST", "/_emulator/calls/reset")):
                self.calls = []
                return 200, {"ok": True}
            if route == ("GET", "/_emulator/state"):
                state = self.rds.dump()
                state.update({
                    "account": self.account, "region": self.region,
                    "timeScale": self.clock.time_scale,
                    "progressSeconds": round(self.clock.progress(), 3),
                    "durations": self.rds.durations,
                    "secrets": sorted(self.store.secrets),
                    "parameters": sorted(self.store.parameters),
                    "executions": self.sfn.executions,
                    "sessions": {k: {"expiration": v["expiration"], "arn": v["arn"],
                                     "source": v["source"]}
                                 for k, v in self.creds.sessions.items()},
                    "faults": self.faults.listing(),
                })
                return 200, state
            if route == ("POST", "/_emulator/faults"):
                spec = data()
                specs = spec if isinstance(spec, list) else [spec]
                added = [self.faults.add(s, self.rds) for s in specs]
                return 200, {"faults": added}
            if route == ("GET", "/_emulator/faults"):
                return 200, {"faults": self.faults.listing()}
            if route == ("DELETE", "/_emulator/faults"):
                self.faults.clear(self.rds)
                return 200, {"ok": True}
            if route == ("POST", "/_emulator/reset"):
                self.load(self.seed)
                self.calls = []
                return 200, {"ok": True}
            if route == ("POST", "/_emulator/seed"):
                spec = data()
                if isinstance(spec, dict) and set(spec) == {"path"}:
                    spec = fixtures.load_file(spec["path"])
                self.load(spec)
                self.seed = spec
                self.calls = []
                return 200, {"ok": True}
            if route == ("POST", "/_emulator/advance"):
                seconds = data().get("seconds")
                if not isinstance(seconds, (int, float)) or seconds < 0:
                    raise FaultError("advance needs {\"seconds\": N >= 0}")
                self.clock.advance(seconds)
                self.rds.tick()
                return 200, {"progressSeconds": round(self.clock.progress(), 3)}
            if route == ("POST", "/_emulator/time-scale"):
                scale = data().get("timeScale")
                if not isinstance(scale, (int, float)) or scale <= 0:
                    raise FaultError("time-scale needs {\"timeScale\": N > 0}")
                self.clock.set_time_scale(scale)
                return 200, {"timeScale": scale}
            if route == ("POST", "/_emulator/config"):
                cfg = data()
                unknown = set(cfg) - {"timeScale", "credentialsLifetime", "durations",
                                      "describeLagSeconds"}
                if unknown:
                    raise FaultError(f"unknown config key(s) {sorted(unknown)}")
                if "timeScale" in cfg:
                    self.clock.set_time_scale(float(cfg["timeScale"]))
                if "credentialsLifetime" in cfg:
                    lifetime = cfg["credentialsLifetime"]
                    self.credentials_lifetime = lifetime
                    self.creds.lifetime = lifetime
                if "describeLagSeconds" in cfg:
                    lag = cfg["describeLagSeconds"]
                    if not isinstance(lag, (int, float)) or lag < 0:
                        raise FaultError("describeLagSeconds must be a number >= 0")
                    self.rds.describe_lag = float(lag)
                for k, v in cfg.get("durations", {}).items():
                    if k not in self.rds.durations or not isinstance(v, (int, float)) or v < 0:
                        raise FaultError(f"bad duration {k}={v!r}; known: "
                                         f"{sorted(self.rds.durations)}")
                    self.rds.durations[k] = v
                return 200, {"timeScale": self.clock.time_scale,
                             "credentialsLifetime": self.credentials_lifetime,
                             "describeLagSeconds": self.rds.describe_lag,
                             "durations": self.rds.durations}
            if route == ("POST", "/_emulator/credentials/expire"):
                self.creds.expire_all()
                return 200, {"ok": True}
            if route == ("POST", "/_emulator/set-status"):
                return 200, self._set_status(data())
            if route == ("POST", "/_emulator/snapshots"):
                return 200, self._new_snapshot(data())
        return 404, {"error": f"no control route {method} {path}"}

    def _set_status(self, spec):
        if "instance" in spec:
            rec = self.rds.instances.get(spec["instance"].lower())
            key = "DBInstanceStatus"
        elif "cluster" in spec:
            rec = self.rds.clusters.get(spec["cluster"].lower())
            key = "Status"
        else:
            raise FaultError("set-status needs instance or cluster, and status")
        if rec is None:
            raise FaultError("no such resource")
        rec[key] = spec["status"]
        rec["_timeline"] = []
        return {"ok": True}

    def _new_snapshot(self, spec):
        inst = self.rds.instances.get(str(spec.get("instance", "")).lower())
        if inst is None:
            raise FaultError("snapshots needs an existing instance")
        stype = spec.get("type", "automated")
        when = self.clock.now() - datetime.timedelta(minutes=spec.get("ageMinutes", 0))
        sid = spec.get("id") or (f"rds:{inst['DBInstanceIdentifier']}-{when:%Y-%m-%d-%H-%M}"
                                 if stype == "automated" else
                                 f"{inst['DBInstanceIdentifier']}-{uuid.uuid4().hex[:8]}")
        snap = self.rds.snapshot_from_instance(inst, sid, stype, when)
        if spec.get("status", "available") == "creating":
            snap["PercentProgress"] = 10
            self.rds._start(snap, [("creating", "snapshot-creating"),  # pylint: disable=protected-access
                                   ("available", None)])
        self.rds.snapshots[sid] = snap
        return {"DBSnapshotIdentifier": sid}

    # ---------------------------------------------------------------- AWS API
    def namespace(self, service):
        return service_model(service).metadata.get("xmlNamespace", "")

    def api(self, method, raw_path, headers, body):
        """Returns a Response."""
        request_id = str(uuid.uuid4())
        started = time.monotonic()
        entry = {"time": xmlrender.format_timestamp(self.clock.now()), "method": method,
                 "service": None, "action": None, "params": None, "status": None,
                 "errorCode": None, "accessKeyId": None, "fault": None,
                 "requestId": request_id}
        target = headers.get("X-Amz-Target")
        json_protocol = target is not None
        service = None
        resp = None
        try:
            if json_protocol:
                prefix, _, action = target.partition(".")
                service = JSON_TARGETS.get(prefix)
                entry["service"], entry["action"] = service or prefix, action
                if service is None:
                    raise AwsError("UnknownOperationException",
                                   f"Unknown target prefix {prefix!r}", 400)
                ctype = (headers.get("Content-Type") or "").split(";")[0].strip()
                want = "application/x-amz-json-" + JSON_VERSION.get(service, "1.1")
                if ctype != want:
                    raise AwsError("SerializationException",
                                   f"Content-Type must be {want}, not {ctype!r}", 400)
                resp = self._json_call(service, action, raw_path, method, headers, body,
                                       entry, request_id)
            else:
                resp = self._query_call(raw_path, method, headers, body, entry, request_id)
        except ProxyAnswer as p:
            resp = Response(p.status, p.content_type, p.body, request_id)
        except AwsError as e:
            svc = entry["service"] if entry["service"] in ("rds", "sts", "secretsmanager",
                                                           "ssm", "stepfunctions") else "rds"
            resp = self.error_response(svc, e, request_id, json_protocol)
        except Exception:  # pylint: disable=broad-except
            # An emulator bug: say so loudly (stderr, call log, a 500 nobody mistakes
            # for an AWS answer) instead of dropping the connection.
            trace = traceback.format_exc()
            sys.stderr.write(f"awsemu: BUG while handling {entry['action']}:\n{trace}")
            entry["emulatorBug"] = trace.strip().splitlines()[-1]
            resp = self.error_response("rds", AwsError(
                "EmulatorBug", "The AWS emulator failed: " + entry["emulatorBug"], 500),
                request_id, json_protocol)
        entry["status"] = resp.status
        entry["errorCode"] = resp.error_code
        entry["durationMs"] = round((time.monotonic() - started) * 1000, 1)
        self.record(entry)
        self.log(f"{entry['service']} {entry['action']} -> {resp.status}"
                 f"{' ' + resp.error_code if resp.error_code else ''}"
                 f"{' [fault ' + entry['fault'] + ']' if entry['fault'] else ''}")
        return resp

    def error_response(self, service, err, request_id, json_protocol):
        if json_protocol:
            body = {"__type": err.code}
            if err.message:
                body["message" if service in ("ssm", "stepfunctions") else "Message"] = err.message
            return Response(err.status, "application/x-amz-json-" + JSON_VERSION.get(service, "1.1"),
                            json.dumps(body).encode(), request_id, err.code)
        return Response(err.status, "text/xml",
                        xmlrender.render_error(self.namespace(service), err, request_id),
                        request_id, err.code)

    def _authenticate(self, service, method, raw_path, headers, body, entry, json_protocol):
        auth = headers.get("Authorization")
        if auth:
            try:
                entry["accessKeyId"] = sigv4.parse_authorization(auth)[0].access_key
            except AwsError:
                pass
        with self.lock:
            lookup = self.creds.lookup
            return sigv4.verify(method, raw_path, headers, body, lookup, self.region,
                                service, self.clock.now(), json_protocol)

    def _before_faults(self, service, action, entry, json_protocol):
        fault = self.faults.take("before", service, action)
        if fault is None:
            return
        entry["fault"] = fault["type"]
        if fault["type"] == "slow":
            time.sleep(fault["delaySeconds"])
            return
        raise before_error(fault, json_protocol)

    def _query_call(self, raw_path, method, headers, body, entry, request_id):
        parts = urlsplit(raw_path)
        pairs = []
        try:
            pairs += parse_qsl(parts.query, keep_blank_values=True, strict_parsing=False)
            ctype = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if method == "POST" and body:
                if ctype != "application/x-www-form-urlencoded":
                    raise AwsError("MissingAction",
                                   "Could not find the Action parameter: the body must be "
                                   "application/x-www-form-urlencoded", 400)
                pairs += parse_qsl(body.decode("utf-8"), keep_blank_values=True,
                                   strict_parsing=True)
        except (ValueError, UnicodeDecodeError):
            raise AwsError("MalformedQueryString",
                           "The query string contains a syntax error.", 404) from None
        params = [(k, v) for k, v in pairs if k not in ("Action", "Version")]
        actions = [v for k, v in pairs if k == "Action"]
        versions = [v for k, v in pairs if k == "Version"]
        action = actions[0] if actions else None
        entry["action"] = action
        scoped = sigv4.scope_service(headers)
        if scoped in QUERY_SERVICES:
            service = scoped
        elif action in STS_ACTIONS:
            service = "sts"
        else:
            service = "rds"
        entry["service"] = service
        model = service_model(service)
        if (service, action) in UNSIGNED_ACTIONS and not headers.get("Authorization"):
            pass
        else:
            self._authenticate(service, method, raw_path, headers, body, entry, False)
        if action is None:
            raise AwsError("MissingAction", "The request must contain the parameter Action",
                           400)
        if len(actions) > 1 or len(versions) > 1:
            raise AwsError("InvalidParameterValue", "Action and Version must be given once",
                           400)
        if not versions:
            raise AwsError("MissingParameter", "The request must contain the parameter "
                           "Version", 400)
        if action not in model.operation_names or versions[0] != model.api_version:
            raise AwsError("InvalidAction", f"Could not find operation {action} for version "
                           f"{versions[0]}", 400)
        handler_owner = self.rds if service == "rds" else self.creds
        if getattr(handler_owner, action, None) is None or (
                service == "rds" and action not in Rds.OPERATIONS):
            raise AwsError("InvalidAction", f"The operation {action} is valid for "
                           f"{service} but not implemented by the AWS emulator", 400)
        self._before_faults(service, action, entry, False)
        op_model = model.operation_model(action)
        typed = parse_params(params, op_model)
        entry["params"] = _redact(typed)
        fault = self.faults.take("handler", service, action)
        if fault is not None:
            entry["fault"] = fault["type"]
            raise handler_error(fault, action)
        with self.lock:
            if service == "rds":
                self.rds.tick()
                result = getattr(self.rds, action)(typed)
            elif action == "GetCallerIdentity":
                result = self.creds.GetCallerIdentity(typed, entry["accessKeyId"])
            else:
                result = getattr(self.creds, action)(typed)
            body_out = xmlrender.render_result(op_model, model.metadata["xmlNamespace"],
                                               result, request_id)
        return self._after_faults(Response(200, "text/xml", body_out, request_id), service,
                                  action, entry)

    def _json_call(self, service, action, raw_path, method, headers, body, entry, request_id):
        model = service_model(service)
        if method != "POST":
            raise AwsError("UnknownOperationException", "JSON APIs take POST only", 400)
        self._authenticate(SIGNING_NAME.get(service, service), method, raw_path, headers, body,
                           entry, True)
        if action not in model.operation_names:
            raise AwsError("UnknownOperationException", f"Unknown operation {action}", 400)
        handler = getattr(self.sfn if service == "stepfunctions" else self.store, action, None)
        if handler is None:
            raise AwsError("UnknownOperationException", f"The operation {action} is not "
                           "implemented by the AWS emulator", 400)
        self._before_faults(service, action, entry, True)
        try:
            payload = json.loads(body or b"{}")
        except ValueError:
            raise AwsError("SerializationException", "The request body is not valid JSON",
                           400) from None
        validate_json(payload, model.operation_model(action).input_shape)
        entry["params"] = _redact(payload)
        fault = self.faults.take("handler", service, action)
        if fault is not None:
            entry["fault"] = fault["type"]
            raise handler_error(fault, action)
        with self.lock:
            result = handler(payload)
        return self._after_faults(Response(200, "application/x-amz-json-" +
                                           JSON_VERSION.get(service, "1.1"),
                                           json.dumps(result).encode(), request_id),
                                  service, action, entry)

    def _after_faults(self, resp, service, action, entry):
        fault = self.faults.take("after", service, action)
        if fault is None:
            return resp
        entry["fault"] = fault["type"]
        if fault["type"] == "truncated":
            resp.body = resp.body[:max(1, len(resp.body) // 2)]
        elif fault["type"] == "malformed":
            resp.body = b"<html><body><h1>502 Bad Gateway</h1><p>upstream <b>closed</html"
        elif fault["type"] == "reset":
            resp.reset = True
        return resp


class Response:
    def __init__(self, status, content_type, body, request_id, error_code=None):
        self.status = status
        self.content_type = content_type
        self.body = body
        self.request_id = request_id
        self.error_code = error_code
        self.reset = False


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "AmazonEmulator"
    # Headers and body go out in two writes; with Nagle on, the body waits for the
    # client's delayed ACK of the headers (40 ms on Linux), which real servers
    # never add. socketserver sets TCP_NODELAY when this is true.
    disable_nagle_algorithm = True
    sys_version = ""
    emulator = None  # set by make_server

    def log_message(self, format, *args):  # noqa: A002 - BaseHTTPRequestHandler API
        pass

    def _body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise ValueError("body too large")
        return self.rfile.read(length) if length else b""

    def _send(self, status, content_type, body, request_id=None, reset=False):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if request_id:
            self.send_header("x-amzn-RequestId", request_id)
        self.end_headers()
        if reset:
            self.wfile.write(body[:len(body) // 2])
            self.wfile.flush()
            # SO_LINGER 0: close with RST, the client sees a reset mid-body.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.close_connection = True
            return
        self.wfile.write(body)

    def _dispatch(self):
        em = self.emulator
        try:
            body = self._body()
        except ValueError:
            self._send(400, "text/plain", b"bad request body\n")
            self.close_connection = True
            return
        path = urlsplit(self.path).path
        if path.startswith("/_emulator/"):
            query = parse_qs(urlsplit(self.path).query)
            try:
                status, obj = em.control(self.command, path.rstrip("/") or "/", query, body)
            except (FaultError, fixtures.FixtureError, ValueError, KeyError, TypeError,
                    AttributeError) as e:
                status, obj = 400, {"error": f"{type(e).__name__}: {e}"}
            self._send(status, "application/json",
                       (json.dumps(obj, default=_json_default, indent=1) + "\n").encode())
            return
        if path.startswith("/latest/"):
            self._credentials_endpoint("imds", path, em.creds.imds)
            return
        if path.startswith("/v2/credentials") or path.startswith("/ecs/credentials"):
            self._credentials_endpoint("ecs", path, em.creds.ecs)
            return
        if self.command not in ("POST", "GET"):
            self._send(405, "text/plain", b"method not allowed\n")
            return
        resp = em.api(self.command, self.path, self.headers, body)
        self._send(resp.status, resp.content_type, resp.body, resp.request_id, resp.reset)

    def _credentials_endpoint(self, service, path, serve):
        """IMDS / ECS: plain HTTP endpoints; faults of that service apply (action
        "*" or "METHOD /path"): http500/http503 answer that status, slow delays,
        reset drops the connection, throttle answers 429."""
        em = self.emulator
        action = f"{self.command} {path}"
        entry = {"time": xmlrender.format_timestamp(em.clock.now()), "service": service,
                 "action": action, "status": None, "errorCode": None, "accessKeyId": None,
                 "params": None, "fault": None}
        fault = em.faults.take("before", service, action) or \
            em.faults.take("after", service, action)
        if fault is not None:
            entry["fault"] = fault["type"]
            if fault["type"] == "slow":
                time.sleep(fault["delaySeconds"])
            else:
                entry["status"] = {"http500": 500, "http503": 503, "throttle": 429}.get(
                    fault["type"], 0)
                em.record(entry)
                if fault["type"] in ("reset", "truncated", "malformed"):
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                               struct.pack("ii", 1, 0))
                    self.close_connection = True
                    return
                self._send(entry["status"], "text/plain", b"")
                return
        with em.lock:
            status, ctype, out = serve(self.command, path, self.headers)
        entry["status"] = status
        em.record(entry)
        self._send(status, ctype, out)

    do_GET = do_POST = do_PUT = do_DELETE = _dispatch


def make_server(emulator, sock):
    """An HTTP server on an already listening loopback socket."""
    handler = type("BoundHandler", (Handler,), {"emulator": emulator})
    server = ThreadingHTTPServer(sock.getsockname(), handler, bind_and_activate=False)
    server.socket.close()
    server.socket = sock
    server.daemon_threads = True
    return server
