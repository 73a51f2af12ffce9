#!/bin/bash
# dblab-refresh against the DBLab emulator: the wait after the trigger.
#   a refresh failing with an alert (dump and snapshot phases), a refresh dying
#   before it starts (start timeout), a refresh stuck until dblab.timeout, the
#   stale-finished and stale-failed races, the engine unreachable for a few polls
#   and back, unreachable for too long, SIGTERM and SIGINT during the wait.
. tests/lib/dblab_refresh_test.sh
drt_init
# 600: one real second is ten emulated minutes; the default refresh (5 s start,
# 60 s dump, 10 s snapshot) takes about 0.1 s.
drt_emu_start --time-scale 600

set_state() { drt_ctl POST /_emulator/set "$1" >/dev/null || fail "cannot set $1"; }
state_field() { drt_state >"$DRT_DIR/state.json" && drt_json "$DRT_DIR/state.json" "$1"; }
# Waits until the emulated engine's retrieval status is $1.
wait_status() {
    local i=0
    until [ "$(state_field "d['status']")" = "$1" ]; do
        i=$((i + 1))
        [ $i -gt 100 ] && fail "the engine never reached $1"
        sleep 0.1
    done
}

drt_config
drt_doc

case_begin "refresh failing with an alert (dump)"
drt_reset
msg='failed to dump the database: FATAL:  password authentication failed for user "dblab_user"'
drt_fault "{\"type\":\"refresh-fail\",\"message\":$(printf '%s' "$msg" | "$PY" -c 'import json,sys; print(json.dumps(sys.stdin.read()))')}"
drt_run
expect_rc 88
expect_no_out
expect_err "ERROR .*the DBLab refresh failed: failed to dump the database: FATAL:  password authentication failed for user \"dblab_user\"$"

case_begin "refresh failing with an alert (snapshot)"
drt_reset
drt_fault '{"type":"refresh-fail","phase":"snapshotting","message":"failed to create a snapshot: zfs: out of space"}'
drt_run
expect_rc 88
expect_no_out
expect_err "ERROR .*the DBLab refresh failed: failed to create a snapshot: zfs: out of space$"

case_begin "refresh dying before it starts: start timeout"
drt_reset
drt_fault '{"type":"refresh-silent","message":"failed to check AWS credentials"}'
DRT_START_TIMEOUT=2s drt_config
start=$(date +%s)
drt_run
took=$(( $(date +%s) - start ))
expect_rc 82
expect_no_out
expect_err "ERROR .*did not start it within 2s \(lastRefresh still 20.*status finished\): it failed before starting"
[ "$took" -le 15 ] || fail "the start timeout took ${took}s"
drt_config

case_begin "refresh stuck until dblab.timeout"
drt_reset
drt_fault '{"type":"refresh-stuck"}'
DRT_TIMEOUT=3s drt_config
start=$(date +%s)
drt_run
took=$(( $(date +%s) - start ))
expect_rc 82
expect_no_out
expect_err "ERROR .*did not finish within dblab.timeout 3s \(status refreshing\); the engine may still be reading from the clone"
[ "$took" -le 15 ] || fail "the timeout took ${took}s"
drt_config

case_begin "stale finished: the previous run's status until the new one starts"
drt_reset
set_state '{"timing":{"startDelay":1500}}' # 2.5 s real before the engine starts
before=$(state_field "d['lastRefresh']")
drt_run
expect_rc 0
expect_doc
grep -n "retrieval status: finished" "$DRT_DIR/err" | head -n 1 | cut -d: -f1 >"$DRT_DIR/l1"
grep -n "the refresh started" "$DRT_DIR/err" | cut -d: -f1 >"$DRT_DIR/l2"
[ -s "$DRT_DIR/l1" ] && [ -s "$DRT_DIR/l2" ] && [ "$(cat "$DRT_DIR/l1")" -lt "$(cat "$DRT_DIR/l2")" ] ||
    fail "the stale finished was not seen before the start"
[ "$(drt_json "$DRT_DIR/out" "d['refresh']['durationSeconds'] >= 2")" = True ] ||
    fail "returned before the refresh could have run"
[ "$(state_field "d['lastRefresh']")" != "$before" ] || fail "the engine never refreshed"
[ "$(state_field "d['status']")" = finished ] || fail "the engine is not finished"

case_begin "stale failed: the previous run's failure and alert are not ours"
drt_reset
set_state '{"status":"failed","alerts":{"refresh_failed":{"message":"old failure from last week","ago":3600}},"timing":{"startDelay":1500}}'
drt_run
expect_rc 0
expect_doc
expect_err "retrieval status: failed"
expect_no_err "old failure from last week"

case_begin "the engine unreachable for a few polls mid-refresh, then back"
drt_reset
set_state '{"timing":{"refreshDuration":3600}}' # 6 s real of dump
drt_run_bg
wait_status refreshing
drt_wait_log "retrieval status: refreshing"
drt_fault '{"type":"down","mode":"reset","seconds":2.5}'
drt_run_wait
expect_rc 0
expect_doc
expect_err "WARN .*poll 1 of 5 tolerated: DBLab GET /status: "
expect_err "the engine answers again after [0-9] failed poll"
drt_wait_up

case_begin "the engine unreachable for too many polls"
drt_reset
set_state '{"timing":{"refreshDuration":6000}}'
drt_run_bg
wait_status refreshing
drt_wait_log "retrieval status: refreshing"
drt_fault '{"type":"down","seconds":15}'
drt_run_wait
expect_rc 75
expect_no_out
expect_err "WARN .*poll 5 of 5 tolerated"
expect_err "ERROR .*DBLab GET /status: HTTP 503 .*too many failed polls in a row\); the refresh may still be running and reading from the clone"
drt_fault '{"clear":true}'

for sig in TERM INT; do
    case_begin "SIG$sig during the wait: a clean exit 128+N"
    drt_reset
    drt_fault '{"type":"refresh-stuck"}'
    drt_run_bg
    drt_wait_log "full refresh triggered"
    sleep 0.3
    kill -s "$sig" "$DRT_RUN_PID"
    start=$(date +%s)
    drt_run_wait
    [ $(( $(date +%s) - start )) -le 5 ] || fail "slow to stop"
    if [ "$sig" = TERM ]; then expect_rc 143; else expect_rc 130; fi
    expect_no_out
    expect_err "ERROR .*interrupted by signal .* while waiting for the refresh; the engine continues it"
done

case_begin "SIGTERM during a slow API call before the trigger: 143, no trigger"
drt_reset
drt_fault '{"type":"slow","delay":8,"path":"/admin/config","calls":1}'
drt_run_bg
drt_wait_log "retrieval: mode logical"
sleep 0.5
kill -s TERM "$DRT_RUN_PID"
start=$(date +%s)
drt_run_wait
[ $(( $(date +%s) - start )) -le 5 ] || fail "slow to stop"
expect_rc 143
expect_no_out
expect_err "ERROR .*(DBLab GET /admin/config: interrupted by signal 15|interrupted by signal 15: DBLab GET /admin/config)"
drt_calls >"$DRT_DIR/calls.json"
[ "$(drt_json "$DRT_DIR/calls.json" "sum(1 for c in d if c['path']=='/full-refresh')")" = 0 ] ||
    fail "triggered after the signal"

echo "ok"
