#!/bin/bash
# Two pipelines in one account (sources production-db and billing-db), at the
# command level: every clone belongs to one pipeline and one run, and no delete path
# of pipeline A -- gc whatever its maxAge (1 s), -run-id clean-up, the driver's
# recovery (rds-clone-delete -run-id RID -grace), create's adoption and roll-back --
# ever touches pipeline B's clone.
#  - The same Airflow run_id in two DAGs (two pipelines): two clones.
#  - Two runs of one pipeline started in the same second (minted run ids): two clones.
#  - Neither ever deletes the other's; each cleans up its own.
set -eu
# shellcheck source=tests/lib/rds_testlib.sh disable=SC2034  # RC is read by expect_rc
. "$(dirname "$0")/../lib/rds_testlib.sh"
rds_start rds

# A clone made before pipelines existed: managed, no pipeline tag, expired.
rds_seed '
import datetime
now = datetime.datetime.now(datetime.timezone.utc)
f["instances"].append({"id": "dblab-refresh-20261101-020000", "engine": "postgres",
    "engineVersion": "16.4", "class": "db.t3.medium", "subnetGroup": "dblab-clones", "ageHours": 72,
    "tags": {"ManagedBy": "dblab-rds-refresh", "AutoDelete": "true",
             "DeleteAfter": (now - datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
             "dblab-rds-refresh:source": "production-db"}})'
LEGACY=dblab-refresh-20261101-020000

cp "$CFG" "$T/prod.yaml"
# billing-db runs PostgreSQL 15: the fixture's parameter group is postgres16's
sed -e 's/identifier: production-db/identifier: billing-db/' -e '/parameterGroup:/d' "$CFG" >"$T/billing.yaml"
use() { CFG=$T/$1.yaml; }
alive() { case "$(status_of instances "$1")" in deleting|absent) return 1;; esac; return 0; }
tag_of() { aws_emu_get state | jq -r --arg n "$1" --arg k "$2" '.instances[$n].TagList[] | select(.Key==$k) | .Value'; }
# changing calls that targeted NAME so far
changes_to() {
    calls_json | jq --arg n "$1" '[.calls[] | select((.action | test("^(Delete|Modify|AddTags|RemoveTags|Reboot)")) and (.params.DBInstanceIdentifier==$n or .params.DBClusterIdentifier==$n or ((.params.ResourceName // "") | endswith(":" + $n))))] | length'
}

# ---- the same Airflow run_id in two DAGs, one per pipeline
RID="scheduled__2026-12-06T02:00:00+00:00"
use billing
AIRFLOW_CTX_DAG_ID=refresh-billing AIRFLOW_CTX_DAG_RUN_ID=$RID run bsnap rds-snapshot-latest
expect_rc 0; validate bsnap
[ "$(jget bsnap .pipeline)" = billing-db ] || fail "billing pipeline: $(jget bsnap .pipeline)"
[ "$(jget bsnap .runId)" = "refresh-billing/$RID" ] || fail "billing runId: $(jget bsnap .runId)"
run bclone rds-clone-create <"$T/bsnap.out"; expect_rc 0; validate bclone
B=$(jget bclone .clone.id)
use prod
AIRFLOW_CTX_DAG_ID=refresh-production AIRFLOW_CTX_DAG_RUN_ID=$RID run psnap rds-snapshot-latest
expect_rc 0; validate psnap
run pclone rds-clone-create <"$T/psnap.out"; expect_rc 0; validate pclone
P=$(jget pclone .clone.id)
[ "$P" != "$B" ] || fail "the two pipelines share the clone name $P"
[ "$(jget pclone .clone.adopted)" = false ] || fail "production adopted billing's clone"
[ "$(tag_of "$B" dblab-rds-refresh:pipeline)" = billing-db ] || fail "billing clone: pipeline tag"
[ "$(tag_of "$B" dblab-rds-refresh:run-id)" = "refresh-billing/$RID" ] || fail "billing clone: run-id tag"
[ "$(tag_of "$P" dblab-rds-refresh:pipeline)" = production-db ] || fail "production clone: pipeline tag"
# even a DAG passing the bare run_id (-run-id, no DAG id) gets one clone per pipeline
run pbare rds-clone-create -dry-run -run-id "$RID" <"$T/psnap.out"; expect_rc 0
use billing
run bbare rds-clone-create -dry-run -run-id "$RID" <"$T/bsnap.out"; expect_rc 0
[ "$(jget pbare .clone.id)" != "$(jget bbare .clone.id)" ] || fail "bare run_id: one name for two pipelines"
run bwait rds-clone-wait <"$T/bclone.out"; expect_rc 0
sleep 2   # older than 1 s, for the maxAge below

# ---- production's delete paths never touch billing's clone
use prod
# the scheduler's clean-up / the driver's recovery of production's run with billing's
# run id: production's own (derived) name, not found
run r1 rds-clone-delete -run-id "refresh-billing/$RID" -grace 1s </dev/null; expect_rc 0
[ "$(jget r1 .deleted.alreadyGone)" = true ] || fail "r1: production deleted something"
[ "$(jget r1 .deleted.id)" != "$B" ] || fail "r1: production derived billing's name"
# naming billing's clone outright: refused, naming the tag that differs
run r2 rds-clone-delete -clone-id "$B" </dev/null; expect_rc 83
err_has r2 'dblab-rds-refresh:pipeline is "billing-db", this pipeline (clone.pipeline) is "production-db"'
# what create's roll-back runs in a child (-clone-id NAME -run-id RUN): refused
run r3 rds-clone-delete -clone-id "$B" -run-id "refresh-billing/$RID" -grace 1s </dev/null; expect_rc 83
run r4 rds-clone-delete <"$T/bclone.out"; expect_rc 65   # billing's document, production's config
err_has r4 'pipeline "billing-db"'
# adoption: a create under billing's name, from the same snapshot and run id, by a
# pipeline configured with the same pipeline name but another source: refused (83,
# source tag), no roll-back
sed 's/^  tags:/  pipeline: billing-db\n  tags:/' "$T/prod.yaml" >"$T/prod-as-billing.yaml"
use prod-as-billing
jq -c --arg r "refresh-billing/$RID" '.runId = $r | .pipeline = "billing-db"' "$T/psnap.out" >"$T/hijack.json"
run a1 rds-clone-create <"$T/hijack.json"; expect_rc 83
err_has a1 "cannot be adopted"
err_has a1 "dblab-rds-refresh:source"
use prod
run a2 rds-clone-create -clone-id "$B" -run-id "refresh-billing/$RID" <"$T/psnap.out"; expect_rc 83
err_has a2 "dblab-rds-refresh:pipeline"
# gc with production's maxAge 1s: production's own old clone goes, billing's stays
sed -i 's/^  tags:/  maxAge: 1s\n  tags:/' "$T/prod.yaml"
run gc1 rds-clone-gc; expect_rc 0
[ "$(jget gc1 '[.deleted[]] | join(" ")')" = "$P" ] || fail "gc1 deleted: $(jget gc1 .deleted)"
jq -e --arg b "$B" '.kept[] | select(.id==$b) | .reason | test("another pipeline")' "$T/gc1.out" >/dev/null ||
    fail "gc1 kept: $(jq -c .kept "$T/gc1.out")"
jq -e --arg l "$LEGACY" '.kept[] | select(.id==$l) | .reason | test("no pipeline tag")' "$T/gc1.out" >/dev/null ||
    fail "gc1: the clone from before pipelines: $(jq -c .kept "$T/gc1.out")"
run gc2 rds-clone-gc -max-age 1s; expect_rc 0
jq -e --arg p "$P" '[.deleted[] | select(. != $p)] == []' "$T/gc2.out" >/dev/null || fail "gc2 deleted: $(jget gc2 .deleted)"
# -all-pipelines: billing's clone by its own DeleteAfter (two days ahead): kept; the
# expired clone from before pipelines: collected
run gc3 rds-clone-gc -all-pipelines; expect_rc 0
jq -e --arg p "$P" --arg l "$LEGACY" '[.deleted[] | select(. != $p)] == [$l]' "$T/gc3.out" >/dev/null || fail "gc3 deleted: $(jget gc3 .deleted)"
alive "$B" || fail "billing's clone was deleted"
[ "$(changes_to "$B")" = 0 ] || fail "a changing call targeted billing's clone"

# ---- billing cleans up its own run: its clone, and only it
use billing
run bdel rds-clone-delete -run-id "refresh-billing/$RID" </dev/null; expect_rc 0; validate bdel
[ "$(jget bdel .deleted.id)" = "$B" ] || fail "billing -run-id deleted $(jget bdel .deleted.id)"
[ "$(jget bdel .deleted.alreadyGone)" = false ] || fail "billing -run-id: alreadyGone"
alive "$B" && fail "billing's clone is still there"

# ---- two runs of one pipeline started in the same second: minted run ids
use prod
sed -i 's/^  maxAge: 1s$//' "$T/prod.yaml"
"$DRR_BIN/rds-snapshot-latest" -config "$CFG" >"$T/m1.out" 2>"$T/m1.err" &
p1=$!
"$DRR_BIN/rds-snapshot-latest" -config "$CFG" >"$T/m2.out" 2>"$T/m2.err" &
p2=$!
wait "$p1" || fail "m1"
wait "$p2" || fail "m2"
m1=$(jget m1 .runId); m2=$(jget m2 .runId)
case "$m1" in [0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]T[0-9][0-9][0-9][0-9][0-9][0-9]Z-????????????????) ;;
    *) fail "minted run id $m1";; esac
[ "$m1" != "$m2" ] || fail "two runs minted the same run id $m1"
echo "minted: $m1 $m2" >&2
run mc1 rds-clone-create <"$T/m1.out"; expect_rc 0
run mc2 rds-clone-create <"$T/m2.out"; expect_rc 0
C1=$(jget mc1 .clone.id); C2=$(jget mc2 .clone.id)
[ "$C1" != "$C2" ] || fail "two runs share the clone $C1"
[ "$(jget mc2 .clone.adopted)" = false ] || fail "run 2 adopted run 1's clone"
# run 2's clean-up names run 1's clone with run 2's id: refused
run x1 rds-clone-delete -clone-id "$C1" -run-id "$m2" </dev/null; expect_rc 83
err_has x1 "dblab-rds-refresh:run-id"
run d1 rds-clone-delete <"$T/mc1.out"; expect_rc 0
alive "$C1" && fail "run 1's clone is still there"
alive "$C2" || fail "run 1's delete took run 2's clone"
run d2 rds-clone-delete -run-id "$m2" -grace 1s </dev/null; expect_rc 0
[ "$(jget d2 .deleted.id)" = "$C2" ] || fail "run 2 -run-id deleted $(jget d2 .deleted.id)"
alive "$C2" && fail "run 2's clone is still there"

# a run id the scheduler gives that no tag value can hold: one line, exit 78
use prod
RD_JOB_EXECID='a~b' run bad rds-snapshot-latest; expect_rc 78
err_has bad "RD_JOB_EXECID: run id has '~'"
[ ! -s "$T/bad.out" ] || fail "bad run id: wrote a document"

[ -z "$(managed_left)" ] || fail "left: $(managed_left)"
check_calls
echo ok
