# The driver's helpers under valgrind: dblab-rds-state (prepare, record, get,
# show, work, clear; a planted symlink refused) and dblab-rds-doc (-field found,
# absent, invalid document; -summary with a work directory and metrics; -log).
# No network. Run by tests/run-valgrind with VG and DRR_BIN set; valgrind exits
# 99 on a memory error or a definite/indirect leak, so each case checks the code.
set -u
tmp=$(mktemp -d "${TMPDIR:-/tmp}/drr-vg-helpers.XXXXXX") || exit 70
trap 'rm -rf "$tmp"' EXIT
export HOME="$tmp" DBLAB_TOKEN=vg-helpers-token
unset DRR_STATE_DIR STATE_DIRECTORY DBLAB_RDS_REFRESH_CONFIG
# shellcheck disable=SC2016 # ${DBLAB_TOKEN} is for the config, not the shell
printf 'source:\n  type: rds\n  identifier: production-db\nclone:\n  instanceClass: db.t3.medium\ndblab:\n  apiEndpoint: http://127.0.0.1:1\n  token: ${DBLAB_TOKEN}\naws:\n  region: us-east-1\n' >"$tmp/config.yaml"
chmod 0600 "$tmp/config.yaml"
fails=0
expect() { # CODE CMD ARGS...
    want=$1 cmd=$2
    shift 2
    $VG "$DRR_BIN/$cmd" "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
    got=$?
    if [ "$got" -ne "$want" ]; then
        echo "valgrind helpers: $cmd $*: exit $got, want $want"
        tail -n 20 "$tmp/err"
        fails=$((fails + 1))
    fi
}
st="-config $tmp/config.yaml -state-dir $tmp/state"
# shellcheck disable=SC2086 # $st: words without spaces
{
    expect 0 dblab-rds-state $st -prepare
    expect 86 dblab-rds-state $st -get runId
    expect 0 dblab-rds-state $st -record create -pid 1 -run-id vg-run
    expect 0 dblab-rds-state $st -get clone
    expect 0 dblab-rds-state $st -show
    expect 0 dblab-rds-state $st -work 4194305
    expect 64 dblab-rds-state $st -record create -pid 1 -run-id 'bad id'
    expect 0 dblab-rds-state $st -clear
    ln -s "$tmp/config.yaml" "$tmp/state/us-east-1.production-db/run.state"
    expect 78 dblab-rds-state $st -get runId
}
doc='{"apiVersion":"dblab-rds-refresh/v1","runId":"r1","clone":{"id":"dblab-refresh-x","instances":["a","b"]}}'
printf '%s\n' "$doc" >"$tmp/doc.json"
expect 0 dblab-rds-doc -field clone.instances.1 -in "$tmp/doc.json"
expect 86 dblab-rds-doc -field clone.nothing -in "$tmp/doc.json"
printf '{"apiVersion":"dblab-rds-refresh/v1",,}\n' >"$tmp/bad.json"
expect 65 dblab-rds-doc -field runId -in "$tmp/bad.json"
mkdir "$tmp/work"
printf 'recovery 0 1 2 delete\ngc 0 2 3\ncreate 0 3 4\ndelete 0 5 6\n' >"$tmp/work/steps"
printf '{"awsCalls":3}\n' >"$tmp/work/create.stats"
printf 'runId=old\nclone=dblab-refresh-old\n' >"$tmp/work/recovery.state"
printf '{"kind":"gc"}\n' >"$tmp/work/gc.out"
printf '{"apiVersion":"dblab-rds-refresh/v1","deleted":{"id":"dblab-refresh-x"}}\n' >"$tmp/work/delete.out"
expect 0 dblab-rds-doc -config "$tmp/config.yaml" -summary -work "$tmp/work" -status failed -exit-code 88 \
    -step refresh -clone-id dblab-refresh-x -clone-deleted -started-at 1 -in "$tmp/doc.json" \
    -metrics-file "$tmp/metrics/x.prom"
expect 0 dblab-rds-doc -summary -kind cleanup -work "$tmp/work" -status success -exit-code 0
expect 0 dblab-rds-doc -summary -status busy -step lock -exit-code 84
expect 0 dblab-rds-doc -log-format json -log warn -message "a message"
expect 64 dblab-rds-doc -field a -summary
[ "$fails" -eq 0 ]
