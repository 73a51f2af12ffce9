#!/usr/bin/python3
"""The Airflow DAG, loaded and run under Airflow's own rules, against the emulators.

wrappers/airflow/dblab_rds_refresh.py (or $DRR_AIRFLOW_DAG, to judge another
version of it) is imported against the Airflow stand-in
(tests/wrappers/airflow_standin: trigger rules, setup/teardown scoping and the DAG
run's final state ported from Airflow 2.10's trigger_rule_dep.py and dagrun.py;
BashOperator from bash.py; their own tests in test_airflow_standin_rules.py), in
both import layouts (Airflow 3 and 2). Loading checks what Airflow checks when the
DagBag adds the DAG (DAG.validate_setup_teardown) and that no Variable is read at
parse time. Then one DAG run per scenario, each task running the real command
against the AWS and DBLab emulators; each scenario states the run's final state,
every task's state, and whether a clone is left:

  all succeed; gc fails; snapshot fails; snapshot exits 99 (nothing to do);
  create fails before AWS accepted the restore; create killed after AWS accepted
  it; wait fails; refresh fails; delete fails.

A run that failed in snapshot, create, wait, refresh or delete is FAILED; a run
that created a clone (or may have) deletes it unless delete itself failed; SUCCESS
only when everything succeeded or there was nothing to do. The DBLab token never
appears in any task's output.
"""
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "wrappers"))
STANDIN = os.path.join(HERE, "..", "wrappers", "airflow_standin")
sys.path.insert(0, STANDIN)
import wraptest  # noqa: E402
from wraptest import BIN, TOP, Emulators, fail, http, managed_clones  # noqa: E402
import core  # noqa: E402
import dagrun  # noqa: E402
from bash import Worker  # noqa: E402

DAG_FILE = os.environ.get("DRR_AIRFLOW_DAG") or os.path.join(TOP, "wrappers", "airflow",
                                                             "dblab_rds_refresh.py")

LAYOUTS = {
    "airflow3": {
        "airflow/__init__.py": "",
        "airflow/sdk/__init__.py": "from core import DAG, Variable\n",
        "airflow/providers/__init__.py": "",
        "airflow/providers/standard/__init__.py": "",
        "airflow/providers/standard/operators/__init__.py": "",
        "airflow/providers/standard/operators/bash.py": "from core import BashOperator\n",
    },
    "airflow2": {
        "airflow/__init__.py": "from core import DAG\n",
        "airflow/models/__init__.py": "from core import Variable2 as Variable\n",
        "airflow/operators/__init__.py": "",
        "airflow/operators/bash.py": "from core import BashOperator\n",
    },
}
TASKS = ("gc", "snapshot", "create", "wait", "refresh", "delete", "report")


def load_dag(layout, tmp):
    """Imports the DAG file as the DAG processor would, then DagBag.bag_dag's checks."""
    root = os.path.join(tmp, layout)
    for rel, text in LAYOUTS[layout].items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
    sys.path.insert(0, root)
    for name in [m for m in sys.modules if m == "airflow" or m.startswith("airflow.")]:
        del sys.modules[name]
    del core.PARSE_TIME_VARIABLE_GETS[:]
    core.PARSING.append(DAG_FILE)
    try:
        spec = importlib.util.spec_from_file_location("dblab_rds_refresh_" + layout, DAG_FILE)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
    finally:
        core.PARSING.pop()
        sys.path.remove(root)
    if core.PARSE_TIME_VARIABLE_GETS:
        fail("%s: Variable lookups at parse time: %s" % (layout, core.PARSE_TIME_VARIABLE_GETS))
    try:
        mod.dag.validate()
    except ValueError as e:
        fail("%s: Airflow refuses the DAG (DagBag import error): %s" % (layout, e))
    return mod


def check_dag_settings(dag):
    if dag.max_active_runs != 1 or dag.catchup is not False:
        fail("max_active_runs=1 and catchup=False expected")
    if set(dag.task_dict) != set(TASKS):
        fail("unexpected tasks %s" % sorted(dag.task_dict))
    for t in dag.tasks:
        if t.execution_timeout is None:
            fail("%s has no execution_timeout" % t.task_id)
        if t.skip_on_exit_code != [99]:
            fail("%s: exit code 99 must mean skipped" % t.task_id)
        # The run documents reach the commands through env, never Jinja in the command.
        if "{{" in t.bash_command or "{%" in t.bash_command:
            fail("%s renders Jinja inside its shell command" % t.task_id)
        if "||" in t.bash_command:
            fail("%s: `||` in the command hides its exit code (and skip_on_exit_code)" % t.task_id)
    if "dag.dag_id" not in (dag.task_dict["create"].env or {}).get("DRR_RUN_ID", ""):
        fail("the run id must include the DAG id (Airflow run ids repeat across DAGs)")


class Scenario:
    def __init__(self, name, states, dag_state, clone_left=False, aws=(), dblab=(), override=None,
                 check=None):
        self.name, self.states, self.dag_state = name, states, dag_state
        self.clone_left, self.aws, self.dblab = clone_left, aws, dblab
        self.override, self.check = override or {}, check


def states(**changes):
    s = dict.fromkeys(TASKS, "success")
    s.update(changes)
    return s


AWS_DENIED = {"type": "error", "code": "AccessDenied", "httpStatus": 403, "count": 1000,
              "message": "User is not authorized to perform this action"}


def deleted_a_clone(xcom):
    d = json.loads(xcom["delete"]).get("deleted") or {}
    if d.get("alreadyGone", True):
        fail("delete did not delete a clone: %s" % xcom["delete"])


SCENARIOS = [
    Scenario("all succeed", states(), "success",
             check=lambda x: wraptest.validate_rundoc(x["report"]) or deleted_a_clone(x)),
    Scenario("gc fails", states(gc="failed", report="upstream_failed"), "failed",
             aws=[dict(AWS_DENIED, action="DescribeDBClusters")], check=deleted_a_clone),
    Scenario("snapshot fails",
             states(snapshot="failed", create="upstream_failed", wait="upstream_failed",
                    refresh="upstream_failed", delete="upstream_failed", report="upstream_failed"),
             "failed", aws=[dict(AWS_DENIED, action="DescribeDBSnapshots")]),
    Scenario("snapshot exits 99",
             states(snapshot="skipped", create="skipped", wait="skipped", refresh="skipped",
                    delete="skipped", report="skipped"), "success",
             override={"snapshot": lambda n, cmd: "exit 99"}),
    Scenario("create fails before AWS accepted",
             states(create="failed", wait="upstream_failed", refresh="upstream_failed",
                    report="upstream_failed"), "failed",
             aws=[dict(AWS_DENIED, action="RestoreDBInstanceFromDBSnapshot")]),
    # The real create runs (AWS accepts the restore), then the try dies before the
    # document reaches XCom (SIGKILL, a lost worker): every try.
    Scenario("create killed after AWS accepted",
             states(create="failed", wait="upstream_failed", refresh="upstream_failed",
                    report="upstream_failed"), "failed",
             override={"create": lambda n, cmd: cmd + " >/dev/null; exit 137"}, check=deleted_a_clone),
    Scenario("wait fails", states(wait="failed", refresh="upstream_failed", report="upstream_failed"),
             "failed", aws=[{"type": "restore-outcome", "status": "failed", "resource": "instance"}],
             check=deleted_a_clone),
    Scenario("refresh fails", states(refresh="failed", report="upstream_failed"), "failed",
             dblab=[{"type": "refresh-fail", "count": 1, "message": "pg_dump: connection refused"}],
             check=deleted_a_clone),
    Scenario("delete fails", states(delete="failed", report="upstream_failed"), "failed",
             clone_left=True, aws=[dict(AWS_DENIED, action="DeleteDBInstance")]),
]


def run_scenario(dag, sc, base_env, token, emus, run_id, config):
    http("DELETE", emus.aws_url + "/_emulator/faults")
    for f in sc.aws:
        emus.aws_fault(f)
    for f in sc.dblab:
        emus.dblab_fault(f)
    worker = Worker(base_env, {"dblab_engine": token}, run_id, overrides=sc.override)
    dag_state, got, xcom, tries = dagrun.run(dag, worker)
    http("DELETE", emus.aws_url + "/_emulator/faults")
    if got != sc.states or dag_state != sc.dag_state:
        for k, outs in worker.outputs.items():
            print("--- %s (%d tries):\n%s" % (k, len(outs), outs[-1][-2500:]), file=sys.stderr)
        fail("%s: expected %s / %s,\n got %s / %s" % (sc.name, sc.states, sc.dag_state, got, dag_state))
    for task, outs in worker.outputs.items():
        if any(token in o for o in outs):
            fail("%s: the DBLab token appeared in the output of %s" % (sc.name, task))
    if sc.check:
        sc.check(xcom)
    for task in ("snapshot", "create"):
        if task in xcom:
            doc = json.loads(xcom[task])
            if doc.get("runId") != dag.dag_id + "/" + run_id:
                fail("%s: %s's run id is %r, not <dag_id>/<run_id>" % (sc.name, task, doc.get("runId")))
    left = managed_clones(emus.aws_url)
    if sc.clone_left != bool(left):
        fail("%s: clones left: %s (expected %s)" % (sc.name, left, "one" if sc.clone_left else "none"))
    if left:  # delete failed: the clone is still there; the next run's gc would take it
        env = dict(base_env, DBLAB_TOKEN=token)
        r = subprocess.run([os.path.join(BIN, "rds-clone-delete"), "-config", config, "-run-id",
                            dag.dag_id + "/" + run_id], env=env, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if r.returncode != 0 or managed_clones(emus.aws_url):
            fail("%s: could not remove the clone left behind: %s" % (sc.name, r.stdout.decode()[-1500:]))
    return tries


def main():
    wraptest.check_commands()
    only = os.environ.get("DRR_AIRFLOW_SCENARIO")
    tmp = tempfile.mkdtemp(prefix="drr-airflow.")
    emus = None
    try:
        emus = Emulators(tmp)
        config = wraptest.write_config(os.path.join(tmp, "config.yaml"), emus.dblab_url)
        # The worker's environment (append_env=True hands it to every task).
        base_env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW_")}
        base_env.update(emus.env)
        base_env["AWS_ENDPOINT_URL"] = emus.aws_url
        base_env["AIRFLOW_VAR_DBLAB_RDS_REFRESH_CONFIG"] = config
        base_env["AIRFLOW_VAR_DBLAB_RDS_REFRESH_BIN"] = BIN
        token = emus.token  # the dblab_engine connection's password

        for layout in ("airflow3", "airflow2"):
            mod = load_dag(layout, tmp)
            check_dag_settings(mod.dag)
            if mod.dag.schedule != "0 2 * * 0":
                fail("default schedule expected, got %r" % mod.dag.schedule)
        os.environ["DBLAB_RDS_REFRESH_SCHEDULE"] = "30 1 * * 6"
        if load_dag("airflow3", tmp).dag.schedule != "30 1 * * 6":
            fail("DBLAB_RDS_REFRESH_SCHEDULE does not set the schedule")
        del os.environ["DBLAB_RDS_REFRESH_SCHEDULE"]

        day = 0
        for layout in ("airflow3", "airflow2"):
            dag = load_dag(layout, tmp).dag
            # Airflow 2's layout: the import path and one full run are enough.
            for sc in SCENARIOS if layout == "airflow3" else SCENARIOS[:1]:
                if only and only not in sc.name:
                    continue
                day += 1
                run_id = "scheduled__2024-01-%02dT02:00:00+00:00" % day
                tries = run_scenario(dag, sc, base_env, token, emus, run_id, config)
                print("ok: %s: %s -> run %s, tasks %s, tries %s" % (
                    layout, sc.name, sc.dag_state,
                    " ".join("%s=%s" % kv for kv in sc.states.items()),
                    " ".join("%s=%d" % kv for kv in tries.items() if kv[1])))
    finally:
        if emus:
            emus.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
