#!/bin/sh
# The run document's JSON Schema (docs/run-document.schema.json) and its
# validator (tests/lib/validate_rundoc.py): every valid fixture passes, every
# invalid one fails naming the offending field; then the validator's CLI.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 70
PY=/usr/bin/python3
export PYTHONDONTWRITEBYTECODE=1
V=tests/lib/validate_rundoc.py
fx=tests/fixtures/rundoc
tmp=$(mktemp -d "${TMPDIR:-/tmp}/drr-rundoc-schema.XXXXXX") || exit 70
trap 'rm -rf "$tmp"' EXIT INT TERM
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# All fixtures in one Python process (importing jsonschema takes most of a second).
$PY - "$fx" <<'PYEOF' || fails=$((fails + 1))
import glob, os, sys
sys.path.insert(0, "tests/lib")
import validate_rundoc as v
fx = sys.argv[1]
validator = v.load_validator()
bad = 0
for f in sorted(glob.glob(os.path.join(fx, "valid", "*.json"))):
    problems = v.check(open(f, "rb").read(), os.path.basename(f), validator)
    if problems:
        print("FAIL: valid fixture rejected:", *problems, sep="\n  ")
        bad += 1
    else:
        print("ok: valid", os.path.basename(f))
for f in sorted(glob.glob(os.path.join(fx, "invalid", "*.json"))):
    want = open(f[:-5] + ".expect").read().strip()
    problems = v.check(open(f, "rb").read(), os.path.basename(f), validator)
    if not problems:
        print("FAIL: invalid fixture accepted:", f)
        bad += 1
    elif not any(want in p for p in problems):
        print("FAIL: %s: no problem mentions %r:" % (f, want), *problems, sep="\n  ")
        bad += 1
    else:
        print("ok: invalid", os.path.basename(f), "->", problems[0])
sys.exit(1 if bad else 0)
PYEOF

# The command line: stdin, file arguments, --require, exit codes.
$PY "$V" <"$fx/valid/rds-full-run.json" || fail "stdin: valid document rejected"
$PY "$V" --require source,snapshot,clone,endpoint,refresh,deleted "$fx/valid/rds-full-run.json" "$fx/valid/minimal.json" \
    2>"$tmp/err" && fail "--require accepted minimal.json"
grep -qF "$fx/valid/minimal.json: source: required section missing" "$tmp/err" || fail "--require message"
$PY "$V" <"$fx/invalid/bad-kind.json" 2>"$tmp/err"
[ $? -eq 1 ] || fail "invalid document: exit code is not 1"
grep -qF "stdin: clone.kind:" "$tmp/err" || fail "invalid document: message lacks the path"
printf '' | $PY "$V" 2>/dev/null && fail "empty input accepted"
$PY "$V" "$tmp/nonexistent.json" 2>/dev/null
[ $? -eq 2 ] || fail "unreadable file: exit code is not 2"

[ "$fails" -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all passed"
