# shellcheck shell=bash
# Start/stop the local AWS and DBLab emulators from bash integration tests.
#
#   . tests/lib/emulators.sh
#   trap emulators_stop EXIT
#   emulators_start [run-emulators args...]   # e.g. --dblab-seed tests/fixtures/dblab/server-rdsiam.yml
#   ... $AWS_EMULATOR_URL $DBLAB_EMULATOR_URL $DBLAB_EMULATOR_TOKEN are exported,
#       with AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_REGION and AWS_ENDPOINT_URL
#   dblab_emu_fault '{"type":"http","status":500,"calls":2,"path":"/status"}'
#   dblab_emu_get calls            # JSON array of {method, path, status, time}
#   emulators_stop                 # trap-safe, idempotent
#
# Helpers: aws_emu_get NAME / aws_emu_post NAME [JSON] and dblab_emu_get NAME /
# dblab_emu_post NAME [JSON] talk to /_emulator/NAME; dblab_emu_fault, aws_emu_fault,
# dblab_emu_set, dblab_emu_advance SECONDS, dblab_emu_reset are shorthands.

_EMU_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
_EMU_TOP=$(cd "$_EMU_LIB_DIR/../.." && pwd)
_EMU_DIR=""
_EMU_PID=""

emulators_start() {
    if [ -n "$_EMU_PID" ]; then
        echo "emulators_start: already running (pid $_EMU_PID)" >&2
        return 1
    fi
    _EMU_DIR=$(mktemp -d "${TMPDIR:-/tmp}/emulators.XXXXXX") || return 1
    "$_EMU_TOP/tests/emulators/run-emulators" --env-file "$_EMU_DIR/env" "$@" \
        >"$_EMU_DIR/log" 2>&1 </dev/null &
    _EMU_PID=$!
    local deadline=$((SECONDS + 70))   # run-emulators itself gives up after 60 s
    while [ ! -s "$_EMU_DIR/env" ]; do
        if ! kill -0 "$_EMU_PID" 2>/dev/null; then
            echo "emulators_start: run-emulators failed:" >&2
            cat "$_EMU_DIR/log" >&2
            wait "$_EMU_PID" 2>/dev/null
            _EMU_PID=""
            return 1
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "emulators_start: no env file after 70 s" >&2
            emulators_stop
            return 1
        fi
        sleep 0.01
    done
    set -a
    # shellcheck disable=SC1091
    . "$_EMU_DIR/env"
    set +a
    export AWS_ENDPOINT_URL="$AWS_EMULATOR_URL"
    export EMULATORS_LOG="$_EMU_DIR/log"
}

emulators_stop() {
    if [ -n "$_EMU_PID" ]; then
        kill -TERM "$_EMU_PID" 2>/dev/null
        wait "$_EMU_PID" 2>/dev/null
        _EMU_PID=""
    fi
    if [ -n "$_EMU_DIR" ]; then
        rm -rf "$_EMU_DIR"
        _EMU_DIR=""
    fi
    return 0
}

_emu_curl() {   # URL METHOD NAME [JSON]
    local base=$1 method=$2 name=$3 body=${4-}
    case "$base" in https:*) set -- -k ;; *) set -- ;; esac
    if [ -n "$body" ]; then
        curl -sS "$@" -X "$method" -H 'Content-Type: application/json' --data "$body" "$base/_emulator/$name"
    else
        curl -sS "$@" -X "$method" "$base/_emulator/$name"
    fi
}

dblab_emu_get() { _emu_curl "$DBLAB_EMULATOR_URL" GET "$1"; }
dblab_emu_post() { _emu_curl "$DBLAB_EMULATOR_URL" POST "$1" "${2-}"; }
aws_emu_get() { _emu_curl "$AWS_EMULATOR_URL" GET "$1"; }
aws_emu_post() { _emu_curl "$AWS_EMULATOR_URL" POST "$1" "${2-}"; }
dblab_emu_fault() { dblab_emu_post faults "$1"; }
aws_emu_fault() { aws_emu_post faults "$1"; }
dblab_emu_set() { dblab_emu_post set "$1"; }
dblab_emu_advance() { dblab_emu_post advance "{\"seconds\": $1}"; }
dblab_emu_reset() { dblab_emu_post reset; }
