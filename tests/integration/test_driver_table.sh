# shellcheck shell=bash
# Prints the driver's fault-injection scenario table (Markdown) by running the
# driver's integration tests. Not executable on purpose (tests/run-integration
# runs executables only); run it as:
#
#   make && bash tests/integration/test_driver_table.sh
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 70
export DRR_BIN=${DRR_BIN:-$top/bin}
DRR_SCENARIO_TABLE=$(mktemp "${TMPDIR:-/tmp}/drr-table.XXXXXX") || exit 70
export DRR_SCENARIO_TABLE
trap 'rm -f "$DRR_SCENARIO_TABLE"' EXIT
status=0
for t in tests/integration/test_driver_run.sh tests/integration/test_driver_signals.sh \
    tests/integration/test_driver_faults.sh tests/integration/test_driver_state.sh; do
    start=$(date +%s)
    if "./$t" >"$DRR_SCENARIO_TABLE.log" 2>&1; then
        echo "PASS $t ($(( $(date +%s) - start ))s)" >&2
    else
        echo "FAIL $t ($(( $(date +%s) - start ))s):" >&2
        tail -n 40 "$DRR_SCENARIO_TABLE.log" >&2
        status=1
    fi
done
rm -f "$DRR_SCENARIO_TABLE.log"
printf '| %-52s | %-24s | %-34s | %6s |\n' scenario expected outcome "secs"
printf '|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' $(seq 54))" "$(printf -- '-%.0s' $(seq 26))" \
    "$(printf -- '-%.0s' $(seq 36))" "$(printf -- '-%.0s' $(seq 8))"
cat "$DRR_SCENARIO_TABLE"
exit "$status"
