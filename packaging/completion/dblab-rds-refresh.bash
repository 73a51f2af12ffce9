# bash completion for the dblab-rds-refresh commands (installed once and linked
# under each command's name in /usr/share/bash-completion/completions/).
# The options come from the command's own -help, so they never drift from it.

_dblab_rds_refresh_opts() {
    # "  -name VALUE   text" lines of the Options section
    "$1" -help 2>/dev/null | sed -n 's/^  \(-[a-z][a-z-]*\).*/\1/p'
}

_dblab_rds_refresh() {
    local cur prev cmd words
    COMPREPLY=()
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}
    cmd=${COMP_WORDS[0]}
    case $prev in
        -config | --config | -in | --in | -go-state | --go-state | -metrics-file | --metrics-file)
            compopt -o filenames 2>/dev/null
            mapfile -t COMPREPLY < <(compgen -f -- "$cur")
            return 0 ;;
        -state-dir | --state-dir)
            compopt -o filenames 2>/dev/null
            mapfile -t COMPREPLY < <(compgen -d -- "$cur")
            return 0 ;;
        -log-format | --log-format)
            mapfile -t COMPREPLY < <(compgen -W "text json" -- "$cur")
            return 0 ;;
        -run-id | --run-id | -clone-id | --clone-id | -grace | --grace | -max-age | --max-age | \
            -exclude | --exclude | -expect | --expect)
            return 0 ;;
    esac
    words=$(_dblab_rds_refresh_opts "$cmd")
    case ${cmd##*/} in
        dblab-rds-refresh | rds-refresh)
            # the driver's subcommand
            [ "$COMP_CWORD" -eq 1 ] && words="$words cleanup" ;;
    esac
    mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
}

complete -F _dblab_rds_refresh dblab-rds-refresh rds-refresh dblab-rds-config rds-snapshot-latest \
    rds-clone-create rds-clone-wait dblab-refresh rds-clone-delete rds-clone-gc
