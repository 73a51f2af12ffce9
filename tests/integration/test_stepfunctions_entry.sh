#!/bin/bash
# The seed's manual invocation, with the AWS CLI as the client against the Lambda
# emulator serving the real lambda-bootstrap in entry mode:
#   aws lambda invoke --function-name dblab-rds-refresh --payload '{"dryRun": true}'
# answers the dry run inline (the read-only checks; nothing changed);
#   --payload '{"dryRun": false}'
# starts an execution of the state machine (StartExecution, awsJson1_0, signed) and
# answers its ARN. The AWS emulator's StartExecution is checked with the CLI too.
set -eu
# shellcheck source=tests/lib/lambda_sfn.sh
. "$(dirname "$0")/../lib/lambda_sfn.sh"
sfn_start

# AWS CLI v2 needs --cli-binary-format raw-in-base64-out for a JSON --payload (as the
# seed's README writes it); v1 (Debian's) sends the string as it is and lacks the option.
fmt=()
case "$(aws --version 2>&1)" in aws-cli/1.*) ;; *) fmt=(--cli-binary-format raw-in-base64-out) ;; esac
invoke() { # NAME PAYLOAD
    aws --endpoint-url "$LAMBDA_URL" lambda invoke --function-name dblab-rds-refresh \
        "${fmt[@]}" --payload "$2" "$T/$1.response.json" >"$T/$1.meta.json" 2>"$T/$1.err" ||
        fail "$1: aws lambda invoke failed: $(cat "$T/$1.err")"
}

echo "--- dry run, answered inline"
before=$(aws_emu_get calls | jq '.calls | length')
invoke dry '{"dryRun": true}'
jq -e '.StatusCode == 200 and (has("FunctionError") | not)' "$T/dry.meta.json" >/dev/null ||
    fail "dry: $(cat "$T/dry.meta.json") $(cat "$T/dry.response.json")"
/usr/bin/python3 "$RDS_TOP/tests/lib/validate_rundoc.py" <"$T/dry.response.json" ||
    fail "dry: the answer is not a run document"
jq -e '.dryRun == true and .snapshot.id != null and .clone.dryRun == true' "$T/dry.response.json" \
    >/dev/null || fail "dry: $(cat "$T/dry.response.json")"
aws_emu_get calls | jq -e --argjson n "$before" \
    '[.calls[$n:][] | select(.action | test("^(Restore|Create|Delete|Modify|Add|StartExecution)"))] | length == 0' \
    >/dev/null || fail "dry: a changing AWS call was made"
grep -q -F "$SFN_TOKEN" "$T/dry.response.json" "$T/lambda.log" && fail "dry: the token leaked"

echo "--- a real run starts the state machine"
invoke real '{"dryRun": false}'
jq -e '.StatusCode == 200 and (has("FunctionError") | not)' "$T/real.meta.json" >/dev/null ||
    fail "real: $(cat "$T/real.meta.json") $(cat "$T/real.response.json")"
arn=$(jq -r .executionArn "$T/real.response.json")
case "$arn" in
    arn:aws:states:us-east-1:123456789012:execution:dblab-rds-refresh:invoke-*) ;;
    *) fail "real: executionArn $arn" ;;
esac
aws_emu_get state | jq -e --arg a "$arn" '.executions[$a].input == "{\"dryRun\":false}"' >/dev/null ||
    fail "real: no such execution in the emulator"
[ -z "$(managed_left)" ] || fail "real: the entry made a clone itself"

aws_emu_get calls | /usr/bin/python3 "$RDS_TOP/tests/lib/iam_covers.py" EntryFunctionRole "$before" ||
    fail "the entry function's role lacks an action it uses"

echo "--- a payload that is not the seed's: the function's error"
invoke bad '{"dryRun": "yes"}'
jq -e '.FunctionError == "Unhandled"' "$T/bad.meta.json" >/dev/null || fail "bad: no function error"
jq -e '.errorType == "drr.input" and (.errorMessage | test("dryRun"))' "$T/bad.response.json" \
    >/dev/null || fail "bad: $(cat "$T/bad.response.json")"

echo "--- the emulator's StartExecution, with the AWS CLI as the client"
aws --endpoint-url "$AWS_EMULATOR_URL" stepfunctions start-execution --state-machine-arn "$SM_ARN" \
    --name cli-1 --input '{"dryRun": true}' >"$T/cli.json" || fail "cli: start-execution failed"
jq -e '.executionArn | endswith(":execution:dblab-rds-refresh:cli-1")' "$T/cli.json" >/dev/null ||
    fail "cli: $(cat "$T/cli.json")"
if aws --endpoint-url "$AWS_EMULATOR_URL" stepfunctions start-execution \
        --state-machine-arn "${SM_ARN}-missing" --input '{}' 2>"$T/cli2.err"; then
    fail "cli: an unknown state machine was started"
fi
grep -q StateMachineDoesNotExist "$T/cli2.err" || fail "cli: $(cat "$T/cli2.err")"
echo ok
