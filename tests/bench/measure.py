#!/usr/bin/python3
"""Runs one command RUNS times and prints its medians as one JSON line:
{"name", "runs", "wallMs", "cpuMs", "rssKiB"}.

    measure.py NAME RUNS STDIN STDOUT -- CMD [ARGS...]

"{i}" in STDIN, STDOUT and ARGS is replaced by the run's number (1..RUNS), so that
each run can read the output of the matching run of the previous step.

Wall time is taken with a monotonic clock around posix_spawn+wait (/usr/bin/time's
resolution, 10 ms, is too coarse for commands that finish in 20 ms); CPU time and
peak RSS come from that child's own rusage (wait4), so nothing of this script is
counted. STDOUT receives the last run's standard output; stderr goes to STDOUT.err.
A run that exits non-zero stops the benchmark: a failing command is not measured."""
import json
import os
import statistics
import sys
import time


def run_once(argv, stdin_path, stdout_path):
    with open(stdin_path, "rb") as fin, open(stdout_path, "wb") as fout, \
            open(stdout_path + ".err", "wb") as ferr:
        actions = [(os.POSIX_SPAWN_DUP2, fin.fileno(), 0),
                   (os.POSIX_SPAWN_DUP2, fout.fileno(), 1),
                   (os.POSIX_SPAWN_DUP2, ferr.fileno(), 2)]
        start = time.perf_counter()
        # posix_spawn (vfork+exec in glibc): no copy of this interpreter's memory
        pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=actions)
        _, status, usage = os.wait4(pid, 0)
        wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        with open(stdout_path + ".err", "rb") as ferr:
            tail = ferr.read()[-2000:].decode("utf-8", "replace")
        sys.stderr.write(f"measure: {argv[0]} exited {code}:\n{tail}\n")
        sys.exit(1)
    return wall * 1000, (usage.ru_utime + usage.ru_stime) * 1000, usage.ru_maxrss


def main():
    if len(sys.argv) < 7 or sys.argv[5] != "--":
        sys.stderr.write(__doc__)
        return 64
    name, runs, stdin_path, stdout_path = sys.argv[1], int(sys.argv[2]), sys.argv[3], \
        sys.argv[4]
    argv = sys.argv[6:]
    samples = []
    for i in range(1, runs + 1):
        def nth(text, i=i):
            return text.replace("{i}", str(i))
        samples.append(run_once([nth(a) for a in argv], nth(stdin_path), nth(stdout_path)))
    print(json.dumps({
        "name": name, "runs": runs,
        "wallMs": round(statistics.median(s[0] for s in samples), 1),
        "cpuMs": round(statistics.median(s[1] for s in samples), 1),
        "rssKiB": int(statistics.median(s[2] for s in samples)),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
