#!/usr/bin/env bash
# The Go original's configs, flags and state file, as a user switching to this
# project brings them (issue 17, "Migrating from the Go tool"):
#   - both Go example configs and the seed README's config (tests/fixtures/go/,
#     verbatim) pass dblab-rds-config with only the endpoints changed, and so
#     does the 7b690902 example with every commented optional key turned on;
#   - each of them runs end to end through the driver, installed name rds-refresh;
#   - clone.deletionProtection: true is set on the clone and turned off by the
#     guarded delete (instance and Aurora cluster);
#   - rds-clone-delete -go-state deletes the clone the Go tool recorded in its
#     meta/rds-refresh.state, through the guard, and removes the file.
# The emulator's world is the default fixture plus the Go examples' network
# names (subnet groups default-vpc-subnet and default-vpc, sg-12345678,
# sg-87654321), so that "only the endpoint changed" can run as is.
# shellcheck source=tests/integration/test_driver_lib.sh
. "$(dirname "$0")/test_driver_lib.sh"

GO=$DT_TOP/tests/fixtures/go
SEED_DIR=$(mktemp -d "${TMPDIR:-/tmp}/drr-go-seed.XXXXXX") || exit 70
"$PY" - "$DT_TOP/tests/fixtures/emulator/default.json" "$SEED_DIR/seed.json" <<'EOF' || exit 70
import json, sys
seed = json.load(open(sys.argv[1]))
seed["vpc"]["subnetGroups"] += [
    {"name": "default-vpc-subnet", "description": "the Go examples' subnet group"},
    {"name": "default-vpc", "description": "the seed README's subnet group"}]
seed["vpc"]["securityGroups"] += ["sg-12345678", "sg-87654321"]
json.dump(seed, open(sys.argv[2], "w"))
EOF
DT_EMULATOR_ARGS="--aws-seed $SEED_DIR/seed.json"
dt_init
trap 'dt_cleanup; rm -rf "$SEED_DIR"' EXIT
export DB_PASSWORD="go-example-db-password-$$"

# go_config FIXTURE OUT: the fixture with the two endpoints pointed at the emulators.
go_config() {
    sed -e "s|^\(  apiEndpoint:\).*|\1 $DBLAB_EMULATOR_URL|" \
        -e "s|^  # endpoint: http://localhost:4566|  endpoint: $AWS_EMULATOR_URL|" "$1" >"$2"
    chmod 0600 "$2"
    cmp -s "$1" "$2" && fail "$(basename "$1"): no endpoint changed"
    [ "$(diff "$1" "$2" | grep -c '^>')" -le 2 ] || fail "$(basename "$1"): more than the endpoints changed"
}

# ---------------------------------------------------------------- dblab-rds-config
for f in rds-refresh.example.7b690902.yaml config.example.rds_refresh.9fbebc79.yaml \
    seed-README.config.yaml; do
    case_begin "dblab-rds-config $f"
    go_config "$GO/$f" "$DT_DIR/$f"
    "$DT_BIN/dblab-rds-config" -config "$DT_DIR/$f" >"$DT_DIR/cfg.out" 2>"$DT_DIR/cfg.err" ||
        fail "$f: dblab-rds-config exited $?: $(cat "$DT_DIR/cfg.err")"
    grep -q "ERROR" "$DT_DIR/cfg.err" && fail "$f: an error: $(cat "$DT_DIR/cfg.err")"
    grep -q '"pollInterval":"30s"' "$DT_DIR/cfg.out" || fail "$f: pollInterval"
    dt_row "config: $f" "valid" "valid" "$(dt_secs "$DT_CASE_T0")"
done

case_begin "every optional key of the Go example, uncommented"
sed -e 's/^  # \(parameterGroup\|optionGroup\|clusterParameterGroup\|engineVersion\|port\|storageType\): /  \1: /' \
    "$DT_DIR/rds-refresh.example.7b690902.yaml" >"$DT_DIR/every.yaml"
sed -i -e 's/^  parameterGroup: .*/  parameterGroup: dblab-clone-postgres16/' \
    -e 's/^  optionGroup: .*/  optionGroup: default:postgres-16/' "$DT_DIR/every.yaml"
for k in parameterGroup optionGroup clusterParameterGroup engineVersion port storageType; do
    grep -q "^  $k: " "$DT_DIR/every.yaml" || fail "the Go example has no commented $k"
done
"$DT_BIN/dblab-rds-config" -config "$DT_DIR/every.yaml" >"$DT_DIR/cfg.out" 2>"$DT_DIR/cfg.err" ||
    fail "every key: exit $?: $(cat "$DT_DIR/cfg.err")"
grep -q 'clone.clusterParameterGroup: ignored for source.type rds' "$DT_DIR/cfg.err" ||
    fail "no warning for clusterParameterGroup on rds"
grep -q 'clone.engineVersion: ignored for source.type rds' "$DT_DIR/cfg.err" ||
    fail "no warning for engineVersion on rds"
grep -q '"storageType":"gp3"' "$DT_DIR/cfg.out" || fail "storageType lost"
sed 's/^  type: rds/  type: aurora-cluster/; s/^  identifier: production-db/  identifier: production-aurora/' \
    "$DT_DIR/every.yaml" >"$DT_DIR/every-aurora.yaml"
"$DT_BIN/dblab-rds-config" -config "$DT_DIR/every-aurora.yaml" >"$DT_DIR/cfg.out" 2>"$DT_DIR/cfg.err" ||
    fail "every key, aurora: exit $?: $(cat "$DT_DIR/cfg.err")"
grep -q '"engineVersion":"15.4"' "$DT_DIR/cfg.out" || fail "engineVersion not kept for Aurora"
grep -q 'clone.storageType: ignored for source.type aurora-cluster' "$DT_DIR/cfg.err" ||
    fail "no warning for storageType on aurora"
dt_row "every Go key" "valid, warnings" "valid, warnings" "$(dt_secs "$DT_CASE_T0")"

# ---------------------------------------------------------------- end to end
for f in rds-refresh.example.7b690902.yaml config.example.rds_refresh.9fbebc79.yaml \
    seed-README.config.yaml; do
    case_begin "rds-refresh -config $f"
    dt_reset
    rc=0
    "$DT_BIN/rds-refresh" -config "$DT_DIR/$f" >"$DT_DIR/out" 2>"$DT_DIR/err" || rc=$?
    DT_RC=$rc
    expect_rc 0
    expect_doc outcome.status success
    expect_doc outcome.cloneDeleted true
    clone=$(doc_get clone.id)
    aws_emu_get 'calls?action=RestoreDBInstanceFromDBSnapshot' >"$DT_DIR/calls.json"
    grep -q "\"$clone\"" "$DT_DIR/calls.json" || fail "no restore of $clone"
    case $f in
    seed-README*) grep -q '"default-vpc"' "$DT_DIR/calls.json" || fail "subnet group not sent" ;;
    *) grep -q '"default-vpc-subnet"' "$DT_DIR/calls.json" || fail "subnet group not sent" ;;
    esac
    dt_check_clean
    dt_row "rds-refresh $f" "0, clone deleted" "exit $rc" "$(dt_secs "$DT_CASE_T0")"
done

# ---------------------------------------------------------------- deletionProtection
for kind in instance cluster; do
    case_begin "deletionProtection: true ($kind)"
    dt_reset
    if [ $kind = instance ]; then
        src="type: rds
  identifier: production-db"
    else
        src="type: aurora-cluster
  identifier: production-aurora"
    fi
    cat >"$DT_DIR/protect.yaml" <<EOF
source:
  $src
clone:
  instanceClass: db.r6g.large
  deletionProtection: true
dblab:
  apiEndpoint: $DBLAB_EMULATOR_URL
  token: \${DBLAB_TOKEN}
aws:
  region: us-east-1
EOF
    "$DT_BIN/rds-snapshot-latest" -config "$DT_DIR/protect.yaml" </dev/null >"$DT_DIR/1.json" 2>"$DT_DIR/err" ||
        fail "snapshot: $(cat "$DT_DIR/err")"
    "$DT_BIN/rds-clone-create" -config "$DT_DIR/protect.yaml" <"$DT_DIR/1.json" >"$DT_DIR/2.json" 2>"$DT_DIR/err" ||
        fail "create: $(cat "$DT_DIR/err")"
    clone=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["clone"]["id"])' "$DT_DIR/2.json")
    aws_emu_get state >"$DT_DIR/state.json"
    "$PY" - "$DT_DIR/state.json" "$clone" "$kind" <<'EOF' || fail "the clone has no deletion protection"
import json, sys
d = json.load(open(sys.argv[1]))
table = d["instances"] if sys.argv[3] == "instance" else d["clusters"]
sys.exit(0 if table[sys.argv[2]]["DeletionProtection"] is True else 1)
EOF
    "$DT_BIN/rds-clone-delete" -config "$DT_DIR/protect.yaml" -wait <"$DT_DIR/2.json" >"$DT_DIR/3.json" 2>"$DT_DIR/err" ||
        fail "delete: $(cat "$DT_DIR/err")"
    grep -q "has deletion protection on; turning it off" "$DT_DIR/err" || fail "protection not turned off"
    want=ModifyDBInstance
    [ $kind = cluster ] && want=ModifyDBCluster
    aws_emu_get "calls?action=$want" | grep -q "\"$clone\"" || fail "no $want on $clone"
    dt_check_clean
    dt_row "deletionProtection: true ($kind)" "on, then off, deleted" "deleted" "$(dt_secs "$DT_CASE_T0")"
done

# ---------------------------------------------------------------- the Go state file
# gostate FILE CLONE_ID IS_CLUSTER [REGION]: what the Go tool's StateFile.Write
# (json.MarshalIndent of CloneState) leaves behind.
gostate() {
    cat >"$1" <<EOF
{
  "clone_id": "$2",
  "is_cluster": $3,
  "aws_region": "${4:-us-east-1}",
  "created_at": "2026-11-29T02:00:05.123456789Z",
  "delete_after": "2026-12-01T02:00:05.123456789Z",
  "source_id": "rds:production-db-2026-11-29-03-07"
}
EOF
}
cat >"$DT_DIR/plain.yaml" <<EOF
source:
  type: rds
  identifier: production-db
clone:
  instanceClass: db.r6g.large
dblab:
  apiEndpoint: $DBLAB_EMULATOR_URL
  token: \${DBLAB_TOKEN}
aws:
  region: us-east-1
EOF

case_begin "-go-state: the Go tool's orphaned clone"
dt_reset
"$DT_BIN/rds-snapshot-latest" -config "$DT_DIR/plain.yaml" </dev/null >"$DT_DIR/1.json" 2>"$DT_DIR/err" || fail "snapshot"
# A clone as the Go tool names and tags it: dblab-refresh-YYYYMMDD-HHMMSS,
# ManagedBy=dblab-rds-refresh, AutoDelete=true (config.go SetDefaults).
"$DT_BIN/rds-clone-create" -config "$DT_DIR/plain.yaml" -clone-id dblab-refresh-20261129-020005 \
    <"$DT_DIR/1.json" >"$DT_DIR/2.json" 2>"$DT_DIR/err" || fail "create: $(cat "$DT_DIR/err")"
mkdir -p "$DT_DIR/meta"
gostate "$DT_DIR/meta/rds-refresh.state" dblab-refresh-20261129-020005 false
"$DT_BIN/rds-clone-delete" -config "$DT_DIR/plain.yaml" -go-state "$DT_DIR/meta/rds-refresh.state" -dry-run \
    </dev/null >"$DT_DIR/3.json" 2>"$DT_DIR/err" || fail "dry run: $(cat "$DT_DIR/err")"
[ -f "$DT_DIR/meta/rds-refresh.state" ] || fail "a dry run removed the state file"
"$DT_BIN/rds-clone-delete" -config "$DT_DIR/plain.yaml" -go-state "$DT_DIR/meta/rds-refresh.state" \
    </dev/null >"$DT_DIR/3.json" 2>"$DT_DIR/err" || fail "delete: $(cat "$DT_DIR/err")"
grep -q '"id":"dblab-refresh-20261129-020005"' "$DT_DIR/3.json" || fail "deleted.id: $(cat "$DT_DIR/3.json")"
[ ! -e "$DT_DIR/meta/rds-refresh.state" ] || fail "the state file is still there"
aws_emu_get 'calls?action=DeleteDBInstance' | grep -q dblab-refresh-20261129-020005 || fail "no DeleteDBInstance"
dt_check_clean
dt_row "-go-state: recorded clone" "deleted, file removed" "deleted" "$(dt_secs "$DT_CASE_T0")"

case_begin "the driver deletes the clone in the Go tool's state file of its -state-dir"
"$DT_BIN/rds-clone-create" -config "$DT_DIR/plain.yaml" -clone-id dblab-refresh-20261129-020006 \
    <"$DT_DIR/1.json" >"$DT_DIR/2.json" 2>"$DT_DIR/err" || fail "create: $(cat "$DT_DIR/err")"
mkdir -p "$DT_DIR/state"
gostate "$DT_DIR/state/rds-refresh.state" dblab-refresh-20261129-020006 false
dt_run
expect_rc 0
aws_emu_get 'calls?action=DeleteDBInstance' | grep -q dblab-refresh-20261129-020006 ||
    fail "the driver did not delete the Go tool's clone"
[ ! -e "$DT_DIR/state/rds-refresh.state" ] || fail "the Go state file is still there"
dt_check_clean
dt_row "driver: Go state file in -state-dir" "deleted, file removed" "deleted" "$(dt_secs "$DT_CASE_T0")"

case_begin "-go-state: a clone the Go tool made (no pipeline tag)"
# Tagged as the Go tool tags: ManagedBy and AutoDelete, no dblab-rds-refresh:pipeline
# or :run-id. Only its own record (-go-state) deletes it by name; -clone-id refuses.
"$PY" - "$SEED_DIR/seed.json" >"$DT_DIR/goseed.json" <<'EOF2' || fail "cannot build the seed"
import json, sys
seed = json.load(open(sys.argv[1]))
seed["instances"].append({
    "id": "dblab-refresh-20250115-020000", "engine": "postgres", "engineVersion": "16.4",
    "class": "db.t3.medium", "allocatedStorage": 100, "ageDays": 1,
    "tags": {"ManagedBy": "dblab-rds-refresh", "AutoDelete": "true"}})
json.dump(seed, sys.stdout)
EOF2
aws_emu_post seed "$(cat "$DT_DIR/goseed.json")" >/dev/null || fail "cannot seed the AWS emulator"
rc=0
"$DT_BIN/rds-clone-delete" -config "$DT_DIR/plain.yaml" -clone-id dblab-refresh-20250115-020000 \
    </dev/null >/dev/null 2>"$DT_DIR/err" || rc=$?
[ $rc = 83 ] && grep -q "no dblab-rds-refresh:pipeline tag" "$DT_DIR/err" || fail "-clone-id of a Go clone: exit $rc"
gostate "$DT_DIR/meta/rds-refresh.state" dblab-refresh-20250115-020000 false
"$DT_BIN/rds-clone-delete" -config "$DT_DIR/plain.yaml" -go-state "$DT_DIR/meta/rds-refresh.state" \
    </dev/null >"$DT_DIR/3.json" 2>"$DT_DIR/err" || fail "delete: $(cat "$DT_DIR/err")"
aws_emu_get 'calls?action=DeleteDBInstance' | grep -q dblab-refresh-20250115-020000 || fail "no DeleteDBInstance"
[ ! -e "$DT_DIR/meta/rds-refresh.state" ] || fail "the state file is still there"
aws_emu_post seed "$(cat "$SEED_DIR/seed.json")" >/dev/null || fail "cannot re-seed the AWS emulator"
dt_row "-go-state: a Go-tagged clone" "deleted; -clone-id 83" "deleted" "$(dt_secs "$DT_CASE_T0")"

case_begin "-go-state: guard, region, empty, malformed"
gostate "$DT_DIR/s" dblab-refresh-legacy false
rc=0
"$DT_BIN/rds-clone-delete" -config "$DT_DIR/plain.yaml" -go-state "$DT_DIR/s" </dev/null >/dev/null 2>"$DT_DIR/err" || rc=$?
[ $rc = 83 ] || fail "an untagged clone named in the state: exit $rc, want 83"
[ -f "$DT_DIR/s" ] || fail "the state file was removed after a refusal"
gostate "$DT_DIR/s" dblab-refresh-20261129-020005 false eu-west-1
rc=0
"$DT_BIN/rds-clone-delete" -config "$DT_DIR/plain.yaml" -go-state "$DT_DIR/s" </dev/null >/dev/null 2>"$DT_DIR/err" || rc=$?
[ $rc = 78 ] && grep -q "aws_region: the Go state records eu-west-1" "$DT_DIR/err" || fail "region mismatch: exit $rc"
gostate "$DT_DIR/s" "" false
"$DT_BIN/rds-clone-delete" -config "$DT_DIR/plain.yaml" -go-state "$DT_DIR/s" </dev/null >/dev/null 2>"$DT_DIR/err" ||
    fail "no clone recorded: exit $?"
[ ! -e "$DT_DIR/s" ] || fail "a state without a clone was not cleared"
"$DT_BIN/rds-clone-delete" -config "$DT_DIR/plain.yaml" -go-state "$DT_DIR/s" </dev/null >/dev/null 2>"$DT_DIR/err" ||
    fail "no state file: exit $?"
printf '{"clone_id": 42}' >"$DT_DIR/s"
rc=0
"$DT_BIN/rds-clone-delete" -config "$DT_DIR/plain.yaml" -go-state "$DT_DIR/s" </dev/null >/dev/null 2>"$DT_DIR/err" || rc=$?
[ $rc = 65 ] && grep -q "clone_id: expected a string, got a number" "$DT_DIR/err" || fail "malformed: exit $rc"
printf 'not json' >"$DT_DIR/s"
rc=0
"$DT_BIN/rds-clone-delete" -config "$DT_DIR/plain.yaml" -go-state "$DT_DIR/s" </dev/null >/dev/null 2>"$DT_DIR/err" || rc=$?
[ $rc = 65 ] || fail "not JSON: exit $rc"
dt_row "-go-state: refusals" "83 / 78 / 0 / 65" "as expected" "$(dt_secs "$DT_CASE_T0")"

dt_table
echo "ok"
