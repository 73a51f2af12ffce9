#!/bin/bash
# `make demo` keeps working: tests/demo runs the driver (success, clone deleted),
# then the pipeline form; exits 0, prints a valid run document
# (every section, the clone deleted) and the summary, and stops the emulators.
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
for s in ("source", "snapshot", "clone", "endpoint", "refresh", "deleted"):
    assert s in d, s
assert d["refresh"]["status"] == "finished"
assert d["deleted"]["id"] == d["clone"]["id"]
assert d["snapshot"]["id"].startswith("rds:production-db-")
PY
for want in "== \[1/5\] rds-snapshot-latest" "== \[5/5\] rds-clone-delete" "snapshot used +rds:production-db-" \
    "clone deleted +dblab-refresh-.* \(gone\)" "dblab-refresh +[0-9.]+s" "total +[0-9.]+s"; do
    grep -E -q -- "$want" "$dir/err" || fail "stderr lacks: $want"
done
echo "ok (${took}s)"
