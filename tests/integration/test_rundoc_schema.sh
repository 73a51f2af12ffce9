#!/bin/sh
# The run document's JSON Schema (docs/run-document.schema.json) and its
# validator (tests/lib/validate_rundoc.py): every valid fixture passes, every
# invalid one fails naming the offending field.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 70
PY=/usr/bin/python3
V=tests/lib/validate_rundoc.py
fx=tests/fixtures/rundoc
tmp=$(mktemp -d "${TMPDIR:-/tmp}/drr-rundoc-schema.XXXXXX") || exit 70
trap 'rm -rf "$tmp"' EXIT INT TERM
fails=0 n=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

for f in "$fx"/valid/*.json; do
    n=$((n + 1))
    if $PY "$V" <"$f" 2>"$tmp/err"; then echo "ok: valid $(basename "$f")"
    else fail "$(basename "$f") rejected:"; cat "$tmp/err"; fi
    # the file argument works the same as stdin
    $PY "$V" "$f" 2>/dev/null || fail "$(basename "$f") rejected as a file argument"
done
for f in "$fx"/invalid/*.json; do
    n=$((n + 1))
    want=$(cat "${f%.json}.expect")
    if $PY "$V" <"$f" 2>"$tmp/err"; then
        fail "$(basename "$f") accepted"
    elif [ $? -ne 1 ]; then
        fail "$(basename "$f"): exit code is not 1"
    elif grep -qF -- "$want" "$tmp/err"; then
        echo "ok: invalid $(basename "$f"): $(head -n 1 "$tmp/err")"
    else
        fail "$(basename "$f"): message lacks '$want':"; cat "$tmp/err"
    fi
done

# --require names a missing section
if $PY "$V" --require source,clone <"$fx/valid/minimal.json" 2>"$tmp/err"; then
    fail "--require accepted a document without its sections"
else
    grep -qF "source: required section missing" "$tmp/err" || fail "--require message"
fi
$PY "$V" --require source,snapshot,clone,endpoint,refresh,deleted <"$fx/valid/rds-full-run.json" \
    || fail "--require on the full run"
# empty input
printf '' | $PY "$V" 2>/dev/null && fail "empty input accepted"

[ "$fails" -eq 0 ] || { echo "$fails failure(s) of $n"; exit 1; }
echo "all $n fixtures behave"
