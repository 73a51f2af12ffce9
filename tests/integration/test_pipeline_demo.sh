#!/bin/bash
# `make demo` keeps working: tests/demo runs the driver (success, clone deleted),
# then the pipeline form; exits 0, prints a valid run document
# (every section, the clone deleted) and the summary, and stops the emulators.
# It restores production-db at its latest restorable time (restoreFrom: latest)
# and prints the data's age honestly: dataAsOf is the restore time, the age at
# the refresh's start is minutes (not a future dataStateAt, not a day-old snapshot).
# Alone it takes about 15 s (the issue's bound is 60 s); here it shares the
# machine with the other integration tests, so the bound is DRR_DEMO_LIMIT
# (default 120 s) to catch a hang or a real slowdown without flaking.
set -u
[ -f tests/emulators/aws_emulator.py ] || { echo "SKIP: the AWS emulator is not there yet"; exit 77; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/demo-test.XXXXXX") || exit 70
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*" >&2; sed 's/^/    /' "$dir/err" >&2; exit 1; }

start=$(date +%s)
rc=0
tests/demo >"$dir/out" 2>"$dir/err" || rc=$?
took=$(( $(date +%s) - start ))
[ "$rc" -eq 0 ] || fail "tests/demo exited $rc"
limit=${DRR_DEMO_LIMIT:-120}
[ "$took" -lt "$limit" ] || fail "tests/demo took ${took}s (limit ${limit}s)"
# The driver ran first, the main job: its result line in the log.
grep -q "== The driver: dblab-rds-refresh -config config.yaml" "$dir/err" || fail "the driver did not run"
grep -Eq "outcome success \(exit 0\), clone dblab-refresh-[a-z0-9-]+, deleted: True" "$dir/err" ||
    fail "the driver's result is not a success with the clone deleted"
/usr/bin/python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)))' <"$dir/out" >"$dir/doc.json" ||
    fail "stdout is not one JSON document"
/usr/bin/python3 tests/lib/validate_rundoc.py <"$dir/doc.json" || fail "the final document does not validate"
/usr/bin/python3 - "$dir/doc.json" <<'PY' || fail "the final document is incomplete"
import json, sys
d = json.load(open(sys.argv[1]))
import datetime
for s in ("source", "restore", "dataAsOf", "clone", "endpoint", "refresh", "deleted"):
    assert s in d, s
assert "snapshot" not in d
assert d["refresh"]["status"] == "finished"
assert d["deleted"]["id"] == d["clone"]["id"]
assert d["dataAsOf"] == d["restore"]["time"] == d["restore"]["latestRestorableTime"]
t = lambda s: datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
age = d["refresh"]["dataAgeAtStartSeconds"]
assert age == (t(d["refresh"]["startedAt"]) - t(d["dataAsOf"])).total_seconds(), age
# RDS's latest restorable time trails by about five minutes; a snapshot is hours old.
assert 0 < age < 900, age
# The engine's label is on the real clock: never in the future.
assert t(d["refresh"]["dataStateAt"]) <= datetime.datetime.now(datetime.timezone.utc), d["refresh"]
PY
for want in "== \[1/5\] rds-snapshot-latest" "== \[5/5\] rds-clone-delete" \
    "restored to +20[0-9-]+T[0-9:]+Z" "data as of +20[0-9-]+T[0-9:]+Z: [0-9]+s old when the refresh started" \
    "engine's dataStateAt" \
    "clone deleted +dblab-refresh-.* \(gone\)" "dblab-refresh +[0-9.]+s" "total +[0-9.]+s"; do
    grep -E -q -- "$want" "$dir/err" || fail "stderr lacks: $want"
done
echo "ok (${took}s)"
