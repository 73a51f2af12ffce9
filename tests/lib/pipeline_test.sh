# Helpers of the end-to-end pipeline tests (tests/integration/test_pipeline_*):
# both emulators (tests/lib/emulators.sh), the real commands, every document
# validated, no secret in any output.
#
#   pl_init [run-emulators args]   emulators up, $PL_DIR, cleanup trap
#   pl_config SOURCE_YAML CLONE_YAML [DBLAB_YAML]  writes $PL_DIR/config.yaml
#   pl_step N CMD [ARGS]           runs CMD < $PL_DIR/(N-1).json > N.json, must exit 0
#   pl_field N PYEXPR              a field of document N (d = the document)
#   pl_aws_state / pl_dblab_state  the emulators' state, as JSON files' paths
# shellcheck shell=bash

set -u
PL_TOP=${DRR_TOP:-$(pwd)}
PL_BIN=${DRR_BIN:-$PL_TOP/bin}
PY=/usr/bin/python3
# shellcheck source=tests/lib/emulators.sh
. "$PL_TOP/tests/lib/emulators.sh"

pl_fail() {
    echo "FAIL: $*" >&2
    if [ -n "${PL_LAST_ERR:-}" ] && [ -f "$PL_LAST_ERR" ]; then
        echo "--- stderr of the last step:" >&2
        sed 's/^/    /' "$PL_LAST_ERR" >&2
    fi
    exit 1
}

pl_cleanup() {
    emulators_stop
    [ -n "${PL_DIR:-}" ] && rm -rf "$PL_DIR"
}

pl_init() {
    if [ ! -f "$PL_TOP/tests/emulators/aws_emulator.py" ]; then
        echo "SKIP: the AWS emulator is not there yet"
        exit 77
    fi
    PL_DIR=$(mktemp -d "${TMPDIR:-/tmp}/pipeline.XXXXXX") || exit 70
    trap pl_cleanup EXIT
    trap 'exit 130' INT TERM
    emulators_start "$@" || pl_fail "the emulators did not start"
    # The config says token: ${DBLAB_TOKEN}; the value never reaches argv.
    export DBLAB_TOKEN=$DBLAB_EMULATOR_TOKEN
    # rds-clone-wait's adaptive polling, scaled like the emulators' clocks
    export DBLAB_RDS_REFRESH_POLL_SCALE=${DBLAB_RDS_REFRESH_POLL_SCALE:-0.05}
}

# pl_config "SOURCE LINES" "CLONE LINES" ["DBLAB LINES"]: each a \n-separated
# list of "key: value" lines for that section.
pl_config() {
    {
        echo "source:"
        printf '%s\n' "$1" | sed 's/^/  /'
        echo "clone:"
        printf '%s\n' "$2" | sed 's/^/  /'
        cat <<EOF
dblab:
  apiEndpoint: $DBLAB_EMULATOR_URL
  token: \${DBLAB_TOKEN}
  pollInterval: 1s
  timeout: 2m
  startTimeout: 30s
EOF
        [ -n "${3:-}" ] && printf '%s\n' "$3" | sed 's/^/  /'
        cat <<EOF
aws:
  region: us-east-1
  endpoint: $AWS_EMULATOR_URL
EOF
    } >"$PL_DIR/config.yaml"
}

# pl_step N CMD [ARGS...]: document N-1 in (none for N = 1), document N out.
pl_step() {
    local n=$1 cmd=$2
    shift 2
    local in=/dev/null
    [ "$n" -gt 1 ] && in="$PL_DIR/$((n - 1)).json"
    PL_LAST_ERR="$PL_DIR/$n.err"
    local rc=0
    "$PL_BIN/$cmd" -config "$PL_DIR/config.yaml" "$@" <"$in" >"$PL_DIR/$n.json" \
        2>"$PL_LAST_ERR" || rc=$?
    pl_no_secret "$PL_DIR/$n.json" "$PL_LAST_ERR"
    [ "$rc" -eq 0 ] || pl_fail "$cmd exited $rc"
    pl_valid "$PL_DIR/$n.json"
}

# One line, valid against the run document schema.
pl_valid() {
    [ "$(wc -l <"$1")" -eq 1 ] || pl_fail "$(basename "$1"): not exactly one line"
    "$PY" "$PL_TOP/tests/lib/validate_rundoc.py" <"$1" >"$PL_DIR/validate.out" 2>&1 ||
        { cat "$PL_DIR/validate.out" >&2; pl_fail "$(basename "$1") does not validate"; }
}

pl_no_secret() {
    local f
    for f in "$@"; do
        if grep -q -F -e "$DBLAB_EMULATOR_TOKEN" -e "$AWS_SECRET_ACCESS_KEY" "$f"; then
            pl_fail "a secret appears in $(basename "$f")"
        fi
    done
}

pl_field() { # N PYEXPR
    "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
        "$PL_DIR/$1.json" "$2"
}

pl_aws_state() { aws_emu_get state >"$PL_DIR/aws-state.json" && echo "$PL_DIR/aws-state.json"; }
pl_dblab_state() { dblab_emu_get state >"$PL_DIR/dblab-state.json" && echo "$PL_DIR/dblab-state.json"; }
pl_aws_calls() { aws_emu_get calls >"$PL_DIR/aws-calls.json" && echo "$PL_DIR/aws-calls.json"; }

# pl_json FILE PYEXPR
pl_json() {
    "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# Production and the unrelated instances were only ever read: no call other
# than Describe*/ListTagsForResource names them, and the restore only reads
# the snapshot. Args: the identifiers that must be untouched.
pl_untouched() {
    local calls
    calls=$(pl_aws_calls) || pl_fail "cannot read the AWS calls"
    "$PY" - "$calls" "$@" <<'EOF' || pl_fail "a source or unrelated resource was written to"
import json, sys
calls = json.load(open(sys.argv[1]))["calls"]
protected = set(sys.argv[2:])
write_keys = ("DBInstanceIdentifier", "DBClusterIdentifier", "ResourceName")
bad = []
for c in calls:
    action = c.get("action") or ""
    if action.startswith("Describe") or action.startswith("List"):
        continue
    params = c.get("params") or {}
    for k in write_keys:
        v = str(params.get(k, ""))
        if any(v == p or v.endswith(":" + p) for p in protected):
            bad.append((action, k, v))
if bad:
    print("writes to protected resources:", bad, file=sys.stderr)
    sys.exit(1)
EOF
}
