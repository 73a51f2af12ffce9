#!/bin/bash
# The credential chain end to end: rds-snapshot-latest against the AWS emulator,
# with its credentials coming from each provider in turn (environment, profile
# keys, AssumeRole via source_profile, credential_process, web identity,
# container, IMDSv2), the failures a user meets (expired web identity token,
# wrong container token, role not allowed, nothing configured), and no secret
# in any output. The emulator checks every SigV4 signature, so a command that
# succeeds really signed with the credentials the named source handed out.
set -u

TOP=$(pwd)
EMULATOR=${AWS_EMULATOR:-$TOP/tests/emulators/aws_emulator.py}
SEED=${AWS_EMULATOR_SEED:-$(dirname "$EMULATOR")/../fixtures/emulator/default.json}
BIN=${DRR_BIN:-$TOP/bin}
if [ ! -f "$EMULATOR" ] || [ ! -f "$SEED" ]; then
    echo "SKIP: no AWS emulator ($EMULATOR)"
    exit 77
fi
[ -x "$BIN/rds-snapshot-latest" ] || { echo "FAIL: no $BIN/rds-snapshot-latest"; exit 1; }

DIR=$(mktemp -d "${TMPDIR:-/tmp}/creds-chain.XXXXXX") || exit 1
EMU_PID=""
cleanup() {
    if [ -n "$EMU_PID" ]; then
        kill "$EMU_PID" 2>/dev/null
        wait "$EMU_PID" 2>/dev/null
    fi
    rm -rf "$DIR"
}
trap cleanup EXIT

PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 "$EMULATOR" --port 0 --port-file "$DIR/port" \
    --seed "$SEED" --quiet >"$DIR/emulator.log" 2>&1 &
EMU_PID=$!
for _ in $(seq 1 500); do
    [ -s "$DIR/port" ] && break
    kill -0 "$EMU_PID" 2>/dev/null || { cat "$DIR/emulator.log"; echo "FAIL: emulator died"; exit 1; }
    sleep 0.02
done
[ -s "$DIR/port" ] || { echo "FAIL: emulator did not start"; exit 1; }
URL="http://127.0.0.1:$(cat "$DIR/port")"

# From the default fixture (tests/fixtures/emulator/default.json).
KEY=AKIDTESTEMULATOR
SECRET=emulator-secret-key
ACCOUNT=123456789012
WEB_TOKEN=emulator-web-identity-token
ECS_TOKEN=emulator-ecs-authorization-token
SECRETS="$SECRET $WEB_TOKEN $ECS_TOKEN"

cat >"$DIR/config.yaml" <<EOF
source:
  type: rds
  identifier: production-db
clone:
  instanceClass: db.t3.medium
dblab:
  apiEndpoint: http://127.0.0.1:1
  token: not-used-here
aws:
  region: us-east-1
EOF

failures=0
CASE=""
T0=0
fail() { echo "FAIL [$CASE]: $*"; failures=$((failures + 1)); }
case_begin() { [ -n "$CASE" ] && echo "  $(( $(date +%s%N) / 1000000 - T0 )) ms  $CASE"; T0=$(( $(date +%s%N) / 1000000 )); CASE=$1; : >"$DIR/creds"; : >"$DIR/config"; rm -f "$DIR/out" "$DIR/err"; }

# run VAR=VALUE... : rds-snapshot-latest in a clean environment (nothing of
# the caller's AWS settings leaks in), HOME and the AWS files in $DIR.
run() {
    env -i PATH=/usr/bin:/bin HOME="$DIR" AWS_ENDPOINT_URL="$URL" AWS_REGION=us-east-1 \
        AWS_CONFIG_FILE="$DIR/config" AWS_SHARED_CREDENTIALS_FILE="$DIR/creds" \
        AWS_EC2_METADATA_DISABLED=true AWS_MAX_ATTEMPTS=2 "$@" \
        "$BIN/rds-snapshot-latest" -config "$DIR/config.yaml" >"$DIR/out" 2>"$DIR/err"
    RC=$?
    for s in $SECRETS; do
        if grep -qF -- "$s" "$DIR/out" "$DIR/err"; then
            fail "a secret appeared in the output"
        fi
    done
}

expect_ok() { # SOURCE-TEXT
    if [ "$RC" != 0 ]; then
        fail "exit $RC: $(tail -n 3 "$DIR/err")"
        return
    fi
    grep -q '"snapshot":{"id":"rds:production-db-' "$DIR/out" || fail "no snapshot in $(cat "$DIR/out")"
    grep -qF "using AWS credentials from $1" "$DIR/err" ||
        fail "source not logged as '$1': $(grep -i credentials "$DIR/err")"
}

expect_fail() { # CODE TEXT
    [ "$RC" = "$1" ] || fail "exit $RC, want $1: $(tail -n 2 "$DIR/err")"
    grep -qF -- "$2" "$DIR/err" || fail "no '$2' in: $(tail -n 2 "$DIR/err")"
    [ ! -s "$DIR/out" ] || fail "stdout not empty on failure"
}

sts_calls() { # ACTION -> how many the emulator served with status 200
    curl -sS "$URL/_emulator/calls?service=sts&action=$1" |
        /usr/bin/python3 -c 'import json,sys; print(sum(1 for c in json.load(sys.stdin)["calls"] if c["status"] == 200))'
}

case_begin "environment"
run AWS_ACCESS_KEY_ID=$KEY AWS_SECRET_ACCESS_KEY=$SECRET
expect_ok "environment"

case_begin "environment: partial keys"
run AWS_ACCESS_KEY_ID=$KEY
expect_fail 78 "AWS_SECRET_ACCESS_KEY"

case_begin "profile: static keys (AWS_PROFILE)"
printf '[ci]\naws_access_key_id = %s\naws_secret_access_key = %s\n' $KEY $SECRET >"$DIR/creds"
run AWS_PROFILE=ci
expect_ok "profile:ci"

case_begin "profile: unknown AWS_PROFILE"
run AWS_PROFILE=nope
expect_fail 78 'AWS profile "nope" not found'

case_begin "profile: role_arn + source_profile (signed AssumeRole)"
before=$(sts_calls AssumeRole)
printf '[base]\naws_access_key_id = %s\naws_secret_access_key = %s\n' $KEY $SECRET >"$DIR/creds"
printf '[profile refresh]\nrole_arn = arn:aws:iam::%s:role/dblab-rds-refresh\nsource_profile = base\nrole_session_name = nightly\n' \
    $ACCOUNT >"$DIR/config"
run AWS_PROFILE=refresh
expect_ok "assume-role arn:aws:iam::$ACCOUNT:role/dblab-rds-refresh (profile:refresh via profile:base)"
[ "$(sts_calls AssumeRole)" = $((before + 1)) ] || fail "AssumeRole not called once"

case_begin "profile: role the account does not allow"
printf '[base]\naws_access_key_id = %s\naws_secret_access_key = %s\n' $KEY $SECRET >"$DIR/creds"
printf '[profile other]\nrole_arn = arn:aws:iam::%s:role/somebody-else\nsource_profile = base\n' \
    $ACCOUNT >"$DIR/config"
run AWS_PROFILE=other
expect_fail 80 "AccessDenied"

case_begin "profile: credential_process"
printf '[default]\ncredential_process = printf %s\n' \
    "'{\"Version\": 1, \"AccessKeyId\": \"$KEY\", \"SecretAccessKey\": \"$SECRET\"}'" >"$DIR/config"
run
expect_ok "credential-process (profile:default)"

case_begin "profile: credential_process failing"
printf '[default]\ncredential_process = sh -c "exit 7"\n' >"$DIR/config"
run
expect_fail 80 'AWS profile "default": credential_process exited with status 7'

case_begin "web identity (IRSA), unsigned AssumeRoleWithWebIdentity"
printf '%s\n' $WEB_TOKEN >"$DIR/web-token"
before=$(sts_calls AssumeRoleWithWebIdentity)
run AWS_WEB_IDENTITY_TOKEN_FILE="$DIR/web-token" \
    AWS_ROLE_ARN=arn:aws:iam::$ACCOUNT:role/dblab-rds-refresh-irsa AWS_ROLE_SESSION_NAME=pod
expect_ok "web-identity"
[ "$(sts_calls AssumeRoleWithWebIdentity)" = $((before + 1)) ] || fail "not called once"

case_begin "web identity: expired token"
printf 'emulator-expired-web-identity-token' >"$DIR/web-token"
run AWS_WEB_IDENTITY_TOKEN_FILE="$DIR/web-token" \
    AWS_ROLE_ARN=arn:aws:iam::$ACCOUNT:role/dblab-rds-refresh-irsa
expect_fail 80 "ExpiredTokenException"

case_begin "container: FULL_URI + authorization token"
run AWS_CONTAINER_CREDENTIALS_FULL_URI="$URL/v2/credentials/task-1" \
    AWS_CONTAINER_AUTHORIZATION_TOKEN=$ECS_TOKEN
expect_ok "container"

case_begin "container: token file (EKS Pod Identity style)"
printf '%s\n' $ECS_TOKEN >"$DIR/ecs-token"
run AWS_CONTAINER_CREDENTIALS_FULL_URI="$URL/v2/credentials/task-1" \
    AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE="$DIR/ecs-token"
expect_ok "container"

case_begin "container: wrong token"
run AWS_CONTAINER_CREDENTIALS_FULL_URI="$URL/v2/credentials/task-1" \
    AWS_CONTAINER_AUTHORIZATION_TOKEN=wrong-token
expect_fail 80 "HTTP 401"

case_begin "container: plain http to a host that is not allowed"
run AWS_CONTAINER_CREDENTIALS_FULL_URI="http://example.com/creds"
expect_fail 78 "is not allowed"

case_begin "EC2 IMDSv2"
run AWS_EC2_METADATA_DISABLED=false AWS_EC2_METADATA_SERVICE_ENDPOINT="$URL"
expect_ok "imds"

case_begin "AssumeRole on top of IMDS (credential_source)"
printf '[default]\nrole_arn = arn:aws:iam::%s:role/dblab-rds-refresh\ncredential_source = Ec2InstanceMetadata\n' \
    $ACCOUNT >"$DIR/config"
run AWS_EC2_METADATA_DISABLED=false AWS_EC2_METADATA_SERVICE_ENDPOINT="$URL"
expect_ok "assume-role arn:aws:iam::$ACCOUNT:role/dblab-rds-refresh (profile:default via imds)"

case_begin "nothing configured, IMDS disabled"
run
expect_fail 80 "no AWS credentials found"

case_begin "nothing configured, IMDS unreachable: fails fast"
start=$(date +%s)
run AWS_EC2_METADATA_DISABLED=false AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:1
took=$(( $(date +%s) - start ))
[ "$RC" = 75 ] || fail "exit $RC, want 75"
grep -qF "EC2 instance metadata" "$DIR/err" || fail "IMDS not named: $(tail -n 1 "$DIR/err")"
[ "$took" -le 5 ] || fail "took $took s"

if [ "$failures" -ne 0 ]; then
    echo "FAIL: $failures check(s)"
    exit 1
fi
echo "PASS: credential chain against the emulator"
exit 0
