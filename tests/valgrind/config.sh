# dblab-rds-config under valgrind: the valid path and each class of error path.
# Sourced by tests/run-valgrind with VG and DRR_BIN set; valgrind exits 99 on a
# memory error or a definite/indirect leak, so each case checks the exact code.
set -u
tmp=$(mktemp -d "${TMPDIR:-/tmp}/drr-vg-config.XXXXXX") || exit 70
trap 'rm -rf "$tmp"' EXIT
export HOME="$tmp" AWS_CONFIG_FILE="$tmp/none" AWS_SHARED_CREDENTIALS_FILE="$tmp/none"
unset AWS_REGION AWS_DEFAULT_REGION AWS_PROFILE DBLAB_RDS_REFRESH_CONFIG
vg_fails=0
expect() {
    want=$1
    shift
    $VG "$DRR_BIN/dblab-rds-config" "$@" >/dev/null 2>"$tmp/err"
    got=$?
    if [ "$got" -ne "$want" ]; then
        echo "valgrind config: exit $got, want $want: $*"
        cat "$tmp/err"
        vg_fails=$((vg_fails + 1))
    fi
}
printf 'clone:\n  instanceClas: db.t3.medium\n' >"$tmp/typo.yaml"
printf 'source: [\n' >"$tmp/syntax.yaml"
printf 'source:\n  type: rds\n  identifier: p\n  username: u\n  password: pw-123456\nclone:\n  instanceClass: db.t3.medium\n  securityGroups: [sg-1, sg-2]\n  tags: {a: b, c: d}\ndblab:\n  apiEndpoint: https://h\n  token: secretsmanager:x#y\n  dumpParallelJobs: auto\naws:\n  region: us-east-1\n' >"$tmp/full.yaml"
printf 'clone:\n  securityGroups: [sg-1, sg-1]\n' >"$tmp/dup.yaml"
DBLAB_TOKEN=vg-token-value expect 0 -config examples/config.yaml
expect 0 -config "$tmp/full.yaml"
expect 78 -config examples/config.yaml           # unset ${DBLAB_TOKEN}
expect 78 -config "$tmp/typo.yaml"
expect 78 -config "$tmp/syntax.yaml"
expect 78 -config "$tmp/dup.yaml"
/usr/bin/python3 -c 'print("[" * 200000)' >"$tmp/deep.yaml"
expect 78 -config "$tmp/deep.yaml"               # nesting bound, before composing
chmod 666 "$tmp/typo.yaml"
expect 78 -config "$tmp/typo.yaml"               # writable by others: refused
chmod 600 "$tmp/typo.yaml"
expect 78 -config "$tmp/missing.yaml"
expect 64
expect 64 -config x -bogus
expect 0 -help
[ "$vg_fails" -eq 0 ]
