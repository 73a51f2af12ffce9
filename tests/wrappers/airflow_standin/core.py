"""A small stand-in for the parts of Airflow's API the DAG uses.

Airflow is not packaged in Debian, so the wrapper test loads the DAG against this
module instead. It mirrors Airflow's behaviour where the DAG depends on it:
- DAG as a context manager collecting operators; `>>` dependencies;
- BashOperator: template_fields ("bash_command", "env"), append_env,
  skip_on_exit_code (default 99 as in Airflow >= 2.6), the last line of output
  (stderr merged into stdout) pushed to XCom;
- as_teardown(setups=...): a teardown runs once all its upstream tasks are done
  and at least one setup succeeded (ALL_DONE_SETUP_SUCCESS); a normal task runs
  only when every upstream task succeeded (ALL_SUCCESS), else upstream_failed;
  trigger_rule "one_failed" runs a task once an upstream task failed or is
  upstream_failed, and skips it otherwise (ONE_FAILED);
- Variable.get reads AIRFLOW_VAR_<KEY> from the environment first, like Airflow.
The two public layouts (Airflow 3: airflow.sdk + the standard provider; Airflow 2:
airflow, airflow.models, airflow.operators.bash) are built from this module by
the test, so both import paths of the DAG are exercised.
"""
import os

_NOTSET = object()
_current_dag = []


class Variable:
    """Airflow 3 signature: get(key, default=...). The test swaps in the Airflow 2
    one (default_var=...) for the Airflow 2 layout."""

    @staticmethod
    def get(key, default=_NOTSET):
        value = os.environ.get("AIRFLOW_VAR_" + key.upper())
        if value is not None:
            return value
        if default is _NOTSET:
            raise KeyError("Variable %s does not exist" % key)
        return default


class Variable2:
    @staticmethod
    def get(key, default_var=_NOTSET, deserialize_json=False):
        value = os.environ.get("AIRFLOW_VAR_" + key.upper())
        if value is not None:
            return value
        if default_var is _NOTSET:
            raise KeyError("Variable %s does not exist" % key)
        return default_var


class DAG:
    def __init__(self, dag_id, schedule=None, start_date=None, catchup=True, max_active_runs=16,
                 default_args=None, description=None, tags=None, doc_md=None, **kwargs):
        if kwargs:
            raise TypeError("unexpected DAG arguments: %s" % sorted(kwargs))
        self.dag_id = dag_id
        self.schedule = schedule
        self.start_date = start_date
        self.catchup = catchup
        self.max_active_runs = max_active_runs
        self.default_args = default_args or {}
        self.description = description
        self.tags = tags
        self.doc_md = doc_md
        self.tasks = {}

    def __enter__(self):
        _current_dag.append(self)
        return self

    def __exit__(self, *exc):
        _current_dag.pop()
        return False


class BaseOperator:
    template_fields = ()
    _allowed = {"task_id", "retries", "retry_delay", "retry_exponential_backoff",
                "execution_timeout", "owner", "trigger_rule"}

    def __init__(self, task_id, **kwargs):
        dag = _current_dag[-1] if _current_dag else None
        if dag is None:
            raise RuntimeError("operator %s created outside a DAG" % task_id)
        args = dict(dag.default_args)
        args.update(kwargs)
        unknown = set(args) - self._allowed
        if unknown:
            raise TypeError("%s: unexpected arguments %s" % (task_id, sorted(unknown)))
        self.task_id = task_id
        self.dag = dag
        self.retries = args.get("retries", 0)
        self.execution_timeout = args.get("execution_timeout")
        self.trigger_rule = str(args.get("trigger_rule", "all_success"))
        if self.trigger_rule not in ("all_success", "one_failed"):
            raise ValueError("%s: trigger_rule %s is not modelled by the stand-in"
                             % (task_id, self.trigger_rule))
        self.upstream = []
        self.downstream = []
        self.is_teardown = False
        self.on_failure_fail_dagrun = False
        self.setups = []
        if task_id in dag.tasks:
            raise ValueError("duplicate task id %s" % task_id)
        dag.tasks[task_id] = self

    def __rshift__(self, other):
        self.downstream.append(other)
        other.upstream.append(self)
        return other

    def as_teardown(self, setups=None, on_failure_fail_dagrun=False):
        self.is_teardown = True
        self.on_failure_fail_dagrun = on_failure_fail_dagrun
        if setups is not None:
            setups = setups if isinstance(setups, list) else [setups]
            self.setups = setups
            for s in setups:
                if self not in s.downstream:
                    s >> self
        return self


class BashOperator(BaseOperator):
    template_fields = ("bash_command", "env")
    _allowed = BaseOperator._allowed | {"bash_command", "env", "append_env", "skip_on_exit_code", "cwd"}

    def __init__(self, task_id, bash_command, env=None, append_env=False, skip_on_exit_code=99,
                 cwd=None, **kwargs):
        super().__init__(task_id, **kwargs)
        self.bash_command = bash_command
        self.env = env
        self.append_env = append_env
        self.skip_on_exit_code = skip_on_exit_code
        self.cwd = cwd
