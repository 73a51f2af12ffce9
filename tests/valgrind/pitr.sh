# Point-in-time clones and the clone's own master password under valgrind: the
# whole of tests/integration/test_pipeline_pitr.sh (RDS latest / at a time, Aurora
# copy-on-write / full copy, each with managed and keep passwords; a time outside
# the window; backups disabled) with every command wrapped in $VG. valgrind exits
# 99 on a memory error or a definite/indirect leak, which fails the step's
# exit-code check. Sourced by tests/run-valgrind with VG and DRR_BIN set.
set -u
tmp=$(mktemp -d "${TMPDIR:-/tmp}/drr-vg-pitr.XXXXXX") || exit 70
trap 'rm -rf "$tmp"' EXIT
for c in rds-snapshot-latest rds-clone-create rds-clone-wait dblab-refresh rds-clone-delete; do
    cat >"$tmp/$c" <<WRAP
#!/bin/sh
exec $VG "$DRR_BIN/$c" "\$@"
WRAP
    chmod +x "$tmp/$c"
done
if DRR_BIN="$tmp" bash tests/integration/test_pipeline_pitr.sh >"$tmp/log" 2>&1; then
    echo "valgrind pitr: test_pipeline_pitr.sh ok"
else
    echo "valgrind pitr: test_pipeline_pitr.sh FAILED"
    tail -n 40 "$tmp/log"
    exit 1
fi
