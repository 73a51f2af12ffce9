"""Step Functions StartExecution (awsJson1_0), the one call lambda-bootstrap's entry
mode makes. State machines come from the fixture's "stateMachines" (ARNs); an
execution is only recorded (nothing runs: tests/lib/sfn_execute.mjs executes the
definition). Errors and idempotency follow the API reference of StartExecution:
StateMachineDoesNotExist for an unknown ARN, InvalidArn for a malformed one,
InvalidName for a bad name, InvalidExecutionInput for input that is not JSON, and
for a name already used: the same execution when the input is the same, else
ExecutionAlreadyExists."""
import json
import re
import time
import uuid

from .errors import AwsError

ARN = re.compile(r"^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:([A-Za-z0-9_-]{1,80})$")
NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")


class StepFunctions:
    def __init__(self, region, account, state_machines=()):
        self.region = region
        self.account = account
        self.state_machines = set(state_machines)
        self.executions = {}   # execution ARN -> record

    def StartExecution(self, p):
        arn = p["stateMachineArn"]
        m = ARN.match(arn)
        if not m:
            raise AwsError("InvalidArn", f"Invalid Arn: 'Resource type not valid in this "
                           f"context: {arn}'", 400)
        if arn not in self.state_machines:
            raise AwsError("StateMachineDoesNotExist", f"State Machine Does Not Exist: '{arn}'",
                           400)
        name = p.get("name") or str(uuid.uuid4())
        if not NAME.match(name):
            raise AwsError("InvalidName", f"Invalid Name: '{name}'", 400)
        raw = p.get("input", "{}")
        try:
            json.loads(raw)
        except ValueError:
            raise AwsError("InvalidExecutionInput", "Invalid State Machine Execution Input: "
                           "'Unexpected character'", 400) from None
        exec_arn = "arn:aws:states:%s:%s:execution:%s:%s" % (self.region, self.account,
                                                            m.group(1), name)
        old = self.executions.get(exec_arn)
        if old is not None:
            if old["input"] != raw:
                raise AwsError("ExecutionAlreadyExists",
                               f"Execution Already Exists: '{exec_arn}'", 400)
            return {"executionArn": exec_arn, "startDate": old["startDate"]}
        self.executions[exec_arn] = {"input": raw, "startDate": round(time.time(), 3),
                                     "stateMachineArn": arn, "name": name}
        return {"executionArn": exec_arn, "startDate": self.executions[exec_arn]["startDate"]}
