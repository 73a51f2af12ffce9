#!/bin/bash
# rds-clone-create: the retried step adopts its clone; an existing clone that is not
# ours (or from another snapshot) is refused; InsufficientDBInstanceCapacity,
# throttling, 5xx and a lost response; the Aurora roll-back when the writer cannot be
# created; SIGTERM during the create leaves nothing behind; the dry run changes nothing.
set -eu
# shellcheck source=tests/lib/rds_testlib.sh disable=SC2034  # RC is read by expect_rc
. "$(dirname "$0")/../lib/rds_testlib.sh"
rds_start rds

run snap rds-snapshot-latest; expect_rc 0
restores() { calls_json | jq '[.calls[] | select(.action=="RestoreDBInstanceFromDBSnapshot")] | length'; }

# dry run: every read, no change
run dry rds-clone-create -dry-run -run-id r1 <"$T/snap.out"; expect_rc 0; validate dry
[ "$(jget dry .clone.dryRun)" = true ] || fail "dry run: clone.dryRun"
[ "$(jget dry .dryRun)" = true ] || fail "dry run: dryRun"
[ "$(restores)" = 0 ] || fail "dry run restored"

# the first step takes the run id from the scheduler's environment (Airflow: DAG id
# and run id); the create derives the name from (pipeline, run id) and tags both
AIRFLOW_CTX_DAG_ID=refresh-production AIRFLOW_CTX_DAG_RUN_ID="manual__2026-11-26T02:00:00" \
    run afsnap rds-snapshot-latest; expect_rc 0; validate afsnap
[ "$(jget afsnap .runId)" = "refresh-production/manual__2026-11-26T02:00:00" ] || fail "runId: $(jget afsnap .runId)"
[ "$(jget afsnap .pipeline)" = production-db ] || fail "pipeline: $(jget afsnap .pipeline)"
run c1 rds-clone-create <"$T/afsnap.out"
expect_rc 0; validate c1
name=$(jget c1 .clone.id)
case "$name" in dblab-refresh-production-db-refresh-*) ;; *) fail "name from the Airflow run: $name";; esac
[ "$(jget c1 .runId)" = "refresh-production/manual__2026-11-26T02:00:00" ] || fail "c1 runId"
tag_of() { aws_emu_get state | jq -r --arg n "$1" --arg k "$2" '.instances[$n].TagList[] | select(.Key==$k) | .Value'; }
[ "$(tag_of "$name" dblab-rds-refresh:pipeline)" = production-db ] || fail "pipeline tag"
[ "$(tag_of "$name" dblab-rds-refresh:run-id)" = "refresh-production/manual__2026-11-26T02:00:00" ] || fail "run-id tag"
[ "$(tag_of "$name" dblab-rds-refresh:source)" = production-db ] || fail "source tag"
# a retried step adopts its clone
run c2 rds-clone-create <"$T/c1.out"
expect_rc 0; validate c2
[ "$(jget c2 .clone.id)" = "$name" ] || fail "retry: another name"
[ "$(jget c2 .clone.adopted)" = true ] || fail "retry: not adopted"
[ "$(restores)" = 1 ] || fail "retry: restored twice"
[ "$(jget c2 .clone.deleteAfter)" = "$(jget c1 .clone.deleteAfter)" ] || fail "retry: deleteAfter"

# the same name from another snapshot is not adopted
jq -c '.snapshot.id = "production-db-before-upgrade" | .snapshot.type = "manual"' "$T/afsnap.out" >"$T/other.json"
run c3 rds-clone-create <"$T/other.json"
expect_rc 83
err_has c3 "cannot be adopted"
# the same name made by another run is not adopted either (the snapshot alone never
# suffices), and never rolled back
run c4 rds-clone-create -clone-id "$name" -run-id another-run <"$T/afsnap.out"
expect_rc 83
err_has c4 "dblab-rds-refresh:run-id is"
case "$(status_of instances "$name")" in deleting|absent) fail "refused adoption touched the clone";; esac
[ "$(calls_json | jq '[.calls[] | select(.action=="DeleteDBInstance")] | length')" = 0 ] || fail "a delete was sent"
# a document of another pipeline is refused before anything is read from AWS
jq -c '.pipeline = "billing-db"' "$T/afsnap.out" >"$T/otherpl.json"
run c5 rds-clone-create <"$T/otherpl.json"
expect_rc 65
err_has c5 'pipeline "billing-db"'
# a run id that no AWS tag value can hold: one line naming the source
run c6 rds-clone-create -run-id 'a~b' <"$T/snap.out"
expect_rc 64
err_has c6 "-run-id: run id has '~'"
[ "$(status_of instances "$name")" != deleting ] || fail "refused adoption deleted the clone"

# an existing instance that is not ours: refused, untouched
run not_ours rds-clone-create -clone-id dblab-refresh-legacy <"$T/snap.out"
expect_rc 83
err_has not_ours "dblab-refresh-legacy"
err_has not_ours "ManagedBy"

# InsufficientDBInstanceCapacity: a temporary failure, nothing left
fault '{"type": "insufficient-capacity", "action": "RestoreDBInstanceFromDBSnapshot"}'
run cap rds-clone-create -run-id capacity <"$T/snap.out"
expect_rc 75
err_has cap "InsufficientDBInstanceCapacity"
err_has cap "RequestId"
err_has cap "dblab-refresh-production-db-capacity-"

# throttling storm and 5xx during the create: retried, one clone
fault '[{"type": "throttle", "action": "RestoreDBInstanceFromDBSnapshot", "count": 2},
        {"type": "http500", "action": "RestoreDBInstanceFromDBSnapshot", "count": 1}]'
run storm rds-clone-create -run-id storm <"$T/snap.out"
expect_rc 0; validate storm
[ "$(status_of instances "$(jget storm .clone.id)")" != absent ] || fail "storm: no clone"

# the answer is lost after AWS made the clone: the retry finds it and adopts it
fault '{"type": "reset", "action": "RestoreDBInstanceFromDBSnapshot"}'
run lost rds-clone-create -run-id lost <"$T/snap.out"
expect_rc 0; validate lost
[ "$(jget lost .clone.adopted)" = true ] || fail "lost response: not adopted"
n=$(calls_json | jq --arg n "$(jget lost .clone.id)" '[.calls[] | select(.action=="RestoreDBInstanceFromDBSnapshot" and .params.DBInstanceIdentifier==$n and .errorCode==null)] | length')
[ "$n" = 1 ] || fail "lost response: $n restores executed"

# SIGTERM while the create request is in flight: exit 143, the clone is removed
fault '{"type": "slow", "action": "RestoreDBInstanceFromDBSnapshot", "delaySeconds": 3}'
set +e
DBLAB_RDS_REFRESH_POLL_SCALE=0.2 "$DRR_BIN/rds-clone-create" -config "$CFG" -run-id sigterm \
    <"$T/snap.out" >"$T/sig.out" 2>"$T/sig.err" &
pid=$!
wait_log "$T/sig.err" "restoring DB instance"
sleep 0.5
kill -TERM "$pid"
wait "$pid"
RC=$?
set -e
expect_rc 143
[ ! -s "$T/sig.out" ] || fail "SIGTERM: wrote a document"
sleep 0.5
for n in $(managed_left); do
    case "$n" in dblab-refresh-production-db-sigterm-*) fail "SIGTERM left $n behind";; esac
done
err_has sig "roll-back"

check_calls
# Clean up this test's clones, then nothing managed is left.
for n in $(managed_left); do run del rds-clone-delete -clone-id "$n" </dev/null; expect_rc 0; done
[ -z "$(managed_left)" ] || fail "left: $(managed_left)"

# Aurora: the writer cannot be created -> the cluster is removed
rds_seed 'pass'
rds_config aurora-cluster
run asnap rds-snapshot-latest; expect_rc 0
fault '{"type": "insufficient-capacity", "action": "CreateDBInstance"}'
run acreate rds-clone-create -clone-id dblab-refresh-aurora-fail <"$T/asnap.out"
expect_rc 75
err_has acreate "InsufficientDBInstanceCapacity"
st=$(status_of clusters dblab-refresh-aurora-fail)
case "$st" in deleting|absent) ;; *) fail "Aurora roll-back: cluster is $st";; esac
[ -z "$(managed_left)" ] || fail "Aurora roll-back left: $(managed_left)"

# Aurora, SIGTERM while the cluster restore is in flight: the cluster is removed
fault '{"type": "slow", "action": "RestoreDBClusterFromSnapshot", "delaySeconds": 3}'
set +e
DBLAB_RDS_REFRESH_POLL_SCALE=0.2 "$DRR_BIN/rds-clone-create" -config "$CFG" \
    -clone-id dblab-refresh-aurora-sig <"$T/asnap.out" >"$T/asig.out" 2>"$T/asig.err" &
pid=$!
wait_log "$T/asig.err" "restoring DB cluster"
sleep 0.5
kill -TERM "$pid"
wait "$pid"
RC=$?
set -e
expect_rc 143
st=$(status_of clusters dblab-refresh-aurora-sig)
case "$st" in deleting|absent) ;; *) fail "Aurora SIGTERM: cluster is $st";; esac
[ "$(status_of instances dblab-refresh-aurora-sig-instance)" = absent ] || fail "Aurora SIGTERM: writer created"
[ -z "$(managed_left)" ] || fail "Aurora SIGTERM left: $(managed_left)"
check_calls
echo ok
