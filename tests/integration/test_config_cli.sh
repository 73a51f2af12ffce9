#!/bin/sh
# dblab-rds-config end to end: the issue's "Done when" cases, the CLI
# conventions (exit codes 0/64/78, -config spellings, the environment variable),
# and that no secret ever reaches stdout or stderr.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 70
: "${DRR_BIN:=$top/bin}"
PY=/usr/bin/python3
cmd="$DRR_BIN/dblab-rds-config"
[ -x "$cmd" ] || { echo "missing $cmd"; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/drr-config-cli.XXXXXX") || exit 70
trap 'rm -rf "$tmp"' EXIT INT TERM

# A clean, known environment: no real AWS files or settings leak in.
unset AWS_REGION AWS_DEFAULT_REGION AWS_PROFILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_RDS \
      AWS_MAX_ATTEMPTS DBLAB_RDS_REFRESH_CONFIG DBLAB_RDS_REFRESH_LOG_FORMAT DBLAB_TOKEN
export HOME="$tmp"
export AWS_CONFIG_FILE="$tmp/no-aws-config" AWS_SHARED_CREDENTIALS_FILE="$tmp/no-aws-credentials"

TOKEN="itest-dblab-token-$$-Zq8"
PASSWORD="itest-db-password-$$-Yw3"
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

# run NAME EXPECTED_RC ARGS...: runs the command, stdout/stderr into $tmp/NAME.{out,err}
run() {
    name=$1 want=$2
    shift 2
    "$cmd" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
    rc=$?
    if [ "$rc" -ne "$want" ]; then
        fail "$name: exit $rc, want $want"
        sed 's/^/    err| /' "$tmp/$name.err"
        return 1
    fi
    return 0
}
has() { grep -qF -- "$2" "$tmp/$1"; }
no_secrets() {
    for f in "$tmp/$1.out" "$tmp/$1.err"; do
        if grep -qF -e "$TOKEN" -e "$PASSWORD" "$f"; then fail "$1: a secret leaked into $(basename "$f")"; fi
    done
}

# 1. the example config is valid and prints the effective config, token redacted
if DBLAB_TOKEN=$TOKEN run valid 0 -config examples/config.yaml; then
    no_secrets valid
    [ "$(wc -l <"$tmp/valid.out")" -eq 1 ] || fail "valid: stdout is not one line"
    if $PY - "$tmp/valid.out" <<'PYEOF'
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["valid"] is True
assert doc["dblab"]["token"] == "[REDACTED]", doc["dblab"]["token"]
assert doc["source"]["identifier"] == "production-db"
assert doc["clone"]["instanceClass"] == "db.t3.medium"
assert doc["clone"]["securityGroups"] == ["sg-0123456789abcdef0"]
assert doc["dblab"]["pollIntervalSeconds"] == 30 and doc["dblab"]["timeout"] == "4h"
assert doc["aws"]["region"] == "us-east-1" and doc["aws"]["maxAttempts"] == 8
assert doc["clone"]["maxAge"] == "2d" and doc["clone"]["waitTimeoutSeconds"] == 7200
PYEOF
    then ok "examples/config.yaml is valid, token redacted"; else fail "valid: effective config JSON"; fi
fi

# 2. a typo fails naming line, column and the suggestion
cat >"$tmp/typo.yaml" <<'YEOF'
source:
  type: rds
  identifier: production-db
clone:
  instanceClas: db.t3.medium
dblab:
  apiEndpoint: https://dblab.example.com:2345
  token: x
aws:
  region: us-east-1
YEOF
if run typo 78 -config "$tmp/typo.yaml"; then
    if has typo.err "$tmp/typo.yaml:5:3: clone.instanceClas: unknown key (did you mean instanceClass?)"; then
        ok "clone.instanceClas names 5:3 and instanceClass"
    else fail "typo: message"; cat "$tmp/typo.err"; fi
    [ -s "$tmp/typo.out" ] && fail "typo: stdout not empty"
fi

# 3. an unset ${DBLAB_TOKEN} fails naming the variable
if run unset 78 -config examples/config.yaml; then
    if has unset.err "examples/config.yaml:33:10: dblab.token: environment variable DBLAB_TOKEN is not set"; then
        ok "unset DBLAB_TOKEN is named with its position"
    else fail "unset: message"; cat "$tmp/unset.err"; fi
fi

# the three spellings of the config path, and the environment variable
DBLAB_TOKEN=$TOKEN run dashdash 0 --config examples/config.yaml && ok "--config FILE"
DBLAB_TOKEN=$TOKEN run equals 0 --config=examples/config.yaml && ok "--config=FILE"
DBLAB_TOKEN=$TOKEN DBLAB_RDS_REFRESH_CONFIG=examples/config.yaml run envpath 0 && ok "DBLAB_RDS_REFRESH_CONFIG"
DBLAB_TOKEN=$TOKEN run dry 0 -config examples/config.yaml -dry-run && ok "-dry-run accepted"

# usage errors: 64; config errors: 78
run noconfig 64 && has noconfig.err "-config: required" && ok "missing -config is 64"
run unknown 64 -config examples/config.yaml -confg && has unknown.err "-confg: unknown" && ok "unknown option is 64"
run stray 64 -config examples/config.yaml extra && ok "positional argument is 64"
run missing 78 -config "$tmp/nope.yaml" && has missing.err "nope.yaml: cannot open" && ok "missing file is 78"
: >"$tmp/empty.yaml"
run empty 78 -config "$tmp/empty.yaml" && has empty.err "empty configuration" && ok "empty file is 78"
printf 'source:\n  type: rds\n identifier: x\n' >"$tmp/syntax.yaml"
run syntax 78 -config "$tmp/syntax.yaml" && has syntax.err "syntax.yaml:3:" && has syntax.err "YAML syntax error" \
    && ok "YAML syntax error is 78 with a position"
sed 's/^clone:$/clone:\n  deletionProtection: true/' examples/config.yaml >"$tmp/protect.yaml"
DBLAB_TOKEN=$TOKEN run protect 0 -config "$tmp/protect.yaml" && has protect.out '"deletionProtection":true' \
    && ok "deletionProtection: true accepted (the Go meaning: on at restore, off before delete)"

# help and version
run help 0 -help && has help.out "Usage: dblab-rds-config" && has help.out "Exit codes" && has help.out "78" \
    && ok "-help"
run version 0 --version && grep -q "^dblab-rds-config [0-9]" "$tmp/version.out" && ok "--version"

# JSON logs: the error line is one valid JSON object
if run jsonlog 78 -config "$tmp/typo.yaml" -log-format json; then
    if $PY -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1]) if l.strip()]' "$tmp/jsonlog.err"; then
        ok "-log-format json error line is JSON"
    else fail "jsonlog: not JSON"; cat "$tmp/jsonlog.err"; fi
fi

# secrets: a literal password and token never appear, even with -verbose
cat >"$tmp/secrets.yaml" <<YEOF
source:
  type: rds
  identifier: production-db
  username: dblab_user
  password: $PASSWORD
clone:
  instanceClass: db.t3.medium
dblab:
  apiEndpoint: https://dblab.example.com:2345
  token: \${DBLAB_TOKEN}
aws:
  region: us-east-1
YEOF
if DBLAB_TOKEN=$TOKEN run secrets 0 -config "$tmp/secrets.yaml" -verbose; then
    no_secrets secrets
    has secrets.out '"password":"[REDACTED]"' && ok "password redacted"
fi
# a secret reference is shown as written (it names the secret, it is not one)
sed "s|password: $PASSWORD|password: ssm:/prod/db/password|" "$tmp/secrets.yaml" >"$tmp/ref.yaml"
DBLAB_TOKEN=$TOKEN run ref 0 -config "$tmp/ref.yaml" && has ref.out '"password":"ssm:/prod/db/password"' \
    && ok "secret reference shown"
# an error about a secret key never prints its value
sed "s|password: $PASSWORD|password: [$PASSWORD]|" "$tmp/secrets.yaml" >"$tmp/badsecret.yaml"
DBLAB_TOKEN=$TOKEN run badsecret 78 -config "$tmp/badsecret.yaml" && no_secrets badsecret \
    && has badsecret.err "badsecret.yaml:5:13: source.password: must be a single value, got a list" \
    && ok "error on a secret key hides the value"

# the aurora example is valid too
DBLAB_TOKEN=$TOKEN run aurora 0 -config examples/config-aurora.yaml && ok "examples/config-aurora.yaml is valid"

[ "$fails" -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all passed"
