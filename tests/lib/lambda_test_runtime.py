#!/usr/bin/python3
"""A minimal custom runtime (stdlib) for the Lambda emulator's tests: each event says
what to do. {"do": "echo"} answers the event; "error" posts an invocation error;
"exit" exits mid-invocation with "code"; "sleep" sleeps "seconds" then answers;
"big" answers "bytes" bytes. With $TEST_RUNTIME_INIT_ERROR set it reports an init error
instead of asking for the first event."""
import json
import os
import sys
import time
import urllib.request

API = "http://%s/2018-06-01/runtime" % os.environ["AWS_LAMBDA_RUNTIME_API"]


def post(path, body, headers=None):
    req = urllib.request.Request(API + path, data=body, method="POST", headers=headers or {})
    with urllib.request.urlopen(req) as r:
        return r.status


if os.environ.get("TEST_RUNTIME_INIT_ERROR"):
    post("/init/error", json.dumps({"errorType": "Runtime.TestInit",
                                    "errorMessage": "cannot start"}).encode(),
         {"Lambda-Runtime-Function-Error-Type": "Runtime.TestInit"})
    sys.exit(1)

while True:
    with urllib.request.urlopen(API + "/invocation/next") as r:
        rid = r.headers["Lambda-Runtime-Aws-Request-Id"]
        deadline = int(r.headers["Lambda-Runtime-Deadline-Ms"])
        event = json.loads(r.read())
    do = event.get("do", "echo")
    if do == "exit":
        sys.exit(event.get("code", 1))
    if do == "sleep":
        time.sleep(event["seconds"])
    if do == "error":
        post("/invocation/%s/error" % rid,
             json.dumps({"errorType": "Test.Failure", "errorMessage": "as asked"}).encode(),
             {"Lambda-Runtime-Function-Error-Type": "Test.Failure"})
        continue
    if do == "big":
        body = b'"' + b"x" * event["bytes"] + b'"'
    else:
        body = json.dumps({"event": event, "requestId": rid, "deadlineMs": deadline,
                           "pid": os.getpid(), "fn": os.environ["AWS_LAMBDA_FUNCTION_NAME"]}
                          ).encode()
    try:
        post("/invocation/%s/response" % rid, body)
    except urllib.error.HTTPError as e:
        print("response refused: %d" % e.code, file=sys.stderr)
