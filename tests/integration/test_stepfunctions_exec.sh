#!/bin/bash
# The Step Functions deployment, executed: deploy/sam/statemachine.asl.json run by a
# third-party ASL interpreter (aws-local-stepfunctions), every Task an invocation of
# the real lambda-bootstrap through the Lambda emulator, against the AWS and DBLab
# emulators. Success; dry run; a refresh failing (the clone deleted, the execution
# failed with the engine's alert); a step crashing mid-invocation; a wait past
# clone.waitTimeout; a busy engine; an Aurora source. The failures leave no clone.
set -eu
# shellcheck source=tests/lib/lambda_sfn.sh
. "$(dirname "$0")/../lib/lambda_sfn.sh"
sfn_start

echo "--- success"
sfn_exec ok '{"dryRun": false}'
[ "$(sfn_field ok "d['status']")" = SUCCEEDED ] || fail "ok: $(cat "$T/ok.json")"
[ "$(sfn_field ok "d['output']['refresh']['status']")" = finished ] || fail "ok: not refreshed"
[ "$(sfn_field ok "d['output']['runId']")" = ok ] || fail "ok: the run id is not the execution's name"
clone=$(sfn_field ok "d['output']['clone']['id']")
[ "$(sfn_field ok "d['output']['deleted']['id']")" = "$clone" ] || fail "ok: not deleted"
[ "$(sfn_field ok "'CheckClone' in d['states'] and 'CheckRefresh' in d['states']")" = True ] ||
    fail "ok: the wait loops did not run"
sfn_field ok "json.dumps(d['output'])" | /usr/bin/python3 "$RDS_TOP/tests/lib/validate_rundoc.py" ||
    fail "ok: the output is not a valid run document"
[ -z "$(managed_left)" ] || fail "ok: left: $(managed_left)"
[ "$(dblab_emu_get state | jq -r .source.host)" = "$(sfn_field ok "d['output']['endpoint']['host']")" ] ||
    fail "ok: the engine did not refresh from the clone"
check_calls

# A failed execution: FAILED with the step's error, the clone deleted.
expect_failed() { # NAME ERROR CAUSE_REGEX
    [ "$(sfn_field "$1" "d['status']")" = FAILED ] || fail "$1: $(cat "$T/$1.json")"
    [ "$(sfn_field "$1" "d['error']")" = "$2" ] || fail "$1: error $(sfn_field "$1" "d['error']")"
    sfn_field "$1" "d['cause']" | grep -E -q -- "$3" || fail "$1: cause $(sfn_field "$1" "d['cause']")"
}

echo "--- dry run: the read-only checks, then stop"
before=$(aws_emu_get calls | jq '.calls | length')
sfn_exec dry '{"dryRun": true}'
[ "$(sfn_field dry "d['status']")" = SUCCEEDED ] || fail "dry: $(cat "$T/dry.json")"
[ "$(sfn_field dry "d['states']")" = "['Snapshot', 'CheckEngine', 'DryRun?', 'DryRunCreate', 'DryRunDone']" ] ||
    fail "dry: states $(sfn_field dry "d['states']")"
[ "$(sfn_field dry "d['output']['dryRun'] and d['output']['clone']['dryRun']")" = True ] ||
    fail "dry: not a dry-run document"
aws_emu_get calls | jq -e --argjson n "$before" '[.calls[$n:][] | select(.action | test("^(Restore|Create|Delete|Modify|Add)"))] | length == 0' \
    >/dev/null || fail "dry: a changing AWS call was made"

echo "--- the refresh fails: the clone deleted, the execution failed with the alert's message"
msg='failed to dump the database: FATAL:  password authentication failed for user "dblab_reader"'
dblab_emu_fault "$(jq -n -c --arg m "$msg" '{type: "refresh-fail", message: $m}')" >/dev/null
sfn_exec refail '{"dryRun": false}'
expect_failed refail drr.refresh-failed "the DBLab refresh failed: failed to dump the database: FATAL:  password authentication failed"
[ "$(sfn_field refail "d['states'][-2:]")" = "['DeleteAfterFailure', 'Failed']" ] || fail "refail: no delete"
[ -z "$(managed_left)" ] || fail "refail: left: $(managed_left)"
dblab_emu_reset >/dev/null

echo "--- a step crashes mid-invocation: the environment is lost, the delete still runs"
curl -sS -X POST -d '{"type": "crash", "function": "dblab-rds-refresh-step", "match": "refresh-start", "afterMs": 20}' \
    "$LAMBDA_URL/_emulator/faults" >/dev/null
sfn_exec crash '{"dryRun": false}'
expect_failed crash Runtime.ExitError "Runtime exited with error: signal: kill"
[ "$(sfn_field crash "d['states'][-3:]")" = "['StartRefresh', 'DeleteAfterFailure', 'Failed']" ] ||
    fail "crash: states $(sfn_field crash "d['states'][-3:]")"
[ -z "$(managed_left)" ] || fail "crash: left: $(managed_left)"
[ "$(curl -sS "$LAMBDA_URL/_emulator/sandboxes" | jq '."dblab-rds-refresh-step".coldStarts')" -ge 2 ] ||
    fail "crash: the delete did not run in a new environment"

echo "--- the wait times out (clone.waitTimeout): the clone deleted"
lambda_start RDS_CLONE_WAIT_TIMEOUT=2s
fault '{"type": "restore-outcome", "status": "stuck", "resource": "instance"}'
sfn_exec stuck '{"dryRun": false}'
expect_failed stuck drr.timeout "not available after 2s \(clone.waitTimeout"
[ -z "$(managed_left)" ] || fail "stuck: left: $(managed_left)"
lambda_start

echo "--- the engine is busy: refused before any clone is made"
dblab_emu_set '{"status": "refreshing"}' >/dev/null
sfn_exec busy '{"dryRun": false}'
expect_failed busy drr.busy "the DBLab Engine is busy"
case " $(sfn_field busy "' '.join(d['states'])") " in *" CreateClone "*) fail "busy: a clone was created" ;; esac
[ -z "$(managed_left)" ] || fail "busy: left: $(managed_left)"
dblab_emu_reset >/dev/null

echo "--- Aurora: the writer instance and the cluster, both deleted"
lambda_start RDS_SOURCE_TYPE=aurora-cluster RDS_SOURCE_IDENTIFIER=production-aurora
sfn_exec aurora '{"dryRun": false}'
[ "$(sfn_field aurora "d['status']")" = SUCCEEDED ] || fail "aurora: $(cat "$T/aurora.json")"
[ "$(sfn_field aurora "d['output']['clone']['kind']")" = cluster ] || fail "aurora: not a cluster clone"
[ "$(sfn_field aurora "d['output']['refresh']['status']")" = finished ] || fail "aurora: not refreshed"
[ -z "$(managed_left)" ] || fail "aurora: left: $(managed_left)"
lambda_start

check_calls
# The step function's role (deploy/sam/template.yaml) allows every call these runs made.
aws_emu_get calls | /usr/bin/python3 "$RDS_TOP/tests/lib/iam_covers.py" StepFunctionRole ||
    fail "the step function's role lacks an action the steps use"
echo ok
