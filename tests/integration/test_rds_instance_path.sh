#!/bin/bash
# The RDS path end to end against the AWS emulator: snapshot -> create -> wait ->
# delete (-wait), then delete again (idempotent). Every output validates; every
# request is signed and valid; the unmanaged instances are untouched.
set -eu
# shellcheck source=tests/lib/rds_testlib.sh disable=SC2034  # RC is read by expect_rc
. "$(dirname "$0")/../lib/rds_testlib.sh"
rds_start rds

run snap rds-snapshot-latest
expect_rc 0
validate snap
[ "$(jget snap .snapshot.type)" = automated ] || fail "snapshot type"
[ "$(jget snap .snapshot.kind)" = instance ] || fail "snapshot kind"
[ "$(jget snap .source.identifier)" = production-db ] || fail "source"
case "$(jget snap .snapshot.id)" in rds:production-db-*) ;; *) fail "snapshot id $(jget snap .snapshot.id)";; esac
[ "$(jget snap .snapshot.encrypted)" = true ] || fail "encrypted"
[ "$(jget snap .snapshot.port)" = 5432 ] || fail "port"

run create rds-clone-create -run-id "scheduled__2026-11-26T02:00:00+00:00" <"$T/snap.out"
expect_rc 0
validate create
clone=$(jget create .clone.id)
[ "$clone" = dblab-refresh-production-db-scheduled-e4e201b134cca789 ] || fail "clone name $clone"
[ "$(jget create .clone.kind)" = instance ] || fail "clone kind"
[ "$(jget create .clone.adopted)" = false ] || fail "adopted"
[ "$(jget create .runId)" = "scheduled__2026-11-26T02:00:00+00:00" ] || fail "runId"
# The restore carried every clone.* option, the tags, and no deletion protection.
calls_json | jq -e --arg c "$clone" '[.calls[] | select(.action=="RestoreDBInstanceFromDBSnapshot")][0].params
  | .DBInstanceIdentifier == $c and .DBInstanceClass == "db.t3.medium"
    and .DBSubnetGroupName == "dblab-clones" and .PubliclyAccessible == false
    and .EnableIAMDatabaseAuthentication == true and .DeletionProtection == false
    and .DBParameterGroupName == "dblab-clone-postgres16"
    and (.VpcSecurityGroupIds == ["sg-0a1b2c3d4e5f60718"])
    and ([.Tags[] | select(.Key=="ManagedBy" and .Value=="dblab-rds-refresh")] | length == 1)
    and ([.Tags[] | select(.Key=="AutoDelete" and .Value=="true")] | length == 1)
    and ([.Tags[] | select(.Key=="team" and .Value=="data-platform")] | length == 1)
    and ([.Tags[] | select(.Key=="DeleteAfter")] | length == 1)
    and ([.Tags[] | select(.Key=="dblab-rds-refresh:pipeline" and .Value=="production-db")] | length == 1)
    and ([.Tags[] | select(.Key=="dblab-rds-refresh:source" and .Value=="production-db")] | length == 1)
    and ([.Tags[] | select(.Key=="dblab-rds-refresh:run-id" and .Value=="scheduled__2026-11-26T02:00:00+00:00")] | length == 1)' >/dev/null ||
    { calls_json | jq '[.calls[] | select(.action=="RestoreDBInstanceFromDBSnapshot")][0].params' >&2; fail "restore parameters"; }

run wait rds-clone-wait <"$T/create.out"
expect_rc 0
validate wait
[ "$(jget wait .endpoint.port)" = 5432 ] || fail "endpoint port"
case "$(jget wait .endpoint.host)" in "$clone".*) ;; *) fail "endpoint host $(jget wait .endpoint.host)";; esac
[ "$(status_of instances "$clone")" = available ] || fail "clone not available"

run delete rds-clone-delete -wait <"$T/wait.out"
expect_rc 0
validate delete
[ "$(jget delete .deleted.alreadyGone)" = false ] || fail "alreadyGone"
[ "$(jget delete .deleted.id)" = "$clone" ] || fail "deleted id"
[ "$(status_of instances "$clone")" = absent ] || fail "clone still there after -wait"
calls_json | jq -e --arg c "$clone" '[.calls[] | select(.action=="DeleteDBInstance")][0].params
  | .DBInstanceIdentifier == $c and .SkipFinalSnapshot == true and .DeleteAutomatedBackups == true' >/dev/null ||
    fail "delete parameters"

# delete run twice: success, already gone
run delete2 rds-clone-delete <"$T/wait.out"
expect_rc 0
validate delete2
[ "$(jget delete2 .deleted.alreadyGone)" = true ] || fail "second delete: alreadyGone"

[ -z "$(managed_left)" ] || fail "managed clones left: $(managed_left)"
check_calls
echo "ok"
