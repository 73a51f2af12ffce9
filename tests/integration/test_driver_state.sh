#!/usr/bin/env bash
# The driver's state: the run id recorded before the clone can exist and
# recovered through the guarded delete, waiting out AWS's eventual consistency;
# the state directory's trust rule (symlinks, foreign owners, group/other-writable:
# exit 78 and nothing written); the work directory of a killed run removed at the
# next start; a failed stdout write said in the log. Each case fails on dafd46d.
# shellcheck source=tests/integration/test_driver_lib.sh
. "$(dirname "$0")/test_driver_lib.sh"
dt_init

# A run killed (SIGKILL) while it waits for its clone, AWS back to fast answers:
# sets orphan to the clone its run.state names.
killed_while_waiting() {
    dt_reset
    aws_durations '{"durations":{"instance-creating":6000}}'
    dt_start
    dt_wait_log 'step wait: '
    dt_kill9
    orphan=$(sed -n 's/^clone=//p' "$(dt_sdir)/run.state")
    [ -n "$orphan" ] || fail "no clone recorded"
    aws_durations "$DT_AWS_FAST"
}

# ---------------------------------------------------------------- SIGKILL + describe lag
case_begin "SIGKILL of the group mid-create, AWS lists the clone late, immediate restart"
dt_reset
# The restore is answered 4 s late (it lands then: the emulator finishes it)
# and every new clone stays invisible to describes for 300 emulated seconds (5 s).
aws_fault '{"type":"slow","action":"RestoreDBInstanceFromDBSnapshot","delaySeconds":4,"count":1}'
aws_durations '{"describeLagSeconds": 300}'
dt_start
dt_wait_log 'step create: '
sleep 1
killed_pid=$DT_PID
dt_kill9
orphan=$(sed -n 's/^clone=//p' "$(dt_sdir)/run.state")
[ -n "$orphan" ] || fail "no clone recorded in run.state during create"
[ -d "$(dt_sdir)/work.$killed_pid" ] || fail "the killed run left no work directory to test with"
# No sleep: the request is still in flight and, once it lands, not listed yet.
dt_run
expect_doc steps.recovery.clone "$orphan"
expect_doc steps.recovery.exitCode 0
expect_doc steps.recovery.alreadyGone false
grep -q "appeared after" "$DT_DIR/err" || fail "the recovery did not wait for the late clone"
[ ! -e "$(dt_sdir)/work.$killed_pid" ] || fail "the killed run's work directory was not removed"
ls -d "$(dt_sdir)"/work.* >/dev/null 2>&1 && fail "a work directory was left: $(ls -d "$(dt_sdir)"/work.*)"
aws_durations '{"describeLagSeconds": 0}'
dt_check_clean
dt_row "SIGKILL mid-create, describe lag, restart" "orphan found and deleted" \
    "recovery waited, deleted $orphan, rc $DT_RC" "$(dt_secs "$DT_CASE_T0")"

# ---------------------------------------------------------------- fail-closed recovery
# A proxy's HTML page or an error document inside an HTTP 200 answering the
# recovery's describe is an AWS error, never "gone": the record stays.
for fault in '{"type":"proxy-html","action":"DescribeDBInstances","count":1000}' \
    '{"type":"error-200","code":"AccessDenied","action":"DescribeDBInstances","count":1000}'; do
    kind=$(printf '%s' "$fault" | sed 's/.*"type":"\([a-z0-9-]*\)".*/\1/')
    case_begin "$kind answers the recovery: exit 80, the record is kept"
    killed_while_waiting
    aws_fault "$fault"
    dt_run
    [ "$DT_RC" = 80 ] || [ "$DT_RC" = 75 ] || fail "exit $DT_RC, expected 80 or 75"
    expect_doc outcome.step recovery
    grep -q "^clone=$orphan\$" "$(dt_sdir)/run.state" || fail "the record was dropped on an AWS error"
    aws_emu_get 'calls?action=RestoreDBInstanceFromDBSnapshot' | grep -c '"seq"' | grep -qx 1 ||
        fail "a new clone was made although the recovery failed"
    curl -sS -X DELETE "$AWS_EMULATOR_URL/_emulator/faults" >/dev/null
    rc1=$DT_RC
    dt_run
    expect_rc 0
    expect_doc steps.recovery.clone "$orphan"
    dt_check_clean
    dt_row "$kind during recovery" "80, record kept; next run" "exit $rc1, kept, then recovered" "$(dt_secs "$DT_CASE_T0")"
done

# ---------------------------------------------------------------- trust: symlink
# The directory tree, listed with modes, owners and targets: "nothing written".
snapshot_tree() { find "$@" -printf '%p %m %u %l %s\n' | sort; }

case_begin "a planted symlink as the source's state directory"
dt_reset
base=$DT_DIR/trust
victim=$DT_DIR/victim
mkdir -p "$base" "$victim"
chmod 0700 "$base"
chmod 0755 "$victim"
echo keep >"$victim/file"
ln -s "$victim" "$base/us-east-1.production-db"
before=$(snapshot_tree "$base" "$victim")
dt_run -state-dir "$base"
expect_rc 78
grep -q "us-east-1.production-db: is a symbolic link" "$DT_DIR/err" || fail "the error does not say why"
[ "$(grep -c 'ERROR' "$DT_DIR/err")" = 1 ] || fail "more than one error line"
[ "$(snapshot_tree "$base" "$victim")" = "$before" ] || fail "something was written: $(snapshot_tree "$base" "$victim")"
dt_run -state-dir "$base" -dry-run
expect_rc 78
[ "$(snapshot_tree "$base" "$victim")" = "$before" ] || fail "a dry run wrote something"
aws_emu_get calls | grep -q '"action"' && fail "AWS was called although the state directory is refused"

# A symlink planted as the run record inside a trusted directory is not followed.
rm "$base/us-east-1.production-db"
mkdir -m 0700 "$base/us-east-1.production-db"
ln -s "$victim/file" "$base/us-east-1.production-db/run.state"
dt_run -state-dir "$base"
expect_rc 78
grep -q "run.state: is a symbolic link" "$DT_DIR/err" || fail "the planted run.state was not refused"
[ "$(cat "$victim/file")" = keep ] || fail "the symlink's target was changed"
[ -L "$base/us-east-1.production-db/run.state" ] || fail "the planted record was replaced"
dt_check_clean
dt_row "planted symlink (state dir, run.state)" "78, nothing written" "78, victim untouched" "$(dt_secs "$DT_CASE_T0")"

# ---------------------------------------------------------------- trust: modes and owners
case_begin "a state directory writable by others, or not the user's"
dt_reset
rm -rf "$base"
mkdir -p "$base"
chmod 0777 "$base"
before=$(snapshot_tree "$base")
dt_run -state-dir "$base"
expect_rc 78
grep -q "state directory $base: writable by group or others (mode 0777)" "$DT_DIR/err" || fail "no reason given"
[ "$(snapshot_tree "$base")" = "$before" ] || fail "something was written"
chmod 0700 "$base"
mkdir -m 0770 "$base/us-east-1.production-db"
dt_run -state-dir "$base"
expect_rc 78
grep -q "production-db: writable by group or others (mode 0770)" "$DT_DIR/err" || fail "the source's directory was accepted"
rmdir "$base/us-east-1.production-db"
what="0777 and 0770 refused"
if [ "$(id -u)" = 0 ]; then
    # A directory planted by another user (nobody) is refused for a root run.
    chown nobody "$base"
    before=$(snapshot_tree "$base")
    dt_run -state-dir "$base"
    expect_rc 78
    grep -q "owned by uid $(id -u nobody), not by the running user (uid 0)" "$DT_DIR/err" || fail "no owner reason"
    [ "$(snapshot_tree "$base")" = "$before" ] || fail "something was written in nobody's directory"
    # ... and, the other way round, root's directory for a run as nobody; without
    # HOME or XDG_STATE_HOME nobody gets no default (never /tmp): the error names the flag.
    nb=$(mktemp -d "${TMPDIR:-/tmp}/drr-nobody.XXXXXX") || fail "mktemp"
    chmod 0755 "$nb"
    mkdir -m 0755 "$nb/rootdir"
    install -m 0600 -o nobody "$DT_DIR/config.yaml" "$nb/config.yaml"
    as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups env -u HOME -u XDG_STATE_HOME \
        -u DRR_STATE_DIR -u STATE_DIRECTORY DBLAB_TOKEN="$DBLAB_TOKEN" "$DT_BIN/dblab-rds-refresh" \
        -config "$nb/config.yaml" "$@" >"$DT_DIR/out" 2>"$DT_DIR/err"; DT_RC=$?; }
    as_nobody -state-dir "$nb/rootdir"
    expect_rc 78
    grep -q "state directory $nb/rootdir: owned by uid 0, not by the running user" "$DT_DIR/err" || fail "nobody used root's dir"
    as_nobody
    expect_rc 78
    grep -q "pass -state-dir DIR" "$DT_DIR/err" || fail "the no-default error does not name -state-dir"
    [ -z "$(ls -A "$nb/rootdir")" ] || fail "nobody wrote into root's directory"
    [ ! -e /tmp/.local/state/dblab-rds-refresh ] || fail "a /tmp/.local fallback was created"
    rm -rf "$nb"
    what="$what; nobody's dir for root, root's for nobody, no default without HOME: 78"
fi
rm -rf "$base"
dt_check_clean
dt_row "untrusted state directory" "78, nothing written" "$what" "$(dt_secs "$DT_CASE_T0")"

# ---------------------------------------------------------------- -skip-cleanup
case_begin "-skip-cleanup (the Go original's flag): no start-up gc; a recorded clone is still recovered"
killed_while_waiting
dt_run -skip-cleanup
expect_rc 0
[ "$(doc_get steps.gc)" = "<absent>" ] || fail "gc ran despite -skip-cleanup"
grep -q -- "-skip-cleanup: no start-up garbage collection" "$DT_DIR/err" || fail "the log does not say so"
expect_doc steps.recovery.clone "$orphan"
expect_doc outcome.cloneDeleted true
dt_check_clean
dt_row "-skip-cleanup" "0, no gc, recovery kept" "no gc; $orphan recovered" "$(dt_secs "$DT_CASE_T0")"

# ---------------------------------------------------------------- stdout write failure
case_begin "stdout write failure is logged (rds-snapshot-latest > /dev/full)"
dt_reset
"$DT_BIN/rds-snapshot-latest" -config "$DT_DIR/config.yaml" >/dev/full 2>"$DT_DIR/err"
DT_RC=$?
expect_rc 70
grep -q "stdout: write failed: No space left on device" "$DT_DIR/err" || fail "the write failure is not logged"
dt_row "rds-snapshot-latest > /dev/full" "70 + 'stdout: write failed'" "logged, exit 70" "$(dt_secs "$DT_CASE_T0")"

dt_table
