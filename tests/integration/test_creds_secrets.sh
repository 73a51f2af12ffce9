#!/bin/bash
# Secret references end to end: dblab-refresh with dblab.token and
# source.password written as secretsmanager:/ssm: references, resolved from the
# AWS emulator's Secrets Manager and SSM and used against the DBLab emulator.
# The resolved values never appear in any output (drt_run checks).
. tests/lib/dblab_refresh_test.sh

AWS_EMU=${AWS_EMULATOR:-$DRT_TOP/tests/emulators/aws_emulator.py}
AWS_SEED=${AWS_EMULATOR_SEED:-$(dirname "$AWS_EMU")/../fixtures/emulator/default.json}
if [ ! -f "$AWS_EMU" ] || [ ! -f "$AWS_SEED" ] || [ ! -f "$DRT_TOP/tests/emulators/dblab_emulator.py" ]; then
    echo "SKIP: emulators missing"
    exit 77
fi

drt_init
# The values the default AWS fixture holds: drt_run fails if either shows up
# (both are used by the sourced helpers).
# shellcheck disable=SC2034
DRT_TOKEN=emulator-dblab-token-json
DRT_PASSWORD=emulator-db-password
drt_emu_start --time-scale 600

# The default fixture plus secrets made from files: the token with the one
# trailing newline a file gives it, with two, and with a header injected.
"$PY" - "$AWS_SEED" "$DRT_DIR/seed.json" <<'PYEOF' || fail "seed"
import json, sys
f = json.load(open(sys.argv[1]))
tok = "emulator-dblab-token-json"
f["secrets"] += [{"name": "dblab/token-nl", "secretString": tok + "\n"},
                 {"name": "dblab/token-crlf", "secretString": tok + "\r\n"},
                 {"name": "dblab/token-2nl", "secretString": tok + "\n\n"},
                 {"name": "dblab/token-inject", "secretString": tok + "\r\nX-Injected: yes"}]
f["parameters"] += [{"name": "/dblab/token-nl", "type": "SecureString", "value": tok + "\n"}]
json.dump(f, open(sys.argv[2], "w"))
PYEOF
AWS_SEED=$DRT_DIR/seed.json
PYTHONDONTWRITEBYTECODE=1 "$PY" "$AWS_EMU" --port 0 --port-file "$DRT_DIR/aws.port" \
    --seed "$AWS_SEED" --quiet >"$DRT_DIR/aws.log" 2>&1 &
DRT_PIDS="$DRT_PIDS $!"
for _ in $(seq 1 500); do
    [ -s "$DRT_DIR/aws.port" ] && break
    sleep 0.02
done
[ -s "$DRT_DIR/aws.port" ] || { cat "$DRT_DIR/aws.log" >&2; fail "the AWS emulator did not start"; }
AWS_ENDPOINT_URL="http://127.0.0.1:$(cat "$DRT_DIR/aws.port")"
export AWS_ENDPOINT_URL
export AWS_ACCESS_KEY_ID=AKIDTESTEMULATOR AWS_SECRET_ACCESS_KEY=emulator-secret-key
export AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true AWS_MAX_ATTEMPTS=2
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_WEB_IDENTITY_TOKEN_FILE \
    AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_CONTAINER_CREDENTIALS_RELATIVE_URI

# refs TOKEN_REF PASSWORD_REF: the config with both secrets as references.
refs() {
    drt_config
    sed -i -e "s|^  token: .*|  token: $1|" -e "s|^  password: .*|  password: $2|" \
        "$DRT_DIR/config.yaml"
}

case_begin "token and password from one JSON secret in Secrets Manager"
refs 'secretsmanager:dblab/config#token' 'secretsmanager:dblab/config#password'
drt_doc
drt_run
if grep -q "not supported by this build yet" "$DRT_DIR/err"; then
    echo "SKIP: dblab-refresh does not call secrets_resolve_config yet"
    exit 77
fi
expect_rc 0
expect_doc
expect_err "resolved dblab.token from AWS Secrets Manager \(secretsmanager:dblab/config#token\)"
expect_err "resolved source.password from AWS Secrets Manager"
want=$(printf '%s' "$DRT_PASSWORD" | sha256sum | cut -d' ' -f1)
[ "$(drt_state | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["passwordSha256"])')" = "$want" ] ||
    fail "the engine did not get the resolved password"

case_begin "password from SSM (GetParameter WithDecryption)"
drt_reset
refs 'secretsmanager:dblab/config#token' 'ssm:/dblab/plain'
drt_run
expect_rc 0
expect_err "resolved source.password from SSM Parameter Store \(ssm:/dblab/plain\)"
want=$(printf 'not-a-secret' | sha256sum | cut -d' ' -f1)
[ "$(drt_state | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["passwordSha256"])')" = "$want" ] ||
    fail "the engine did not get the SSM password"

case_begin "a missing secret: exit 80, key and reference named, nothing sent to DBLab"
drt_reset
refs 'secretsmanager:dblab/missing' 'secretsmanager:dblab/config#password'
drt_run
expect_rc 80
expect_no_out
expect_err "dblab\.token \(secretsmanager:dblab/missing\).*ResourceNotFoundException"

case_begin "a missing JSON key: exit 78 with the keys that exist"
refs 'secretsmanager:dblab/config#tokn' 'secretsmanager:dblab/config#password'
drt_run
expect_rc 78
expect_err 'no key "tokn" \(keys: "token", "password"\)'

case_begin "a secret made from a file: its one trailing newline is not part of the token"
for ref in secretsmanager:dblab/token-nl secretsmanager:dblab/token-crlf ssm:/dblab/token-nl; do
    drt_reset
    refs "$ref" 'secretsmanager:dblab/config#password'
    drt_run
    [ "$DRT_RC" -eq 0 ] || fail "$ref: exit $DRT_RC"
    expect_doc
done

case_begin "more than one line break, or a header injected: exit 78 naming dblab.token"
for ref in secretsmanager:dblab/token-2nl secretsmanager:dblab/token-inject; do
    drt_reset
    refs "$ref" 'secretsmanager:dblab/config#password'
    drt_run
    expect_rc 78
    expect_no_out
    expect_err "dblab\.token: contains a control character \(byte 0x0[ad]"
    [ "$(drt_calls | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 0 ] ||
        fail "$ref: a request reached the engine"
done

case_begin "CR/LF in the token from the environment: exit 78 at load, naming the key"
refs '${INJECTED_TOKEN}' 'secretsmanager:dblab/config#password'
INJECTED_TOKEN=$(printf 'abc\r\nX-Injected: yes') drt_run
expect_rc 78
expect_err "config.yaml:[0-9]*:[0-9]*: dblab\.token: contains a control character \(byte 0x0d at offset 3\)"

case_begin "CR/LF in AWS_SESSION_TOKEN: exit 78 naming it, nothing sent"
refs 'secretsmanager:dblab/config#token' 'secretsmanager:dblab/config#password'
AWS_SESSION_TOKEN=$(printf 'FwoGZX\r\nX-Injected: yes') drt_run
expect_rc 78
expect_err "AWS credentials from environment: the session token \\(AWS_SESSION_TOKEN\\) contains a control character"

echo "PASS: secret references against the emulators"
