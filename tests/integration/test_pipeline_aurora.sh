#!/bin/bash
# The whole refresh end to end against both emulators, Aurora cluster source, with
# rdsIam: the engine's dump job calls DescribeDBInstances with the id it was
# given, so it must be the clone's writer INSTANCE (the DBLab emulator checks it
# against the AWS emulator: a cluster id would fail the refresh with
# DBInstanceNotFound). The server.yml is the rdsIam one (no connection host/port).
. tests/lib/pipeline_test.sh
pl_init --time-scale 300 --dblab-seed "$PL_TOP/tests/fixtures/dblab/server-rdsiam.yml"

pl_config "type: aurora-cluster
identifier: production-aurora
dbName: app
username: dblab_iam_reader" "instanceClass: db.r6g.large
subnetGroup: dblab-clones
securityGroups: [sg-0123456789abcdef0]
enableIAMAuth: true"

start=$(date +%s)
pl_step 1 rds-snapshot-latest
[ "$(pl_field 1 "d['snapshot']['kind']")" = cluster ] || pl_fail "not a cluster snapshot"
pl_step 2 rds-clone-create
clone=$(pl_field 2 "d['clone']['id']")
[ "$(pl_field 2 "d['clone']['kind']")" = cluster ] || pl_fail "clone.kind"
pl_step 3 rds-clone-wait
writer=$(pl_field 3 "d['clone'].get('writerInstanceId') or d['endpoint']['instanceId']")
[ -n "$writer" ] && [ "$writer" != "$clone" ] || pl_fail "no writer instance distinct from the cluster"
pl_step 4 dblab-refresh
[ "$(pl_field 4 "d['refresh']['status']")" = finished ] || pl_fail "refresh not finished"

st=$(pl_dblab_state)
[ "$(pl_json "$st" "d['rdsIam']['dbInstanceIdentifier']")" = "$writer" ] ||
    pl_fail "the engine's rdsIam.dbInstanceIdentifier is not the writer instance $writer"
[ "$(pl_json "$st" "d['sourceType']")" = rdsIam ] || pl_fail "source type"
[ "$(pl_json "$st" "d['status']")" = finished ] || pl_fail "the engine is not finished"
[ "$(pl_json "$st" "d['alerts']")" = "{}" ] || pl_fail "the engine has alerts"

pl_step 5 rds-clone-delete -wait
[ "$(pl_field 5 "d['deleted']['id']")" = "$clone" ] || pl_fail "deleted.id"
aws=$(pl_aws_state)
[ "$(pl_json "$aws" "'$clone' in d['clusters'] and d['clusters']['$clone'].get('Status', d['clusters']['$clone'].get('status')) != 'deleting'")" = False ] ||
    pl_fail "the clone cluster is still there"
[ "$(pl_json "$aws" "'production-aurora' in d['clusters']")" = True ] || pl_fail "production-aurora is gone"
pl_untouched production-aurora production-aurora-writer production-aurora-reader-1 production-db billing-db
echo "pipeline: $(( $(date +%s) - start ))s"
echo "ok"
