#!/bin/bash
# Benchmark (not a test): each RDS command's wall time and peak RSS next to Debian's
# `aws rds describe-db-snapshots` doing the same lookup on the same AWS emulator.
#
#   make && tests/bench/bench_rds.sh [RUNS]      (default 5 runs each; medians shown)
#
# The emulator is seeded with the default fixture plus 230 extra automated snapshots of
# production-db, so the lookup reads three pages, as an account with a long backup
# history does. Target (issue 5): at least 50x faster and 6x less memory than the CLI.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
: "${DRR_BIN:=$top/bin}"
RUNS=${1:-5}
command -v aws >/dev/null || { echo "bench: Debian's awscli (aws) is not installed" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time is not installed" >&2; exit 1; }

. tests/lib/rds_testlib.sh
rds_start rds
rds_seed 'i = inst(f, "production-db"); i["snapshots"].append(
    {"id": "rds:production-db-bulk", "type": "automated", "count": 230, "ageDays": 9, "intervalHours": 1})'
export DBLAB_RDS_REFRESH_POLL_SCALE=0.01

# measure NAME STDIN CMD...: appends "wall_s rss_kb" of one run to $T/NAME.m
measure() {
    local name=$1 input=$2
    shift 2
    /usr/bin/time -f '%e %M %U %S' -o "$T/time.tmp" "$@" <"$input" >"$T/$name.last" 2>"$T/$name.err" ||
        { echo "bench: $name failed:" >&2; tail -5 "$T/$name.err" >&2; exit 1; }
    cat "$T/time.tmp" >>"$T/$name.m"
}

median() {  # median of column $2 of file $1
    sort -n -k"$2" "$1" | awk -v c="$2" '{ v[NR] = $c } END { print v[int((NR + 1) / 2)] }'
}

for _ in $(seq "$RUNS"); do
    measure aws-describe /dev/null aws rds describe-db-snapshots --region us-east-1 \
        --endpoint-url "$AWS_EMULATOR_URL" --db-instance-identifier production-db \
        --snapshot-type automated --output json
    measure snapshot-latest /dev/null "$DRR_BIN/rds-snapshot-latest" -config "$CFG" -quiet
    measure clone-create "$T/snapshot-latest.last" "$DRR_BIN/rds-clone-create" -config "$CFG" -quiet
    measure clone-wait "$T/clone-create.last" "$DRR_BIN/rds-clone-wait" -config "$CFG" -quiet
    measure clone-delete "$T/clone-wait.last" "$DRR_BIN/rds-clone-delete" -config "$CFG" -quiet
    measure clone-gc /dev/null "$DRR_BIN/rds-clone-gc" -config "$CFG" -quiet
    sleep 1  # the next run's time-based clone name must differ
done
n=$(jq '.DBSnapshots | length' "$T/aws-describe.last")
[ "$(jq -r .snapshot.id "$T/snapshot-latest.last")" = "$(jq -r '[.DBSnapshots[] | select(.Status=="available")] | max_by(.SnapshotCreateTime) | .DBSnapshotIdentifier' "$T/aws-describe.last")" ] ||
    { echo "bench: the CLI and rds-snapshot-latest disagree on the newest snapshot" >&2; exit 1; }

aws_wall=$(median "$T/aws-describe.m" 1)
aws_rss=$(median "$T/aws-describe.m" 2)
echo "emulator: $AWS_EMULATOR_URL; production-db has $n automated snapshots (3 pages); medians of $RUNS runs"
aws_cpu=$(awk '{ print $3 + $4 }' "$T/aws-describe.m" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
printf '%-32s %8s %8s %12s %8s %8s %9s\n' command wall_s cpu_s peak_RSS_KiB faster cpu_less less_mem
printf '%-32s %8s %8s %12s %8s %8s %9s\n' "aws rds describe-db-snapshots" "$aws_wall" "$aws_cpu" "$aws_rss" - - -
for c in snapshot-latest clone-create clone-wait clone-delete clone-gc; do
    w=$(median "$T/$c.m" 1)
    r=$(median "$T/$c.m" 2)
    u=$(awk '{ print $3 + $4 }' "$T/$c.m" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
    awk -v c="rds-$c" -v w="$w" -v r="$r" -v u="$u" -v aw="$aws_wall" -v ar="$aws_rss" -v au="$aws_cpu" 'BEGIN {
        wd = (w > 0) ? w : 0.005   # /usr/bin/time has 10 ms resolution
        ud = (u > 0) ? u : 0.005
        printf "%-32s %8.2f %8.2f %12d %7.0fx %7.0fx %8.1fx\n", c, w, u, r, aw / wd, au / ud, ar / r }'
done
printf 'int main(void) { return 0; }\n' >"$T/e.c"
# shellcheck disable=SC2046  # the flags are words
cc -o "$T/e" "$T/e.c" -Wl,--no-as-needed $(pkg-config --libs libcurl libxml-2.0)
echo "baseline: an empty C program linked with Debian's libcurl (40 shared libraries with their"
echo "dependencies) and libxml2 (ICU) has $(/usr/bin/time -f %M "$T/e" 2>&1) KiB of RSS before main()"
echo "(clone-wait includes the scaled wait for the emulator's restore; wall 0.00 = under 10 ms)"
