#!/usr/bin/env bash
# Packaging pieces that run without building a package (the .deb itself is
# built, checked by lintian, installed and run by .ci/run: `make deb`):
#   - every command has a man page made by help2man from its own -help, which
#     man(1) renders without a warning, with NAME, the options and EXIT STATUS;
#   - the bash completion offers each command's options (from its -help), the
#     driver's "cleanup", files after -config, text/json after -log-format.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 70
: "${DRR_BIN:=$top/bin}"
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
command -v help2man >/dev/null || { echo "SKIP: help2man not installed (make deps)"; exit 77; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/drr-packaging.XXXXXX") || exit 70
trap 'rm -rf "$tmp"' EXIT

cmds=$(cd cmds && ls ./*.c ./*.sh | sed 's|^\./||; s|\.[a-z]*$||')
for c in $cmds; do
    packaging/man/help2man.sh "$DRR_BIN" "$c" 0.0.0 "$tmp/$c.1" 2>"$tmp/$c.err" ||
        { fail "$c: help2man: $(cat "$tmp/$c.err")"; continue; }
    MANWIDTH=80 man --warnings -l "$tmp/$c.1" >"$tmp/$c.txt" 2>"$tmp/$c.warn" || fail "$c: man failed"
    [ -s "$tmp/$c.warn" ] && fail "$c: man warns: $(head -3 "$tmp/$c.warn")"
    grep -q "^NAME" "$tmp/$c.txt" && grep -q "^EXIT STATUS" "$tmp/$c.txt" &&
        grep -q -- "-config" "$tmp/$c.txt" || fail "$c: the man page lacks NAME, EXIT STATUS or -config"
    grep -Eq "^ +$c +- ." "$tmp/$c.txt" || fail "$c: NAME line: $(sed -n '/^NAME/{n;p}' "$tmp/$c.txt")"
done
ok "man pages of $(echo "$cmds" | wc -w) commands"

# complete CMD WORDS...: the candidates for the last word.
complete_words() {
    PATH="$DRR_BIN:$PATH" bash -c '
        . packaging/completion/dblab-rds-refresh.bash
        COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
        _dblab_rds_refresh
        printf "%s\n" "${COMPREPLY[@]}"' complete "$@"
}
[ "$(complete_words rds-clone-delete -go)" = "-go-state" ] || fail "rds-clone-delete -go: $(complete_words rds-clone-delete -go)"
complete_words rds-clone-gc -all >"$tmp/c" && grep -qx -- "-all-pipelines" "$tmp/c" || fail "rds-clone-gc -all"
complete_words rds-refresh cl | grep -qx cleanup || fail "rds-refresh cl: no cleanup"
[ "$(complete_words dblab-refresh -log-format j)" = json ] || fail "-log-format j"
(cd "$tmp" && touch conf-a.yaml && PATH="$DRR_BIN:$PATH" bash -c '
    . "$0"/packaging/completion/dblab-rds-refresh.bash
    COMP_WORDS=(dblab-rds-config -config conf-); COMP_CWORD=2
    _dblab_rds_refresh; printf "%s\n" "${COMPREPLY[@]}"' "$top") | grep -qx conf-a.yaml ||
    fail "-config: no file completion"
ok "bash completion"

if [ "$fails" -gt 0 ]; then
    echo "$fails failure(s)"
    exit 1
fi
echo "packaging: all checks passed"
