"""Whether a task instance may run, or which state its upstreams force on it.

Ported from apache/airflow 2.10 (v2-10-stable line),
airflow/ti_deps/deps/trigger_rule_dep.py: _UpstreamTIStates.calculate,
TriggerRuleDep._get_dep_statuses, and the two closures of
TriggerRuleDep._evaluate_trigger_rule (_evaluate_setup_constraint,
_evaluate_direct_relatives), for unmapped tasks (map_index -1: the REMOVED
arithmetic of mapped task instances is left out) and with flag_upstream_failed as
the scheduler passes it (DagRun._get_ready_tis: True). wait_for_past_depends is not
modelled (depends_on_past is).

Each check returns (reasons, new_state): reasons are the failing statuses (empty =
the dep passes), new_state is the state the scheduler writes (SKIPPED,
UPSTREAM_FAILED) or None.
"""
from collections import Counter, namedtuple

from core import TriggerRule as TR

SUCCESS, FAILED, SKIPPED = "success", "failed", "skipped"
UPSTREAM_FAILED, REMOVED = "upstream_failed", "removed"

UpstreamStates = namedtuple("UpstreamStates", "success skipped failed upstream_failed removed done "
                                              "success_setup skipped_setup")


# trigger_rule_dep.py, _UpstreamTIStates.calculate: counts of the finished
# upstreams by state; the *_setup counts are the subset that are setup tasks.
def calculate(finished_upstreams):
    """finished_upstreams: iterable of (task, state)."""
    counter, setup_counter = Counter(), Counter()
    for task, state in finished_upstreams:
        counter[state] += 1
        if task.is_setup:
            setup_counter[state] += 1
    return UpstreamStates(success=counter[SUCCESS], skipped=counter[SKIPPED], failed=counter[FAILED],
                          upstream_failed=counter[UPSTREAM_FAILED], removed=counter[REMOVED],
                          done=sum(counter.values()), success_setup=setup_counter[SUCCESS],
                          skipped_setup=setup_counter[SKIPPED])


# trigger_rule_dep.py, TriggerRuleDep._evaluate_trigger_rule ->
# _evaluate_direct_relatives: first the state the upstreams force (only with
# flag_upstream_failed), then whether the rule is met.
def evaluate_direct_relatives(rule, st, upstream, upstream_setup, flag_upstream_failed=True):
    upstream_done = st.done >= upstream
    new_state = None
    if flag_upstream_failed:
        if rule == TR.ALL_SUCCESS:
            if st.upstream_failed or st.failed:
                new_state = UPSTREAM_FAILED
            elif st.skipped:
                new_state = SKIPPED
        elif rule == TR.ALL_FAILED:
            if st.success or st.skipped:
                new_state = SKIPPED
        elif rule == TR.ONE_SUCCESS:
            if upstream_done and st.done == st.skipped:
                new_state = SKIPPED
            elif upstream_done and st.success <= 0:
                new_state = UPSTREAM_FAILED
        elif rule == TR.ONE_FAILED:
            if upstream_done and not (st.failed or st.upstream_failed):
                new_state = SKIPPED
        elif rule == TR.ONE_DONE:
            if upstream_done and not (st.failed or st.success):
                new_state = SKIPPED
        elif rule == TR.NONE_FAILED:
            if st.upstream_failed or st.failed:
                new_state = UPSTREAM_FAILED
        elif rule == TR.NONE_FAILED_MIN_ONE_SUCCESS:
            if st.upstream_failed or st.failed:
                new_state = UPSTREAM_FAILED
            elif st.skipped == upstream:
                new_state = SKIPPED
        elif rule == TR.NONE_SKIPPED:
            if st.skipped:
                new_state = SKIPPED
        elif rule == TR.ALL_SKIPPED:
            if st.success or st.failed or st.upstream_failed:
                new_state = SKIPPED
        elif rule == TR.ALL_DONE_SETUP_SUCCESS:
            if upstream_done and upstream_setup and st.skipped_setup >= upstream_setup:
                new_state = SKIPPED  # every setup skipped: nothing to tear down
            elif upstream_done and upstream_setup and st.success_setup == 0:
                new_state = UPSTREAM_FAILED  # no setup succeeded
    reasons = []
    if rule == TR.ONE_SUCCESS:
        if st.success <= 0:
            reasons.append("'one_success' requires one upstream task success")
    elif rule == TR.ONE_FAILED:
        if not st.failed and not st.upstream_failed:
            reasons.append("'one_failed' requires one upstream task failure")
    elif rule == TR.ONE_DONE:
        if st.success + st.failed <= 0:
            reasons.append("'one_done' requires at least one upstream task failure or success")
    elif rule == TR.ALL_SUCCESS:
        if upstream - st.success > 0:
            reasons.append("'all_success' requires all upstream tasks to have succeeded, but found "
                           "%d non-success(es)" % (upstream - st.success))
    elif rule == TR.ALL_FAILED:
        if upstream - st.failed - st.upstream_failed > 0:
            reasons.append("'all_failed' requires all upstream tasks to have failed")
    elif rule == TR.ALL_DONE:
        if not upstream_done:
            reasons.append("'all_done' requires all upstream tasks to have completed, but found "
                           "%d task(s) that were not done" % (upstream - st.done))
    elif rule in (TR.NONE_FAILED, TR.NONE_FAILED_MIN_ONE_SUCCESS):
        if upstream - st.success - st.skipped > 0:
            reasons.append("'%s' requires all upstream tasks to have succeeded or been skipped" % rule)
    elif rule == TR.NONE_SKIPPED:
        if not upstream_done or st.skipped > 0:
            reasons.append("'none_skipped' requires all upstream tasks to not have been skipped")
    elif rule == TR.ALL_SKIPPED:
        if upstream - st.skipped > 0:
            reasons.append("'all_skipped' requires all upstream tasks to have been skipped")
    elif rule == TR.ALL_DONE_SETUP_SUCCESS:
        if not upstream_done:
            reasons.append("'all_done_setup_success' requires all upstream tasks to have completed, "
                           "but found %d task(s) that were not done" % (upstream - st.done))
        elif upstream_setup and not st.success_setup:
            reasons.append("'all_done_setup_success' requires at least one upstream setup task be "
                           "successful")
    else:
        reasons.append("No strategy to evaluate trigger rule '%s'." % rule)
    return reasons, new_state


# trigger_rule_dep.py, _evaluate_setup_constraint: a work task also waits for the
# relevant setups that are not its direct upstreams; one failed (or upstream
# failed) makes it UPSTREAM_FAILED, one skipped makes it SKIPPED.
def evaluate_setup_constraint(st, indirect_setups, flag_upstream_failed=True):
    new_state = None
    if flag_upstream_failed:
        if st.upstream_failed or st.failed:
            new_state = UPSTREAM_FAILED
        elif st.skipped:
            new_state = SKIPPED
    reasons = []
    if indirect_setups - st.success > 0:
        reasons.append("All setup tasks must complete successfully.")
    return reasons, new_state


# trigger_rule_dep.py, TriggerRuleDep._get_dep_statuses and the tail of
# _evaluate_trigger_rule: no upstream or ALWAYS passes; a non-teardown first meets
# its setup constraint (a changed state there ends the evaluation), then its rule.
def evaluate(task, states, flag_upstream_failed=True):
    """task: an operator; states: {task_id: state} of the run (None = not finished).
    Returns (reasons, new_state)."""
    if not task.upstream_task_ids:
        return [], None
    if task.trigger_rule == TR.ALWAYS:
        return [], None
    reasons = []
    if not task.is_teardown:
        relevant = {t.task_id: t for t in task.get_upstreams_only_setups()}
        indirect = {k: t for k, t in relevant.items() if k not in task.upstream_task_ids}
        if relevant:
            st = calculate((t, states.get(k)) for k, t in indirect.items()
                           if _finished(states.get(k)))
            r, new_state = evaluate_setup_constraint(st, len(indirect), flag_upstream_failed)
            if new_state is not None and states.get(task.task_id) != new_state:
                return r or ["setup constraint"], new_state
            reasons.extend(r)
    ups = task.upstream_list
    st = calculate((u, states.get(u.task_id)) for u in ups if _finished(states.get(u.task_id)))
    r, new_state = evaluate_direct_relatives(task.trigger_rule, st, len(ups),
                                             sum(1 for u in ups if u.is_setup), flag_upstream_failed)
    return reasons + r, new_state


# airflow/utils/state.py, State.finished (2.10).
FINISHED = {SUCCESS, FAILED, SKIPPED, UPSTREAM_FAILED, REMOVED}


def _finished(state):
    return state in FINISHED
