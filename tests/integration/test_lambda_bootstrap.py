#!/usr/bin/python3
"""lambda-bootstrap, the Lambda custom runtime, through the Lambda emulator: the
deadline (Lambda-Runtime-Deadline-Ms) stops a step cleanly before Lambda would kill
the environment; a step's command that crashes, floods stdout or prints something
that is not a run document is the invocation's error, the runtime serving on; an
unknown handler is an init error; outside Lambda it refuses to start (78)."""
import json
import os
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import lambdaemu_testlib as lib  # noqa: E402

BIN = os.environ.get("DRR_BIN", os.path.join(lib.TOP, "bin"))
BOOT = os.path.join(BIN, "lambda-bootstrap")


def fake_bin(commands):
    """A directory of stand-in commands (shell scripts) for the bootstrap's children."""
    d = tempfile.mkdtemp(prefix="fakebin.")
    for name, body in commands.items():
        p = os.path.join(d, name)
        with open(p, "w") as f:
            f.write("#!/bin/sh\n" + body + "\n")
        os.chmod(p, stat.S_IRWXU)
    return d


class Deadline(unittest.TestCase):
    """The real dblab-refresh -start against a DBLab emulator whose /admin/config
    answers after 8 s; the function's timeout is 6 s: the step gets SIGTERM 2 s before
    the deadline, exits 143 before any trigger, and the runtime answers drr.deadline
    in time (not Lambda's Sandbox.Timedout)."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="boot.")
        env_file = os.path.join(cls.tmp, "env")
        cls.emus = subprocess.Popen([os.path.join(lib.TOP, "tests", "emulators", "run-emulators"),
                                     "--env-file", env_file, "--time-scale", "600"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(1400):
            if os.path.exists(env_file) and os.path.getsize(env_file):
                break
            time.sleep(0.05)
        cls.env = {}
        with open(env_file) as f:
            for line in f:
                k, _, v = line.strip().partition("=")
                if k:
                    cls.env[k.replace("export ", "")] = shlex.split(v)[0] if v else ""
        cfg = os.path.join(cls.tmp, "config.yaml")
        with os.fdopen(os.open(cfg, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            # masterPassword keep: the step reaches the engine without a clone (managed
            # would first read the clone's own password from AWS)
            f.write("source:\n  type: rds\n  identifier: production-db\nclone:\n"
                    "  instanceClass: db.t3.medium\n  masterPassword: keep\n"
                    "dblab:\n  apiEndpoint: %s\n"
                    "  token: ${DBLAB_TOKEN}\naws:\n  region: us-east-1\n  endpoint: %s\n"
                    % (cls.env["DBLAB_EMULATOR_URL"], cls.env["AWS_EMULATOR_URL"]))
        fenv = {"DBLAB_RDS_REFRESH_CONFIG": cfg, "DBLAB_TOKEN": cls.env["DBLAB_EMULATOR_TOKEN"],
                "DRR_LAMBDA_STOP_MARGIN_MS": "2000", "AWS_CONFIG_FILE": "/dev/null",
                "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
                "AWS_ACCESS_KEY_ID": cls.env["AWS_ACCESS_KEY_ID"],
                "AWS_SECRET_ACCESS_KEY": cls.env["AWS_SECRET_ACCESS_KEY"]}
        cls.emu = lib.start({"step": {"command": [BOOT, "step"], "timeout": 6, "env": fenv}})

    @classmethod
    def tearDownClass(cls):
        cls.emu.stop()
        cls.emus.terminate()
        cls.emus.wait()

    def dblab(self, method, path, body=None):
        url = self.env["DBLAB_EMULATOR_URL"]
        return lib.request(url.split("//", 1)[1], method, path, body)

    def test_stopped_before_the_deadline(self):
        self.dblab("POST", "/_emulator/faults", {"type": "slow", "delay": 8,
                                                  "path": "/admin/config", "calls": 1})
        doc = {"apiVersion": "dblab-rds-refresh/v1", "runId": "deadline",
               "endpoint": {"host": "dblab-refresh-x.abc.us-east-1.rds.amazonaws.com",
                            "port": 5432}}
        t0 = time.time()
        status, hdr, body = self.emu.invoke("step", {"step": "refresh-start", "document": doc})
        took = time.time() - t0
        err = json.loads(body)
        self.assertEqual(hdr.get("x-amz-function-error"), "Unhandled")
        self.assertEqual(err["errorType"], "drr.deadline", err)
        self.assertIn("stopped before the Lambda deadline (exit 143)", err["errorMessage"])
        self.assertLess(took, 6)   # answered before Lambda's timeout
        self.assertGreater(took, 3)
        calls = json.loads(self.dblab("GET", "/_emulator/calls")[2])
        self.assertEqual([c for c in calls if c["path"] == "/full-refresh"], [])
        # the environment survived: the next invocation is served by the same runtime
        status, hdr, body = self.emu.invoke("step", {"step": "nope"})
        self.assertEqual(json.loads(body)["errorType"], "drr.input")
        self.assertEqual(self.emu.ctl("GET", "sandboxes")["step"]["coldStarts"], 1)


class Children(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.bin = fake_bin({
            "rds-snapshot-latest": "kill -SEGV $$",
            "rds-clone-create": "head -c 2000000 /dev/zero | tr '\\\\0' x",
            "rds-clone-delete": "cat >/dev/null; echo 'not json'",
            "rds-clone-wait": "cat >/dev/null; echo '2026-01-01T00:00:00Z ERROR rds-clone-wait: "
                              "DB instance x: status failed: the clone failed' >&2; exit 87",
        })
        cls.emu = lib.start({
            "step": {"command": [BOOT, "step"], "timeout": 20,
                     "env": {"DRR_LAMBDA_BIN_DIR": cls.bin}},
            "odd": {"command": [BOOT, "nonsense"], "timeout": 20},
        })

    @classmethod
    def tearDownClass(cls):
        cls.emu.stop()

    def err(self, event, fn="step"):
        status, hdr, body = self.emu.invoke(fn, event)
        self.assertEqual(hdr.get("x-amz-function-error"), "Unhandled", body)
        return json.loads(body)

    DOC = {"apiVersion": "dblab-rds-refresh/v1", "runId": "r", "clone": {"id": "dblab-refresh-r"}}

    def test_a_crashing_command(self):
        e = self.err({"step": "snapshot", "input": {}})
        self.assertEqual(e["errorType"], "drr.crash")
        self.assertIn("killed by signal 11", e["errorMessage"])

    def test_output_flood(self):
        e = self.err({"step": "create", "document": self.DOC})
        self.assertEqual(e["errorType"], "drr.internal")
        self.assertIn("more than", e["errorMessage"])

    def test_not_a_document(self):
        e = self.err({"step": "delete", "document": self.DOC})
        self.assertEqual(e["errorType"], "drr.internal")
        self.assertIn("not a run document", e["errorMessage"])

    def test_the_commands_error_line_and_exit_code(self):
        e = self.err({"step": "clone-wait", "document": self.DOC})
        self.assertEqual(e, {"errorType": "drr.clone-failed", "stackTrace": [],
                             "errorMessage": "rds-clone-wait: DB instance x: status failed: "
                                             "the clone failed"})

    def test_events_that_are_not_steps(self):
        self.assertEqual(self.err([1])["errorType"], "drr.input")
        self.assertEqual(self.err({"step": "x"})["errorType"], "drr.input")
        self.assertIn("no \"document\"", self.err({"step": "create"})["errorMessage"])
        e = self.err({"step": "delete", "document": {"apiVersion": "dblab-rds-refresh/v1"}})
        self.assertIn("neither a clone section nor a runId", e["errorMessage"])
        self.assertEqual(self.emu.ctl("GET", "sandboxes")["step"]["coldStarts"], 1)

    def test_unknown_handler_is_an_init_error(self):
        e = self.err({}, fn="odd")
        self.assertEqual(e["errorType"], "drr.usage")
        self.assertIn("unknown handler", e["errorMessage"])


class CommandsDir(unittest.TestCase):
    """Where the runtime finds the commands (cmds/lambda-bootstrap.c commands_dir):
    Lambda starts a custom runtime by its path (the image's ENTRYPOINT, /var/task/
    bootstrap, /opt/bootstrap), so the directory of argv[0] (symlinks resolved), then
    $LAMBDA_TASK_ROOT, then $PATH; $DRR_LAMBDA_BIN_DIR before all. Each directory's
    stand-in rds-clone-wait names itself in the step's error."""

    STEPS = ("rds-snapshot-latest", "dblab-refresh", "rds-clone-create", "rds-clone-wait",
             "rds-clone-delete")

    @classmethod
    def stand_ins(cls, tag):
        cmds = {c: "exit 1" for c in cls.STEPS}
        cmds["rds-clone-wait"] = ("cat >/dev/null; echo '2026-01-01T00:00:00Z ERROR "
                                  "rds-clone-wait: from %s' >&2; exit 87" % tag)
        return fake_bin(cmds)

    @classmethod
    def setUpClass(cls):
        cls.task = cls.stand_ins("task-root")
        cls.path = cls.stand_ins("path")
        cls.beside = cls.stand_ins("beside")
        cls.alone = tempfile.mkdtemp(prefix="alone.")
        cls.link = cls.stand_ins("link")
        for d in (cls.beside, cls.alone):
            shutil.copy(BOOT, os.path.join(d, "bootstrap"))
        os.symlink(os.path.join(cls.beside, "bootstrap"), os.path.join(cls.link, "bootstrap"))
        path = os.pathsep.join([cls.path, "/usr/bin", "/bin"])
        none = {"DRR_LAMBDA_BIN_DIR": "", "LAMBDA_TASK_ROOT": "", "PATH": path}

        def fn(command, **env):
            return {"command": [command, "step"], "timeout": 20, "env": dict(none, **env)}

        cls.emu = lib.start({
            "beside": fn(os.path.join(cls.beside, "bootstrap"), LAMBDA_TASK_ROOT=cls.task),
            "link": fn(os.path.join(cls.link, "bootstrap")),
            "task-root": fn(os.path.join(cls.alone, "bootstrap"), LAMBDA_TASK_ROOT=cls.task),
            "path": fn(os.path.join(cls.alone, "bootstrap")),
            "bare-name": fn("bootstrap", PATH=os.pathsep.join([cls.alone, path])),
            "explicit": fn(os.path.join(cls.beside, "bootstrap"), DRR_LAMBDA_BIN_DIR=cls.task),
        })

    @classmethod
    def tearDownClass(cls):
        cls.emu.stop()
        for d in (cls.task, cls.path, cls.beside, cls.alone, cls.link):
            shutil.rmtree(d, ignore_errors=True)

    def served_from(self, fn):
        doc = {"apiVersion": "dblab-rds-refresh/v1", "runId": "r",
               "clone": {"id": "dblab-refresh-r"}}
        status, hdr, body = self.emu.invoke(fn, {"step": "clone-wait", "document": doc})
        err = json.loads(body)
        self.assertEqual(err.get("errorType"), "drr.clone-failed", body)
        return err["errorMessage"].rsplit("from ", 1)[-1]

    def test_beside_the_program_first(self):
        self.assertEqual(self.served_from("beside"), "beside")

    def test_a_symlink_is_resolved(self):
        self.assertEqual(self.served_from("link"), "beside")

    def test_the_task_root_when_not_beside(self):
        self.assertEqual(self.served_from("task-root"), "task-root")

    def test_path_last(self):
        self.assertEqual(self.served_from("path"), "path")
        self.assertEqual(self.served_from("bare-name"), "path")

    def test_the_variable_before_all(self):
        self.assertEqual(self.served_from("explicit"), "task-root")


class OutsideLambda(unittest.TestCase):
    def test_refuses_without_the_runtime_api(self):
        env = {k: v for k, v in os.environ.items() if k != "AWS_LAMBDA_RUNTIME_API"}
        p = subprocess.run([BOOT, "step"], env=env, capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 78)
        self.assertIn("AWS_LAMBDA_RUNTIME_API is not set", p.stderr)
        p = subprocess.run([BOOT, "step"], env=dict(env, AWS_LAMBDA_RUNTIME_API="x/y"),
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 78)
        p = subprocess.run([BOOT, "-help"], capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0)
        self.assertIn("usage: lambda-bootstrap", p.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=1)
