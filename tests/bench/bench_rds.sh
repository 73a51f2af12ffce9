#!/bin/bash
# Benchmark (not a test): each RDS command's wall time, CPU time and peak RSS next to
# Debian's `aws rds describe-db-snapshots` doing the same lookup on the same AWS
# emulator, and next to the floor every libcurl program on Debian stands on.
#
#   make && tests/bench/bench_rds.sh [RUNS]      (default 9 runs each; medians shown)
#
# The emulator is seeded with the default fixture plus 230 extra automated snapshots of
# production-db, so the lookup reads three pages, as an account with a long backup
# history does. Each run of rds-clone-create makes its own clone (run id bench-N);
# the emulator's clock is then moved on so that rds-clone-wait measures the command
# (two describes of an available clone), not the simulated restore. The floors are
# two programs built with the commands' own link line (tests/bench/floor.c).
# Target (issue 5): at least 50x faster and 6x less memory than the CLI.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
: "${DRR_BIN:=$top/bin}"
RUNS=${1:-9}
command -v aws >/dev/null || { echo "bench: Debian's awscli (aws) is not installed" >&2; exit 1; }

. tests/lib/rds_testlib.sh
rds_start rds
rds_seed 'i = inst(f, "production-db"); i["snapshots"].append(
    {"id": "rds:production-db-bulk", "type": "automated", "count": 230, "ageDays": 9, "intervalHours": 1})'

results="$T/results.jsonl"
measure() {  # measure NAME STDIN STDOUT CMD ARGS...
    local name=$1 input=$2 output=$3
    shift 3
    /usr/bin/python3 tests/bench/measure.py "$name" "$RUNS" "$input" "$output" -- "$@" >>"$results" ||
        { echo "bench: $name failed" >&2; exit 1; }
}

# shellcheck disable=SC2046  # pkg-config prints words
for init in 0 1; do
    cc -std=c11 -O2 -DFLOOR_INIT=$init $(pkg-config --cflags libcurl) -o "$T/floor$init" \
        tests/bench/floor.c -pie -Wl,-z,relro,-z,now -Wl,--no-as-needed \
        $(pkg-config --libs libcurl yaml-0.1 libcjson libcrypto libxml-2.0) -lm
done

measure "aws rds describe-db-snapshots" /dev/null "$T/aws.json" \
    aws rds describe-db-snapshots --region us-east-1 --endpoint-url "$AWS_EMULATOR_URL" \
    --db-instance-identifier production-db --snapshot-type automated --output json
measure rds-snapshot-latest /dev/null "$T/snap.json" \
    "$DRR_BIN/rds-snapshot-latest" -config "$CFG" -quiet
measure rds-clone-create "$T/snap.json" "$T/create.{i}.json" \
    "$DRR_BIN/rds-clone-create" -config "$CFG" -quiet -run-id "bench-{i}"
aws_emu_post advance '{"seconds": 7200}' >/dev/null
measure rds-clone-wait "$T/create.{i}.json" "$T/wait.{i}.json" \
    "$DRR_BIN/rds-clone-wait" -config "$CFG" -quiet
measure rds-clone-delete "$T/wait.{i}.json" "$T/delete.{i}.json" \
    "$DRR_BIN/rds-clone-delete" -config "$CFG" -quiet
measure rds-clone-gc /dev/null "$T/gc.json" "$DRR_BIN/rds-clone-gc" -config "$CFG" -quiet
measure "floor: linked, main() returns" /dev/null "$T/floor0.out" "$T/floor0"
measure "floor: + curl_global_init()" /dev/null "$T/floor1.out" "$T/floor1"
check_calls >/dev/null

n=$(jq '.DBSnapshots | length' "$T/aws.json")
[ "$(jq -r .snapshot.id "$T/snap.json")" = "$(jq -r '[.DBSnapshots[] | select(.Status=="available")] | max_by(.SnapshotCreateTime) | .DBSnapshotIdentifier' "$T/aws.json")" ] ||
    { echo "bench: the CLI and rds-snapshot-latest disagree on the newest snapshot" >&2; exit 1; }

echo "emulator: $AWS_EMULATOR_URL; production-db has $n automated snapshots (3 pages);"
echo "medians of $RUNS runs; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
jq -rs '
    (.[0]) as $cli |
    def row: [.name, .wallMs, .cpuMs, .rssKiB,
              (($cli.wallMs / .wallMs * 10 | round) / 10 | tostring + "x"),
              (($cli.rssKiB / .rssKiB * 10 | round) / 10 | tostring + "x")];
    (["command", "wall_ms", "cpu_ms", "peak_RSS_KiB", "faster", "less_mem"],
     [$cli.name, $cli.wallMs, $cli.cpuMs, $cli.rssKiB, "-", "-"],
     (.[1:][] | row),
     ["target (issue 5): 50x, 6x", ($cli.wallMs / 50 * 10 | round) / 10, "-",
      ($cli.rssKiB / 6 | floor), "50x", "6x"])
    | @tsv' "$results" |
    awk -F'\t' '{ printf "%-32s %8s %8s %13s %8s %9s\n", $1, $2, $3, $4, $5, $6 }'
