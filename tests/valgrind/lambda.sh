# lambda-bootstrap under valgrind: 100 invocations served by ONE runtime process
# (a real step, a failing step, an unknown step, an event that is not an object,
# 25 each), then Lambda's shutdown (SIGTERM): exit 143, and valgrind exits 99 on any
# memory error or definite/indirect leak accumulated over the 100. The steps' own
# commands run as children, outside valgrind (tests/valgrind/rds.sh covers them).
# Run by tests/run-valgrind with VG and DRR_BIN set.
set -u
emu=tests/emulators/aws_emulator.py
seed=tests/fixtures/emulator/default.json
# shellcheck source=tests/lib/vg_emulator.sh
. tests/lib/vg_emulator.sh
vg_emulator lambda /usr/bin/python3 "$emu" --seed "$seed" --time-scale 600 --quiet
export AWS_ACCESS_KEY_ID=AKIDTESTEMULATOR AWS_SECRET_ACCESS_KEY=emulator-secret-key \
    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_SESSION_TOKEN DBLAB_RDS_REFRESH_CONFIG AWS_ENDPOINT_URL_RDS
if ! /usr/bin/python3 tests/lib/lambda_soak.py --bootstrap "$DRR_BIN/lambda-bootstrap" \
        --aws-url "http://127.0.0.1:$(cat "$tmp/port")" --invocations 100 --prefix "$VG" \
        >"$tmp/out" 2>"$tmp/err"; then
    echo "valgrind lambda: $(cat "$tmp/out")"
    grep -v ' INFO \| WARN ' "$tmp/err" | tail -n 40
    exit 1
fi
echo "valgrind lambda: $(cat "$tmp/out")"
