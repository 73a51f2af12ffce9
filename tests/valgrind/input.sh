# Bad input under valgrind, for every command: an invalid config (78) and a bad
# flag (64); and for each command that reads a run document, the document's
# error paths (65): malformed JSON, a wrong apiVersion, the section it needs
# missing, a field of the wrong type; plus, once, empty input, a JSON array, a
# duplicate key and an -in file that does not exist. None of these may reach the
# network (the endpoints below listen nowhere). Run by tests/run-valgrind with VG
# and DRR_BIN set; valgrind exits 99 on a memory error or a definite/indirect
# leak, so each case checks the exact code.
set -u
tmp=$(mktemp -d "${TMPDIR:-/tmp}/drr-vg-input.XXXXXX") || exit 70
trap 'rm -rf "$tmp"' EXIT
export HOME="$tmp" AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
    AWS_EC2_METADATA_DISABLED=true AWS_ACCESS_KEY_ID=AKIDTESTEMULATOR \
    AWS_SECRET_ACCESS_KEY=emulator-secret-key DBLAB_TOKEN=vg-input-token
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_RDS DBLAB_RDS_REFRESH_CONFIG
# shellcheck disable=SC2016 # ${DBLAB_TOKEN} is for the config, not the shell
printf 'source:\n  type: rds\n  identifier: production-db\n  username: u\n  password: pw-123456\nclone:\n  instanceClass: db.t3.medium\ndblab:\n  apiEndpoint: http://127.0.0.1:1\n  token: ${DBLAB_TOKEN}\naws:\n  region: us-east-1\n  endpoint: http://127.0.0.1:1\n  maxAttempts: 1\n' >"$tmp/config.yaml"
printf 'source:\n  type: rds\n  identifier: production-db\nclone:\n  instanceClas: db.t3.medium\n' >"$tmp/typo.yaml"
vg_fails=0
# expect CODE CMD INPUT [ARGS...]: INPUT is a file for stdin ("-" = none)
expect() {
    want=$1 cmd=$2 input=$3
    shift 3
    [ "$input" = - ] && input=/dev/null
    $VG "$DRR_BIN/$cmd" "$@" <"$input" >"$tmp/out" 2>"$tmp/err"
    got=$?
    if [ "$got" -ne "$want" ]; then
        echo "valgrind input: $cmd $* <$input: exit $got, want $want"
        tail -n 20 "$tmp/err"
        vg_fails=$((vg_fails + 1))
    elif [ "$want" -ne 0 ] && [ -s "$tmp/out" ]; then
        echo "valgrind input: $cmd $*: output on failure"
        vg_fails=$((vg_fails + 1))
    fi
}
head='"apiVersion":"dblab-rds-refresh/v1","source":{"type":"rds","identifier":"production-db","region":"us-east-1"}'
snap='"snapshot":{"id":"rds:production-db-2026-11-25-03-00","type":"automated","createTime":"2026-11-25T03:00:00Z","engine":"postgres","engineVersion":"16.4","encrypted":true,"port":5432,"allocatedStorage":100,"kind":"instance"}'
clone='"clone":{"id":"dblab-refresh-vg","kind":"instance","instances":["dblab-refresh-vg"],"createTime":"2026-11-26T02:00:00Z","deleteAfter":"2026-11-28T02:00:00Z","instanceClass":"db.t3.medium","adopted":false}'
printf '{"apiVersion":"dblab-rds-refresh/v1",\n"source": {"type": "rds",,}}\n' >"$tmp/malformed.json"
printf '{"apiVersion":"dblab-rds-refresh/v2",%s}\n' "$snap" >"$tmp/version.json"
printf '{%s}\n' "$head" >"$tmp/nosnap.json"
printf '{%s,%s}\n' "$head" "$snap" >"$tmp/noclone.json"
printf '{%s,%s,%s}\n' "$head" "$snap" "$clone" >"$tmp/noendpoint.json"
printf '{%s,"snapshot":{"id":5,"kind":"instance"}}\n' "$head" >"$tmp/badsnap.json"
printf '{%s,%s,"clone":{"id":["x"],"kind":"instance"}}\n' "$head" "$snap" >"$tmp/badclone.json"
printf '[1, 2]\n' >"$tmp/array.json"
printf '{%s,"runId":"a","runId":"b"}\n' "$head" >"$tmp/dupkey.json"
: >"$tmp/empty.json"
cfg=$tmp/config.yaml
for cmd in rds-snapshot-latest rds-clone-create rds-clone-wait dblab-refresh rds-clone-delete rds-clone-gc; do
    expect 78 "$cmd" - -config "$tmp/typo.yaml"
done
for cmd in rds-clone-create rds-clone-gc dblab-refresh; do
    expect 64 "$cmd" - -config "$cfg" -no-such-flag
done
for cmd in rds-clone-create rds-clone-wait dblab-refresh rds-clone-delete; do
    expect 65 "$cmd" "$tmp/malformed.json" -config "$cfg"
    expect 65 "$cmd" "$tmp/version.json" -config "$cfg"
done
expect 65 rds-clone-create "$tmp/nosnap.json" -config "$cfg"
expect 65 rds-clone-create "$tmp/badsnap.json" -config "$cfg"
expect 65 rds-clone-wait "$tmp/noclone.json" -config "$cfg"
expect 65 rds-clone-wait "$tmp/badclone.json" -config "$cfg"
expect 65 rds-clone-delete "$tmp/noclone.json" -config "$cfg"
expect 65 rds-clone-delete "$tmp/badclone.json" -config "$cfg"
expect 65 dblab-refresh "$tmp/noendpoint.json" -config "$cfg"
expect 65 rds-clone-wait "$tmp/empty.json" -config "$cfg"
expect 65 rds-clone-wait "$tmp/array.json" -config "$cfg"
expect 65 rds-clone-wait "$tmp/dupkey.json" -config "$cfg"
expect 65 rds-clone-wait - -config "$cfg" -in "$tmp/none.json"
[ "$vg_fails" -eq 0 ]
