"""Fault injection (POST /_emulator/faults).

A fault matches the next `count` calls of `action` ("*" = any) of `service`
("*" = any).  Stages, in the order a request meets them:
  before  - after the signature check, before validation and execution:
            throttle, http500, http503, slow (delay, then normal processing),
            proxy-html (HTTP 200 with a proxy's or captive portal's HTML page,
            well-formed XHTML; contentType overrides text/html), error-200
            (an AWS error document -- code, message -- with HTTP 200): what a
            client must never read as an empty or successful answer
  handler - after validation, instead of execution: error,
            insufficient-capacity
  after   - the call IS executed, then its response is damaged: reset
            (connection cut mid-body), truncated (XML cut short), malformed
            (not XML at all).  The lost-response cases a client must survive
            by re-reading state (e.g. a create that did happen).
restore-outcome is a state fault handled by the RDS state machine: the next
created/restored instance or cluster ends in `status` instead of available."""
import itertools
import threading

from .errors import AwsError

TYPES = {"throttle": "before", "http500": "before", "http503": "before",
         "slow": "before", "proxy-html": "before", "error-200": "before", "error": "handler", "insufficient-capacity": "handler",
         "reset": "after", "truncated": "after", "malformed": "after",
         "restore-outcome": "state"}
INSTANCE_CREATES = {"RestoreDBInstanceFromDBSnapshot", "RestoreDBInstanceToPointInTime",
                    "CreateDBInstance"}
CLUSTER_CREATES = {"RestoreDBClusterFromSnapshot", "RestoreDBClusterToPointInTime"}
OUTCOMES = {"failed", "incompatible-restore", "incompatible-parameters",
            "incompatible-network", "storage-full", "inaccessible-encryption-credentials",
            "stuck"}


# A sign-in page as a corporate proxy or captive portal serves it with HTTP 200.
# XHTML on purpose: it parses as XML, so only the content type and the missing
# <ActionResponse> give it away.
PROXY_PAGE = (b'<?xml version="1.0" encoding="utf-8"?>\n'
              b'<html xmlns="http://www.w3.org/1999/xhtml"><head><title>Sign in</title>'
              b'</head><body><h1>Proxy authentication required</h1>'
              b'<p>Sign in to continue.</p></body></html>\n')


class FaultError(ValueError):
    pass


class ProxyAnswer(Exception):
    """An answer that is not the service's at all (raised by a before-stage fault)."""

    def __init__(self, status, content_type, body):
        super().__init__(f"HTTP {status} {content_type}")
        self.status = status
        self.content_type = content_type
        self.body = body


class Faults:
    def __init__(self):
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.items = []

    def add(self, spec, rds):
        if not isinstance(spec, dict):
            raise FaultError("a fault is a JSON object")
        known = {"action", "service", "type", "count", "delaySeconds", "status", "code",
                 "message", "httpStatus", "durationSeconds", "resource", "contentType"}
        unknown = set(spec) - known
        if unknown:
            raise FaultError(f"unknown fault field(s): {sorted(unknown)}")
        ftype = spec.get("type")
        if ftype not in TYPES:
            raise FaultError(f"fault type must be one of {sorted(TYPES)}")
        count = spec.get("count", 1)
        if not isinstance(count, int) or count < 1:
            raise FaultError("count must be a positive integer")
        fault = {"id": next(self._ids), "type": ftype, "stage": TYPES[ftype],
                 "action": spec.get("action", "*"), "service": spec.get("service", "*"),
                 "count": count, "left": count, "hits": 0}
        if ftype == "slow":
            delay = spec.get("delaySeconds")
            if not isinstance(delay, (int, float)) or delay < 0:
                raise FaultError("slow needs delaySeconds >= 0")
            fault["delaySeconds"] = delay
        if ftype == "error":
            if not spec.get("code"):
                raise FaultError("error needs code (and optionally httpStatus, message)")
            fault.update(code=spec["code"], httpStatus=spec.get("httpStatus", 400),
                         message=spec.get("message", spec["code"]))
        if ftype == "error-200":
            if not spec.get("code"):
                raise FaultError("error-200 needs code (and optionally message)")
            fault.update(code=spec["code"], message=spec.get("message", spec["code"]))
        if ftype == "proxy-html":
            fault["contentType"] = spec.get("contentType", "text/html; charset=utf-8")
        if ftype == "restore-outcome":
            status = spec.get("status")
            if status not in OUTCOMES:
                raise FaultError(f"restore-outcome status must be one of {sorted(OUTCOMES)}")
            resource = spec.get("resource", "any")
            if resource not in ("any", "instance", "cluster"):
                raise FaultError("resource must be any, instance or cluster")
            fault.update(status=status, resource=resource)
            if "durationSeconds" in spec:
                fault["durationSeconds"] = float(spec["durationSeconds"])
            with self._lock:
                rds.outcome_faults.append(fault)
                self.items.append(fault)
            return fault
        with self._lock:
            self.items.append(fault)
        return fault

    def take(self, stage, service, action):
        with self._lock:
            for f in self.items:
                if f["stage"] != stage or f["left"] <= 0:
                    continue
                if f["service"] not in ("*", service):
                    continue
                if f["type"] == "insufficient-capacity":
                    if f["action"] == "*" and action not in INSTANCE_CREATES | CLUSTER_CREATES:
                        continue
                if f["action"] not in ("*", action):
                    continue
                f["left"] -= 1
                f["hits"] += 1
                return f
        return None

    def clear(self, rds):
        with self._lock:
            self.items.clear()
            rds.outcome_faults.clear()

    def listing(self):
        with self._lock:
            return [dict(f) for f in self.items]


def handler_error(fault, action):
    """The AwsError a handler-stage fault raises."""
    if fault["type"] == "error":
        return AwsError(fault["code"], fault["message"], fault["httpStatus"])
    if action in CLUSTER_CREATES:
        return AwsError("InsufficientDBClusterCapacityFault",
                        "The DB cluster does not have enough capacity for the current "
                        "operation.", 403)
    return AwsError("InsufficientDBInstanceCapacity",
                    "Insufficient capacity for the requested DB instance class in the "
                    "requested Availability Zone. Try another instance class or "
                    "Availability Zone.", 400)


def before_error(fault, json_protocol):
    if fault["type"] == "proxy-html":
        return ProxyAnswer(200, fault["contentType"], PROXY_PAGE)
    if fault["type"] == "error-200":
        return AwsError(fault["code"], fault["message"], 200)
    if fault["type"] == "throttle":
        if json_protocol:
            return AwsError("ThrottlingException", "Rate exceeded", 400)
        return AwsError("Throttling", "Rate exceeded", 400)
    if fault["type"] == "http500":
        return AwsError("InternalFailure", "An internal error has occurred. "
                        "Please try your query again at a later time.", 500)
    return AwsError("ServiceUnavailable", "Service is unavailable. Please try again later.",
                    503)
