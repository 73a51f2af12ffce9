#!/usr/bin/env bash
# The driver against both emulators: the full refresh with -config alone, the
# output document, state files, metrics, dry run, the lock (busy), cleanup.
# shellcheck source=tests/integration/test_driver_lib.sh
. "$(dirname "$0")/test_driver_lib.sh"
dt_init

# ---------------------------------------------------------------- full refresh
case_begin "full refresh, -config alone"
dt_run
expect_rc 0
expect_doc outcome.status success
expect_doc outcome.exitCode 0
expect_doc outcome.cloneDeleted true
expect_doc apiVersion dblab-rds-refresh/v1
expect_doc refresh.status finished
expect_doc deleted.alreadyGone false
clone=$(doc_get clone.id)
# Names come from the one rule in C (common/rds/clone.c): the pipeline and the run id.
case $clone in dblab-refresh-production-db-*) ;; *) fail "clone.id '$clone' is not a driver-made name" ;; esac
[ "$(doc_get deleted.id)" = "$clone" ] || fail "deleted.id is not the clone"
for s in gc snapshot create wait refresh delete; do
    [ "$(doc_get "steps.$s.exitCode")" = 0 ] || fail "steps.$s.exitCode is not 0"
done
life=$(doc_get cloneLifetimeSeconds)
awk -v l="$life" 'BEGIN { exit !(l > 0 && l < 120) }' || fail "cloneLifetimeSeconds '$life'"
# The commands report their AWS calls through $DRR_STATS_FILE: the total is the
# sum of the steps'.
calls=$(doc_get awsCalls)
[ "$calls" != "<absent>" ] && [ "$calls" -gt 0 ] || fail "awsCalls '$calls'"
sum=$(doc_get steps | "$PY" -c 'import json,sys; print(sum(s.get("awsCalls", 0) for s in json.load(sys.stdin).values()))')
[ "$sum" = "$calls" ] || fail "awsCalls $calls is not the sum of the steps' ($sum)"
# The whole run document (plus the driver's fields) validates against the schema.
"$PY" "$DT_TOP/tests/lib/validate_rundoc.py" <"$DT_DIR/out" >"$DT_DIR/validate.log" 2>&1 ||
    fail "the schema rejects the driver's document: $(cat "$DT_DIR/validate.log")"
# State: the record is gone, the step documents stay, everything 0600 in a 0700 dir.
sdir=$(dt_sdir)
[ -d "$sdir" ] || fail "no state directory $sdir"
[ ! -e "$sdir/run.state" ] || fail "run.state left after a clean run"
[ "$(stat -c %a "$sdir")" = 700 ] || fail "$sdir is mode $(stat -c %a "$sdir")"
for f in snapshot clone endpoint refresh deleted; do
    [ -f "$sdir/$f.json" ] || fail "no $f.json in the state directory"
    [ "$(stat -c %a "$sdir/$f.json")" = 600 ] || fail "$f.json is mode $(stat -c %a "$sdir/$f.json")"
done
for f in "$sdir"/*.tmp*; do
    [ -e "$f" ] && fail "temporary file left in the state directory: $f"
done
# A real run's log has no dry-run warning (the driver's check of the preflight's
# document, a dry run's, once logged one in every run).
grep -q "comes from a dry run" "$DT_DIR/err" && fail "a real run logged the dry-run document warning"
# The create got the name decided beforehand.
aws_emu_get 'calls?action=RestoreDBInstanceFromDBSnapshot' | grep -q "\"$clone\"" ||
    fail "RestoreDBInstanceFromDBSnapshot was not called with $clone"
dt_check_clean
dt_row "full refresh, -config alone" "0, clone deleted" "success, exit 0" "$(dt_secs "$DT_CASE_T0")"

# ---------------------------------------------------------------- expected durations
case_begin "a second run expects the first run's wait and refresh durations"
[ -f "$sdir/last-run.json" ] || fail "no last-run.json in the state directory"
dt_run
expect_rc 0
grep -q "wait: expected to take ~" "$DT_DIR/err" || fail "rds-clone-wait got no -expect from the last run"
grep -q "refresh: expected to take ~" "$DT_DIR/err" || fail "dblab-refresh got no -expect from the last run"
dt_check_clean
dt_row "second run: -expect from last-run.json" "expected durations" "both steps" "$(dt_secs "$DT_CASE_T0")"

# ---------------------------------------------------------------- metrics
case_begin "metrics file: success, then a failure keeps last success"
dt_reset
prom=$DT_DIR/metrics/dblab_rds_refresh.prom
dt_run -metrics-file "$prom" -log-format json
expect_rc 0
[ "$(stat -c %a "$prom")" = 644 ] || fail "metrics file mode $(stat -c %a "$prom")"
grep -q '^dblab_rds_refresh_last_run_success{source="production-db"} 1$' "$prom" || fail "last_run_success not 1"
ok1=$(sed -n 's/^dblab_rds_refresh_last_success_timestamp_seconds{[^}]*} //p' "$prom")
[ -n "$ok1" ] || fail "no last_success_timestamp_seconds"
for s in snapshot create wait refresh delete; do
    grep -q "^dblab_rds_refresh_step_duration_seconds{source=\"production-db\",step=\"$s\"} [0-9.]*$" "$prom" ||
        fail "no step duration for $s"
done
grep -q '^dblab_rds_refresh_clone_lifetime_seconds{source="production-db"} [0-9.]*$' "$prom" ||
    fail "no clone lifetime"
# The data's age (issue 16): the metric is the document's dataAsOf, the engine's label
# beside it, and the log says both.
as_of=$(doc_get dataAsOf)
as_of_s=$(date -u -d "$as_of" +%s) || fail "dataAsOf '$as_of' is not a time"
data1=$(sed -n 's/^dblab_rds_refresh_data_timestamp_seconds{[^}]*} //p' "$prom")
[ "$data1" = "$as_of_s" ] || fail "data_timestamp_seconds '$data1' is not dataAsOf $as_of ($as_of_s)"
state_s=$(date -u -d "$(doc_get refresh.dataStateAt)" +%s) || fail "no refresh.dataStateAt"
grep -q "^dblab_rds_refresh_engine_data_state_timestamp_seconds{source=\"production-db\"} $state_s\$" "$prom" ||
    fail "engine_data_state_timestamp_seconds is not refresh.dataStateAt ($state_s)"
grep -q "holds data as of $as_of" "$DT_DIR/err" || fail "the log does not say the data's time"
# Every log line on stderr is JSON with -log-format json (the commands' too).
"$PY" -c '
import json, sys
for n, line in enumerate(open(sys.argv[1]), 1):
    o = json.loads(line)
    assert {"time", "level", "component", "msg"} <= set(o), (n, line)
' "$DT_DIR/err" || fail "stderr is not JSON lines with -log-format json"
# A failing run (AWS refuses the snapshot listing) keeps the earlier success time.
aws_fault '{"type":"error","action":"DescribeDBSnapshots","code":"AccessDenied","httpStatus":403,"count":50}'
sleep 1
dt_run -metrics-file "$prom"
expect_rc 80
expect_doc outcome.step snapshot
"$PY" "$DT_TOP/tests/lib/validate_rundoc.py" <"$DT_DIR/out" >"$DT_DIR/validate.log" 2>&1 ||
    fail "the schema rejects the failed run's document: $(cat "$DT_DIR/validate.log")"
grep -q '^dblab_rds_refresh_last_run_success{source="production-db"} 0$' "$prom" || fail "last_run_success not 0"
grep -q "^dblab_rds_refresh_last_run_exit_code{source=\"production-db\"} $DT_RC\$" "$prom" || fail "exit code not $DT_RC"
ok2=$(sed -n 's/^dblab_rds_refresh_last_success_timestamp_seconds{[^}]*} //p' "$prom")
[ "$ok1" = "$ok2" ] || fail "last success changed from $ok1 to $ok2 after a failure"
data2=$(sed -n 's/^dblab_rds_refresh_data_timestamp_seconds{[^}]*} //p' "$prom")
[ "$data1" = "$data2" ] || fail "a failed run changed data_timestamp_seconds from $data1 to $data2"
"$PY" - "$prom" <<'EOF' || fail "the metrics file is not valid Prometheus text format"
import re, sys
seen_type = set()
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    if line.startswith("# HELP ") or line.startswith("# TYPE "):
        parts = line.split(" ", 3)
        if line.startswith("# TYPE "):
            assert parts[3] in ("gauge", "counter"), line
            seen_type.add(parts[2])
        continue
    m = re.fullmatch(r'([a-zA-Z_:][a-zA-Z0-9_:]*)\{([a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*)\} (-?[0-9.e+]+)', line)
    assert m, "bad sample line: %r" % line
    assert m.group(1) in seen_type, "no TYPE before %s" % m.group(1)
EOF
dt_check_clean
dt_row "metrics: success, then AWS AccessDenied" "last success kept" "exit $DT_RC, metrics ok" "$(dt_secs "$DT_CASE_T0")"

# ---------------------------------------------------------------- dry run
case_begin "dry run"
dt_reset
dt_run -dry-run
expect_rc 0
expect_doc dryRun true
expect_doc outcome.status success
aws_emu_get calls >"$DT_DIR/calls.json"
"$PY" - "$DT_DIR/calls.json" <<'EOF' || fail "a dry run made a changing AWS call"
import json, sys
for c in json.load(open(sys.argv[1]))["calls"]:
    a = c.get("action") or ""
    if not a.startswith(("Describe", "List", "GetCallerIdentity")):
        sys.exit("changing call %s in a dry run" % a)
EOF
[ ! -e "$(dt_sdir)/run.state" ] || fail "a dry run left a run.state"
dblab_emu_get calls | grep -q '"POST"' && fail "a dry run POSTed to DBLab"
dt_check_clean
dt_row "dry run" "0, no change anywhere" "success, reads only" "$(dt_secs "$DT_CASE_T0")"

# ---------------------------------------------------------------- busy
case_begin "second concurrent run -> busy (84)"
dt_reset
aws_durations '{"durations":{"instance-creating":600}}'
dt_start
dt_wait_log 'step wait: '
t0=$(date +%s.%N)
dt_run
expect_rc 84
expect_doc outcome.status busy
busy_secs=$(dt_secs "$t0")
grep -q 'busy' "$DT_DIR/err" || fail "no busy message"
aws_durations "$DT_AWS_FAST"
aws_emu_post advance '{"seconds": 600}' >/dev/null
mv "$DT_DIR/err" "$DT_DIR/err.busy"
wait "$DT_PID"
rc=$?
DT_PID=""
[ "$rc" = 0 ] || fail "the first run failed ($rc) after the busy one"
dt_check_clean
dt_row "second concurrent run" "84, first run unaffected" "busy 84 in ${busy_secs}s, first ok" "$(dt_secs "$DT_CASE_T0")"

# ---------------------------------------------------------------- cleanup
case_begin "cleanup: an expired managed clone is collected"
dt_reset
# A managed clone no driver run knows of (no state record), expired, as a lost
# run would leave: seeded into the AWS emulator.
default_seed=$DT_TOP/tests/fixtures/emulator/default.json
"$PY" - "$default_seed" >"$DT_DIR/seed.json" <<'EOF2' || fail "cannot build the seed"
import json, sys
seed = json.load(open(sys.argv[1]))
seed["instances"].append({
    "id": "dblab-refresh-20200101-000000", "engine": "postgres", "engineVersion": "16.4",
    "class": "db.t4g.medium", "allocatedStorage": 100, "ageDays": 3,
    "tags": {"ManagedBy": "dblab-rds-refresh", "AutoDelete": "true",
             "DeleteAfter": "2020-01-03T00:00:00Z",
             "dblab-rds-refresh:pipeline": "production-db",
             "dblab-rds-refresh:source": "production-db"}})
json.dump(seed, sys.stdout)
EOF2
aws_emu_post seed "$(cat "$DT_DIR/seed.json")" >/dev/null || fail "cannot seed the AWS emulator"
aws_durations "$DT_AWS_FAST"
"$DT_BIN/dblab-rds-refresh" cleanup -config "$DT_DIR/config.yaml" -max-age 30m -dry-run \
    >"$DT_DIR/out" 2>"$DT_DIR/err"
DT_RC=$?
expect_rc 0
grep -q dblab-refresh-20200101-000000 "$DT_DIR/out" || fail "the dry run does not list the clone"
aws_emu_get calls | grep -q '"DeleteDBInstance"' && fail "cleanup -dry-run deleted"
"$DT_BIN/dblab-rds-refresh" --config="$DT_DIR/config.yaml" cleanup --max-age 30m >"$DT_DIR/out" 2>"$DT_DIR/err"
DT_RC=$?
expect_rc 0
expect_doc gc.deleted.0 dblab-refresh-20200101-000000
dt_check_clean
aws_emu_post seed "{\"path\": \"$default_seed\"}" >/dev/null || fail "cannot re-seed the AWS emulator"
dt_row "cleanup -max-age 30m (expired clone)" "dry run lists; then deleted" "collected" "$(dt_secs "$DT_CASE_T0")"

# ---------------------------------------------------------------- Aurora
case_begin "Aurora cluster: SIGKILL mid-wait, then a full run recovers and refreshes"
dt_reset
DT_SOURCE_TYPE=aurora-cluster DT_SOURCE_ID=production-aurora dt_config
aws_durations '{"durations":{"cluster-creating":6000,"cluster-instance-creating":6000}}'
dt_start
dt_wait_log 'step wait: '
sleep 1
dt_kill9
orphan=$(sed -n 's/^clone=//p' "$DT_DIR/state/us-east-1.production-aurora/run.state")
[ -n "$orphan" ] || fail "no clone recorded for the Aurora run"
aws_durations "$DT_AWS_FAST"
dt_run
expect_rc 0
expect_doc steps.recovery.clone "$orphan"
expect_doc steps.recovery.exitCode 0
expect_doc clone.kind cluster
expect_doc outcome.cloneDeleted true
[ "$(doc_get deleted.instances)" != "[]" ] || fail "the Aurora delete names no member instance"
"$PY" "$DT_TOP/tests/lib/validate_rundoc.py" <"$DT_DIR/out" >"$DT_DIR/validate.log" 2>&1 ||
    fail "the schema rejects the Aurora run's document: $(cat "$DT_DIR/validate.log")"
dt_check_clean
dt_config
dt_row "Aurora: SIGKILL mid-wait, then full run" "recovery + refresh, 0" "orphan cluster deleted, refresh ok" "$(dt_secs "$DT_CASE_T0")"

# ---------------------------------------------------------------- usage
case_begin "usage errors"
"$DT_BIN/dblab-rds-refresh" >/dev/null 2>&1
[ $? = 64 ] || fail "no -config is not a usage error"
"$DT_BIN/dblab-rds-refresh" -config x -bogus >/dev/null 2>&1
[ $? = 64 ] || fail "an unknown option is not a usage error"
"$DT_BIN/dblab-rds-refresh" -config x -max-age 1h >/dev/null 2>&1
[ $? = 64 ] || fail "-max-age outside cleanup is not a usage error"
"$DT_BIN/dblab-rds-refresh" -help | grep -q 'cleanup' || fail "-help"
"$DT_BIN/dblab-rds-refresh" --version | grep -q '^dblab-rds-refresh ' || fail "--version"
printf 'source:\n  type: nope\n' >"$DT_DIR/bad.yaml"
"$DT_BIN/dblab-rds-refresh" -config "$DT_DIR/bad.yaml" >"$DT_DIR/out" 2>"$DT_DIR/err"
DT_RC=$?
expect_rc 78
DBLAB_RDS_REFRESH_CONFIG=$DT_DIR/bad.yaml "$DT_BIN/dblab-rds-refresh" >/dev/null 2>&1
[ $? = 78 ] || fail "\$DBLAB_RDS_REFRESH_CONFIG is not read"
dt_row "usage / bad config" "64 / 78" "64 / 78" "$(dt_secs "$DT_CASE_T0")"

dt_table
