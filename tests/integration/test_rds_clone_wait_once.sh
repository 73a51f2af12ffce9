#!/bin/bash
# rds-clone-wait -once: the check a scheduler loops over (the Step Functions state
# machine). Not yet = 75 with wait.status "pending" and the document; available =
# 0 with the endpoint; a terminal state = 87; clone.waitTimeout counted from
# wait.startedAt in the document = 82; the not-found grace from wait.notFoundSince.
set -eu
# shellcheck source=tests/lib/rds_testlib.sh disable=SC2034  # RC is read by expect_rc
. "$(dirname "$0")/../lib/rds_testlib.sh"
rds_start rds

run snap rds-snapshot-latest; expect_rc 0

# a restore of 10 emulated minutes: pending, pending, ..., then available
fault '{"type": "restore-outcome", "status": "available", "resource": "instance", "durationSeconds": 600}'
run c1 rds-clone-create -run-id once <"$T/snap.out"; expect_rc 0
run o1 rds-clone-wait -once <"$T/c1.out"; expect_rc 75; validate o1
[ "$(jget o1 .wait.status)" = pending ] || fail "not yet: wait.status $(jget o1 .wait.status)"
[ "$(jget o1 .endpoint)" = null ] || fail "not yet: an endpoint"
started=$(jget o1 .wait.startedAt)
cp "$T/o1.out" "$T/cur.json"
for i in $(seq 1 40); do
    run o2 rds-clone-wait -once <"$T/cur.json"
    [ "$RC" = 75 ] || break
    [ "$(jget o2 .wait.startedAt)" = "$started" ] || fail "check $i: wait.startedAt moved"
    cp "$T/o2.out" "$T/cur.json"
    sleep 0.1
done
expect_rc 0; validate o2
[ "$(jget o2 .wait.status)" = available ] || fail "available: wait.status $(jget o2 .wait.status)"
[ "$(jget o2 .endpoint.port)" = 5432 ] || fail "available: no endpoint"
[ "$(jget o2 .wait.checks)" -ge 2 ] || fail "checks not counted"
run d1 rds-clone-delete <"$T/o2.out"; expect_rc 0

# a terminal state: 87 at once
fault '{"type": "restore-outcome", "status": "incompatible-restore", "resource": "instance", "durationSeconds": 1}'
run c2 rds-clone-create -run-id oncefail <"$T/snap.out"; expect_rc 0
sleep 0.2
run o3 rds-clone-wait -once <"$T/c2.out"; expect_rc 87
err_has o3 "incompatible-restore"
[ ! -s "$T/o3.out" ] || fail "failed: wrote a document"
run d2 rds-clone-delete <"$T/c2.out"; expect_rc 0

# clone.waitTimeout counts from the document's wait.startedAt, not from this call
fault '{"type": "restore-outcome", "status": "stuck", "resource": "instance"}'
run c3 rds-clone-create -run-id oncestuck <"$T/snap.out"; expect_rc 0
run o4 rds-clone-wait -once <"$T/c3.out"; expect_rc 75
jq -c '.wait.startedAt = "2020-01-01T00:00:00Z"' "$T/o4.out" >"$T/old.json"
run o5 rds-clone-wait -once <"$T/old.json"; expect_rc 82
err_has o5 "waitTimeout"
run d3 rds-clone-delete <"$T/c3.out"; expect_rc 0

# never appears: pending within the grace, 86 once wait.notFoundSince is old enough
jq -c '.clone = {"id": "dblab-refresh-never", "kind": "instance", "instances": ["dblab-refresh-never"]}' \
    "$T/snap.out" >"$T/never.json"
run o6 rds-clone-wait -once <"$T/never.json"; expect_rc 75; validate o6
[ "$(jget o6 .wait.notFoundSince)" != null ] || fail "not found: no wait.notFoundSince"
jq -c '.wait.notFoundSince = "2020-01-01T00:00:00Z"' "$T/o6.out" >"$T/gone.json"
run o7 rds-clone-wait -once <"$T/gone.json"; expect_rc 86
err_has o7 "dblab-refresh-never"

# a wait section that is not ours: 65, named
jq -c '.wait = {"status": "pending", "startedAt": "yesterday"}' "$T/o6.out" >"$T/bad.json"
run o8 rds-clone-wait -once <"$T/bad.json"; expect_rc 65
err_has o8 "wait.startedAt"

[ -z "$(managed_left)" ] || fail "left: $(managed_left)"
check_calls
echo ok
