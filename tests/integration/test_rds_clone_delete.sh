#!/bin/bash
# rds-clone-delete: the guard refuses an unmanaged instance (billing-db), the trap
# with our prefix but not our tag (dblab-refresh-legacy) and the configured source
# even when it carries our name and tags; a clone still being created is deleted;
# throttling and 5xx during the delete; the dry run; delete twice.
set -eu
# shellcheck source=tests/lib/rds_testlib.sh disable=SC2034  # RC is read by expect_rc
. "$(dirname "$0")/../lib/rds_testlib.sh"
rds_start rds

for target in billing-db dblab-refresh-legacy production-db; do
    run "g-$target" rds-clone-delete -clone-id "$target" </dev/null; expect_rc 83
    [ ! -s "$T/g-$target.out" ] || fail "guard: $target wrote a document"
done
err_has g-billing-db "does not start with"
err_has g-dblab-refresh-legacy "ManagedBy"
err_has g-production-db "configured source"
# the guard is applied to what AWS says, also when the document names the target
jq -nc '{apiVersion: "dblab-rds-refresh/v1", clone: {id: "dblab-refresh-legacy", kind: "instance"}}' >"$T/legacy.json"
run g-doc rds-clone-delete <"$T/legacy.json"; expect_rc 83
run g-dry rds-clone-delete -dry-run <"$T/legacy.json"; expect_rc 83

# a source that looks exactly like a managed clone is still the source
rds_seed 'f["instances"].append({"id": "dblab-refresh-source", "engine": "postgres",
    "engineVersion": "16.4", "ageDays": 3, "automatedSnapshots": {"count": 2},
    "tags": {"ManagedBy": "dblab-rds-refresh", "AutoDelete": "true",
             "DeleteAfter": "2000-01-01T00:00:00Z"}})'
RDS_UNMANAGED="$RDS_UNMANAGED dblab-refresh-source"
sed -i 's/identifier: production-db/identifier: dblab-refresh-source/' "$CFG"
run g-src rds-clone-delete -clone-id dblab-refresh-source </dev/null; expect_rc 83
err_has g-src "configured source"
run g-gc rds-clone-gc; expect_rc 0
[ "$(jget g-gc '.found | length')" = 0 ] || fail "gc would collect the source"
[ "$(status_of instances dblab-refresh-source)" = available ] || fail "the source was touched"
rds_config rds

# a clone still being created is deleted; the dry run only reads
run snap rds-snapshot-latest; expect_rc 0
aws_emu_post time-scale '{"timeScale": 1}' >/dev/null
run c1 rds-clone-create -run-id creating <"$T/snap.out"; expect_rc 0
[ "$(status_of instances "$(jget c1 .clone.id)")" = creating ] || fail "not creating"
run dry rds-clone-delete -dry-run <"$T/c1.out"; expect_rc 0; validate dry
[ "$(jget dry .deleted.dryRun)" = true ] || fail "dry run: deleted.dryRun"
[ "$(status_of instances "$(jget c1 .clone.id)")" = creating ] || fail "dry run deleted"
fault '[{"type": "throttle", "action": "DeleteDBInstance", "count": 2},
        {"type": "http503", "action": "DescribeDBInstances", "count": 2}]'
run d1 rds-clone-delete <"$T/c1.out"; expect_rc 0; validate d1
[ "$(jget d1 .deleted.alreadyGone)" = false ] || fail "alreadyGone"
st=$(status_of instances "$(jget c1 .clone.id)")
case "$st" in deleting|absent) ;; *) fail "creating clone not deleted: $st";; esac
aws_emu_post time-scale "{\"timeScale\": $RDS_TIME_SCALE}" >/dev/null

# twice: the second finds it deleting or gone -> success, alreadyGone
run d2 rds-clone-delete <"$T/c1.out"; expect_rc 0; validate d2
[ "$(jget d2 .deleted.alreadyGone)" = true ] || fail "second delete: alreadyGone"
# and -wait returns once it is gone
run d3 rds-clone-delete -wait <"$T/c1.out"; expect_rc 0
[ "$(status_of instances "$(jget c1 .clone.id)")" = absent ] || fail "-wait: still there"

# -run-id: the clone of a create whose document was lost (killed after AWS accepted
# it) is found by the name create derives from the run id; no document is read
run c3 rds-clone-create -run-id "scheduled__2026-11-26T02:00:00+00:00" <"$T/snap.out"; expect_rc 0
run r1 rds-clone-delete -run-id "scheduled__2026-11-26T02:00:00+00:00" </dev/null; expect_rc 0
validate r1
[ "$(jget r1 .deleted.id)" = "$(jget c3 .clone.id)" ] || fail "-run-id: deleted $(jget r1 .deleted.id)"
[ "$(jget r1 .deleted.alreadyGone)" = false ] || fail "-run-id: alreadyGone"
case "$(status_of instances "$(jget c3 .clone.id)")" in deleting|absent) ;;
    *) fail "-run-id: the clone was not deleted";; esac
run r2 rds-clone-delete -run-id "scheduled__2026-11-26T02:00:00+00:00" </dev/null; expect_rc 0
[ "$(jget r2 .deleted.alreadyGone)" = true ] || fail "-run-id twice: alreadyGone"
run r3 rds-clone-delete -run-id "never-created" -grace 1s </dev/null; expect_rc 0
[ "$(jget r3 .deleted.alreadyGone)" = true ] || fail "-run-id of no clone: alreadyGone"
# -clone-id with -run-id (create's roll-back in a child): that name, proven to be
# that run's clone; another run's clone of this pipeline is refused
run c4 rds-clone-create -run-id run-four <"$T/snap.out"; expect_rc 0
run r4 rds-clone-delete -clone-id "$(jget c4 .clone.id)" -run-id run-five </dev/null; expect_rc 83
err_has r4 'dblab-rds-refresh:run-id is "run-four", this run is "run-five"'
case "$(status_of instances "$(jget c4 .clone.id)")" in deleting|absent) fail "r4 deleted";; esac
# the document names its run: a document whose runId is not the clone's is refused
jq -c '.runId = "run-five"' "$T/c4.out" >"$T/c4-other-run.json"
run r5 rds-clone-delete <"$T/c4-other-run.json"; expect_rc 83
err_has r5 "dblab-rds-refresh:run-id"
jq -c '.pipeline = "billing-db"' "$T/c4.out" >"$T/c4-other-pipeline.json"
run r6 rds-clone-delete <"$T/c4-other-pipeline.json"; expect_rc 65
err_has r6 'pipeline "billing-db"'
run r7 rds-clone-delete -clone-id "$(jget c4 .clone.id)" -run-id run-four </dev/null; expect_rc 0
[ "$(jget r7 .deleted.alreadyGone)" = false ] || fail "r7: alreadyGone"
run r8 rds-clone-delete -run-id 'a b' </dev/null; expect_rc 64
err_has r8 "-run-id: run id has"

# an error that is not retryable: named, with AWS's code, message and RequestId
run c2 rds-clone-create -run-id denied <"$T/snap.out"; expect_rc 0
fault '{"type": "error", "action": "DeleteDBInstance", "code": "AccessDenied", "httpStatus": 403,
        "message": "User is not authorized to perform: rds:DeleteDBInstance"}'
run d4 rds-clone-delete <"$T/c2.out"; expect_rc 80
err_has d4 "$(jget c2 .clone.id)"
err_has d4 "AccessDenied"
err_has d4 "not authorized"
err_has d4 "RequestId"
run d5 rds-clone-delete <"$T/c2.out"; expect_rc 0

[ "$(managed_left)" = dblab-refresh-source ] || fail "left: $(managed_left)"
check_calls
echo ok
