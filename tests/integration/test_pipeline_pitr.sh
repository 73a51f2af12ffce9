#!/bin/bash
# Point-in-time clones and the clone's own master password, end to end against
# both emulators (issue 16). Each mode runs with clone.masterPassword managed and
# keep:
#   RDS latest          RestoreDBInstanceToPointInTime at the latest restorable time
#   RDS at a time       ... RestoreTime = source.restoreFrom
#   Aurora copy-on-write RestoreDBClusterToPointInTime RestoreType=copy-on-write,
#                       UseLatestRestorableTime (then the writer instance)
#   Aurora full copy    RestoreType=full-copy, RestoreToTime = source.restoreFrom
#   a time outside the window: 78 before anything is created, the window named
#   backups disabled on the source: 86 before anything is created
# managed: DBLab gets the clone's master user and the password RDS keeps in the
# clone's secret (read with awscli, the reference client, and compared by
# digest); the source password appears in no document, log, AWS request or
# DBLab config; the secret goes away with the clone. keep: DBLab gets
# source.username / source.password and RDS is never asked to manage a password.
. tests/lib/pipeline_test.sh
pl_init --time-scale 300
AWSCLI=/usr/bin/aws
[ -x "$AWSCLI" ] || { echo "SKIP: awscli (/usr/bin/aws) is not installed"; exit 77; }
SRC_PASSWORD="src-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
export SRC_PASSWORD

sha() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }

awscli() {
    "$AWSCLI" --endpoint-url "$AWS_EMULATOR_URL" --no-cli-pager --output json "$@"
}

# The source password must appear nowhere: documents, logs, AWS requests, DBLab.
no_source_password() {
    local f
    for f in "$PL_DIR"/*.json "$PL_DIR"/*.err "$(pl_aws_calls)" "$(pl_dblab_state)"; do
        [ -f "$f" ] || continue
        ! grep -q -F -- "$SRC_PASSWORD" "$f" || pl_fail "$1: the source password appears in $(basename "$f")"
    done
}

# calls ACTION: the parameters of each AWS call ACTION, one JSON object a line.
calls() {
    pl_json "$(pl_aws_calls)" "'\n'.join(__import__('json').dumps(c.get('params') or {}) for c in d['calls'] if c.get('action') == '$1')"
}

# run_mode NAME TYPE SOURCE_ID RESTORE_FROM PASSWORD(managed|keep|default) [CLONE LINES]
run_mode() {
    local name=$1 type=$2 src=$3 from=$4 pw=$5 extra=${6:-} kind=instance
    [ "$type" = aurora-cluster ] && kind=cluster
    local source_lines="type: $type
identifier: $src
dbName: app
username: dblab_reader
restoreFrom: $from"
    # default: no source.password, no IAM: managed by default
    [ "$pw" = default ] || source_lines="$source_lines
password: \${SRC_PASSWORD}"
    local clone_lines="instanceClass: db.r6g.large
subnetGroup: dblab-clones
securityGroups: [sg-0123456789abcdef0]"
    [ "$pw" = default ] || clone_lines="$clone_lines
masterPassword: $pw"
    [ -n "$extra" ] && clone_lines="$clone_lines
$extra"
    pl_config "$source_lines" "$clone_lines"
    curl -sS -X DELETE "$AWS_EMULATOR_URL/_emulator/calls" >/dev/null
    rm -f "$PL_DIR"/[0-9].json "$PL_DIR"/[0-9].err

    pl_step 1 rds-snapshot-latest
    [ "$(pl_field 1 "'snapshot' in d")" = False ] || pl_fail "$name: a snapshot section"
    [ "$(pl_field 1 "d['restore']['kind']")" = "$kind" ] || pl_fail "$name: restore.kind"
    [ "$(pl_field 1 "d['dataAsOf'] == d['restore']['time']")" = True ] || pl_fail "$name: dataAsOf"
    [ "$(pl_field 1 "d['restore']['earliestRestorableTime'] <= d['restore']['time'] <= d['restore']['latestRestorableTime']")" = True ] ||
        pl_fail "$name: the restore time is outside the window the document reports"
    local t
    t=$(pl_field 1 "d['restore']['time']")
    case "$from" in latest) [ "$t" = "$(pl_field 1 "d['restore']['latestRestorableTime']")" ] ;;
                    *) [ "$t" = "$from" ] ;; esac || pl_fail "$name: restore.time $t for $from"

    pl_step 2 rds-clone-create
    local clone
    clone=$(pl_field 2 "d['clone']['id']")
    local p
    if [ "$kind" = instance ]; then
        p=$(calls RestoreDBInstanceToPointInTime)
        "$PY" - "$p" "$t" <<'PY' || pl_fail "$name: RestoreDBInstanceToPointInTime parameters: $p"
import json, sys, datetime
p = json.loads(sys.argv[1])
assert p["SourceDBInstanceIdentifier"] == "production-db", p
assert "UseLatestRestorableTime" not in p, p
got = datetime.datetime.fromisoformat(p["RestoreTime"].replace("Z", "+00:00"))
assert got == datetime.datetime.fromisoformat(sys.argv[2].replace("Z", "+00:00")), (got, sys.argv[2])
assert p["TargetDBInstanceIdentifier"].startswith("dblab-refresh-")
assert "ManageMasterUserPassword" not in p and "MasterUserPassword" not in p
PY
    else
        p=$(calls RestoreDBClusterToPointInTime)
        "$PY" - "$p" "$t" "$extra" <<'PY' || pl_fail "$name: RestoreDBClusterToPointInTime parameters: $p"
import json, sys, datetime
p = json.loads(sys.argv[1])
assert p["SourceDBClusterIdentifier"] == "production-aurora", p
if "copyOnWrite: false" in sys.argv[3]:
    assert p["RestoreType"] == "full-copy", p
    got = datetime.datetime.fromisoformat(p["RestoreToTime"].replace("Z", "+00:00"))
    assert got == datetime.datetime.fromisoformat(sys.argv[2].replace("Z", "+00:00")), p
    assert "UseLatestRestorableTime" not in p, p
else:
    assert p["RestoreType"] == "copy-on-write" and p["UseLatestRestorableTime"] is True, p
    assert "RestoreToTime" not in p, p
PY
        [ -n "$(calls CreateDBInstance)" ] || pl_fail "$name: no writer instance created"
    fi

    pl_step 3 rds-clone-wait
    pl_step 4 dblab-refresh
    [ "$(pl_field 4 "d['refresh']['status']")" = finished ] || pl_fail "$name: refresh not finished"
    local age
    age=$(pl_field 4 "d['refresh']['dataAgeAtStartSeconds']")
    [ "$age" -gt 0 ] || pl_fail "$name: dataAgeAtStartSeconds $age"

    local st manage secret_arn secret_pw
    st=$(pl_dblab_state)
    manage=$(calls ModifyDB"$( [ "$kind" = cluster ] && echo Cluster || echo Instance)")
    if [ "$pw" = keep ]; then
        [ -z "$manage" ] || pl_fail "$name: keep, yet RDS was asked: $manage"
        [ "$(pl_json "$st" "d['passwordSha256']")" = "$(sha "$SRC_PASSWORD")" ] ||
            pl_fail "$name: keep: DBLab does not have source.password"
        [ "$(pl_json "$st" "d['source']['username']")" = dblab_reader ] || pl_fail "$name: keep: username"
        [ "$(pl_json "$(pl_aws_state)" "[s for s in d['secrets'] if s.startswith('rds!')]")" = "[]" ] ||
            pl_fail "$name: keep: an RDS-managed secret exists"
    else
        "$PY" -c 'import json,sys; p=json.loads(sys.argv[1]); assert p["ManageMasterUserPassword"] is True and p["ApplyImmediately"] is True and "MasterUserPassword" not in p, p' "$manage" ||
            pl_fail "$name: managed: ModifyDB*: $manage"
        grep -q "resetting-master-credentials\|waiting for its master user secret\|giving it its own master password" "$PL_DIR/3.err" ||
            pl_fail "$name: rds-clone-wait did not give the clone its own password"
        # The reference client reads the clone's secret: DBLab has exactly that password.
        if [ "$kind" = cluster ]; then
            secret_arn=$(awscli rds describe-db-clusters --db-cluster-identifier "$clone" |
                pl_json /dev/stdin "d['DBClusters'][0]['MasterUserSecret']['SecretArn']")
        else
            secret_arn=$(awscli rds describe-db-instances --db-instance-identifier "$clone" |
                pl_json /dev/stdin "d['DBInstances'][0]['MasterUserSecret']['SecretArn']")
        fi
        case "$secret_arn" in arn:aws:secretsmanager:us-east-1:123456789012:secret:rds\!*) ;;
            *) pl_fail "$name: MasterUserSecret.SecretArn $secret_arn" ;; esac
        secret_pw=$(awscli secretsmanager get-secret-value --secret-id "$secret_arn" |
            pl_json /dev/stdin "__import__('json').loads(d['SecretString'])['password']")
        [ -n "$secret_pw" ] || pl_fail "$name: no password in the clone's secret"
        [ "$(pl_json "$st" "d['passwordSha256']")" = "$(sha "$secret_pw")" ] ||
            pl_fail "$name: managed: DBLab does not have the clone's own password"
        [ "$(pl_json "$st" "d['source']['username']")" = postgres ] ||
            pl_fail "$name: managed: DBLab's user is not the clone's master user"
        for f in "$PL_DIR"/[0-9].json "$PL_DIR"/[0-9].err; do
            ! grep -q -F -- "$secret_pw" "$f" || pl_fail "$name: the clone's password appears in $(basename "$f")"
        done
    fi
    no_source_password "$name"

    pl_step 5 rds-clone-delete -wait
    if [ "$pw" != keep ]; then
        [ "$(pl_json "$(pl_aws_state)" "[s for s in d['secrets'] if s.startswith('rds!')]")" = "[]" ] ||
            pl_fail "$name: the clone's secret outlived the clone"
    fi
    pl_untouched production-db production-aurora production-aurora-writer billing-db
    echo "ok: $name (data ${age}s old at the refresh's start)"
}

# refused NAME TYPE SOURCE_ID RESTORE_FROM PASSWORD EXIT PATTERN [CLONE LINE]: step one fails
# with EXIT and PATTERN in its one-line error; nothing was created.
refused() {
    local name=$1 type=$2 src=$3 from=$4 pw=$5 want=$6 pattern=$7 extra=${8:-}
    pl_config "type: $type
identifier: $src
restoreFrom: $from
password: \${SRC_PASSWORD}" "instanceClass: db.r6g.large
masterPassword: $pw
$extra"
    curl -sS -X DELETE "$AWS_EMULATOR_URL/_emulator/calls" >/dev/null
    local rc=0
    "$PL_BIN/rds-snapshot-latest" -config "$PL_DIR/config.yaml" </dev/null >"$PL_DIR/r.json" \
        2>"$PL_DIR/r.err" || rc=$?
    PL_LAST_ERR=$PL_DIR/r.err
    [ "$rc" -eq "$want" ] || pl_fail "$name: exit $rc, expected $want"
    grep -E -q -- "$pattern" "$PL_DIR/r.err" || pl_fail "$name: no \"$pattern\" in the error"
    [ ! -s "$PL_DIR/r.json" ] || pl_fail "$name: a document on failure"
    [ -z "$(pl_json "$(pl_aws_calls)" "[c['action'] for c in d['calls'] if not c['action'].startswith('Describe')]" | tr -d '[]')" ] ||
        pl_fail "$name: something other than a describe was sent"
    no_source_password "$name"
    echo "ok: $name"
}

# A time a day ago, inside both sources' seven-day windows.
day_ago=$(date -u -d '1 day ago' +%Y-%m-%dT%H:%M:%SZ)

for pw in managed keep; do
    run_mode "RDS latest ($pw)" rds production-db latest "$pw"
    run_mode "RDS at a time ($pw)" rds production-db "$day_ago" "$pw"
    run_mode "Aurora copy-on-write ($pw)" aurora-cluster production-aurora latest "$pw"
    run_mode "Aurora full copy ($pw)" aurora-cluster production-aurora "$day_ago" "$pw" \
        "copyOnWrite: false"
done
# The default without source.password and without IAM authentication: managed.
run_mode "RDS latest (default: managed)" rds production-db latest default

window='\[20[0-9-]+T[0-9:]+Z, 20[0-9-]+T[0-9:]+Z\]'
for pw in managed keep; do
    refused "RDS, a time before the window ($pw)" rds production-db 2020-01-01T00:00:00Z "$pw" 78 \
        "source.restoreFrom: 2020-01-01T00:00:00Z is outside the restorable window of production-db $window"
    refused "Aurora, a time after the window ($pw)" aurora-cluster production-aurora \
        "$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)" "$pw" 78 \
        "is outside the restorable window of production-aurora $window" "copyOnWrite: false"
done

# rds-clone-create reads the restore section strictly: 65 naming the field, no call.
bad_doc() { # NAME JSON PATTERN
    pl_config "type: aurora-cluster
identifier: production-aurora
restoreFrom: latest" "instanceClass: db.r6g.large"
    curl -sS -X DELETE "$AWS_EMULATOR_URL/_emulator/calls" >/dev/null
    local rc=0
    printf '%s\n' "$2" | "$PL_BIN/rds-clone-create" -config "$PL_DIR/config.yaml" \
        >"$PL_DIR/b.json" 2>"$PL_DIR/b.err" || rc=$?
    PL_LAST_ERR=$PL_DIR/b.err
    [ "$rc" -eq 65 ] || pl_fail "$1: exit $rc, expected 65"
    grep -q -- "$3" "$PL_DIR/b.err" || pl_fail "$1: no \"$3\" in the error"
    [ "$(pl_json "$(pl_aws_calls)" "len(d['calls'])")" = 0 ] || pl_fail "$1: AWS was called"
    echo "ok: $1"
}
head='"apiVersion":"dblab-rds-refresh/v1","pipeline":"production-aurora","runId":"r1","source":{"type":"aurora-cluster","identifier":"production-aurora"}'
bad_doc "no snapshot, no restore" "{$head}" "snapshot: missing section, and no restore section"
bad_doc "restore without restoreType" \
    "{$head,\"restore\":{\"kind\":\"cluster\",\"time\":\"2026-11-26T01:55:00Z\",\"engine\":\"aurora-postgresql\"}}" \
    "restore.restoreType: must be copy-on-write or full-copy"
bad_doc "restore with a bad time" \
    "{$head,\"restore\":{\"kind\":\"cluster\",\"time\":\"yesterday\",\"engine\":\"aurora-postgresql\",\"restoreType\":\"full-copy\"}}" \
    "restore.time: \"yesterday\" is not an RFC 3339 time"

# Backups disabled on the source (BackupRetentionPeriod 0): nothing to restore.
/usr/bin/python3 - "$PL_TOP/tests/fixtures/emulator/default.json" "$PL_DIR/seed.json" <<'PY' || pl_fail seed
import json, sys
f = json.load(open(sys.argv[1]))
next(x for x in f["instances"] if x["id"] == "production-db")["backupRetentionPeriod"] = 0
json.dump(f, open(sys.argv[2], "w"))
PY
aws_emu_post seed "{\"path\": \"$PL_DIR/seed.json\"}" | grep -q '"ok"' || pl_fail "seeding the emulator"
for pw in managed keep; do
    refused "RDS, backups disabled ($pw)" rds production-db latest "$pw" 86 \
        "source production-db: automated backups are off \(BackupRetentionPeriod 0\)"
done
echo "ok"
