# dblab-refresh under valgrind against the DBLab emulator (refusal-focused; dblab.sh runs the integration scenarios): the refresh (and its
# dry run, and rdsIam on Aurora), every refusal before it (401, busy, connection
# refused, no pool free, engine too old, a config update the engine refuses),
# a failed refresh, the start and finish timeouts, SIGTERM while waiting, and
# bad input. Run by tests/run-valgrind with VG and DRR_BIN set; valgrind exits 99
# on a memory error or a definite/indirect leak, so each case checks the exact code.
set -u
emu=tests/emulators/dblab_emulator.py
if [ ! -f "$emu" ]; then
    echo "valgrind dblab: no DBLab emulator, skipped"
    exit 0
fi
export DBLAB_TOKEN="vg-dblab-token-$$" DB_PASSWORD="vg-db-password-$$"
export DBLAB_EMULATOR_TOKEN="$DBLAB_TOKEN"
# shellcheck source=tests/lib/vg_emulator.sh
. tests/lib/vg_emulator.sh
vg_emulator dblab /usr/bin/python3 "$emu" --time-scale 600
unset DBLAB_RDS_REFRESH_CONFIG
# config [API URL] [extra dblab: line]...
# shellcheck disable=SC2016 # ${DB_PASSWORD} and ${DBLAB_TOKEN} are for the config, not the shell
config() {
    api=${1:-$url}
    [ $# -gt 0 ] && shift
    {
        printf 'source:\n  type: rds\n  identifier: production-db\n  dbName: app\n  username: dblab_user\n  password: ${DB_PASSWORD}\n'
        printf 'clone:\n  instanceClass: db.r6g.2xlarge\n  enableIAMAuth: %s\n' "${IAM:-false}"
        printf 'dblab:\n  apiEndpoint: %s\n  token: ${DBLAB_TOKEN}\n  pollInterval: 1s\n  timeout: %s\n  startTimeout: %s\n' \
            "$api" "${TIMEOUT:-30s}" "${START_TIMEOUT:-10s}"
        for line in "$@"; do printf '  %s\n' "$line"; done
        printf 'aws:\n  region: us-east-1\n'
    } >"$tmp/config.yaml"
}
ctl() {  # METHOD PATH [JSON]
    if [ $# -ge 3 ]; then
        curl -sS -X "$1" -H 'Content-Type: application/json' --data "$3" "$url$2" >/dev/null
    else
        curl -sS -X "$1" "$url$2" >/dev/null
    fi
}
clone=dblab-refresh-20261126-020000
instance_doc() {
    printf '{"apiVersion":"dblab-rds-refresh/v1","runId":"vg-1","source":{"type":"rds","identifier":"production-db","region":"us-east-1"},"snapshot":{"id":"rds:production-db-2026-11-25-03-00","type":"automated","createTime":"2026-11-25T03:00:00Z","engine":"postgres","engineVersion":"16.4","encrypted":true,"port":5432,"allocatedStorage":100,"kind":"instance"},"clone":{"id":"%s","kind":"instance","instances":["%s"],"createTime":"2026-11-26T02:00:00Z","deleteAfter":"2026-11-28T02:00:00Z","instanceClass":"db.r6g.2xlarge","adopted":false},"endpoint":{"host":"%s.c9akciq32xyz.us-east-1.rds.amazonaws.com","port":5432,"instanceId":"%s"}}\n' \
        "$clone" "$clone" "$clone" "$clone"
}
cluster_doc() {
    printf '{"apiVersion":"dblab-rds-refresh/v1","source":{"type":"aurora-cluster","identifier":"production-aurora","region":"us-east-1"},"snapshot":{"id":"rds:production-aurora-2026-11-25-03-00","type":"automated","createTime":"2026-11-25T03:00:00Z","engine":"aurora-postgresql","engineVersion":"16.4","encrypted":true,"port":5432,"allocatedStorage":100,"kind":"cluster"},"clone":{"id":"%s","kind":"cluster","instances":["%s-writer"],"writerInstanceId":"%s-writer","createTime":"2026-11-26T02:00:00Z","deleteAfter":"2026-11-28T02:00:00Z","instanceClass":"db.r6g.2xlarge","adopted":false},"endpoint":{"host":"%s.cluster-c9akciq32xyz.us-east-1.rds.amazonaws.com","port":5432,"instanceId":"%s-writer"}}\n' \
        "$clone" "$clone" "$clone" "$clone" "$clone"
}
vg_fails=0
# expect CODE NAME [ARGS...] (stdin from $tmp/in)
expect() {
    want=$1 name=$2
    shift 2
    $VG "$DRR_BIN/dblab-refresh" -config "$tmp/config.yaml" "$@" <"$tmp/in" >"$tmp/$name.json" \
        2>"$tmp/$name.err"
    got=$?
    [ -n "${VG_VERBOSE:-}" ] && echo "  $name: exit $got ($(date +%T))"
    if [ "$got" -ne "$want" ]; then
        echo "valgrind dblab: $name: dblab-refresh $*: exit $got, want $want"
        tail -n 20 "$tmp/$name.err"
        vg_fails=$((vg_fails + 1))
    fi
}
config
instance_doc >"$tmp/in"
expect 0 ok
ctl POST /_emulator/reset '{}'
expect 0 dry -dry-run
ctl POST /_emulator/reset '{}'
IAM=true config
cluster_doc >"$tmp/in"
expect 0 iam
IAM=false config
instance_doc >"$tmp/in"
ctl POST /_emulator/reset '{}'
DBLAB_TOKEN=vg-wrong-token expect 81 token
config http://127.0.0.1:1
expect 75 refused
config
ctl POST /_emulator/set '{"status":"refreshing"}'
expect 84 busy
ctl POST /_emulator/reset '{}'
ctl POST /_emulator/set '{"clones":[{"id":"c1","pool":"dblab_pool/dataset_1"},{"id":"c2","pool":"dblab_pool/dataset_2"}]}'
expect 75 nopool
ctl POST /_emulator/reset '{}'
ctl POST /_emulator/set '{"engine":{"version":"v3.4.0-20230101-0000"}}'
expect 81 old
ctl POST /_emulator/reset '{}'
ctl POST /_emulator/set '{"disableConfigModification":true}'
expect 81 noconfig
ctl POST /_emulator/reset '{}'
ctl POST /_emulator/faults '{"type":"refresh-fail","message":"pg_dump: error: connection refused"}'
expect 88 failed
ctl POST /_emulator/reset '{}'
ctl POST /_emulator/faults '{"type":"refresh-silent","message":"failed to check AWS credentials"}'
START_TIMEOUT=2s config
expect 82 start
ctl POST /_emulator/reset '{}'
ctl POST /_emulator/faults '{"type":"refresh-stuck"}'
TIMEOUT=3s config
expect 82 stuck
ctl POST /_emulator/reset '{}'
config
# SIGTERM while waiting for the refresh: a clean exit 143, nothing leaked.
ctl POST /_emulator/faults '{"type":"refresh-stuck"}'
$VG "$DRR_BIN/dblab-refresh" -config "$tmp/config.yaml" <"$tmp/in" >"$tmp/term.json" 2>"$tmp/term.err" &
run_pid=$!
i=0
until grep -q -E 'refresh started|retrieval status: refreshing' "$tmp/term.err" 2>/dev/null || [ $i -ge 1200 ]; do
    sleep 0.05
    i=$((i + 1))
done
kill -TERM $run_pid
wait $run_pid
got=$?
if [ "$got" -ne 143 ]; then
    echo "valgrind dblab: term: exit $got, want 143"
    tail -n 20 "$tmp/term.err"
    vg_fails=$((vg_fails + 1))
fi
ctl POST /_emulator/reset '{}'
printf '{"apiVersion":"dblab-rds-refresh/v1","source":{"type":"rds","identifier":"production-db"}}\n' >"$tmp/in"
expect 65 noendpoint
printf '{"apiVersion":"dblab-rds-refresh/v1","clone":{"id":"x","kind":"instance"},"endpoint":{"host":"h","port":"5432"}}\n' >"$tmp/in"
expect 65 badport
[ "$vg_fails" -eq 0 ]
