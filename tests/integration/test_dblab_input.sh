#!/bin/bash
# dblab-refresh checks its input document before any network call: a bad
# endpoint section is 65 (naming the field) even when the engine is unreachable,
# not 75 after retries against it.
set -u
T=$(mktemp -d "${TMPDIR:-/tmp}/drr-dblab-input.XXXXXX") || exit 70
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$T/err" ] && sed 's/^/    /' "$T/err" >&2; exit 1; }
umask 077
DBLAB_TOKEN="tok-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
export DBLAB_TOKEN
cat >"$T/config.yaml" <<'YAML'
source: {type: rds, identifier: production-db}
clone: {instanceClass: db.t3.medium}
dblab: {apiEndpoint: "http://127.0.0.1:1", token: "${DBLAB_TOKEN}"}
aws: {region: us-east-1}
YAML
check() { # name expected-error-regex document
    printf '%s\n' "$3" >"$T/in.json"
    start=$(date +%s)
    "$DRR_BIN/dblab-refresh" -config "$T/config.yaml" -in "$T/in.json" >"$T/out" 2>"$T/err"
    rc=$?
    [ "$rc" -eq 65 ] || fail "$1: exit $rc, want 65"
    grep -Eq "ERROR .*$2" "$T/err" || fail "$1: no error matching /$2/"
    [ ! -s "$T/out" ] || fail "$1: wrote a document"
    [ $(( $(date +%s) - start )) -le 2 ] || fail "$1: slow: it tried the network"
    ! grep -q "127.0.0.1:1\|Connection refused\|attempt" "$T/err" || fail "$1: contacted the engine"
    ! grep -q "$DBLAB_TOKEN" "$T/out" "$T/err" || fail "$1: the token leaked"
    echo "ok: $1"
}
head='"apiVersion":"dblab-rds-refresh/v1","clone":{"id":"dblab-refresh-x","kind":"instance"}'
check "port as a string" "endpoint.port" "{$head,\"endpoint\":{\"host\":\"h\",\"port\":\"5432\"}}"
check "port out of range" "endpoint.port: 70000 is not a TCP port" "{$head,\"endpoint\":{\"host\":\"h\",\"port\":70000}}"
check "host missing" "endpoint.host" "{$head,\"endpoint\":{\"port\":5432}}"
check "no endpoint section" "endpoint: missing section" "{$head}"
