#!/bin/bash
# The progress of the two long waits (issue 17, "the first hour"):
#   - not a terminal (a log file): a plain log line with the step, the status,
#     the time elapsed and the expected duration, once a minute (scaled with
#     DBLAB_RDS_REFRESH_POLL_SCALE like the polling);
#   - on a terminal (a pty, by util-linux script(1)): one line rewritten in place
#     (\r + erase) with the same fields, erased before the step's own log lines;
#   - -expect DURATION is validated (64).
. tests/lib/pipeline_test.sh
command -v script >/dev/null || { echo "SKIP: script(1) (util-linux) missing"; exit 77; }
pl_init --time-scale 30
export DBLAB_RDS_REFRESH_POLL_SCALE=0.05    # progress lines every 3 s of real time

pl_config "type: rds
identifier: production-db" "instanceClass: db.t3.medium"

pl_step 1 rds-snapshot-latest
pl_step 2 rds-clone-create
# not a terminal: the log file gets periodic progress lines
pl_step 3 rds-clone-wait -expect 20m
grep -Eq 'INFO  rds-clone-wait: clone-wait: (creating|backing-up|modifying), [0-9ms]+ elapsed \(expected ~20m' \
    "$PL_DIR/3.err" || pl_fail "no progress line in rds-clone-wait's log"
grep -q $'\r' "$PL_DIR/3.err" && pl_fail "a carriage return in a log file"

# a terminal: the refresh's live line (the DBLab emulator's refresh takes a while)
dblab_emu_post set '{"timing":{"startDelay":1,"refreshDuration":120,"snapshotDuration":5,"connectDelay":0}}' >/dev/null
export PL_BIN PL_DIR
script -qec "\"$PL_BIN/dblab-refresh\" -config \"$PL_DIR/config.yaml\" -expect 1h \
    <\"$PL_DIR/3.json\" >\"$PL_DIR/4.json\"" "$PL_DIR/tty.log" >/dev/null 2>&1 </dev/null ||
    pl_fail "dblab-refresh on a pty failed: $(tail -5 "$PL_DIR/tty.log")"
grep -q $'\r\033\\[Krefresh: [a-z]*, [0-9ms]* elapsed (expected ~1h)' "$PL_DIR/tty.log" ||
    pl_fail "no live progress line on the terminal: $(tr '\r' '\n' <"$PL_DIR/tty.log" | tail -5)"
pl_valid "$PL_DIR/4.json"
[ "$(pl_field 4 "d['refresh']['status']")" = finished ] || pl_fail "refresh not finished"

rc=0
"$PL_BIN/rds-clone-wait" -config "$PL_DIR/config.yaml" -expect soon <"$PL_DIR/2.json" >/dev/null 2>"$PL_DIR/x.err" || rc=$?
[ "$rc" = 64 ] && grep -q -- '-expect: "soon" is not a duration' "$PL_DIR/x.err" || pl_fail "-expect soon: exit $rc"

pl_step 5 rds-clone-delete
echo "ok"
