#!/usr/bin/python3
"""The Rundeck job definition, checked against Rundeck's job YAML format and run
as Rundeck runs it, against the local emulators.

1. Format: wrappers/rundeck/dblab-rds-refresh.yaml is checked against the rules
   of Rundeck's job YAML (docs: manual/document-format-reference/job-yaml-v12;
   and what Rundeck's importer, ScheduledExecution/Workflow/CommandExec/Option
   .fromMap, reads): a list of job maps; name, sequence {keepgoing, strategy,
   commands}; each command exactly one of exec/script/scriptfile/scripturl/jobref
   or a plugin (type); errorhandler the same without a nested handler;
   options[] with name, secure/valueExposed/storagePath (keys/...);
   schedule.crontab in Quartz syntax (6-7 fields, one of day-of-month and
   day-of-week '?'); timeZone; notification triggers with urls/email/plugin only
   (anything else is silently dropped by the importer); LogFilter configs.
   The validator is itself checked on broken variants of the job.
2. Policy (issue 8): multipleExecutions false, a timeout, a schedule, the DBLab
   token a Secure option exposed to scripts from Key Storage and masked in the
   log, never on a command line, no @option.x@ tokens, an errorhandler on every
   step, keepgoing false, an onfailure notification.
3. Execution as Rundeck does it (node-first on the local server node): option
   defaults as values, the secure option's value from a fake Key Storage,
   RD_OPTION_<NAME> and RD_JOB_* in the environment, each inline script written
   to a temp file and run with /bin/sh, @token@ expansion, output merged, the
   mask-passwords filter on the log; a failing step runs its errorhandler, whose
   result becomes the step's, and with keepgoing false the workflow stops and
   the execution fails (unless keepgoingOnSuccess):
     a. a successful execution (rds-clone-gc, then the five commands): the final
        run document, the clone deleted;
     b. the DBLab refresh fails: the errorhandler deletes the clone, job failed;
     c. the clone never becomes available (rds-clone-wait fails): deleted too;
     d. the snapshot step fails: no clone, nothing to delete, job failed.
   No managed clone is left, and the token never appears in any output.
"""
import copy
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
import zoneinfo

import yaml

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "wrappers"))
import wraptest  # noqa: E402
from wraptest import fail  # noqa: E402

JOB_FILE = os.path.join(wraptest.TOP, "wrappers", "rundeck", "dblab-rds-refresh.yaml")

# ----------------------------------------------------------------------------- format

JOB_KEYS = {"name", "description", "loglevel", "group", "uuid", "id", "project",
            "multipleExecutions", "timeout", "retry", "loglimit", "loglimitAction",
            "loglimitStatus", "options", "schedule", "nodefilters", "notification", "plugins",
            "sequence", "executionEnabled", "scheduleEnabled", "nodeFilterEditable", "timeZone",
            "nodesSelectedByDefault", "orchestrator", "defaultTab"}
LOGLEVELS = {"DEBUG", "VERBOSE", "INFO", "WARN", "ERROR"}
STRATEGIES = {"node-first", "step-first", "sequential", "parallel"}
STEP_KINDS = ("exec", "script", "scriptfile", "scripturl", "jobref")
STEP_KEYS = set(STEP_KINDS) | {"description", "args", "scriptInterpreter", "interpreterArgsQuoted",
                               "fileExtension", "errorhandler", "keepgoingOnSuccess", "nodeStep",
                               "type", "configuration", "plugins"}
OPTION_KEYS = {"name", "description", "value", "values", "required", "enforced", "regex",
               "valuesUrl", "multivalued", "delimiter", "multivalueAllSelected", "secure",
               "valueExposed", "storagePath", "isDate", "dateFormat", "sortIndex", "label",
               "hidden", "type", "valuesListDelimiter"}
TRIGGERS = {"onsuccess", "onfailure", "onstart", "onavgduration", "onretryablefailure"}
NOTIFICATION_KEYS = {"urls", "email", "plugin", "recipients"}
# Quartz fields as Rundeck's ScheduledExecution constrains them.
CRON_FIELDS = [("seconds", r"^[0-9*/,-]*$"), ("minute", r"^[0-9*/,-]*$"),
               ("hour", r"^[0-9*/,-]*$"), ("day-of-month", r"^[0-9*/,?LW-]*$"),
               ("month", r"^[0-9a-zA-Z*/,-]*$"), ("day-of-week", r"^[0-9a-zA-Z*/?,L#-]*$"),
               ("year", r"^[0-9*/,-]*$")]
DURATION = re.compile(r"^(\d+\s*[smhdwy]?\s*)+$|^\$\{option\.[A-Za-z0-9_.-]+\}$")


def _bool(v):
    return isinstance(v, bool)


def check_cron(expr, where, errs):
    if not isinstance(expr, str):
        errs.append("%s: crontab must be a string" % where)
        return
    fields = expr.split(" ")  # Rundeck splits on single spaces
    if len(fields) not in (6, 7):
        errs.append("%s: Quartz crontab needs 6 or 7 space-separated fields "
                    "(seconds minutes hours day-of-month month day-of-week [year]), got %d"
                    % (where, len(fields)))
        return
    for (name, rx), value in zip(CRON_FIELDS, fields):
        if not value or not re.match(rx, value):
            errs.append("%s: %s field %r is not valid Quartz syntax" % (where, name, value))
    if (fields[3] == "?") == (fields[5] == "?"):
        errs.append("%s: Quartz needs exactly one of day-of-month and day-of-week to be '?'" % where)


def check_step(step, where, errs, handler=False):
    if not isinstance(step, dict):
        errs.append("%s: must be a map" % where)
        return
    kinds = [k for k in STEP_KINDS if k in step]
    if "type" in step:
        kinds.append("type (plugin)")
    if len(kinds) != 1:
        errs.append("%s: needs exactly one of exec/script/scriptfile/scripturl/jobref/type, got %s"
                    % (where, kinds or "none"))
    for k in set(step) - STEP_KEYS:
        errs.append("%s: unknown key %r (ignored by Rundeck)" % (where, k))
    for k in ("exec", "script", "scriptfile", "scripturl", "args", "description"):
        if k in step and not isinstance(step[k], str):
            errs.append("%s: %s must be a string" % (where, k))
    if "type" in step and not isinstance(step.get("configuration", {}), dict):
        errs.append("%s: configuration must be a map" % where)
    if "jobref" in step and not (isinstance(step["jobref"], dict) and step["jobref"].get("name")):
        errs.append("%s: jobref needs a map with name" % where)
    if "keepgoingOnSuccess" in step and not _bool(step["keepgoingOnSuccess"]):
        errs.append("%s: keepgoingOnSuccess must be true/false" % where)
    if "errorhandler" in step:
        if handler:
            errs.append("%s: an error handler cannot have its own errorhandler" % where)
        else:
            check_step(step["errorhandler"], where + ".errorhandler", errs, handler=True)


def validate(doc):
    """Errors (strings) of a parsed job YAML document against Rundeck's format."""
    errs = []
    if not isinstance(doc, list) or not doc:
        return ["the document must be a non-empty YAML sequence of job maps"]
    for i, job in enumerate(doc):
        w = "job[%d]" % i
        if not isinstance(job, dict):
            errs.append("%s: must be a map" % w)
            continue
        for k in set(job) - JOB_KEYS:
            errs.append("%s: unknown key %r (ignored by Rundeck)" % (w, k))
        name = job.get("name")
        if not isinstance(name, str) or not name or "/" in name:
            errs.append("%s: name: required, a string without '/'" % w)
        for k in ("description", "group", "uuid", "timeZone"):
            if k in job and not isinstance(job[k], str):
                errs.append("%s: %s must be a string" % (w, k))
        if "timeZone" in job:
            try:
                zoneinfo.ZoneInfo(job["timeZone"])
            except Exception:
                errs.append("%s: timeZone %r is not a time zone id" % (w, job["timeZone"]))
        if "loglevel" in job and job["loglevel"] not in LOGLEVELS:
            errs.append("%s: loglevel must be one of %s" % (w, sorted(LOGLEVELS)))
        for k in ("multipleExecutions", "executionEnabled", "scheduleEnabled", "nodeFilterEditable"):
            if k in job and not _bool(job[k]):
                errs.append("%s: %s must be true/false" % (w, k))
        if "timeout" in job and not (isinstance(job["timeout"], (str, int))
                                     and DURATION.match(str(job["timeout"]))):
            errs.append("%s: timeout %r: a duration like 120, 6h 30m or ${option.x}" % (w, job["timeout"]))
        if "retry" in job:
            r = job["retry"]
            rv = r.get("retry") if isinstance(r, dict) else r
            if not re.match(r"^(\d+|\$\{option\.[^}]+\})$", str(rv)):
                errs.append("%s: retry must be a count >= 0 or ${option.x}" % w)
        # options
        opts = job.get("options", [])
        if isinstance(opts, dict):
            opts = [dict(v or {}, name=k) for k, v in opts.items()]
        if not isinstance(opts, list):
            errs.append("%s: options must be a list of maps" % w)
            opts = []
        seen = set()
        for j, o in enumerate(opts):
            ow = "%s.options[%d]" % (w, j)
            if not isinstance(o, dict) or not isinstance(o.get("name"), str) \
                    or not re.match(r"^[a-zA-Z_0-9.-]+$", o.get("name", "")):
                errs.append("%s: needs a name of letters, digits, _ . -" % ow)
                continue
            if o["name"] in seen:
                errs.append("%s: duplicate option %s" % (ow, o["name"]))
            seen.add(o["name"])
            for k in set(o) - OPTION_KEYS:
                errs.append("%s: unknown key %r" % (ow, k))
            for k in ("required", "enforced", "multivalued", "secure", "valueExposed", "isDate"):
                if k in o and not _bool(o[k]):
                    errs.append("%s: %s must be true/false" % (ow, k))
            if "value" in o and not isinstance(o["value"], str):
                errs.append("%s: value must be a string" % ow)
            if o.get("secure") and o.get("multivalued"):
                errs.append("%s: a secure option cannot be multivalued" % ow)
            if ("valueExposed" in o or "storagePath" in o) and not o.get("secure"):
                errs.append("%s: valueExposed/storagePath only apply to a secure option" % ow)
            if "storagePath" in o and not re.match(r"^(/?)keys/.+", str(o["storagePath"])):
                errs.append("%s: storagePath must be a Key Storage path keys/..." % ow)
            if o.get("multivalued") and not o.get("delimiter"):
                errs.append("%s: a multivalued option needs a delimiter" % ow)
        # sequence
        seq = job.get("sequence")
        if not isinstance(seq, dict):
            errs.append("%s: sequence: required map" % w)
        else:
            if not _bool(seq.get("keepgoing")):
                errs.append("%s: sequence.keepgoing: required, true/false" % w)
            if seq.get("strategy") not in STRATEGIES:
                errs.append("%s: sequence.strategy: one of %s" % (w, sorted(STRATEGIES)))
            cmds = seq.get("commands")
            if not isinstance(cmds, list) or not cmds:
                errs.append("%s: sequence.commands: a non-empty list" % w)
            else:
                for j, c in enumerate(cmds):
                    check_step(c, "%s.sequence.commands[%d]" % (w, j), errs)
            pc = seq.get("pluginConfig")
            if pc is not None:
                if not isinstance(pc, dict):
                    errs.append("%s: sequence.pluginConfig must be a map" % w)
                else:
                    lf = pc.get("LogFilter", [])
                    for f in (lf if isinstance(lf, list) else [lf]):
                        if not (isinstance(f, dict) and isinstance(f.get("type"), str)
                                and isinstance(f.get("config"), dict)):
                            errs.append("%s: a LogFilter entry needs type and a config map "
                                        "(Rundeck skips it otherwise)" % w)
        # schedule
        sch = job.get("schedule")
        if sch is not None:
            if not isinstance(sch, dict):
                errs.append("%s: schedule must be a map" % w)
            elif "crontab" in sch:
                check_cron(sch["crontab"], w + ".schedule", errs)
            elif not isinstance(sch.get("time", {}), dict):
                errs.append("%s: schedule.time must be a map" % w)
        # notifications
        notif = job.get("notification")
        if notif is not None:
            if not isinstance(notif, dict):
                errs.append("%s: notification must be a map" % w)
            else:
                for trig, body in notif.items():
                    nw = "%s.notification.%s" % (w, trig)
                    if trig not in TRIGGERS:
                        errs.append("%s: unknown trigger" % nw)
                        continue
                    if not isinstance(body, dict):
                        errs.append("%s: must be a map" % nw)
                        continue
                    for k in set(body) - NOTIFICATION_KEYS:
                        errs.append("%s: key %r is ignored by Rundeck (urls, email, plugin)" % (nw, k))
                    if "email" in body and not (isinstance(body["email"], dict)
                                                and isinstance(body["email"].get("recipients"), str)):
                        errs.append("%s: email needs recipients (a comma-separated string)" % nw)
                    if "urls" in body and not isinstance(body["urls"], str):
                        errs.append("%s: urls must be a comma-separated string" % nw)
    return errs


def check_validator(job_doc):
    """The validator must catch the mistakes it exists for."""
    def broken(mutate):
        d = copy.deepcopy(job_doc)
        mutate(d[0])
        return d

    cases = {
        "timezone (lower case)": lambda j: j.update(timezone=j.pop("timeZone", "UTC")),
        "webhook key": lambda j: j["notification"].update(onsuccess={"webhook": {"urls": "x"}}),
        "5-field cron": lambda j: j["schedule"].update(crontab="0 2 * * 0"),
        "both day fields": lambda j: j["schedule"].update(crontab="0 0 2 * * SUN *"),
        "two step kinds": lambda j: j["sequence"]["commands"][0].update(exec="true"),
        "nested handler": lambda j: j["sequence"]["commands"][1]["errorhandler"].update(
            errorhandler={"exec": "true"}),
        "storagePath": lambda j: [o.update(storagePath="dblab/token") for o in j["options"]
                                  if o.get("secure")],
        "no keepgoing": lambda j: j["sequence"].pop("keepgoing"),
        "not a list": None,
    }
    for what, mutate in cases.items():
        d = job_doc[0] if mutate is None else broken(mutate)
        if not validate(d):
            fail("the validator accepts a job with a broken %s" % what)


# ----------------------------------------------------------------------------- policy

def check_policy(job):
    if job.get("multipleExecutions") is not False:
        fail("multipleExecutions: false expected")
    if not job.get("timeout") or not job.get("schedule", {}).get("crontab"):
        fail("a timeout and a schedule.crontab are expected")
    if job["sequence"]["keepgoing"] is not False:
        fail("keepgoing: false expected (stop at the failed step)")
    tok = [o for o in job["options"] if o["name"] == "dblab_token"]
    if len(tok) != 1:
        fail("the dblab_token option is missing")
    tok = tok[0]
    if not (tok.get("secure") and tok.get("valueExposed") and tok.get("storagePath")):
        fail("dblab_token must be secure, valueExposed (else scripts never see it) and from Key Storage")
    if "value" in tok:
        fail("a secure option must not carry a default value in the job definition")
    filters = job["sequence"].get("pluginConfig", {}).get("LogFilter", [])
    if not any(f.get("type") == "mask-passwords" for f in filters):
        fail("the mask-passwords log filter is expected (Rundeck does not mask secure options without it)")
    if "onfailure" not in job.get("notification", {}):
        fail("an onfailure notification is expected")
    for i, c in enumerate(job["sequence"]["commands"]):
        if "script" not in c:
            fail("step %d: an inline script expected" % (i + 1))
        if "errorhandler" not in c:
            fail("step %d: no errorhandler" % (i + 1))
        if c["errorhandler"].get("keepgoingOnSuccess"):
            fail("step %d: keepgoingOnSuccess would let the workflow go on after a failed step "
                 "(a refresh after a failed wait, on a deleted clone)" % (i + 1))
        for s in (c, c["errorhandler"]):
            body = s.get("script") or s.get("exec") or ""
            if re.search(r"@[A-Za-z]+\.[A-Za-z0-9_.-]+@", body) or "${option." in body \
                    or "${option." in s.get("args", ""):
                fail("step %d: option values must come from RD_OPTION_* env, not tokens" % (i + 1))
            for line in body.splitlines():
                if "RD_OPTION_DBLAB_TOKEN" in line and not re.match(
                        r'^\s*(export DBLAB_TOKEN="\$\{?RD_OPTION_DBLAB_TOKEN(:-)?\}?"|\[ -n "\$\{RD_OPTION_DBLAB_TOKEN:-\}" \])',
                        line):
                    fail("step %d: the token is used other than as the DBLAB_TOKEN environment: %s"
                         % (i + 1, line.strip()))


# ----------------------------------------------------------------------------- execution

class KeyStorage:
    def __init__(self, entries):
        self.entries = entries

    def password(self, path):
        return self.entries.get(path.lstrip("/"))


def env_name(prefix, name):
    """Rundeck: upper case, punctuation to underscore, RD_ prefix."""
    return "RD_" + prefix + "_" + re.sub(r"[^A-Za-z0-9]", "_", name).upper()


def expand_tokens(script, ctx):
    """Inline script @ctx.key@ expansion (@@ escapes an @)."""
    def sub(m):
        if m.group(0) == "@@":
            return "@"
        return ctx.get(m.group(1), "")
    return re.sub(r"@@|@([A-Za-z]+\.[A-Za-z0-9_.-]+)@", sub, script)


class Execution:
    def __init__(self, job, option_values, keys, base_env, execid, tmp):
        self.job = job
        self.execid = execid
        self.tmp = tmp
        self.log = []          # (step label, text) as the Rundeck log shows it
        self.raw = []          # unmasked output, for the secret check
        self.steps = []        # (label, status)
        # Option values: given, else the default, else (secure) Key Storage.
        self.options, self.secure = {}, set()
        for o in job.get("options", []):
            v = option_values.get(o["name"], o.get("value"))
            if v is None and o.get("secure") and o.get("storagePath"):
                v = keys.password(o["storagePath"])
            if o.get("required") and not v:
                raise RuntimeError("option %s is required" % o["name"])
            self.options[o["name"]] = v or ""
            if o.get("secure"):
                self.secure.add(o["name"])
        self.env = dict(base_env)
        self.env.update({
            "RD_JOB_ID": str(uuid.uuid4()), "RD_JOB_EXECID": str(execid), "RD_JOB_NAME": job["name"],
            "RD_JOB_GROUP": job.get("group", ""), "RD_JOB_PROJECT": "dblab",
            "RD_JOB_USERNAME": "admin", "RD_JOB_USER_NAME": "admin", "RD_JOB_EXECUTIONTYPE": "scheduled",
            "RD_JOB_LOGLEVEL": job.get("loglevel", "INFO"), "RD_JOB_RETRYATTEMPT": "0",
            "RD_JOB_WASRETRY": "false", "RD_JOB_THREADCOUNT": "1",
            "RD_NODE_NAME": "localhost", "RD_NODE_HOSTNAME": "localhost", "RD_NODE_OS_FAMILY": "unix",
        })
        ctx = {}
        for o in job.get("options", []):
            exposed = not (o.get("secure") and not o.get("valueExposed"))
            if exposed:
                self.env[env_name("OPTION", o["name"])] = self.options[o["name"]]
                ctx["option." + o["name"]] = self.options[o["name"]]
        ctx.update({"job.execid": str(execid), "job.name": job["name"], "node.name": "localhost"})
        self.ctx = ctx
        mask = [f for f in job["sequence"].get("pluginConfig", {}).get("LogFilter", [])
                if f.get("type") == "mask-passwords"]
        self.mask = mask[0]["config"].get("replacement", "[SECURE]") if mask else None

    def masked(self, text):
        if self.mask:
            for name in self.secure:
                if self.options[name]:
                    text = text.replace(self.options[name], self.mask)
        return text

    def run_step(self, step, label, extra_env=None):
        body = expand_tokens(step["script"], self.ctx)
        fd, path = tempfile.mkstemp(prefix="rd-script-", suffix=".sh", dir=self.tmp)
        with os.fdopen(fd, "w") as f:
            f.write(body)
        os.chmod(path, 0o700)
        env = dict(self.env, **(extra_env or {}))
        args = step.get("args", "").split() if step.get("args") else []
        try:
            p = subprocess.run(["/bin/sh", path] + args, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, cwd=self.tmp, timeout=120)
        finally:
            os.unlink(path)
        out = p.stdout.decode("utf-8", "replace")
        self.raw.append(out)
        self.log.append((label, self.masked(out)))
        return p.returncode

    def run(self):
        """The workflow, node-first on one node. Returns 'succeeded' or 'failed'."""
        seq = self.job["sequence"]
        failed = False
        for i, step in enumerate(seq["commands"], 1):
            rc = self.run_step(step, "step %d" % i)
            if rc == 0:
                self.steps.append((i, "succeeded"))
                continue
            handler = step.get("errorhandler")
            if handler is None:
                self.steps.append((i, "failed"))
                failed = True
                if not seq["keepgoing"]:
                    break
                continue
            hrc = self.run_step(handler, "step %d errorhandler" % i, {
                "RD_RESULT_REASON": "NonZeroResultCode",
                "RD_RESULT_MESSAGE": "Result: %d" % rc, "RD_RESULT_RESULTCODE": str(rc)})
            # The handler's result becomes the step's.
            if hrc == 0:
                self.steps.append((i, "succeeded (handler)"))
                if seq["keepgoing"] or handler.get("keepgoingOnSuccess"):
                    continue
                failed = True  # keepgoing false and no keepgoingOnSuccess: stop, execution failed
                break
            self.steps.append((i, "failed"))
            failed = True
            if not seq["keepgoing"]:
                break
        return "failed" if failed else "succeeded"

    def dump(self):
        for label, text in self.log:
            print("--- %s:\n%s" % (label, text[-3000:]), file=sys.stderr)


def check_runner_semantics(tmp):
    """The runner itself, on tiny jobs: errorhandler and keepgoing rules as Rundeck's
    docs state them (rundeck/docs, docs/manual/jobs/job-workflows.md, "Workflow
    Behavior" under error handlers: a successful handler with keepgoing false and
    keepGoingOnSuccess false marks the step a success, runs no further step, and marks
    the execution Failed; keepgoing or keepGoingOnSuccess true goes on to the next
    step, the execution not marked; a failing handler leaves the step Failed and the
    workflow follows keepgoing), and the mask-passwords filter."""
    def job(keepgoing, kgos, handler_rc=None):
        return {"name": "t", "options": [{"name": "pw", "secure": True, "valueExposed": True,
                                          "storagePath": "keys/pw"}],
                "sequence": {"keepgoing": keepgoing, "strategy": "node-first",
                             "pluginConfig": {"LogFilter": [{"type": "mask-passwords",
                                                             "config": {"replacement": "[SECURE]"}}]},
                             "commands": [{"script": "#!/bin/sh\necho \"pw=$RD_OPTION_PW @job.execid@\"; exit 3",
                                           "errorhandler": {"script": "#!/bin/sh\n[ \"$RD_RESULT_RESULTCODE\" = 3 ]"
                                                            + ("" if handler_rc is None else
                                                               "; exit %d" % handler_rc),
                                                            "keepgoingOnSuccess": kgos}},
                                          {"script": "#!/bin/sh\nexit 0"}]}}
    keys = KeyStorage({"keys/pw": "s3cret"})
    env = {"PATH": "/usr/bin:/bin"}
    cases = [((False, False, None), "failed", [(1, "succeeded (handler)")]),
             ((False, True, None), "succeeded", [(1, "succeeded (handler)"), (2, "succeeded")]),
             ((True, False, None), "succeeded", [(1, "succeeded (handler)"), (2, "succeeded")]),
             ((True, True, None), "succeeded", [(1, "succeeded (handler)"), (2, "succeeded")]),
             # a failing handler (what this job's handlers do): keepgoingOnSuccess is moot
             ((False, True, 1), "failed", [(1, "failed")]),
             ((True, False, 1), "failed", [(1, "failed"), (2, "succeeded")])]
    for (kg, kgos, hrc), status, steps in cases:
        ex = Execution(job(kg, kgos, hrc), {}, keys, env, 7, tmp)
        got = ex.run()
        if (got, ex.steps) != (status, steps):
            fail("runner: keepgoing=%s keepgoingOnSuccess=%s: %s %s" % (kg, kgos, got, ex.steps))
        if "pw=[SECURE] 7" not in ex.log[0][1] or "s3cret" in ex.log[0][1] or "s3cret" not in ex.raw[0]:
            fail("runner: option env, token expansion or masking wrong: %r" % ex.log[0][1])


def parse_duration(s):
    total = 0
    for n, unit in re.findall(r"(\d+)\s*([smhdwy]?)", str(s)):
        total += int(n) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}[unit]
    return total


def main():
    wraptest.check_commands()
    with open(JOB_FILE) as f:
        doc = yaml.safe_load(f)  # Rundeck's SnakeYAML resolves anchors/aliases alike
    errs = validate(doc)
    if errs:
        fail("the job does not follow Rundeck's job YAML format:\n  " + "\n  ".join(errs))
    check_validator(doc)
    job = doc[0]
    check_policy(job)
    if parse_duration(job["timeout"]) < 6 * 3600:
        fail("timeout %s is below clone.waitTimeout (2h) + dblab.timeout (4h)" % job["timeout"])
    print("ok: job YAML format and policy")

    tmp = tempfile.mkdtemp(prefix="drr-rundeck.")
    emus = None
    t0 = time.monotonic()
    try:
        check_runner_semantics(tmp)
        emus = wraptest.Emulators(tmp)
        config = wraptest.write_config(os.path.join(tmp, "config.yaml"), emus.dblab_url)
        workdir = os.path.join(tmp, "work")
        token = emus.token
        keys = KeyStorage({"keys/project/dblab/token": token})
        # The Rundeck server's own environment: its AWS credentials (instance
        # role in production; the emulator's keys here) and nothing of the test's.
        base_env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": tmp, "LANG": "C.UTF-8",
                    "USER": "rundeck", "AWS_ACCESS_KEY_ID": emus.env["AWS_ACCESS_KEY_ID"],
                    "AWS_SECRET_ACCESS_KEY": emus.env["AWS_SECRET_ACCESS_KEY"],
                    "AWS_REGION": emus.env.get("AWS_REGION", "us-east-1"),
                    "AWS_ENDPOINT_URL": emus.aws_url}
        values = {"config": config, "bin": wraptest.BIN, "workdir": workdir}
        if any(o["name"] == "dblab_token" and o.get("value") for o in job["options"]):
            fail("the token has a default value")

        def execute(execid, expect, expect_steps, what):
            ex = Execution(job, values, keys, base_env, execid, tmp)
            status = ex.run()
            if status != expect or ex.steps != expect_steps:
                ex.dump()
                fail("%s: expected %s %s, got %s %s" % (what, expect, expect_steps, status, ex.steps))
            for out in ex.raw:
                if token in out:
                    ex.dump()
                    fail("%s: the DBLab token appeared in a step's output" % what)
            left = wraptest.managed_clones(emus.aws_url)
            if left:
                ex.dump()
                fail("%s: managed clones left: %s" % (what, left))
            return ex

        ok = [(i, "succeeded") for i in range(1, 7)]  # gc, snapshot, create, wait, refresh, delete
        # a. success
        ex = execute(101, "succeeded", ok, "success")
        last = [ln for ln in ex.log[-1][1].splitlines() if ln.strip()][-1]
        final = json.loads(last)
        for section in ("snapshot", "clone", "endpoint", "refresh", "deleted"):
            if section not in final:
                fail("success: the final document lacks %s" % section)
        if final.get("runId") != "rundeck-101" or final["deleted"]["id"] != final["clone"]["id"]:
            fail("success: unexpected run id / clone / deleted ids %s %s" % (final.get("runId"), final["clone"]))
        wraptest.validate_rundoc(last)
        print("ok: a successful execution (%.1fs)" % (time.monotonic() - t0))

        # b. the DBLab refresh fails: the handler of step 5 deletes the clone
        emus.dblab_fault({"type": "refresh-fail", "count": 1, "message": "pg_dump: connection refused"})
        ex = execute(102, "failed", ok[:4] + [(5, "failed")], "failing refresh")
        handler_out = dict(ex.log)["step 5 errorhandler"]
        if "deleted (or already gone)" not in handler_out or '"deleted":' not in handler_out:
            ex.dump()
            fail("failing refresh: the errorhandler did not delete the clone")
        print("ok: a failing refresh, the clone deleted by the errorhandler (%.1fs)" % (time.monotonic() - t0))

        # b2. what keepgoing: false + failing handlers mean: even with keepgoingOnSuccess
        #     set on every handler, a failed refresh stops the workflow at step 5, the
        #     step shows failed, delete (step 6) never runs, the execution fails: the
        #     handler deleted the clone but exits 1, so it never "recovers" the step.
        kgos_job = copy.deepcopy(job)
        for c in kgos_job["sequence"]["commands"]:
            c["errorhandler"]["keepgoingOnSuccess"] = True
        emus.dblab_fault({"type": "refresh-fail", "count": 1, "message": "pg_dump: connection refused"})
        ex = Execution(kgos_job, values, keys, base_env, 105, tmp)
        status = ex.run()
        if status != "failed" or ex.steps != ok[:4] + [(5, "failed")] or wraptest.managed_clones(emus.aws_url):
            ex.dump()
            fail("keepgoingOnSuccess variant: expected failed at step 5, clone deleted; got %s %s"
                 % (status, ex.steps))
        print("ok: keepgoingOnSuccess does not change it: a failed refresh fails the execution (%.1fs)"
              % (time.monotonic() - t0))

        # b3. create killed after AWS accepted the restore (SIGKILL, lost node): the
        #     step printed no document; its handler deletes the clone of this run id.
        killed_job = copy.deepcopy(job)
        create = killed_job["sequence"]["commands"][2]
        if '> "$dir/2-create.json.tmp"' not in create["script"]:
            fail("the create step no longer writes 2-create.json.tmp: update this test")
        create["script"] = create["script"].replace('> "$dir/2-create.json.tmp"',
                                                    '> /dev/null; exit 137')
        ex = Execution(killed_job, values, keys, base_env, 106, tmp)
        status = ex.run()
        out = dict(ex.log).get("step 3 errorhandler", "")
        if status != "failed" or ex.steps != ok[:2] + [(3, "failed")] or '"deleted":' not in out \
                or '"alreadyGone":false' not in out.replace(" ", ""):
            ex.dump()
            fail("killed create: expected failed at step 3 and the clone deleted by run id; got %s %s"
                 % (status, ex.steps))
        if wraptest.managed_clones(emus.aws_url):
            fail("killed create: a clone is left")
        print("ok: a create killed after AWS accepted it, the clone deleted by run id (%.1fs)"
              % (time.monotonic() - t0))

        # c. the clone ends 'failed': rds-clone-wait fails, the handler deletes it
        emus.aws_fault({"type": "restore-outcome", "status": "failed", "resource": "instance"})
        ex = execute(103, "failed", ok[:3] + [(4, "failed")], "failing wait")
        if '"deleted":' not in dict(ex.log)["step 4 errorhandler"]:
            ex.dump()
            fail("failing wait: the errorhandler did not delete the clone")
        print("ok: a failing wait, the clone deleted by the errorhandler (%.1fs)" % (time.monotonic() - t0))

        # d. the snapshot step fails: nothing was created, the handler says so and fails
        emus.aws_fault({"type": "error", "action": "DescribeDBSnapshots", "code": "AccessDenied",
                        "httpStatus": 403, "message": "not authorized", "count": 50})
        ex = execute(104, "failed", ok[:1] + [(2, "failed")], "failing snapshot")
        if "nothing to delete" not in dict(ex.log)["step 2 errorhandler"]:
            ex.dump()
            fail("failing snapshot: the errorhandler should report that no clone was created")
        print("ok: a failing snapshot step, nothing to delete (%.1fs)" % (time.monotonic() - t0))
        # The documents of an execution are files of its own, without the token.
        for root, _, files in os.walk(workdir):
            for name in files:
                if token in open(os.path.join(root, name), errors="replace").read():
                    fail("the token was written to %s" % name)
    finally:
        if emus:
            emus.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
