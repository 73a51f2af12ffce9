# Sourced by the tests/valgrind/*.sh scenarios that need an emulator (POSIX sh).
#
#   vg_emulator NAME COMMAND [ARG...]
#
# makes $tmp (mktemp -d, drr-vg-NAME.*), starts COMMAND --port 0 --port-file
# $tmp/port in the background (its log in $tmp/emu.log), stops it and removes $tmp
# on exit, waits up to 30 s for its port and sets url=http://127.0.0.1:PORT.
# Variables the emulator needs are exported by the caller first.
vg_emulator() {
    vg_name=$1
    shift
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/drr-vg-$vg_name.XXXXXX") || exit 70
    PYTHONDONTWRITEBYTECODE=1 "$@" --port 0 --port-file "$tmp/port" >"$tmp/emu.log" 2>&1 &
    emu_pid=$!
    trap 'kill $emu_pid 2>/dev/null; wait $emu_pid 2>/dev/null; rm -rf "$tmp"' EXIT
    vg_i=0
    while [ ! -s "$tmp/port" ] && [ $vg_i -lt 1500 ]; do sleep 0.02; vg_i=$((vg_i + 1)); done
    [ -s "$tmp/port" ] || { cat "$tmp/emu.log"; exit 1; }
    # shellcheck disable=SC2034 # url is for the scenario that sourced this file
    url="http://127.0.0.1:$(cat "$tmp/port")"
}
