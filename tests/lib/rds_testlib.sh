# shellcheck shell=bash
# Shared by tests/integration/test_rds_*: the AWS emulator (through emulators.sh),
# a configuration for the commands, and the checks every test makes.
#
#   . tests/lib/rds_testlib.sh
#   rds_start [rds|aurora-cluster] [extra run-emulators args]   # sets $T (temp dir), $CFG
#   rds_config rds|aurora-cluster [YAML lines appended under clone:/source: via sed]
#   run NAME CMD ARGS...          # runs $DRR_BIN/CMD; stdout in $T/NAME.out, stderr
#                                 # in $T/NAME.err, exit status in $RC
#   expect_rc N                   # the last run's exit status must be N
#   validate NAME                 # $T/NAME.out is a valid run document
#   jget NAME EXPR                # jq -r EXPR on $T/NAME.out
#   check_calls                   # every request passed the emulator's signature check
#                                 # and model validation; no unmanaged resource was
#                                 # ever the target of a changing call; they still exist
#   fail MESSAGE                  # prints and exits 1
set -u

RDS_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
: "${DRR_BIN:=$RDS_TOP/bin}"
# shellcheck source=tests/lib/emulators.sh
. "$RDS_TOP/tests/lib/emulators.sh"

# The emulator's clock runs 600 times faster (a 13-minute restore takes 1.3 s) and
# the commands' poll intervals and grace periods are scaled to match.
RDS_TIME_SCALE=${RDS_TIME_SCALE:-600}
export DBLAB_RDS_REFRESH_POLL_SCALE=${DBLAB_RDS_REFRESH_POLL_SCALE:-0.01}
# Unmanaged resources of the default fixture: never the target of a change.
RDS_UNMANAGED="production-db billing-db dblab-refresh-legacy production-aurora production-aurora-writer production-aurora-reader-1"

T=""
CFG=""
RC=0

fail() {
    echo "FAIL: $*" >&2
    if [ -n "$T" ]; then
        for f in "$T"/*.err; do
            [ -f "$f" ] || continue
            echo "--- $(basename "$f")" >&2
            tail -n 15 "$f" >&2
        done
    fi
    exit 1
}

rds_cleanup() {
    emulators_stop
    [ -n "$T" ] && rm -rf "$T"
    return 0
}

rds_start() {
    local type=${1:-rds}
    shift || true
    if [ ! -f "$RDS_TOP/tests/emulators/aws_emulator.py" ]; then
        echo "skip: the AWS emulator (tests/emulators/aws_emulator.py) is not there"
        exit 77
    fi
    T=$(mktemp -d "${TMPDIR:-/tmp}/test_rds.XXXXXX") || exit 1
    trap rds_cleanup EXIT
    trap 'exit 130' INT TERM
    emulators_start --time-scale "$RDS_TIME_SCALE" "$@" || fail "emulators did not start"
    # Only the emulator: no profile, no IMDS, no real endpoint.
    export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
    unset AWS_PROFILE AWS_SESSION_TOKEN AIRFLOW_CTX_DAG_RUN_ID NOMAD_JOB_ID NOMAD_ALLOC_ID \
        RD_JOB_EXECID DBLAB_RDS_REFRESH_CONFIG AWS_ENDPOINT_URL_RDS
    export DBLAB_TOKEN=test-dblab-token
    rds_config "$type"
}

# rds_config TYPE [KEY: VALUE lines for source:] [-- lines for clone:]
rds_config() {
    local type=$1
    shift
    local id=production-db pg=dblab-clone-postgres16
    [ "$type" = aurora-cluster ] && id=production-aurora
    local source_extra="" clone_extra="" where=source
    for line in "$@"; do
        if [ "$line" = "--" ]; then where=clone; continue; fi
        if [ "$where" = source ]; then source_extra="$source_extra
  $line"; else clone_extra="$clone_extra
  $line"; fi
    done
    CFG="$T/config.yaml"
    cat >"$CFG" <<EOF
source:
  type: $type
  identifier: $id$source_extra
clone:
  instanceClass: db.t3.medium
  subnetGroup: dblab-clones
  securityGroups:
    - sg-0a1b2c3d4e5f60718
  publiclyAccessible: false
  enableIAMAuth: true
  tags:
    team: data-platform$clone_extra
dblab:
  apiEndpoint: ${DBLAB_EMULATOR_URL:-http://127.0.0.1:9}
  token: \${DBLAB_TOKEN}
aws:
  region: us-east-1
  endpoint: $AWS_EMULATOR_URL
  maxAttempts: 6
EOF
    if [ "$type" = rds ]; then
        sed -i "s/^  tags:/  parameterGroup: $pg\n  tags:/" "$CFG"
    fi
}

# run NAME CMD [ARGS...] [< input]
run() {
    local name=$1 cmd=$2
    shift 2
    set +e
    "$DRR_BIN/$cmd" -config "$CFG" "$@" >"$T/$name.out" 2>"$T/$name.err"
    RC=$?
    set -e
    return 0
}

expect_rc() {
    [ "$RC" -eq "$1" ] || fail "expected exit $1, got $RC"
}

validate() {
    /usr/bin/python3 "$RDS_TOP/tests/lib/validate_rundoc.py" <"$T/$1.out" ||
        fail "$1: output does not validate against the run document schema"
    [ "$(wc -l <"$T/$1.out")" -eq 1 ] || fail "$1: output is not exactly one line"
}

jget() {
    jq -r "$2" <"$T/$1.out"
}

err_has() {
    grep -q -- "$2" "$T/$1.err" || fail "$1: stderr does not mention \"$2\""
}

# The AWS calls so far, as JSON lines: action status errorCode params.
calls_json() {
    aws_emu_get calls
}

check_calls() {
    calls_json >"$T/calls.json"
    aws_emu_get state >"$T/state.json"
    /usr/bin/python3 - "$T/calls.json" "$T/state.json" "$RDS_UNMANAGED" <<'EOF' || fail "emulator call log check failed"
import json, sys
calls = json.load(open(sys.argv[1]))["calls"]
state = json.load(open(sys.argv[2]))
unmanaged = set(sys.argv[3].split())
# Codes the emulator answers when a request is badly signed or does not validate
# against the botocore model.
bad = {"SignatureDoesNotMatch", "IncompleteSignature", "InvalidSignatureException",
       "InvalidClientTokenId", "UnrecognizedClientException", "MissingAuthenticationToken",
       "RequestExpired", "AuthFailure", "InvalidParameterValue", "InvalidParameterCombination",
       "MissingParameter", "MalformedQueryString", "MissingAction", "InvalidAction",
       "ValidationError", "SerializationException"}
changing = ("Restore", "Create", "Modify", "Delete", "AddTags", "RemoveTags", "Reboot",
            "Stop", "Start", "Promote", "Failover")
problems = []
for c in calls:
    if c.get("service") != "rds":
        continue
    if c.get("errorCode") in bad:
        problems.append(f"{c['action']}: {c['errorCode']} (status {c['status']})")
    if (c.get("action") or "").startswith(changing):
        p = c.get("params") or {}
        targets = {str(v).lower() for k, v in p.items()
                   if k in ("DBInstanceIdentifier", "DBClusterIdentifier", "ResourceName",
                            "TargetDBInstanceIdentifier")}
        targets |= {t.rsplit(":", 1)[-1] for t in targets}
        hit = targets & unmanaged
        if hit:
            problems.append(f"{c['action']} targeted unmanaged {sorted(hit)}")
def names(kind):
    v = state.get(kind, {})
    if isinstance(v, dict):
        return {k.lower(): r for k, r in v.items()}
    return {}
inst, clus = names("instances"), names("clusters")
for u in unmanaged:
    rec = inst.get(u) or clus.get(u)
    if rec is None:
        problems.append(f"unmanaged {u} is gone")
        continue
    st = rec.get("DBInstanceStatus") or rec.get("Status")
    if st in ("deleting", "deleted", "modifying"):
        problems.append(f"unmanaged {u} is {st}")
n = sum(1 for c in calls if c.get("service") == "rds")
if problems:
    print("\n".join(problems), file=sys.stderr)
    sys.exit(1)
print(f"check_calls: {n} RDS call(s), all signed and valid; unmanaged resources untouched",
      file=sys.stderr)
EOF
}

# Managed clones (prefix + ManagedBy tag) left in the emulator, not deleting.
managed_left() {
    aws_emu_get state | /usr/bin/python3 -c '
import json, sys
s = json.load(sys.stdin)
left = []
for kind in ("instances", "clusters"):
    for name, r in (s.get(kind) or {}).items():
        tags = {t["Key"]: t["Value"] for t in r.get("TagList", [])}
        st = r.get("DBInstanceStatus") or r.get("Status")
        if name.startswith("dblab-refresh-") and tags.get("ManagedBy") == "dblab-rds-refresh" \
                and st not in ("deleting", "deleted"):
            left.append(name)
print(" ".join(sorted(left)))'
}

status_of() {   # status_of instances|clusters NAME
    aws_emu_get state | jq -r --arg k "$1" --arg n "$2" \
        '.[$k][$n] | if . == null then "absent" else (.DBInstanceStatus // .Status) end'
}

fault() {
    aws_emu_fault "$1" >/dev/null
}

# rds_seed 'PYTHON' : reseeds the emulator with the default fixture changed by the
# Python code, which sees it as `f` (a dict), e.g.
#   rds_seed 'inst(f, "production-db")["automatedSnapshots"]["count"] = 0'
# Helpers in scope: inst(f, id), cluster(f, id).
rds_seed() {
    check_calls   # the log of the calls so far: a reseed clears it
    /usr/bin/python3 - "$RDS_TOP/tests/fixtures/emulator/default.json" "$T/seed.json" "$1" <<'PYEOF' || fail "seed"
import json, sys
f = json.load(open(sys.argv[1]))
def inst(f, i):
    return next(x for x in f["instances"] if x["id"] == i)
def cluster(f, i):
    return next(x for x in f["clusters"] if x["id"] == i)
exec(sys.argv[3])
json.dump(f, open(sys.argv[2], "w"))
PYEOF
    aws_emu_post seed "{\"path\": \"$T/seed.json\"}" | grep -q '"ok"' || fail "seeding the emulator"
}

clear_faults() {
    curl -sS -X DELETE "$AWS_EMULATOR_URL/_emulator/faults" >/dev/null
}

# wait_log FILE TEXT: waits (up to 20 s) until FILE contains TEXT.
wait_log() {
    local i=0
    while ! grep -q -- "$2" "$1" 2>/dev/null; do
        i=$((i + 1))
        [ "$i" -le 400 ] || fail "no \"$2\" in $(basename "$1") after 20 s"
        sleep 0.05
    done
}
