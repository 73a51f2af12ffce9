#!/bin/bash
# dblab-refresh against the DBLab emulator: the successful paths.
#   success (source set on the engine, password applied, one trigger, document valid),
#   rdsIam for an instance and for Aurora (the writer instance), parallelism auto,
#   the scheduler-enabled warning on every run, and the dry run.
# The token and the password never appear in any output (drt_run checks).
. tests/lib/dblab_refresh_test.sh
drt_init
drt_emu_start --time-scale 600

state_field() { drt_state >"$DRT_DIR/state.json" && drt_json "$DRT_DIR/state.json" "$1"; }

case_begin "success"
drt_config
drt_doc
drt_run
expect_rc 0
expect_doc
[ "$(drt_json "$DRT_DIR/out" "d['refresh']['status']")" = finished ] || fail "refresh.status"
[ "$(drt_json "$DRT_DIR/out" "d['refresh']['engineVersion']")" = v4.1.0-20251118-0921 ] ||
    fail "refresh.engineVersion"
drt_json "$DRT_DIR/out" "d['refresh']['dataStateAt']" >/dev/null || fail "no refresh.dataStateAt"
[ "$(drt_json "$DRT_DIR/out" "d['endpoint']['host']")" = "$DRT_HOST" ] || fail "input not kept"
[ "$(state_field "d['source']['host']")" = "$DRT_HOST" ] || fail "engine source host not set"
[ "$(state_field "d['source']['port']")" = 5432 ] || fail "engine source port"
[ "$(state_field "d['source']['dbname']")" = app ] || fail "engine dbname"
[ "$(state_field "d['source']['username']")" = dblab_user ] || fail "engine username"
want=$(printf '%s' "$DRT_PASSWORD" | sha256sum | cut -d' ' -f1)
[ "$(state_field "d['passwordSha256']")" = "$want" ] || fail "engine password not set"
[ "$(state_field "d['status']")" = finished ] || fail "engine not finished"
[ "$(drt_count_calls POST /full-refresh)" = 1 ] || fail "full-refresh not triggered exactly once"
[ "$(drt_count_calls POST /admin/config)" = 1 ] || fail "config not posted exactly once"
expect_no_err "WARN"

case_begin "rdsIam, RDS instance: the clone's instance id"
drt_reset
DRT_IAM=true drt_config
drt_doc
drt_run
expect_rc 0
expect_doc
[ "$(state_field "d['rdsIam']['dbInstanceIdentifier']")" = "$DRT_CLONE" ] || fail "rdsIam id"

case_begin "rdsIam, Aurora: the writer INSTANCE id, never the cluster"
drt_reset
DRT_IAM=true drt_config
drt_doc cluster
drt_run
expect_rc 0
expect_doc
[ "$(state_field "d['rdsIam']['dbInstanceIdentifier']")" = "$DRT_CLONE-writer" ] ||
    fail "rdsIam id is not the writer instance"

case_begin "rdsIam source without connection host/port in server.yml (the engine's example)"
drt_reset
"$PY" -c 'import json,sys; print(json.dumps({"config": open(sys.argv[1]).read()}))' \
    "$DRT_TOP/tests/fixtures/dblab/server-rdsiam.yml" >"$DRT_DIR/set.json"
drt_ctl POST /_emulator/set "$(cat "$DRT_DIR/set.json")" >/dev/null || fail "cannot set the config"
DRT_IAM=true drt_config
drt_doc
drt_run
expect_rc 0
expect_doc
expect_err "server.yml has no retrieval.spec.logicalDump.options.source.connection.host: not sent"
expect_err "rdsIam source is now DB instance $DRT_CLONE"
[ "$(state_field "d['rdsIam']['dbInstanceIdentifier']")" = "$DRT_CLONE" ] || fail "rdsIam id"
[ "$(state_field "d['sourceType']")" = rdsIam ] || fail "source type"

case_begin "parallelism: dump auto = half of db.r6g.2xlarge's 8 vCPUs, restore 3"
drt_reset
drt_config "dumpParallelJobs: auto" "restoreParallelJobs: 3"
drt_doc
drt_run
expect_rc 0
expect_doc
[ "$(state_field "d['dumpParallelJobs']")" = 4 ] || fail "dump parallelJobs"
[ "$(state_field "d['restoreParallelJobs']")" = 3 ] || fail "restore parallelJobs"
expect_err "WARN .*immediateRestore"

case_begin "the engine's scheduler is on: a warning on every run"
drt_reset
drt_state >"$DRT_DIR/state.json"
"$PY" - "$DRT_DIR/state.json" "$DRT_DIR/set.json" <<'EOF'
import json, sys
yml = json.load(open(sys.argv[1]))["configYaml"]
assert 'timetable: ""' in yml, "fixture has no empty timetable"
json.dump({"config": yml.replace('timetable: ""', 'timetable: "0 1 * * 0"')}, open(sys.argv[2], "w"))
EOF
drt_ctl POST /_emulator/set "$(cat "$DRT_DIR/set.json")" >/dev/null
drt_config
drt_doc
for _ in 1 2; do
    drt_run
    expect_rc 0
    expect_doc
    expect_err "WARN .*scheduler is on \(next refresh 20"
done

case_begin "dry run: checks and the config it would send, nothing changed"
drt_reset
drt_config
drt_doc
before=$(state_field "d['source']['host']")
drt_run -dry-run
expect_rc 0
expect_doc
[ "$(drt_json "$DRT_DIR/out" "d['dryRun']")" = True ] || fail "dryRun not set"
[ "$(drt_json "$DRT_DIR/out" "'refresh' in d")" = False ] || fail "dry run wrote refresh"
expect_err "would send POST /admin/config .*\"host\":\"$DRT_HOST\""
expect_err '"password":"\[REDACTED\]"'
[ "$(drt_count_calls POST /admin/config)" = 0 ] || fail "dry run posted the config"
[ "$(drt_count_calls POST /full-refresh)" = 0 ] || fail "dry run triggered a refresh"
[ "$(state_field "d['source']['host']")" = "$before" ] || fail "dry run changed the source"

case_begin "dry run of a dry pipeline: no endpoint yet, placeholders"
printf '%s\n' '{"apiVersion":"dblab-rds-refresh/v1","dryRun":true,"source":{"type":"rds","identifier":"production-db","region":"us-east-1"}}' >"$DRT_DIR/in.json"
drt_run
expect_rc 0
expect_doc
expect_err "would send POST /admin/config .*<clone endpoint>"
[ "$(drt_count_calls POST /full-refresh)" = 0 ] || fail "dry run triggered a refresh"

echo "ok"
