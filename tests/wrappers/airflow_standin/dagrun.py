"""A DAG run from start to end: scheduling passes, task tries, the run's final state.

Ported from apache/airflow 2.10 (v2-10-stable line), airflow/models/dagrun.py:
DagRun._tis_for_dagrun_state (effective leaves), DagRun.update_state (the final
state), DagRun.task_instance_scheduling_decisions / _get_ready_tis (a pass: every
unfinished task instance's deps are evaluated with flag_upstream_failed=True, which
may set SKIPPED or UPSTREAM_FAILED; the ready ones run), and from
airflow/models/taskinstance.py TaskInstance.handle_failure / is_eligible_to_retry
(a failed try goes UP_FOR_RETRY while tries are left; AirflowSkipException is
SKIPPED and never retried). Retry delays are not waited for: the next pass
re-runs the task at once (the order of events is what matters here).
"""
import trigger_rule_dep as trd

SUCCESS, FAILED, SKIPPED = trd.SUCCESS, trd.FAILED, trd.SKIPPED
UPSTREAM_FAILED, REMOVED = trd.UPSTREAM_FAILED, trd.REMOVED
UP_FOR_RETRY = "up_for_retry"
RUNNING_STATE, DAG_SUCCESS, DAG_FAILED = "running", "success", "failed"

# airflow/utils/state.py, State (2.10): finished, failed_states, success_states.
FINISHED = trd.FINISHED
FAILED_STATES = {FAILED, UPSTREAM_FAILED}
SUCCESS_STATES = {SUCCESS, SKIPPED}


# dagrun.py, DagRun._tis_for_dagrun_state: teardowns are ignored for the run's
# state unless on_failure_fail_dagrun; a task is an effective leaf when every
# task downstream of it is an ignorable teardown and it is not one itself. A DAG
# made only of teardowns falls back to the plain leaves. REMOVED tis never count.
def tis_for_dagrun_state(dag, states):
    def ignorable(task):
        return task.is_teardown and not task.on_failure_fail_dagrun

    def is_effective_leaf(task):
        if any(not ignorable(d) for d in task.downstream_list):
            return False
        return not ignorable(task)

    leaf_ids = {t.task_id for t in dag.tasks if is_effective_leaf(t)}
    if not leaf_ids:
        leaf_ids = {t.task_id for t in dag.tasks if not t.downstream_list}
    return {tid: states.get(tid) for tid in leaf_ids if states.get(tid) != REMOVED}


# dagrun.py, DagRun.update_state: once nothing is unfinished, FAILED if any
# effective leaf is failed/upstream_failed, SUCCESS if all are success/skipped;
# unfinished tasks none of which can run (and none waits on the past or on task
# concurrency) is a deadlock: FAILED; otherwise still RUNNING.
def update_state(dag, states, are_runnable_tasks=True):
    unfinished = [t for t in dag.tasks if states.get(t.task_id) not in FINISHED]
    leaves = tis_for_dagrun_state(dag, states)
    if not unfinished and any(s in FAILED_STATES for s in leaves.values()):
        return DAG_FAILED
    if not unfinished and all(s in SUCCESS_STATES for s in leaves.values()):
        return DAG_SUCCESS
    should_schedule = bool(unfinished) and all(not t.depends_on_past for t in unfinished)
    if should_schedule and not are_runnable_tasks:
        return DAG_FAILED  # "Task deadlock (no runnable tasks)"
    return RUNNING_STATE


class Outcome:
    """What one try of a task ended with (the executor's verdict)."""
    SUCCESS = "success"
    FAILED = "failed"  # an exception, a non-zero exit, a timeout, a killed worker
    SKIP = "skip"      # AirflowSkipException

    def __init__(self, kind, xcom=None):
        self.kind, self.xcom = kind, xcom


# dagrun.py, DagRun.task_instance_scheduling_decisions + _get_ready_tis: one pass
# over the unfinished tis, in a stable order (the order within a pass does not change
# the outcome: a state set in this pass is seen by the next one). Sets the states the
# upstreams force; returns (ready tasks, whether a state changed).
def scheduling_pass(dag, states):
    ready, changed = [], False
    snapshot = dict(states)
    for task in dag.tasks:
        if states.get(task.task_id) in FINISHED:
            continue
        reasons, new_state = trd.evaluate(task, snapshot, flag_upstream_failed=True)
        if new_state is not None:
            states[task.task_id] = new_state
            changed = True
        elif not reasons:
            ready.append(task)
    return ready, changed


def run(dag, execute, max_passes=1000):
    """Schedules one DAG run to its end. execute(task, try_number, xcom) runs one try
    and returns an Outcome. Returns (dag_run_state, {task_id: state}, xcom,
    {task_id: tries})."""
    dag.validate()
    states = {t.task_id: None for t in dag.tasks}
    xcom, tries = {}, {t.task_id: 0 for t in dag.tasks}
    for _ in range(max_passes):
        ready, changed = scheduling_pass(dag, states)
        result = update_state(dag, states, are_runnable_tasks=bool(ready) or changed)
        if result != RUNNING_STATE:
            return result, states, xcom, tries
        for task in ready:
            tries[task.task_id] += 1
            out = execute(task, tries[task.task_id], xcom)
            if out.kind == Outcome.SUCCESS:
                states[task.task_id] = SUCCESS
                if out.xcom is not None:
                    xcom[task.task_id] = out.xcom
            elif out.kind == Outcome.SKIP:
                states[task.task_id] = SKIPPED
            elif tries[task.task_id] <= task.retries:  # handle_failure: tries left
                states[task.task_id] = UP_FOR_RETRY
            else:
                states[task.task_id] = FAILED
    raise RuntimeError("the DAG run did not end in %d scheduling passes" % max_passes)
