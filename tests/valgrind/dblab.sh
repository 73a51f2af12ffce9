# dblab-refresh under valgrind: every scenario of its integration tests (success,
# dry run, rdsIam, the refusals, the wait's failures, timeouts and signals, TLS,
# secret references resolved from the AWS emulator)
# with the command wrapped in $VG. valgrind exits 99 on a memory error or a
# definite/indirect leak, which fails the scenario's exit-code check. Sourced by
# tests/run-valgrind with VG and DRR_BIN set.
set -u
tmp=$(mktemp -d "${TMPDIR:-/tmp}/drr-vg-dblab.XXXXXX") || exit 70
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/dblab-refresh" <<WRAP
#!/bin/sh
exec $VG "$DRR_BIN/dblab-refresh" "\$@"
WRAP
chmod +x "$tmp/dblab-refresh"
fails=0
for t in tests/integration/test_dblab_refresh_ok.sh tests/integration/test_dblab_refusals.sh \
    tests/integration/test_dblab_wait.sh tests/integration/test_dblab_tls.sh \
    tests/integration/test_creds_secrets.sh; do
    if DRR_BIN="$tmp" bash "$t" >"$tmp/log" 2>&1; then
        echo "valgrind dblab: $(basename "$t") ok"
    else
        echo "valgrind dblab: $(basename "$t") FAILED"
        tail -n 40 "$tmp/log"
        fails=$((fails + 1))
    fi
done
[ "$fails" -eq 0 ]
