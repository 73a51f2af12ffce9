# The credential chain under valgrind: rds-snapshot-latest with credentials
# from each provider (environment, profile, AssumeRole, credential_process, web
# identity, container, IMDS) and the chain's error paths, against the AWS
# emulator. Sourced by tests/run-valgrind with VG and DRR_BIN set; valgrind
# exits 99 on a memory error or a definite/indirect leak.
set -u
emu=${AWS_EMULATOR:-tests/emulators/aws_emulator.py}
seed=$(dirname "$emu")/../fixtures/emulator/default.json
if [ ! -f "$emu" ] || [ ! -f "$seed" ]; then
    echo "valgrind creds: no AWS emulator yet, skipped"
    exit 0
fi
# shellcheck source=tests/lib/vg_emulator.sh
. tests/lib/vg_emulator.sh
vg_emulator creds /usr/bin/python3 "$emu" --seed "$seed" --quiet
printf 'source:\n  type: rds\n  identifier: production-db\nclone:\n  instanceClass: db.t3.medium\ndblab:\n  apiEndpoint: http://127.0.0.1:1\n  token: unused-token\naws:\n  region: us-east-1\n' >"$tmp/config.yaml"
acct=123456789012
vg_fails=0
# expect CODE [VAR=VALUE...]: one run in a clean environment.
expect() {
    want=$1
    shift
    env -i PATH=/usr/bin:/bin HOME="$tmp" AWS_ENDPOINT_URL="$url" AWS_REGION=us-east-1 \
        AWS_CONFIG_FILE="$tmp/config" AWS_SHARED_CREDENTIALS_FILE="$tmp/creds" \
        AWS_EC2_METADATA_DISABLED=true AWS_MAX_ATTEMPTS=1 "$@" \
        $VG "$DRR_BIN/rds-snapshot-latest" -config "$tmp/config.yaml" >/dev/null 2>"$tmp/err"
    got=$?
    if [ "$got" -ne "$want" ]; then
        echo "valgrind creds: exit $got, want $want: $*"
        cat "$tmp/err"
        vg_fails=$((vg_fails + 1))
    fi
}
: >"$tmp/config"
printf '[base]\naws_access_key_id = AKIDTESTEMULATOR\naws_secret_access_key = emulator-secret-key\n' >"$tmp/creds"
printf 'emulator-web-identity-token\n' >"$tmp/web"
expect 0 AWS_ACCESS_KEY_ID=AKIDTESTEMULATOR AWS_SECRET_ACCESS_KEY=emulator-secret-key
expect 78 AWS_ACCESS_KEY_ID=AKIDTESTEMULATOR
expect 0 AWS_PROFILE=base
expect 78 AWS_PROFILE=missing
printf '[profile role]\nrole_arn = arn:aws:iam::%s:role/dblab-rds-refresh\nsource_profile = base\n[profile denied]\nrole_arn = arn:aws:iam::%s:role/nobody\nsource_profile = base\n[profile loop]\nrole_arn = arn:aws:iam::%s:role/x\nsource_profile = loop2\n[profile loop2]\nrole_arn = arn:aws:iam::%s:role/x\nsource_profile = loop\n' $acct $acct $acct $acct >"$tmp/config"
expect 0 AWS_PROFILE=role
expect 80 AWS_PROFILE=denied
expect 78 AWS_PROFILE=loop
printf '[default]\ncredential_process = printf %s\n[profile bad]\ncredential_process = echo nope\n' \
    "'{\"Version\":1,\"AccessKeyId\":\"AKIDTESTEMULATOR\",\"SecretAccessKey\":\"emulator-secret-key\"}'" >"$tmp/config"
expect 0
expect 80 AWS_PROFILE=bad
: >"$tmp/config"
: >"$tmp/creds"
expect 0 AWS_WEB_IDENTITY_TOKEN_FILE="$tmp/web" AWS_ROLE_ARN=arn:aws:iam::$acct:role/dblab-rds-refresh-irsa
expect 80 AWS_WEB_IDENTITY_TOKEN_FILE="$tmp/none" AWS_ROLE_ARN=arn:aws:iam::$acct:role/dblab-rds-refresh-irsa
expect 0 AWS_CONTAINER_CREDENTIALS_FULL_URI="$url/v2/credentials/t" AWS_CONTAINER_AUTHORIZATION_TOKEN=emulator-ecs-authorization-token
expect 80 AWS_CONTAINER_CREDENTIALS_FULL_URI="$url/v2/credentials/t" AWS_CONTAINER_AUTHORIZATION_TOKEN=wrong
expect 0 AWS_EC2_METADATA_DISABLED=false AWS_EC2_METADATA_SERVICE_ENDPOINT="$url"
expect 75 AWS_EC2_METADATA_DISABLED=false AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:1
expect 80
[ "$vg_fails" -eq 0 ]
