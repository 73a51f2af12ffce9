#!/bin/bash
# Config file trust (issue 12), through a real command: a config file, or its
# directory, that another user can change is refused with exit 78 saying why
# (the rule ssh applies): group/world-writable and not the user's; as root,
# anything owned by another user; a world-writable directory unless sticky
# (/tmp) with the file the user's own. And plain http:// to a DBLab Engine on
# another host is refused unless dblab.insecure: true. And a nesting bomb is
# refused in bounded time.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
: "${DRR_BIN:=$top/bin}"
T=$(mktemp -d "${TMPDIR:-/tmp}/test_trust.XXXXXX")
trap 'chmod -R u+rwx "$T" 2>/dev/null; rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$T/err" ] && cat "$T/err" >&2; exit 1; }
export DBLAB_TOKEN=trust-test-token AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null

config() { # FILE [DBLAB_ENDPOINT [EXTRA_DBLAB_LINE]]
    cat >"$1" <<YAML
source:
  type: rds
  identifier: production-db
clone:
  instanceClass: db.t3.medium
dblab:
  apiEndpoint: ${2:-https://dblab.example.com}
  token: \${DBLAB_TOKEN}
${3:-}
aws:
  region: us-east-1
YAML
}
# dblab-rds-config loads and validates the config, no network.
check() { # EXPECTED_RC FILE [REGEX]
    local rc=0
    "$DRR_BIN/dblab-rds-config" -config "$2" >"$T/out" 2>"$T/err" || rc=$?
    [ "$rc" -eq "$1" ] || fail "$2: expected exit $1, got $rc"
    [ -z "${3:-}" ] || grep -Eq -- "$3" "$T/err" || fail "$2: stderr lacks /$3/"
}

mkdir -m 700 "$T/d"
config "$T/d/c.yaml"; chmod 600 "$T/d/c.yaml"
check 0 "$T/d/c.yaml"
chmod 666 "$T/d/c.yaml"
check 78 "$T/d/c.yaml" "c.yaml: writable by others \(mode 0666\); refusing it"
chmod 660 "$T/d/c.yaml"
check 0 "$T/d/c.yaml"   # group-writable, but the user's own
chmod 600 "$T/d/c.yaml"
chmod 777 "$T/d"
check 78 "$T/d/c.yaml" "its directory .*/d is writable by others \(mode 0777\); refusing the file"
chmod 1777 "$T/d"
check 0 "$T/d/c.yaml"   # sticky, like /tmp: others cannot replace the user's file
chmod 700 "$T/d"

if [ "$(id -u)" = 0 ]; then
    # another user's file, group-writable: refused; as root, even when not writable
    chown 4242:4242 "$T/d/c.yaml"; chmod 664 "$T/d/c.yaml"
    check 78 "$T/d/c.yaml" "c.yaml: writable by group 4242 \(mode 0664\) and owned by uid 4242, not by you"
    chmod 644 "$T/d/c.yaml"
    check 78 "$T/d/c.yaml" "owned by uid 4242: running as root"
    chown 0:0 "$T/d/c.yaml"
    chown 4242 "$T/d"
    check 78 "$T/d/c.yaml" "its directory .* is owned by uid 4242: running as root"
    chown 0 "$T/d"
    # the same file run by its owner (not root) is fine
    if command -v setpriv >/dev/null; then
        chown -R 4242:4242 "$T/d"; chmod 711 "$T"
        rc=0; setpriv --reuid 4242 --regid 4242 --clear-groups \
            "$DRR_BIN/dblab-rds-config" -config "$T/d/c.yaml" >/dev/null 2>"$T/err" || rc=$?
        [ "$rc" = 0 ] || fail "the owner (uid 4242) was refused its own file: $(cat "$T/err")"
        chmod 664 "$T/d/c.yaml"
        rc=0; setpriv --reuid 4243 --regid 4242 --clear-groups \
            "$DRR_BIN/dblab-rds-config" -config "$T/d/c.yaml" >/dev/null 2>"$T/err" || rc=$?
        [ "$rc" = 78 ] || fail "uid 4243 accepted uid 4242's group-writable file (exit $rc)"
        chown -R 0:0 "$T/d"; chmod 700 "$T"
    fi
    chmod 600 "$T/d/c.yaml"
else
    echo "note: not root: the other-owner cases need chown; ran the mode cases only"
fi

# plain http:// to another host: refused unless dblab.insecure: true
config "$T/d/h.yaml" http://dblab.internal:2345; chmod 600 "$T/d/h.yaml"
check 78 "$T/d/h.yaml" "dblab.apiEndpoint: plain http:// to a host that is not this machine"
config "$T/d/h.yaml" http://dblab.internal:2345 "  insecure: true"
check 0 "$T/d/h.yaml" "the token travels in clear"
config "$T/d/h.yaml" http://127.0.0.1:2345
check 0 "$T/d/h.yaml"
# bounds: 200 KB of nested "[" is refused (78) in well under a second (libyaml
# took 64 s composing it); the check runs on the parser's events, before composing
python3 -c 'print("[" * 200000)' >"$T/d/deep.yaml"; chmod 600 "$T/d/deep.yaml"
start=$(date +%s%N)
check 78 "$T/d/deep.yaml" "deep.yaml:1:33: nested more than 32 levels deep"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$ms" -lt 1000 ] || fail "200 KB of nesting took $ms ms"
echo "ok: 200 KB of nested [ refused in $ms ms"
echo "PASS: config trust"
