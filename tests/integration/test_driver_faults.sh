#!/usr/bin/env bash
# Faults from AWS during every AWS step of the driver (throttling, 5xx, a
# connection reset after the call was executed, a throttling storm that outlasts
# the retries), and a DBLab Engine that fails or is unreachable. Each run either
# succeeds or fails cleanly; afterwards the AWS emulator holds zero managed
# clones and the unmanaged instances were never touched.
# aws.maxAttempts is 4 here (test_driver_lib.sh), so 3 faults in a row are
# survivable and a storm is not.
# shellcheck source=tests/integration/test_driver_lib.sh
. "$(dirname "$0")/test_driver_lib.sh"
dt_init

# The AWS action at the heart of each step.
action_of() {
    case $1 in
        snapshot) echo DescribeDBSnapshots ;;
        create) echo RestoreDBInstanceFromDBSnapshot ;;
        wait) echo DescribeDBInstances ;;
        delete) echo DeleteDBInstance ;;
    esac
}

# faults_during STEP JSON...: runs the driver with the faults on STEP's action.
# Only the wait's DescribeDBInstances is also made earlier (gc, create): those
# faults are injected once the wait step has started; the others up front.
faults_during() {
    local step=$1 f
    shift
    if [ "$step" != wait ]; then
        for f in "$@"; do
            aws_fault "$f"
        done
    else
        # The wait lasts a few seconds so that its polls meet the faults.
        aws_durations '{"durations":{"instance-creating":240}}'
    fi
    dt_start
    if [ "$step" = wait ]; then
        dt_wait_log 'step wait: ' 60
        for f in "$@"; do
            aws_fault "$f"
        done
    fi
    DT_T0=$(date +%s.%N)
    dt_finish
}

# ---------------------------------------------------------------- survivable faults
# On the step's action, in a row: throttled, HTTP 500 (both before execution),
# then executed with the connection reset before the answer (the lost-response
# case: a create must adopt what it made, a delete must accept "deleting"),
# then the fourth attempt goes through.
for step in snapshot create wait delete; do
    a=$(action_of "$step")
    case_begin "throttling, HTTP 500 and a connection reset during $step ($a)"
    dt_reset
    faults_during "$step" \
        "{\"type\":\"throttle\",\"action\":\"$a\",\"count\":1}" \
        "{\"type\":\"http500\",\"action\":\"$a\",\"count\":1}" \
        "{\"type\":\"reset\",\"action\":\"$a\",\"count\":1}"
    expect_rc 0
    expect_doc outcome.status success
    n=$(aws_emu_get "calls?action=$a" | "$PY" -c 'import json,sys; print(" ".join(sorted(set(c["fault"] for c in json.load(sys.stdin)["calls"] if c.get("fault")))))')
    [ "$n" = "http500 reset throttle" ] || fail "faults hit on $a: '$n', expected all three"
    extra=""
    [ "$step" = create ] && extra=", adopted=$(doc_get clone.adopted)"
    dt_check_clean
    dt_row "throttle+500+reset during $step" "success (retries, re-read)" "success$extra" "$(dt_secs "$DT_CASE_T0")"
done

# ---------------------------------------------------------------- storms
case_begin "throttling storm during create"
dt_reset
a=RestoreDBInstanceFromDBSnapshot
faults_during create "{\"type\":\"throttle\",\"action\":\"$a\",\"count\":100}"
[ "$DT_RC" = 80 ] || [ "$DT_RC" = 75 ] || fail "exit $DT_RC, expected 80 or 75"
expect_doc outcome.step create
[ ! -e "$(dt_sdir)/run.state" ] || fail "run.state left although nothing was created"
dt_check_clean
dt_row "throttling storm during create" "fails cleanly, no clone" "exit $DT_RC at create" "$(dt_secs "$DT_CASE_T0")"

case_begin "throttling storm during wait"
dt_reset
faults_during wait '{"type":"throttle","action":"DescribeDBInstances","count":12}'
if [ "$DT_RC" = 0 ]; then
    what="success (the wait outlasted the storm)"
else
    expect_doc outcome.step wait
    expect_doc outcome.cloneDeleted true
    what="exit $DT_RC at wait, clone deleted"
fi
dt_check_clean
dt_row "throttling storm during wait" "success or clean failure" "$what" "$(dt_secs "$DT_CASE_T0")"

case_begin "throttling storm during delete, then recovery"
dt_reset
faults_during delete '{"type":"throttle","action":"DeleteDBInstance","count":100}'
[ "$DT_RC" = 80 ] || [ "$DT_RC" = 75 ] || fail "exit $DT_RC, expected 80 or 75"
expect_doc outcome.step delete
expect_doc outcome.cloneDeleted false
orphan=$(doc_get outcome.cloneId)
grep -q "^clone=$orphan\$" "$(dt_sdir)/run.state" || fail "the undeleted clone is not recorded"
curl -sS -X DELETE "$AWS_EMULATOR_URL/_emulator/faults" >/dev/null
dt_run
expect_rc 0
expect_doc steps.recovery.clone "$orphan"
dt_check_clean
dt_row "throttling storm during delete" "fails, recorded; next run" "exit 80, recovered by next run" "$(dt_secs "$DT_CASE_T0")"

# ---------------------------------------------------------------- DBLab
case_begin "DBLab refresh fails (refresh_failed alert)"
dt_reset
dblab_fault '{"type":"refresh-fail","message":"pg_dump: error: connection to server lost"}'
dt_run
expect_rc 88
expect_doc outcome.step refresh
expect_doc outcome.cloneDeleted true
dt_check_clean
dt_row "DBLab refresh fails" "88, clone deleted" "exit 88, clone deleted" "$(dt_secs "$DT_CASE_T0")"

case_begin "DBLab unreachable mid-refresh"
dt_reset
dblab_timing '{"timing":{"startDelay":1,"refreshDuration":3000,"snapshotDuration":5}}'
dt_start
dt_wait_log 'the refresh started|retrieval status: refreshing' 60
# Every connection dropped without an answer (an open keep-alive connection
# included, which a closed port would not affect).
dblab_fault '{"type":"down","mode":"reset","calls":100000}'
DT_T0=$(date +%s.%N)
dt_finish
[ "$DT_RC" != 0 ] || fail "the run succeeded with DBLab down"
expect_doc outcome.step refresh
expect_doc outcome.cloneDeleted true
dblab_emu_post faults '{"clear": true}' >/dev/null 2>&1
dt_check_clean
dt_row "DBLab unreachable mid-refresh" "fails, clone deleted" "exit $DT_RC after ${DT_STOP_SECS}s down, deleted" "$(dt_secs "$DT_CASE_T0")"

case_begin "DBLab unreachable from the start"
dt_reset
dblab_fault '{"type":"down","mode":"reset","calls":100000}'
dt_run
[ "$DT_RC" != 0 ] || fail "the run succeeded with DBLab down"
expect_doc outcome.step preflight
[ "$(doc_get outcome.cloneId)" = "<absent>" ] || fail "a clone was made although DBLab is down"
aws_emu_get 'calls?action=RestoreDBInstanceFromDBSnapshot' | grep -q '"seq"' && fail "a clone was restored"
dblab_emu_post faults '{"clear": true}' >/dev/null 2>&1
dt_check_clean
dt_row "DBLab unreachable from the start" "fails before any clone" "exit $DT_RC at preflight, no clone" "$(dt_secs "$DT_CASE_T0")"

case_begin "DBLab answers 500 to the full-refresh trigger"
dt_reset
dblab_fault '{"type":"http","status":500,"calls":5,"path":"/full-refresh","method":"POST"}'
dt_run
[ "$DT_RC" = 81 ] || [ "$DT_RC" = 75 ] || fail "exit $DT_RC, expected 81 or 75"
expect_doc outcome.step refresh
expect_doc outcome.cloneDeleted true
dt_check_clean
dt_row "DBLab 500 on POST /full-refresh" "fails, clone deleted" "exit $DT_RC, clone deleted" "$(dt_secs "$DT_CASE_T0")"

dt_table
