#!/usr/bin/python3
"""The Airflow DAG, loaded and run as Airflow would, against the local emulators.

For each import layout (Airflow 3: airflow.sdk + the standard provider; Airflow 2):
load wrappers/airflow/dblab_rds_refresh.py against the stand-in of Airflow's API
(tests/wrappers/airflow_standin/core.py), check the DAG's settings, render every
templated field with Jinja2 (Airflow's engine: sandboxed, StrictUndefined), then run
the tasks in dependency order as BashOperator does (bash -c, stderr merged into
stdout, the last line pushed to XCom, env passed on, retries, skip code, teardown
semantics):
  1. a successful run: every task succeeds, the clone is deleted;
  2. a run whose refresh fails: refresh fails, the delete teardown still runs and
     deletes the clone, and the DAG run is failed.
After each run the AWS emulator holds no managed clone, and the DBLab token never
appears in any task's output.
"""
import importlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

import jinja2
import jinja2.sandbox

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "wrappers"))
import wraptest  # noqa: E402
from wraptest import BIN, TOP, Emulators, fail, http, managed_clones  # noqa: E402
DAG_FILE = os.path.join(TOP, "wrappers", "airflow", "dblab_rds_refresh.py")
STANDIN = os.path.join(TOP, "tests", "wrappers", "airflow_standin")
TOKEN = "airflow-test-token-" + os.urandom(6).hex()

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


def load_dag(layout, tmp):
    root = os.path.join(tmp, layout)
    for rel, text in LAYOUTS[layout].items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
    sys.path[:0] = [root, STANDIN]
    try:
        for name in [m for m in sys.modules if m == "airflow" or m.startswith("airflow.") or m == "core"]:
            del sys.modules[name]
        spec = importlib.util.spec_from_file_location("dblab_rds_refresh_" + layout, DAG_FILE)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
    finally:
        del sys.path[:2]
    return mod.dag


def check_dag_settings(dag):
    if dag.max_active_runs != 1 or dag.catchup is not False:
        fail("max_active_runs=1 and catchup=False expected")
    if set(dag.tasks) != {"gc", "snapshot", "create", "wait", "refresh", "delete",
                          "create_cleanup"}:
        fail("unexpected tasks %s" % sorted(dag.tasks))
    order = ["gc", "snapshot", "create", "wait", "refresh", "delete"]
    for a, b in zip(order, order[1:]):
        if dag.tasks[b] not in dag.tasks[a].downstream:
            fail("%s >> %s missing" % (a, b))
    delete = dag.tasks["delete"]
    if not delete.is_teardown or dag.tasks["create"] not in delete.setups:
        fail("delete must be a teardown of create")
    if not delete.on_failure_fail_dagrun:
        fail("a failed delete must fail the DAG run (a clone would be left behind)")
    cleanup = dag.tasks["create_cleanup"]
    if cleanup.upstream != [dag.tasks["create"]] or cleanup.trigger_rule != "one_failed":
        fail("create_cleanup must run when create fails (one_failed downstream of create)")
    for t in dag.tasks.values():
        if t.execution_timeout is None:
            fail("%s has no execution_timeout" % t.task_id)
        if t.skip_on_exit_code != 99:
            fail("%s: exit code 99 must mean skipped" % t.task_id)
        # The run documents reach the commands through env, never Jinja in the command.
        if "{{" in t.bash_command or "{%" in t.bash_command:
            fail("%s renders Jinja inside its shell command" % t.task_id)


class TaskInstance:
    def __init__(self, xcom):
        self.xcom = xcom

    def xcom_pull(self, task_ids):
        return self.xcom.get(task_ids)


class Conn:
    def __init__(self, password):
        self.password = password


class VarValue:
    """Airflow's `var.value` template accessor: get(key, default), Variables
    from AIRFLOW_VAR_<KEY> first as in Airflow."""

    def get(self, key, default=None):
        v = os.environ.get("AIRFLOW_VAR_" + key.upper())
        if v is None:
            if default is None:
                raise KeyError("Variable %s does not exist" % key)
            return default
        return v


def render(value, context, env):
    if isinstance(value, str):
        return env.from_string(value).render(**context)
    if isinstance(value, dict):
        return {k: render(v, context, env) for k, v in value.items()}
    return value


def topo(dag):
    done, order = set(), []
    while len(order) < len(dag.tasks):
        for t in dag.tasks.values():
            if t.task_id not in done and all(u.task_id in done for u in t.upstream):
                done.add(t.task_id)
                order.append(t)
    return order


def run_dag(dag, base_env, run_id):
    """Runs the DAG as the scheduler + BashOperator would. Returns (states, xcom, outputs)."""
    jenv = jinja2.sandbox.SandboxedEnvironment(undefined=jinja2.StrictUndefined)
    states, xcom, outputs = {}, {}, {}
    for t in topo(dag):
        ups = [states[u.task_id] for u in t.upstream]
        if t.is_teardown:
            runnable = any(states.get(s.task_id) == "success" for s in t.setups)
        elif t.trigger_rule == "one_failed":
            runnable = any(s in ("failed", "upstream_failed") for s in ups)
        else:
            runnable = all(s == "success" for s in ups)
        if not runnable:
            skip = t.is_teardown or t.trigger_rule == "one_failed" or "skipped" in ups
            states[t.task_id] = "skipped" if skip else "upstream_failed"
            continue
        context = {"ti": TaskInstance(xcom), "run_id": run_id,
                   "conn": {"dblab_engine": Conn(TOKEN)}, "var": {"value": VarValue()}}
        cmd = render(t.bash_command, context, jenv)
        tenv = render(t.env, context, jenv) or {}
        env = dict(base_env, **tenv) if t.append_env else dict(tenv)
        timeout = t.execution_timeout.total_seconds() if t.execution_timeout else None
        for attempt in range(1 + (t.retries or 0)):
            proc = subprocess.run(["bash", "-c", cmd], env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, timeout=timeout, cwd=tempfile.gettempdir())
            out = proc.stdout.decode("utf-8", "replace")
            outputs.setdefault(t.task_id, []).append(out)
            if proc.returncode == 0 or proc.returncode == t.skip_on_exit_code:
                break
        lines = out.splitlines()
        if proc.returncode == 0:
            states[t.task_id] = "success"
            xcom[t.task_id] = lines[-1].rstrip() if lines else ""
        elif proc.returncode == t.skip_on_exit_code:
            states[t.task_id] = "skipped"
        else:
            states[t.task_id] = "failed"
    dag_failed = any(s == "failed" and (not dag.tasks[k].is_teardown or dag.tasks[k].on_failure_fail_dagrun)
                     for k, s in states.items())
    return states, xcom, outputs, ("failed" if dag_failed else "success")


def main():
    wraptest.check_commands()
    tmp = tempfile.mkdtemp(prefix="drr-airflow.")
    emus = None
    try:
        emus = Emulators(tmp)
        config = wraptest.write_config(os.path.join(tmp, "config.yaml"), emus.dblab_url)
        # Airflow hands every task the worker's environment (append_env=True).
        base_env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW_")}
        base_env.update(emus.env)
        base_env["AWS_ENDPOINT_URL"] = emus.env["AWS_EMULATOR_URL"]
        base_env["AIRFLOW_VAR_DBLAB_RDS_REFRESH_CONFIG"] = config
        base_env["AIRFLOW_VAR_DBLAB_RDS_REFRESH_BIN"] = BIN
        os.environ.update({k: v for k, v in base_env.items() if k.startswith("AIRFLOW_VAR_")})
        aws_url, dblab_url = emus.env["AWS_EMULATOR_URL"], emus.env["DBLAB_EMULATOR_URL"]
        # The emulator expects its own token; the DAG reads it from the dblab_engine connection.
        global TOKEN
        TOKEN = emus.env["DBLAB_EMULATOR_TOKEN"]

        for layout in ("airflow3", "airflow2"):
            dag = load_dag(layout, tmp)
            check_dag_settings(dag)
            if dag.schedule != "0 2 * * 0":
                fail("default schedule expected, got %r" % dag.schedule)

            # 1. success
            states, xcom, outputs, dag_state = run_dag(dag, base_env, "scheduled__%s_ok" % layout)
            ok = dict.fromkeys(states, "success")
            ok["create_cleanup"] = "skipped"  # create succeeded
            if dag_state != "success" or states != ok:
                for k, outs in outputs.items():
                    print("--- %s:\n%s" % (k, outs[-1][-3000:]), file=sys.stderr)
                fail("%s: successful run expected, got %s" % (layout, states))
            final = json.loads(xcom["delete"])
            for section in ("snapshot", "clone", "endpoint", "refresh", "deleted"):
                if section not in final:
                    fail("%s: the final document lacks %s" % (layout, section))
            wraptest.validate_rundoc(xcom["delete"])
            left = managed_clones(aws_url)
            if left:
                fail("%s: clones left after a successful run: %s" % (layout, left))

            # 2. refresh fails: the teardown still deletes the clone; the run is failed
            http("POST", dblab_url + "/_emulator/faults", {"type": "refresh-fail", "count": 1,
                                                            "message": "pg_dump: connection refused"})
            states, xcom, outputs, dag_state = run_dag(dag, base_env, "scheduled__%s_fail" % layout)
            expected = {"gc": "success", "snapshot": "success", "create": "success", "wait": "success",
                        "refresh": "failed", "delete": "success", "create_cleanup": "skipped"}
            if states != expected or dag_state != "failed":
                for k, outs in outputs.items():
                    print("--- %s:\n%s" % (k, outs[-1][-3000:]), file=sys.stderr)
                fail("%s: failing refresh: expected %s / failed, got %s / %s"
                     % (layout, expected, states, dag_state))
            if "deleted" not in json.loads(xcom["delete"]):
                fail("%s: the teardown did not report the deletion" % layout)
            left = managed_clones(aws_url)
            if left:
                fail("%s: clones left after a failed refresh: %s" % (layout, left))
            for task, outs in outputs.items():
                if any(TOKEN in o for o in outs):
                    fail("%s: the DBLab token appeared in the output of %s" % (layout, task))
            # 3. create killed after AWS accepted the restore: no document, and Airflow
            #    runs no teardown for a failed setup; create_cleanup deletes the clone
            #    by the name create derives from the run id
            dag.tasks["create"].bash_command += " >/dev/null; exit 137"
            states, xcom, outputs, dag_state = run_dag(dag, base_env, "scheduled__%s_killed" % layout)
            expected = {"gc": "success", "snapshot": "success", "create": "failed",
                        "create_cleanup": "success", "wait": "upstream_failed",
                        "refresh": "upstream_failed", "delete": "skipped"}
            if states != expected or dag_state != "failed":
                for k, outs in outputs.items():
                    print("--- %s:\n%s" % (k, outs[-1][-3000:]), file=sys.stderr)
                fail("%s: killed create: expected %s / failed, got %s / %s"
                     % (layout, expected, states, dag_state))
            if json.loads(xcom["create_cleanup"])["deleted"]["alreadyGone"]:
                fail("%s: create_cleanup found no clone to delete" % layout)
            left = managed_clones(aws_url)
            if left:
                fail("%s: clones left after a killed create: %s" % (layout, left))
            print("ok: %s: success run, failing-refresh run with teardown, killed create "
                  "cleaned up" % layout)
    finally:
        if emus:
            emus.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
