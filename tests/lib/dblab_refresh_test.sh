# Helpers of the dblab-refresh integration tests (tests/integration/test_dblab_*).
# Sourced by bash tests run from the top of the tree with DRR_BIN set.
#
#   drt_init                      temp dir, token, password, cleanup trap
#   drt_emu_start [ARGS...]       a DBLab emulator of its own (extra args passed on)
#   drt_config [YAML_LINES...]    writes $DRT_DIR/config.yaml (extra dblab: lines appended)
#   drt_doc [instance|cluster]    writes $DRT_DIR/in.json, a run document with endpoint
#   drt_run [ARGS...]             runs dblab-refresh; sets DRT_RC, $DRT_DIR/out, $DRT_DIR/err
#   drt_fault JSON / drt_state    the emulator's control endpoints
#   drt_wait_up                   waits until the emulator answers again
# DRT_VERBOSE=1 shows every run's stderr.
#   expect_rc N, expect_err RE, expect_no_out, expect_doc   assertions (exit 1 on failure)
#
# The token and the password are random per run and passed through the
# environment (never argv); drt_run fails the test if either shows up in any output.

set -u

DRT_TOP=${DRR_TOP:-$(pwd)}
DRT_BIN=${DRR_BIN:-$DRT_TOP/bin}
PY=/usr/bin/python3
DRT_PIDS=""
DRT_CASE=""

drt_init() {
    DRT_DIR=$(mktemp -d "${TMPDIR:-/tmp}/drt.XXXXXX") || exit 70
    DRT_TOKEN="tok-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
    DRT_PASSWORD="pw-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
    export DRT_TOKEN DRT_PASSWORD
    trap drt_cleanup EXIT
    trap 'exit 130' INT TERM
}

drt_cleanup() {
    for p in $DRT_PIDS; do
        kill "$p" 2>/dev/null
    done
    for p in $DRT_PIDS; do
        wait "$p" 2>/dev/null
    done
    DRT_PIDS=""
    [ -n "${DRT_DIR:-}" ] && rm -rf "$DRT_DIR"
}

fail() {
    echo "FAIL${DRT_CASE:+ [$DRT_CASE]}: $*" >&2
    if [ -f "$DRT_DIR/err" ]; then
        echo "--- stderr of dblab-refresh:" >&2
        sed 's/^/    /' "$DRT_DIR/err" >&2
    fi
    if [ -s "$DRT_DIR/out" ]; then
        echo "--- stdout:" >&2
        sed 's/^/    /' "$DRT_DIR/out" >&2
    fi
    exit 1
}

case_begin() {
    DRT_CASE=$1
    echo "--- $1"
}

# Starts a DBLab emulator; sets DRT_URL (and DRT_EMU_PID). Args go to the emulator.
drt_emu_start() {
    local scheme=http
    case " $* " in *" --tls-cert "*) scheme=https ;; esac
    rm -f "$DRT_DIR/emu.port"
    DBLAB_EMULATOR_TOKEN=${DRT_EMU_TOKEN-$DRT_TOKEN} \
        "$PY" "$DRT_TOP/tests/emulators/dblab_emulator.py" --port 0 \
        --port-file "$DRT_DIR/emu.port" "$@" >"$DRT_DIR/emu.log" 2>&1 &
    DRT_EMU_PID=$!
    DRT_PIDS="$DRT_PIDS $DRT_EMU_PID"
    local i=0
    while [ ! -s "$DRT_DIR/emu.port" ]; do
        i=$((i + 1))
        if [ $i -gt 100 ] || ! kill -0 "$DRT_EMU_PID" 2>/dev/null; then
            cat "$DRT_DIR/emu.log" >&2
            fail "the DBLab emulator did not start"
        fi
        sleep 0.05
    done
    DRT_URL="$scheme://127.0.0.1:$(cat "$DRT_DIR/emu.port")"
}

drt_wait_up() {
    local i=0
    until drt_ctl GET /_emulator/faults >/dev/null 2>&1; do
        i=$((i + 1))
        [ $i -gt 200 ] && fail "the emulator did not come back"
        sleep 0.05
    done
}

drt_emu_stop() {
    kill "$DRT_EMU_PID" 2>/dev/null
    wait "$DRT_EMU_PID" 2>/dev/null
}

# The emulator's control API (plain curl: the control endpoints need no token).
drt_ctl() { # METHOD PATH [JSON]
    local k=""
    case "$DRT_URL" in https:*) k=-k ;; esac
    if [ $# -ge 3 ]; then
        curl -sS $k -X "$1" -H 'Content-Type: application/json' --data "$3" "$DRT_URL$2"
    else
        curl -sS $k -X "$1" "$DRT_URL$2"
    fi
}
drt_fault() { drt_ctl POST /_emulator/faults "$1" >/dev/null || fail "cannot set fault $1"; }
drt_state() { drt_ctl GET /_emulator/state; }
drt_calls() { drt_ctl GET /_emulator/calls; }
# How many calls the engine got for METHOD PATH.
drt_count_calls() { # METHOD PATH
    drt_calls >"$DRT_DIR/calls.json" &&
        drt_json "$DRT_DIR/calls.json" "sum(1 for c in d if c['method']=='$1' and c['path']=='$2')"
}
drt_reset() { drt_ctl POST /_emulator/reset '{}' >/dev/null || fail "cannot reset the emulator"; }

# Writes the config; each argument is one more line of the dblab: section.
drt_config() {
    {
        cat <<EOF
source:
  type: rds
  identifier: production-db
  dbName: app
  username: dblab_user
  password: \${DRT_PASSWORD}
clone:
  instanceClass: db.r6g.2xlarge
  enableIAMAuth: ${DRT_IAM:-false}
dblab:
  apiEndpoint: ${DRT_URL}
  token: \${DRT_TOKEN}
  pollInterval: 1s
  timeout: ${DRT_TIMEOUT:-30s}
  startTimeout: ${DRT_START_TIMEOUT:-10s}
EOF
        for line in "$@"; do
            printf '  %s\n' "$line"
        done
        cat <<EOF
aws:
  region: us-east-1
EOF
    } >"$DRT_DIR/config.yaml"
}

DRT_CLONE=dblab-refresh-20261126-020000
DRT_HOST=$DRT_CLONE.c9akciq32xyz.us-east-1.rds.amazonaws.com

# A run document as rds-clone-wait writes it.
drt_doc() {
    local kind=${1:-instance}
    if [ "$kind" = cluster ]; then
        cat >"$DRT_DIR/in.json" <<EOF
{"apiVersion":"dblab-rds-refresh/v1","runId":"it-1","source":{"type":"aurora-cluster","identifier":"production-aurora","region":"us-east-1"},"snapshot":{"id":"rds:production-aurora-2026-11-25-03-00","arn":"arn:aws:rds:us-east-1:123456789012:cluster-snapshot:rds:production-aurora-2026-11-25-03-00","type":"automated","createTime":"2026-11-25T03:00:00Z","engine":"aurora-postgresql","engineVersion":"16.4","encrypted":true,"kmsKeyId":"arn:aws:kms:us-east-1:123456789012:key/abc","port":5432,"allocatedStorage":100,"kind":"cluster"},"clone":{"id":"$DRT_CLONE","kind":"cluster","instances":["$DRT_CLONE-writer"],"writerInstanceId":"$DRT_CLONE-writer","arn":"arn:aws:rds:us-east-1:123456789012:cluster:$DRT_CLONE","createTime":"2026-11-26T02:00:00Z","deleteAfter":"2026-11-28T02:00:00Z","instanceClass":"db.r6g.2xlarge","adopted":false},"endpoint":{"host":"$DRT_CLONE.cluster-c9akciq32xyz.us-east-1.rds.amazonaws.com","port":5432,"instanceId":"$DRT_CLONE-writer"}}
EOF
    else
        cat >"$DRT_DIR/in.json" <<EOF
{"apiVersion":"dblab-rds-refresh/v1","runId":"it-1","source":{"type":"rds","identifier":"production-db","region":"us-east-1"},"snapshot":{"id":"rds:production-db-2026-11-25-03-00","arn":"arn:aws:rds:us-east-1:123456789012:snapshot:rds:production-db-2026-11-25-03-00","type":"automated","createTime":"2026-11-25T03:00:00Z","engine":"postgres","engineVersion":"16.4","encrypted":true,"kmsKeyId":"arn:aws:kms:us-east-1:123456789012:key/abc","port":5432,"allocatedStorage":100,"kind":"instance"},"clone":{"id":"$DRT_CLONE","kind":"instance","instances":["$DRT_CLONE"],"arn":"arn:aws:rds:us-east-1:123456789012:db:$DRT_CLONE","createTime":"2026-11-26T02:00:00Z","deleteAfter":"2026-11-28T02:00:00Z","instanceClass":"db.r6g.2xlarge","adopted":false},"endpoint":{"host":"$DRT_HOST","port":5432,"instanceId":"$DRT_CLONE"}}
EOF
    fi
}

# Runs dblab-refresh on in.json (or -in given in args). Never fails by itself.
drt_run() {
    DRT_RC=0
    "$DRT_BIN/dblab-refresh" -config "$DRT_DIR/config.yaml" "$@" <"$DRT_DIR/in.json" \
        >"$DRT_DIR/out" 2>"$DRT_DIR/err" || DRT_RC=$?
    drt_no_secret "$DRT_DIR/out" "$DRT_DIR/err"
    if [ -n "${DRT_VERBOSE:-}" ]; then sed 's/^/    | /' "$DRT_DIR/err"; echo "    rc=$DRT_RC"; fi
}

# The same in the background: drt_run_bg [ARGS...]; ...; drt_run_wait
drt_run_bg() {
    # Truncate before the job starts: on a loaded machine the background redirect
    # happens late, and drt_wait_log would match the previous case's stale log.
    : >"$DRT_DIR/out"
    : >"$DRT_DIR/err"
    "$DRT_BIN/dblab-refresh" -config "$DRT_DIR/config.yaml" "$@" <"$DRT_DIR/in.json" \
        >"$DRT_DIR/out" 2>"$DRT_DIR/err" &
    DRT_RUN_PID=$!
}
drt_run_wait() {
    DRT_RC=0
    wait "$DRT_RUN_PID" || DRT_RC=$?
    drt_no_secret "$DRT_DIR/out" "$DRT_DIR/err"
    if [ -n "${DRT_VERBOSE:-}" ]; then sed 's/^/    | /' "$DRT_DIR/err"; echo "    rc=$DRT_RC"; fi
}
# Waits (up to 10 s) until the command's stderr matches the regex.
drt_wait_log() {
    local i=0
    until grep -E -q -- "$1" "$DRT_DIR/err" 2>/dev/null; do
        i=$((i + 1))
        [ $i -gt 200 ] && fail "the log never matched: $1"
        sleep 0.05
    done
}

drt_no_secret() {
    local f
    for f in "$@"; do
        if grep -q -e "$DRT_TOKEN" -e "$DRT_PASSWORD" "$f"; then
            fail "a secret appears in $(basename "$f")"
        fi
    done
}

expect_rc() {
    [ "$DRT_RC" = "$1" ] || fail "exit $DRT_RC, expected $1"
}

# An ERROR line matching the extended regex; error messages are one line.
expect_err() {
    grep -E -q -- "$1" "$DRT_DIR/err" || fail "stderr does not match: $1"
}

expect_no_err() {
    if grep -E -q -- "$1" "$DRT_DIR/err"; then fail "stderr matches: $1"; fi
}

expect_no_out() {
    [ ! -s "$DRT_DIR/out" ] || fail "stdout is not empty on failure"
}

# stdout: exactly one line, valid against the run document schema.
expect_doc() {
    [ "$(wc -l <"$DRT_DIR/out")" -eq 1 ] || fail "stdout is not exactly one line"
    if [ ! -f "$DRT_TOP/tests/lib/validate_rundoc.py" ]; then
        # Until found's validator lands: at least one JSON object with the apiVersion.
        "$PY" -c 'import json,sys; d=json.load(sys.stdin); assert d["apiVersion"]=="dblab-rds-refresh/v1"' \
            <"$DRT_DIR/out" || fail "the output is not a run document"
        echo "note: tests/lib/validate_rundoc.py missing, checked JSON only" >&2
        return
    fi
    "$PY" "$DRT_TOP/tests/lib/validate_rundoc.py" <"$DRT_DIR/out" >"$DRT_DIR/validate" 2>&1 ||
        { cat "$DRT_DIR/validate" >&2; fail "the output does not validate against the schema"; }
}

# jq-less JSON field read: drt_json FILE PYTHON_EXPR (d is the document)
drt_json() {
    "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}
