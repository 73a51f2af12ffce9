# The RDS commands under valgrind, normal and error paths, against the AWS emulator:
# rds-snapshot-latest (found, not found, stale), rds-clone-create (created, adopted,
# refused for another run or pipeline, capacity, Aurora roll-back), rds-clone-wait
# (available, terminal state, timeout), rds-clone-delete (deleted, already gone, guard,
# by run id, another run's or pipeline's clone), rds-clone-gc (dry run, a failed
# delete, -all-pipelines). Run by tests/run-valgrind with VG and DRR_BIN set; valgrind exits
# 99 on a memory error or a definite/indirect leak, so each case checks the exact code.
set -u
emu=tests/emulators/aws_emulator.py
seed=tests/fixtures/emulator/default.json
if [ ! -f "$emu" ] || [ ! -f "$seed" ]; then
    echo "valgrind rds: no AWS emulator, skipped"
    exit 0
fi
# shellcheck source=tests/lib/vg_emulator.sh
. tests/lib/vg_emulator.sh
vg_emulator rds /usr/bin/python3 "$emu" --seed "$seed" --time-scale 600 --quiet
export AWS_ACCESS_KEY_ID=AKIDTESTEMULATOR AWS_SECRET_ACCESS_KEY=emulator-secret-key \
    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true \
    DBLAB_RDS_REFRESH_POLL_SCALE=0.01 DBLAB_TOKEN=vg-dblab-token
unset AWS_PROFILE AWS_SESSION_TOKEN AIRFLOW_CTX_DAG_RUN_ID NOMAD_JOB_ID NOMAD_ALLOC_ID RD_JOB_EXECID \
    DBLAB_RDS_REFRESH_CONFIG AWS_ENDPOINT_URL_RDS
config() {  # config TYPE [extra source line] [extra clone line]
    id=production-db
    [ "$1" = aurora-cluster ] && id=production-aurora
    # shellcheck disable=SC2016  # ${DBLAB_TOKEN} is for the configuration to expand
    printf 'source:\n  type: %s\n  identifier: %s\n  %s\nclone:\n  instanceClass: db.t3.medium\n  subnetGroup: dblab-clones\n  securityGroups: [sg-0a1b2c3d4e5f60718]\n  tags: {team: data}\n  %s\ndblab:\n  apiEndpoint: http://127.0.0.1:9\n  token: ${DBLAB_TOKEN}\naws:\n  region: us-east-1\n  endpoint: %s\n  maxAttempts: 3\n' \
        "$1" "$id" "${2:-snapshotType: automated}" "${3:-maxAge: 48h}" "$url" >"$tmp/config.yaml"
}
fault() {
    curl -sS -X POST -H 'Content-Type: application/json' --data "$1" "$url/_emulator/faults" >/dev/null
}
vg_fails=0
# expect CODE NAME CMD [ARGS...] (stdin from $tmp/in)
expect() {
    want=$1 name=$2 cmd=$3
    shift 3
    $VG "$DRR_BIN/$cmd" -config "$tmp/config.yaml" "$@" <"$tmp/in" >"$tmp/$name.json" 2>"$tmp/$name.err"
    got=$?
    if [ "$got" -ne "$want" ]; then
        echo "valgrind rds: $name: $cmd $*: exit $got, want $want"
        tail -n 20 "$tmp/$name.err"
        vg_fails=$((vg_fails + 1))
    fi
}
: >"$tmp/in"
config rds
expect 0 snap rds-snapshot-latest
config rds "snapshotIdentifier: no-such-snapshot"
expect 86 missing rds-snapshot-latest
config rds "maxSnapshotAge: 1m"
expect 85 stale rds-snapshot-latest
config rds
cp "$tmp/snap.json" "$tmp/in"
expect 0 create rds-clone-create -run-id vg-1
expect 0 adopt rds-clone-create -run-id vg-1
expect 83 trap rds-clone-create -clone-id dblab-refresh-legacy
expect 83 otherrunadopt rds-clone-create -run-id vg-other -clone-id "$(jq -r .clone.id "$tmp/create.json")"
: >"$tmp/in"
expect 83 otherrun rds-clone-delete -clone-id "$(jq -r .clone.id "$tmp/create.json")" -run-id vg-other
expect 64 badrun rds-clone-delete -run-id 'a b'
config rds "snapshotType: automated" "pipeline: other"
expect 83 otherpipeline rds-clone-delete -clone-id "$(jq -r .clone.id "$tmp/create.json")"
expect 0 otherpipelinegc rds-clone-gc -max-age 1s -dry-run
config rds
cp "$tmp/snap.json" "$tmp/in"
fault '{"type": "insufficient-capacity", "action": "RestoreDBInstanceFromDBSnapshot"}'
expect 75 capacity rds-clone-create -run-id vg-2
cp "$tmp/create.json" "$tmp/in"
expect 0 wait rds-clone-wait
cp "$tmp/wait.json" "$tmp/in"
expect 0 delete rds-clone-delete -wait
expect 0 again rds-clone-delete
: >"$tmp/in"
expect 83 guard rds-clone-delete -clone-id billing-db
expect 83 source rds-clone-delete -clone-id production-db
expect 0 byrun rds-clone-delete -run-id vg-1 -grace 1s
expect 0 both rds-clone-delete -run-id vg-1 -clone-id dblab-refresh-x
cp "$tmp/snap.json" "$tmp/in"
fault '{"type": "restore-outcome", "status": "incompatible-restore", "resource": "instance", "durationSeconds": 60}'
expect 0 create2 rds-clone-create -run-id vg-3
cp "$tmp/create2.json" "$tmp/in"
expect 87 terminal rds-clone-wait
config rds "snapshotType: automated" "waitTimeout: 1s"
cp "$tmp/snap.json" "$tmp/in"
fault '{"type": "restore-outcome", "status": "stuck", "resource": "instance"}'
expect 0 create3 rds-clone-create -run-id vg-4
cp "$tmp/create3.json" "$tmp/in"
expect 82 timeout rds-clone-wait
config rds "snapshotType: automated" "maxAge: 1m"
: >"$tmp/in"
expect 0 gcdry rds-clone-gc -dry-run -max-age 1s
fault '{"type": "error", "action": "DeleteDBInstance", "code": "AccessDenied", "httpStatus": 403}'
expect 80 gcfail rds-clone-gc -max-age 1s
expect 0 gc rds-clone-gc -max-age 1s
expect 0 gcall rds-clone-gc -all-pipelines
config aurora-cluster
expect 0 asnap rds-snapshot-latest
cp "$tmp/asnap.json" "$tmp/in"
fault '{"type": "insufficient-capacity", "action": "CreateDBInstance"}'
expect 75 aurora rds-clone-create -clone-id dblab-refresh-vg-aurora
# fail closed: a proxy's page and an error document with HTTP 200
config rds
: >"$tmp/in"
fault '{"type": "proxy-html", "count": 100}'
expect 80 proxy rds-snapshot-latest
curl -sS -X DELETE "$url/_emulator/faults" >/dev/null
fault '{"type": "proxy-html", "contentType": "text/xml", "count": 100}'
expect 80 proxyxml rds-clone-gc
curl -sS -X DELETE "$url/_emulator/faults" >/dev/null
fault '{"type": "error-200", "code": "AccessDenied", "count": 100}'
expect 80 err200 rds-clone-delete -run-id vg-1
curl -sS -X DELETE "$url/_emulator/faults" >/dev/null
# a clone id from a document holding \u0000
printf '{"apiVersion": "dblab-rds-refresh/v1", "clone": {"id": "dblab-refresh-\\u0000x", "kind": "instance"}}\n' >"$tmp/in"
expect 65 nulid rds-clone-delete
# the preflight: unknown source (86), the other source type (78), a missing subnet
# group and an unorderable class at create (78), an AccessDenied check skipped (0)
: >"$tmp/in"
sed 's/identifier: production-db/identifier: prod-typo/' "$tmp/config.yaml" >"$tmp/c2" && mv "$tmp/c2" "$tmp/config.yaml"
expect 86 pftypo rds-snapshot-latest
config rds
sed 's/identifier: production-db/identifier: production-aurora/' "$tmp/config.yaml" >"$tmp/c2" && mv "$tmp/c2" "$tmp/config.yaml"
expect 78 pfhint rds-snapshot-latest
config rds
expect 0 pfsnap rds-snapshot-latest
cp "$tmp/pfsnap.json" "$tmp/in"
sed 's/subnetGroup: dblab-clones/subnetGroup: default-vpc/' "$tmp/config.yaml" >"$tmp/c2" && mv "$tmp/c2" "$tmp/config.yaml"
expect 78 pfsubnet rds-clone-create -dry-run
config rds "snapshotType: automated" "parameterGroup: dblab-clone-postgres16"
sed 's/instanceClass: db.t3.medium/instanceClass: db.m1.small/' "$tmp/config.yaml" >"$tmp/c2" && mv "$tmp/c2" "$tmp/config.yaml"
expect 78 pfclass rds-clone-create -dry-run
config rds
fault '{"type": "error", "action": "DescribeDBSubnetGroups", "code": "AccessDenied", "httpStatus": 403}'
expect 0 pfdenied rds-clone-create -dry-run
curl -sS -X DELETE "$url/_emulator/faults" >/dev/null
# the Go tool's state file: malformed (65), no clone recorded (0), a recorded clone (0)
: >"$tmp/in"
printf '{"clone_id": 42}' >"$tmp/go.state"
expect 65 gobad rds-clone-delete -go-state "$tmp/go.state"
printf '{"clone_id": "", "is_cluster": false, "aws_region": "us-east-1"}' >"$tmp/go.state"
expect 0 goempty rds-clone-delete -go-state "$tmp/go.state"
cp "$tmp/pfsnap.json" "$tmp/in"
expect 0 gocreate rds-clone-create -clone-id dblab-refresh-20261129-020005
: >"$tmp/in"
printf '{"clone_id": "dblab-refresh-20261129-020005", "is_cluster": false, "aws_region": "us-east-1"}' >"$tmp/go.state"
expect 0 gostate rds-clone-delete -go-state "$tmp/go.state"
[ "$vg_fails" -eq 0 ]
