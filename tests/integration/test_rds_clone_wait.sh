#!/bin/bash
# rds-clone-wait: a restore ending in incompatible-restore (87), clone.waitTimeout
# (82), the not-found of eventual consistency right after the create (tolerated),
# a clone that never appears (86), throttling and 5xx during the wait, an Aurora
# cluster failing, SIGTERM (143), -check-connect on an endpoint that does not answer.
set -eu
# shellcheck source=tests/lib/rds_testlib.sh disable=SC2034  # RC is read by expect_rc
. "$(dirname "$0")/../lib/rds_testlib.sh"
rds_start rds

run snap rds-snapshot-latest; expect_rc 0

# incompatible-restore: fails fast with 87
fault '{"type": "restore-outcome", "status": "incompatible-restore", "resource": "instance", "durationSeconds": 120}'
run c1 rds-clone-create -run-id incompatible <"$T/snap.out"; expect_rc 0
run w1 rds-clone-wait <"$T/c1.out"; expect_rc 87
err_has w1 "incompatible-restore"
err_has w1 "$(jget c1 .clone.id)"
run d1 rds-clone-delete <"$T/c1.out"; expect_rc 0   # a failed clone is still deleted

# throttling storm and 5xx while waiting: survived
run c2 rds-clone-create -run-id storm <"$T/snap.out"; expect_rc 0
fault '[{"type": "throttle", "action": "DescribeDBInstances", "count": 3},
        {"type": "http503", "action": "DescribeDBInstances", "count": 2},
        {"type": "http500", "action": "DescribeDBInstances", "count": 1}]'
run w2 rds-clone-wait <"$T/c2.out"; expect_rc 0; validate w2
run d2 rds-clone-delete <"$T/w2.out"; expect_rc 0

# not found right after the create: tolerated until the clone shows up
jq -c '.clone = {"id": "dblab-refresh-late", "kind": "instance", "instances": ["dblab-refresh-late"]}' \
    "$T/snap.out" >"$T/late.json"
set +e
DBLAB_RDS_REFRESH_POLL_SCALE=0.1 "$DRR_BIN/rds-clone-wait" -config "$CFG" <"$T/late.json" >"$T/w3.out" 2>"$T/w3.err" &
pid=$!
set -e
wait_log "$T/w3.err" "not found yet"
run c3 rds-clone-create -clone-id dblab-refresh-late <"$T/snap.out"; expect_rc 0
set +e; wait "$pid"; RC=$?; set -e
expect_rc 0; validate w3
err_has w3 "not found yet"
run d3 rds-clone-delete -clone-id dblab-refresh-late </dev/null; expect_rc 0

# never appears: 86 once the grace period is over
jq -c '.clone.id = "dblab-refresh-never" | .clone.instances = ["dblab-refresh-never"]' "$T/late.json" >"$T/never.json"
run w4 rds-clone-wait <"$T/never.json"; expect_rc 86
err_has w4 "dblab-refresh-never"

# clone.waitTimeout: a restore that never ends -> 82
rds_config rds -- "waitTimeout: 2s"
fault '{"type": "restore-outcome", "status": "stuck", "resource": "instance"}'
run c5 rds-clone-create -run-id stuck <"$T/snap.out"; expect_rc 0
run w5 rds-clone-wait <"$T/c5.out"; expect_rc 82
err_has w5 "waitTimeout"
run d5 rds-clone-delete <"$T/c5.out"; expect_rc 0

# SIGTERM while waiting: 128+15, promptly
rds_config rds
fault '{"type": "restore-outcome", "status": "stuck", "resource": "instance"}'
run c6 rds-clone-create -run-id sigterm <"$T/snap.out"; expect_rc 0
set +e
"$DRR_BIN/rds-clone-wait" -config "$CFG" <"$T/c6.out" >"$T/w6.out" 2>"$T/w6.err" &
pid=$!
wait_log "$T/w6.err" "creating"
kill -TERM "$pid"
wait "$pid"; RC=$?
set -e
expect_rc 143
[ ! -s "$T/w6.out" ] || fail "SIGTERM: wrote a document"
run d6 rds-clone-delete <"$T/c6.out"; expect_rc 0

# -check-connect: the emulator's endpoint names do not resolve here -> 87, named
run c7 rds-clone-create -run-id connect <"$T/snap.out"; expect_rc 0
run w7 rds-clone-wait -check-connect <"$T/c7.out"; expect_rc 87
err_has w7 "endpoint"
run d7 rds-clone-delete <"$T/c7.out"; expect_rc 0

# dry run: one read, no endpoint for a clone that does not exist
run w8 rds-clone-wait -dry-run <"$T/never.json"; expect_rc 0; validate w8
[ "$(jget w8 .endpoint)" = null ] || fail "dry run: endpoint"

check_calls
[ -z "$(managed_left)" ] || fail "left: $(managed_left)"

# Aurora: the cluster fails -> 87
rds_seed 'pass'
rds_config aurora-cluster
run asnap rds-snapshot-latest; expect_rc 0
fault '{"type": "restore-outcome", "status": "failed", "resource": "cluster", "durationSeconds": 60}'
run ac rds-clone-create -clone-id dblab-refresh-aurora-failed <"$T/asnap.out"; expect_rc 0
run aw rds-clone-wait <"$T/ac.out"; expect_rc 87
err_has aw "failed"
run ad rds-clone-delete -wait <"$T/ac.out"; expect_rc 0
[ -z "$(managed_left)" ] || fail "left: $(managed_left)"
check_calls
echo ok
