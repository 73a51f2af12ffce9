#!/usr/bin/python3
"""The Airflow stand-in's rules, on the small DAGs whose outcomes Airflow's own unit
tests state (apache/airflow 2.10 line). Each case names the test it mirrors:
- tests/ti_deps/deps/test_trigger_rule_dep.py, class TestTriggerRuleDep: the
  count-based cases (the fixture `get_task_instance` fakes _UpstreamTIStates; the
  upstream count is the number of normal_tasks + setup_tasks it wires);
- tests/models/test_dagrun.py: test_teardown_failure_behaviour_on_dagrun,
  test_teardown_failure_on_non_leaf_behaviour_on_dagrun,
  test_work_task_failure_when_setup_teardown_are_successful,
  test_failure_of_leaf_task_not_connected_to_teardown_task,
  test_tis_considered_for_state.
Then whole runs through the scheduler loop (dagrun.run) whose outcome follows from
those rules, and the load-time checks (DAG.validate_setup_teardown, the
on_failure_fail_dagrun setter, unknown trigger rules)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "wrappers",
                                "airflow_standin"))
import core  # noqa: E402
import dagrun  # noqa: E402
import trigger_rule_dep as trd  # noqa: E402
from core import DAG, EmptyOperator, TriggerRule as TR  # noqa: E402

failures = []
passed = 0


def check(name, cond, detail=""):
    global passed
    if cond:
        passed += 1
    else:
        failures.append("%s %s" % (name, detail))
        print("FAIL: %s %s" % (name, detail), file=sys.stderr)


def counts(success=0, skipped=0, failed=0, upstream_failed=0, removed=0, done=0,
           success_setup=0, skipped_setup=0):
    return trd.UpstreamStates(success, skipped, failed, upstream_failed, removed, done,
                              success_setup, skipped_setup)


def rule(name, tr, flag=False, normal=0, setup=0, **st):
    """One TestTriggerRuleDep case: (reasons, new_state)."""
    return trd.evaluate_direct_relatives(tr, counts(**st), normal + setup, setup, flag)


def trigger_rule_dep_cases():
    T = "test_trigger_rule_dep.py::TestTriggerRuleDep::"
    # test_no_upstream_tasks / test_always_tr: evaluate() on a real task
    with DAG("d"):
        t = EmptyOperator(task_id="t", trigger_rule=TR.ALL_DONE)
    check(T + "test_no_upstream_tasks", trd.evaluate(t, {}) == ([], None))
    with DAG("d"):
        a = EmptyOperator(task_id="a")
        t = EmptyOperator(task_id="t", trigger_rule=TR.ALWAYS)
        a >> t
    check(T + "test_always_tr", trd.evaluate(t, {"a": None}) == ([], None))
    cases = [
        ("test_one_success_tr_success", TR.ONE_SUCCESS, {}, dict(success=1, skipped=2, failed=3,
                                                                 upstream_failed=2, done=2), 0, None),
        ("test_one_success_tr_failure", TR.ONE_SUCCESS, {}, dict(skipped=2, failed=2, upstream_failed=2,
                                                                 done=2), 1, None),
        ("test_one_failure_tr_failure", TR.ONE_FAILED, {}, dict(success=2, done=2), 1, None),
        ("test_one_failure_tr_success", TR.ONE_FAILED, {}, dict(skipped=2, failed=2, done=2), 0, None),
        ("test_one_failure_tr_success_no_failed", TR.ONE_FAILED, {},
         dict(skipped=2, upstream_failed=2, done=2), 0, None),
        ("test_one_done_tr_success", TR.ONE_DONE, {}, dict(success=2, done=2), 0, None),
        ("test_one_done_tr_success_with_failed", TR.ONE_DONE, {}, dict(failed=2, done=2), 0, None),
        ("test_one_done_tr_skip", TR.ONE_DONE, {}, dict(skipped=2, done=2), 1, None),
        ("test_one_done_tr_upstream_failed", TR.ONE_DONE, {}, dict(upstream_failed=2, done=2), 1, None),
        ("test_all_success_tr_success", TR.ALL_SUCCESS, dict(normal=1), dict(success=1, done=1), 0, None),
        ("test_all_success_tr_failure", TR.ALL_SUCCESS, dict(normal=2), dict(success=1, failed=1, done=2),
         1, None),
        ("test_all_success_tr_skip[True]", TR.ALL_SUCCESS, dict(normal=2, flag=True),
         dict(success=1, skipped=1, done=2), 1, trd.SKIPPED),
        ("test_all_success_tr_skip[False]", TR.ALL_SUCCESS, dict(normal=2, flag=False),
         dict(success=1, skipped=1, done=2), 1, None),
        ("test_none_failed_tr_success[True]", TR.NONE_FAILED, dict(normal=2, flag=True),
         dict(success=1, skipped=1, done=2), 0, None),
        ("test_none_failed_tr_success[False]", TR.NONE_FAILED, dict(normal=2),
         dict(success=1, skipped=1, done=2), 0, None),
        ("test_none_failed_tr_failure", TR.NONE_FAILED, dict(normal=3),
         dict(success=1, skipped=1, failed=1, done=3), 1, None),
        ("test_none_failed_min_one_success_tr_success", TR.NONE_FAILED_MIN_ONE_SUCCESS, dict(normal=2),
         dict(success=1, skipped=1, done=2), 0, None),
        ("test_none_failed_min_one_success_tr_skipped", TR.NONE_FAILED_MIN_ONE_SUCCESS,
         dict(normal=2, flag=True), dict(skipped=2, done=2), 0, trd.SKIPPED),
        ("test_none_failed_min_one_success_tr_failure", TR.NONE_FAILED_MIN_ONE_SUCCESS, dict(normal=3),
         dict(success=1, skipped=1, failed=1, done=3), 1, None),
        ("test_all_failed_tr_success", TR.ALL_FAILED, dict(normal=2), dict(failed=2, done=2), 0, None),
        ("test_all_failed_tr_failure", TR.ALL_FAILED, dict(normal=2), dict(success=2, done=2), 1, None),
        ("test_all_done_tr_success", TR.ALL_DONE, dict(normal=2), dict(success=2, done=2), 0, None),
        ("test_all_skipped_tr_failure", TR.ALL_SKIPPED, dict(normal=1), dict(success=1, done=1), 1, None),
        ("test_all_skipped_tr_failure_upstream_failed", TR.ALL_SKIPPED, dict(normal=1),
         dict(upstream_failed=1, done=1), 1, None),
        ("test_all_skipped_tr_success[True]", TR.ALL_SKIPPED, dict(normal=3, flag=True),
         dict(skipped=3, done=3), 0, None),
        ("test_all_skipped_tr_success[False]", TR.ALL_SKIPPED, dict(normal=3),
         dict(skipped=3, done=3), 0, None),
        # one normal task + the unfinished EmptyOperator the test adds
        ("test_all_done_tr_failure", TR.ALL_DONE, dict(normal=2), dict(success=1, done=1), 1, None),
        ("test_none_skipped_tr_success[True]", TR.NONE_SKIPPED, dict(normal=3, flag=True),
         dict(success=2, failed=1, done=3), 0, None),
        ("test_none_skipped_tr_success[False]", TR.NONE_SKIPPED, dict(normal=3),
         dict(success=2, failed=1, done=3), 0, None),
        ("test_none_skipped_tr_failure[True]", TR.NONE_SKIPPED, dict(normal=2, flag=True),
         dict(success=1, skipped=1, done=2), 1, trd.SKIPPED),
        ("test_none_skipped_tr_failure[False]", TR.NONE_SKIPPED, dict(normal=2),
         dict(success=1, skipped=1, done=2), 1, None),
        ("test_none_skipped_tr_failure_empty", TR.NONE_SKIPPED, dict(normal=1), dict(), 1, None),
        ("test_unknown_tr", "Unknown Trigger Rule", {}, dict(success=1, done=1), 1, None),
    ]
    for name, tr, kw, st, n_fail, state in cases:
        reasons, new_state = rule(name, tr, **kw, **st)
        check(T + name, len(reasons) == n_fail and new_state == state, (reasons, new_state))
    # test_teardown_tr_not_all_done: (task_cfg, states, expected reason, expected state),
    # always with flag_upstream_failed=True.
    teardown = [
        ("no setups", dict(work=2, setup=0), dict(success=2, done=2), None, None),
        ("setup not done", dict(work=2, setup=1), dict(success=2, done=2), "not done", None),
        ("setup failed", dict(work=2, setup=1), dict(success=2, done=3),
         "at least one upstream setup", trd.UPSTREAM_FAILED),
        ("one setup failed one success", dict(work=2, setup=2), dict(success=2, done=4, success_setup=1),
         None, None),
        ("one setup success one running", dict(work=2, setup=2), dict(success=2, done=3, success_setup=1),
         "not done", None),
        ("setup failed (failed=1)", dict(work=2, setup=1), dict(success=2, done=3, failed=1),
         "at least one upstream setup", trd.UPSTREAM_FAILED),
        ("one setup failed one skipped", dict(work=2, setup=2),
         dict(success=2, done=4, failed=1, skipped_setup=1), "at least one upstream setup",
         trd.UPSTREAM_FAILED),
        ("two setups both skipped", dict(work=2, setup=2), dict(success=2, done=4, skipped_setup=2),
         "at least one upstream setup", trd.SKIPPED),
        ("all success", dict(work=2, setup=1), dict(success=3, done=3, success_setup=1), None, None),
        ("work failed", dict(work=2, setup=1), dict(success=1, done=3, success_setup=1), None, None),
        ("one setup; skipped", dict(work=2, setup=1), dict(success=2, done=3, skipped_setup=1),
         "at least one upstream setup", trd.SKIPPED),
    ]
    for pid, cfg, st, reason, state in teardown:
        reasons, new_state = rule(pid, TR.ALL_DONE_SETUP_SUCCESS, flag=True, normal=cfg["work"],
                                  setup=cfg["setup"], **st)
        ok = (not reasons and new_state is None) if reason is None else \
            (len(reasons) == 1 and reason in reasons[0] and new_state == state)
        check(T + "test_teardown_tr_not_all_done[%s]" % pid, ok, (reasons, new_state))


def wire(lines, offd=()):
    """test_dagrun.py's notation: s<n> setup, w<n> work, t<n> teardown, t<n>_
    teardown with on_failure_fail_dagrun=True; "a >> b >> c" per line."""
    dag = DAG("notation")
    with dag:
        def get(tid):
            if tid in dag.task_dict:
                return dag.task_dict[tid]
            t = EmptyOperator(task_id=tid)
            if tid.startswith("s"):
                t.as_setup()
            elif tid.startswith("t"):
                t.as_teardown(on_failure_fail_dagrun=tid.endswith("_") or tid in offd)
            return t
        for line in lines:
            ts = [get(x) for x in line.split(" >> ")]
            for a, b in zip(ts, ts[1:]):
                a >> b
    return dag


def dagrun_cases():
    T = "test_dagrun.py::"
    for state, offd in ((dagrun.DAG_SUCCESS, False), (dagrun.DAG_FAILED, True)):
        dag = wire(["mytask >> teardowntask"], offd=("teardowntask",) if offd else ())
        got = dagrun.update_state(dag, {"mytask": "success", "teardowntask": "failed"})
        check(T + "test_teardown_failure_behaviour_on_dagrun[%s]" % offd, got == state, got)
        dag = wire(["mytask >> teardowntask >> teardowntask2"],
                   offd=("teardowntask",) if offd else ())
        got = dagrun.update_state(dag, {"mytask": "success", "teardowntask": "failed",
                                        "teardowntask2": "failed"})
        check(T + "test_teardown_failure_on_non_leaf_behaviour_on_dagrun[%s]" % offd, got == state, got)
    # `with setuptask() >> teardown_task(): mytask()` wires s >> w >> t and s >> t
    dag = wire(["setuptask >> mytask >> teardown_task", "setuptask >> teardown_task"])
    got = dagrun.update_state(dag, {"setuptask": "success", "teardown_task": "success", "mytask": "failed"})
    check(T + "test_work_task_failure_when_setup_teardown_are_successful", got == dagrun.DAG_FAILED, got)
    dag = wire(["setuptask", "teardown_task", "mytask"])
    got = dagrun.update_state(dag, {"setuptask": "success", "teardown_task": "success", "mytask": "failed"})
    check(T + "test_failure_of_leaf_task_not_connected_to_teardown_task", got == dagrun.DAG_FAILED, got)
    # test_dagrun_success_conditions: B >> A, C >> A, D >> C; the leaf A decides.
    with DAG("sc") as dag:
        op1, op2, op3, op4 = (EmptyOperator(task_id=x) for x in "ABCD")
        op1.set_upstream([op2, op3])
        op3.set_upstream(op4)
    st = {"A": "success", "B": None, "C": None, "D": None}
    ready, changed = dagrun.scheduling_pass(dag, st)
    got = dagrun.update_state(dag, st, bool(ready) or changed)
    check(T + "test_dagrun_success_conditions (running)", got == dagrun.RUNNING_STATE, got)
    st = {"A": "success", "B": "failed", "C": "success", "D": "success"}
    got = dagrun.update_state(dag, st)
    check(T + "test_dagrun_success_conditions (success)", got == dagrun.DAG_SUCCESS, got)
    # test_dagrun_deadlock: A >> B (one_failed); A success: B is skipped by the pass,
    # the run goes on; with an unknown rule nothing can run: deadlock, FAILED.
    with DAG("dl") as dag:
        op1 = EmptyOperator(task_id="A")
        op2 = EmptyOperator(task_id="B", trigger_rule=TR.ONE_FAILED)
        op2.set_upstream(op1)
    st = {"A": "success", "B": None}
    ready, changed = dagrun.scheduling_pass(dag, st)
    got = dagrun.update_state(dag, dict(st, B=None), bool(ready) or changed)
    check(T + "test_dagrun_deadlock (running)", got == dagrun.RUNNING_STATE, got)
    op2.trigger_rule = "invalid"
    st = {"A": "success", "B": None}
    ready, changed = dagrun.scheduling_pass(dag, st)
    got = dagrun.update_state(dag, st, bool(ready) or changed)
    check(T + "test_dagrun_deadlock (invalid rule: failed)", got == dagrun.DAG_FAILED, (got, st))
    considered = [
        (["s1 >> w1 >> t1"], {"w1"}),
        (["s1 >> w1 >> t1", "s1 >> t1"], {"w1"}),
        (["s1 >> w1"], {"w1"}),
        (["s1 >> w1 >> t1_"], {"t1_"}),
        (["s1 >> w1 >> t1_", "s1 >> t1_"], {"t1_"}),
        (["s1 >> w1 >> t1_ >> w2", "s1 >> t1_"], {"w2"}),
        (["t1 >> t2"], {"t2"}),
        (["w1 >> t1_ >> t2"], {"t1_"}),
    ]
    for lines, expected in considered:
        got = set(dagrun.tis_for_dagrun_state(wire(lines), {}))
        check(T + "test_tis_considered_for_state[%s]" % " ; ".join(lines), got == expected, got)


def run_with(dag, fail=(), skip=(), fail_tries=None):
    """Runs the DAG with EmptyOperators whose tries fail/skip as asked."""
    fail_tries = fail_tries or {}

    def execute(task, try_number, xcom):
        if task.task_id in skip:
            return dagrun.Outcome(dagrun.Outcome.SKIP)
        if task.task_id in fail or try_number <= fail_tries.get(task.task_id, 0):
            return dagrun.Outcome(dagrun.Outcome.FAILED)
        return dagrun.Outcome(dagrun.Outcome.SUCCESS, task.task_id)
    return dagrun.run(dag, execute)


def whole_run_cases():
    T = "run: "
    # A failed setup: its work task and its teardown are UPSTREAM_FAILED (trigger_rule_dep
    # ALL_SUCCESS, and ALL_DONE_SETUP_SUCCESS with success_setup == 0), the run FAILED.
    dag = wire(["s1 >> w1 >> t1", "s1 >> t1"])
    state, st, _, _ = run_with(dag, fail={"s1"})
    check(T + "setup failed", state == "failed" and st == {"s1": "failed", "w1": "upstream_failed",
                                                          "t1": "upstream_failed"}, (state, st))
    # Work failed: the teardown still runs; the run FAILED by the work task (effective leaf).
    state, st, _, _ = run_with(dag, fail={"w1"})
    check(T + "work failed, teardown ran", state == "failed" and st["t1"] == "success", (state, st))
    # ... but with on_failure_fail_dagrun the teardown is the leaf and hides it (the trap
    # issue 14 is about): SUCCESS.
    dag = wire(["s1 >> w1 >> t1_", "s1 >> t1_"])
    state, st, _, _ = run_with(dag, fail={"w1"})
    check(T + "offd teardown hides a failed work task", state == "success" and st["w1"] == "failed",
          (state, st))
    # Setup skipped: everything in its scope skipped, the run SUCCESS.
    dag = wire(["s1 >> w1 >> w2 >> t1", "s1 >> t1"])
    state, st, _, _ = run_with(dag, skip={"s1"})
    check(T + "setup skipped", state == "success" and set(st.values()) == {"skipped"}, (state, st))
    # An indirect setup that failed makes a work task UPSTREAM_FAILED through the setup constraint.
    dag = wire(["s1 >> w1 >> w2 >> t1", "s1 >> t1"])
    state, st, _, _ = run_with(dag, fail={"s1"})
    check(T + "indirect setup failed", st["w2"] == "upstream_failed" and st["t1"] == "upstream_failed",
          st)
    # Retries: a task failing its first try (retries=1) ends SUCCESS on its second.
    with DAG("r", default_args={"retries": 1}) as dag:
        a = EmptyOperator(task_id="a")
        b = EmptyOperator(task_id="b")
        a >> b
    state, st, _, tries = run_with(dag, fail_tries={"a": 1})
    check(T + "retry", state == "success" and tries == {"a": 2, "b": 1}, (state, st, tries))
    state, st, _, tries = run_with(dag, fail_tries={"a": 2})
    check(T + "retries exhausted", state == "failed" and st == {"a": "failed", "b": "upstream_failed"}
          and tries["a"] == 2, (state, st, tries))
    # one_failed downstream of a plain task: runs on failure, skipped otherwise.
    with DAG("o") as dag:
        a = EmptyOperator(task_id="a")
        h = EmptyOperator(task_id="h", trigger_rule=TR.ONE_FAILED)
        a >> h
    _, st, _, _ = run_with(dag)
    check(T + "one_failed skipped when nothing failed", st["h"] == "skipped", st)
    # ... and as the only leaf its success is the run's: SUCCESS although `a` failed
    # (a failure handler at a leaf hides the failure; the DAG must not rely on it).
    state, st, _, _ = run_with(dag, fail={"a"})
    check(T + "one_failed runs on failure", st["h"] == "success" and state == "success", (state, st))


def load_time_cases():
    T = "load: "
    # dag.py DAG.validate_setup_teardown: a setup's work task must keep ALL_SUCCESS.
    with DAG("v") as dag:
        s = EmptyOperator(task_id="s")
        t = EmptyOperator(task_id="t")
        h = EmptyOperator(task_id="h", trigger_rule=TR.ONE_FAILED)
        t.as_teardown(setups=s)
        s >> h
    try:
        dag.validate()
        check(T + "setup followed by one_failed refused", False)
    except ValueError as e:
        check(T + "setup followed by one_failed refused", "ALL_SUCCESS" in str(e), e)
    # baseoperator.py on_failure_fail_dagrun setter: only on a teardown.
    with DAG("w"):
        x = EmptyOperator(task_id="x")
    try:
        x.on_failure_fail_dagrun = True
        check(T + "on_failure_fail_dagrun on a work task refused", False)
    except ValueError:
        check(T + "on_failure_fail_dagrun on a work task refused", True)
    try:
        with DAG("u"):
            EmptyOperator(task_id="y", trigger_rule="sometimes")
        check(T + "unknown trigger rule refused", False)
    except ValueError:
        check(T + "unknown trigger rule refused", True)
    # as_teardown: ALL_DONE_SETUP_SUCCESS, setups marked and wired upstream.
    with DAG("a"):
        s = EmptyOperator(task_id="s")
        t = EmptyOperator(task_id="t").as_teardown(setups=s, on_failure_fail_dagrun=True)
    check(T + "as_teardown", t.trigger_rule == TR.ALL_DONE_SETUP_SUCCESS and s.is_setup
          and "s" in t.upstream_task_ids and t.on_failure_fail_dagrun)
    check(T + "TriggerRule values", len(core.TriggerRule.all_triggers()) == 12)


def main():
    trigger_rule_dep_cases()
    dagrun_cases()
    whole_run_cases()
    load_time_cases()
    print("%d passed, %d failed" % (passed, len(failures)))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
