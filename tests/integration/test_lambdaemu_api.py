#!/usr/bin/python3
"""The Lambda emulator behaves like Lambda's Runtime API and Invoke API.

The Runtime API cases are the router tests of aws-lambda-runtime-interface-emulator
(internal/lambda/rapi/router_test.go: Test404PageNotFound, Test405MethodNotAllowed,
TestInitErrorAccepted, TestInitErrorForbidden, TestInvokeResponseAccepted,
TestInvokeErrorResponseAccepted, TestInvokeNextTwice, TestInvokeResponseInvalidRequestID,
TestInvokeErrorResponseInvalidRequestID, TestInvokeResponseTwice,
TestInvokeErrorResponseTwice, TestInvokeResponseAfterErrorResponse,
TestInvokeErrorResponseAfterResponse, TestMoreThanOneInvoke; handler/
invocationresponse_test.go: TestResponseTooLarge) and the headers of AWS's reference
("Using the Lambda runtime API for custom runtimes": Next invocation). The Invoke side
follows the Lambda Invoke API (X-Amz-Function-Error, ResourceNotFoundException) and is
checked with the AWS CLI as a client too.
"""
import json
import os
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import lambdaemu_testlib as lib  # noqa: E402

RUNTIME = [sys.executable, os.path.join(lib.TOP, "tests", "lib", "lambda_test_runtime.py")]
API = "/2018-06-01/runtime"


class ManualRuntime(unittest.TestCase):
    """The test is the runtime: the process started is an idle placeholder."""

    def setUp(self):
        self.emu = lib.start({"manual": {"command": ["sleep", "600"], "timeout": 20}})
        self.results = []

    def tearDown(self):
        self.emu.stop()

    def invoke_bg(self, event):
        t = threading.Thread(target=lambda: self.results.append(self.emu.invoke("manual", event)))
        t.daemon = True
        t.start()
        # the invocation is queued once the placeholder is started
        for _ in range(100):
            if self.emu.ctl("GET", "sandboxes")["manual"]["pid"]:
                break
            time.sleep(0.02)
        return t

    def rt(self, method, path, body=b"{}"):
        return lib.request(self.emu.runtime("manual"), method, API + path,
                           body if method == "POST" else None)

    def test_404_and_405(self):
        status, _, body = self.rt("POST", "/unsupported", b"")
        self.assertEqual(status, 404)
        self.assertEqual(body, b"404 page not found\n")
        status, _, _ = self.rt("DELETE", "/invocation/ABC/error")
        self.assertEqual(status, 405)

    def test_init_error_accepted_before_next(self):
        t = self.invoke_bg({"a": 1})
        status, _, body = lib.request(self.emu.runtime("manual"), "POST", API + "/init/error",
                                      b'{"errorType":"Runtime.Boom","errorMessage":"no"}',
                                      {"Lambda-Runtime-Function-Error-Type": "Runtime.Boom"})
        self.assertEqual(status, 202)
        self.assertEqual(json.loads(body), {"status": "OK"})
        t.join(10)
        status, hdr, body = self.results[0]
        self.assertEqual(status, 200)
        self.assertEqual(hdr.get("x-amz-function-error"), "Unhandled")
        self.assertEqual(json.loads(body)["errorType"], "Runtime.Boom")

    def test_init_error_forbidden_after_next(self):
        self.invoke_bg({"a": 1})
        self.assertEqual(self.rt("GET", "/invocation/next")[0], 200)
        status, _, body = self.rt("POST", "/init/error")
        self.assertEqual(status, 403)
        self.assertEqual(json.loads(body)["errorType"], "InvalidStateTransition")

    def test_next_headers_and_response(self):
        t = self.invoke_bg({"hello": "world"})
        before = time.time()
        status, hdr, body = self.rt("GET", "/invocation/next")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body), {"hello": "world"})
        rid = hdr["lambda-runtime-aws-request-id"]
        self.assertRegex(rid, r"^[0-9a-f-]{36}$")
        deadline = int(hdr["lambda-runtime-deadline-ms"]) / 1000.0
        self.assertAlmostEqual(deadline, before + 20, delta=2)
        self.assertEqual(hdr["lambda-runtime-invoked-function-arn"],
                         "arn:aws:lambda:us-east-1:123456789012:function:manual")
        self.assertIn("Root=1-", hdr["lambda-runtime-trace-id"])
        status, _, body = self.rt("POST", "/invocation/%s/response" % rid, b'{"ok":1}')
        self.assertEqual(status, 202)
        self.assertEqual(json.loads(body), {"status": "OK"})
        t.join(10)
        status, hdr, body = self.results[0]
        self.assertEqual((status, body), (200, b'{"ok":1}'))
        self.assertNotIn("x-amz-function-error", hdr)

    def test_error_response_accepted(self):
        t = self.invoke_bg({})
        rid = self.rt("GET", "/invocation/next")[1]["lambda-runtime-aws-request-id"]
        status, _, _ = lib.request(self.emu.runtime("manual"), "POST",
                                   API + "/invocation/%s/error" % rid,
                                   b'{"errorType":"X.Y","errorMessage":"bad"}',
                                   {"Lambda-Runtime-Function-Error-Type": "X.Y"})
        self.assertEqual(status, 202)
        t.join(10)
        status, hdr, body = self.results[0]
        self.assertEqual(hdr.get("x-amz-function-error"), "Unhandled")
        self.assertEqual(json.loads(body), {"errorType": "X.Y", "errorMessage": "bad"})

    def test_next_twice_gives_the_same_invocation(self):
        self.invoke_bg({})
        a = self.rt("GET", "/invocation/next")
        b = self.rt("GET", "/invocation/next")
        self.assertEqual((a[0], b[0]), (200, 200))
        self.assertEqual(a[1]["lambda-runtime-aws-request-id"],
                         b[1]["lambda-runtime-aws-request-id"])

    def test_invalid_request_id(self):
        self.invoke_bg({})
        self.rt("GET", "/invocation/next")
        for what in ("response", "error"):
            status, _, body = self.rt("POST", "/invocation/XYZ/" + what)
            self.assertEqual(status, 400)
            self.assertEqual(json.loads(body)["errorType"], "InvalidRequestID")

    def test_second_answer_forbidden(self):
        for first, second in (("response", "response"), ("error", "error"),
                              ("error", "response"), ("response", "error")):
            t = self.invoke_bg({})
            rid = self.rt("GET", "/invocation/next")[1]["lambda-runtime-aws-request-id"]
            self.assertEqual(self.rt("POST", "/invocation/%s/%s" % (rid, first))[0], 202)
            t.join(10)
            status, _, body = self.rt("POST", "/invocation/%s/%s" % (rid, second))
            # the invocation is over: its id is no longer the current one (RIE:
            # AwsRequestIDValidator answers 400 before the state machine's 403)
            self.assertIn(status, (400, 403), (first, second))

    def test_more_than_one_invoke(self):
        for i in range(3):
            t = self.invoke_bg({"i": i})
            status, hdr, body = self.rt("GET", "/invocation/next")
            self.assertEqual(json.loads(body), {"i": i})
            rid = hdr["lambda-runtime-aws-request-id"]
            self.assertEqual(self.rt("POST", "/invocation/%s/response" % rid)[0], 202)
            t.join(10)
        self.assertEqual(self.emu.ctl("GET", "sandboxes")["manual"]["coldStarts"], 1)

    def test_response_too_large(self):
        t = self.invoke_bg({})
        rid = self.rt("GET", "/invocation/next")[1]["lambda-runtime-aws-request-id"]
        status, _, body = self.rt("POST", "/invocation/%s/response" % rid,
                                  b"x" * (6 * 1024 * 1024 + 101))
        self.assertEqual(status, 413)
        self.assertEqual(json.loads(body)["errorType"], "RequestEntityTooLarge")
        t.join(10)
        self.assertEqual(self.results[0][1].get("x-amz-function-error"), "Unhandled")


class RealRuntime(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.emu = lib.start({
            "fn": {"command": RUNTIME, "timeout": 2},
            "initfail": {"command": RUNTIME, "env": {"TEST_RUNTIME_INIT_ERROR": "1"}},
        })

    @classmethod
    def tearDownClass(cls):
        cls.emu.stop()

    def test_warm_environment_is_kept(self):
        a = json.loads(self.emu.invoke("fn", {"do": "echo"})[2])
        b = json.loads(self.emu.invoke("arn:aws:lambda:us-east-1:123456789012:function:fn",
                                       {"do": "echo", "n": 2})[2])
        self.assertEqual(a["pid"], b["pid"])
        self.assertEqual(b["event"], {"do": "echo", "n": 2})
        self.assertEqual(b["fn"], "fn")

    def test_function_error(self):
        status, hdr, body = self.emu.invoke("fn", {"do": "error"})
        self.assertEqual(status, 200)
        self.assertEqual(hdr["x-amz-function-error"], "Unhandled")
        self.assertEqual(json.loads(body)["errorType"], "Test.Failure")

    def test_exit_mid_invocation_then_cold_start(self):
        pid = json.loads(self.emu.invoke("fn", {"do": "echo"})[2])["pid"]
        status, hdr, body = self.emu.invoke("fn", {"do": "exit", "code": 3})
        self.assertEqual(hdr["x-amz-function-error"], "Unhandled")
        err = json.loads(body)
        self.assertEqual(err["errorType"], "Runtime.ExitError")
        self.assertIn("exit status 3", err["errorMessage"])
        again = json.loads(self.emu.invoke("fn", {"do": "echo"})[2])
        self.assertNotEqual(again["pid"], pid)

    def test_timeout_discards_the_environment(self):
        pid = json.loads(self.emu.invoke("fn", {"do": "echo"})[2])["pid"]
        t0 = time.time()
        status, hdr, body = self.emu.invoke("fn", {"do": "sleep", "seconds": 30})
        self.assertLess(time.time() - t0, 10)
        err = json.loads(body)
        self.assertEqual(err["errorType"], "Sandbox.Timedout")
        self.assertIn("Task timed out after 2.00 seconds", err["errorMessage"])
        self.assertNotEqual(json.loads(self.emu.invoke("fn", {"do": "echo"})[2])["pid"], pid)

    def test_crash_fault(self):
        self.emu.ctl("POST", "faults", {"type": "crash", "function": "fn", "match": "slowly",
                                        "afterMs": 100})
        status, hdr, body = self.emu.invoke("fn", {"do": "sleep", "seconds": 1.5, "x": "slowly"})
        err = json.loads(body)
        self.assertEqual(err["errorType"], "Runtime.ExitError")
        self.assertIn("signal: kill", err["errorMessage"])

    def test_init_error(self):
        status, hdr, body = self.emu.invoke("initfail", {})
        self.assertEqual(hdr["x-amz-function-error"], "Unhandled")
        self.assertEqual(json.loads(body)["errorType"], "Runtime.TestInit")

    def test_unknown_function(self):
        status, hdr, body = self.emu.invoke("nope", {})
        self.assertEqual(status, 404)
        self.assertEqual(hdr["x-amzn-errortype"], "ResourceNotFoundException")

    def test_awscli_invoke(self):
        """The seed's `aws lambda invoke` against the emulator, the CLI as the client.
        --cli-binary-format raw-in-base64-out is AWS CLI v2's; v1 (Debian's) sends a
        --payload string as it is and does not know the option."""
        v2 = subprocess.run(["aws", "--version"], capture_output=True, text=True).stdout + \
            subprocess.run(["aws", "--version"], capture_output=True, text=True).stderr
        fmt = ["--cli-binary-format", "raw-in-base64-out"] if "aws-cli/1." not in v2 else []
        out = os.path.join(self.emu.workdir, "response.json")
        env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDTEST", AWS_SECRET_ACCESS_KEY="x",
                   AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE="/dev/null",
                   AWS_SHARED_CREDENTIALS_FILE="/dev/null")
        p = subprocess.run(["aws", "--endpoint-url", self.emu.url, "lambda", "invoke",
                            "--function-name", "fn"] + fmt + [
                            "--payload", '{"dryRun": true}', out],
                           env=env, capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout)["StatusCode"], 200)
        with open(out) as f:
            self.assertEqual(json.load(f)["event"], {"dryRun": True})
        p = subprocess.run(["aws", "--endpoint-url", self.emu.url, "lambda", "invoke",
                            "--function-name", "fn"] + fmt + [
                            "--payload", '{"do": "error"}', out],
                           env=env, capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout)["FunctionError"], "Unhandled")


if __name__ == "__main__":
    unittest.main(verbosity=1)
