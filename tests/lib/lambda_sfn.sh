# shellcheck shell=bash
# The AWS-native deployment under test: the AWS and DBLab emulators, the Lambda
# emulator serving the real lambda-bootstrap (the step function and the seed's
# dblab-rds-refresh entry, configured as the image is: deploy/lambda/config.yaml
# filled from the function's environment, the DBLab token a Secrets Manager
# reference), and deploy/sam/statemachine.asl.json run by aws-local-stepfunctions.
#
#   sfn_start [run-emulators args]     everything up; $T is the work directory
#   sfn_exec NAME INPUT_JSON           one execution; the result in $T/NAME.json
#   sfn_field NAME PYEXPR              a field of that result (d = the result)
#   lambda_start [KEY=VALUE...]        restarts the Lambda emulator, extra function env
set -u
# shellcheck source=tests/lib/rds_testlib.sh
. "$(dirname "${BASH_SOURCE[0]}")/rds_testlib.sh"

SFN_DEF="$RDS_TOP/deploy/sam/statemachine.asl.json"
SFN_TOKEN=emulator-dblab-token-from-secretsmanager   # the seeded secret dblab/token
STEP_ARN="arn:aws:lambda:us-east-1:123456789012:function:dblab-rds-refresh-step"
SM_ARN="arn:aws:states:us-east-1:123456789012:stateMachine:dblab-rds-refresh"
LAMBDA_EXTRA_ENV="{}"
LAMBDA_PID=""

lambda_env() {
    local kv
    for kv in "$@"; do
        LAMBDA_EXTRA_ENV=$(jq -c --arg k "${kv%%=*}" --arg v "${kv#*=}" '. + {($k): $v}' \
            <<<"$LAMBDA_EXTRA_ENV")
    done
}

sfn_cleanup() {
    if [ -n "$LAMBDA_PID" ]; then
        kill -TERM "$LAMBDA_PID" 2>/dev/null
        wait "$LAMBDA_PID" 2>/dev/null
    fi
    rds_cleanup
}

sfn_start() {
    if [ ! -d "$RDS_TOP/tests/node/node_modules/aws-local-stepfunctions" ]; then
        echo "skip: tests/node has no node_modules (make deps, or cd tests/node && npm ci)"
        exit 77
    fi
    rds_start rds --token "$SFN_TOKEN" "$@"
    trap sfn_cleanup EXIT
    lambda_start
}

# (Re)starts the Lambda emulator with the functions' environment, plus KEY=VALUE...
# shellcheck disable=SC2120  # the tests pass KEY=VALUE arguments
lambda_start() {
    if [ -n "$LAMBDA_PID" ]; then
        kill -TERM "$LAMBDA_PID" 2>/dev/null
        wait "$LAMBDA_PID" 2>/dev/null
        LAMBDA_PID=""
    fi
    LAMBDA_EXTRA_ENV="{}"
    lambda_env "$@"
    local env
    env=$(jq -n -c --argjson extra "$LAMBDA_EXTRA_ENV" --arg cfg "$RDS_TOP/deploy/lambda/config.yaml" \
        --arg sm "$SM_ARN" '{
        DBLAB_RDS_REFRESH_CONFIG: $cfg,
        RDS_SOURCE_TYPE: "rds", RDS_SOURCE_IDENTIFIER: "production-db",
        RDS_CLONE_INSTANCE_CLASS: "db.t3.medium", RDS_CLONE_SUBNET_GROUP: "dblab-clones",
        RDS_CLONE_SECURITY_GROUPS: "sg-0123456789abcdef0", RDS_CLONE_ENABLE_IAM_AUTH: "false",
        RDS_DB_NAME: "app", RDS_DB_USERNAME: "dblab_reader",
        DBLAB_API_ENDPOINT: env.DBLAB_EMULATOR_URL,
        DBLAB_TOKEN: "secretsmanager:dblab/token",
        DRR_STATE_MACHINE_ARN: $sm
    } + $extra')
    jq -n --argjson env "$env" --arg boot "$DRR_BIN/lambda-bootstrap" '{
        "dblab-rds-refresh-step": {command: [$boot, "step"], timeout: 60, memory: 256, env: $env},
        "dblab-rds-refresh": {command: [$boot, "entry"], timeout: 60, memory: 256, env: $env}
    }' >"$T/functions.json"
    rm -f "$T/lambda.port"
    /usr/bin/python3 "$RDS_TOP/tests/emulators/lambda_emulator.py" --functions "$T/functions.json" \
        --port 0 --port-file "$T/lambda.port" 2>>"$T/lambda.log" &
    LAMBDA_PID=$!
    local i=0
    while [ ! -s "$T/lambda.port" ]; do
        i=$((i + 1))
        [ $i -gt 200 ] && fail "the Lambda emulator did not start"
        sleep 0.05
    done
    LAMBDA_URL="http://127.0.0.1:$(cat "$T/lambda.port")"
    export LAMBDA_URL
}

sfn_exec() { # NAME INPUT_JSON
    AWS_ENDPOINT_URL_LAMBDA=$LAMBDA_URL AWS_REGION=us-east-1 \
        node "$RDS_TOP/tests/lib/sfn_execute.mjs" "$SFN_DEF" "$2" "$1" \
        "{\"StepFunctionArn\": \"$STEP_ARN\"}" >"$T/$1.json" 2>"$T/$1.node.err" ||
        fail "$1: the interpreter failed: $(tail -n 5 "$T/$1.node.err")"
    if grep -q -F -e "$SFN_TOKEN" -e "$AWS_SECRET_ACCESS_KEY" "$T/$1.json" "$T/lambda.log"; then
        fail "$1: a secret appears in the execution's output or the function's log"
    fi
}

sfn_field() { # NAME PYEXPR
    /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
        "$T/$1.json" "$2"
}

lambda_calls() { curl -sS "$LAMBDA_URL/_emulator/invocations"; }
