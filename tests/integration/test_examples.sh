#!/usr/bin/env bash
# Every file in examples/ runs against the emulators as shipped (issue 17):
#   - each config: `rds-refresh -config examples/X.yaml` after sourcing the
#     emulators' env file, nothing else (what README's "Try it by hand" says);
#   - examples/cron: by tests/integration/test_wrapper_cron.py (Debian's crontab,
#     the time gates, each line's command against the emulators);
#   - examples/systemd/dblab-rds-refresh.service: its ExecStart (systemd's $$
#     unescaped) with $CREDENTIALS_DIRECTORY holding the token and $STATE_DIRECTORY,
#     as systemd sets them; the timer names the service.
# Every run must succeed and leave no clone behind.
# shellcheck source=tests/integration/test_driver_lib.sh
. "$(dirname "$0")/test_driver_lib.sh"
dt_init
# The emulators' env file as a user sources it (AWS_ENDPOINT_URL, DBLAB_API_ENDPOINT,
# DBLAB_TOKEN, credentials): the examples need nothing else.
set -a
# shellcheck disable=SC1091
. "$_EMU_DIR/env"
set +a
unset DRR_STATE_DIR

examples=$(cd "$DT_TOP/examples" && find . -type f | sed 's|^\./||' | LC_ALL=C sort)
covered=""

run_ok() { # NAME: DT_RC, $DT_DIR/out; success with the clone deleted
    expect_rc 0
    expect_doc outcome.status success
    expect_doc outcome.cloneDeleted true
    dt_check_clean
}

# ---------------------------------------------------------------- configs
for f in $examples; do
    case $f in *.yaml) ;; *) continue ;; esac
    case_begin "examples/$f"
    dt_reset
    DT_RC=0
    (cd "$DT_DIR" && "$DT_BIN/rds-refresh" -config "$DT_TOP/examples/$f" -state-dir "$DT_DIR/state") \
        >"$DT_DIR/out" 2>"$DT_DIR/err" || DT_RC=$?
    run_ok
    covered="$covered $f"
    dt_row "examples/$f" "0, clone deleted" "exit $DT_RC" "$(dt_secs "$DT_CASE_T0")"
done

# The paths a packaged install uses, mapped into $root.
root=$DT_DIR/root
map_paths() {
    sed -e "s|/etc/dblab/rds-refresh.yaml|$DT_TOP/examples/config.yaml|g" \
        -e "s|/etc/dblab/|$root/etc/dblab/|g" -e "s|/var/lib/|$root/var/lib/|g" \
        -e "s|/var/log/|$root/var/log/|g" -e "s|/usr/local/bin/|$DT_BIN/|g"
}
mkdir -p "$root/etc/dblab" "$root/var/lib/dblab-rds-refresh" "$root/var/log" \
    "$root/var/lib/prometheus/node-exporter" "$root/creds"
printf 'DBLAB_TOKEN=%s\nAWS_ENDPOINT_URL=%s\nDBLAB_API_ENDPOINT=%s\n' "$DBLAB_TOKEN" \
    "$AWS_ENDPOINT_URL" "$DBLAB_API_ENDPOINT" >"$root/etc/dblab/rds-refresh.env"
printf '%s' "$DBLAB_TOKEN" >"$root/etc/dblab/dblab-token"
chmod 0600 "$root/etc/dblab/"*

# ---------------------------------------------------------------- cron
# examples/cron is run by tests/integration/test_wrapper_cron.py: Debian's crontab
# accepts it, its hourly gates fire once a week / day in every time zone, and each
# line's command runs against the emulators.
covered="$covered cron"

# ---------------------------------------------------------------- systemd
case_begin "examples/systemd"
unit=$DT_TOP/examples/systemd/dblab-rds-refresh.service
exec_start=$(sed -n 's/^ExecStart=//p' "$unit" | sed 's/\$\$/$/g' | map_paths)
[ -n "$exec_start" ] || fail "no ExecStart"
grep -q "^Unit=dblab-rds-refresh.service\|^\[Timer\]" "$DT_TOP/examples/systemd/dblab-rds-refresh.timer" ||
    fail "the timer has no [Timer] section"
cp "$root/etc/dblab/dblab-token" "$root/creds/dblab-token"
dt_reset
DT_RC=0
(cd "$DT_DIR" && set -a && . "$root/etc/dblab/rds-refresh.env" && set +a &&
    CREDENTIALS_DIRECTORY=$root/creds STATE_DIRECTORY=$root/var/lib/dblab-rds-refresh \
    PATH="$DT_BIN:/usr/bin:/bin" sh -c "unset DBLAB_TOKEN; $exec_start") >"$DT_DIR/out" 2>"$DT_DIR/err" ||
    DT_RC=$?
run_ok
ls "$root/var/lib/prometheus/node-exporter/"*.prom >/dev/null 2>&1 || fail "no metrics file"
covered="$covered systemd/dblab-rds-refresh.service systemd/dblab-rds-refresh.timer"
dt_row "examples/systemd" "0, clone deleted" "exit $DT_RC" "$(dt_secs "$DT_CASE_T0")"

# Nothing in examples/ went untested.
for f in $examples; do
    case " $covered " in *" $f "*) ;; *) fail "examples/$f is not run by this test" ;; esac
done
dt_table
echo "ok"
