#!/bin/sh
# packaging/man/help2man.sh BIN_DIR CMD VERSION OUT: the man page of CMD, made at
# build time by Debian's help2man from the command's own -help and -version (the
# one description of each option), plus the sections of packaging/man/*.h2m.
set -eu
bin=$1 cmd=$2 version=$3 out=$4
here=$(dirname "$0")
# NAME: the summary line each C command prints under its usage; the driver's.
case $cmd in
    dblab-rds-refresh) name="refresh a DBLab Engine from a temporary RDS/Aurora clone (the driver)" ;;
    lambda-bootstrap) name="the AWS Lambda custom runtime of dblab-rds-refresh" ;;
    *) name=$("$bin/$cmd" -help | sed -n 2p) ;;
esac
[ -n "$name" ] || { echo "help2man.sh: $cmd -help has no summary line" >&2; exit 1; }
LC_ALL=C.UTF-8 help2man --no-info --no-discard-stderr --section=1 \
    --source="dblab-rds-refresh $version" --manual="dblab-rds-refresh" \
    --name="$name" --include="$here/common.h2m" --output="$out" "$bin/$cmd"
