#!/usr/bin/python3
"""The DBLab emulator's responses validate against the spec's schemas
($DRR_SHARED_DIR/reference/dblab/dblab_openapi.yaml), with the engine's corrections.

Where the spec and the engine (DBLab Engine 4.x, github.com/postgres-ai/database-lab-engine)
disagree, the engine wins. Every correction applied is LISTED in CORRECTIONS below with the
engine source it comes from, and test_every_correction_is_needed shows that the
uncorrected spec rejects what the engine really sends. On top of that the validation is
strict: the models the emulator emits get additionalProperties: false, so a field that
is neither in the spec nor in a listed correction fails the test.
"""
import copy
import datetime
import os
import re
import sys
import unittest

import jsonschema
import yaml

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import dblabemu_testlib as lib  # noqa: E402

SPEC_PATH = os.path.join(lib.SHARED, "reference", "dblab", "dblab_openapi.yaml")

LOCAL_TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d\d:\d\d$")


def local_time_schema(nullable=True):
    # models.LocalTime marshals as "2006-01-02 15:04:05 -07:00", "" when zero; *LocalTime nil is null.
    return {"type": ["string", "null"] if nullable else "string", "format": "local-time"}


ALERT = {"type": "object", "additionalProperties": False,
         "required": ["level", "message", "lastSeen", "count"],
         "properties": {"level": {"enum": ["error", "warning", "unknown"]},
                        "message": {"type": "string"},
                        "lastSeen": {"type": "string", "format": "date-time"},
                        "count": {"type": "integer", "minimum": 1}}}


def _c_alerts(s):
    s["Retrieving"]["properties"]["alerts"] = {
        "type": "object", "additionalProperties": False,
        "properties": {"refresh_failed": ALERT, "refresh_skipped": ALERT}}


def _c_retrieving_times(s):
    for key in ("lastRefresh", "nextRefresh"):
        s["Retrieving"]["properties"][key] = local_time_schema()


def _c_activity(s):
    s["Retrieving"]["properties"]["activity"] = {
        "oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/Activity"}]}


def _c_retrieving_enums(s):
    p = s["Retrieving"]["properties"]
    p["mode"] = {"enum": ["physical", "logical", "unknown"]}
    p["status"] = {"enum": ["inactive", "pending", "failed", "refreshing", "renewed", "snapshotting",
                            "finished"]}
    s["Retrieving"]["required"] = ["mode", "status", "lastRefresh", "nextRefresh", "alerts", "activity"]


def _c_billing(s):
    s["Engine"]["properties"]["billingActive"] = {"type": "boolean"}
    s["Engine"]["properties"]["startedAt"] = local_time_schema()


def _c_error(s):
    s["Error"] = {"type": "object", "additionalProperties": False, "required": ["code", "message"],
                  "properties": {"code": {"enum": ["INTERNAL_ERROR", "BAD_REQUEST", "UNAUTHORIZED",
                                                   "NOT_FOUND", "PAYLOAD_TOO_LARGE"]},
                                 "message": {"type": "string"}}}


def _c_pool(s):
    s["PoolEntry"]["properties"]["dataStateAt"] = local_time_schema()
    s["PoolEntry"]["properties"]["status"] = {"enum": ["active", "empty", "refreshing"]}


def _c_floats(s):
    s["FileSystem"]["properties"]["compressRatio"] = {"type": "number"}
    s["Cloning"]["properties"]["expectedCloningTime"] = {"type": "number"}
    s["CloneMetadata"]["properties"]["cloningTime"] = {"type": "number"}


def _c_sync(s):
    s["Synchronization"]["properties"]["lastReplayedLsnAt"] = {"type": "string"}
    s["Synchronization"]["properties"]["startedAt"] = {"type": "string"}


def _c_snapshot(s):
    p = s["Snapshot"]["properties"]
    p["createdAt"] = local_time_schema()
    p["dataStateAt"] = local_time_schema()
    p["clones"] = {"type": ["array", "null"], "items": {"type": "string"}}
    p["branch"] = {"type": "string"}
    p["message"] = {"type": "string"}


def _c_clone(s):
    p = s["Clone"]["properties"]
    p["deleteAt"] = local_time_schema()
    p["createdAt"] = local_time_schema()
    p["protectedTill"] = local_time_schema()
    p["branch"] = {"type": "string"}
    p["revision"] = {"type": "integer"}
    s["Database"]["properties"]["dbName"] = {"type": "string"}


def _c_healthz(s):
    s["Healthz"] = {"type": "object", "additionalProperties": False,
                    "required": ["version", "edition", "instanceID"],
                    "properties": {k: {"type": "string"} for k in ("version", "edition", "instanceID")}}


def _c_full_refresh(s):
    s["FullRefresh"]["required"] = ["status", "message"]
    s["FullRefresh"]["additionalProperties"] = False


def _c_config(s):
    s["Config"] = {"type": "object", "required": ["retrievalMode"],
                   "properties": {"retrievalMode": {"enum": ["logical", "physical", "unknown"]}}}


# (what, the engine source it follows, how it changes components.schemas)
CORRECTIONS = [
    ("Retrieving.alerts is an object keyed by alert type (refresh_failed, refresh_skipped) of "
     "{level, message, lastSeen, count}, not an array of strings",
     "engine/pkg/models/retrieval.go: Alerts map[AlertType]Alert `json:\"alerts\"`; "
     "type Alert struct {Level; Message; LastSeen time.Time; Count int}", _c_alerts),
    ("Retrieving.lastRefresh/nextRefresh are LocalTime strings \"2006-01-02 15:04:05 -07:00\" or null, "
     "not RFC 3339 date-times",
     "engine/pkg/models/local_time.go: localTimeFormat = \"2006-01-02 15:04:05 -07:00\"; "
     "models/retrieval.go: LastRefresh *LocalTime, NextRefresh *LocalTime", _c_retrieving_times),
    ("Retrieving.activity is null unless a job is refreshing (and always null in /status)",
     "engine/pkg/models/retrieval.go: Activity *Activity; internal/srv/routes.go jobActivity returns nil "
     "unless State.Status == models.Refreshing; server.go instanceStatus never sets it", _c_activity),
    ("Retrieving.mode and status take the engine's enum values (incl. pending, renewed, snapshotting)",
     "engine/pkg/models/retrieval.go: RetrievalMode and RetrievalStatus constants", _c_retrieving_enums),
    ("Engine.billingActive is a boolean; Engine.startedAt is a LocalTime",
     "engine/pkg/models/instance_status.go: BillingActive *bool `json:\"billingActive,omitempty\"`; "
     "StartedAt *LocalTime", _c_billing),
    ("Error bodies carry only code and message (no detail, no hint)",
     "engine/pkg/models/error.go: type Error struct {Code ErrorCode `json:\"code\"`; Message string "
     "`json:\"message\"`}; internal/srv/api/errors.go SendError", _c_error),
    ("PoolEntry.dataStateAt is a LocalTime or null; status is active/empty/refreshing",
     "engine/pkg/models/instance_status.go: DataStateAt *LocalTime; Status resources.PoolStatus", _c_pool),
    ("FileSystem.compressRatio, Cloning.expectedCloningTime and CloneMetadata.cloningTime are floats",
     "engine/pkg/models/fs.go: CompressRatio float64; instance_status.go: ExpectedCloningTime float64; "
     "clone.go: CloningTime float64", _c_floats),
    ("Synchronization.lastReplayedLsnAt and startedAt are plain strings (\"\" for logical engines)",
     "engine/pkg/models/sync.go: LastReplayedLsnAt string; StartedAt string `json:\"startedAt,omitempty\"`",
     _c_sync),
    ("Snapshot.createdAt/dataStateAt are LocalTimes; a snapshot also has clones, branch, message",
     "engine/pkg/models/snapshot.go: CreatedAt, DataStateAt *LocalTime; Clones []string; Branch; Message",
     _c_snapshot),
    ("Clone.createdAt/deleteAt are LocalTimes or null; a clone also has branch and revision; "
     "Database has dbName",
     "engine/pkg/models/clone.go: Branch string; Revision int; DeleteAt, CreatedAt *LocalTime; "
     "models/database.go: DBName string `json:\"dbName\"`", _c_clone),
    ("/healthz returns exactly {version, edition, instanceID}",
     "engine/internal/srv/routes.go healthCheck: models.Engine{Version, Edition, InstanceID} "
     "(the other Engine fields are omitempty)", _c_healthz),
    ("FullRefresh always has status and message",
     "engine/internal/srv/routes.go refresh: models.Response{Status: ResponseOK, "
     "Message: \"Full refresh started\"}", _c_full_refresh),
    ("GET/POST /admin/config return the nested projection plus the synthetic retrievalMode",
     "engine/internal/srv/config.go projectedAdminConfig: obj[\"retrievalMode\"] = "
     "string(s.Retrieval.State.Mode)", _c_config),
]

# Models the emulator emits: validated strictly (no field outside the spec + corrections).
STRICT = ["Instance", "Status", "Engine", "PoolEntry", "FileSystem", "Cloning", "Retrieving", "Activity",
          "PGActivityEvent", "Synchronization", "Snapshot", "Clone", "Database", "CloneMetadata"]


def load_spec():
    with open(SPEC_PATH, encoding="utf-8") as f:
        return yaml.safe_load(f)


def resolve(node, schemas, depth=0):
    if depth > 50:
        raise RecursionError("$ref cycle")
    if isinstance(node, dict):
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[1]
            return resolve(copy.deepcopy(schemas[name]), schemas, depth + 1)
        return {k: resolve(v, schemas, depth) for k, v in node.items() if k not in ("example",)}
    if isinstance(node, list):
        return [resolve(v, schemas, depth) for v in node]
    return node


def schemas(corrected=True):
    components = copy.deepcopy(load_spec()["components"]["schemas"])
    if corrected:
        for _, _, apply in CORRECTIONS:
            apply(components)
        for name in STRICT:
            components[name]["additionalProperties"] = False
    return {name: resolve(s, components) for name, s in components.items()}


FORMATS = jsonschema.FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value):
    if not isinstance(value, str):
        return True
    if not re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$", value):
        raise ValueError("not RFC 3339: %r" % value)
    datetime.datetime.fromisoformat(re.sub(r"\.\d+", "", value).replace("Z", "+00:00"))
    return True


@FORMATS.checks("local-time", raises=ValueError)
def _local_time(value):
    if not isinstance(value, str) or value == "":
        return True
    if not LOCAL_TIME.match(value):
        raise ValueError("not a LocalTime: %r" % value)
    datetime.datetime.strptime(value[:19], "%Y-%m-%d %H:%M:%S")
    return True


def errors(schema, instance):
    v = jsonschema.Draft4Validator(schema, format_checker=FORMATS)
    return ["%s: %s" % ("/".join(str(p) for p in e.absolute_path), e.message) for e in v.iter_errors(instance)]


def walk_keys(obj):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield k
            yield from walk_keys(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from walk_keys(v)


class SpecCase(unittest.TestCase):
    SEED = None

    @classmethod
    def setUpClass(cls):
        if not os.path.exists(SPEC_PATH):
            raise unittest.SkipTest("no spec at %s" % SPEC_PATH)
        cls.S = schemas()
        cls.emu = lib.start(seed=cls.SEED, time_scale=0.001)

    @classmethod
    def tearDownClass(cls):
        cls.emu.stop()

    def setUp(self):
        self.emu.ctl("POST", "reset")

    def check(self, schema_name, resp, status=200):
        self.assertEqual(resp.status, status, resp.text)
        errs = errors(self.S[schema_name], resp.json())
        self.assertEqual(errs, [], "%s does not validate:\n%s" % (schema_name, "\n".join(errs)))
        return resp.json()


class TestLogicalEngine(SpecCase):
    def test_healthz(self):
        self.check("Healthz", self.emu.api("GET", "/healthz", token=None))
        self.check("Engine", self.emu.api("GET", "/healthz", token=None))

    def test_status_through_a_refresh(self):
        seen = []
        self.check("Instance", self.emu.api("GET", "/status"))
        self.check("FullRefresh", self.emu.api("POST", "/full-refresh"))
        for step in (0, 5, 30, 35, 10):
            self.emu.advance(step)
            st = self.check("Instance", self.emu.api("GET", "/status"))
            self.check("Retrieving", self.emu.api("GET", "/instance/retrieval"))
            seen.append(st["retrieving"]["status"])
        self.assertEqual(seen, ["finished", "refreshing", "refreshing", "snapshotting", "finished"])

    def test_status_with_alerts_and_clones(self):
        self.emu.ctl("POST", "set", {"clones": [{"id": "c1", "pool": "dblab_pool/dataset_1"}]})
        self.emu.ctl("POST", "faults", {"type": "refresh-fail", "message": "pg_dump: error: boom"})
        self.emu.api("POST", "/full-refresh")
        self.emu.advance(10)
        st = self.check("Instance", self.emu.api("GET", "/status"))
        self.assertEqual(st["retrieving"]["status"], "failed")
        self.assertEqual(st["cloning"]["numClones"], 1)
        self.emu.ctl("POST", "set", {"alerts": {"refresh_skipped": {"message": ERR, "count": 3}}})
        self.check("Instance", self.emu.api("GET", "/status"))

    def test_activity_while_refreshing(self):
        self.emu.api("POST", "/full-refresh")
        self.emu.advance(10)
        r = self.check("Retrieving", self.emu.api("GET", "/instance/retrieval"))
        self.assertIsNotNone(r["activity"])

    def test_scheduler_next_refresh(self):
        self.emu.api("POST", "/admin/config", {"retrieval": {"refresh": {"timetable": "0 1 * * 0"}}})
        r = self.check("Instance", self.emu.api("GET", "/status"))["retrieving"]
        self.assertIsNotNone(r["nextRefresh"])

    def test_admin_config(self):
        cfg = self.check("Config", self.emu.api("GET", "/admin/config"))
        self.assertNotIn("password", set(walk_keys(cfg)))
        cfg = self.check("Config", self.emu.api("POST", "/admin/config", {"retrieval": {"spec": {"logicalDump": {
            "options": {"source": {"connection": {"password": "x", "host": "h"}}}}}}}))
        self.assertNotIn("password", set(walk_keys(cfg)))

    def test_error_bodies(self):
        self.check("Error", self.emu.api("GET", "/status", token="nope"), 401)
        self.check("Error", self.emu.api("GET", "/nowhere"), 404)
        self.emu.api("POST", "/full-refresh")
        self.check("Error", self.emu.api("POST", "/full-refresh"), 400)
        self.check("Error", self.emu.api("POST", "/admin/config", raw=b"[1]"), 400)
        self.emu.ctl("POST", "faults", {"type": "http", "status": 500})
        self.check("Error", self.emu.api("GET", "/status"), 500)

    def test_every_correction_is_needed(self):
        """The uncorrected spec rejects what the engine sends."""
        raw = schemas(corrected=False)
        self.emu.ctl("POST", "faults", {"type": "refresh-fail", "message": "boom"})
        self.emu.ctl("POST", "set", {"clones": [{"id": "c1", "pool": "dblab_pool/dataset_1"}]})
        self.emu.api("POST", "/full-refresh")
        self.emu.advance(10)
        st = self.emu.api("GET", "/status").json()
        msgs = "\n".join(errors(raw["Instance"], st))
        for needle in ("alerts", "billingActive", "lastRefresh", "compressRatio", "dataStateAt",
                       "cloningTime", "startedAt"):
            self.assertIn(needle, msgs, "the raw spec accepts %s, so its correction is not needed" % needle)
        self.emu.api("POST", "/full-refresh")
        self.emu.advance(10)
        r = self.emu.api("GET", "/instance/retrieval").json()
        self.assertIn("activity", "\n".join(errors(raw["Retrieving"], dict(r, activity=None))))
        err = self.emu.api("GET", "/status", token="nope").json()
        self.assertEqual(errors(raw["Error"], err), [], "the raw Error schema allows code+message...")
        self.assertNotEqual(errors(raw["Error"], {"code": 1}), [], "...but is too loose to pin them")


ERR = "The data refresh/snapshot is currently in progress. Skip a new data refresh iteration"


class TestPhysicalEngine(SpecCase):
    SEED = lib.fixture("server-physical.yml")

    def test_status_and_config(self):
        st = self.check("Instance", self.emu.api("GET", "/status"))
        self.assertEqual(st["synchronization"]["status"]["code"], "OK")
        self.check("Config", self.emu.api("GET", "/admin/config"))
        self.check("FullRefresh", self.emu.api("POST", "/full-refresh"))


class TestCorrectionList(unittest.TestCase):
    def test_corrections_are_documented(self):
        self.assertGreaterEqual(len(CORRECTIONS), 10)
        for what, source, apply in CORRECTIONS:
            self.assertTrue(source.startswith("engine/"), source)
            self.assertTrue(callable(apply), what)
        for what, source, _ in CORRECTIONS:
            print("correction: %s\n    engine: %s" % (what, source))


if __name__ == "__main__":
    lib.run_tests()
