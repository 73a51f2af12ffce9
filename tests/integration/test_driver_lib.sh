# shellcheck shell=bash
# Helpers of the driver's fault-injection tests (tests/integration/test_driver_*.sh).
# Sourced by bash; not executable itself (tests/run-integration runs executables only).
#
#   dt_init                  temp dir, both emulators (one start per file), config, traps
#   dt_reset                 both emulators back to their seed + fast timings, fresh state dir
#   dt_run [ARGS...]         the driver in the foreground; DT_RC, $DT_DIR/out, $DT_DIR/err
#   dt_start [ARGS...]       the driver in the background, in its own process group (DT_PID)
#   dt_wait_log RE [SECS]    waits until the driver's stderr matches RE
#   dt_signal SIG            signal to the driver; then dt_finish waits: DT_RC, DT_STOP_SECS
#   dt_kill9                 SIGKILL to the driver's whole process group (a cgroup kill)
#   dt_check_clean           zero managed clones (after letting deletes finish), the
#                            unmanaged instances untouched, no secret in any output
#   dt_row NAME EXPECT GOT SECS   one row of the scenario table (printed by dt_table)
#   aws_fault JSON, dblab_fault JSON, aws_durations JSON, dblab_timing JSON
#
# The token reaches the commands only through the environment (config: ${DBLAB_TOKEN}).

set -u

DT_TOP=${DRR_TOP:-$(pwd)}
DT_BIN=${DRR_BIN:-$DT_TOP/bin}
PY=/usr/bin/python3
DT_CASE=""
DT_PID=""
DT_T0=""
DT_ROWS=""
DT_FILE_T0=$(date +%s.%N)

# Fast timings (emulated seconds; both emulators run 60x real time).
DT_AWS_FAST='{"durations":{"instance-creating":60,"instance-backing-up":0,"instance-deleting":30,"cluster-creating":60,"cluster-instance-creating":60,"cluster-deleting":30}}'
DT_DBLAB_FAST='{"timing":{"startDelay":1,"refreshDuration":30,"snapshotDuration":5,"connectDelay":0}}'

fail() {
    echo "FAIL${DT_CASE:+ [$DT_CASE]}: $*" >&2
    if [ -f "$DT_DIR/err" ]; then
        echo "--- stderr of the driver (last 60 lines):" >&2
        tail -n 60 "$DT_DIR/err" | sed 's/^/    /' >&2
    fi
    if [ -s "$DT_DIR/out" ]; then
        echo "--- stdout:" >&2
        sed 's/^/    /' "$DT_DIR/out" >&2
    fi
    dt_table >&2
    exit 1
}

dt_cleanup() {
    if [ -n "$DT_PID" ]; then
        kill -KILL -- "-$DT_PID" 2>/dev/null
        wait "$DT_PID" 2>/dev/null
        DT_PID=""
    fi
    emulators_stop
    [ -n "${DT_DIR:-}" ] && rm -rf "$DT_DIR"
}

dt_init() {
    if [ ! -f "$DT_TOP/tests/emulators/aws_emulator.py" ] ||
        [ ! -f "$DT_TOP/tests/emulators/dblab_emulator.py" ]; then
        echo "skip: the emulators are not in this tree yet"
        exit 77
    fi
    for c in dblab-rds-refresh dblab-rds-config rds-snapshot-latest rds-clone-create \
        rds-clone-wait dblab-refresh rds-clone-delete rds-clone-gc; do
        [ -x "$DT_BIN/$c" ] || { echo "skip: $DT_BIN/$c not built"; exit 77; }
    done
    DT_DIR=$(mktemp -d "${TMPDIR:-/tmp}/drr-driver.XXXXXX") || exit 70
    trap dt_cleanup EXIT
    trap 'exit 130' INT TERM
    # shellcheck source=tests/lib/emulators.sh
    . "$DT_TOP/tests/lib/emulators.sh"
    # shellcheck disable=SC2086 # DT_EMULATOR_ARGS: words without spaces (e.g. --aws-seed FILE)
    emulators_start --time-scale 60 ${DT_EMULATOR_ARGS:-} || fail "the emulators did not start"
    export DBLAB_TOKEN=$DBLAB_EMULATOR_TOKEN
    # rds-clone-wait / -delete poll intervals scaled to the emulator's clock.
    export DBLAB_RDS_REFRESH_POLL_SCALE=0.05
    # The driver's default state directory (so "-config alone" is the whole CLI).
    export DRR_STATE_DIR=$DT_DIR/state
    unset DBLAB_RDS_REFRESH_CONFIG AIRFLOW_CTX_DAG_RUN_ID NOMAD_JOB_ID NOMAD_ALLOC_ID RD_JOB_EXECID
    dt_config
    dt_reset
}

# The config: the source production-db, DBLab at the emulator, fast polls.
dt_config() {
    cat >"$DT_DIR/config.yaml" <<EOF
source:
  type: ${DT_SOURCE_TYPE:-rds}
  identifier: ${DT_SOURCE_ID:-production-db}
  dbName: app
  username: dblab_user
clone:
  instanceClass: db.t4g.medium
  waitTimeout: ${DT_WAIT_TIMEOUT:-10m}
dblab:
  apiEndpoint: ${DBLAB_EMULATOR_URL}
  token: \${DBLAB_TOKEN}
  pollInterval: 1s
  timeout: ${DT_DBLAB_TIMEOUT:-5m}
  startTimeout: 30s
aws:
  region: us-east-1
  maxAttempts: ${DT_AWS_MAX_ATTEMPTS:-4}
EOF
    chmod 0600 "$DT_DIR/config.yaml"
}

aws_fault() { aws_emu_post faults "$1" >/dev/null || fail "cannot set AWS fault $1"; }
dblab_fault() { dblab_emu_post faults "$1" >/dev/null || fail "cannot set DBLab fault $1"; }
aws_durations() { aws_emu_post config "$1" >/dev/null || fail "cannot set AWS durations $1"; }
dblab_timing() { dblab_emu_post set "$1" >/dev/null || fail "cannot set DBLab timing $1"; }

dt_reset() {
    aws_emu_post reset >/dev/null || fail "cannot reset the AWS emulator"
    dblab_emu_post reset >/dev/null || fail "cannot reset the DBLab emulator"
    aws_durations "$DT_AWS_FAST"
    dblab_timing "$DT_DBLAB_FAST"
    rm -rf "$DT_DIR/state" "$DT_DIR/out" "$DT_DIR/err"
}

case_begin() {
    DT_CASE=$1
    # shellcheck disable=SC2034 # read by the test files that source this library
    DT_CASE_T0=$(date +%s.%N)
    echo "--- $1"
}

dt_secs() { # since
    awk -v a="$(date +%s.%N)" -v b="$1" 'BEGIN { printf "%.1f", a - b }'
}

dt_run() {
    "$DT_BIN/dblab-rds-refresh" -config "$DT_DIR/config.yaml" "$@" >"$DT_DIR/out" 2>"$DT_DIR/err"
    DT_RC=$?
}

# The driver in its own session/process group, SIGINT not ignored (a background
# job of a script would inherit SIGINT ignored).
dt_start() {
    rm -f "$DT_DIR/out" "$DT_DIR/err"
    setsid env --default-signal=INT "$DT_BIN/dblab-rds-refresh" -config "$DT_DIR/config.yaml" "$@" \
        >"$DT_DIR/out" 2>"$DT_DIR/err" &
    DT_PID=$!
}

dt_wait_log() { # RE [SECS]
    local i=0 max=$(( ${2:-30} * 20 ))
    until grep -Eq "$1" "$DT_DIR/err" 2>/dev/null; do
        i=$((i + 1))
        [ "$i" -gt "$max" ] && fail "the driver's log never matched /$1/"
        kill -0 "$DT_PID" 2>/dev/null || fail "the driver ended before its log matched /$1/"
        sleep 0.05
    done
}

dt_signal() {
    DT_T0=$(date +%s.%N)
    kill -s "$1" "$DT_PID" || fail "cannot signal the driver"
}

dt_finish() {
    wait "$DT_PID"
    DT_RC=$?
    DT_PID=""
    # shellcheck disable=SC2034 # read by the test files that source this library
    DT_STOP_SECS=$(dt_secs "$DT_T0")
}

dt_kill9() {
    kill -KILL -- "-$DT_PID" 2>/dev/null || fail "cannot SIGKILL the driver's group"
    wait "$DT_PID" 2>/dev/null
    DT_PID=""
}

expect_rc() {
    [ "$DT_RC" = "$1" ] || fail "exit code $DT_RC, expected $1"
}

# A field of the driver's output document (dotted path), via Python's json.
doc_get() {
    "$PY" - "$DT_DIR/out" "$1" <<'EOF'
import json, sys
lines = [l for l in open(sys.argv[1]).read().splitlines() if l.strip()]
if len(lines) != 1:
    sys.exit("stdout has %d lines, expected one JSON line" % len(lines))
v = json.loads(lines[0])
for k in sys.argv[2].split("."):
    if isinstance(v, dict) and k in v:
        v = v[k]
    elif isinstance(v, list) and k.isdigit() and int(k) < len(v):
        v = v[int(k)]
    else:
        print("<absent>"); sys.exit(0)
print(json.dumps(v) if isinstance(v, (dict, list, bool)) or v is None else v)
EOF
}

expect_doc() { # PATH VALUE
    local got
    got=$(doc_get "$1") || fail "stdout is not one JSON document"
    [ "$got" = "$2" ] || fail "$1 = $got, expected $2"
}

# After a scenario: let every requested delete finish (emulated time), then
#  - zero managed clones (instances or clusters named dblab-refresh-* with
#    ManagedBy=dblab-rds-refresh, or any dblab-refresh-* but the legacy one);
#  - the unmanaged resources are all there, available, and no call other than a
#    read ever named them;
#  - neither the token nor the AWS secret key shows in any output.
dt_check_clean() {
    aws_emu_post advance '{"seconds": 7200}' >/dev/null || fail "cannot advance the AWS clock"
    aws_emu_get state >"$DT_DIR/state.json" || fail "cannot read the AWS state"
    aws_emu_get calls >"$DT_DIR/calls.json" || fail "cannot read the AWS calls"
    "$PY" - "$DT_DIR/state.json" "$DT_DIR/calls.json" <<'EOF' || fail "the AWS emulator is not clean (above)"
import json, sys
state = json.load(open(sys.argv[1]))
calls = json.load(open(sys.argv[2]))["calls"]
UNMANAGED = {"production-db", "billing-db", "dblab-refresh-legacy",
             "production-aurora-writer", "production-aurora-reader-1"}
UNMANAGED_CLUSTERS = {"production-aurora"}
bad = []
def tags_of(rec):
    t = rec.get("TagList") or rec.get("tags") or []
    if isinstance(t, dict):
        return t
    return {x.get("Key"): x.get("Value") for x in t if isinstance(x, dict)}
for kind, coll, unmanaged in (("instance", state["instances"], UNMANAGED),
                              ("cluster", state["clusters"], UNMANAGED_CLUSTERS)):
    for key, rec in coll.items():
        ident = rec.get("DBInstanceIdentifier") or rec.get("DBClusterIdentifier") or key
        if ident in unmanaged:
            continue
        if ident.startswith("dblab-refresh-") or tags_of(rec).get("ManagedBy") == "dblab-rds-refresh":
            bad.append("%s %s left behind (status %s)" % (kind, ident,
                       rec.get("DBInstanceStatus") or rec.get("Status")))
    for ident in unmanaged:
        rec = coll.get(ident) or coll.get(ident.lower())
        if rec is None:
            bad.append("unmanaged %s %s is gone" % (kind, ident))
        elif (rec.get("DBInstanceStatus") or rec.get("Status")) != "available":
            bad.append("unmanaged %s %s is %s" % (kind, ident,
                       rec.get("DBInstanceStatus") or rec.get("Status")))
names = UNMANAGED | UNMANAGED_CLUSTERS
for c in calls:
    action = c.get("action") or ""
    if action.startswith(("Describe", "List")):
        continue
    params = json.dumps(c.get("params") or {})
    for n in names:
        for key in ("DBInstanceIdentifier", "DBClusterIdentifier", "ResourceName"):
            p = (c.get("params") or {}).get(key)
            if isinstance(p, str) and (p == n or p.endswith(":" + n)):
                bad.append("%s on unmanaged %s (status %s)" % (action, n, c.get("status")))
for b in bad:
    print("  " + b)
sys.exit(1 if bad else 0)
EOF
    local f
    # A sanitizer report from any command, in any path (make asan), even one
    # whose exit code the driver does not pass on (an interrupted step).
    for f in "$DT_DIR"/err*; do
        [ -f "$f" ] || continue
        if grep -Eq 'ERROR: (Address|Leak|Undefined)Sanitizer|runtime error:' "$f"; then
            grep -E -A5 'Sanitizer|runtime error:' "$f" | head -n 30 >&2
            fail "a sanitizer report in $f"
        fi
    done
    for f in "$DT_DIR/out" "$DT_DIR/err" "$DT_DIR"/state/*/*; do
        [ -f "$f" ] || continue
        if grep -qF -- "$DBLAB_TOKEN" "$f" || grep -qF -- "$AWS_SECRET_ACCESS_KEY" "$f"; then
            fail "a secret shows in $f"
        fi
    done
}

# The state directory of the source, and its files' modes.
dt_sdir() { echo "$DT_DIR/state/us-east-1.production-db"; }

dt_row() { # scenario expected got seconds
    DT_ROWS="$DT_ROWS$(printf '| %-52s | %-24s | %-34s | %6s |' "$1" "$2" "$3" "$4")
"
    echo "    ok: $3 (${4}s)"
}

dt_table() {
    [ -n "$DT_ROWS" ] || return 0
    printf '| %-52s | %-24s | %-34s | %6s |\n' scenario expected outcome "secs"
    printf '|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' $(seq 54))" "$(printf -- '-%.0s' $(seq 26))" \
        "$(printf -- '-%.0s' $(seq 36))" "$(printf -- '-%.0s' $(seq 8))"
    printf '%s' "$DT_ROWS"
    echo "total: $(dt_secs "$DT_FILE_T0")s"
    if [ -n "${DRR_SCENARIO_TABLE:-}" ]; then
        printf '%s' "$DT_ROWS" >>"$DRR_SCENARIO_TABLE"
    fi
}
