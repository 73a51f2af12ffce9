"""The emulated engine: server.yml, retrieval state machine, pools, clones, faults.

Everything here follows the engine's source (engine/internal/retrieval/retrieval.go,
state.go, engine/internal/srv/config.go, routes.go, server.go); the comments name the
engine function each piece mirrors. Time is the emulated clock (time scale and
/_emulator/advance); state advances lazily on every request (tick), so moving time
never needs a sleep.
"""
import copy
import json
import os
import re
import threading
import time

import yaml

from . import cron, projection

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _load(text):
    return yaml.load(text, Loader=_Loader)


def _compose_text(text):
    return yaml.compose(text, Loader=_Loader)
from .gojson import go_type_name, local_time, rfc3339nano

FIXTURES = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "dblab"))
DEFAULT_CONFIG = os.path.join(FIXTURES, "server.yml")

# retrieval.go
ERR_REFRESH_IN_PROGRESS = "The data refresh/snapshot is currently in progress. Skip a new data refresh iteration"
ERR_REFRESH_PENDING = "Data retrieving suspended because Retrieval state is pending"
ERR_NO_AVAILABLE_POOL = "Pool to perform full refresh not found. Skip refreshing"
# srv/config.go
CONFIG_MANAGEMENT_DENIED = "configuration management via UI/API disabled by admin"

LOGICAL_JOBS = ("logicalDump", "logicalRestore", "logicalSnapshot")
PHYSICAL_JOBS = ("physicalRestore", "physicalSnapshot")
STATUSES = ("inactive", "pending", "failed", "refreshing", "renewed", "snapshotting", "finished")
_CUSTOM_OPTION = re.compile(r'^[A-Za-z0-9\-_="]+$')

DEFAULT_SEED = {
    "engine": {"version": "v4.1.0-20251118-0921", "edition": "community",
               "instanceID": "d4bl4bem0000000000ul", "billingActive": True, "telemetry": False},
    # Pools in the pool manager's order: the first is the active one.
    "pools": [
        {"name": "dblab_pool/dataset_1", "status": "active", "dataStateAtAgo": 86400},
        {"name": "dblab_pool/dataset_2", "status": "empty"},
    ],
    "clones": [],
    # The state after the engine's start-up retrieval of a day ago.
    "retrieval": {"status": "finished", "lastRefreshAgo": 86400},
    # Emulated seconds; a time scale of 60 turns a 60 s dump into one real second.
    "timing": {"startDelay": 5, "refreshDuration": 60, "snapshotDuration": 10, "connectDelay": 2},
    "awsCredentials": True,
    "provisioner": {"dockerImage": "postgresai/extended-postgres:16-0.5.3",
                    "containerConfig": {"shm-size": "1gb"}},
}


class ApiError(Exception):
    """An engine error reply: models.Error {code, message} with its HTTP status."""
    STATUS = {"BAD_REQUEST": 400, "UNAUTHORIZED": 401, "NOT_FOUND": 404, "INTERNAL_ERROR": 500}

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = self.STATUS.get(code, 500)


def bad_request(message):
    return ApiError("BAD_REQUEST", message)


class Clock:
    """Emulated time: real time times the scale, plus whatever /advance added."""

    def __init__(self, scale=1.0):
        self.scale = float(scale)
        self.base_wall = time.time()
        self.base_mono = time.monotonic()
        self.offset = 0.0

    def now(self):
        return self.base_wall + (time.monotonic() - self.base_mono) * self.scale + self.offset

    def advance(self, seconds):
        self.offset += float(seconds)

    @staticmethod
    def wall():
        """The host's real clock: what the engine's time.Now() reads. A time scale
        speeds up the phases, never the timestamps the engine stamps on data
        (lastRefresh, dataStateAt), which would otherwise lie in the future."""
        return time.time()


def load_seed(path):
    """A .json seed (engine state + "config": server.yml path) or a server.yml itself."""
    seed = copy.deepcopy(DEFAULT_SEED)
    config_path = DEFAULT_CONFIG
    if path:
        if path.endswith(".json"):
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
            for key, value in data.items():
                if key == "config":
                    config_path = os.path.join(os.path.dirname(path), value)
                elif isinstance(value, dict) and isinstance(seed.get(key), dict):
                    seed[key].update(value)
                else:
                    seed[key] = value
        else:
            config_path = path
    with open(config_path, encoding="utf-8") as f:
        seed["configYaml"] = f.read()
    _compose_text(seed["configYaml"])  # fail at start-up, not at the first request
    return seed


def _serialize(node):
    return yaml.serialize(projection.unwrap_aliases(node)) if node is not None else ""


def _dig(obj, *keys):
    for k in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(k)
    return obj


class Engine:
    def __init__(self, seed, clock, aws_url=None, log=None, aws_port_file=None):
        self.lock = threading.RLock()
        self.seed = seed
        self.clock = clock
        self._aws_url = aws_url.rstrip("/") if aws_url else None
        # run-emulators starts both emulators at once: the AWS port is read when first needed.
        self.aws_port_file = aws_port_file
        self.log = log or (lambda msg: None)
        self.faults = []
        self.calls = []
        self.reset()

    @property
    def aws_url(self):
        if self._aws_url is None and self.aws_port_file:
            try:
                with open(self.aws_port_file) as f:
                    port = int(f.read().strip())
                self._aws_url = "http://127.0.0.1:%d" % port
            except (OSError, ValueError):
                return "http://127.0.0.1:0"  # not up yet: the check fails like a dead endpoint
        return self._aws_url

    # --- state -----------------------------------------------------------------------

    def reset(self):
        with self.lock:
            s = copy.deepcopy(self.seed)
            now = self.clock.now()
            self.engine = s["engine"]
            self.started_at = int(now)
            self.timing = s["timing"]
            self.aws_credentials = bool(s["awsCredentials"])
            self.provisioner = s["provisioner"]
            self.yaml_text = s["configYaml"]
            self.pools = []
            for p in s["pools"]:
                ago = p.get("dataStateAtAgo")
                self.pools.append({"name": p["name"], "status": p.get("status", "empty"),
                                   "dataStateAt": int(now - ago) if ago is not None else None})
            self.clones = [dict(c) for c in s["clones"]]
            r = s["retrieval"]
            ago = r.get("lastRefreshAgo")
            self.last_refresh = int(now - ago) if ago is not None else None
            self.status = r.get("status", "inactive")
            self.alerts = {}
            for kind, a in (r.get("alerts") or {}).items():
                self._add_alert(kind, a["message"], now, a.get("count", 1))
            self.slot = False
            self.run = None
            self.sched_from = now
            self.events = []
            self.faults = []
            self.calls = []
            self._reload_config()

    def _reload_config(self):
        """Engine reload: re-read server.yml, redefine the retrieval mode."""
        cfg = _load(self.yaml_text) or {}
        self.cfg = cfg
        retrieval = cfg.get("retrieval") or {}
        spec = retrieval.get("spec") or {}
        self.jobs_spec = {j: spec[j] for j in (retrieval.get("jobs") or []) if j in spec}
        if any(j in self.jobs_spec for j in PHYSICAL_JOBS):
            self.mode = "physical"
        elif any(j in self.jobs_spec for j in LOGICAL_JOBS):
            self.mode = "logical"
        else:
            self.mode = "unknown"
        self.disable_config_modification = bool(_dig(cfg, "server", "disableConfigModification"))
        timetable = str(_dig(cfg, "retrieval", "refresh", "timetable") or "")
        if timetable != getattr(self, "timetable", None):
            self.sched_from = self.clock.now()  # setupScheduler: runs from now on, none missed
        self.timetable = timetable

    def event(self, level, message, at=None):
        self.events.append({"time": rfc3339nano(at if at is not None else self.clock.now()),
                            "level": level, "message": message})
        del self.events[:-200]
        self.log("%s: %s" % (level, message))

    def _add_alert(self, kind, message, at, count=1):
        """State.addAlert: one entry per alert type, counted."""
        level = {"refresh_failed": "error", "refresh_skipped": "warning"}.get(kind, "unknown")
        alert = self.alerts.get(kind)
        if alert:
            alert["count"] += count
            alert["lastSeen"] = at
            alert["message"] = message
        else:
            self.alerts[kind] = {"level": level, "message": message, "lastSeen": at, "count": count}

    # --- time ------------------------------------------------------------------------

    def tick(self):
        """Apply every retrieval and scheduler event due by now, in time order."""
        with self.lock:
            now = self.clock.now()
            for _ in range(10000):
                t_run = self.run["next"] if self.run and self.run.get("next") is not None else None
                t_sched = self._next_schedule(self.sched_from)
                due = [t for t in (t_run, t_sched) if t is not None and t <= now]
                if not due:
                    return
                t = min(due)
                if t_run is not None and t_run == t:
                    self._run_step(t)
                else:
                    self.sched_from = t
                    self.event("info", "Scheduled full refresh (timetable %r)" % self.timetable, t)
                    self.full_refresh(t, source="scheduler")

    def _next_schedule(self, after):
        if not self.timetable or self.mode == "unknown":
            return None
        try:
            return cron.next_after(self.timetable, after)
        except cron.CronError:
            return None

    # --- the refresh pipeline (retrieval.go) -----------------------------------------

    def can_start_refresh(self):
        """State.canStartRefresh."""
        if self.slot or self.status in ("refreshing", "snapshotting"):
            return ERR_REFRESH_IN_PROGRESS
        if self.status == "pending":
            return ERR_REFRESH_PENDING
        return None

    def pool_to_update(self):
        """pool.Manager.GetPoolToUpdate: from the back, the first pool without clones."""
        busy = {c.get("pool") for c in self.clones}
        for pool in reversed(self.pools):
            if pool["name"] not in busy:
                return pool
        return None

    def full_refresh(self, at, source):
        """Retrieval.FullRefresh: claim the slot, pick a pool, run asynchronously."""
        err = self.can_start_refresh()
        if err == ERR_REFRESH_IN_PROGRESS:
            self._add_alert("refresh_skipped", err, at)
            self.event("info", err, at)
            return
        if err:
            self.event("info", err, at)
            return
        pool = self.pool_to_update()
        if pool is None:
            self._add_alert("refresh_skipped", ERR_NO_AVAILABLE_POOL, at)
            self.event("info", ERR_NO_AVAILABLE_POOL + ". Hint: Check that there is at least one pool "
                       "that does not have clones running. Refresh can be performed only to a pool "
                       "without clones.", at)
            return
        self.slot = True
        self.event("info", "Pool selected to perform full refresh: %s (%s)" % (pool["name"], source), at)
        self.run = {"phase": "starting", "pool": pool["name"], "source": source, "triggeredAt": at,
                    "next": at + float(self.timing["startDelay"])}

    def _take_fault(self, *types):
        for f in self.faults:
            if f["type"] in types and f.get("remaining", 1) > 0:
                f["remaining"] = f.get("remaining", 1) - 1
                if f["remaining"] <= 0:
                    self.faults.remove(f)
                return f
        return None

    def _pool(self, name):
        return next((p for p in self.pools if p["name"] == name), None)

    def _run_step(self, t):
        run = self.run
        phase = run["phase"]
        pool = self._pool(run["pool"])
        if phase == "starting":
            silent = self._silent_failure(run)
            if silent:
                # RefreshData fails before it sets the status. The API handler's goroutine
                # only logs it (routes.go: "failed to initiate full refresh"); the scheduler's
                # refreshFunc also records it as a refresh_failed alert.
                self.event("error", "failed to initiate full refresh " + silent, t)
                if run["source"] == "scheduler":
                    self._add_alert("refresh_failed", silent, t)
                self.slot = False
                self.run = None
                return
            self.status = "refreshing"
            # The engine stamps both with time.Now() as the dump starts (logical/dump.go).
            run["startedWall"] = self.clock.wall()
            self.last_refresh = int(run["startedWall"])
            if pool:
                pool["status"] = "refreshing"
            run["startedAt"] = t
            if self._take_fault("refresh-stuck"):
                run.update(phase="refreshing", next=None, stuck=True)
                self.event("info", "Refresh stuck (fault): the dump job never ends", t)
                return
            fail = self._take_fault("refresh-fail")
            check = self._source_check() if fail is None else None
            if fail is not None and fail.get("phase", "refreshing") == "snapshotting":
                run["failSnapshot"] = fail.get("message") or "failed to create a snapshot: emulated fault"
                run.update(phase="refreshing", next=t + float(self.timing["refreshDuration"]))
            elif fail is not None or check:
                run["failMessage"] = (fail.get("message") if fail else None) or check or \
                    "failed to dump the database: emulated fault"
                delay = min(float(self.timing["connectDelay"]), float(self.timing["refreshDuration"]))
                run.update(phase="refreshing", next=t + delay)
            else:
                run.update(phase="refreshing", next=t + float(self.timing["refreshDuration"]))
            return
        if phase == "refreshing":
            if run.get("failMessage"):
                self._fail(run["failMessage"], t, pool)
                return
            # RefreshData's deferred "renewed", then run() cleans the alerts and snapshots.
            self.alerts = {}
            self.status = "snapshotting"
            run.update(phase="snapshotting", next=t + float(self.timing["snapshotDuration"]))
            return
        if phase == "snapshotting":
            if run.get("failSnapshot"):
                self._fail(run["failSnapshot"], t, pool)
                return
            self.status = "finished"
            if pool:
                pool["status"] = "active"
                pool["dataStateAt"] = int(run["startedWall"])
                self.pools.remove(pool)
                self.pools.insert(0, pool)  # poolManager.MakeActive
            self.alerts = {}
            self.slot = False
            self.run = None
            self.event("info", "Full refresh finished", t)

    def _fail(self, message, t, pool):
        self.status = "failed"
        self._add_alert("refresh_failed", message, t)
        if self.run and self.run["source"] == "scheduler":
            # Retrieval.refreshFunc adds the returned error once more.
            self._add_alert("refresh_failed", message, t)
        if pool:
            pool["status"] = "empty"
        self.slot = False
        self.run = None
        self.event("error", message, t)

    def _dump_options(self):
        return _dig(self.jobs_spec, "logicalDump", "options") or {}

    def _silent_failure(self, run):
        """Errors of Retrieval.run/buildJobs that happen before the status changes."""
        if self.engine.get("edition") == "standard" and not self.engine.get("billingActive", True):
            return "skip snapshotting: billing is not active"
        fault = self._take_fault("refresh-silent")
        if fault:
            return fault.get("message") or "failed to build refresh jobs: emulated fault"
        if self.mode != "logical" or "logicalDump" not in self.jobs_spec:
            return None
        prefix = "failed to build refresh jobs for %s: failed to build job: " % run["pool"]
        opts = self._dump_options()
        parallel = opts.get("parallelJobs") or 0
        if _dig(opts, "immediateRestore", "enabled") and isinstance(parallel, int) and parallel > 1:
            return prefix + ("failed to load job config: invalid logical dump job: parallel backup not "
                             "supported for the direct restore. \nEither set 'numberOfJobs' equals to 1 "
                             "or disable the restore section")
        stype = _dig(opts, "source", "type") or ""
        if stype == "rdsIam":
            if not _dig(opts, "source", "rdsIam"):
                return prefix + ("failed to set up a dump helper: the RDS IAM configuration section "
                                 "must not be empty when using the RDS IAM source type")
            if not self.aws_credentials:
                return prefix + ("failed to set up a dump helper: failed to create an RDS IAM dumper: "
                                 "failed to check AWS credentials.\nSet up valid environment variables "
                                 "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
        elif stype not in ("local", "remote", ""):
            return prefix + "failed to set up a dump helper: unknown source type given: %s" % stype
        return None

    # --- the AWS cross-check ---------------------------------------------------------

    def _aws_state(self):
        import urllib.request  # imported when first needed: start-up stays fast
        with urllib.request.urlopen(self.aws_url + "/_emulator/state", timeout=3) as resp:
            return json.loads(resp.read().decode("utf-8"))

    def _source_check(self):
        """With --aws-url: the dump job reaches its source only if it is a live RDS endpoint."""
        if not self.aws_url or self.mode != "logical" or "logicalDump" not in self.jobs_spec:
            return None
        opts = self._dump_options()
        conn = _dig(opts, "source", "connection") or {}
        user = conn.get("username") or "postgres"
        dbname = conn.get("dbname") or "postgres"
        port = conn.get("port") or 5432
        try:
            instances, clusters = aws_endpoints(self._aws_state())
        except (OSError, ValueError) as e:  # urllib.error.URLError is an OSError
            return "emulator: cannot read the AWS emulator state at %s: %s" % (self.aws_url, e)
        if _dig(opts, "source", "type") == "rdsIam":
            ident = _dig(opts, "source", "rdsIam", "dbInstanceIdentifier") or ""
            inst = next((i for i in instances if i["id"] == ident), None)
            if inst is None:
                import uuid
                return ("failed to setup connection options: DBInstanceNotFound: DBInstance %s not found."
                        "\n\tstatus code: 404, request id: %s" % (ident, uuid.uuid4()))
            host, port = inst["address"], inst["port"] or port
            if inst["status"] != "available" or not host:
                return _connect_error(host or ident, port, user, dbname, opts, "refused")
            return None
        host = conn.get("host") or ""
        targets = [(i["address"], i["port"], i["status"]) for i in instances]
        for c in clusters:
            targets += [(e, c["port"], c["status"]) for e in c["endpoints"]]
        match = [t for t in targets if t[0] and t[0].lower() == host.lower()]
        if not match:
            return _connect_error(host, port, user, dbname, opts, "dns")
        if not any(st == "available" and (not p or int(p) == int(port)) for _, p, st in match):
            return _connect_error(host, port, user, dbname, opts, "refused")
        return None

    # --- the API ---------------------------------------------------------------------

    def healthz(self):
        return {"version": self.engine["version"], "edition": self.engine["edition"],
                "instanceID": self.engine["instanceID"]}

    def retrieving(self, with_activity):
        next_refresh = None
        if self.timetable:
            try:
                next_refresh = local_time(cron.next_after(self.timetable, self.clock.now()))
            except cron.CronError:
                next_refresh = None
        out = {"mode": self.mode, "status": self.status,
               "lastRefresh": local_time(self.last_refresh), "nextRefresh": next_refresh,
               "alerts": {k: {"level": a["level"], "message": a["message"],
                              "lastSeen": rfc3339nano(a["lastSeen"]), "count": a["count"]}
                          for k, a in self.alerts.items()},
               "activity": None}
        if with_activity and self.status == "refreshing" and self.run:
            conn = _dig(self._dump_options(), "source", "connection") or {}
            out["activity"] = {"source": [{
                "user": conn.get("username") or "postgres",
                "query": "COPY public.pgbench_accounts (aid, bid, abalance, filler) TO stdout;",
                "duration": round(self.clock.now() - self.run.get("startedAt", self.clock.now()), 3),
                "waitEventType": "Client", "waitEvent": "ClientWrite"}], "target": []}
        return out

    def _clone_view(self, c):
        created = c.get("createdAt", self.started_at)
        pool = self._pool(c.get("pool")) or {}
        dsa = pool.get("dataStateAt")
        snap_id = "%s@snapshot_%s" % (c.get("pool"), time.strftime("%Y%m%d%H%M%S", time.gmtime(dsa or created)))
        port = str(c.get("port", 6000))
        numclones = sum(1 for x in self.clones if x.get("pool") == c.get("pool"))
        return {  # models.Clone
            "id": c["id"],
            "snapshot": {"id": snap_id, "createdAt": local_time(dsa or created),
                         "dataStateAt": local_time(dsa or created), "physicalSize": 0,
                         "logicalSize": 11518021632, "pool": c.get("pool"), "numClones": numclones,
                         "clones": [x["id"] for x in self.clones if x.get("pool") == c.get("pool")],
                         "branch": c.get("branch", "main"), "message": "", "protected": False},
            "branch": c.get("branch", "main"), "revision": 0,
            "protected": bool(c.get("protected", False)), "deleteAt": None,
            "createdAt": local_time(created),
            "status": {"code": "OK", "message": "Clone is ready to accept Postgres connections."},
            "db": {"connStr": "host=127.0.0.1 port=%s user=%s dbname=postgres" % (port, c.get("user", "tester")),
                   "host": "127.0.0.1", "port": port, "username": c.get("user", "tester"),
                   "password": "", "dbName": "postgres"},
            "metadata": {"cloneDiffSize": 484352, "logicalSize": 11518029312, "cloningTime": 1.52,
                         "maxIdleMinutes": 120}}

    def instance_status(self):
        """Server.instanceStatus + summarizeStatus."""
        status = {"code": "OK", "message": "Instance is ready"}
        if self.status == "failed":
            status = {"code": "WARNING", "message": "Subsystems that need attention: retrieving"}
        pools = []
        for p in self.pools:
            clones = [c["id"] for c in self.clones if c.get("pool") == p["name"]]
            used = 245248 + (12288 if p["dataStateAt"] else 0)
            # buildPoolEntry: a pool without data has a zero DSA, marshalled as "".
            pools.append({"name": p["name"], "mode": "zfs", "dataStateAt": local_time(p["dataStateAt"]) or "",
                          "status": p["status"], "cloneList": clones,
                          "fileSystem": {"mode": "zfs", "size": 30685528064, "free": 30685528064 - used,
                                         "used": used, "dataSize": 12288 if p["dataStateAt"] else 0,
                                         "usedBySnapshots": 0, "usedByClones": 219648 * len(clones),
                                         "compressRatio": 1.04 if p["dataStateAt"] else 1}})
        engine = {"version": self.engine["version"], "edition": self.engine["edition"],
                  "billingActive": bool(self.engine.get("billingActive", True)),
                  "instanceID": self.engine["instanceID"], "startedAt": local_time(self.started_at),
                  "telemetry": bool(self.engine.get("telemetry", False)),
                  "disableConfigModification": self.disable_config_modification}
        sync = {"status": {"code": "Not available", "message": ""}, "lastReplayedLsn": "",
                "lastReplayedLsnAt": "", "replicationLag": "", "replicationUptime": 0}
        if self.mode == "physical":
            sync = {"status": {"code": "OK", "message": ""}, "startedAt": local_time(self.started_at),
                    "lastReplayedLsn": "0/5000060", "lastReplayedLsnAt": local_time(self.clock.now()),
                    "replicationLag": "0", "replicationUptime": int(self.clock.now() - self.started_at)}
        return {"status": status, "engine": engine, "pools": pools,
                "cloning": {"expectedCloningTime": 1.52 if self.clones else 0,
                            "numClones": len(self.clones),
                            "clones": [self._clone_view(c) for c in self.clones]},
                "retrieving": self.retrieving(with_activity=False),
                "provisioner": self.provisioner, "synchronization": sync}

    def post_full_refresh(self):
        """srv.refresh: precheck, then FullRefresh in a goroutine."""
        err = self.can_start_refresh()
        if err:
            raise bad_request(err)
        if self.pool_to_update() is None:
            raise bad_request(ERR_NO_AVAILABLE_POOL)
        self.full_refresh(self.clock.now(), source="api")
        return {"status": "OK", "message": "Full refresh started"}

    def _compose(self, text=None):
        node = projection.compose(self.yaml_text if text is None else text)
        if node is None:
            raise bad_request("failed to load yaml config projection: document has no mapping node")
        return node

    def projected_config(self):
        """srv.projectedAdminConfig."""
        try:
            proj = projection.load_yaml(self._compose(), ("default",))
        except projection.ProjectionError as e:
            raise bad_request("failed to load yaml config projection: %s" % e)
        obj = projection.store_json(proj, ("default",))
        obj["retrievalMode"] = self.mode
        return obj

    def config_yaml(self):
        """srv.adminConfigYaml: the whole server.yml with secrets masked."""
        node = self._compose()
        _mask(node)
        return _serialize(node)

    def set_config(self, obj):
        """srv.setProjectedAdminConfig + applyProjectedAdminConfig."""
        if self.disable_config_modification:
            raise bad_request(CONFIG_MANAGEMENT_DENIED)
        if not isinstance(obj, dict):
            raise bad_request("config must be an object: %s" % go_type_name(obj))
        mode = obj.get("retrievalMode")
        if not isinstance(mode, str) or mode == "":
            mode = self.mode
        complete_logical = False
        if mode == "logical":
            if self.mode == "physical":
                raise bad_request("cannot apply a logical config: the instance is configured for physical "
                                  "retrieval; switch modes by editing the config manually")
            complete_logical = True
        elif mode == "physical":
            if "physicalRestore" not in self.jobs_spec:
                raise bad_request("physicalRestore job is not enabled. Consider editing DLE config manually")
        else:
            raise bad_request('config update requires retrievalMode to be logical or physical, got "%s"' % mode)
        try:
            proj = projection.load_json(obj, ("default", "sensitive"))
        except projection.ProjectionError as e:
            raise bad_request("failed to load json config projection: %s" % e)
        guard = projection.guard_mode_fields(mode, proj)
        if guard:
            raise bad_request(guard)
        conn_str = proj.get("connectionString")
        if conn_str and re.search(r"(password=|://[^/@]*:[^/@]*@)", conn_str):
            raise bad_request("source connection string must not contain a password")
        if proj.get("password") == "":
            proj["password"] = None
        if proj.get("dockerImage") == "":
            proj["dockerImage"] = None
        before = _serialize(self._compose())
        node = self._compose()
        if complete_logical:
            err = _ensure_logical_pipeline(node)
            if err:
                raise bad_request("failed to ensure logical retrieval pipeline: %s" % err)
        try:
            skipped = projection.store_yaml(node, proj, ("default", "sensitive"))
        except projection.ProjectionError as e:
            raise bad_request("failed to prepare yaml config projection: %s" % e)
        after = _serialize(node)
        if skipped:
            # The engine says nothing about these; the emulator notes them for tests.
            self.event("debug", "keys not present in server.yml, not written: %s" % ", ".join(skipped))
        if after != before:
            err = _validate_config(after, proj)
            if err:
                raise bad_request(err)
            self.yaml_text = after
            self._reload_config()
            self.event("info", "Config changed: backed up and reloaded")
        result = self.projected_config()
        was_pending = self.status == "pending"
        if was_pending:
            self.status = "inactive"  # RemovePendingMarker
            self.full_refresh(self.clock.now(), source="config")
        return result

    # --- emulator view ---------------------------------------------------------------

    def password_digest(self):
        import hashlib
        pw = _dig(self.cfg, "retrieval", "spec", "logicalDump", "options", "source", "connection", "password")
        return hashlib.sha256(str(pw).encode()).hexdigest() if pw is not None else None

    def state(self):
        run = None
        if self.run:
            run = {k: (rfc3339nano(v) if k in ("triggeredAt", "startedAt", "next") and v else v)
                   for k, v in self.run.items() if k not in ("failMessage", "failSnapshot")}
            run["willFail"] = bool(self.run.get("failMessage") or self.run.get("failSnapshot"))
        return {"now": rfc3339nano(self.clock.now()), "timeScale": self.clock.scale,
                "mode": self.mode, "status": self.status, "slotClaimed": self.slot,
                "lastRefresh": local_time(self.last_refresh),
                "alerts": self.retrieving(False)["alerts"], "run": run,
                "pools": [{"name": p["name"], "status": p["status"],
                           "dataStateAt": local_time(p["dataStateAt"])} for p in self.pools],
                "clones": self.clones, "timing": self.timing, "awsCredentials": self.aws_credentials,
                "awsUrl": self.aws_url, "engine": self.engine,
                "disableConfigModification": self.disable_config_modification,
                "timetable": self.timetable,
                "source": {k: v for k, v in (_dig(self._dump_options(), "source", "connection") or {}).items()
                           if k != "password"},
                "sourceType": _dig(self._dump_options(), "source", "type"),
                "rdsIam": _dig(self._dump_options(), "source", "rdsIam"),
                "dumpParallelJobs": self._dump_options().get("parallelJobs"),
                "restoreParallelJobs": _dig(self.jobs_spec, "logicalRestore", "options", "parallelJobs"),
                "passwordSha256": self.password_digest(),
                "configYaml": self.config_yaml(),
                "faults": self.faults, "events": self.events}

    def set_state(self, obj):
        """POST /_emulator/set: put the engine into a given state for a test."""
        now = self.clock.now()
        if "status" in obj:
            if obj["status"] not in STATUSES:
                raise bad_request("status must be one of %s" % ", ".join(STATUSES))
            self.status = obj["status"]
            self.run = None
            self.slot = False
        if "lastRefresh" in obj:
            v = obj["lastRefresh"]
            self.last_refresh = None if v is None else int(now - float(v)) if isinstance(v, (int, float)) else None
        if "alerts" in obj:
            self.alerts = {}
            for kind, a in (obj["alerts"] or {}).items():
                self._add_alert(kind, a["message"], now - float(a.get("ago", 0)), int(a.get("count", 1)))
        if "clones" in obj:
            self.clones = [dict(c) for c in obj["clones"]]
        if "disableConfigModification" in obj:
            node = self._compose()
            _set_path(node, ["server", "disableConfigModification"], bool(obj["disableConfigModification"]))
            self.yaml_text = _serialize(node)
            self._reload_config()
        if "timing" in obj:
            self.timing.update({k: float(v) for k, v in obj["timing"].items()})
        if "awsCredentials" in obj:
            self.aws_credentials = bool(obj["awsCredentials"])
        if "engine" in obj:
            self.engine.update(obj["engine"])
        if "config" in obj:
            _compose_text(obj["config"])
            self.yaml_text = obj["config"]
            self._reload_config()


def aws_endpoints(state):
    """Instances and clusters from the AWS emulator's /_emulator/state, whatever its nesting."""
    instances, clusters = [], []

    def get(d, *names):
        for n in names:
            if n in d:
                return d[n]
        return None

    def walk(x):
        if isinstance(x, dict):
            if "DBInstanceIdentifier" in x or "dbInstanceIdentifier" in x:
                ep = get(x, "Endpoint", "endpoint") or {}
                addr = ep.get("Address") or ep.get("address") if isinstance(ep, dict) else ep
                port = (ep.get("Port") or ep.get("port")) if isinstance(ep, dict) else None
                instances.append({"id": get(x, "DBInstanceIdentifier", "dbInstanceIdentifier"),
                                  "status": get(x, "DBInstanceStatus", "dbInstanceStatus", "status"),
                                  "address": addr, "port": port or get(x, "Port", "port")})
                return
            if "DBClusterIdentifier" in x or "dbClusterIdentifier" in x:
                eps = [e for e in (get(x, "Endpoint", "endpoint"), get(x, "ReaderEndpoint", "readerEndpoint"))
                       if isinstance(e, str)]
                for ce in get(x, "CustomEndpoints", "customEndpoints") or []:
                    if isinstance(ce, str):
                        eps.append(ce)
                clusters.append({"id": get(x, "DBClusterIdentifier", "dbClusterIdentifier"),
                                 "status": get(x, "Status", "status"), "endpoints": eps,
                                 "port": get(x, "Port", "port")})
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    # The AWS emulator's dump: {"instances": {id: DBInstance}, "clusters": {id: DBCluster},
    # "snapshots": ...}. Only those two tables hold endpoints (a snapshot also names its
    # DBInstanceIdentifier); any other shape is searched whole.
    if isinstance(state, dict) and ("instances" in state or "clusters" in state):
        for key in ("instances", "clusters"):
            table = state.get(key) or {}
            walk(list(table.values()) if isinstance(table, dict) else table)
    else:
        walk(state)
    return instances, clusters


def _connect_error(host, port, user, dbname, opts, kind):
    """How the dump job reports an unreachable source (pgx when it lists databases, else pg_dump)."""
    databases = opts.get("databases")
    if kind == "dns":
        if databases:
            db = sorted(databases)[0]
            return ('failed to dump the database %s: failed to dump a database: exit status 1. Output: '
                    'pg_dump: error: could not translate host name "%s" to address: Name or service not known'
                    % (db, host))
        return ("failed to extract the list of databases for dumping: failed to connect to DB: failed to "
                "connect to `host=%s user=%s database=%s`: hostname resolving error (lookup %s: no such host)"
                % (host, user, dbname, host))
    if databases:
        db = sorted(databases)[0]
        return ('failed to dump the database %s: failed to dump a database: exit status 1. Output: '
                'pg_dump: error: connection to server at "%s", port %s failed: Connection refused'
                % (db, host, port))
    return ("failed to extract the list of databases for dumping: failed to connect to DB: failed to "
            "connect to `host=%s user=%s database=%s`: dial error (dial tcp %s:%s: connect: connection refused)"
            % (host, user, dbname, host, port))


def _find(node, key):
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if getattr(k, "value", None) == key:
                return v
    return None


def _set_path(node, path, value):
    for key in path[:-1]:
        child = _find(node, key)
        if child is None:
            child = yaml.MappingNode("tag:yaml.org,2002:map", [])
            node.value.append((yaml.ScalarNode("tag:yaml.org,2002:str", key), child))
        node = child
    new = yaml.ScalarNode("tag:yaml.org,2002:bool", "true" if value else "false")
    for i, (k, v) in enumerate(node.value):
        if k.value == path[-1]:
            node.value[i] = (k, new)
            return
    node.value.append((yaml.ScalarNode("tag:yaml.org,2002:str", path[-1]), new))


_SECRET_KEYS = {"password", "verificationToken", "accessToken", "orgKey", "secret", "connectionString"}


def _mask(node, seen=None):
    """yamlUtils.DefaultConfigMask: secrets become "****"."""
    seen = seen if seen is not None else set()
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        for i, (k, v) in enumerate(node.value):
            if getattr(k, "value", None) in _SECRET_KEYS and isinstance(v, yaml.ScalarNode):
                node.value[i] = (k, yaml.ScalarNode("tag:yaml.org,2002:str", "****"))
            else:
                _mask(v, seen)
    elif isinstance(node, yaml.SequenceNode):
        for v in node.value:
            _mask(v, seen)


def _ensure_logical_pipeline(document):
    """srv.ensureLogicalPipeline: retrieval.jobs := the logical jobs whose spec exists."""
    retrieval = _find(document, "retrieval")
    if retrieval is None:
        return "retrieval section not found in config"
    spec = _find(retrieval, "spec")
    dump_opts = _find(_find(spec, "logicalDump"), "options") if spec is not None else None
    immediate = _find(_find(dump_opts, "immediateRestore"), "enabled") if dump_opts is not None else None
    desired = ["logicalDump"]
    if not (immediate is not None and getattr(immediate, "value", "") == "true"):
        desired.append("logicalRestore")
    desired.append("logicalSnapshot")
    jobs = [j for j in desired if spec is not None and _find(spec, j) is not None]
    if not jobs:
        return "no logical job specs found in config"
    seq = yaml.SequenceNode("tag:yaml.org,2002:seq",
                            [yaml.ScalarNode("tag:yaml.org,2002:str", j) for j in jobs])
    for i, (k, v) in enumerate(retrieval.value):
        if k.value == "jobs":
            retrieval.value[i] = (k, seq)
            return None
    retrieval.value.append((yaml.ScalarNode("tag:yaml.org,2002:str", "jobs"), seq))
    return None


def _validate_config(text, proj):
    """srv.validateConfig: the parts that do not need Docker."""
    cfg = _load(text) or {}
    retrieval = cfg.get("retrieval") or {}
    spec = retrieval.get("spec") or {}
    jobs = retrieval.get("jobs") or []
    undefined = [j for j in jobs if j not in spec]
    if undefined:
        return "config contains jobs without specification: %s" % ", ".join(undefined)
    timetable = _dig(retrieval, "refresh", "timetable")
    if timetable:
        try:
            cron.parse(str(timetable))
        except cron.CronError as e:
            return "invalid timetable: %s" % e
    listed = set(jobs)
    if listed & set(LOGICAL_JOBS) and listed & set(PHYSICAL_JOBS):
        return "must not contain physical and logical jobs simultaneously"
    for key, what in (("dumpCustomOptions", "dump"), ("restoreCustomOptions", "restore")):
        for opt in proj.get(key) or []:
            if not isinstance(opt, str):
                return "invalid custom %s options: invalid type of custom option: %s" % (what, json.dumps(opt))
            if not _CUSTOM_OPTION.match(opt):
                return ('invalid custom %s options: invalid option %s: due to security reasons, current '
                        'implementation of custom options supports only letters, numbers, hyphen, '
                        'underscore, equal sign, and double quotes' % (what, json.dumps(opt)))
    return None
