#!/usr/bin/python3
"""Measures what the Nomad task (the driver and the commands it runs) needs:
runs one full refresh against the emulators under /usr/bin/time -v and samples
the process tree's resident memory every 20 ms.

  tests/wrappers/measure_task.py [RUNS]

Prints, per run: wall time, CPU seconds (user+sys of the whole tree, from
time -v), the largest single process's peak RSS (time -v's "Maximum resident
set size": the driver or one of its commands), the peak of the tree's summed
RSS (an upper bound of the cgroup's memory: shared library pages are counted
once per process), and each command's peak RSS. Not a test: the numbers go to
docs/wrappers-nomad.md and justify the job's resources block."""
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wraptest  # noqa: E402


def tree(root):
    """pid -> (comm, rss KiB) for root and its descendants."""
    kids, info = {}, {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/status" % d) as f:
                st = f.read()
        except OSError:
            continue
        ppid = int(re.search(r"^PPid:\s+(\d+)", st, re.M).group(1))
        rss = re.search(r"^VmRSS:\s+(\d+)", st, re.M)
        name = re.search(r"^Name:\s+(.*)$", st, re.M).group(1)
        kids.setdefault(ppid, []).append(int(d))
        info[int(d)] = (name, int(rss.group(1)) if rss else 0)
    out, todo = {}, [root]
    while todo:
        p = todo.pop()
        if p in info:
            out[p] = info[p]
        todo.extend(kids.get(p, []))
    return out


def measure(emus, tmp, n):
    config = wraptest.write_config(os.path.join(tmp, "config.yaml"), emus.dblab_url, emus.aws_url)
    env = {"PATH": "/usr/bin:/bin", "DBLAB_TOKEN": emus.token, "AWS_REGION": "us-east-1",
           "AWS_ACCESS_KEY_ID": emus.env["AWS_ACCESS_KEY_ID"],
           "AWS_SECRET_ACCESS_KEY": emus.env["AWS_SECRET_ACCESS_KEY"]}
    tv = os.path.join(tmp, "time.%d" % n)
    t0 = time.monotonic()
    p = subprocess.Popen(["/usr/bin/time", "-v", "-o", tv, os.path.join(wraptest.BIN, "dblab-rds-refresh"),
                          "-config", config, "-state-dir", os.path.join(tmp, "state"),
                          "-log-format", "json"], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    peak_sum, per_cmd, stop = [0], {}, threading.Event()

    def sample():
        while not stop.is_set():
            t = tree(p.pid)
            t.pop(p.pid, None)  # /usr/bin/time itself is not part of the task
            s = sum(r for _, r in t.values())
            peak_sum[0] = max(peak_sum[0], s)
            for name, r in t.values():
                per_cmd[name] = max(per_cmd.get(name, 0), r)
            time.sleep(0.02)
    th = threading.Thread(target=sample)
    th.start()
    out = p.communicate()[0].decode()
    stop.set()
    th.join()
    wall = time.monotonic() - t0
    tvs = open(tv).read()
    maxrss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", tvs).group(1))
    cpu = sum(float(re.search(r"%s time \(seconds\): ([\d.]+)" % k, tvs).group(1)) for k in ("User", "System"))
    status = '"status":"success"' in out.splitlines()[-1] if out else False
    print("run %d: %s, wall %.1f s, CPU %.2f s, largest process %.1f MiB, tree sum peak %.1f MiB"
          % (n, "success" if status else "FAILED", wall, cpu, maxrss / 1024, peak_sum[0] / 1024))
    print("  per command peak RSS (MiB): " + ", ".join(
        "%s %.1f" % (k, v / 1024) for k, v in sorted(per_cmd.items(), key=lambda kv: -kv[1])))
    return status


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    wraptest.check_commands()
    tmp = tempfile.mkdtemp(prefix="drr-measure.")
    emus = wraptest.Emulators(tmp)
    try:
        for n in range(1, runs + 1):
            measure(emus, tmp, n)
            wraptest.managed_clones(emus.aws_url)
    finally:
        emus.stop()
        subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    main()
