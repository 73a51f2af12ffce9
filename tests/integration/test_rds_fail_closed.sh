#!/bin/bash
# Readers fail closed (issue 12): an HTTP 200 that is not the operation's answer --
# a proxy's sign-in page (text/html, or mislabelled text/xml), or an AWS error
# document sent with status 200 -- is an AWS error (exit 80) in every command.
# Never "empty": rds-snapshot-latest never says "no snapshot" (86), rds-clone-delete
# never says alreadyGone, rds-clone-gc never reports nothing found; and the clone
# still exists afterwards.
set -eu
# shellcheck source=tests/lib/rds_testlib.sh disable=SC2034  # RC is read by expect_rc
. "$(dirname "$0")/../lib/rds_testlib.sh"
rds_start rds

run snap rds-snapshot-latest; expect_rc 0
run c1 rds-clone-create -run-id failclosed <"$T/snap.out"; expect_rc 0
run w1 rds-clone-wait <"$T/c1.out"; expect_rc 0
clone=$(jget c1 .clone.id)
[ "$(status_of instances "$clone")" = available ] || fail "clone not available"

faults_of() {   # the fault list for one damage type, every call of every action
    case $1 in
        html) echo '{"type": "proxy-html", "count": 1000}' ;;
        html-as-xml) echo '{"type": "proxy-html", "contentType": "text/xml", "count": 1000}' ;;
        error200) echo '{"type": "error-200", "code": "AccessDenied", "count": 1000,
                        "message": "denied, but with HTTP 200"}' ;;
    esac
}

for kind in html html-as-xml error200; do
    f=$(faults_of $kind)
    clear_faults; fault "$f"
    run "s-$kind" rds-snapshot-latest; expect_rc 80
    case $kind in
        error200) err_has "s-$kind" "AccessDenied: denied, but with HTTP 200 (HTTP 200" ;;
        html) err_has "s-$kind" "not XML (Content-Type text/html)" ;;
        html-as-xml) err_has "s-$kind" "the answer is <html>, not <Describe" ;;
    esac
    run "c-$kind" rds-clone-create -run-id "fc-$kind" <"$T/snap.out"; expect_rc 80
    run "w-$kind" rds-clone-wait <"$T/c1.out"; expect_rc 80
    run "d-$kind" rds-clone-delete <"$T/c1.out"; expect_rc 80
    [ ! -s "$T/d-$kind.out" ] || fail "d-$kind: delete wrote a document: $(cat "$T/d-$kind.out")"
    run "r-$kind" rds-clone-delete -run-id failclosed </dev/null; expect_rc 80
    grep -q alreadyGone "$T/r-$kind.out" && fail "r-$kind: alreadyGone"
    run "g-$kind" rds-clone-gc; expect_rc 80
    clear_faults
    [ "$(status_of instances "$clone")" = available ] || fail "$kind: the clone was touched"
done

# The changing call itself answered by a proxy: not re-sent, exit 80, and the
# command does not claim the clone is gone.
fault '{"type": "proxy-html", "action": "DeleteDBInstance", "count": 1}'
run d-once rds-clone-delete <"$T/c1.out"; expect_rc 80
err_has d-once "DeleteDBInstance"
[ "$(status_of instances "$clone")" = available ] || fail "the proxy answered: no delete happened"
calls_json | jq -e '[.calls[] | select(.action == "DeleteDBInstance")] | length == 1' >/dev/null ||
    fail "DeleteDBInstance was re-sent after a damaged answer"

# A throttling code in a 200 error document is retried (botocore's checkers judge
# the code, whatever the status), then the call succeeds.
fault '{"type": "error-200", "code": "Throttling", "action": "DescribeDBSnapshots", "count": 2}'
run s-throttled rds-snapshot-latest; expect_rc 0

# Secrets Manager (awsJson1_1): the same for a JSON service.
sed -i 's|token: \${DBLAB_TOKEN}|token: secretsmanager:dblab/token|' "$CFG"
for f in '{"type": "proxy-html", "service": "secretsmanager", "count": 100}' \
         '{"type": "error-200", "service": "secretsmanager", "code": "AccessDeniedException", "count": 100}'; do
    clear_faults; fault "$f"
    run sm dblab-refresh <"$T/w1.out"; expect_rc 80
    err_has sm "GetSecretValue"
done
clear_faults

# A clone id from a document passes the whole name rule: a NUL (cJSON would cut
# the string there), upper case, a trailing hyphen -- 65, nothing deleted.
for id in 'dblab-refresh-\u0000production-db' "$clone"'\u0000-evil' 'dblab-refresh-UPPER' 'dblab-refresh-'; do
    printf '{"apiVersion": "dblab-rds-refresh/v1", "clone": {"id": "%s", "kind": "instance"}}\n' "$id" >"$T/bad-id.json"
    run bad-id rds-clone-delete <"$T/bad-id.json"; expect_rc 65
    [ "$(status_of instances "$clone")" = available ] || fail "clone id $id: the clone was touched"
done
err_has bad-id "clone.id"

run d-end rds-clone-delete <"$T/c1.out"; expect_rc 0
[ "$(jget d-end .deleted.alreadyGone)" = false ] || fail "final delete: alreadyGone"
check_calls
echo "ok: every reader failed closed"
