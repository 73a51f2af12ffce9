#!/bin/bash
# The whole refresh end to end against both emulators, RDS instance source:
#   rds-snapshot-latest | rds-clone-create | rds-clone-wait | dblab-refresh | rds-clone-delete
# The DBLab emulator checks against the AWS emulator that the source it was given
# is a live clone endpoint, so a wrong endpoint would fail the refresh here.
# clone.masterPassword keep: the engine's user stays source.username (the managed
# default is tested in test_pipeline_pitr.sh).
# Then: a refresh pointed at the deleted clone fails with the engine's alert (88).
. tests/lib/pipeline_test.sh
pl_init --time-scale 300

pl_config "type: rds
identifier: production-db
dbName: app
username: dblab_reader" "instanceClass: db.t3.medium
subnetGroup: dblab-clones
securityGroups: [sg-0123456789abcdef0]
masterPassword: keep"

start=$(date +%s)
pl_step 1 rds-snapshot-latest
case "$(pl_field 1 "d['snapshot']['id']")" in
    rds:production-db-*) ;;
    *) pl_fail "not an automated snapshot of production-db" ;;
esac
pl_step 2 rds-clone-create
clone=$(pl_field 2 "d['clone']['id']")
case "$clone" in dblab-refresh-*) ;; *) pl_fail "clone name $clone" ;; esac
pl_step 3 rds-clone-wait
host=$(pl_field 3 "d['endpoint']['host']")
pl_step 4 dblab-refresh
[ "$(pl_field 4 "d['refresh']['status']")" = finished ] || pl_fail "refresh not finished"
grep -q "retrieval status: refreshing\|the refresh started" "$PL_DIR/4.err" || pl_fail "no start seen"

# The engine really refreshed from the clone.
st=$(pl_dblab_state)
[ "$(pl_json "$st" "d['source']['host']")" = "$host" ] || pl_fail "the engine's source is not the clone"
[ "$(pl_json "$st" "d['status']")" = finished ] || pl_fail "the engine is not finished"
[ "$(pl_json "$st" "d['alerts']")" = "{}" ] || pl_fail "the engine has alerts"
[ "$(pl_json "$st" "d['source']['dbname']")" = app ] || pl_fail "dbname"
[ "$(pl_json "$st" "d['source']['username']")" = dblab_reader ] || pl_fail "username"

pl_step 5 rds-clone-delete
[ "$(pl_field 5 "d['deleted']['id']")" = "$clone" ] || pl_fail "deleted.id"
[ "$(pl_field 5 "d['deleted']['alreadyGone']")" = False ] || pl_fail "alreadyGone"
aws=$(pl_aws_state)
status=$(pl_json "$aws" "d['instances'].get('$clone', {}).get('DBInstanceStatus', d['instances'].get('$clone', {}).get('status', 'gone'))")
case "$status" in deleting | gone) ;; *) pl_fail "the clone is $status after the delete" ;; esac
[ "$(pl_json "$aws" "'production-db' in d['instances']")" = True ] || pl_fail "production-db is gone"
[ "$(pl_json "$aws" "'billing-db' in d['instances']")" = True ] || pl_fail "billing-db is gone"
pl_untouched production-db billing-db dblab-refresh-legacy
took=$(( $(date +%s) - start ))
echo "pipeline: ${took}s"

# A refresh pointed at the deleted clone: the engine cannot reach it and alerts.
PL_LAST_ERR=$PL_DIR/again.err
rc=0
"$PL_BIN/dblab-refresh" -config "$PL_DIR/config.yaml" <"$PL_DIR/3.json" >"$PL_DIR/again.json" \
    2>"$PL_LAST_ERR" || rc=$?
pl_no_secret "$PL_DIR/again.json" "$PL_LAST_ERR"
[ "$rc" -eq 88 ] || pl_fail "a refresh from the deleted clone exited $rc, expected 88"
grep -q "ERROR .*the DBLab refresh failed: " "$PL_LAST_ERR" || pl_fail "no alert message"
[ ! -s "$PL_DIR/again.json" ] || pl_fail "output on failure"
echo "ok"
