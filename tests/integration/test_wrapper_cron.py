#!/usr/bin/python3
"""examples/cron as Debian's cron (3.0pl1) reads and runs it.

1. Syntax: the real `crontab -n` (Debian's cron package, installed by make deps)
   accepts the file; a broken copy (a minute of 61) is refused, so the check can fail.
2. Time zone: Debian's cron runs every line in the host's local zone and has no
   CRON_TZ (cron(8): "cron will only handle tasks in a single timezone"; crontab(5)
   names the variables cron itself reads: SHELL, LOGNAME, HOME, MAILTO). The file must
   not rely on CRON_TZ. Each line's schedule is expanded in local time for every
   minute of a week containing a daylight-saving change, in several zones (UTC,
   America/New_York, Europe/Berlin, Asia/Kolkata +05:30, Australia/Eucla +08:45),
   and its command's gate is run by /bin/sh with `date` answering that instant:
   the refresh must go on exactly once, on Sunday in the 02 UTC hour; the cleanup
   exactly once per UTC day, in the 03 hour.
3. The commands themselves: each line's command (crontab(5)'s `%` rule applied),
   with the host paths mapped to temporary ones and `-dry-run` added, run by /bin/sh
   with the crontab's own environment lines, against the emulators: the driver
   accepts the options and exits 0.
Exit 77 when Debian's crontab is not installed (make deps).
"""
import datetime
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zoneinfo

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "wrappers"))
import wraptest  # noqa: E402
from wraptest import TOP, fail  # noqa: E402

CRON_FILE = os.path.join(TOP, "examples", "cron")
ZONES = ["UTC", "America/New_York", "Europe/Berlin", "Asia/Kolkata", "Australia/Eucla"]
# Sunday 2024-03-31: Europe's DST change; the US one was on 2024-03-10.
WEEKS = [datetime.datetime(2024, 3, 25), datetime.datetime(2024, 3, 8)]


def parse(path):
    """(env {name: value}, [(fields[5], user, command)]) of a /etc/cron.d file."""
    env, jobs = {}, []
    for line in open(path):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$", line)
        if m and not re.match(r"^[\d*]", line):
            env[m.group(1)] = m.group(2).strip().strip("'\"")
            continue
        parts = line.split(None, 6)
        if len(parts) < 7:
            fail("cron: not a cron.d job line: %r" % line)
        jobs.append((parts[:5], parts[5], parts[6]))
    return env, jobs


def cron_command(cmd):
    """crontab(5): an unescaped % ends the command (the rest is its stdin); \\% is %."""
    out, i = "", 0
    while i < len(cmd):
        if cmd[i] == "\\" and i + 1 < len(cmd) and cmd[i + 1] == "%":
            out += "%"
            i += 2
            continue
        if cmd[i] == "%":
            break
        out += cmd[i]
        i += 1
    return out


def field_matches(spec, value, lo, hi):
    for part in spec.split(","):
        step = 1
        if "/" in part:
            part, s = part.split("/")
            step = int(s)
        if part == "*":
            a, b = lo, hi
        elif "-" in part:
            a, b = map(int, part.split("-"))
        else:
            a = b = int(part)
        if a <= value <= b and (value - a) % step == 0:
            return True
    return False


def fires(fields, local):
    """Vixie cron's match for one local minute (day-of-month/day-of-week: either, when
    both are restricted; 0 and 7 are Sunday)."""
    minute, hour, dom, month, dow = fields
    dow_v = local.isoweekday() % 7
    if not (field_matches(minute, local.minute, 0, 59) and field_matches(hour, local.hour, 0, 23)
            and field_matches(month, local.month, 1, 12)):
        return False
    dom_ok = field_matches(dom, local.day, 1, 31)
    dow_ok = field_matches(dow, dow_v, 0, 7) or (dow_v == 0 and field_matches(dow, 7, 0, 7))
    if dom != "*" and dow != "*":
        return dom_ok or dow_ok
    return dom_ok and dow_ok


def check_syntax(tmp):
    r = subprocess.run(["crontab", "-n", CRON_FILE], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        fail("cron: Debian's crontab refuses examples/cron:\n" + r.stdout.decode())
    broken = os.path.join(tmp, "broken")
    text = open(CRON_FILE).read()
    with open(broken, "w") as f:
        f.write(re.sub(r"^0 ", "61 ", text, count=1, flags=re.M))
    if subprocess.run(["crontab", "-n", broken], stdout=subprocess.DEVNULL,
                      stderr=subprocess.DEVNULL).returncode == 0:
        fail("cron: crontab -n accepted a minute of 61: the syntax check cannot fail")


def gate_of(cmd):
    """The command up to its first `|| exit 0;` (the part deciding whether it goes on)."""
    m = re.match(r"^(.*?\|\|\s*exit 0;)", cmd)
    if not m:
        fail("cron: every job must start with a UTC gate `[ \"$(date -u ...)\" = ... ] || exit 0;`")
    return m.group(1)


def check_schedule(jobs, tmp):
    fake = os.path.join(tmp, "fakebin")
    os.makedirs(fake)
    with open(os.path.join(fake, "date"), "w") as f:  # `date` answering the simulated instant
        f.write('#!/bin/sh\nexec /bin/date -d "@$FAKE_EPOCH" "$@"\n')
    os.chmod(os.path.join(fake, "date"), 0o755)
    expect = {"refresh": lambda u: u.isoweekday() == 7 and u.hour == 2,
              "cleanup": lambda u: u.hour == 3}
    for fields, user, cmd in jobs:
        kind = "cleanup" if " cleanup " in cmd else "refresh"
        gate = gate_of(cron_command(cmd)) + " echo GO"
        for zone in ZONES:
            tz = zoneinfo.ZoneInfo(zone)
            for week in WEEKS:
                starts = []
                # every real minute of the week, seen in local time as cron sees it
                t0 = week.replace(tzinfo=datetime.timezone.utc)
                for m in range(7 * 24 * 60):
                    u = t0 + datetime.timedelta(minutes=m)
                    local = u.astimezone(tz)
                    if not fires(fields, local):
                        continue
                    r = subprocess.run(["/bin/sh", "-c", gate], stdout=subprocess.PIPE,
                                       env={"PATH": fake + ":/usr/bin:/bin",
                                            "FAKE_EPOCH": str(int(u.timestamp()))})
                    if r.stdout.strip() == b"GO":
                        starts.append(u)
                want = 1 if kind == "refresh" else 7
                if len(starts) != want or not all(expect[kind](u) for u in starts):
                    fail("cron: %s in %s, week of %s: went on at %s (UTC); expected %d start(s)"
                         % (kind, zone, week.date(), [u.strftime("%a %H:%M") for u in starts], want))


def check_commands(env_lines, jobs, tmp):
    emus = wraptest.Emulators(tmp)
    try:
        cfg = wraptest.write_config(os.path.join(tmp, "rds-refresh.yaml"), emus.dblab_url, emus.aws_url)
        envfile = os.path.join(tmp, "rds-refresh.env")
        with open(envfile, "w") as f:
            # (AWS_ENDPOINT_URL: every AWS service at the emulator, not only RDS)
            f.write("DBLAB_TOKEN=%s\nAWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\nAWS_REGION=us-east-1\n"
                    "AWS_ENDPOINT_URL=%s\n"
                    % (emus.token, emus.env["AWS_ACCESS_KEY_ID"], emus.env["AWS_SECRET_ACCESS_KEY"],
                       emus.aws_url))
        os.makedirs(os.path.join(tmp, "state"))
        os.makedirs(os.path.join(tmp, "textfile"))
        mapping = {"/etc/dblab/rds-refresh.env": envfile, "/etc/dblab/rds-refresh.yaml": cfg,
                   "/var/lib/dblab-rds-refresh": os.path.join(tmp, "state"),
                   "/var/lib/prometheus/node-exporter": os.path.join(tmp, "textfile"),
                   "/var/log/dblab-rds-refresh.log": os.path.join(tmp, "cron.log")}
        for fields, user, cmd in jobs:
            body = cron_command(cmd)
            body = body[len(gate_of(body)):]
            for host, local in mapping.items():
                body = body.replace(host, local)
            if " >>" not in body:
                fail("cron: the command's output must go to a log (>>)")
            body = body.replace(" >>", " -dry-run >>", 1)
            # The crontab's own environment, the commands first in PATH as installed.
            env = dict(env_lines, HOME=tmp, LOGNAME=user)
            env["PATH"] = wraptest.BIN + ":" + env_lines.get("PATH", "/usr/bin:/bin")
            r = subprocess.run([env_lines.get("SHELL", "/bin/sh"), "-c", body], env=env,
                               stdin=subprocess.DEVNULL)
            log = open(mapping["/var/log/dblab-rds-refresh.log"]).read()
            if r.returncode != 0:
                fail("cron: %r exits %d with the file's options:\n%s" % (body, r.returncode, log[-2000:]))
            if emus.token in log:
                fail("cron: the DBLab token reached the log")
    finally:
        emus.stop()


def main():
    if not shutil.which("crontab"):
        print("SKIP: Debian's cron is not installed (make deps)")
        sys.exit(77)
    wraptest.check_commands()
    env, jobs = parse(CRON_FILE)
    if "CRON_TZ" in env or "TZ" in env:
        fail("cron: Debian's cron ignores CRON_TZ/TZ for scheduling; gate on `date -u` instead")
    if len(jobs) != 2:
        fail("cron: the weekly refresh and the daily cleanup expected, got %d lines" % len(jobs))
    tmp = tempfile.mkdtemp(prefix="drr-cron.")
    try:
        check_syntax(tmp)
        print("ok: crontab -n accepts examples/cron and refuses a broken copy")
        check_schedule(jobs, tmp)
        print("ok: once a week (refresh, Sunday 02 UTC) and once a day (cleanup, 03 UTC) in %s"
              % ", ".join(ZONES))
        check_commands(env, jobs, tmp)
        print("ok: both commands accepted by the driver (-dry-run against the emulators)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
