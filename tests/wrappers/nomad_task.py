#!/usr/bin/python3
"""The Nomad job file as Nomad reads it, for tests/integration/test_wrapper_nomad.sh.

  nomad_task.py check JOB.json
      Asserts the job's settings (JOB.json: the job file parsed by the real HCL2
      parser, tests/lib/hcl2json.js). Exit 1 naming the first wrong setting.
  nomad_task.py render JOB.json OUTDIR --variables VARS.json --bin DIR
                [--var NAME=VALUE]... [--volume NAME=HOSTDIR]... [--env NAME=VALUE]...
      Prepares the task as a Nomad client would: the allocation and task
      directories under OUTDIR/alloc, the template rendered from the Nomad
      Variables in VARS.json ({"path": {"key": "value"}}) into its destination
      (secrets/dblab.env) and read back as environment (go-envparse rules), the
      env block, the NOMAD_* runtime variables, and the command's argv with
      ${var.*}, ${NOMAD_*} interpolated and the volume mounts mapped to the host
      directories. Writes OUTDIR/argv and OUTDIR/env (NUL-separated) and prints
      the kill_timeout in seconds. --env adds what the node itself provides
      (e.g. the instance metadata endpoint). Secrets are read from a file, never
      from argv.
"""
import json
import os
import re
import sys
import time
import uuid
import zoneinfo

import nomad_schema

# hashicorp/nomad v1.10.5: command/agent/config.go DefaultConfig sets the client's
# max_kill_timeout to "30s"; client/allocrunner/taskrunner/driver_handle.go
# NewDriverHandle uses min(task.KillTimeout, maxKillTimeout), so a longer
# kill_timeout is silently cut to 30 s.
NOMAD_MAX_KILL_TIMEOUT = 30
# The driver's cleanup budget after a signal: it exits within 25 s (docs/driver.md,
# "Signals"; worst case about 22 s). kill_timeout must leave a margin above it for
# the Nomad client's own signal delivery and a slow AWS answer.
DRIVER_CLEANUP_BUDGET = 25
KILL_MARGIN = 5
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def die(msg):
    print("nomad job: " + msg, file=sys.stderr)
    sys.exit(1)


def one(blocks, what):
    """hcl2json renders every block as a list of bodies; labelled blocks as a map."""
    if not isinstance(blocks, list) or len(blocks) != 1:
        die("%s: exactly one block expected" % what)
    return blocks[0]


def labelled(parent, kind, what):
    m = parent.get(kind)
    if not isinstance(m, dict) or len(m) != 1:
        die("%s: exactly one %s block expected" % (what, kind))
    name, bodies = next(iter(m.items()))
    return name, one(bodies, "%s %s" % (kind, name))


def duration(s, what):
    m = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", str(s))
    if not m or not any(m.groups()):
        die("%s: %r is not a duration like 25s" % (what, s))
    h, mi, se = (int(x or 0) for x in m.groups())
    return h * 3600 + mi * 60 + se


def structure(doc):
    jname, job = labelled(doc, "job", "file")
    gname, group = labelled(job, "group", "job")
    tname, task = labelled(group, "task", "group")
    return jname, job, gname, group, tname, task


def check(doc):
    errors = nomad_schema.validate(doc)
    if errors:
        die("not a Nomad job (api/jobs.go, api/tasks.go): " + "; ".join(errors))
    jname, job, gname, group, tname, task = structure(doc)
    if job.get("type") != "batch":
        die("type = \"batch\" expected")
    per = one(job.get("periodic"), "periodic")
    crons = per.get("crons")
    if not isinstance(crons, list) or not crons:
        die("periodic.crons: a non-empty list expected")
    for c in crons:
        if not isinstance(c, str) or len(c.split()) not in (5, 6, 7):
            die("periodic.crons: %r is not a cron expression" % c)
    if per.get("prohibit_overlap") is not True:
        die("periodic.prohibit_overlap = true expected (never two refreshes at once)")
    try:
        zoneinfo.ZoneInfo(per.get("time_zone", ""))
    except Exception:
        die("periodic.time_zone: %r is not a time zone" % per.get("time_zone"))
    restart = one(group.get("restart"), "restart")
    if restart.get("attempts") != 0 or restart.get("mode") != "fail":
        die("restart { attempts = 0, mode = \"fail\" } expected (a failed refresh is not repeated)")
    resched = one(group.get("reschedule"), "reschedule")
    if resched.get("attempts") != 0 or resched.get("unlimited") is not False:
        die("reschedule { attempts = 0, unlimited = false } expected")
    if task.get("driver") not in ("exec", "raw_exec"):
        die("driver exec or raw_exec expected")
    if task.get("kill_signal") != "SIGTERM":
        die("kill_signal = \"SIGTERM\" expected (the driver deletes the clone on SIGTERM)")
    kt = duration(task.get("kill_timeout", "5s"), "kill_timeout")
    if kt < DRIVER_CLEANUP_BUDGET + KILL_MARGIN or kt > NOMAD_MAX_KILL_TIMEOUT:
        die("kill_timeout: %d s; at least %d s (the driver's %d s cleanup budget + %d s) and at most "
            "the client's default max_kill_timeout (%d s) expected"
            % (kt, DRIVER_CLEANUP_BUDGET + KILL_MARGIN, DRIVER_CLEANUP_BUDGET, KILL_MARGIN,
               NOMAD_MAX_KILL_TIMEOUT))
    cfg = one(task.get("config"), "config")
    if not str(cfg.get("command", "")).startswith("/"):
        die("config.command: an absolute path expected")
    args = cfg.get("args", [])
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        die("config.args: a list of strings expected")
    for a in args:
        if re.search(r"token|secret|password|nomadVar|\{\{", a, re.I):
            die("config.args: %r looks like a secret on the command line" % a)
    templates = task.get("template", [])
    secret_tpl = [t for t in templates if "nomadVar" in t.get("data", "") or "secret " in t.get("data", "")]
    if len(secret_tpl) != 1:
        die("one template rendering the secrets expected")
    t = secret_tpl[0]
    if not str(t.get("destination", "")).startswith("secrets/") or t.get("env") is not True:
        die("the secrets template must render into secrets/ with env = true")
    if t.get("change_mode", "restart") == "signal":
        die("template: env = true cannot go with change_mode = \"signal\"")
    if "toJSON" not in t.get("data", ""):
        die("template: quote secret values with toJSON (a token may contain # or quotes)")
    for k in one(task.get("env"), "env") if task.get("env") else {}:
        if re.search(r"token|secret|password", k, re.I):
            die("env: %s: secrets belong in the template, not the job file" % k)
    res = one(task.get("resources"), "resources")
    if not (isinstance(res.get("cpu"), int) and res["cpu"] > 0
            and isinstance(res.get("memory"), int) and res["memory"] > 0):
        die("resources { cpu, memory } expected")
    mounts = task.get("volume_mount", [])
    dests = [m.get("destination") for m in mounts]
    if "-state-dir" not in args or args[args.index("-state-dir") + 1] not in dests:
        die("-state-dir must be on a volume (a killed run is recovered from it)")
    print("ok")


# ---------------------------------------------------------------- template rendering

def render_template(data, variables):
    """The subset of Go's text/template (consul-template) the job uses: text,
    {{- / -}} trimming, with nomadVar "path" ... end, .key, and | toJSON."""
    parts = re.split(r"(\{\{.*?\}\})", data, flags=re.S)
    out, stack = [], []
    trim_next = False
    for i, part in enumerate(parts):
        if i % 2 == 0:
            if trim_next:
                part = part.lstrip(" \t\r\n")
            out.append(part)
            continue
        if part.startswith("{{- "):
            out[-1] = out[-1].rstrip(" \t\r\n")
        trim_next = part.endswith(" -}}")
        action = part.strip("{}").strip("-").strip()
        m = re.fullmatch(r'with nomadVar "([^"]+)"', action)
        if m:
            if m.group(1) not in variables:
                die("template: Nomad Variable %s does not exist (Nomad would block the task)"
                    % m.group(1))
            stack.append(variables[m.group(1)])
            continue
        if action == "end":
            if not stack:
                die("template: end without with")
            stack.pop()
            continue
        m = re.fullmatch(r"\.([A-Za-z_][A-Za-z0-9_]*)(\s*\|\s*toJSON)?", action)
        if m:
            if not stack or m.group(1) not in stack[-1]:
                die("template: .%s: no such item" % m.group(1))
            v = stack[-1][m.group(1)]
            out.append(json.dumps(v) if m.group(2) else str(v))
            continue
        die("template: the test's renderer does not know {{%s}}" % action)
    if stack:
        die("template: with without end")
    return "".join(out)


def parse_env_file(text):
    """KEY=value lines as Nomad reads an env template (hashicorp/go-envparse):
    blank and # lines skipped; a double-quoted value has JSON/Go escapes; a
    single-quoted one is literal; an unquoted one is the rest of the line."""
    env = {}
    for n, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        if s.startswith("export "):
            s = s[7:].lstrip()
        m = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*)", s)
        if not m:
            die("template line %d: not KEY=value" % n)
        k, v = m.groups()
        if v.startswith('"'):
            try:
                v = json.loads(v)
            except ValueError:
                die("template line %d: bad double-quoted value" % n)
        elif v.startswith("'"):
            if not v.endswith("'") or len(v) < 2:
                die("template line %d: unterminated single quote" % n)
            v = v[1:-1]
        env[k] = v
    return env


# ---------------------------------------------------------------- render the task

def interpolate(s, vars_, env, what):
    def sub(m):
        name = m.group(1)
        if name.startswith("var."):
            if name[4:] not in vars_:
                die("%s: unknown variable %s" % (what, name))
            return str(vars_[name[4:]])
        if name.startswith("NOMAD_") and name in env:
            return env[name]
        die("%s: the test cannot interpolate ${%s}" % (what, name))
    return re.sub(r"\$\{([^}]+)\}", sub, s)


def render(doc, outdir, variables, bin_dir, vars_given, volumes, extra_env):
    jname, job, gname, group, tname, task = structure(doc)
    vars_ = {}
    for name, bodies in (doc.get("variable") or {}).items():
        body = one(bodies, "variable " + name)
        if "default" in body:
            vars_[name] = body["default"]
    vars_.update(vars_given)
    launch = int(time.time())
    alloc_id = str(uuid.uuid4())
    alloc_dir = os.path.join(outdir, "alloc", "alloc")
    task_dir = os.path.join(outdir, "alloc", tname)
    for d in (alloc_dir, os.path.join(task_dir, "local"), os.path.join(task_dir, "secrets"),
              os.path.join(task_dir, "tmp")):
        os.makedirs(d, exist_ok=True)
    os.chmod(os.path.join(task_dir, "secrets"), 0o700)
    res = one(task["resources"], "resources")
    child = "%s/periodic-%d" % (jname, launch)
    env = {
        "PATH": DEFAULT_PATH,
        "NOMAD_ALLOC_DIR": alloc_dir, "NOMAD_TASK_DIR": os.path.join(task_dir, "local"),
        "NOMAD_SECRETS_DIR": os.path.join(task_dir, "secrets"),
        "NOMAD_ALLOC_ID": alloc_id, "NOMAD_SHORT_ALLOC_ID": alloc_id[:8],
        "NOMAD_ALLOC_NAME": "%s.%s[0]" % (child, gname), "NOMAD_ALLOC_INDEX": "0",
        "NOMAD_TASK_NAME": tname, "NOMAD_GROUP_NAME": gname,
        "NOMAD_JOB_ID": child, "NOMAD_JOB_NAME": child, "NOMAD_JOB_PARENT_ID": jname,
        "NOMAD_NAMESPACE": "default", "NOMAD_REGION": "global",
        "NOMAD_DC": (vars_.get("datacenters") or ["dc1"])[0],
        "NOMAD_CPU_LIMIT": str(res["cpu"]), "NOMAD_MEMORY_LIMIT": str(res["memory"]),
    }
    if task.get("user"):
        env["USER"] = interpolate(str(task["user"]), vars_, env, "user")
    for k, v in (one(task["env"], "env") if task.get("env") else {}).items():
        env[k] = interpolate(str(v), vars_, env, "env " + k)
    for t in task.get("template", []):
        dest = os.path.join(task_dir, interpolate(t["destination"], vars_, env, "destination"))
        text = render_template(t.get("data", ""), variables)
        fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, int(str(t.get("perms", "644")), 8))
        with os.fdopen(fd, "w") as f:
            f.write(text)
        if t.get("env"):
            env.update(parse_env_file(text))
    env.update(extra_env)
    # Volume mounts: the chroot path is the host volume's directory.
    mounts = {}
    for m in task.get("volume_mount", []):
        if m["volume"] not in volumes:
            die("no host directory given for volume %s" % m["volume"])
        mounts[m["destination"]] = volumes[m["volume"]]

    def host_path(s):
        for dest, host in mounts.items():
            if s == dest or s.startswith(dest + "/"):
                return host + s[len(dest):]
        return s
    cfg = one(task["config"], "config")
    command = cfg["command"]
    # The command is installed with PREFIX=/usr/local; the test's build is in bin_dir.
    command = os.path.join(bin_dir, os.path.basename(command))
    argv = [command] + [host_path(interpolate(a, vars_, env, "args")) for a in cfg.get("args", [])]
    for name, items in (("argv", argv), ("env", ["%s=%s" % kv for kv in env.items()])):
        with open(os.path.join(outdir, name), "wb") as f:
            for item in items:
                f.write(item.encode() + b"\0")
    print(duration(task.get("kill_timeout", "5s"), "kill_timeout"))


def main():
    if len(sys.argv) < 3:
        die(__doc__)
    with open(sys.argv[2]) as f:
        doc = json.load(f)
    if sys.argv[1] == "check":
        check(doc)
        return
    if sys.argv[1] != "render" or len(sys.argv) < 4:
        die(__doc__)
    outdir = sys.argv[3]
    variables, bin_dir, vars_given, volumes, extra = {}, None, {}, {}, {}
    rest = sys.argv[4:]
    while rest:
        opt, val = rest[0], rest[1]
        rest = rest[2:]
        if opt == "--variables":
            with open(val) as f:
                variables = json.load(f)
        elif opt == "--bin":
            bin_dir = val
        elif opt in ("--var", "--volume", "--env"):
            k, v = val.split("=", 1)
            {"--var": vars_given, "--volume": volumes, "--env": extra}[opt][k] = v
        else:
            die("unknown option " + opt)
    render(doc, outdir, variables, bin_dir, vars_given, volumes, extra)


if __name__ == "__main__":
    main()
