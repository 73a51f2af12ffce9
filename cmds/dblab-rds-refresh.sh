#!/bin/sh
# dblab-rds-refresh: the driver. Runs the whole refresh of a DBLab Engine from a
# temporary RDS/Aurora clone by composing the small commands:
#
#   rds-snapshot-latest -> rds-clone-create -> rds-clone-wait -> dblab-refresh
#   -> rds-clone-delete
#
# and makes sure the clone never outlives the run: the clone's name is decided
# and written to a state file BEFORE it is created; INT/TERM/HUP are forwarded
# to the running step and the clone is deleted within 25 s; a state file left
# by a killed run is recovered (clone deleted) at the next start, which then
# runs rds-clone-gc over the tags. One run per source at a time (flock).
# See docs/driver.md. POSIX sh; needs flock(1) (util-linux) and awk.

set -u
umask 077

PROG=dblab-rds-refresh
API_VERSION=dblab-rds-refresh/v1
CLONE_PREFIX=dblab-refresh-

# Seconds allowed, after a signal, for the running step to exit and for the
# clone's delete request; together they stay under the 25 s budget (Nomad's
# kill_timeout, Kubernetes' grace period, systemd's TimeoutStopSec).
STEP_STOP_SECONDS=5
DELETE_SECONDS=13

# Exit codes (common/exitcodes.h, docs/exit-codes.md).
EX_USAGE=64
EX_INTERNAL=70
EX_CONFIG=78
EX_GUARD=83
EX_BUSY=84
EX_NOTHING_TO_DO=99

usage() {
    cat <<'EOF'
usage: dblab-rds-refresh -config FILE [-dry-run] [-state-dir DIR] [-metrics-file PATH]
                         [-log-format text|json] [-verbose] [-quiet]
       dblab-rds-refresh cleanup -config FILE [-dry-run] [-max-age DURATION] [-state-dir DIR]
       dblab-rds-refresh -help | -version

Refreshes a DBLab Engine from a temporary clone of the newest RDS/Aurora snapshot:
snapshot -> create -> wait -> refresh -> delete, deleting the clone whatever happens.
Prints one JSON line (the run document plus outcome, steps, cloneLifetimeSeconds,
awsCalls) on stdout; logs go to stderr. Options take one or two dashes.

  -config FILE        configuration (default: $DBLAB_RDS_REFRESH_CONFIG)
  -dry-run            read-only: every check, nothing created or deleted
  -state-dir DIR      state directory (default: $DRR_STATE_DIR, else $STATE_DIRECTORY, else
                      /var/lib/dblab-rds-refresh if writable, else
                      ${XDG_STATE_HOME:-$HOME/.local/state}/dblab-rds-refresh)
  -metrics-file PATH  write Prometheus text metrics (node_exporter textfile collector)
  -log-format FMT     text (default) or json, also passed to every command
  -verbose, -quiet    passed to every command
  -max-age DURATION   cleanup: delete managed clones older than this (default clone.maxAge)

cleanup: recovers a clone recorded by a killed run, then runs rds-clone-gc.
Exit codes: 0 ok, 64 usage, 78 config, 80 AWS, 81 DBLab, 82 timeout, 83 guard,
84 busy (another run holds the lock), 85 stale snapshot, 86 not found, 87 clone failed,
88 refresh failed, 99 nothing to do, 128+N interrupted by signal N. See docs/driver.md.
EOF
}

# ---------------------------------------------------------------- small helpers

die_usage() {
    printf '%s: %s\n' "$PROG" "$1" >&2
    printf "Try '%s -help'.\n" "$PROG" >&2
    exit "$EX_USAGE"
}

# JSON string literal of $1 (quotes included).
json_str() {
    printf '%s' "$1" | awk 'BEGIN { ORS = ""; printf "\"" }
        { gsub(/\\/, "\\\\"); gsub(/"/, "\\\""); gsub(/\t/, "\\t"); gsub(/\r/, "\\r")
          gsub(/[\001-\037]/, " ")
          if (NR > 1) printf "\\n"
          printf "%s", $0 }
        END { printf "\"" }'
}

log_line() {
    _lvl=$1
    shift
    _ts=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    if [ "$LOG_FORMAT" = json ]; then
        printf '{"time":"%s","level":"%s","component":"%s","msg":%s}\n' \
            "$_ts" "$_lvl" "$PROG" "$(json_str "$*")" >&2
    else
        case $_lvl in
            info) _up=INFO ;;
            warn) _up=WARN ;;
            *) _up=ERROR ;;
        esac
        printf '%s %-5s %s: %s\n' "$_ts" "$_up" "$PROG" "$*" >&2
    fi
}
log_info() { [ "$QUIET" = 1 ] || log_line info "$@"; }
log_warn() { log_line warn "$@"; }
log_error() { log_line error "$@"; }

# NOW: nanoseconds since the epoch (whole seconds where date(1) has no %N).
# Times are kept as integers so durations need no fork: shell arithmetic.
now() {
    NOW=$(date +%s%N 2>/dev/null)
    case $NOW in
        '' | *[!0-9]*) NOW=$(date +%s)000000000 ;;
    esac
}

# ELAPSED: $1 - $2 (nanoseconds) as seconds with three decimals.
elapsed() {
    _ms=$((($1 - $2) / 1000000))
    [ "$_ms" -ge 0 ] || _ms=0
    _frac=$((_ms % 1000))
    case ${#_frac} in
        1) _frac=00$_frac ;;
        2) _frac=0$_frac ;;
    esac
    ELAPSED=$((_ms / 1000)).$_frac
}
# Seconds since $1 (nanoseconds) into ELAPSED.
since() {
    now
    elapsed "$NOW" "$1"
}

# json_get FILE PATH: prints the value at PATH ("clone.id", "a.0.b") of the
# JSON document in FILE: strings unescaped, numbers and literals as written,
# objects and arrays as their raw JSON text. Exit 1 when absent, 2 when the
# document is not valid JSON. A small recursive-descent parser in awk so the
# driver needs no jq.
json_get() {
    awk -v want="$2" '
    function ws() {
        while (p <= n) {
            c = substr(s, p, 1)
            if (c == " " || c == "\t" || c == "\n" || c == "\r") p++; else break
        }
    }
    function str(   out, c, e, m) {
        p++; out = ""
        while (p <= n) {
            m = match(substr(s, p), /["\\]/)
            if (!m) { bad = 1; return out }
            out = out substr(s, p, m - 1); p += m - 1
            c = substr(s, p, 1)
            if (c == "\"") { p++; return out }
            e = substr(s, p + 1, 1); p += 2
            if (e == "n") out = out "\n"
            else if (e == "t") out = out "\t"
            else if (e == "r") out = out "\r"
            else if (e == "b") out = out "\b"
            else if (e == "f") out = out "\f"
            else if (e == "u") { out = out "\\u" substr(s, p, 4); p += 4 }
            else out = out e
        }
        bad = 1; return out
    }
    function hit(path, text) {
        if (path == want) { print text; found = 1; done = 1 }
    }
    function val(path,   c, start, k, i, v) {
        ws(); c = substr(s, p, 1); start = p
        if (c == "{") {
            p++; ws()
            if (substr(s, p, 1) == "}") p++
            else for (;;) {
                ws()
                if (substr(s, p, 1) != "\"") { bad = 1; return }
                k = str(); ws()
                if (substr(s, p, 1) != ":") { bad = 1; return }
                p++
                val(path == "" ? k : path "." k)
                if (bad || done) return
                ws(); c = substr(s, p, 1); p++
                if (c == "}") break
                if (c != ",") { bad = 1; return }
            }
            hit(path, substr(s, start, p - start)); return
        }
        if (c == "[") {
            p++; ws(); i = 0
            if (substr(s, p, 1) == "]") p++
            else for (;;) {
                val(path == "" ? i : path "." i); i++
                if (bad || done) return
                ws(); c = substr(s, p, 1); p++
                if (c == "]") break
                if (c != ",") { bad = 1; return }
            }
            hit(path, substr(s, start, p - start)); return
        }
        if (c == "\"") { v = str(); if (!bad) hit(path, v); return }
        if (match(substr(s, p), /^(-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?|true|false|null)/)) {
            v = substr(s, p, RLENGTH); p += RLENGTH; hit(path, v); return
        }
        bad = 1
    }
    { s = s $0 "\n" }
    END {
        n = length(s); p = 1; bad = 0; done = 0; found = 0
        val("")
        if (found) exit 0
        if (bad) exit 2
        exit 1
    }' "$1" 2>/dev/null
}

# Reads key from a key=value state file.
state_get() {
    [ -f "$2" ] || return 1
    sed -n "s/^$1=//p" "$2" | tail -n 1
}

# Atomic write: stdin -> $1 (temp file in the same directory + rename).
write_atomic() {
    _tmp="$1.tmp.$$"
    if cat >"$_tmp" && mv -f "$_tmp" "$1"; then
        return 0
    fi
    rm -f "$_tmp"
    return 1
}

valid_clone_name() {
    case $1 in
        "$CLONE_PREFIX"*) ;;
        *) return 1 ;;
    esac
    case $1 in
        *[!a-z0-9-]* | *--* | *-) return 1 ;;
    esac
    [ "${#1}" -le 54 ]
}

# Finds a command next to this script, else on PATH; prints its path.
find_cmd() {
    if [ -x "$BIN_DIR/$1" ] && [ ! -d "$BIN_DIR/$1" ]; then
        printf '%s\n' "$BIN_DIR/$1"
    elif _c=$(command -v "$1" 2>/dev/null) && [ -n "$_c" ]; then
        printf '%s\n' "$_c"
    else
        return 1
    fi
}

# The commands, resolved once. Returns non-zero naming the first missing one.
resolve_cmds() {
    for _c in rds-snapshot-latest rds-clone-create rds-clone-wait dblab-refresh \
        rds-clone-delete rds-clone-gc; do
        _p=$(find_cmd "$_c") || {
            log_error "$_c: command not found next to $0 or on PATH"
            return 1
        }
        case $_c in
            rds-snapshot-latest) CMD_SNAPSHOT=$_p ;;
            rds-clone-create) CMD_CREATE=$_p ;;
            rds-clone-wait) CMD_WAIT=$_p ;;
            dblab-refresh) CMD_REFRESH=$_p ;;
            rds-clone-delete) CMD_DELETE=$_p ;;
            rds-clone-gc) CMD_GC=$_p ;;
        esac
    done
    return 0
}

# watchdog PID SECONDS: in the background, TERM then (2 s later) KILL the
# process PID if it is still running after SECONDS. Sets WD_PID; stop it with
# unwatch "$WD_PID" (never call it in $(...): the watchdog must be our child).
WD_PID=
watchdog() {
    (
        trap 'kill "$_s" 2>/dev/null; exit 0' USR1
        sleep "$2" &
        _s=$!
        wait "$_s" || exit 0
        kill -s TERM "$1" 2>/dev/null || exit 0
        sleep 2 &
        _s=$!
        wait "$_s" || exit 0
        kill -s KILL "$1" 2>/dev/null
    ) >/dev/null 2>&1 </dev/null 9>&- &
    WD_PID=$!
}
# wait_for PID: waits until PID has exited and returns its exit status, even
# when a second signal (counted by the cleanup's trap in LATE_SIGNAL) fires
# during `wait`: then `wait` returns early with a status that is not the
# child's (dash may even return 0), so wait again. A second `wait` returns
# the child's saved status, or 127 when the first one had already reaped it
# (its status was then genuine).
wait_for() {
    _wf_gen=$LATE_SIGNAL
    wait "$1"
    _wf=$?
    while [ "$LATE_SIGNAL" != "$_wf_gen" ]; do
        _wf_gen=$LATE_SIGNAL
        wait "$1"
        _wf2=$?
        if [ "$_wf2" = 127 ] && ! kill -0 "$1" 2>/dev/null; then
            break
        fi
        _wf=$_wf2
    done
    return "$_wf"
}
unwatch() {
    kill -s USR1 "$1" 2>/dev/null
    wait "$1" 2>/dev/null
}

# Flags passed on to every command besides -config "$CONFIG": words without
# spaces, expanded unquoted. No secret: the commands read the config file and
# its ${ENV} references themselves.
set_flags() {
    FLAGS="-log-format $LOG_FORMAT"
    [ "$VERBOSE" = 1 ] && FLAGS="$FLAGS -verbose"
    [ "$QUIET" = 1 ] && FLAGS="$FLAGS -quiet"
    [ "$DRY_RUN" = 1 ] && FLAGS="$FLAGS -dry-run"
    return 0
}

# ---------------------------------------------------------------- arguments

MODE=run
CONFIG=${DBLAB_RDS_REFRESH_CONFIG:-}
DRY_RUN=0
STATE_DIR=
METRICS_FILE=
LOG_FORMAT=text
VERBOSE=0
QUIET=0
MAX_AGE=

parse_args() {
    _seen_positional=0
    while [ $# -gt 0 ]; do
        _arg=$1
        shift
        case $_arg in
            --) break ;;
            --*) _arg=${_arg#-} ;;
        esac
        _val=
        _has=0
        case $_arg in
            -*=*) _val=${_arg#*=}; _arg=${_arg%%=*}; _has=1 ;;
        esac
        case $_arg in
            -config | -state-dir | -metrics-file | -log-format | -max-age)
                if [ "$_has" = 0 ]; then
                    [ $# -gt 0 ] || die_usage "$_arg: needs an argument"
                    _val=$1
                    shift
                fi
                [ -n "$_val" ] || die_usage "$_arg: empty argument"
                ;;
            -dry-run | -verbose | -quiet | -help | -h | -version)
                [ "$_has" = 0 ] || die_usage "$_arg: takes no argument"
                ;;
        esac
        case $_arg in
            -config) CONFIG=$_val ;;
            -state-dir) STATE_DIR=$_val ;;
            -metrics-file) METRICS_FILE=$_val ;;
            -log-format)
                case $_val in
                    text | json) LOG_FORMAT=$_val ;;
                    *) die_usage "-log-format: '$_val' is not text or json" ;;
                esac
                ;;
            -max-age) MAX_AGE=$_val ;;
            -dry-run) DRY_RUN=1 ;;
            -verbose) VERBOSE=1 ;;
            -quiet) QUIET=1 ;;
            -help | -h) usage; exit 0 ;;
            -version) print_version; exit 0 ;;
            -*) die_usage "unknown option $_arg" ;;
            cleanup | run)
                [ "$_seen_positional" = 0 ] || die_usage "unexpected argument '$_arg'"
                _seen_positional=1
                MODE=$_arg
                ;;
            *) die_usage "unexpected argument '$_arg'" ;;
        esac
    done
    [ $# -eq 0 ] || die_usage "unexpected argument '$1'"
    [ -n "$CONFIG" ] || die_usage "-config FILE is required (or set DBLAB_RDS_REFRESH_CONFIG)"
    if [ -n "$MAX_AGE" ] && [ "$MODE" != cleanup ]; then
        die_usage "-max-age is only for 'cleanup'"
    fi
    if [ -n "$METRICS_FILE" ] && [ "$MODE" = cleanup ]; then
        die_usage "-metrics-file is only for a refresh run"
    fi
    return 0
}

print_version() {
    _v=
    if _c=$(find_cmd dblab-rds-config); then
        _v=$("$_c" -version 2>/dev/null | awk 'NR == 1 { print $NF }')
    fi
    printf '%s %s\n' "$PROG" "${_v:-unknown}"
}

# ---------------------------------------------------------------- state directory

default_state_dir() {
    if [ -n "${DRR_STATE_DIR:-}" ]; then
        # Set by the container image (Dockerfile) to its volume.
        printf '%s\n' "$DRR_STATE_DIR"
        return
    fi
    if [ -n "${STATE_DIRECTORY:-}" ]; then
        # systemd's StateDirectory=; several are separated by ':'.
        printf '%s\n' "${STATE_DIRECTORY%%:*}"
        return
    fi
    _sys=/var/lib/dblab-rds-refresh
    if { [ -d "$_sys" ] && [ -w "$_sys" ]; } || mkdir -p "$_sys" 2>/dev/null; then
        printf '%s\n' "$_sys"
        return
    fi
    printf '%s\n' "${XDG_STATE_HOME:-${HOME:-/tmp}/.local/state}/dblab-rds-refresh"
}

# Runs dblab-rds-config to validate the config and learn the source; sets
# SOURCE_ID, SOURCE_TYPE, REGION, SOURCE_KEY.
load_config() {
    _cfg_cmd=$(find_cmd dblab-rds-config) || {
        log_error "dblab-rds-config: command not found next to $0 or on PATH"
        return "$EX_INTERNAL"
    }
    _cfg_out=$WORK/config.json
    "$_cfg_cmd" -config "$CONFIG" -log-format "$LOG_FORMAT" -quiet >"$_cfg_out" 9>&-
    _rc=$?
    if [ "$_rc" != 0 ]; then
        return "$_rc"
    fi
    SOURCE_ID=$(json_get "$_cfg_out" source.identifier) || SOURCE_ID=
    SOURCE_TYPE=$(json_get "$_cfg_out" source.type) || SOURCE_TYPE=
    REGION=$(json_get "$_cfg_out" aws.region) || REGION=
    if [ -z "$SOURCE_ID" ]; then
        log_error "$CONFIG: source.identifier: not found in dblab-rds-config's output"
        return "$EX_CONFIG"
    fi
    log_info "source: ${SOURCE_TYPE:-?} $SOURCE_ID${REGION:+ in $REGION}"
    # One directory (and lock) per source and region; keep the name safe.
    SOURCE_KEY=$(printf '%s' "${REGION:+$REGION.}$SOURCE_ID" | tr -c 'A-Za-z0-9._-' '_')
    return 0
}

# ---------------------------------------------------------------- run state

# The run's state file: key=value lines, names only, never a secret.
# STATE_MINE: 1 once this run wrote it (a record left by an earlier run is
# removed only by recover(), after its clone's delete succeeded).
STATE_MINE=0
write_state() {
    STATE_MINE=1
    _tmp=$STATE_FILE.tmp.$$
    {
        printf 'runId=%s\n' "$RUN_ID"
        printf 'pid=%s\n' "$$"
        printf 'startedAt=%s\n' "$STARTED_AT"
        printf 'source=%s\n' "$SOURCE_ID"
        printf 'config=%s\n' "$CONFIG"
        printf 'step=%s\n' "$CUR_STEP"
        [ -n "$CLONE_ID" ] && printf 'clone=%s\n' "$CLONE_ID"
        [ -n "$CLONE_ID" ] && printf 'createStartedAt=%s\n' "$CREATE_T0"
        true
    } >"$_tmp" || {
        rm -f "$_tmp"
        return 1
    }
    mv -f "$_tmp" "$STATE_FILE"
}

# ---------------------------------------------------------------- steps

# spawn IN OUT CMD [ARG...]: runs CMD in the background (stdin from -in IN, or
# /dev/null; stdout to OUT; the lock's descriptor closed so a command that
# outlives us never holds the lock) and waits for it. Running it in the
# background lets a trapped signal interrupt `wait` at once; on_signal then
# forwards the signal to STEP_PID.
STEP_PID=
spawn() {
    _sp_in=$1
    _sp_out=$2
    shift 2
    rm -f "$WORK/stats"
    if [ -n "$_sp_in" ]; then
        DRR_STATS_FILE=$WORK/stats "$@" -in "$_sp_in" >"$_sp_out" 9>&- &
    else
        DRR_STATS_FILE=$WORK/stats "$@" >"$_sp_out" </dev/null 9>&- &
    fi
    STEP_PID=$!
    wait "$STEP_PID"
    _sp_rc=$?
    STEP_PID=
    return "$_sp_rc"
}

# Per-step results as JSON members: "name":{"durationSeconds":..,"exitCode":..}
STEPS_JSON=
STEP_LINES=
AWS_CALLS=0
AWS_CALLS_KNOWN=0

add_step_result() { # name seconds exitcode [awsCalls [more JSON members]]
    _m="\"$1\":{\"durationSeconds\":$2,\"exitCode\":$3${4:+,\"awsCalls\":$4}${5:+,$5}}"
    STEPS_JSON=${STEPS_JSON:+$STEPS_JSON,}$_m
    STEP_LINES="$STEP_LINES$1 $2
"
}

# The AWS calls a command reports, added to the run's total; sets CALLS
# (empty if unknown). A command reports them in the file named by
# $DRR_STATS_FILE (one JSON line per command: {"command":..,"awsCalls":N,..}),
# or in its output document ("stats": {"awsCalls": N}).
CALLS=
count_aws_calls() {
    CALLS=
    _n=
    if [ -s "$WORK/stats" ]; then
        _n=$(sed -n 's/.*"awsCalls":[[:space:]]*\([0-9][0-9]*\).*/\1/p' "$WORK/stats" |
            awk '{ n += $1 } END { if (NR) print n }')
    fi
    if [ -z "$_n" ] && [ -s "$1" ] && IFS= read -r _line <"$1" 2>/dev/null; then
        case $_line in
            *'"stats":'*) _n=$(json_get "$1" stats.awsCalls) || _n= ;;
        esac
    fi
    case $_n in
        '' | *[!0-9]*) return 0 ;;
    esac
    AWS_CALLS=$((AWS_CALLS + _n))
    AWS_CALLS_KNOWN=1
    CALLS=$_n
}

# run_step NAME INFILE OUTFILE CMD [ARG...]: one step of the pipeline. Its
# document (the last line of stdout) is renamed into OUTFILE only on success.
CUR_STEP=
STEP_T0=
STEP_OUT=
LAST_DOC=
run_step() {
    CUR_STEP=$1
    _in=$2
    STEP_OUT=$3
    shift 3
    log_info "step $CUR_STEP: ${1##*/}"
    now
    STEP_T0=$NOW
    spawn "$_in" "$STEP_OUT.tmp" "$@"
    _rc=$?
    since "$STEP_T0"
    _secs=$ELAPSED
    if [ "$_rc" = 0 ]; then
        # One JSON line, by contract (cJSON's compact form).
        _line=
        IFS= read -r _line <"$STEP_OUT.tmp"
        case $_line in
            '{'*'"apiVersion":"'*'}') mv -f "$STEP_OUT.tmp" "$STEP_OUT" && LAST_DOC=$STEP_OUT ;;
            *)
                log_error "step $CUR_STEP: ${1##*/} exited 0 without a run document on stdout"
                rm -f "$STEP_OUT"
                _rc=$EX_INTERNAL
                ;;
        esac
    fi
    rm -f "$STEP_OUT.tmp"
    count_aws_calls "$STEP_OUT"
    add_step_result "$CUR_STEP" "$_secs" "$_rc" "$CALLS"
    if [ "$_rc" != 0 ]; then
        log_error "step $CUR_STEP failed (exit $_rc after ${_secs}s)"
    else
        log_info "step $CUR_STEP done in ${_secs}s"
    fi
    return "$_rc"
}

# ---------------------------------------------------------------- failure bookkeeping

EXIT_CODE=0
FAIL_STEP=
OUTCOME=success
SIGNAL_NAME=

fail() { # step code: only the first failure counts
    if [ "$EXIT_CODE" = 0 ]; then
        EXIT_CODE=$2
        FAIL_STEP=$1
        if [ "$2" = "$EX_NOTHING_TO_DO" ]; then
            OUTCOME=skipped
        else
            OUTCOME=failed
        fi
    fi
}

# ---------------------------------------------------------------- clone deletion

CLONE_ID=
CREATE_T0=
CREATE_STARTED=0    # 1 once rds-clone-create was started (a request may exist)
CREATE_DONE=0       # 1 once rds-clone-create has returned (no request in flight)
CLONE_DELETED=0     # 1 once a delete request was accepted
CLONE_GONE_BEFORE=0 # 1 when the delete found nothing to delete
DELETE_T=
DEL_PID=
DEL_WD=
DEL_T0=
DEL_STEP=delete     # the name of the delete attempt in "steps"
SIGNAL_T=           # when the first signal came (ns)

# delete_clone REASON DEADLINE: the guarded delete of the recorded clone (the
# request is sent; without -wait rds-clone-delete does not wait for the
# instance to disappear), killed after DEADLINE seconds.
delete_clone() {
    [ -n "$CLONE_ID" ] || return 0
    [ "$CLONE_DELETED" = 1 ] && return 0
    log_info "deleting clone $CLONE_ID ($1)"
    _deadline=$2
    CUR_STEP=delete
    now
    DEL_T0=$NOW
    rm -f "$WORK/stats"
    # From the document when it names the clone (it carries the kind and the
    # Aurora members), else by name (kind from the config's source.type).
    # shellcheck disable=SC2086 # FLAGS: words without spaces
    if [ -n "$LAST_DOC" ] && [ "$(json_get "$LAST_DOC" clone.id)" = "$CLONE_ID" ]; then
        DRR_STATS_FILE=$WORK/stats "$CMD_DELETE" -config "$CONFIG" $FLAGS -in "$LAST_DOC" \
            >"$SDIR/deleted.json.tmp" 9>&- &
    else
        DRR_STATS_FILE=$WORK/stats "$CMD_DELETE" -config "$CONFIG" $FLAGS -clone-id "$CLONE_ID" \
            >"$SDIR/deleted.json.tmp" </dev/null 9>&- &
    fi
    DEL_PID=$!
    watchdog "$DEL_PID" "$_deadline"
    DEL_WD=$WD_PID
    delete_collect
}

# Waits for the delete started by delete_clone and records its result.
delete_collect() {
    wait_for "$DEL_PID"
    _rc=$?
    unwatch "$DEL_WD"
    DEL_PID=
    since "$DEL_T0"
    _secs=$ELAPSED
    if [ "$_rc" = 0 ] && mv -f "$SDIR/deleted.json.tmp" "$SDIR/deleted.json" &&
        json_get "$SDIR/deleted.json" deleted >/dev/null; then
        DELETE_T=$NOW
        CLONE_DELETED=1
        [ "$(json_get "$SDIR/deleted.json" deleted.alreadyGone)" = true ] && CLONE_GONE_BEFORE=1
        count_aws_calls "$SDIR/deleted.json"
        add_step_result "$DEL_STEP" "$_secs" 0 "$CALLS"
        log_info "delete of clone $CLONE_ID requested in ${_secs}s"
    else
        [ "$_rc" = 0 ] && _rc=$EX_INTERNAL
        rm -f "$SDIR/deleted.json"
        count_aws_calls ""
        add_step_result "$DEL_STEP" "$_secs" "$_rc" "$CALLS"
        log_error "delete of clone $CLONE_ID failed (exit $_rc); the next run's recovery will retry"
        fail delete "$_rc"
    fi
    rm -f "$SDIR/deleted.json.tmp"
    return "$_rc"
}

# ---------------------------------------------------------------- recovery and gc

RECOVERY_JSON=
GC_JSON=

# A state file left by a run that could not clean up (SIGKILL, power loss, a
# failed delete): delete its clone through the guarded delete.
recover() {
    [ -f "$STATE_FILE" ] || return 0
    _old_clone=$(state_get clone "$STATE_FILE") || _old_clone=
    _old_run=$(state_get runId "$STATE_FILE") || _old_run=
    _old_pid=$(state_get pid "$STATE_FILE") || _old_pid=
    _act=delete
    [ "$DRY_RUN" = 1 ] && _act=would-delete
    if [ -z "$_old_clone" ]; then
        log_info "recovery: run ${_old_run:-?} (pid ${_old_pid:-?}) ended before creating a clone"
        RECOVERY_JSON="\"runId\":$(json_str "$_old_run"),\"clone\":null,\"action\":\"none\""
        add_step_result recovery 0.000 0 "" "$RECOVERY_JSON"
        [ "$DRY_RUN" = 1 ] || rm -f "$STATE_FILE"
        return 0
    fi
    if ! valid_clone_name "$_old_clone"; then
        log_error "recovery: $STATE_FILE: '$_old_clone' is not a clone name ($CLONE_PREFIX...); ignoring the record"
        RECOVERY_JSON="\"runId\":$(json_str "$_old_run"),\"clone\":$(json_str "$_old_clone"),\"action\":\"ignored\""
        add_step_result recovery 0.000 0 "" "$RECOVERY_JSON"
        [ "$DRY_RUN" = 1 ] || rm -f "$STATE_FILE"
        return 0
    fi
    log_warn "recovery: run ${_old_run:-?} (pid ${_old_pid:-?}) did not finish; $_act its clone $_old_clone"
    _out=$WORK/recovery.json
    CUR_STEP=recovery
    now
    STEP_T0=$NOW
    # By name: the kind comes from the config's source.type.
    # shellcheck disable=SC2086 # FLAGS: words without spaces
    spawn "" "$_out" "$CMD_DELETE" -config "$CONFIG" $FLAGS -clone-id "$_old_clone"
    _rc=$?
    since "$STEP_T0"
    _secs=$ELAPSED
    count_aws_calls "$_out"
    _gone=$(json_get "$_out" deleted.alreadyGone) || _gone=
    RECOVERY_JSON="\"runId\":$(json_str "$_old_run"),\"clone\":$(json_str "$_old_clone"),\"action\":\"$_act\"${_gone:+,\"alreadyGone\":$_gone}"
    add_step_result recovery "$_secs" "$_rc" "$CALLS" "$RECOVERY_JSON"
    case $_rc in
        0)
            [ "$DRY_RUN" = 1 ] || rm -f "$STATE_FILE"
            log_info "recovery: clone $_old_clone done (alreadyGone=${_gone:-?}) in ${_secs}s"
            return 0
            ;;
        "$EX_GUARD")
            # The guard refused: not ours, or the source. The record is wrong,
            # and keeping it would block every later run.
            log_error "recovery: the guard refused to delete '$_old_clone'; dropping the record"
            [ "$DRY_RUN" = 1 ] || rm -f "$STATE_FILE"
            return 0
            ;;
    esac
    log_error "recovery: delete of $_old_clone failed (exit $_rc); the record is kept"
    return "$_rc"
}

# rds-clone-gc over the managed tags. A failure is reported (warning, "gc" in
# the document), not fatal: the refresh does not depend on it.
run_gc() { # [extra args...]
    _out=$WORK/gc.json
    CUR_STEP=gc
    now
    STEP_T0=$NOW
    # shellcheck disable=SC2086 # FLAGS: words without spaces
    spawn "" "$_out" "$CMD_GC" -config "$CONFIG" $FLAGS "$@"
    _rc=$?
    since "$STEP_T0"
    _secs=$ELAPSED
    count_aws_calls "$_out"
    GC_JSON=
    if [ -s "$_out" ]; then
        tail -n 1 "$_out" >"$_out.last"
        json_get "$_out.last" "" >/dev/null && GC_JSON=$(cat "$_out.last")
    fi
    add_step_result gc "$_secs" "$_rc" "$CALLS" "${GC_JSON:+\"report\":$GC_JSON}"
    [ "$_rc" = 0 ] || log_warn "rds-clone-gc failed (exit $_rc)"
    return "$_rc"
}

# ---------------------------------------------------------------- final document

# The base document: this run's newest one, or a minimal one.
final_base() {
    if [ "$CLONE_DELETED" = 1 ] && [ -s "$SDIR/deleted.json" ] &&
        json_get "$SDIR/deleted.json" clone >/dev/null; then
        tail -n 1 "$SDIR/deleted.json"
    elif [ -n "$LAST_DOC" ] && [ -s "$LAST_DOC" ]; then
        # A delete by name returns a document of its own: graft its section.
        if [ "$CLONE_DELETED" = 1 ] && _del=$(json_get "$SDIR/deleted.json" deleted); then
            printf '%s,"deleted":%s}\n' "$(tail -n 1 "$LAST_DOC" | sed 's/[[:space:]]*}[[:space:]]*$//')" "$_del"
        else
            tail -n 1 "$LAST_DOC"
        fi
    elif [ "$CLONE_DELETED" = 1 ] && [ -s "$SDIR/deleted.json" ]; then
        tail -n 1 "$SDIR/deleted.json"
    else
        printf '{"apiVersion":"%s"%s%s}\n' "$API_VERSION" \
            "${RUN_ID:+,\"runId\":$(json_str "$RUN_ID")}" \
            "$([ "$DRY_RUN" = 1 ] && printf ',"dryRun":true')"
    fi
}

# LIFETIME: create request to accepted delete request, seconds, or null.
clone_lifetime() {
    LIFETIME=null
    if [ -n "$CREATE_T0" ] && [ -n "$DELETE_T" ]; then
        elapsed "$DELETE_T" "$CREATE_T0"
        LIFETIME=$ELAPSED
    fi
}

emit_final() {
    _base=$(final_base | sed 's/[[:space:]]*}[[:space:]]*$//')
    _sep=,
    case $_base in *'{') _sep= ;; esac
    _o="{\"status\":\"$OUTCOME\",\"exitCode\":$EXIT_CODE"
    [ -n "$FAIL_STEP" ] && _o="$_o,\"step\":$(json_str "$FAIL_STEP")"
    [ -n "$SIGNAL_NAME" ] && _o="$_o,\"signal\":\"SIG$SIGNAL_NAME\""
    if [ -n "$CLONE_ID" ]; then
        _o="$_o,\"cloneId\":$(json_str "$CLONE_ID"),\"cloneDeleted\":$([ "$CLONE_DELETED" = 1 ] && echo true || echo false)"
    fi
    _o="$_o}"
    since "$RUN_T0"
    _dur=$ELAPSED
    clone_lifetime
    _j="$_base$_sep\"outcome\":$_o,\"steps\":{$STEPS_JSON},\"cloneLifetimeSeconds\":$LIFETIME"
    # Omitted, not 0, when no command reported its calls.
    [ "$AWS_CALLS_KNOWN" = 1 ] && _j="$_j,\"awsCalls\":$AWS_CALLS"
    _j="$_j,\"startedAt\":\"$STARTED_AT\",\"finishedAt\":\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\""
    _j="$_j,\"durationSeconds\":$_dur,\"exitCode\":$EXIT_CODE"
    if [ "$EXIT_CODE" != 0 ]; then
        _j="$_j,\"error\":$(json_str "$(failure_text)")"
    fi
    printf '%s}\n' "$_j"
}

# One line saying what failed, from the exit code table (docs/exit-codes.md).
failure_text() {
    case $EXIT_CODE in
        64) _what="usage error" ;;
        65) _what="invalid input document" ;;
        70) _what="internal error" ;;
        75) _what="temporary failure" ;;
        78) _what="invalid configuration" ;;
        80) _what="AWS error" ;;
        81) _what="DBLab Engine error" ;;
        82) _what="timeout" ;;
        83) _what="refused by a safety guard" ;;
        84) _what="busy" ;;
        85) _what="snapshot too old" ;;
        86) _what="not found" ;;
        87) _what="the clone failed" ;;
        88) _what="the DBLab refresh failed" ;;
        99) _what="nothing to do" ;;
        *) _what="exit $EXIT_CODE" ;;
    esac
    if [ -n "$SIGNAL_NAME" ]; then
        printf 'interrupted by SIG%s during %s\n' "$SIGNAL_NAME" "${FAIL_STEP:-start}"
    else
        printf 'step %s failed: %s (exit %s); see the log on stderr\n' "${FAIL_STEP:-?}" "$_what" "$EXIT_CODE"
    fi
}

# Prometheus text format for node_exporter's textfile collector; written
# atomically (temp + rename in the same directory); keeps the last success
# time across failed runs.
write_metrics() {
    [ -n "$METRICS_FILE" ] || return 0
    [ "$DRY_RUN" = 1 ] && return 0
    _now=$(date +%s)
    _lbl="source=\"$(printf '%s' "$SOURCE_ID" | sed 's/[\\"]/\\&/g')\""
    _last_ok=
    if [ "$EXIT_CODE" = 0 ]; then
        _last_ok=$_now
    elif [ -f "$METRICS_FILE" ]; then
        _last_ok=$(sed -n 's/^dblab_rds_refresh_last_success_timestamp_seconds{[^}]*} \([0-9.e+]*\)$/\1/p' \
            "$METRICS_FILE" | tail -n 1)
    fi
    mkdir -p "$(dirname "$METRICS_FILE")" 2>/dev/null
    if {
        metric last_run_success "1 if the last refresh run succeeded, else 0." \
            "$([ "$EXIT_CODE" = 0 ] && echo 1 || echo 0)"
        metric last_run_exit_code "Exit code of the last refresh run (0 ok, 128+N signal N)." "$EXIT_CODE"
        metric last_run_timestamp_seconds "End time of the last refresh run." "$_now"
        since "$RUN_T0"
        metric last_run_duration_seconds "Wall time of the last refresh run." "$ELAPSED"
        [ -n "$_last_ok" ] &&
            metric last_success_timestamp_seconds "End time of the last successful refresh run." "$_last_ok"
        echo "# HELP dblab_rds_refresh_step_duration_seconds Duration of each step of the last refresh run."
        echo "# TYPE dblab_rds_refresh_step_duration_seconds gauge"
        printf '%s' "$STEP_LINES" | while IFS=' ' read -r _s _d; do
            echo "dblab_rds_refresh_step_duration_seconds{$_lbl,step=\"$_s\"} $_d"
        done
        clone_lifetime
        [ "$LIFETIME" != null ] &&
            metric clone_lifetime_seconds "Seconds from the clone's create request to its delete request, last run." "$LIFETIME"
        metric clone_left "1 if the last run recorded a clone it could not delete (left for recovery), else 0." \
            "$([ -n "$CLONE_ID" ] && [ "$CLONE_DELETED" = 0 ] && echo 1 || echo 0)"
        [ "$AWS_CALLS_KNOWN" = 1 ] &&
            metric aws_calls "AWS API calls made by the last refresh run." "$AWS_CALLS"
        true
    } | write_atomic "$METRICS_FILE" && chmod 0644 "$METRICS_FILE"; then
        :
    else
        log_warn "cannot write metrics file $METRICS_FILE"
    fi
}
metric() { # name help value
    echo "# HELP dblab_rds_refresh_$1 $2"
    echo "# TYPE dblab_rds_refresh_$1 gauge"
    echo "dblab_rds_refresh_$1{$_lbl} $3"
}

# ---------------------------------------------------------------- exit paths

FINISHED=0
LATE_SIGNAL=0        # signals received during the cleanup (counted, ignored)
DELETE_DONE_TRYING=0 # 1 when the signal path already spent its delete budget

# Called once at the end of a run (normal, failure, signal, unexpected exit):
# deletes the clone if still there, removes the state file when nothing is
# left to recover, prints the document, writes metrics.
finish() { # reason deadline
    [ "$FINISHED" = 1 ] && return 0
    FINISHED=1
    if [ -n "$CLONE_ID" ] && [ "$CREATE_STARTED" = 0 ]; then
        # Named and recorded, but never requested: nothing can exist.
        CLONE_ID=
    fi
    if [ -n "$CLONE_ID" ] && [ "$CLONE_DELETED" = 0 ] && [ "$DELETE_DONE_TRYING" = 0 ]; then
        delete_clone "${1:-cleanup}" "${2:-$DELETE_SECONDS}"
        retry_delete_in_flight
    fi
    if [ "$DRY_RUN" = 0 ] && [ "$STATE_MINE" = 1 ] && [ "$LOCKED" = 1 ]; then
        if [ -z "$CLONE_ID" ]; then
            rm -f "$STATE_FILE"
        elif [ "$CLONE_DELETED" = 1 ]; then
            if [ "$CLONE_GONE_BEFORE" = 1 ] && [ "$CREATE_DONE" = 0 ]; then
                # The create request may still land after our delete found
                # nothing: keep the record so the next start deletes it.
                log_warn "clone $CLONE_ID was not there yet; $STATE_FILE is kept for the next run's recovery"
            else
                rm -f "$STATE_FILE"
            fi
        fi
    fi
    [ "$LATE_SIGNAL" != 0 ] && log_warn "further signals during the cleanup were ignored (it is bounded)"
    emit_final
    write_metrics
    if [ "$EXIT_CODE" = 0 ]; then
        log_info "run $OUTCOME"
    else
        log_error "run $OUTCOME at step ${FAIL_STEP:-?} (exit $EXIT_CODE)"
    fi
}

# A create interrupted mid-request: AWS may still be creating the clone that
# our delete just did not find. Look again every 2 s while the signal budget
# lasts (21 s from the signal); if it never shows up, the record stays for
# the next start.
retry_delete_in_flight() {
    [ "$CREATE_DONE" = 0 ] && [ "$CLONE_GONE_BEFORE" = 1 ] && [ -n "$SIGNAL_T" ] || return 0
    _try=1
    while :; do
        now
        _left=$(((SIGNAL_T + 21000000000 - NOW) / 1000000000))
        [ "$_left" -ge 5 ] || break
        sleep 2
        _try=$((_try + 1))
        _dl=$((_left - 4))
        [ "$_dl" -le "$DELETE_SECONDS" ] || _dl=$DELETE_SECONDS
        CLONE_DELETED=0
        CLONE_GONE_BEFORE=0
        DEL_STEP=delete$_try
        delete_clone "the create request was in flight; looking again" "$_dl" || break
        [ "$CLONE_GONE_BEFORE" = 1 ] || break
    done
    DEL_STEP=delete
}

on_signal() { # NAME NUMBER
    # Further signals are recorded and otherwise ignored while we clean up
    # (bounded by the watchdogs). A trap, not SIG_IGN: the children started
    # from here must keep the default dispositions.
    trap 'LATE_SIGNAL=$((LATE_SIGNAL + 1))' INT TERM HUP
    SIGNAL_NAME=$1
    now
    SIGNAL_T=$NOW
    log_warn "received SIG$1 during step ${CUR_STEP:-start}; stopping"
    if [ -n "$DEL_PID" ]; then
        # Never interrupt a delete request: give it the signal-time budget,
        # and do not start a second one after it (the budget is spent).
        unwatch "$DEL_WD"
        watchdog "$DEL_PID" "$DELETE_SECONDS"
        DEL_WD=$WD_PID
        delete_collect
        DELETE_DONE_TRYING=1
    elif [ -n "$STEP_PID" ]; then
        # A background child of a non-interactive shell ignores SIGINT, so
        # INT is forwarded as TERM; the commands treat both alike.
        _fwd=$1
        [ "$_fwd" = INT ] && _fwd=TERM
        kill -s "$_fwd" "$STEP_PID" 2>/dev/null
        watchdog "$STEP_PID" "$STEP_STOP_SECONDS"
        wait_for "$STEP_PID"
        _rc=$?
        unwatch "$WD_PID"
        STEP_PID=
        if [ -n "$STEP_T0" ]; then
            count_aws_calls ""
            since "$STEP_T0"
            add_step_result "$CUR_STEP" "$ELAPSED" "$_rc" "$CALLS"
            STEP_T0=
        fi
        [ -n "$STEP_OUT" ] && rm -f "$STEP_OUT.tmp"
        [ "$CUR_STEP" = create ] && [ "$_rc" != $((128 + $2)) ] && [ "$_rc" -ge 128 ] &&
            log_warn "rds-clone-create did not end cleanly; its request may still land"
        [ "$CUR_STEP" = create ] && [ "$_rc" = 0 ] && CREATE_DONE=1
    fi
    EXIT_CODE=$((128 + $2))
    FAIL_STEP=${CUR_STEP:-start}
    OUTCOME=interrupted
    if [ "$MODE" = run ] && [ "$LOCKED" = 1 ]; then
        finish "interrupted by SIG$1" "$DELETE_SECONDS"
    fi
    exit $((128 + $2))
}

on_exit() {
    _st=$?
    trap 'LATE_SIGNAL=$((LATE_SIGNAL + 1))' INT TERM HUP
    if [ "$MODE" = run ] && [ "$FINISHED" = 0 ] && [ "$LOCKED" = 1 ]; then
        [ "$_st" = 0 ] && _st=$EX_INTERNAL
        fail "${CUR_STEP:-driver}" "$_st"
        log_error "unexpected exit (status $_st) during step ${CUR_STEP:-start}"
        finish "unexpected exit" "$DELETE_SECONDS"
        _st=$EXIT_CODE
    fi
    [ -n "${WORK:-}" ] && rm -rf "$WORK"
    exit "$_st"
}

# ---------------------------------------------------------------- lock and state dir

LOCKED=0
take_lock() {
    command -v flock >/dev/null 2>&1 || {
        log_error "flock(1) not found (util-linux)"
        return "$EX_INTERNAL"
    }
    exec 9>>"$SDIR/lock" || return "$EX_INTERNAL"
    flock -n 9 || return "$EX_BUSY"
    LOCKED=1
    return 0
}

prepare_state_dir() {
    [ -n "$STATE_DIR" ] || STATE_DIR=$(default_state_dir)
    SDIR=$STATE_DIR/$SOURCE_KEY
    if ! mkdir -p "$SDIR" 2>/dev/null || [ ! -w "$SDIR" ]; then
        log_error "state directory $SDIR: cannot create or not writable (use -state-dir)"
        return "$EX_CONFIG"
    fi
    chmod 0700 "$SDIR" 2>/dev/null
    STATE_FILE=$SDIR/run.state
    return 0
}

# A one-line document for outcomes before any step ran (config, busy).
emit_early() { # status step code
    printf '{"apiVersion":"%s","outcome":{"status":"%s","exitCode":%s,"step":"%s"}}\n' \
        "$API_VERSION" "$1" "$3" "$2"
}

# ---------------------------------------------------------------- run

new_clone_name() {
    # dblab-refresh-YYYYMMDD-HHMMSS plus 4 hex digits of the source's CRC, so
    # runs for two sources started in the same second get distinct names.
    _crc=$(printf '%s' "$SOURCE_KEY" | cksum | awk '{ printf "%04x", $1 % 65536 }')
    printf '%s%s-%s\n' "$CLONE_PREFIX" "$(date -u +%Y%m%d-%H%M%S)" "$_crc"
}

do_run() {
    now
    RUN_T0=$NOW
    STARTED_AT=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    RUN_ID=${DBLAB_RDS_REFRESH_RUN_ID:-$(date -u +%Y%m%dT%H%M%SZ)-$$}

    load_config || {
        _rc=$?
        emit_early failed config "$_rc"
        exit "$_rc"
    }
    prepare_state_dir || {
        _rc=$?
        emit_early failed state "$_rc"
        exit "$_rc"
    }
    take_lock || {
        _rc=$?
        if [ "$_rc" = "$EX_BUSY" ]; then
            log_error "another run for source $SOURCE_ID holds $SDIR/lock; exiting (busy)"
            emit_early busy lock "$_rc"
        else
            emit_early failed lock "$_rc"
        fi
        exit "$_rc"
    }

    # From here on every exit goes through finish().
    resolve_cmds || {
        fail start "$EX_INTERNAL"
        finish
        exit "$EXIT_CODE"
    }
    CUR_STEP=recovery
    recover || {
        fail recovery $?
        finish
        exit "$EXIT_CODE"
    }
    run_gc

    if [ "$EXIT_CODE" = 0 ]; then
        if [ "$DRY_RUN" = 1 ]; then
            dry_pipeline
        else
            pipeline
        fi
    fi
    if [ -n "$CLONE_ID" ]; then
        write_state
        if [ "$EXIT_CODE" = 0 ]; then
            delete_clone "refresh done" 300
        else
            delete_clone "step $FAIL_STEP failed" 300
        fi
    fi
    finish
    exit "$EXIT_CODE"
}

# snapshot -> create -> wait -> refresh; the caller deletes the clone.
pipeline() {
    rm -f "$SDIR/snapshot.json" "$SDIR/clone.json" "$SDIR/endpoint.json" \
        "$SDIR/refresh.json" "$SDIR/deleted.json"
    CUR_STEP=snapshot
    write_state || {
        log_error "cannot write $STATE_FILE"
        fail snapshot "$EX_INTERNAL"
        return
    }
    # shellcheck disable=SC2086 # FLAGS: words without spaces
    run_step snapshot "" "$SDIR/snapshot.json" "$CMD_SNAPSHOT" -config "$CONFIG" $FLAGS || {
        fail snapshot $?
        return
    }

    # Preflight, before anything costs money: the engine is healthy, logical,
    # not busy (a refresh of a killed run may still be running), and accepts
    # our token: dblab-refresh's read-only checks.
    _pf=-quiet
    [ "$VERBOSE" = 1 ] || [ "$QUIET" = 1 ] && _pf=
    # shellcheck disable=SC2086
    run_step preflight "$SDIR/snapshot.json" "$WORK/preflight.json" "$CMD_REFRESH" -config "$CONFIG" \
        $FLAGS $_pf -dry-run || {
        fail preflight $?
        return
    }
    LAST_DOC=$SDIR/snapshot.json

    # The name is decided and recorded before the create request exists, so a
    # crash at any later moment leaves a record for the next start.
    CUR_STEP=create
    CLONE_ID=$(new_clone_name)
    now
    CREATE_T0=$NOW
    write_state || {
        log_error "cannot write $STATE_FILE; not creating a clone without a record"
        CLONE_ID=
        fail create "$EX_INTERNAL"
        return
    }
    CREATE_STARTED=1
    # shellcheck disable=SC2086
    run_step create "$SDIR/snapshot.json" "$SDIR/clone.json" "$CMD_CREATE" -config "$CONFIG" $FLAGS \
        -run-id "$RUN_ID" -clone-id "$CLONE_ID"
    _rc=$?
    CREATE_DONE=1
    [ "$_rc" = 0 ] || {
        fail create "$_rc"
        return
    }

    CUR_STEP="wait"
    write_state
    # shellcheck disable=SC2086
    run_step wait "$SDIR/clone.json" "$SDIR/endpoint.json" "$CMD_WAIT" -config "$CONFIG" $FLAGS || {
        fail wait $?
        return
    }

    CUR_STEP=refresh
    write_state
    # shellcheck disable=SC2086
    run_step refresh "$SDIR/endpoint.json" "$SDIR/refresh.json" "$CMD_REFRESH" -config "$CONFIG" $FLAGS || {
        fail refresh $?
        return
    }
}

# A dry run: every command with -dry-run (reads and checks only), each reading
# the previous one's document, in a scratch directory; nothing is recorded
# for recovery and nothing is created.
dry_pipeline() {
    _in=
    for _name in snapshot create wait refresh; do
        case $_name in
            snapshot) _cmd=$CMD_SNAPSHOT ;;
            create) _cmd=$CMD_CREATE ;;
            wait) _cmd=$CMD_WAIT ;;
            *) _cmd=$CMD_REFRESH ;;
        esac
        # shellcheck disable=SC2086 # FLAGS: words without spaces
        run_step "$_name" "$_in" "$WORK/$_name.json" "$_cmd" -config "$CONFIG" $FLAGS || {
            fail "$_name" $?
            return
        }
        _in=$WORK/$_name.json
    done
}

# ---------------------------------------------------------------- cleanup

do_cleanup() {
    now
    RUN_T0=$NOW
    RUN_ID=
    case $MAX_AGE in
        *[!0-9a-z]*) die_usage "-max-age: '$MAX_AGE' is not a duration (e.g. 24h)" ;;
    esac
    load_config || exit $?
    prepare_state_dir || exit $?
    resolve_cmds || exit "$EX_INTERNAL"
    set --
    [ -n "$MAX_AGE" ] && set -- -max-age "$MAX_AGE"
    _status=0
    if take_lock; then
        CUR_STEP=recovery
        recover || _status=$?
    else
        # A refresh is running: leave its record alone and its clone out of gc.
        _active=$(state_get clone "$STATE_FILE") || _active=
        log_warn "a refresh run holds $SDIR/lock; not touching its clone ${_active:-(none yet)}"
        if [ -n "$_active" ] && valid_clone_name "$_active"; then
            set -- "$@" -exclude "$_active"
        fi
    fi
    run_gc "$@"
    _gc_rc=$?
    _rec=null
    [ -n "$RECOVERY_JSON" ] && _rec="{$RECOVERY_JSON}"
    [ "$_status" = 0 ] && _status=$_gc_rc
    printf '{"apiVersion":"%s","kind":"cleanup"%s,"recovery":%s,"gc":%s,"steps":{%s}%s,"outcome":{"status":"%s","exitCode":%s}}\n' \
        "$API_VERSION" "$([ "$DRY_RUN" = 1 ] && printf ',"dryRun":true')" "$_rec" \
        "${GC_JSON:-null}" "$STEPS_JSON" "$([ "$AWS_CALLS_KNOWN" = 1 ] && echo ",\"awsCalls\":$AWS_CALLS")" \
        "$([ "$_status" = 0 ] && echo success || echo failed)" "$_status"
    exit "$_status"
}

# ---------------------------------------------------------------- main

case $0 in
    */*) BIN_DIR=$(cd "$(dirname "$0")" && pwd) ;;
    *) BIN_DIR=$(dirname "$(command -v "$0" 2>/dev/null || echo "./$0")") ;;
esac

SOURCE_ID=
SDIR=
STATE_FILE=
RUN_T0=
parse_args "$@"
set_flags
CMD_SNAPSHOT=''
CMD_CREATE=''
CMD_WAIT=''
CMD_REFRESH=''
CMD_DELETE=''
CMD_GC=''

WORK=$(mktemp -d "${TMPDIR:-/tmp}/dblab-rds-refresh.XXXXXX") || exit "$EX_INTERNAL"
trap 'on_signal INT 2' INT
trap 'on_signal TERM 15' TERM
trap 'on_signal HUP 1' HUP
trap 'on_exit' EXIT

case $MODE in
    run) do_run ;;
    cleanup) do_cleanup ;;
esac
