"""One try of a task on a worker: render its templates, run it as BashOperator does.

Ported from apache/airflow 2.10 (v2-10-stable line):
- airflow/operators/bash.py, BashOperator.get_env and BashOperator.execute: the
  env is `env` alone, or the worker's environment plus `env` with append_env, or the
  worker's environment when env is None; the AIRFLOW_CTX_* variables of
  airflow/utils/operator_helpers.py context_to_airflow_vars are added; `bash -c
  CMD`; an exit code in skip_on_exit_code raises AirflowSkipException (SKIPPED),
  any other non-zero raises AirflowException (FAILED); the output is pushed to XCom;
- airflow/hooks/subprocess.py, SubprocessHook.run_command: stderr merged into
  stdout, each line right-stripped, the output is the LAST line; a new session so
  on_kill can signal the whole group;
- airflow/models/taskinstance.py, _execute_task_with_callbacks: past
  execution_timeout the task is killed (AirflowTaskTimeout: a failed try).
Templates render with Jinja2's SandboxedEnvironment and StrictUndefined, as
Airflow's DAG.get_template_env does for template_undefined=StrictUndefined.
"""
import os
import signal
import subprocess
import tempfile

import jinja2
import jinja2.sandbox

from dagrun import Outcome


class _TI:
    def __init__(self, xcom):
        self._xcom = xcom

    def xcom_pull(self, task_ids=None, key="return_value"):
        # A task that failed or was skipped pushed nothing: None, as in Airflow.
        return self._xcom.get(task_ids)


class _Conn:
    def __init__(self, password):
        self.password = password


class _VarValue:
    """The `var.value` template accessor: AIRFLOW_VAR_<KEY> first, as in Airflow."""

    def __init__(self, environ):
        self._environ = environ

    def get(self, key, default=None):
        v = self._environ.get("AIRFLOW_VAR_" + key.upper())
        if v is None:
            if default is None:
                raise KeyError("Variable %s does not exist" % key)
            return default
        return v


class Worker:
    """environ: the worker's environment; connections: {conn_id: password}."""

    def __init__(self, environ, connections, run_id, logical_date="2024-01-07T02:00:00+00:00",
                 overrides=None):
        self.environ = dict(environ)
        self.connections = connections
        self.run_id = run_id
        self.logical_date = logical_date
        self.jinja = jinja2.sandbox.SandboxedEnvironment(undefined=jinja2.StrictUndefined)
        self.outputs = {}  # task_id -> [full output of each try]
        # task_id -> callable(try_number, bash_command) -> command to run instead
        # (a test injecting what the real command cannot produce by itself).
        self.overrides = overrides or {}

    def _render(self, value, context):
        if isinstance(value, str):
            return self.jinja.from_string(value).render(**context)
        if isinstance(value, dict):
            return {k: self._render(v, context) for k, v in value.items()}
        return value

    def _context(self, task, xcom):
        return {"ti": _TI(xcom), "task_instance": _TI(xcom), "run_id": self.run_id,
                "dag": task.dag, "task": task, "ts": self.logical_date,
                "ds": self.logical_date[:10], "params": {},
                "conn": {k: _Conn(v) for k, v in self.connections.items()},
                "var": {"value": _VarValue(self.environ)}}

    # operator_helpers.py, context_to_airflow_vars(in_env_var_format=True).
    def _ctx_vars(self, task, try_number):
        return {"AIRFLOW_CTX_DAG_OWNER": str(task.dag.default_args.get("owner", "airflow")),
                "AIRFLOW_CTX_DAG_ID": task.dag.dag_id, "AIRFLOW_CTX_TASK_ID": task.task_id,
                "AIRFLOW_CTX_EXECUTION_DATE": self.logical_date,
                "AIRFLOW_CTX_TRY_NUMBER": str(try_number), "AIRFLOW_CTX_DAG_RUN_ID": self.run_id}

    def __call__(self, task, try_number, xcom):
        context = self._context(task, xcom)
        if not hasattr(task, "bash_command"):
            task.execute(context)
            return Outcome(Outcome.SUCCESS)
        cmd = self._render(task.bash_command, context)
        tenv = self._render(task.env, context)
        # BashOperator.get_env
        if tenv is None:
            env = dict(self.environ)
        elif task.append_env:
            env = dict(self.environ, **tenv)
        else:
            env = dict(tenv)
        env.update(self._ctx_vars(task, try_number))
        if task.task_id in self.overrides:
            cmd = self.overrides[task.task_id](try_number, cmd)
        timeout = task.execution_timeout.total_seconds() if task.execution_timeout else None
        cwd = self._render(task.cwd, context) if task.cwd else tempfile.gettempdir()
        proc = subprocess.Popen(["bash", "-c", cmd], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=cwd,
                                start_new_session=True)
        try:
            raw, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGTERM)  # BashOperator.on_kill -> send_sigterm
            raw, _ = proc.communicate()
            self.outputs.setdefault(task.task_id, []).append(raw.decode("utf-8", "replace"))
            return Outcome(Outcome.FAILED)
        text = raw.decode("utf-8", "replace")
        self.outputs.setdefault(task.task_id, []).append(text)
        lines = [ln.rstrip() for ln in text.splitlines()]
        if proc.returncode in task.skip_on_exit_code:
            return Outcome(Outcome.SKIP)
        if proc.returncode != 0:
            return Outcome(Outcome.FAILED)
        return Outcome(Outcome.SUCCESS, lines[-1] if lines else "")
