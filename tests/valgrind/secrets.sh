# Secret references under valgrind: dblab-refresh -dry-run with dblab.token and
# source.password as secretsmanager:/ssm: references resolved from the AWS
# emulator (a plain secret, a JSON key, an SSM SecureString) and used against the
# DBLab emulator, and the resolution's error paths (no such secret, no such JSON
# key, no such parameter). Run by tests/run-valgrind with VG and DRR_BIN set;
# valgrind exits 99 on a memory error or a definite/indirect leak, so each case
# checks the exact code.
set -u
aws_emu=tests/emulators/aws_emulator.py
dblab_emu=tests/emulators/dblab_emulator.py
seed=tests/fixtures/emulator/default.json
if [ ! -f "$aws_emu" ] || [ ! -f "$dblab_emu" ] || [ ! -f "$seed" ]; then
    echo "valgrind secrets: no emulators, skipped"
    exit 0
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/drr-vg-secrets.XXXXXX") || exit 70
# The DBLab engine's token is the one the default fixture keeps in Secrets Manager.
DBLAB_EMULATOR_TOKEN=emulator-dblab-token-from-secretsmanager PYTHONDONTWRITEBYTECODE=1 \
    /usr/bin/python3 "$dblab_emu" --port 0 --port-file "$tmp/dblab.port" --time-scale 600 \
    >"$tmp/dblab.log" 2>&1 &
dblab_pid=$!
PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 "$aws_emu" --port 0 --port-file "$tmp/aws.port" \
    --seed "$seed" --quiet >"$tmp/aws.log" 2>&1 &
aws_pid=$!
trap 'kill $dblab_pid $aws_pid 2>/dev/null; wait $dblab_pid $aws_pid 2>/dev/null; rm -rf "$tmp"' EXIT
i=0
while { [ ! -s "$tmp/dblab.port" ] || [ ! -s "$tmp/aws.port" ]; } && [ $i -lt 1500 ]; do
    sleep 0.02
    i=$((i + 1))
done
if [ ! -s "$tmp/dblab.port" ] || [ ! -s "$tmp/aws.port" ]; then
    cat "$tmp/dblab.log" "$tmp/aws.log"
    exit 1
fi
dblab_url="http://127.0.0.1:$(cat "$tmp/dblab.port")"
AWS_ENDPOINT_URL="http://127.0.0.1:$(cat "$tmp/aws.port")"
export AWS_ENDPOINT_URL AWS_REGION=us-east-1 \
    AWS_ACCESS_KEY_ID=AKIDTESTEMULATOR AWS_SECRET_ACCESS_KEY=emulator-secret-key \
    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
    AWS_EC2_METADATA_DISABLED=true AWS_MAX_ATTEMPTS=1
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_WEB_IDENTITY_TOKEN_FILE AWS_CONTAINER_CREDENTIALS_FULL_URI \
    AWS_CONTAINER_CREDENTIALS_RELATIVE_URI DBLAB_RDS_REFRESH_CONFIG
clone=dblab-refresh-20261126-020000
printf '{"apiVersion":"dblab-rds-refresh/v1","source":{"type":"rds","identifier":"production-db","region":"us-east-1"},"clone":{"id":"%s","kind":"instance","instances":["%s"]},"endpoint":{"host":"%s.c9akciq32xyz.us-east-1.rds.amazonaws.com","port":5432,"instanceId":"%s"}}\n' \
    "$clone" "$clone" "$clone" "$clone" >"$tmp/in"
vg_fails=0
# expect CODE NAME TOKEN_REF PASSWORD_REF
expect() {
    want=$1 name=$2
    printf 'source:\n  type: rds\n  identifier: production-db\n  dbName: app\n  username: dblab_user\n  password: %s\nclone:\n  instanceClass: db.r6g.2xlarge\ndblab:\n  apiEndpoint: %s\n  token: %s\naws:\n  region: us-east-1\n' \
        "$4" "$dblab_url" "$3" >"$tmp/config.yaml"
    $VG "$DRR_BIN/dblab-refresh" -config "$tmp/config.yaml" -dry-run <"$tmp/in" \
        >"$tmp/$name.json" 2>"$tmp/$name.err"
    got=$?
    if [ "$got" -ne "$want" ]; then
        echo "valgrind secrets: $name: exit $got, want $want"
        tail -n 20 "$tmp/$name.err"
        vg_fails=$((vg_fails + 1))
    fi
}
expect 0 plain secretsmanager:dblab/token 'secretsmanager:dblab/config#password'
expect 0 ssm secretsmanager:dblab/token ssm:/dblab/token
expect 81 jsonkey 'secretsmanager:dblab/config#token' 'secretsmanager:dblab/config#password'
expect 80 nosecret secretsmanager:dblab/no-such-secret pw-unused-123
expect 78 nokey 'secretsmanager:dblab/config#no-such-key' pw-unused-123
expect 80 noparam secretsmanager:dblab/token ssm:/dblab/no-such-parameter
[ "$vg_fails" -eq 0 ]
