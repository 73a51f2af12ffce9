#!/bin/bash
# rds-clone-gc: deletes expired managed clones of ITS pipeline only (DeleteAfter
# passed, or older than clone.maxAge / -max-age), over every page of instances and
# clusters; never an -exclude NAME, never AutoDelete=false, never an unmanaged or
# prefix-less resource, never the source; other pipelines' clones (and those without
# a pipeline tag) only with -all-pipelines and only by their own DeleteAfter, never by
# this pipeline's age; -dry-run lists; one failure does not stop the others; the
# report says why each managed clone was kept.
set -eu
# shellcheck source=tests/lib/rds_testlib.sh disable=SC2034  # RC is read by expect_rc
. "$(dirname "$0")/../lib/rds_testlib.sh"
rds_start rds

rds_seed '
import datetime
now = datetime.datetime.now(datetime.timezone.utc)
def at(hours):
    return (now + datetime.timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")
def managed(delete_after_h, auto="true", pipeline="production-db", source="production-db"):
    t = {"ManagedBy": "dblab-rds-refresh", "AutoDelete": auto, "DeleteAfter": at(delete_after_h),
         "dblab-rds-refresh:source": source}
    if pipeline:
        t["dblab-rds-refresh:pipeline"] = pipeline
    return t
def clone(name, age_h, tags, **kw):
    d = {"id": name, "engine": "postgres", "engineVersion": "16.4", "class": "db.t3.medium",
         "subnetGroup": "dblab-clones", "ageHours": age_h, "tags": tags}
    d.update(kw)
    return d
f["instances"] += [
    clone("dblab-refresh-expired", 72, managed(-1)),
    clone("dblab-refresh-old", 72, managed(+24)),                 # older than maxAge 48h
    clone("dblab-refresh-protected", 72, managed(-1), deletionProtection=True),
    clone("dblab-refresh-fresh", 1, managed(+47)),
    clone("dblab-refresh-keep", 72, managed(-1, auto="false")),
    clone("dblab-refresh-current", 72, managed(-1)),              # excluded: this run
    clone("prod-reporting", 72, managed(-1)),                     # tags say ours, name does not
    clone("dblab-refresh-othertool", 72, {"ManagedBy": "terraform", "AutoDelete": "true",
                                          "DeleteAfter": at(-1)}),
    # other pipelines in the same account
    clone("dblab-refresh-billing-live", 72, managed(+47, pipeline="billing-db", source="billing-db")),
    clone("dblab-refresh-billing-expired", 72, managed(-1, pipeline="billing-db", source="billing-db")),
    clone("dblab-refresh-samename", 72, managed(-1, source="billing-db")),  # our name, not our source
    clone("dblab-refresh-before-pipelines", 72, managed(-1, pipeline=None)),
    clone("dblab-refresh-before-live", 72, managed(+47, pipeline=None)),
] + [clone("app-%03d" % i, 100, {"Team": "app"}) for i in range(110)]
f["clusters"].append({"id": "dblab-refresh-aurora-old", "engine": "aurora-postgresql",
    "engineVersion": "16.4", "subnetGroup": "dblab-clones", "ageHours": 80,
    "tags": managed(-2), "instances": [{"id": "dblab-refresh-aurora-old-instance",
    "class": "db.t3.medium", "tags": managed(-2)}]})
'
expect_collect="dblab-refresh-aurora-old dblab-refresh-expired dblab-refresh-old dblab-refresh-protected"

# dry run: lists, changes nothing
run dry rds-clone-gc -dry-run -exclude dblab-refresh-current; expect_rc 0
[ "$(wc -l <"$T/dry.out")" -eq 1 ] || fail "dry run: not one line"
[ "$(jget dry '[.found[].id] | sort | join(" ")')" = "$expect_collect" ] ||
    fail "dry run found: $(jget dry '[.found[].id] | sort | join(" ")')"
[ "$(jget dry '.deleted | length')" = 0 ] || fail "dry run deleted"
[ "$(jget dry .dryRun)" = true ] || fail "dry run flag"
[ "$(jget dry '.excluded | join(" ")')" = dblab-refresh-current ] || fail "dry run excluded"
[ "$(jget dry .pipeline)" = production-db ] || fail "dry run: pipeline"
[ "$(jget dry .allPipelines)" = false ] || fail "dry run: allPipelines"
# every managed clone that stays is reported with its reason
jget dry '.kept[] | select(.id=="dblab-refresh-billing-live") | .reason' | grep -q "another pipeline's clone" ||
    fail "kept: $(jget dry -c .kept)"
jget dry '.kept[] | select(.id=="dblab-refresh-before-pipelines") | .reason' | grep -q "no pipeline tag" ||
    fail "kept: $(jget dry -c .kept)"
jget dry '.kept[] | select(.id=="dblab-refresh-samename") | .reason' | grep -q "another source" ||
    fail "kept: $(jget dry -c .kept)"
jget dry '.kept[] | select(.id=="dblab-refresh-fresh") | .reason' | grep -q "not expired" ||
    fail "kept: $(jget dry -c .kept)"
n=$(calls_json | jq '[.calls[] | select(.action | test("^(Delete|Modify)"))] | length')
[ "$n" = 0 ] || fail "dry run made $n changing call(s)"
# every page of instances was read
n=$(calls_json | jq '[.calls[] | select(.action=="DescribeDBInstances")] | length')
[ "$n" -ge 2 ] || fail "only $n DescribeDBInstances page(s)"

# one failure does not stop the others
fault '{"type": "error", "action": "DeleteDBInstance", "code": "AccessDenied", "httpStatus": 403,
        "message": "not allowed", "count": 1}'
run gc1 rds-clone-gc -exclude dblab-refresh-current; expect_rc 80
[ "$(jget gc1 '.failed | length')" = 1 ] || fail "failed: $(jget gc1 .failed)"
jget gc1 '.failed[0].error' | grep -q AccessDenied || fail "failed entry has no AWS code"
[ "$(jget gc1 '.deleted | length')" = 3 ] || fail "deleted: $(jget gc1 .deleted)"

# a second pass collects the one that failed
run gc2 rds-clone-gc -exclude dblab-refresh-current; expect_rc 0
[ "$(jget gc2 '.deleted | length')" -ge 1 ] || fail "second pass deleted nothing"
for n in $expect_collect dblab-refresh-aurora-old-instance; do
    st=$(status_of instances "$n"); [ "$st" = absent ] && st=$(status_of clusters "$n")
    case "$st" in deleting|absent) ;; *) fail "$n is $st";; esac
done
for n in dblab-refresh-fresh dblab-refresh-keep dblab-refresh-current prod-reporting dblab-refresh-othertool; do
    [ "$(status_of instances "$n")" = available ] || fail "$n was touched: $(status_of instances "$n")"
done
# deletion protection was turned off before the delete, and only there
calls_json | jq -e '[.calls[] | select(.action=="ModifyDBInstance") | .params.DBInstanceIdentifier] == ["dblab-refresh-protected"]' >/dev/null ||
    fail "ModifyDBInstance calls: $(calls_json | jq -c '[.calls[] | select(.action=="ModifyDBInstance") | .params]')"
# the Aurora member went before its cluster
calls_json | jq -e '[.calls[] | select(.errorCode==null) | select((.action=="DeleteDBInstance" and .params.DBInstanceIdentifier=="dblab-refresh-aurora-old-instance") or .action=="DeleteDBCluster") | .action] == ["DeleteDBInstance", "DeleteDBCluster"]' >/dev/null ||
    fail "Aurora delete order"

# -max-age: the fresh clone is collected only with a shorter age, and not the excluded one
run gc3 rds-clone-gc -max-age 30m -exclude dblab-refresh-current -exclude dblab-refresh-fresh; expect_rc 0
[ "$(jget gc3 '.found | length')" = 0 ] || fail "gc3 found: $(jget gc3 .found)"
run gc4 rds-clone-gc -max-age 30m -exclude dblab-refresh-current; expect_rc 0
[ "$(jget gc4 '[.deleted[]] | join(" ")')" = dblab-refresh-fresh ] || fail "gc4 deleted: $(jget gc4 .deleted)"
[ "$(status_of instances dblab-refresh-current)" = available ] || fail "excluded clone touched"

# throttling and 5xx during the scan and the deletes
fault '[{"type": "throttle", "action": "DescribeDBInstances", "count": 2},
        {"type": "http503", "action": "DescribeDBClusters", "count": 1}]'
run gc5 rds-clone-gc; expect_rc 0
[ "$(jget gc5 '[.deleted[]] | join(" ")')" = dblab-refresh-current ] || fail "gc5: $(jget gc5 .deleted)"

# A clone AWS already shows as deleting (gc5's delete takes 240 emulated seconds):
# the next gc neither asks again nor reports it as deleted by itself. The clock is
# held still so that the clone is certainly still deleting.
aws_emu_post time-scale '{"timeScale": 0.001}' >/dev/null
[ "$(status_of instances dblab-refresh-current)" = deleting ] || fail "current not deleting"
run gc5b rds-clone-gc; expect_rc 0
[ "$(jget gc5b '[.deleted[]] | length')" = 0 ] || fail "gc5b deleted: $(jget gc5b .deleted)"
[ "$(jget gc5b '.deleting | join(" ")')" = dblab-refresh-current ] || fail "gc5b deleting: $(jget gc5b .deleting)"
aws_emu_post time-scale "{\"timeScale\": $RDS_TIME_SCALE}" >/dev/null
aws_emu_post advance '{"seconds": 300}' >/dev/null

# Whatever this pipeline's age (1 s), another pipeline's clones stay.
others="dblab-refresh-billing-live dblab-refresh-billing-expired dblab-refresh-samename dblab-refresh-before-pipelines dblab-refresh-before-live"
sed -i 's/^  tags:/  maxAge: 1s\n  tags:/' "$CFG"
run gc6 rds-clone-gc; expect_rc 0
[ "$(jget gc6 '[.found[] | select(.pipeline != "production-db")] | length')" = 0 ] || fail "gc6 found: $(jget gc6 .found)"
run gc7 rds-clone-gc -max-age 1s; expect_rc 0
[ "$(jget gc7 '[.found[] | select(.pipeline != "production-db")] | length')" = 0 ] || fail "gc7 found: $(jget gc7 .found)"
[ "$(jget gc7 '[.kept[] | .id] | sort | join(" ")')" = "dblab-refresh-before-live dblab-refresh-before-pipelines dblab-refresh-billing-expired dblab-refresh-billing-live dblab-refresh-keep dblab-refresh-samename" ] ||
    fail "gc7 kept: $(jget gc7 -c '[.kept[] | .id]')"
for n in $others; do
    [ "$(status_of instances "$n")" = available ] || fail "$n was touched: $(status_of instances "$n")"
done
# -all-pipelines: each by its OWN DeleteAfter, never by our 1 s
run gc8 rds-clone-gc -all-pipelines; expect_rc 0
[ "$(jget gc8 '[.deleted[]] | sort | join(" ")')" = "dblab-refresh-before-pipelines dblab-refresh-billing-expired dblab-refresh-samename" ] ||
    fail "gc8 deleted: $(jget gc8 .deleted)"
[ "$(jget gc8 .allPipelines)" = true ] || fail "gc8: allPipelines"
jget gc8 '.found[] | select(.id=="dblab-refresh-billing-expired") | .reason' | grep -q "own DeleteAfter has passed" ||
    fail "gc8 found: $(jget gc8 -c .found)"
jget gc8 '.kept[] | select(.id=="dblab-refresh-billing-live") | .reason' | grep -q "own DeleteAfter is ahead" ||
    fail "gc8 kept: $(jget gc8 -c .kept)"
for n in dblab-refresh-billing-live dblab-refresh-before-live; do
    [ "$(status_of instances "$n")" = available ] || fail "$n was touched: $(status_of instances "$n")"
done

check_calls
echo ok
