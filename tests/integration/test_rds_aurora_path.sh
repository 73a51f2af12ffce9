#!/bin/bash
# The Aurora path end to end: cluster snapshot -> RestoreDBClusterFromSnapshot
# (engine and version from the snapshot) + CreateDBInstance NAME-instance -> wait
# for the writer AND the cluster -> delete the member, then the cluster.
set -eu
# shellcheck source=tests/lib/rds_testlib.sh disable=SC2034  # RC is read by expect_rc
. "$(dirname "$0")/../lib/rds_testlib.sh"
rds_start aurora-cluster

run snap rds-snapshot-latest
expect_rc 0
validate snap
[ "$(jget snap .snapshot.kind)" = cluster ] || fail "snapshot kind"
[ "$(jget snap .snapshot.engine)" = aurora-postgresql ] || fail "engine"
case "$(jget snap .snapshot.id)" in rds:production-aurora-*) ;; *) fail "snapshot id";; esac

run create rds-clone-create -clone-id dblab-refresh-aurora-test <"$T/snap.out"
expect_rc 0
validate create
[ "$(jget create .clone.id)" = dblab-refresh-aurora-test ] || fail "clone id"
[ "$(jget create .clone.kind)" = cluster ] || fail "clone kind"
[ "$(jget create .clone.writerInstanceId)" = dblab-refresh-aurora-test-instance ] || fail "writer"
[ "$(jget create '.clone.instances[0]')" = dblab-refresh-aurora-test-instance ] || fail "instances"
calls_json | jq -e --arg v "$(jget snap .snapshot.engineVersion)" '
  ([.calls[] | select(.action=="RestoreDBClusterFromSnapshot")][0].params
   | .DBClusterIdentifier == "dblab-refresh-aurora-test" and .Engine == "aurora-postgresql"
     and .EngineVersion == $v and .DeletionProtection == false
     and .DBSubnetGroupName == "dblab-clones"
     and ([.Tags[] | select(.Key=="ManagedBy")] | length == 1)
     and ([.Tags[] | select(.Key=="dblab-rds-refresh:pipeline" and .Value=="production-aurora")] | length == 1)
     and ([.Tags[] | select(.Key=="dblab-rds-refresh:run-id")] | length == 1))
  and ([.calls[] | select(.action=="CreateDBInstance")][0].params
   | .DBInstanceIdentifier == "dblab-refresh-aurora-test-instance"
     and .DBClusterIdentifier == "dblab-refresh-aurora-test" and .Engine == "aurora-postgresql"
     and .DBInstanceClass == "db.t3.medium"
     and ([.Tags[] | select(.Key=="ManagedBy")] | length == 1)
     and ([.Tags[] | select(.Key=="dblab-rds-refresh:pipeline" and .Value=="production-aurora")] | length == 1)
     and ([.Tags[] | select(.Key=="dblab-rds-refresh:run-id")] | length == 1))' >/dev/null ||
    fail "restore/create parameters"

run wait rds-clone-wait <"$T/create.out"
expect_rc 0
validate wait
case "$(jget wait .endpoint.host)" in dblab-refresh-aurora-test.cluster-*) ;; *) fail "endpoint host $(jget wait .endpoint.host)";; esac
[ "$(jget wait .endpoint.instanceId)" = dblab-refresh-aurora-test-instance ] || fail "instanceId"
[ "$(status_of clusters dblab-refresh-aurora-test)" = available ] || fail "cluster status"

# -wait waits for the cluster AND its members: a member deleting 40x longer than
# its cluster must still be waited for.
aws_emu_post config '{"durations": {"instance-deleting": 2400, "cluster-deleting": 60}}' >/dev/null
run delete rds-clone-delete -wait <"$T/wait.out"
expect_rc 0
validate delete
[ "$(jget delete '.deleted.instances | index("dblab-refresh-aurora-test-instance") != null')" = true ] || fail "deleted instances"
[ "$(status_of clusters dblab-refresh-aurora-test)" = absent ] || fail "cluster left"
[ "$(status_of instances dblab-refresh-aurora-test-instance)" = absent ] || fail "member left"
# members first, then the cluster with SkipFinalSnapshot
calls_json | jq -e '[.calls[] | select(.action=="DeleteDBInstance" or .action=="DeleteDBCluster") | .action]
  | .[0] == "DeleteDBInstance" and .[-1] == "DeleteDBCluster"' >/dev/null || fail "delete order"
calls_json | jq -e '[.calls[] | select(.action=="DeleteDBCluster")][0].params.SkipFinalSnapshot == true' >/dev/null ||
    fail "SkipFinalSnapshot"

run delete2 rds-clone-delete <"$T/wait.out"
expect_rc 0
[ "$(jget delete2 .deleted.alreadyGone)" = true ] || fail "second delete"

# The guard: the source cluster and its members are refused by name alone.
run guard rds-clone-delete -clone-id production-aurora </dev/null
expect_rc 83
err_has guard "configured source"

[ -z "$(managed_left)" ] || fail "managed clones left: $(managed_left)"
check_calls
echo ok
