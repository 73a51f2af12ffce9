#!/bin/sh
# dblab-rds-refresh: the driver. Composes rds-snapshot-latest -> dblab-refresh -dry-run
# (preflight) -> rds-clone-create -> rds-clone-wait -> dblab-refresh -> rds-clone-delete,
# and makes sure the clone never outlives the run: the run id is recorded (dblab-rds-state)
# before the clone can exist; INT/TERM/HUP are forwarded to the running step and the
# delete is requested within 25 s; a killed run's record is recovered at the next start
# (rds-clone-delete -run-id, the guarded delete); one run per source at a time (flock).
# dblab-rds-doc reads and builds the documents: no JSON here. See docs/driver.md.
# shellcheck disable=SC2046,SC2086,SC2317 # $FLAGS, $(expect): words without spaces, split on purpose;
# on_signal/on_exit run from traps, which shellcheck does not follow
set -u
umask 077

PROG=dblab-rds-refresh
STOP_SECS=5     # a step's time to end after the forwarded signal (then TERM, +2 s KILL)
DELETE_SECS=13  # the delete's budget after a signal: 5+2+13+2 < 25 s (Nomad, k8s, systemd)
GRACE=15s       # how long a delete by run id looks for a clone AWS does not list yet
SIGNAL_GRACE=8s # the same inside the signal budget

usage() {
    cat <<'EOF'
usage: dblab-rds-refresh [run] -config FILE [-dry-run] [-skip-cleanup] [-state-dir DIR]
                         [-metrics-file PATH] [-log-format text|json] [-verbose] [-quiet]
       dblab-rds-refresh cleanup -config FILE [-dry-run] [-max-age DURATION] [-state-dir DIR]
       dblab-rds-refresh -help | -version
Refreshes a DBLab Engine from a temporary clone of the newest RDS/Aurora snapshot
(snapshot -> create -> wait -> refresh -> delete), deleting the clone whatever happens.
One JSON line on stdout (the run document plus outcome, steps, awsCalls...); logs on stderr.
  -config FILE        configuration (default: $DBLAB_RDS_REFRESH_CONFIG)
  -dry-run            read-only: every check, nothing created, deleted or recorded
  -skip-cleanup       no start-up rds-clone-gc (the Go original's flag; a killed run's
                      recorded clone is still deleted: this run's record replaces it)
  -state-dir DIR      default $DRR_STATE_DIR, $STATE_DIRECTORY, /var/lib/dblab-rds-refresh
                      (root), ${XDG_STATE_HOME:-$HOME/.local/state}/dblab-rds-refresh
  -metrics-file PATH  Prometheus text metrics (node_exporter textfile collector)
  -log-format FMT     text (default) or json; with -verbose, -quiet passed to every command
  -max-age DURATION   cleanup: delete managed clones older than this (default clone.maxAge)
cleanup: recovers a clone recorded by a killed run, then runs rds-clone-gc.
Exit codes: the commands' table (docs/exit-codes.md, any command's -help). See docs/driver.md.
EOF
}
die_usage() { printf '%s: %s\nTry '\''%s -help'\''.\n' "$PROG" "$1" "$PROG" >&2; exit 64; }
say() { # LEVEL MESSAGE: text here; a JSON line is written by dblab-rds-doc
    if [ "$LOG_FORMAT" = json ] && [ -n "$C_DOC" ]; then
        "$C_DOC" -log-format json -log "$1" -message "$2" 9>&-
    else
        case $1 in info) _u=INFO ;; warn) _u=WARN ;; *) _u=ERROR ;; esac
        printf '%s %-5s %s: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$_u" "$PROG" "$2" >&2
    fi
}
info() { [ "$QUIET" = 1 ] || say info "$1"; }
warn() { say warn "$1"; }
error() { say error "$1"; }
now() { # NOW: ns since the epoch (whole seconds where date has no %N)
    NOW=$(date +%s%N)
    case $NOW in '' | *[!0-9]*) NOW=$(date +%s)000000000 ;; esac
}
MODE='' FLAGS='' CONFIG=${DBLAB_RDS_REFRESH_CONFIG:-} DRY_RUN=0 SKIP_CLEANUP=0 STATE_DIR=''
METRICS_FILE='' LOG_FORMAT=text VERBOSE=0 QUIET=0 MAX_AGE='' C_DOC=''
parse_args() {
    while [ $# -gt 0 ]; do
        _a=$1 _v='' _has=0
        shift
        case $_a in --) break ;; --*) _a=${_a#-} ;; esac # one or two dashes
        case $_a in -*=*) _v=${_a#*=} _a=${_a%%=*} _has=1 ;; esac
        case $_a in
            -config | -state-dir | -metrics-file | -log-format | -max-age)
                [ "$_has" = 1 ] || { [ $# -gt 0 ] || die_usage "$_a: needs an argument"; _v=$1; shift; }
                [ -n "$_v" ] || die_usage "$_a: empty argument" ;;
            -*) [ "$_has" = 0 ] || die_usage "$_a: takes no argument" ;;
        esac
        case $_a in
            -config) CONFIG=$_v ;;
            -state-dir) STATE_DIR=$_v ;;
            -metrics-file) METRICS_FILE=$_v ;;
            -log-format) case $_v in text | json) LOG_FORMAT=$_v ;; *) die_usage "-log-format: '$_v' is not text or json" ;; esac ;;
            -max-age) MAX_AGE=$_v ;;
            -dry-run) DRY_RUN=1 FLAGS="$FLAGS -dry-run" ;;
            -skip-cleanup) SKIP_CLEANUP=1 ;;
            -verbose) VERBOSE=1 FLAGS="$FLAGS -verbose" ;;
            -quiet) QUIET=1 FLAGS="$FLAGS -quiet" ;;
            -help | -h) usage; exit 0 ;;
            -version) _v=$("$BIN_DIR/dblab-rds-config" -version 2>/dev/null) || _v=unknown
                printf '%s %s\n' "$PROG" "${_v##* }"; exit 0 ;;
            -*) die_usage "unknown option $_a" ;;
            cleanup | run) [ "$MODE" = '' ] || die_usage "unexpected argument '$_a'"; MODE=$_a ;;
            *) die_usage "unexpected argument '$_a'" ;;
        esac
    done
    [ $# -eq 0 ] || die_usage "unexpected argument '$1'"
    [ -n "$CONFIG" ] || die_usage "-config FILE is required (or set DBLAB_RDS_REFRESH_CONFIG)"
    MODE=${MODE:-run} FLAGS="-log-format $LOG_FORMAT$FLAGS"
    [ -z "$MAX_AGE" ] || [ "$MODE" = cleanup ] || die_usage "-max-age is only for 'cleanup'"
    [ -z "$METRICS_FILE" ] || [ "$MODE" = run ] || die_usage "-metrics-file is only for a refresh run"
    [ "$SKIP_CLEANUP" = 0 ] || [ "$MODE" = run ] || die_usage "-skip-cleanup is only for a refresh run"
}

# state ARGS: dblab-rds-state on this source's directory (trust-checked each time).
state() { "$C_STATE" -config "$CONFIG" -log-format "$LOG_FORMAT" -quiet ${STATE_DIR:+-state-dir "$STATE_DIR"} "$@" 9>&-; }
# field PATH FILE: one value of a run document.
field() { "$C_DOC" -log-format "$LOG_FORMAT" -field "$1" -in "$2" 9>&-; }
# spawn NAME IN CMD [ARG...]: starts a step in the background (a signal then
# interrupts `wait` at once): stdin IN (or /dev/null), stdout WORK/NAME.out,
# its AWS calls to WORK/NAME.stats, the lock's descriptor closed.
PID='' WD='' STEP='' T0=''
spawn() {
    STEP=$1 _in=${2:-/dev/null}
    shift 2
    now && T0=$NOW
    DRR_STATS_FILE=$WORK/$STEP.stats "$@" <"$_in" >"$WORK/$STEP.out" 9>&- &
    PID=$! LOGGED=''
}
# collect [ACTION]: waits for the step, records "NAME RC T0 T1 [ACTION]" in WORK/steps.
# PID is cleared only after the record is written (LOGGED names the recorded child):
# a trap runs between any two commands, and a signal right after the child's exit
# must still find the step to record (on_signal), or the summary loses it.
LOGGED=''
collect() {
    wait_for "$PID"
    RC=$?
    [ -n "$WD" ] && unwatch
    now
    printf '%s %s %s %s %s\n' "$STEP" "$RC" "$T0" "$NOW" "${1:-}" >>"$WORK/steps"
    LOGGED=$PID PID=''
    return "$RC"
}
# wait_for PID: the child's status even when a second signal (counted in LATE
# by the cleanup's trap) returns `wait` early; a second wait returns the saved
# status, or 127 when the first had reaped it (then its status was genuine).
LATE=0
wait_for() {
    _g=$LATE
    wait "$1"
    _rc=$?
    while [ "$LATE" != "$_g" ]; do
        _g=$LATE
        wait "$1"
        _r2=$?
        [ "$_r2" = 127 ] && ! kill -0 "$1" 2>/dev/null && break
        _rc=$_r2
    done
    return "$_rc"
}
# watchdog PID SECS: TERM, then KILL 2 s later, if PID still runs after SECS.
watchdog() {
    (
        trap 'kill "$_s" 2>/dev/null; exit 0' USR1
        sleep "$2" & _s=$!
        wait "$_s" || exit 0
        kill -s TERM "$1" 2>/dev/null || exit 0
        sleep 2 & _s=$!
        wait "$_s" || exit 0
        kill -s KILL "$1" 2>/dev/null
    ) >/dev/null 2>&1 </dev/null 9>&- &
    WD=$!
}
unwatch() { kill -s USR1 "$WD" 2>/dev/null; wait "$WD" 2>/dev/null; WD=; }

# run_step NAME IN SAVE CMD [ARG...]: one step; its document is copied to
# SDIR/SAVE.json (real runs) and becomes LAST_DOC.
run_step() {
    _name=$1 _in=$2 _save=$3
    shift 3
    info "step $_name: ${1##*/}"
    spawn "$_name" "$_in" "$@"
    collect
    # The command itself, not field(): dash runs a trap between the commands of a
    # function with its call's redirection still in place, so a signal here would
    # print the final document to /dev/null.
    [ "$RC" = 0 ] && ! "$C_DOC" -log-format "$LOG_FORMAT" -field apiVersion -in "$WORK/$_name.out" \
        >/dev/null 9>&- &&
        error "step $_name: ${1##*/} exited 0 without a run document on stdout" && RC=70
    [ "$RC" = 0 ] || { error "step $_name failed (exit $RC)"; fail "$_name" "$RC"; return "$RC"; }
    LAST_DOC=$WORK/$_name.out
    [ "$DRY_RUN" = 1 ] || { cp "$WORK/$_name.out" "$SDIR/$_save.json" && LAST_DOC=$SDIR/$_save.json; }
    info "step $_name done"
}
EXIT=0 FAIL_STEP='' OUTCOME=success SIG=''
fail() { # STEP CODE: the first failure counts (99: nothing to do, "skipped")
    [ "$EXIT" = 0 ] && EXIT=$2 FAIL_STEP=$1 OUTCOME=failed && { [ "$2" != 99 ] || OUTCOME=skipped; }
    return 0
}
RID='' CLONE='' LAST_DOC='' CLONE_DOC=0 CREATE_STARTED=0 CREATE_DONE=0 DELETED=0 GONE_EARLY=0
DELETE_TRIED=0 RECORDED=0
# delete_clone DEADLINE [GRACE]: the guarded delete (request sent, no -wait):
# from the document when it has the clone (kind, Aurora members), else by run id.
delete_clone() {
    info "deleting clone $CLONE"
    if [ "$CLONE_DOC" = 1 ]; then spawn delete "$LAST_DOC" "$C_DELETE" -config "$CONFIG" $FLAGS
    else spawn delete "" "$C_DELETE" -config "$CONFIG" $FLAGS -run-id "$RID" ${2:+-grace "$2"}; fi
    watchdog "$PID" "$1"
    delete_collect
}
delete_collect() {
    collect
    DELETE_TRIED=1
    if [ "$RC" = 0 ]; then
        DELETED=1
        cp "$WORK/delete.out" "$SDIR/deleted.json"
        [ "$CREATE_DONE" = 0 ] && [ "$(field deleted.alreadyGone "$WORK/delete.out")" = true ] && GONE_EARLY=1
        info "delete of clone $CLONE requested"
    else
        error "delete of clone $CLONE failed (exit $RC); the next run's recovery will retry"
        fail delete "$RC"
    fi
}

FINISHED=0
# finish DEADLINE: deletes the clone if still there, drops the record only when
# nothing can exist or AWS accepted the delete, prints the document, metrics.
finish() {
    [ "$FINISHED" = 1 ] && return 0
    FINISHED=1
    if [ "$CREATE_STARTED" = 1 ] && [ "$DELETED" = 0 ] && [ "$DELETE_TRIED" = 0 ]; then
        delete_clone "$1" "${2:-}"
    fi
    if [ "$RECORDED" = 0 ]; then :
    elif [ "$CREATE_STARTED" = 0 ] || { [ "$DELETED" = 1 ] && [ "$GONE_EARLY" = 0 ]; }; then state -clear
    else warn "the record of run $RID stays in $SDIR for the next run's recovery"; fi
    [ "$LATE" != 0 ] && warn "further signals during the cleanup were ignored (it is bounded)"
    [ "$CREATE_STARTED" = 1 ] || CLONE=''
    set -- -summary -work "$WORK" -status "$OUTCOME" -exit-code "$EXIT" -step "$FAIL_STEP" -signal "$SIG" \
        -started-at "$RUN_T0" -run-id "$RID" -clone-id "$CLONE" -metrics-file "$METRICS_FILE"
    [ "$DELETED" = 1 ] && set -- "$@" -clone-deleted
    [ "$DRY_RUN" = 1 ] && set -- "$@" -dry-run
    [ -n "$LAST_DOC" ] && set -- "$@" -in "$LAST_DOC"
    "$C_DOC" -config "$CONFIG" -log-format "$LOG_FORMAT" "$@" >"$WORK/summary.json" 9>&-
    cat "$WORK/summary.json" && { [ "$DRY_RUN" = 1 ] || cp "$WORK/summary.json" "$SDIR/last-run.json"; }
    if [ "$EXIT" = 0 ]; then info "run $OUTCOME"; else error "run $OUTCOME at step ${FAIL_STEP:-?} (exit $EXIT)"; fi
}

early() { # STATUS STEP CODE: the document of a run that ended before any step
    "$C_DOC" -summary -status "$1" -step "$2" -exit-code "$3" 9>&-
    exit "$3"
}
on_signal() { # NAME NUMBER
    trap 'LATE=$((LATE + 1))' INT TERM HUP
    SIG=$1
    warn "received SIG$1 during step ${STEP:-start}; stopping"
    [ "$PID" = "$LOGGED" ] && PID='' # its record was written just before the signal
    if [ -n "$PID" ]; then
        [ -n "$WD" ] && unwatch
        case $STEP in
            delete | recovery) # never interrupted: the signal budget, and no second delete
                watchdog "$PID" "$DELETE_SECS"
                if [ "$STEP" = delete ]; then delete_collect; else collect; fi ;;
            *) # INT as TERM: a background child of a non-interactive shell ignores SIGINT
                kill -s "$([ "$1" = INT ] && echo TERM || echo "$1")" "$PID" 2>/dev/null
                watchdog "$PID" "$STOP_SECS"
                collect
                [ "$STEP" = create ] && [ "$RC" = 0 ] && CREATE_DONE=1 && CLONE_DOC=1 &&
                    cp "$WORK/create.out" "$SDIR/clone.json" && LAST_DOC=$SDIR/clone.json ;;
        esac
    fi
    EXIT=$((128 + $2)) FAIL_STEP=${STEP:-start} OUTCOME=interrupted
    [ "$MODE" = run ] && [ "$LOCKED" = 1 ] && finish "$DELETE_SECS" "$SIGNAL_GRACE"
    exit "$EXIT"
}

on_exit() {
    _st=$?
    trap 'LATE=$((LATE + 1))' INT TERM HUP
    if [ "$MODE" = run ] && [ "$FINISHED" = 0 ] && [ "$LOCKED" = 1 ]; then
        [ "$_st" = 0 ] && _st=70
        fail "${STEP:-driver}" "$_st"
        error "unexpected exit (status $_st) during step ${STEP:-start}"
        finish "$DELETE_SECS"
        _st=$EXIT
    fi
    [ -n "$WORK" ] && rm -rf "$WORK"
    exit "$_st"
}
LOCKED=0 WORK='' SDIR='' GC_RC=0
# start: config, trusted state dir, lock (busy: 1), work dir, recovery, gc.
start() {
    "$C_CONFIG" -config "$CONFIG" -log-format "$LOG_FORMAT" -quiet >/dev/null 9>&- || early failed config $?
    SDIR=$(state -prepare) || early failed state $?
    STATE_DIR=${SDIR%/*}
    exec 9>>"$SDIR/lock" || early failed lock 70
    flock -n 9 || return 1
    LOCKED=1
    WORK=$(state -work $$) || { WORK= && fail start 70 && return 0; }
    recover || return 0
    go_recover
    [ "$SKIP_CLEANUP" = 0 ] || { warn "-skip-cleanup: no start-up garbage collection (rds-clone-gc)"; return 0; }
    info "step gc: rds-clone-gc"
    spawn gc "" "$C_GC" -config "$CONFIG" $FLAGS "$@"
    collect || warn "rds-clone-gc failed (exit $RC)"
    GC_RC=$RC
}
# recover: a record left by a run that could not clean up (SIGKILL, power loss,
# a failed delete): its clone is deleted by pipeline + run id, waiting out AWS's
# eventual consistency; the record goes only when the delete exits 0.
recover() {
    _rid=$(state -get runId) || { [ $? = 86 ] && return 0; fail recovery 78; return 1; }
    # (not state(): a trap during a redirected function call keeps the redirection)
    "$C_STATE" -config "$CONFIG" -log-format "$LOG_FORMAT" -quiet ${STATE_DIR:+-state-dir "$STATE_DIR"} \
        -show >"$WORK/recovery.state" 9>&-
    _old=$(state -get clone)
    now
    if [ -z "$_old" ]; then
        info "recovery: run ${_rid:-?} ended before creating a clone"
        printf 'recovery 0 %s %s none\n' "$NOW" "$NOW" >>"$WORK/steps"
        [ "$DRY_RUN" = 1 ] || state -clear
        return 0
    fi
    _act=delete && [ "$DRY_RUN" = 0 ] || _act=would-delete
    warn "recovery: run $_rid did not finish; $_act its clone $_old"
    spawn recovery "" "$C_DELETE" -config "$CONFIG" $FLAGS -run-id "$_rid" -grace "$GRACE"
    collect "$_act"
    case $RC in
        0) info "recovery: clone $_old done" ;;
        83) error "recovery: the guard refused to delete '$_old' (not this pipeline's clone); dropping the record" ;;
        *) error "recovery: delete of $_old failed (exit $RC); the record is kept"; fail recovery "$RC"; return 1 ;;
    esac
    [ "$DRY_RUN" = 1 ] || state -clear
}

go_recover() { # the clone the Go rds-refresh recorded in this -state-dir, through the guard
    _g=$STATE_DIR/rds-refresh.state && [ -f "$_g" ] || return 0
    spawn recovery-go "" "$C_DELETE" -config "$CONFIG" $FLAGS -go-state "$_g"
    collect || warn "recovery: the clone in the Go tool's $_g was not deleted (exit $RC); the file stays"
}
expect() { # STEP: "-expect Ns", the last run's duration of STEP when it succeeded (progress)
    [ "$(field "steps.$1.exitCode" "$SDIR/last-run.json" 2>/dev/null)" = 0 ] || return 0
    _d=$(field "steps.$1.durationSeconds" "$SDIR/last-run.json") && [ "${_d%.*}" -gt 0 ] 2>/dev/null && echo "-expect ${_d%.*}s"
}
pipeline() {
    RECORDED=1
    state -record snapshot -pid $$ || { fail snapshot 70; return; }
    run_step snapshot "" snapshot "$C_SNAPSHOT" -config "$CONFIG" $FLAGS || return
    # The run id, chosen by rds-snapshot-latest (scheduler's, or minted).
    RID=$(field runId "$LAST_DOC") || { error "no runId in the snapshot document"; fail snapshot 70; return; }
    # Preflight, before anything costs money: DBLab healthy, logical, not busy.
    _pf=-quiet
    { [ "$VERBOSE" = 1 ] || [ "$QUIET" = 1 ]; } && _pf=
    run_step preflight "$LAST_DOC" preflight "$C_REFRESH" -config "$CONFIG" $FLAGS $_pf -dry-run || return
    LAST_DOC=$SDIR/snapshot.json
    # The run id is recorded before the create request exists.
    CLONE=$(state -record create -pid $$ -run-id "$RID") ||
        { error "cannot record run $RID; not creating a clone without a record" && fail create 70 && return; }
    CREATE_STARTED=1
    run_step create "$LAST_DOC" clone "$C_CREATE" -config "$CONFIG" $FLAGS -run-id "$RID"
    CREATE_DONE=1
    [ "$RC" = 0 ] || return
    CLONE_DOC=1
    run_step wait "$LAST_DOC" endpoint "$C_WAIT" -config "$CONFIG" $FLAGS $(expect wait) || return
    run_step refresh "$LAST_DOC" refresh "$C_REFRESH" -config "$CONFIG" $FLAGS $(expect refresh)
}

dry_pipeline() { # every command with -dry-run, each reading the previous document
    run_step snapshot "" x "$C_SNAPSHOT" -config "$CONFIG" $FLAGS &&
        run_step create "$LAST_DOC" x "$C_CREATE" -config "$CONFIG" $FLAGS &&
        run_step wait "$LAST_DOC" x "$C_WAIT" -config "$CONFIG" $FLAGS &&
        run_step refresh "$LAST_DOC" x "$C_REFRESH" -config "$CONFIG" $FLAGS
}

case $0 in
    */*) BIN_DIR=$(cd "$(dirname "$0")" && pwd) ;;
    *) BIN_DIR=$(dirname "$(command -v "$0" 2>/dev/null || echo "./$0")") ;;
esac
parse_args "$@"
for _c in dblab-rds-config:CONFIG dblab-rds-state:STATE dblab-rds-doc:DOC rds-snapshot-latest:SNAPSHOT \
    rds-clone-create:CREATE rds-clone-wait:WAIT dblab-refresh:REFRESH rds-clone-delete:DELETE rds-clone-gc:GC; do
    _p=$BIN_DIR/${_c%:*}
    [ -x "$_p" ] || _p=$(command -v "${_c%:*}") || { printf '%s: %s: command not found next to %s or on PATH\n' "$PROG" "${_c%:*}" "$0" >&2; exit 70; }
    eval "C_${_c#*:}=\$_p"
done
command -v flock >/dev/null 2>&1 || { error "flock(1) not found (util-linux)"; exit 70; }
trap 'on_signal INT 2' INT
trap 'on_signal TERM 15' TERM
trap 'on_signal HUP 1' HUP
trap on_exit EXIT
now
RUN_T0=$NOW

if [ "$MODE" = cleanup ]; then
    case $MAX_AGE in *[!0-9a-z.]*) die_usage "-max-age: '$MAX_AGE' is not a duration (e.g. 24h)" ;; esac
    set -- ${MAX_AGE:+-max-age "$MAX_AGE"}
    if ! start "$@"; then # a refresh holds the lock: leave its record and clone alone
        _active=$(state -get clone) || _active=
        warn "a refresh run holds $SDIR/lock; not touching its clone ${_active:-(none yet)}"
        WORK=$(state -work $$) || exit 70
        spawn gc "" "$C_GC" -config "$CONFIG" $FLAGS "$@" ${_active:+-exclude "$_active"}
        collect || warn "rds-clone-gc failed (exit $RC)"
        GC_RC=$RC
    fi
    [ "$EXIT" = 0 ] && EXIT=$GC_RC
    [ "$EXIT" = 0 ] || OUTCOME=failed
    set --
    [ "$DRY_RUN" = 1 ] && set -- -dry-run
    "$C_DOC" -summary -kind cleanup -work "$WORK" -status "$OUTCOME" -exit-code "$EXIT" "$@" 9>&-
    exit "$EXIT"
fi

start || { error "another run for this source holds $SDIR/lock; exiting (busy)"; early busy lock 84; }
[ "$EXIT" != 0 ] || if [ "$DRY_RUN" = 1 ]; then dry_pipeline; else pipeline; fi
[ "$CREATE_STARTED" = 0 ] || delete_clone 300
finish 300
exit "$EXIT"
