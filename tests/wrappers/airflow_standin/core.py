"""The part of Airflow's DAG-authoring API a DAG file touches, for loading any DAG.

Airflow is not packaged in Debian, so the wrapper tests load DAG files against this
module. What it keeps from Airflow (2.10 line, apache/airflow; file and function
named above each piece) is what decides how a run ends:
- DAG as a context manager collecting operators, `>>`/`<<` between operators and
  lists of operators, roots/leaves, and DAG.validate_setup_teardown at load;
- BaseOperator: trigger rules (every TriggerRule value), retries, setup/teardown
  flags, as_setup/as_teardown, on_failure_fail_dagrun (only on a teardown);
- BashOperator: template fields, env/append_env, skip_on_exit_code (int, list or
  None; default 99), stderr merged into stdout, the last line pushed to XCom;
- Variable.get reads AIRFLOW_VAR_<KEY> first, like Airflow, and records every call
  made while a DAG file is being parsed (PARSE_TIME_VARIABLE_GETS): Airflow's best
  practices forbid Variable lookups at parse time.
How a run is scheduled and ends is in trigger_rule_dep.py, dagrun.py, bash.py.
Dynamic task mapping (.expand) and task groups are not modelled: a DAG using them
fails to load here instead of being judged by rules the stand-in does not have.
The two public layouts (Airflow 3: airflow.sdk + the standard provider; Airflow 2:
airflow, airflow.models, airflow.operators.bash) are built from this module by the
tests, so both import paths of a DAG are exercised.
"""
import os

_NOTSET = object()
_current_dag = []
PARSING = []                   # non-empty while a DAG file is being imported
PARSE_TIME_VARIABLE_GETS = []  # keys Variable.get was asked for during parsing


class TriggerRule:
    """airflow/utils/trigger_rule.py, class TriggerRule (2.10): the valid values."""
    ALL_SUCCESS = "all_success"
    ALL_FAILED = "all_failed"
    ALL_DONE = "all_done"
    ALL_DONE_SETUP_SUCCESS = "all_done_setup_success"
    ONE_SUCCESS = "one_success"
    ONE_FAILED = "one_failed"
    ONE_DONE = "one_done"
    NONE_FAILED = "none_failed"
    NONE_SKIPPED = "none_skipped"
    ALWAYS = "always"
    NONE_FAILED_MIN_ONE_SUCCESS = "none_failed_min_one_success"
    ALL_SKIPPED = "all_skipped"

    @classmethod
    def all_triggers(cls):
        return {v for k, v in vars(cls).items() if k.isupper()}


def _variable_lookup(key, default):
    if PARSING:
        PARSE_TIME_VARIABLE_GETS.append(key)
    value = os.environ.get("AIRFLOW_VAR_" + key.upper())
    if value is not None:
        return value
    if default is _NOTSET:
        raise KeyError("Variable %s does not exist" % key)
    return default


class Variable:
    """Airflow 3 signature (airflow.sdk.Variable.get(key, default=...))."""

    @staticmethod
    def get(key, default=_NOTSET):
        return _variable_lookup(key, default)


class Variable2:
    """Airflow 2 signature (airflow/models/variable.py, Variable.get(key, default_var=...))."""

    @staticmethod
    def get(key, default_var=_NOTSET, deserialize_json=False):
        return _variable_lookup(key, default_var)


class DAG:
    _allowed = {"dag_id", "schedule", "start_date", "catchup", "max_active_runs", "default_args",
                "description", "tags", "doc_md", "end_date", "dagrun_timeout", "params",
                "max_active_tasks", "render_template_as_native_obj", "is_paused_upon_creation"}

    def __init__(self, dag_id, **kwargs):
        unknown = set(kwargs) - self._allowed
        if unknown:
            raise TypeError("unexpected DAG arguments: %s" % sorted(unknown))
        self.dag_id = dag_id
        self.schedule = kwargs.get("schedule")
        self.start_date = kwargs.get("start_date")
        self.catchup = kwargs.get("catchup", True)
        self.max_active_runs = kwargs.get("max_active_runs", 16)
        self.default_args = kwargs.get("default_args") or {}
        self.description = kwargs.get("description")
        self.tags = kwargs.get("tags")
        self.doc_md = kwargs.get("doc_md")
        self.dagrun_timeout = kwargs.get("dagrun_timeout")
        self.task_dict = {}

    def __enter__(self):
        _current_dag.append(self)
        return self

    def __exit__(self, *exc):
        _current_dag.pop()
        return False

    @property
    def tasks(self):
        return list(self.task_dict.values())

    def get_task(self, task_id):
        return self.task_dict[task_id]

    @property
    def leaves(self):
        return [t for t in self.tasks if not t.downstream_list]

    @property
    def roots(self):
        return [t for t in self.tasks if not t.upstream_list]

    # airflow/models/dag.py, DAG.validate_setup_teardown (2.10), called from
    # DAG.validate() when the DagBag adds the DAG: a setup's downstream work tasks
    # must keep ALL_SUCCESS, or the DAG is an import error.
    def validate_setup_teardown(self):
        for task in self.tasks:
            if not task.is_setup:
                continue
            for down in task.downstream_list:
                if not down.is_teardown and down.trigger_rule != TriggerRule.ALL_SUCCESS:
                    raise ValueError("Setup tasks must be followed with trigger rule ALL_SUCCESS.")

    def validate(self):
        """What DagBag.bag_dag checks before accepting a DAG (the parts modelled):
        no cycle, the setup/teardown rule above."""
        order, seen = [], set()
        while len(order) < len(self.task_dict):
            ready = [t for t in self.tasks if t.task_id not in seen
                     and all(u in seen for u in t.upstream_task_ids)]
            if not ready:
                raise ValueError("Cycle detected in DAG %s" % self.dag_id)
            for t in ready:
                seen.add(t.task_id)
                order.append(t)
        self.validate_setup_teardown()


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple, set)) else [x]


class BaseOperator:
    template_fields = ()
    _allowed = {"task_id", "retries", "retry_delay", "retry_exponential_backoff",
                "max_retry_delay", "execution_timeout", "owner", "trigger_rule", "depends_on_past",
                "email_on_failure", "email_on_retry", "pool", "queue", "priority_weight", "doc_md",
                "dag"}

    def __init__(self, task_id, **kwargs):
        dag = kwargs.pop("dag", None) or (_current_dag[-1] if _current_dag else None)
        if dag is None:
            raise RuntimeError("operator %s created outside a DAG" % task_id)
        args = dict(dag.default_args)
        args.update(kwargs)
        unknown = set(args) - self._allowed
        if unknown:
            raise TypeError("%s: unexpected arguments %s" % (task_id, sorted(unknown)))
        if "expand" in args:
            raise TypeError("dynamic task mapping is not modelled")
        self.task_id = task_id
        self.dag = dag
        self.retries = int(args.get("retries", 0) or 0)
        self.execution_timeout = args.get("execution_timeout")
        self.depends_on_past = bool(args.get("depends_on_past", False))
        # airflow/models/baseoperator.py, BaseOperator.__init__ (2.10): an unknown
        # trigger rule is refused when the operator is made.
        rule = str(args.get("trigger_rule", TriggerRule.ALL_SUCCESS))
        if rule not in TriggerRule.all_triggers():
            raise ValueError("The trigger_rule must be one of %s, '%s.%s'; received '%s'."
                             % (sorted(TriggerRule.all_triggers()), dag.dag_id, task_id, rule))
        self.trigger_rule = rule
        self.upstream_task_ids = set()
        self.downstream_task_ids = set()
        self.is_setup = False
        self.is_teardown = False
        self._on_failure_fail_dagrun = False
        if task_id in dag.task_dict:
            raise ValueError("duplicate task id %s" % task_id)
        dag.task_dict[task_id] = self

    # -- relatives (airflow/models/taskmixin.py DependencyMixin, abstractoperator.py)
    @property
    def upstream_list(self):
        return [self.dag.task_dict[t] for t in sorted(self.upstream_task_ids)]

    @property
    def downstream_list(self):
        return [self.dag.task_dict[t] for t in sorted(self.downstream_task_ids)]

    def set_downstream(self, others):
        for o in _as_list(others):
            self.downstream_task_ids.add(o.task_id)
            o.upstream_task_ids.add(self.task_id)

    def set_upstream(self, others):
        for o in _as_list(others):
            o.set_downstream(self)

    def __rshift__(self, other):
        self.set_downstream(other)
        return other

    def __lshift__(self, other):
        self.set_upstream(other)
        return other

    def __rrshift__(self, other):  # [a, b] >> self
        self.set_upstream(other)
        return self

    def __rlshift__(self, other):  # [a, b] << self
        self.set_downstream(other)
        return self

    def get_flat_relatives(self, upstream=False):
        """Every task reachable upstream (or downstream), transitively."""
        seen, todo = set(), list(self.upstream_task_ids if upstream else self.downstream_task_ids)
        while todo:
            tid = todo.pop()
            if tid in seen:
                continue
            seen.add(tid)
            t = self.dag.task_dict[tid]
            todo.extend(t.upstream_task_ids if upstream else t.downstream_task_ids)
        return [self.dag.task_dict[t] for t in sorted(seen)]

    # -- setup / teardown (airflow/models/baseoperator.py, 2.10)
    @property
    def on_failure_fail_dagrun(self):
        return self._on_failure_fail_dagrun

    @on_failure_fail_dagrun.setter
    def on_failure_fail_dagrun(self, value):
        # BaseOperator.on_failure_fail_dagrun setter: only a teardown may fail the run.
        if value is True and self.is_teardown is not True:
            raise ValueError("Cannot set task on_failure_fail_dagrun for '%s' because it is not a "
                             "teardown task." % self.task_id)
        self._on_failure_fail_dagrun = value

    def as_setup(self):
        self.is_setup = True
        return self

    # BaseOperator.as_teardown: the rule becomes ALL_DONE_SETUP_SUCCESS; each setup
    # is marked as one and wired upstream of the teardown. Keyword-only, as there.
    def as_teardown(self, *, setups=_NOTSET, on_failure_fail_dagrun=_NOTSET):
        self.is_teardown = True
        self.trigger_rule = TriggerRule.ALL_DONE_SETUP_SUCCESS
        if on_failure_fail_dagrun is not _NOTSET:
            self.on_failure_fail_dagrun = on_failure_fail_dagrun
        if setups is not _NOTSET:
            for s in _as_list(setups):
                s.is_setup = True
                s >> self
        return self

    # airflow/models/abstractoperator.py, get_upstreams_only_setups_and_teardowns
    # and get_upstreams_only_setups (2.10): the setups upstream of this task whose
    # scope covers it (a teardown of theirs is downstream of it, or they have none).
    def get_upstreams_only_setups(self):
        downstream_teardowns = {t.task_id for t in self.get_flat_relatives(upstream=False)
                                if t.is_teardown}
        out = []
        for task in self.get_flat_relatives(upstream=True):
            if not task.is_setup:
                continue
            has_no_teardowns = not any(d.is_teardown for d in task.downstream_list)
            if has_no_teardowns or task.downstream_task_ids & downstream_teardowns:
                out.append(task)
        return out

    def execute(self, context):
        raise NotImplementedError


class EmptyOperator(BaseOperator):
    """airflow/operators/empty.py: does nothing (the scheduler marks it success)."""

    def execute(self, context):
        return None


class BashOperator(BaseOperator):
    template_fields = ("bash_command", "env", "cwd")
    _allowed = BaseOperator._allowed | {"bash_command", "env", "append_env", "skip_on_exit_code",
                                        "cwd", "output_encoding"}

    # airflow/operators/bash.py (providers/standard in Airflow 3), BashOperator.__init__:
    # skip_on_exit_code is an int, a container of ints, or None (never skip).
    def __init__(self, task_id, bash_command, env=None, append_env=False, skip_on_exit_code=99,
                 cwd=None, **kwargs):
        super().__init__(task_id, **kwargs)
        self.bash_command = bash_command
        self.env = env
        self.append_env = append_env
        if skip_on_exit_code is None:
            self.skip_on_exit_code = []
        elif isinstance(skip_on_exit_code, (list, tuple, set, frozenset)):
            self.skip_on_exit_code = list(skip_on_exit_code)
        else:
            self.skip_on_exit_code = [skip_on_exit_code]
        self.cwd = cwd
