#!/usr/bin/env bash
# Signals to the driver in the middle of every step, against both emulators:
#  - SIGTERM (and SIGINT, SIGHUP once each): the clone is deleted (its delete
#    requested) and the driver exits 128+N within 25 s;
#  - SIGKILL to the driver's whole process group: the next run's start-up
#    recovery deletes the clone it left.
# After each scenario: zero managed clones, the unmanaged instances untouched.
# shellcheck source=tests/integration/test_driver_lib.sh
. "$(dirname "$0")/test_driver_lib.sh"
dt_init

# Makes STEP last long enough to be interrupted; prints the log line that
# says the step has started.
slow_step() {
    case $1 in
        snapshot)
            aws_fault '{"type":"slow","action":"DescribeDBSnapshots","delaySeconds":4,"count":1}'
            echo 'step snapshot: ' ;;
        create)
            aws_fault '{"type":"slow","action":"RestoreDBInstanceFromDBSnapshot","delaySeconds":4,"count":1}'
            echo 'step create: ' ;;
        wait)
            aws_durations '{"durations":{"instance-creating":6000}}'
            echo 'step wait: ' ;;
        refresh)
            dblab_timing '{"timing":{"startDelay":1,"refreshDuration":6000,"snapshotDuration":5}}'
            echo 'DBLab Engine .* at ' ;;
        delete)
            aws_fault '{"type":"slow","action":"DeleteDBInstance","delaySeconds":4,"count":1}'
            echo 'deleting clone ' ;;
    esac
}

# Back to fast timings without touching the AWS state (the orphan must stay).
fast_again() {
    aws_emu_post faults '{"clear": true}' >/dev/null 2>&1
    curl -sS -X DELETE "$AWS_EMULATOR_URL/_emulator/faults" >/dev/null
    dblab_emu_post faults '{"clear": true}' >/dev/null
    aws_durations "$DT_AWS_FAST"
    dblab_timing "$DT_DBLAB_FAST"
}

# ---------------------------------------------------------------- SIGTERM / INT / HUP
for spec in snapshot:TERM create:TERM wait:TERM refresh:TERM delete:TERM wait:INT refresh:HUP; do
    step=${spec%%:*}
    sig=${spec#*:}
    case_begin "SIG$sig during $step"
    dt_reset
    pattern=$(slow_step "$step")
    dt_start
    dt_wait_log "$pattern"
    sleep 1
    dt_signal "$sig"
    dt_finish
    case $sig in TERM) want=143 ;; INT) want=130 ;; HUP) want=129 ;; esac
    expect_rc "$want"
    awk -v s="$DT_STOP_SECS" 'BEGIN { exit !(s < 25) }' || fail "the driver took ${DT_STOP_SECS}s to exit"
    expect_doc outcome.status interrupted
    expect_doc outcome.signal "SIG$sig"
    expect_doc outcome.step "$step"
    if [ "$step" = snapshot ]; then
        [ "$(doc_get outcome.cloneId)" = "<absent>" ] || fail "a clone was named during the snapshot step"
        what="exit $DT_RC, no clone made"
    else
        clone=$(doc_get outcome.cloneId)
        expect_doc outcome.cloneDeleted true
        # The delete request reached AWS before the driver exited.
        aws_emu_get 'calls?action=DeleteDBInstance' | grep -q "\"$clone\"" ||
            fail "no DeleteDBInstance for $clone"
        what="exit $DT_RC, delete requested"
    fi
    [ ! -e "$(dt_sdir)/run.state" ] || [ "$step" = create ] ||
        fail "run.state left although the delete was requested"
    # A record kept after an interrupted create is recovered by the next start.
    if [ -e "$(dt_sdir)/run.state" ]; then
        fast_again
        dt_run
        expect_rc 0
        what="$what; record recovered"
    fi
    dt_check_clean
    dt_row "SIG$sig mid-$step" "$want, clone deleted, <25s" "$what in ${DT_STOP_SECS}s" "$(dt_secs "$DT_CASE_T0")"
done

# ---------------------------------------------------------------- SIGKILL
for step in snapshot create wait refresh delete; do
    case_begin "SIGKILL during $step, then the next run recovers"
    dt_reset
    pattern=$(slow_step "$step")
    dt_start
    dt_wait_log "$pattern"
    sleep 1
    dt_kill9
    sdir=$(dt_sdir)
    [ -f "$sdir/run.state" ] || fail "no run.state after SIGKILL"
    orphan=$(sed -n 's/^clone=//p' "$sdir/run.state")
    case $step in
        snapshot) [ -z "$orphan" ] || fail "a clone was recorded during the snapshot step" ;;
        *) [ -n "$orphan" ] || fail "no clone recorded in run.state during $step" ;;
    esac
    # Let the slow request in flight at the kill land (the emulator finishes it).
    case $step in create | delete) sleep 3.5 ;; esac
    fast_again
    dt_run
    if [ "$step" = refresh ]; then
        # The engine still runs the killed run's refresh (from a clone that
        # is now gone): the preflight finds it busy before any new clone.
        expect_rc 84
        expect_doc outcome.step preflight
        [ "$(doc_get outcome.cloneId)" = "<absent>" ] || fail "a clone was made although DBLab is busy"
    else
        expect_rc 0
    fi
    if [ -n "$orphan" ]; then
        expect_doc steps.recovery.clone "$orphan"
        expect_doc steps.recovery.exitCode 0
        what="recovery deleted $orphan (alreadyGone=$(doc_get steps.recovery.alreadyGone))"
    else
        expect_doc steps.recovery.action none
        what="recovery: no clone was made"
    fi
    dt_check_clean
    [ "$step" = refresh ] && what="$what; DBLab busy: 84 before create"
    dt_row "SIGKILL mid-$step, next run" "recovery deletes orphan" "${what/ dblab-refresh-*-???? / }" "$(dt_secs "$DT_CASE_T0")"
done

dt_table
