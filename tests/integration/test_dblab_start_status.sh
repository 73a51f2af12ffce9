#!/bin/bash
# dblab-refresh -start / -status: the split a scheduler loops over (the Step
# Functions state machine). -status makes the blocking wait's check once, with
# the state in the document: the stale-finished race (a previous run's finished
# before ours started), a previous run's alert, a new alert (88 with its
# message), the silent death before the start (dblab.startTimeout counted from
# refresh.startedAt), dblab.timeout, a busy engine refused by -start (84).
. tests/lib/dblab_refresh_test.sh
drt_init
drt_emu_start --time-scale 600

set_state() { drt_ctl POST /_emulator/set "$1" >/dev/null || fail "cannot set $1"; }
state_field() { drt_state >"$DRT_DIR/state.json" && drt_json "$DRT_DIR/state.json" "$1"; }
validate_out() {
    "$PY" "$DRT_TOP/tests/lib/validate_rundoc.py" "$DRT_DIR/out" >/dev/null 2>"$DRT_DIR/v.err" ||
        fail "not a valid run document: $(cat "$DRT_DIR/v.err")"
}
# Loops -status until it stops answering 75; the last document in $DRT_DIR/in.json.
status_loop() {
    local i=0
    while :; do
        drt_run -status
        [ "$DRT_RC" = 75 ] || return 0
        validate_out
        [ "$(drt_json "$DRT_DIR/out" "d['refresh']['status']")" = running ] ||
            fail "not yet: refresh.status is not running"
        cp "$DRT_DIR/out" "$DRT_DIR/in.json"
        i=$((i + 1))
        [ $i -gt 200 ] && fail "-status never finished"
        sleep 0.05
    done
}

drt_doc
cp "$DRT_DIR/in.json" "$DRT_DIR/orig.json"

case_begin "start, then status until finished (the stale finished is not ours)"
# The engine starts only when the test moves its clock (a startDelay of 100 emulated
# hours): a real 2.5 s delay let a loaded machine's first -status find the refresh
# already done. The start timeout is generous for the same reason (the first
# -status may come late); the later cases keep 10s.
DRT_START_TIMEOUT=300s drt_config
drt_reset
set_state '{"timing":{"startDelay":360000}}'
before=$(state_field "d['lastRefresh']")
t0=$(date +%s.%N)
drt_run -start
expect_rc 0
validate_out
[ "$(drt_json "$DRT_DIR/out" "d['refresh']['status']")" = running ] || fail "-start: status"
[ "$(drt_json "$DRT_DIR/out" "d['refresh']['baseline']['lastRefresh'] is not None")" = True ] ||
    fail "-start: no baseline"
cp "$DRT_DIR/out" "$DRT_DIR/in.json"
drt_run -status
expect_rc 75
expect_err "retrieval status: finished"
[ "$(drt_json "$DRT_DIR/out" "d['refresh']['observedStart']")" = False ] ||
    fail "the previous run's finished was taken for ours"
cp "$DRT_DIR/out" "$DRT_DIR/in.json"
# At least 2.5 s after the trigger, the engine starts: a command that reported the
# stale finished as ours would show a durationSeconds under 2 (checked below).
sleep "$("$PY" -c 'import sys,time; print(max(0.0, 2.5 - (time.time() - float(sys.argv[1]))))' "$t0")"
drt_ctl POST /_emulator/advance '{"seconds":360000}' >/dev/null || fail "cannot advance the engine's clock"
status_loop
expect_rc 0
expect_doc
validate_out
[ "$(drt_json "$DRT_DIR/out" "d['refresh']['status']")" = finished ] || fail "not finished"
[ "$(drt_json "$DRT_DIR/out" "'baseline' in d['refresh']")" = False ] || fail "baseline kept"
[ "$(drt_json "$DRT_DIR/out" "d['refresh']['durationSeconds'] >= 2")" = True ] ||
    fail "finished before the refresh could have run"
[ "$(state_field "d['lastRefresh']")" != "$before" ] || fail "the engine never refreshed"
drt_calls >"$DRT_DIR/calls.json"
[ "$(drt_json "$DRT_DIR/calls.json" "sum(1 for c in d if c['path']=='/full-refresh')")" = 1 ] ||
    fail "not exactly one trigger"

case_begin "a previous run's alert is not ours; a new one fails with its message"
drt_config
cp "$DRT_DIR/orig.json" "$DRT_DIR/in.json"
drt_reset
set_state '{"status":"failed","alerts":{"refresh_failed":{"message":"old failure from last week","ago":3600}},"timing":{"startDelay":600}}'
drt_fault '{"type":"refresh-fail","message":"failed to dump the database: connection refused"}'
drt_run -start
expect_rc 0
[ "$(drt_json "$DRT_DIR/out" "'refreshFailedAlert' in d['refresh']['baseline']")" = True ] ||
    fail "the old alert is not in the baseline"
cp "$DRT_DIR/out" "$DRT_DIR/in.json"
status_loop
expect_rc 88
expect_no_out
expect_no_err "old failure from last week"
expect_err "ERROR .*the DBLab refresh failed: failed to dump the database: connection refused$"

case_begin "dying before the start: dblab.startTimeout from refresh.startedAt"
cp "$DRT_DIR/orig.json" "$DRT_DIR/in.json"
drt_reset
drt_fault '{"type":"refresh-silent","message":"failed to check AWS credentials"}'
drt_run -start
expect_rc 0
cp "$DRT_DIR/out" "$DRT_DIR/in.json"
drt_run -status
expect_rc 75
# the same document an hour later
"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); d["refresh"]["startedAt"]="2020-01-01T00:00:00Z"; print(json.dumps(d))' \
    "$DRT_DIR/out" >"$DRT_DIR/in.json"
drt_run -status
expect_rc 82
expect_err "ERROR .*did not start it within 10s .*dblab.startTimeout"

case_begin "stuck: dblab.timeout"
cp "$DRT_DIR/orig.json" "$DRT_DIR/in.json"
drt_reset
drt_fault '{"type":"refresh-stuck"}'
drt_run -start
expect_rc 0
cp "$DRT_DIR/out" "$DRT_DIR/in.json"
status_loop_once() { drt_run -status; cp "$DRT_DIR/out" "$DRT_DIR/in.json"; }
for _ in 1 2 3 4 5 6 7 8 9 10; do
    status_loop_once
    [ "$(drt_json "$DRT_DIR/in.json" "d['refresh'].get('observedStart')")" = True ] && break
    sleep 0.1
done
"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); d["refresh"]["startedAt"]="2020-01-01T00:00:00Z"; print(json.dumps(d))' \
    "$DRT_DIR/in.json" >"$DRT_DIR/late.json"
cp "$DRT_DIR/late.json" "$DRT_DIR/in.json"
drt_run -status
expect_rc 82
expect_err "did not finish within dblab.timeout 30s \(status refreshing\)"

case_begin "busy engine: -start refuses (84), nothing triggered"
cp "$DRT_DIR/orig.json" "$DRT_DIR/in.json"
drt_reset
set_state '{"status":"refreshing"}'
drt_run -start
expect_rc 84
expect_no_out
drt_calls >"$DRT_DIR/calls.json"
[ "$(drt_json "$DRT_DIR/calls.json" "sum(1 for c in d if c['path']=='/full-refresh')")" = 0 ] ||
    fail "triggered on a busy engine"

case_begin "-status without -start's section: 65; -start with -status: 64"
cp "$DRT_DIR/orig.json" "$DRT_DIR/in.json"
drt_run -status
expect_rc 65
expect_err "refresh.baseline: missing \(run dblab-refresh -start first\)"
drt_run -start -status
expect_rc 64

case_begin "-status: a baseline alert count of 1e300 is refused (65), never cast to an integer"
cp "$DRT_DIR/orig.json" "$DRT_DIR/in.json"
drt_reset
set_state '{"status":"failed","alerts":{"refresh_failed":{"message":"old failure","ago":3600}}}'
drt_run -start
expect_rc 0
"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); d["refresh"]["baseline"]["refreshFailedAlert"]["count"]=1e300; print(json.dumps(d))' \
    "$DRT_DIR/out" >"$DRT_DIR/in.json"
drt_run -status
expect_rc 65
expect_err "refresh.baseline.refreshFailedAlert: needs whole numbers lastSeen and count"

echo "ok"
