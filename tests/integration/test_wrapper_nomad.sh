#!/bin/bash
# The Nomad job file, parsed by a real HCL2 parser and run as a Nomad client
# would run its task, against the local emulators.
#
# 1. tests/lib/hcl2json.js (@cdktf/hcl2json from npm, HashiCorp's HCL parser)
#    parses wrappers/nomad/dblab-rds-refresh.nomad.hcl; tests/wrappers/nomad_task.py
#    asserts the periodic block, batch type, driver, kill_signal/kill_timeout,
#    restart/reschedule, the secrets template and the resources. Broken variants
#    of the file must be rejected (the checks can fail).
# 2. The task runs with the environment Nomad gives it and nothing else: the
#    NOMAD_* runtime variables, the env block, and the template rendered from
#    the test's Nomad Variable (a token with #, quotes, a backslash and a $) into
#    secrets/dblab.env and read back as environment; the node provides instance
#    credentials (IMDS, here the AWS emulator's). The args come from the job
#    file (var.* defaults or the test's values, the state volume mapped to a
#    temp dir). A full run succeeds, prints its final JSON line, leaves no
#    managed clone, and writes its metrics into the state volume.
# 3. SIGTERM mid-run, as Nomad's kill_signal on `nomad job stop`: the driver
#    exits non-zero within kill_timeout and the clone is deleted (or deleting).
# The token never appears in any output. Exit 77 when node or the npm module is
# missing (`make deps`).
set -u

TOP=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${DRR_BIN:-$TOP/bin}
JOB=$TOP/wrappers/nomad/dblab-rds-refresh.nomad.hcl
PY=/usr/bin/python3
TASK="$PY $TOP/tests/wrappers/nomad_task.py"

if ! command -v node >/dev/null 2>&1; then
    echo "SKIP: node is not installed (make deps)" >&2
    exit 77
fi
if [ ! -d "$TOP/tests/node/node_modules/@cdktf/hcl2json" ]; then
    echo "SKIP: @cdktf/hcl2json is not installed in tests/node (make deps, or cd tests/node && npm ci)" >&2
    exit 77
fi
for c in dblab-rds-refresh rds-snapshot-latest rds-clone-create rds-clone-wait dblab-refresh \
    rds-clone-delete rds-clone-gc dblab-rds-config; do
    [ -x "$BIN/$c" ] || { echo "FAIL: missing $BIN/$c (run make)" >&2; exit 1; }
done

# shellcheck source=tests/lib/emulators.sh disable=SC1091
. "$TOP/tests/lib/emulators.sh"
T=$(mktemp -d "${TMPDIR:-/tmp}/drr-nomad.XXXXXX")
TASK_PID=
cleanup() {
    if [ -n "$TASK_PID" ] && kill -0 "$TASK_PID" 2>/dev/null; then
        kill -KILL "$TASK_PID" 2>/dev/null
        wait "$TASK_PID" 2>/dev/null
    fi
    emulators_stop
    rm -rf "$T"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*" >&2
    exit 1
}
START=$(date +%s)

# ---------------------------------------------------------------- 1. the job file

# Each variant breaks one requirement; the checks must reject every one. (All
# variants are parsed by one node process: loading the parser takes seconds.)
VARIANTS=()
variant() { # description sed-expression
    local f="$T/variant-${#VARIANTS[@]}.hcl"
    sed -e "$2" "$JOB" >"$f"
    cmp -s "$JOB" "$f" && fail "variant '$1' did not change the file"
    VARIANTS+=("$1")
}
variant "overlapping runs" 's/prohibit_overlap = true/prohibit_overlap = false/'
variant "kill_timeout 60s (cut to max_kill_timeout)" 's/kill_timeout = "30s"/kill_timeout = "60s"/'
variant "kill_timeout 25s (no margin over the driver's budget)" 's/kill_timeout = "30s"/kill_timeout = "25s"/'
variant "a misspelled attribute" 's/kill_timeout = "30s"/kill_timeout = "30s"\n      kill_timout = "30s"/'
variant "an attribute of another block" 's/prohibit_overlap = true/prohibit_overlap = true\n    attempts = 0/'
variant "an unknown logs field" 's/max_file_size = 10/max_file_size_mb = 10/'
variant "an exec config without command" 's|command = "/usr/local/bin/dblab-rds-refresh"|cmd = "/usr/local/bin/dblab-rds-refresh"|'
variant "a block as an attribute" 's/^    count = 1/    count { value = 1 }/'
variant "kill_signal SIGINT" 's/kill_signal  = "SIGTERM"/kill_signal  = "SIGINT"/'
variant "restarts" 's/attempts = 0/attempts = 2/'
variant "a token in args" 's|"-log-format", "json",|"-log-format", "json", "-token", "x",|'
variant "an unquoted token" 's/ | toJSON//'
variant "the template outside secrets/" 's|destination = "secrets/dblab.env"|destination = "local/dblab.env"|'
variant "a service job" 's/type        = "batch"/type        = "service"/'
variant "invalid HCL" 's/^job "dblab-rds-refresh" {/job "dblab-rds-refresh" {{/'
cp "$JOB" "$T/job.hcl"
(cd "$T" && node "$TOP/tests/lib/hcl2json.js" job.hcl variant-*.hcl >"$T/variants.json") || fail "hcl2json failed"
$PY -c 'import json, sys
d = json.load(open(sys.argv[1]))["job.hcl"]
sys.exit("the job file is not valid HCL2: " + d["error"] if "error" in d else json.dump(d, open(sys.argv[2], "w")))' \
    "$T/variants.json" "$T/job.json" || fail "parse"
$TASK check "$T/job.json" >/dev/null || fail "job settings (above)"
for i in "${!VARIANTS[@]}"; do
    if $PY -c 'import json, sys
d = json.load(open(sys.argv[1]))[sys.argv[2]]
sys.exit(1 if "error" in d else json.dump(d, open(sys.argv[3], "w")))' \
        "$T/variants.json" "variant-$i.hcl" "$T/variant.json" &&
        $TASK check "$T/variant.json" >/dev/null 2>&1; then
        fail "the checks accept a job with ${VARIANTS[$i]}"
    fi
done
echo "ok: job file settings ($(($(date +%s) - START))s)"

# ---------------------------------------------------------------- 2. a full run

# shellcheck disable=SC2016 # a literal $: the token must arrive unexpanded
TOKEN='nomad"tok#en \ $HOME'"-$$"
emulators_start --time-scale 600 --token "$TOKEN" || fail "the emulators did not start"
[ "$DBLAB_EMULATOR_TOKEN" = "$TOKEN" ] || fail "the emulator did not take the token"
cat >"$T/config.yaml" <<EOF
source:
  type: rds
  identifier: production-db
clone:
  instanceClass: db.t3.medium
  waitTimeout: 10m
dblab:
  apiEndpoint: $DBLAB_EMULATOR_URL
  token: \${DBLAB_TOKEN}
  pollInterval: 1s
  timeout: 10m
  startTimeout: 1m
aws:
  region: us-east-1
  endpoint: $AWS_EMULATOR_URL
EOF
# `nomad var put nomad/jobs/dblab-rds-refresh dblab_token=...`, as a file (never argv).
(umask 077 && DRR_T=$TOKEN $PY -c 'import json, os, sys
json.dump({"nomad/jobs/dblab-rds-refresh": {"dblab_token": os.environ["DRR_T"]}}, sys.stdout)' \
    >"$T/variables.json")
mkdir -p "$T/state"

# prepare NAME: renders the task into $T/NAME; sets KILL_TIMEOUT, ENVV, ARGV.
prepare() {
    mkdir -p "$T/$1"
    KILL_TIMEOUT=$($TASK render "$T/job.json" "$T/$1" --variables "$T/variables.json" --bin "$BIN" \
        --var "config_path=$T/config.yaml" --volume "state=$T/state" \
        --env "AWS_EC2_METADATA_SERVICE_ENDPOINT=$AWS_EMULATOR_URL" --env "AWS_ENDPOINT_URL=$AWS_EMULATOR_URL") || fail "cannot render the task"
    mapfile -d '' ENVV <"$T/$1/env"
    mapfile -d '' ARGV <"$T/$1/argv"
    # The template really rendered the token (JSON-quoted) and the env has it back unchanged.
    grep -q '^DBLAB_TOKEN="' "$T/$1/alloc/refresh/secrets/dblab.env" || fail "template not rendered"
    printf '%s\n' "${ENVV[@]}" | grep -qxF "DBLAB_TOKEN=$TOKEN" || fail "the token did not survive the env file"
    printf '%s\n' "${ARGV[@]}" | grep -qF "$TOKEN" && fail "the token is in the task's argv"
    return 0
}

emu_py() { # python code using wraptest and AWS_URL
    AWS_URL=$AWS_EMULATOR_URL $PY -c "import sys; sys.path.insert(0, '$TOP/tests/wrappers'); import wraptest, os
aws = os.environ['AWS_URL']
$1"
}

no_secret() { # files...
    for f in "$@"; do
        grep -qF "$TOKEN" "$f" && fail "the DBLab token appeared in $(basename "$f")"
    done
    return 0
}

prepare run1
t0=$(date +%s)
(cd "$T/run1/alloc/refresh" && exec env -i "${ENVV[@]}" "${ARGV[@]}") >"$T/run1.out" 2>"$T/run1.err"
rc=$?
no_secret "$T/run1.out" "$T/run1.err"
if [ "$rc" != 0 ]; then
    tail -n 40 "$T/run1.err" >&2
    fail "the task exited $rc"
fi
tail -n 1 "$T/run1.out" >"$T/final.json"
$PY "$TOP/tests/lib/validate_rundoc.py" <"$T/final.json" >/dev/null || fail "the final line is not a valid run document"
$PY - "$T/final.json" <<'EOF' || fail "final document"
import json, sys
d = json.loads(open(sys.argv[1]).read())
o = d.get("outcome", {})
assert o.get("status") == "success" and o.get("exitCode") == 0, o
assert o.get("cloneDeleted") is True, o
for s in ("snapshot", "clone", "endpoint", "refresh", "deleted"):
    assert s in d, s
assert d["deleted"]["id"] == d["clone"]["id"] == o["cloneId"]
EOF
grep -q '^dblab_rds_refresh_last_run_success{source="production-db"} 1$' "$T/state/dblab_rds_refresh.prom" ||
    fail "no success metric in the state volume"
[ -z "$(find "$T/state" -name run.state)" ] || fail "a run state was left behind after success"
left=$(emu_py 'print(" ".join(wraptest.managed_clones(aws)))')
[ -z "$left" ] || fail "managed clones left after a successful run: $left"
echo "ok: a full run with Nomad's environment ($(($(date +%s) - t0))s)"

# ---------------------------------------------------------------- 3. SIGTERM mid-run

prepare run2
(cd "$T/run2/alloc/refresh" && exec env -i "${ENVV[@]}" "${ARGV[@]}") >"$T/run2.out" 2>"$T/run2.err" &
TASK_PID=$!
# Wait for the clone to exist (the run is then in its wait or refresh step).
clone=$(emu_py '
import time
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    now = [n for n, s in wraptest._managed_clones_now(aws) if s != "deleting"]
    if now:
        print(now[0]); break
    time.sleep(0.1)')
[ -n "$clone" ] || fail "no clone appeared during the run"
kill -0 "$TASK_PID" 2>/dev/null || fail "the run ended before the signal"
kill -TERM "$TASK_PID"
t0=$(date +%s)
while kill -0 "$TASK_PID" 2>/dev/null; do
    if [ $(($(date +%s) - t0)) -gt "$KILL_TIMEOUT" ]; then
        kill -KILL "$TASK_PID" # what Nomad does after kill_timeout
        fail "the driver was still running $KILL_TIMEOUT s after SIGTERM"
    fi
    sleep 0.1
done
wait "$TASK_PID"
rc=$?
TASK_PID=
took=$(($(date +%s) - t0))
no_secret "$T/run2.out" "$T/run2.err"
[ "$rc" != 0 ] || fail "the interrupted run exited 0"
tail -n 1 "$T/run2.out" >"$T/final2.json"
$PY - "$T/final2.json" "$clone" <<'EOF' || { tail -n 30 "$T/run2.err" >&2; fail "interrupted run's document"; }
import json, sys
d = json.loads(open(sys.argv[1]).read())
o = d.get("outcome", {})
assert o.get("status") == "interrupted" and o.get("signal") == "SIGTERM", o
assert o.get("cloneId") == sys.argv[2] and o.get("cloneDeleted") is True, o
EOF
left=$(emu_py 'print(" ".join(n for n, s in wraptest._managed_clones_now(aws) if s != "deleting"))')
[ -z "$left" ] || fail "clone not deleted after SIGTERM: $left"
left=$(emu_py 'print(" ".join(wraptest.managed_clones(aws)))')
[ -z "$left" ] || fail "managed clones left after SIGTERM: $left"
echo "ok: SIGTERM mid-run: exit $rc after ${took}s (kill_timeout ${KILL_TIMEOUT}s), clone $clone deleted"
echo "ok: nomad wrapper ($(($(date +%s) - START))s)"
