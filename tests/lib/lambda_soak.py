#!/usr/bin/python3
"""lambda_soak.py --bootstrap PATH --aws-url URL [--invocations N] [--prefix "CMD ARGS"]

Runs N invocations through ONE lambda-bootstrap process (the Lambda emulator keeps the
environment warm) and shuts it down as Lambda does (SIGTERM). The invocations cycle
through a real step (snapshot, against the AWS emulator at URL), a step whose command
fails (clone-wait on a document without a clone: drr.input), an unknown step and an
event that is not an object, so every answer path of the runtime runs N/4 times.
--prefix runs the bootstrap under a wrapper (valgrind). Prints one JSON line: the
bootstrap's exit status, its RSS after the first and the last invocation (kB), and
the median and 95th-percentile latency of the snapshot invocations and the median of
the unknown-step ones (the runtime's own round trip, no child) in ms. Exits 1 if an
answer was not the expected one or the exit status is not 143 (SIGTERM's, the
runtime's clean stop)."""
import argparse
import json
import os
import shlex
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lambdaemu_testlib as lib  # noqa: E402

TOP = lib.TOP


def rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--aws-url", required=True)
    ap.add_argument("--invocations", type=int, default=100)
    ap.add_argument("--prefix", default="", help="a wrapper command line, e.g. \"$VG\"")
    args = ap.parse_args()
    cfg = os.path.join(os.environ.get("TMPDIR", "/tmp"), "lambda-soak-%d.yaml" % os.getpid())
    with os.fdopen(os.open(cfg, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
        f.write("source:\n  type: rds\n  identifier: production-db\nclone:\n"
                "  instanceClass: db.t3.medium\ndblab:\n  apiEndpoint: http://127.0.0.1:9\n"
                "  token: soak-token\naws:\n  region: us-east-1\n  endpoint: %s\n" % args.aws_url)
    env = {"DBLAB_RDS_REFRESH_CONFIG": cfg, "DRR_LAMBDA_BIN_DIR": os.path.dirname(args.bootstrap)}
    emu = lib.start({"soak": {"command": shlex.split(args.prefix) + [args.bootstrap, "step"], "timeout": 120,
                              "env": env}})
    bad = []
    latencies = []
    runtime_only = []   # an unknown step: the runtime's own round trip, no child
    rss_first = rss_last = None
    try:
        cases = [
            ({"step": "snapshot", "input": {"dryRun": False}, "runId": "soak"}, None),
            ({"step": "clone-wait", "document": {"apiVersion": "dblab-rds-refresh/v1"}},
             "drr.input"),
            ({"step": "no-such-step", "document": {}}, "drr.input"),
            ([1, 2, 3], "drr.input"),
        ]
        for i in range(args.invocations):
            event, want_error = cases[i % len(cases)]
            status, hdr, body = emu.invoke("soak", event, timeout=120)
            answer = json.loads(body)
            got_error = answer.get("errorType") if hdr.get("x-amz-function-error") else None
            if got_error != want_error or (want_error is None and "snapshot" not in answer):
                bad.append((i, event, body[:300]))
            if want_error is None:
                latencies.append(emu.ctl("GET", "invocations")[-1]["durationMs"])
            elif i % len(cases) == 2:
                runtime_only.append(emu.ctl("GET", "invocations")[-1]["durationMs"])
            pid = emu.ctl("GET", "sandboxes")["soak"]["pid"]
            if i == 0:
                rss_first = rss_kb(pid)
            rss_last = rss_kb(pid)
        boxes = emu.ctl("GET", "sandboxes")["soak"]
        rc = emu.ctl("POST", "shutdown", {"function": "soak", "graceMs": 60000})["exitCode"]
    finally:
        emu.stop()
        os.unlink(cfg)
    latencies.sort()
    out = {"invocations": args.invocations, "coldStarts": boxes["coldStarts"], "exitCode": rc,
           "rssFirstKb": rss_first, "rssLastKb": rss_last,
           "snapshotMedianMs": statistics.median(latencies) if latencies else None,
           "snapshotP95Ms": latencies[max(0, -(-len(latencies) * 95 // 100) - 1)] if latencies else None,
           "runtimeOnlyMedianMs": statistics.median(runtime_only) if runtime_only else None,
           "unexpected": bad[:3]}
    print(json.dumps(out))
    return 0 if not bad and rc == 143 and boxes["coldStarts"] == 1 else 1


if __name__ == "__main__":
    sys.exit(main())
