#!/usr/bin/env bash
# The dry run catches what the real run would hit (issue 17): each mistake below
# passed `-dry-run` on dafd46d and failed only in the real run (or with a
# misleading message). Now the dry run fails with the key, the name and the
# documented exit code (docs/exit-codes.md: 78 config, 86 not found), and creates
# nothing:
#   - the seed README's config as is: subnet group default-vpc does not exist (78)
#   - a typo in source.identifier (86, "no DB instance named ...")
#   - type: rds naming an Aurora cluster ("did you mean source.type: aurora-cluster", 78)
#     and the reverse, and an Aurora member instance named as an rds source
#   - an instance class not orderable for the engine and version (78)
#   - a parameter / cluster parameter / option group that is missing or of another
#     engine family (78); an unknown Aurora clone.engineVersion (78)
# A check the credentials may not make (AccessDenied) is a warning, not a failure.
# shellcheck source=tests/integration/test_driver_lib.sh
. "$(dirname "$0")/test_driver_lib.sh"
dt_init

# pf_config NAME SOURCE_TYPE SOURCE_ID CLONE_LINES...
pf_config() {
    local name=$1 type=$2 id=$3
    shift 3
    {
        printf 'source:\n  type: %s\n  identifier: %s\nclone:\n' "$type" "$id"
        printf '  %s\n' "$@"
        printf 'dblab:\n  apiEndpoint: %s\n  token: ${DBLAB_TOKEN}\n' "$DBLAB_EMULATOR_URL"
        printf 'aws:\n  region: us-east-1\n'
    } >"$DT_DIR/$name.yaml"
    chmod 0600 "$DT_DIR/$name.yaml"
}

# dry NAME WANT_RC MESSAGE: the driver's dry run on config NAME.
dry() {
    local name=$1 want=$2 msg=$3
    case_begin "dry run: $name"
    dt_reset
    DT_RC=0
    "$DT_BIN/dblab-rds-refresh" -config "$DT_DIR/$name.yaml" -dry-run >"$DT_DIR/out" 2>"$DT_DIR/err" ||
        DT_RC=$?
    expect_rc "$want"
    grep -qF -- "$msg" "$DT_DIR/err" || fail "the message lacks: $msg"
    aws_emu_get calls >"$DT_DIR/calls.json"
    "$PY" - "$DT_DIR/calls.json" <<'EOF' || fail "a dry run changed something"
import json, sys
calls = json.load(open(sys.argv[1]))["calls"]
bad = [c["action"] for c in calls
       if not (c["action"].startswith("Describe") or c["action"].startswith("List"))]
sys.exit(1 if bad else 0)
EOF
    dt_row "dry run: $name" "exit $want" "exit $DT_RC" "$(dt_secs "$DT_CASE_T0")"
}

# The seed README's config, only the endpoints changed: its subnet group is not there.
sed -e "s|^\(  apiEndpoint:\).*|\1 $DBLAB_EMULATOR_URL|" \
    "$DT_TOP/tests/fixtures/go/seed-README.config.yaml" >"$DT_DIR/seed.yaml"
chmod 0600 "$DT_DIR/seed.yaml"
dry seed 78 'clone.subnetGroup: DB subnet group "default-vpc" does not exist in us-east-1'
# ... and the real run stops there too, before any create.
case_begin "real run: seed config"
dt_reset
DT_RC=0
"$DT_BIN/dblab-rds-refresh" -config "$DT_DIR/seed.yaml" >"$DT_DIR/out" 2>"$DT_DIR/err" || DT_RC=$?
expect_rc 78
aws_emu_get 'calls?action=RestoreDBInstanceFromDBSnapshot' | grep -q DBInstanceIdentifier &&
    fail "the real run restored a clone"
# The summary of a create that never made a clone (docs/driver.md): nothing was
# deleted and the clone had no lifetime.
expect_doc outcome.cloneDeleted false
expect_doc cloneLifetimeSeconds null
dt_row "real run: seed config" "exit 78, no restore" "exit $DT_RC" "$(dt_secs "$DT_CASE_T0")"

pf_config typo rds prod-typo "instanceClass: db.t3.medium"
dry typo 86 'source.identifier: no DB instance named prod-typo in us-east-1'

pf_config aurora-as-rds rds production-aurora "instanceClass: db.r6g.large"
dry aurora-as-rds 78 'production-aurora is an Aurora DB cluster, not an RDS DB instance: did you mean source.type: aurora-cluster?'

pf_config rds-as-aurora aurora-cluster production-db "instanceClass: db.r6g.large"
dry rds-as-aurora 78 'production-db is an RDS DB instance, not an Aurora DB cluster: did you mean source.type: rds?'

pf_config member-as-rds rds production-aurora-writer "instanceClass: db.r6g.large"
dry member-as-rds 78 'production-aurora-writer is a member instance of the Aurora DB cluster production-aurora'

pf_config unorderable rds production-db "instanceClass: db.m1.small"
dry unorderable 78 'clone.instanceClass: db.m1.small is not orderable for postgres 16.4 in us-east-1'

pf_config aurora-micro aurora-cluster production-aurora "instanceClass: db.t3.micro"
dry aurora-micro 78 'clone.instanceClass: db.t3.micro is not orderable for aurora-postgresql 16.4'

pf_config no-pg rds production-db "instanceClass: db.t3.medium" "parameterGroup: nope-pg"
dry no-pg 78 'clone.parameterGroup: DB parameter group "nope-pg" does not exist in us-east-1'

pf_config wrong-family aurora-cluster production-aurora "instanceClass: db.r6g.large" \
    "parameterGroup: dblab-clone-postgres16"
dry wrong-family 78 'clone.parameterGroup: "dblab-clone-postgres16" is of family postgres16, but the clone runs aurora-postgresql 16.4 (family aurora-postgresql16)'

pf_config no-cpg aurora-cluster production-aurora "instanceClass: db.r6g.large" \
    "clusterParameterGroup: nope-cpg"
dry no-cpg 78 'clone.clusterParameterGroup: DB cluster parameter group "nope-cpg" does not exist'

pf_config no-og rds production-db "instanceClass: db.t3.medium" "optionGroup: nope-og"
dry no-og 78 'clone.optionGroup: option group "nope-og" does not exist in us-east-1'

pf_config billing-og rds billing-db "instanceClass: db.t3.medium" "optionGroup: default:postgres-16"
dry billing-og 78 'clone.optionGroup: "default:postgres-16" is for postgres 16, but the clone runs postgres 15.7'

pf_config bad-version aurora-cluster production-aurora "instanceClass: db.r6g.large" \
    'engineVersion: "99.1"'
dry bad-version 78 'clone.engineVersion: aurora-postgresql 99.1 is not an engine version AWS offers in us-east-1'

# A good config passes, and every group check ran.
pf_config good rds production-db "instanceClass: db.t3.medium" "subnetGroup: dblab-clones" \
    "parameterGroup: dblab-clone-postgres16" "optionGroup: default:postgres-16"
dry good 0 'instance class db.t3.medium orderable for postgres 16.4'
for action in DescribeDBSubnetGroups DescribeDBParameterGroups DescribeOptionGroups \
    DescribeOrderableDBInstanceOptions DescribeDBEngineVersions; do
    grep -q "\"$action\"" "$DT_DIR/calls.json" || fail "the dry run did not call $action"
done

# An IAM policy written for the Go tool has no DescribeDBSubnetGroups: a warning.
case_begin "AccessDenied: the check is skipped with a warning"
dt_reset
aws_fault '{"type":"error","service":"rds","action":"DescribeDBSubnetGroups","code":"AccessDenied","httpStatus":403,"count":5}'
DT_RC=0
"$DT_BIN/dblab-rds-refresh" -config "$DT_DIR/good.yaml" -dry-run >"$DT_DIR/out" 2>"$DT_DIR/err" || DT_RC=$?
expect_rc 0
grep -q "clone.subnetGroup not checked: the credentials may not call rds:DescribeDBSubnetGroups" "$DT_DIR/err" ||
    fail "no warning for the denied check"
dt_row "AccessDenied on a preflight describe" "0, warning" "exit $DT_RC" "$(dt_secs "$DT_CASE_T0")"

dt_table
echo "ok"
