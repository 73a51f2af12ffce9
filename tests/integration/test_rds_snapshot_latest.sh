#!/bin/bash
# rds-snapshot-latest: snapshotType selection, maxSnapshotAge, named snapshots (name,
# ARN, shared), no snapshot, only unavailable snapshots, more than 100 snapshots
# (every page), throttling and 5xx, Aurora.
set -eu
# shellcheck source=tests/lib/rds_testlib.sh disable=SC2034  # RC is read by expect_rc
. "$(dirname "$0")/../lib/rds_testlib.sh"
rds_start rds

snap_id() { jget "$1" .snapshot.id; }

# snapshotType: automated (default), manual, awsbackup, shared, any
run auto rds-snapshot-latest; expect_rc 0; validate auto
case "$(snap_id auto)" in rds:production-db-*) ;; *) fail "automated: $(snap_id auto)";; esac
rds_config rds "snapshotType: manual"
run manual rds-snapshot-latest; expect_rc 0; validate manual
[ "$(snap_id manual)" = production-db-before-upgrade ] || fail "manual: $(snap_id manual)"
[ "$(jget manual .snapshot.type)" = manual ] || fail "manual type"
rds_config rds "snapshotType: awsbackup"
run backup rds-snapshot-latest; expect_rc 0; validate backup
case "$(snap_id backup)" in awsbackup:job-*) ;; *) fail "awsbackup: $(snap_id backup)";; esac
rds_config rds "snapshotType: shared"
run shared rds-snapshot-latest; expect_rc 0; validate shared
case "$(snap_id shared)" in *:shared-production-db-export) ;; *) fail "shared: $(snap_id shared)";; esac  # AWS names a shared snapshot by its ARN
[ "$(jget shared .snapshot.type)" = shared ] || fail "shared type"
case "$(jget shared .snapshot.arn)" in arn:aws:rds:us-east-1:210987654321:snapshot:*) ;; *) fail "shared arn";; esac
rds_config rds "snapshotType: any"
run any rds-snapshot-latest; expect_rc 0; validate any
# "any" is the newest of every type. The fixture's snapshots are placed by wall-clock
# time (automated daily at 03:07, AWS Backup 20 h ago, ...), so which one is newest
# depends on when the test runs: compute it from what the per-type lookups found.
newest=auto
for k in manual backup; do
    [[ "$(jget $k .snapshot.createTime)" > "$(jget $newest .snapshot.createTime)" ]] && newest=$k
done
[ "$(snap_id any)" = "$(snap_id $newest)" ] || fail "any: $(snap_id any), want $(snap_id $newest) ($newest)"

# maxSnapshotAge shorter than the newest automated snapshot's age. Right after
# 03:07 that snapshot is only seconds old: make sure it is at least 2 s old.
created=$(date -u -d "$(jget auto .snapshot.createTime)" +%s)
[ $(( $(date +%s) - created )) -ge 2 ] || sleep 2
rds_config rds "maxSnapshotAge: 1s"
run stale rds-snapshot-latest; expect_rc 85
err_has stale "maxSnapshotAge"
[ ! -s "$T/stale.out" ] || fail "stale: wrote a document"
rds_config rds "maxSnapshotAge: 8d"
run fresh rds-snapshot-latest; expect_rc 0

# named snapshots: by name, automated by name, by ARN (shared), not found
rds_config rds "snapshotIdentifier: production-db-before-upgrade"
run named rds-snapshot-latest; expect_rc 0; validate named
[ "$(snap_id named)" = production-db-before-upgrade ] || fail "named"
rds_config rds "snapshotIdentifier: \"$(snap_id auto)\""
run named_auto rds-snapshot-latest; expect_rc 0
[ "$(snap_id named_auto)" = "$(snap_id auto)" ] || fail "named automated"
arn=$(jget shared .snapshot.arn)
rds_config rds "snapshotIdentifier: \"$arn\""
run by_arn rds-snapshot-latest; expect_rc 0; validate by_arn
[ "$(jget by_arn .snapshot.arn)" = "$arn" ] || fail "shared by ARN"
[ "$(jget by_arn .snapshot.type)" = shared ] || fail "shared by ARN: type"
rds_config rds "snapshotIdentifier: no-such-snapshot"
run missing rds-snapshot-latest; expect_rc 86
err_has missing "no-such-snapshot"
err_has missing "not found: DBSnapshotNotFound"
err_has missing "RequestId"

# An Aurora cluster snapshot is not of an RDS source's family (cluster snapshots are
# not even DB snapshots): not found.
rds_config rds "snapshotIdentifier: production-aurora-manual-quarterly"
run wrong rds-snapshot-latest; expect_rc 86

# no snapshot at all
rds_seed 'i = inst(f, "production-db"); i["automatedSnapshots"]["count"] = 0; i["snapshots"] = []'
rds_config rds
run none rds-snapshot-latest; expect_rc 86
err_has none "no automated snapshot of instance production-db"

# only snapshots that are not available (at real-time speed, so that "creating" stays)
aws_emu_post time-scale '{"timeScale": 1}' >/dev/null
rds_seed 'i = inst(f, "production-db"); i["automatedSnapshots"]["count"] = 0; i["snapshots"] = [
    {"id": "rds:production-db-2026-01-01-03-07", "type": "automated", "ageHours": 2, "status": "creating"},
    {"id": "rds:production-db-2026-01-01-02-07", "type": "automated", "ageHours": 3, "status": "failed"}]'
run unavailable rds-snapshot-latest; expect_rc 86
err_has unavailable "none available"
aws_emu_post time-scale "{\"timeScale\": $RDS_TIME_SCALE}" >/dev/null

# more than 100 snapshots: the newest sorts last, on the third page
# (the default daily 03:07 snapshots are dropped: right after 03:07 one of them would
# be newer than zz-newest, which is 30 minutes old)
rds_seed 'i = inst(f, "production-db"); i.pop("automatedSnapshots", None); i["snapshots"] = [
    {"id": "rds:production-db-bulk", "type": "automated", "count": 230, "ageDays": 9, "intervalHours": 1},
    {"id": "rds:production-db-zz-newest", "type": "automated", "ageHours": 0.5}]'
aws_emu_post calls/reset >/dev/null
run pages rds-snapshot-latest; expect_rc 0; validate pages
[ "$(snap_id pages)" = rds:production-db-zz-newest ] || fail "pagination: $(snap_id pages)"
n=$(calls_json | jq '[.calls[] | select(.action=="DescribeDBSnapshots")] | length')
[ "$n" -ge 3 ] || fail "pagination: only $n DescribeDBSnapshots call(s)"
calls_json | jq -e '[.calls[] | select(.action=="DescribeDBSnapshots") | .params]
   | (.[0].Marker == null) and (.[1].Marker != null) and all(.MaxRecords == 100)' >/dev/null ||
   fail "pagination: Marker/MaxRecords"

# throttling storm and 5xx: retried, then success
fault '[{"type": "throttle", "action": "DescribeDBSnapshots", "count": 3},
        {"type": "http503", "action": "DescribeDBSnapshots", "count": 1},
        {"type": "http500", "action": "DescribeDBSnapshots", "count": 1}]'
run storm rds-snapshot-latest; expect_rc 0; validate storm
[ "$(snap_id storm)" = rds:production-db-zz-newest ] || fail "storm"
# a storm longer than the attempts: a clean temporary failure naming the RequestId
fault '{"type": "throttle", "action": "DescribeDBSnapshots", "count": 50}'
run storm2 rds-snapshot-latest; expect_rc 75
err_has storm2 "Throttling"
err_has storm2 "RequestId"
clear_faults

# Aurora: cluster snapshots; awsbackup does not apply
rds_seed 'pass'
rds_config aurora-cluster
run aurora rds-snapshot-latest; expect_rc 0; validate aurora
case "$(snap_id aurora)" in rds:production-aurora-*) ;; *) fail "aurora: $(snap_id aurora)";; esac
rds_config aurora-cluster "snapshotType: shared"
run aurora_shared rds-snapshot-latest; expect_rc 0; validate aurora_shared
case "$(snap_id aurora_shared)" in *:shared-production-aurora-export) ;; *) fail "aurora shared";; esac
rds_config aurora-cluster "snapshotType: awsbackup"
run aurora_backup rds-snapshot-latest; expect_rc 78

check_calls
echo ok
