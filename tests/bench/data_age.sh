#!/bin/bash
# How old is the data DBLab loads? One full pipeline per mode against the
# emulators (time scale 300), printing for each: the data's age when the refresh
# started (refresh.dataAgeAtStartSeconds, from the document's dataAsOf) and how
# long the clone took to become available, in emulated (AWS) seconds.
#
#   tests/bench/data_age.sh          (run from the top of the tree, after make)
#
# The ages are those of the emulator's world: the fixture's automated snapshots
# are taken daily at 03:07 UTC, the latest restorable time trails by five minutes
# as RDS's does. docs/performance.md reports the numbers.
. tests/lib/pipeline_test.sh
SCALE=300
pl_init --time-scale "$SCALE"

# mode NAME TYPE ID RESTORE_FROM [CLONE LINE]
mode() {
    pl_config "type: $2
identifier: $3
dbName: app
restoreFrom: $4" "instanceClass: db.r6g.large
masterPassword: keep
${5:-}"
    local t0 t1
    pl_step 1 rds-snapshot-latest
    pl_step 2 rds-clone-create
    t0=$(date +%s.%N)
    pl_step 3 rds-clone-wait
    t1=$(date +%s.%N)
    pl_step 4 dblab-refresh
    pl_step 5 rds-clone-delete
    printf '%-34s data age at refresh start %8ss (%s)   clone ready after %5.0fs\n' "$1" \
        "$(pl_field 4 "d['refresh']['dataAgeAtStartSeconds']")" \
        "$(pl_field 4 "d['dataAsOf']")" \
        "$(awk -v a="$t0" -v b="$t1" -v s="$SCALE" 'BEGIN { print (b - a) * s }')"
}

mode "RDS, newest snapshot" rds production-db snapshot
mode "RDS, latest restorable time" rds production-db latest
mode "Aurora, newest snapshot" aurora-cluster production-aurora snapshot
mode "Aurora, latest, copy-on-write" aurora-cluster production-aurora latest
mode "Aurora, latest, full copy" aurora-cluster production-aurora latest "copyOnWrite: false"
