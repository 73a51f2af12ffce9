"""The engine's config projection (engine/pkg/util/projection + models.ConfigProjection).

GET /admin/config loads the "default" group of fields from server.yml and stores them
into a nested JSON object; POST /admin/config loads the "default" and "sensitive"
groups from the request's nested JSON and stores them back into the YAML node tree.

The YAML side works on the node graph (yaml.compose), like the engine's yaml.v3
Node code: a path is followed key by key, and a key that is missing is SILENTLY not
written (yamlSoft.Set returns nil), unless the field is tagged createKey and only its
last element is missing. That is the behaviour dblab-refresh must detect by reading
the config back.
"""
import yaml
import yaml.composer
import yaml.constructor
import yaml.events
import yaml.parser
import yaml.reader
import yaml.resolver
import yaml.scanner
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from .gojson import go_sharp_v, go_type_name

TAG = "tag:yaml.org,2002:"
LD = "retrieval.spec.logicalDump.options."
LR = "retrieval.spec.logicalRestore.options."
PR = "retrieval.spec.physicalRestore.options."


class Field:
    def __init__(self, name, path, ftype, groups=("default",), create_key=False):
        self.name = name              # the name guardModeFields reports
        self.path = path.split(".")
        self.ftype = ftype            # str, int, float, bool, map, slice
        self.groups = groups
        self.create_key = create_key


# models.ConfigProjection of the engine (4.x, with rdsIam and the physical fields).
FIELDS = [
    Field("debug", "global.debug", "bool"),
    Field("databaseConfigs", "databaseConfigs.configs", "map"),
    Field("dockerImage", "databaseContainer.dockerImage", "str"),
    Field("timetable", "retrieval.refresh.timetable", "str"),
    Field("connectionString", LD + "source.connectionString", "str", ("sensitive",), True),
    Field("dbname", LD + "source.connection.dbname", "str"),
    Field("host", LD + "source.connection.host", "str"),
    Field("password", LD + "source.connection.password", "str", ("sensitive",)),
    Field("port", LD + "source.connection.port", "int"),
    Field("username", LD + "source.connection.username", "str"),
    Field("databases", LD + "databases", "map", create_key=True),
    Field("dumpParallelJobs", LD + "parallelJobs", "int"),
    Field("restoreParallelJobs", LR + "parallelJobs", "int"),
    Field("restoreConfigs", LR + "configs", "map", create_key=True),
    Field("dumpCustomOptions", LD + "customOptions", "slice"),
    Field("restoreCustomOptions", LR + "customOptions", "slice"),
    Field("ignoreDumpErrors", LD + "ignoreErrors", "bool"),
    Field("ignoreRestoreErrors", LR + "ignoreErrors", "bool"),
    Field("rdsIamDbInstanceIdentifier", LD + "source.rdsIam.dbInstanceIdentifier", "str"),
    Field("physicalTool", PR + "tool", "str"),
    Field("physicalDockerImage", PR + "dockerImage", "str"),
    Field("physicalSyncEnabled", PR + "sync.enabled", "bool"),
    Field("physicalWalgBackupName", PR + "walg.backupName", "str"),
    Field("physicalPgbackrestStanza", PR + "pgbackrest.stanza", "str"),
    Field("physicalPgbackrestDelta", PR + "pgbackrest.delta", "bool"),
    Field("physicalEnvs", PR + "envs", "map", create_key=True),
]

LOGICAL_FIELDS = ["connectionString", "host", "port", "username", "dbname", "password",
                  "databases", "dumpParallelJobs", "restoreParallelJobs", "restoreConfigs",
                  "dumpCustomOptions", "restoreCustomOptions", "ignoreDumpErrors",
                  "ignoreRestoreErrors", "rdsIamDbInstanceIdentifier"]
PHYSICAL_FIELDS = ["physicalTool", "physicalDockerImage", "physicalSyncEnabled",
                   "physicalWalgBackupName", "physicalPgbackrestStanza",
                   "physicalPgbackrestDelta", "physicalEnvs"]


class ProjectionError(Exception):
    pass


class AliasNode:
    """A `*anchor` occurrence, kept apart from its target as yaml.v3's AliasNode is: the
    projection cannot walk through it ("node is not a mapping node")."""

    def __init__(self, target):
        self.target = target
        self.tag = getattr(target, "tag", "")
        self.value = getattr(target, "value", "")


class _AliasComposer(yaml.composer.Composer):
    def compose_node(self, parent, index):
        alias = self.check_event(yaml.events.AliasEvent)
        node = super().compose_node(parent, index)
        return AliasNode(node) if alias else node


class _NodeLoader(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser, _AliasComposer,
                  yaml.constructor.SafeConstructor, yaml.resolver.Resolver):
    def __init__(self, stream):
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        _AliasComposer.__init__(self)
        yaml.constructor.SafeConstructor.__init__(self)
        yaml.resolver.Resolver.__init__(self)


def compose(text):
    """The YAML node tree of server.yml, aliases kept as AliasNode."""
    loader = _NodeLoader(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


def unwrap_aliases(node, seen=None):
    """Back to plain shared nodes, so yaml.serialize writes anchors and aliases."""
    seen = seen if seen is not None else set()
    if isinstance(node, AliasNode):
        return node.target
    if id(node) in seen:
        return node
    seen.add(id(node))
    if isinstance(node, MappingNode):
        node.value = [(unwrap_aliases(k, seen), unwrap_aliases(v, seen)) for k, v in node.value]
    elif isinstance(node, SequenceNode):
        node.value = [unwrap_aliases(v, seen) for v in node.value]
    return node


# --- ptypes.Convert -----------------------------------------------------------------

def _go_float_str(v):
    if v == 0:
        return "0.0"
    if float(v).is_integer():
        return str(int(v))
    return repr(float(v))


def _parse_int(s):
    t = s[1:] if s[:1] in "+-" else s
    if not t or not t.isdigit():
        raise ProjectionError('strconv.ParseInt: parsing %s: invalid syntax' % go_sharp_v(s))
    return int(s)


def _parse_bool(s):
    if s in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if s in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    raise ProjectionError('strconv.ParseBool: parsing %s: invalid syntax' % go_sharp_v(s))


def _parse_float(s):
    try:
        return float(s)
    except ValueError:
        raise ProjectionError('strconv.ParseFloat: parsing %s: invalid syntax' % go_sharp_v(s))


def convert(value, ftype):
    is_num = isinstance(value, (int, float)) and not isinstance(value, bool)
    if ftype == "str":
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if is_num:
            return _go_float_str(value)
        raise ProjectionError("unsupported string type: %s" % go_type_name(value))
    if ftype == "int":
        if isinstance(value, str):
            return _parse_int(value)
        if is_num:
            return int(value)
        raise ProjectionError("unsupported int64 type: %s" % go_type_name(value))
    if ftype == "float":
        if isinstance(value, str):
            return _parse_float(value)
        if is_num:
            return float(value)
        raise ProjectionError("unsupported float64 type: %s" % go_type_name(value))
    if ftype == "bool":
        if isinstance(value, str):
            return _parse_bool(value)
        if isinstance(value, bool):
            return value
        raise ProjectionError("unsupported bool type: %s" % go_type_name(value))
    if ftype == "map":
        if isinstance(value, dict):
            return value
        raise ProjectionError("unsupported map type: %s" % go_type_name(value))
    if ftype == "slice":
        if isinstance(value, list):
            return value
        raise ProjectionError("unsupported slice type: %s" % go_type_name(value))
    raise ProjectionError("unsupported type for conversion: %s" % go_type_name(value))


def _to_yaml_string(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _go_float_str(value)
    return value


# --- the YAML accessor (yamlSoft) ---------------------------------------------------

_TAG_TYPES = {"str": "str", "int": "int", "float": "float", "bool": "bool",
              "map": "map", "seq": "slice"}


def _short_tag(node):
    tag = node.tag or ""
    return tag[len(TAG):] if tag.startswith(TAG) else tag


def _find(node, key):
    for i, (k, v) in enumerate(node.value):
        if isinstance(k, ScalarNode) and k.value == key:
            return i, v
    return None, None


def _convert_map(node):
    out = {}
    for k, v in node.value:
        if isinstance(v, AliasNode):
            # yaml.v3: an alias node has no resolved tag, so convertMap cannot type it.
            raise ProjectionError("unsupported type for conversion: string")
        tag = _short_tag(v)
        if tag == "null":
            out[k.value] = {}
        elif isinstance(v, MappingNode):
            out[k.value] = _convert_map(v)
        elif isinstance(v, SequenceNode):
            out[k.value] = _convert_slice(v)
        else:
            ftype = _TAG_TYPES.get(tag)
            if ftype is None:
                raise ProjectionError("unsupported type for conversion: string")
            out[k.value] = convert(v.value, ftype)
    return out


def _convert_slice(node):
    out = []
    for item in node.value:
        item = item.target if isinstance(item, AliasNode) else item
        if not isinstance(item, ScalarNode):
            raise ProjectionError("failed to convert a slice element: unsupported string type")
        out.append(item.value)
    return out


def _root(document):
    if not isinstance(document, MappingNode):
        raise ProjectionError("document has no mapping node")
    return document


def yaml_get(document, field):
    node = _root(document)
    for key in field.path:
        if not isinstance(node, MappingNode):
            raise ProjectionError("node is not a mapping node")
        _, child = _find(node, key)
        if child is None:
            return None
        node = child
    if isinstance(node, AliasNode):
        node = node.target
    tag = _short_tag(node)
    if tag == "null":
        return None
    if isinstance(node, MappingNode):
        value = _convert_map(node)
        return value if field.ftype == "map" else None
    if isinstance(node, SequenceNode):
        value = _convert_slice(node)
        return value if field.ftype == "slice" else None
    if field.ftype in ("map", "slice"):
        return None
    return convert(node.value, field.ftype)


def _value_node(value, ftype):
    if isinstance(value, (dict, list)):
        return yaml.compose(yaml.safe_dump(value, default_flow_style=False))
    return ScalarNode(TAG + ftype, _to_yaml_string(value))


def yaml_set(document, field, value):
    """yamlSoft.Set: follow the path; a missing key is silently not written."""
    node = _root(document)
    parent, index = None, None
    for i, key in enumerate(field.path):
        if not isinstance(node, MappingNode):
            raise ProjectionError("node is not a mapping node")
        idx, child = _find(node, key)
        if child is None:
            if field.create_key and i == len(field.path) - 1:
                child = ScalarNode(TAG + "map", "")
                node.value.append((ScalarNode(TAG + "str", key), child))
                idx = len(node.value) - 1
            else:
                return False
        parent, index, node = node, idx, child
    if value is None:
        return True
    parent.value[index] = (parent.value[index][0], _value_node(value, field.ftype))
    return True


# --- the JSON accessor (softJSON) ---------------------------------------------------

def json_get(obj, field):
    parent = obj
    for key in field.path[:-1]:
        if key not in parent:
            return None
        child = parent[key]
        if not isinstance(child, dict):
            raise ProjectionError("unsupported type: %s" % go_type_name(child))
        parent = child
    child = parent.get(field.path[-1])
    if child is None:
        return None
    try:
        return convert(child, field.ftype)
    except ProjectionError as e:
        raise ProjectionError("failed to convert %s: %s" % (go_sharp_v(child), e))


def json_set(obj, field, value):
    parent = obj
    for key in field.path[:-1]:
        parent = parent.setdefault(key, {})
    parent[field.path[-1]] = value


# --- whole-projection operations ----------------------------------------------------

def _in_groups(field, groups):
    return any(g in groups for g in field.groups)


def load_yaml(document, groups):
    return {f.name: yaml_get(document, f) for f in FIELDS if _in_groups(f, groups)}


def load_json(obj, groups):
    return {f.name: json_get(obj, f) for f in FIELDS if _in_groups(f, groups)}


def store_json(proj, groups):
    out = {}
    for f in FIELDS:
        if _in_groups(f, groups) and proj.get(f.name) is not None:
            json_set(out, f, proj[f.name])
    return out


def store_yaml(document, proj, groups):
    """Returns the names of the fields that were given but not written."""
    skipped = []
    for f in FIELDS:
        if _in_groups(f, groups) and proj.get(f.name) is not None:
            if not yaml_set(document, f, proj[f.name]):
                skipped.append(f.name)
    return skipped


def guard_mode_fields(mode, proj):
    """srv.guardModeFields: a projection must not mix the other mode's fields."""
    if mode == "logical":
        for name in PHYSICAL_FIELDS:
            if proj.get(name) is not None:
                return 'logical-mode config update must not set physical-mode field "%s"' % name
    elif mode == "physical":
        for name in LOGICAL_FIELDS:
            if proj.get(name) is not None:
                return 'physical-mode config update must not set logical-mode field "%s"' % name
    return None
