"""HTTP(S) front of the emulated engine: the API routes, HTTP faults, the control API.

Routing follows the engine's gorilla/mux router (srv/server.go InitHandlers): the route
is matched first (unknown path: 404 NOT_FOUND, known path with another method: 405
with an empty body), then the Verification-Token is checked (401 UNAUTHORIZED), then
the handler runs. /healthz needs no token. /_emulator/* is the emulator's own control
API and is never subject to the token or to faults.
"""
import hmac
import http.server
import json
import select
import socket
import socketserver
import ssl
import struct
import sys
import threading
import traceback
import time
import urllib.parse
from email.utils import formatdate

from . import gojson
from .engine import ApiError, bad_request

JSON_TYPE = "application/json; charset=utf-8"
YAML_TYPE = "application/yaml; charset=utf-8"
MAX_BODY = 1 << 20

NOT_FOUND_MESSAGE = "Requested object does not exist. Specify your request."


def _version_tuple(version):
    nums = []
    for part in version.lstrip("v").split("-")[0].split("."):
        nums.append(int(part) if part.isdigit() else 0)
    return tuple(nums + [0, 0, 0])[:3]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, the body waits for the
    # client's delayed ACK of the headers (40 ms on Linux), which real servers
    # never add. socketserver sets TCP_NODELAY when this is true.
    disable_nagle_algorithm = True
    server_version = "dblab-emulator"

    # --- plumbing ----------------------------------------------------------------------

    def log_message(self, fmt, *args):  # quiet unless --verbose
        if self.server.verbose:
            super().log_message(fmt, *args)

    def send_response(self, code, message=None):
        # Go's net/http sends no Server header.
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Date", formatdate(usegmt=True))

    def _read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _log_call(self, status):
        """Into the call log BEFORE the answer goes out: a client that reads
        /_emulator/calls right after its response must find its call there."""
        record, self._record = self._record, None
        if record is not None:
            record["status"] = status
            with self.server.engine.lock:
                self.server.engine.calls.append(record)

    def _send(self, status, body, ctype=JSON_TYPE):
        data = body.encode("utf-8") if isinstance(body, str) else body
        self._status = status
        self._log_call(status)
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _send_json(self, status, obj):
        self._send(status, gojson.marshal_indent(obj))

    def _send_error(self, err):
        self._send_json(err.status, {"code": err.code, "message": err.message})

    def _drop_connection(self):
        """Close without a response, with a TCP reset."""
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.close_connection = True
        self._status = 0
        self._log_call(0)
        try:
            self.connection.close()
        except OSError:
            pass

    def do_GET(self):
        self._dispatch()

    def do_POST(self):
        self._dispatch()

    def do_PUT(self):
        self._dispatch()

    def do_PATCH(self):
        self._dispatch()

    def do_DELETE(self):
        self._dispatch()

    def do_HEAD(self):
        self._dispatch()

    # --- dispatch ----------------------------------------------------------------------

    def _dispatch(self):
        self._status = 0
        self._record = None
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        try:
            body = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            return
        engine = self.server.engine
        if self.server.refusing_until is not None:
            self._drop_connection()  # "down": not even the control API answers
            return
        if path.startswith("/_emulator/"):
            self._control(path, body)
            return
        record = {"method": self.command, "path": self.path, "status": 0,
                  "time": gojson.rfc3339nano(engine.clock.now())}
        if body and self.command == "POST" and path == "/admin/config":
            # What the client sent, secrets masked: tests assert on the exact projection.
            try:
                record["body"] = _mask_secrets(json.loads(body.decode("utf-8")))
            except ValueError:
                record["body"] = None
        self._record = record
        try:
            if not self._apply_http_faults(path):
                self._route(path, body)
        except OSError:
            raise  # the client went away
        except Exception as err:  # an emulator bug: say so loudly rather than drop the connection
            traceback.print_exc(file=sys.stderr)
            if self._status == 0:
                self._send_error(ApiError("INTERNAL_ERROR", "dblab emulator bug: %r" % err))
        finally:
            self._log_call(self._status)

    def _apply_http_faults(self, path):
        """Returns True when a fault answered (or dropped) the request."""
        engine = self.server.engine
        delay, action = 0.0, None
        with engine.lock:
            now = time.monotonic()
            for f in list(engine.faults):
                if f["type"] not in ("down", "http", "slow"):
                    continue
                if f.get("until") is not None and now >= f["until"]:
                    engine.faults.remove(f)
                    continue
                if f.get("path") and f["path"] != path:
                    continue
                if f.get("method") and f["method"].upper() != self.command:
                    continue
                if f["type"] != "slow" and action is not None:
                    continue  # one answer per request: later faults keep their count
                if f.get("remaining") is not None:
                    f["remaining"] -= 1
                    if f["remaining"] <= 0:
                        engine.faults.remove(f)
                if f["type"] == "slow":
                    delay += float(f.get("delay", 1))
                elif action is None:
                    action = f
        if delay:
            time.sleep(delay)
        if action is None:
            return False
        if action["type"] == "down":
            if action.get("mode", "503") == "reset":
                self._drop_connection()
            else:
                self._send(503, "upstream connect error or disconnect/reset before headers. "
                                "reset reason: connection failure", "text/plain")
            return True
        status = int(action.get("status", 500))
        codes = {400: "BAD_REQUEST", 401: "UNAUTHORIZED", 404: "NOT_FOUND", 500: "INTERNAL_ERROR"}
        if "json" in action:  # any JSON answer: a shape the engine never sends
            self._send_json(status, action["json"])
        elif status in codes:
            self._send_error(ApiError(codes[status], action.get("message") or "emulated failure"))
        else:
            text = action.get("message") or "%d %s" % (status, http.HTTPStatus(status).phrase)
            self._send(status, "<html><body><h1>%s</h1></body></html>\n" % text, "text/html")
        return True

    def _routes(self):
        e = self.server.engine
        routes = {
            "/healthz": {"GET": (False, lambda b: ("healthz", e.healthz()))},
            "/status": {"GET": (True, lambda b: (200, e.instance_status()))},
            "/instance/retrieval": {"GET": (True, lambda b: (200, e.retrieving(with_activity=True)))},
            "/admin/config": {"GET": (True, lambda b: (200, e.projected_config())),
                              "POST": (True, lambda b: (200, e.set_config(_read_json(b))))},
            "/admin/config.yaml": {"GET": (True, lambda b: ("yaml", e.config_yaml()))},
        }
        if _version_tuple(e.engine["version"]) >= (3, 5, 0):
            routes["/full-refresh"] = {"POST": (True, lambda b: (200, e.post_full_refresh()))}
        return routes

    def _route(self, path, body):
        engine = self.server.engine
        with engine.lock:
            engine.tick()
            methods = self._routes().get(path)
            if methods is None:
                self._send_error(ApiError("NOT_FOUND", NOT_FOUND_MESSAGE))
                return
            method = "GET" if self.command == "HEAD" else self.command
            if method not in methods:
                self._send(405, b"", None)
                return
            needs_token, handler = methods[method]
            if needs_token and not self._authorized():
                self._send_error(ApiError("UNAUTHORIZED", "Check your verification token."))
                return
            try:
                kind, payload = handler(body)
            except ApiError as err:
                self._send_error(err)
                return
        if kind == "healthz":
            self._send(200, gojson.encode_compact(payload))
        elif kind == "yaml":
            self._send(200, payload, YAML_TYPE)
        else:
            self._send_json(kind, payload)

    def _authorized(self):
        token = self.server.token
        if not token:
            return True  # the engine allows everything when verificationToken is empty
        given = self.headers.get("Verification-Token", "")
        return hmac.compare_digest(token.encode(), given.encode())

    # --- control API -------------------------------------------------------------------

    def _control(self, path, body):
        engine = self.server.engine
        name = path[len("/_emulator/"):]
        try:
            data = json.loads(body.decode("utf-8")) if body.strip() else {}
        except ValueError:
            self._send_json(400, {"error": "body must be JSON"})
            return
        try:
            with engine.lock:
                if name == "state" and self.command == "GET":
                    engine.tick()
                    self._send_json(200, engine.state())
                elif name == "calls" and self.command == "GET":
                    self._send_json(200, engine.calls)
                elif name == "calls" and self.command == "DELETE":
                    engine.calls.clear()
                    self._send_json(200, {"ok": True})
                elif name == "faults" and self.command == "GET":
                    self._send_json(200, engine.faults)
                elif name == "faults" and self.command in ("POST", "DELETE"):
                    if self.command == "DELETE" or (isinstance(data, dict) and data.get("clear")):
                        engine.faults.clear()
                        self._send_json(200, {"ok": True, "faults": []})
                        return
                    added = [self.server.add_fault(f) for f in (data if isinstance(data, list) else [data])]
                    self._send_json(200, {"ok": True, "faults": added})
                elif name == "reset" and self.command == "POST":
                    engine.reset()
                    self._send_json(200, {"ok": True})
                elif name == "advance" and self.command == "POST":
                    engine.clock.advance(float(data.get("seconds", 0)))
                    engine.tick()
                    self._send_json(200, {"ok": True, "now": gojson.rfc3339nano(engine.clock.now())})
                elif name == "set" and self.command == "POST":
                    engine.tick()
                    engine.set_state(data)
                    self._send_json(200, {"ok": True})
                else:
                    self._send_json(404, {"error": "unknown control endpoint %s %s" % (self.command, path)})
        except (ApiError, ValueError, KeyError, TypeError, AttributeError) as err:
            self._send_json(400, {"error": str(getattr(err, "message", err))})


def _mask_secrets(value):
    if isinstance(value, dict):
        return {k: ("****" if k in ("password", "connectionString") and v not in (None, "") else
                    _mask_secrets(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_secrets(v) for v in value]
    return value


def _read_json(body):
    """api.ReadJSON: 1 MiB cap, then encoding/json's error text."""
    if len(body) > MAX_BODY:
        raise bad_request("request body is too large: http: request body too large")
    text = body.decode("utf-8", errors="replace")
    if not text.strip():
        raise bad_request("failed to unmarshal json: unexpected end of JSON input")
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        if e.pos >= len(text):
            raise bad_request("failed to unmarshal json: unexpected end of JSON input")
        ch = text[e.pos]
        if e.msg.startswith("Extra data"):
            what = "after top-level value"
        elif e.msg.startswith("Expecting property name"):
            what = "looking for beginning of object key string"
        elif e.msg.startswith("Expecting ':'"):
            what = "after object key"
        elif e.msg.startswith("Expecting ','") and text[:e.pos].rstrip().endswith(tuple("]}\"0123456789el")):
            what = "after object key:value pair" if _innermost(text, e.pos) == "{" else "after array element"
        else:
            what = "looking for beginning of value"
        raise bad_request("failed to unmarshal json: invalid character '%s' %s" % (ch, what))


def _innermost(text, pos):
    """The innermost open bracket before pos (strings skipped)."""
    stack, in_str, esc = [], False, False
    for c in text[:pos]:
        if in_str:
            esc = (c == "\\") and not esc
            if c == '"' and not esc:
                in_str = False
            continue
        if c == '"':
            in_str = True
        elif c in "[{":
            stack.append(c)
        elif c in "]}" and stack:
            stack.pop()
    return stack[-1] if stack else ""


class EmulatorServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, engine, token, tls_context=None, verbose=False):
        self.engine = engine
        self.token = token
        self.tls_context = tls_context
        self.verbose = verbose
        self.refusing_until = None
        self._refuse_request = None
        super().__init__(address, Handler)

    def server_bind(self):
        # HTTPServer.server_bind would resolve the host name (socket.getfqdn): a DNS
        # lookup at every start-up, slow or hanging on a machine without a resolver.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def finish_request(self, request, client_address):
        # The TLS handshake runs in the connection's own thread, never in accept().
        if self.tls_context is not None:
            request.settimeout(10)
            try:
                request = self.tls_context.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                request.close()
                return
            request.settimeout(None)
        super().finish_request(request, client_address)

    def handle_error(self, request, client_address):
        if self.verbose:
            super().handle_error(request, client_address)

    def add_fault(self, spec):
        ftype = spec.get("type")
        known = ("down", "http", "slow", "refresh-fail", "refresh-stuck", "refresh-silent")
        if ftype not in known:
            raise ValueError("fault type must be one of %s" % ", ".join(known))
        fault = dict(spec)
        if ftype == "down" and fault.get("mode") == "refuse":
            self.refuse_for(float(fault.get("seconds", 1)))
            return fault
        if ftype.startswith("refresh-"):
            # Refresh faults apply to the next `count` refreshes.
            fault["remaining"] = int(fault.pop("count", fault.pop("calls", 1)))
            fault.pop("seconds", None)
        elif "calls" in fault:
            fault["remaining"] = int(fault.pop("calls"))
        elif "seconds" in fault:
            fault["until"] = time.monotonic() + float(fault["seconds"])
            fault["remaining"] = None
        else:
            fault["remaining"] = 1
        self.engine.faults.append(fault)
        return fault

    def refuse_for(self, seconds):
        """Connection refused for real: the accept loop closes the listener (never another
        thread: a close racing its select() would leave the port open and reset queued
        connections), and listens again later. Requests on connections kept alive from
        before are dropped meanwhile (a restarting engine loses them too)."""
        done = threading.Event()
        self._refuse_request = (seconds, done)
        if not done.wait(5):
            raise ValueError("the accept loop did not close the listener")

    def _reopen_later(self, seconds):
        port = self.server_address[1]
        time.sleep(seconds)
        for _ in range(200):
            try:
                sock = socket.socket(self.address_family, self.socket_type)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind((self.server_address[0], port))
                sock.listen(self.request_queue_size)
                self.socket = sock
                self.refusing_until = None
                return
            except OSError:
                time.sleep(0.05)

    def serve(self):
        """Accept loop that survives the listener being closed and reopened (refuse_for)."""
        self._stop = False
        while not self._stop:
            if self._refuse_request is not None:
                seconds, done = self._refuse_request
                self._refuse_request = None
                self.refusing_until = time.monotonic() + seconds
                self.socket.close()
                threading.Thread(target=self._reopen_later, args=(seconds,), daemon=True).start()
                done.set()
            if self.refusing_until is not None:
                time.sleep(0.02)
                continue
            try:
                ready, _, _ = select.select([self.socket], [], [], 0.05)
            except (OSError, ValueError):
                time.sleep(0.02)
                continue
            if ready:
                self._handle_request_noblock()

    def stop(self):
        self._stop = True


def make_tls_context(cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx
