"""Nomad's job schema, for checking a job file parsed by the real HCL2 parser.

Ported from hashicorp/nomad v1.10.5: the `hcl:"..."` tags of the structs jobspec2
decodes a job file into. Each struct: {name: kind}, kind one of
"label", "attr:TYPE" (an attribute; TYPE string, int, bool, duration,
list(string), map), "block:STRUCT" (a block decoded into STRUCT; None = a block
whose own fields are not ported here, accepted as it is), "labelled:STRUCT" (a
map of labelled blocks), "map-block" (a block of free key = value pairs).
A key that is not in its struct is an error, as jobspec2 reports it
("Unsupported argument" / "Unsupported block type").
"""
import re

# api/jobs.go, type Job (v1.10.5)
JOB = {
    "region": "attr:string", "namespace": "attr:string", "id": "attr:string", "name": "attr:string",
    "type": "attr:string", "priority": "attr:int", "all_at_once": "attr:bool",
    "datacenters": "attr:list(string)", "node_pool": "attr:string", "constraint": "block:None",
    "affinity": "block:None", "group": "labelled:TaskGroup", "update": "block:None",
    "multiregion": "block:None", "spread": "block:None", "periodic": "block:PeriodicConfig",
    "parameterized": "block:None", "reschedule": "block:ReschedulePolicy", "migrate": "block:None",
    "meta": "map-block", "ui": "block:None",
}
# api/jobs.go, type PeriodicConfig
PERIODIC = {"enabled": "attr:bool", "cron": "attr:string", "crons": "attr:list(string)",
            "prohibit_overlap": "attr:bool", "time_zone": "attr:string"}
# api/tasks.go, type TaskGroup
TASK_GROUP = {
    "count": "attr:int", "constraint": "block:None", "affinity": "block:None", "task": "labelled:Task",
    "spread": "block:None", "volume": "labelled:VolumeRequest", "restart": "block:RestartPolicy",
    "disconnect": "block:None", "reschedule": "block:ReschedulePolicy", "ephemeral_disk": "block:None",
    "update": "block:None", "migrate": "block:None", "network": "block:None", "meta": "map-block",
    "service": "block:None", "shutdown_delay": "attr:duration",
    "stop_after_client_disconnect": "attr:duration", "max_client_disconnect": "attr:duration",
    "scaling": "block:None", "consul": "block:None", "prevent_reschedule_on_lost": "attr:bool",
}
# api/tasks.go, type RestartPolicy
RESTART = {"interval": "attr:duration", "attempts": "attr:int", "delay": "attr:duration",
           "mode": "attr:string", "render_templates": "attr:bool"}
# api/tasks.go, type ReschedulePolicy
RESCHEDULE = {"attempts": "attr:int", "interval": "attr:duration", "delay": "attr:duration",
              "delay_function": "attr:string", "max_delay": "attr:duration", "unlimited": "attr:bool"}
# api/tasks.go, type VolumeRequest
VOLUME_REQUEST = {"type": "attr:string", "source": "attr:string", "read_only": "attr:bool",
                  "sticky": "attr:bool", "access_mode": "attr:string", "attachment_mode": "attr:string",
                  "mount_options": "block:None", "per_alloc": "attr:bool"}
# api/tasks.go, type Task; `config` is the driver's own schema (below)
TASK = {
    "driver": "attr:string", "user": "attr:string", "lifecycle": "block:None", "config": "block:config",
    "constraint": "block:None", "affinity": "block:None", "env": "map-block", "service": "block:None",
    "resources": "block:Resources", "restart": "block:RestartPolicy", "meta": "map-block",
    "kill_timeout": "attr:duration", "logs": "block:LogConfig", "artifact": "block:None",
    "vault": "block:None", "consul": "block:None", "template": "block:Template",
    "dispatch_payload": "block:None", "volume_mount": "block:VolumeMount", "csi_plugin": "block:None",
    "leader": "attr:bool", "shutdown_delay": "attr:duration", "kill_signal": "attr:string",
    "kind": "attr:string", "scaling": "block:None", "identity": "block:None", "action": "block:None",
    "schedule": "block:None",
}
# api/tasks.go, type VolumeMount
VOLUME_MOUNT = {"volume": "attr:string", "destination": "attr:string", "read_only": "attr:bool",
                "propagation_mode": "attr:string", "selinux_label": "attr:string"}
# api/tasks.go, type Template
TEMPLATE = {
    "source": "attr:string", "destination": "attr:string", "data": "attr:string",
    "change_mode": "attr:string", "change_script": "block:None", "change_signal": "attr:string",
    "once": "attr:bool", "splay": "attr:duration", "perms": "attr:string", "uid": "attr:int",
    "gid": "attr:int", "left_delimiter": "attr:string", "right_delimiter": "attr:string",
    "env": "attr:bool", "vault_grace": "attr:duration", "wait": "block:None",
    "error_on_missing_key": "attr:bool",
}
# api/tasks.go, type LogConfig
LOG_CONFIG = {"max_files": "attr:int", "max_file_size": "attr:int", "enabled": "attr:bool",
              "disabled": "attr:bool"}
# api/resources.go, type Resources
RESOURCES = {"cpu": "attr:int", "cores": "attr:int", "memory": "attr:int", "memory_max": "attr:int",
             "disk": "attr:int", "network": "block:None", "device": "block:None", "numa": "block:None",
             "secrets": "attr:int", "iops": "attr:int"}
# drivers/exec/driver.go, taskConfigSpec (the exec driver's `config`; command required)
EXEC_CONFIG = {"command": "attr:string", "args": "attr:list(string)", "pid_mode": "attr:string",
               "ipc_mode": "attr:string", "cap_add": "attr:list(string)",
               "cap_drop": "attr:list(string)", "work_dir": "attr:string"}
EXEC_REQUIRED = {"command"}
# jobspec2/types.variables.go, variableBlockSchema
VARIABLE = {"description": "attr:any", "default": "attr:any", "type": "attr:any",
            "validation": "block:None"}
# jobspec2/types.config.go, jobConfigSchema: the file's top level
FILE = {"variables": "block:None", "variable": "labelled:Variable", "locals": "block:None",
        "job": "labelled:Job"}

STRUCTS = {"Job": JOB, "PeriodicConfig": PERIODIC, "TaskGroup": TASK_GROUP, "RestartPolicy": RESTART,
           "ReschedulePolicy": RESCHEDULE, "VolumeRequest": VOLUME_REQUEST, "Task": TASK,
           "VolumeMount": VOLUME_MOUNT, "Template": TEMPLATE, "LogConfig": LOG_CONFIG,
           "Resources": RESOURCES, "Variable": VARIABLE, "File": FILE}

_INTERP = re.compile(r"^\$\{.*\}$", re.S)  # an expression hcl2json left unevaluated


def _type_ok(value, typ):
    if typ == "any" or (isinstance(value, str) and _INTERP.match(value)):
        return True
    if typ == "string":
        return isinstance(value, str)
    if typ == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if typ == "bool":
        return isinstance(value, bool)
    if typ == "duration":
        return isinstance(value, str) and re.fullmatch(r"(\d+(\.\d+)?(ns|us|ms|s|m|h))+", value)
    if typ == "list(string)":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    return False


def _bodies(value, where, errors):
    if not isinstance(value, list) or not all(isinstance(b, dict) for b in value):
        errors.append("%s: a block expected" % where)
        return []
    return value


def check_body(body, struct, where, errors):
    schema = STRUCTS[struct] if isinstance(struct, str) else struct
    for key, value in body.items():
        kind = schema.get(key)
        path = "%s.%s" % (where, key) if where else key
        if kind is None:
            errors.append("%s: unsupported argument or block (not in Nomad's %s)" % (path, struct))
            continue
        if kind.startswith("attr:"):
            if isinstance(value, list) and value and all(isinstance(v, dict) for v in value) \
                    and kind != "attr:list(string)":
                errors.append("%s: an attribute (%s = ...) expected, not a block" % (path, key))
            elif not _type_ok(value, kind[5:]):
                errors.append("%s: %r is not a %s" % (path, value, kind[5:]))
        elif kind == "map-block":
            for b in _bodies(value, path, errors):
                for k, v in b.items():
                    if not isinstance(v, (str, int, float, bool)):
                        errors.append("%s.%s: a plain value expected" % (path, k))
        elif kind.startswith("block:"):
            target = kind[6:]
            for b in _bodies(value, path, errors):
                if target == "config":
                    if body.get("driver") == "exec":  # another driver has its own schema
                        check_config(b, path, errors)
                elif target != "None":
                    check_body(b, target, path, errors)
        elif kind.startswith("labelled:"):
            if not isinstance(value, dict):
                errors.append("%s: a labelled block (%s \"NAME\" { ... }) expected" % (path, key))
                continue
            for label, bodies in value.items():
                for b in _bodies(bodies, "%s[%s]" % (path, label), errors):
                    check_body(b, kind[9:], "%s[%s]" % (path, label), errors)


def check_config(body, where, errors):
    check_body(body, EXEC_CONFIG, where, errors)
    for req in sorted(EXEC_REQUIRED - set(body)):
        errors.append("%s: the exec driver requires %s" % (where, req))


def validate(doc):
    """doc: the job file as tests/lib/hcl2json.js renders it. Returns the errors."""
    errors = []
    check_body(doc, "File", "", errors)
    return errors
