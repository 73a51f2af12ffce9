"""Parse and validate an AWS Query-protocol request against botocore's model.

The client serializes nested members as dotted names built from the model's
serialization names, exactly as botocore's QuerySerializer does:
  structure member  -> its locationName (or member name)
  non-flattened list -> NAME.<member locationName or "member">.N   (N from 1)
  flattened list    -> NAME.N (member locationName replaces NAME if given)
  map               -> NAME.entry.N.key / NAME.entry.N.value
  empty list        -> NAME=""
Anything else is rejected: unknown names, bad indexes, wrong scalar syntax,
missing required members, enum and range violations.  The result is a
nested Python value (dict / list / str / int / bool / datetime)."""
import base64
import datetime
import re

from .errors import AwsError

_INT_RE = re.compile(r"^-?[0-9]+$")
_FLOAT_RE = re.compile(r"^-?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$")
_INDEX_RE = re.compile(r"^[1-9][0-9]*$")


def invalid(message):
    return AwsError("InvalidParameterValue", message, 400)


def parse_timestamp(text, name):
    """ISO 8601 as the Query serializer sends it (2024-01-02T03:04:05Z,
    optional fraction and offset) or epoch seconds."""
    t = text.strip()
    try:
        if _FLOAT_RE.match(t):
            return datetime.datetime.fromtimestamp(float(t), datetime.timezone.utc)
        if t.endswith("Z") or t.endswith("z"):
            t = t[:-1] + "+00:00"
        value = datetime.datetime.fromisoformat(t)
    except (ValueError, OverflowError):
        raise invalid(f"Invalid value {text!r} for parameter {name}: "
                      "not an ISO 8601 timestamp") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    return value.astimezone(datetime.timezone.utc)


class _Node:
    """Intermediate tree: a scalar leaf string, or children keyed by name/index."""
    __slots__ = ("children", "value", "empty_list")

    def __init__(self):
        self.children = {}
        self.value = None
        self.empty_list = False


def _serialized_members(shape):
    out = {}
    for name, member in shape.members.items():
        out[member.serialization.get("name", name)] = name
    return out


def _insert(node, shape, parts, i, value, full):
    """Place `value` (the value of parameter `full`, split into `parts`) under
    `node`, which holds a value of `shape`, starting at parts[i]."""
    kind = shape.type_name
    if kind == "structure":
        if i >= len(parts):
            raise invalid(f"The parameter {full} is not recognized")
        members = _serialized_members(shape)
        name = members.get(parts[i])
        if name is None:
            raise invalid(f"The parameter {full} is not recognized")
        child = node.children.setdefault(name, _Node())
        _insert(child, shape.members[name], parts, i + 1, value, full)
        return
    if kind == "list":
        if i >= len(parts):
            if value != "":
                raise invalid(f"The parameter {full} must be a list "
                              f"({full}.{_list_item_name(shape)}.1, ...)")
            node.empty_list = True
            return
        j = i
        if not shape.serialization.get("flattened"):
            item = _list_item_name(shape)
            if parts[j] != item:
                raise invalid(f"The parameter {full} is not recognized")
            j += 1
        if j >= len(parts) or not _INDEX_RE.match(parts[j]):
            raise invalid(f"The parameter {full} is not recognized "
                          "(list indexes start at 1)")
        child = node.children.setdefault(int(parts[j]), _Node())
        _insert(child, shape.member, parts, j + 1, value, full)
        return
    if kind == "map":
        j = i
        if not shape.serialization.get("flattened"):
            if j >= len(parts) or parts[j] != "entry":
                raise invalid(f"The parameter {full} is not recognized")
            j += 1
        if j + 1 >= len(parts) or not _INDEX_RE.match(parts[j]) \
                or parts[j + 1] not in ("key", "value") or j + 2 != len(parts):
            raise invalid(f"The parameter {full} is not recognized")
        entry = node.children.setdefault(int(parts[j]), _Node())
        leaf = entry.children.setdefault(parts[j + 1], _Node())
        leaf.value = value
        return
    # scalar
    if i != len(parts):
        raise invalid(f"The parameter {full} is not recognized")
    node.value = value


def _list_item_name(shape):
    return shape.member.serialization.get("name", "member")


def _indexes(node, path):
    keys = sorted(node.children)
    if keys != list(range(1, len(keys) + 1)):
        raise invalid(f"The list {path} must be numbered from 1 without gaps "
                      f"(got indexes {keys})")
    return keys


def _convert(node, shape, path):
    kind = shape.type_name
    if kind == "structure":
        if node.value is not None:
            raise invalid(f"The parameter {path} is a structure, not a value")
        out = {}
        for name, child in node.children.items():
            member_path = f"{path}.{name}" if path else name
            out[name] = _convert(child, shape.members[name], member_path)
        for name in shape.required_members:
            if name not in out:
                wire = shape.members[name].serialization.get("name", name)
                full = f"{path}.{wire}" if path else wire
                raise AwsError("MissingParameter",
                               f"The request must contain the parameter {full}", 400)
        return out
    if kind == "list":
        if node.empty_list:
            if node.children:
                raise invalid(f"The parameter {path} is both empty and not empty")
            return []
        items = [_convert(node.children[k], shape.member, f"{path}[{k}]")
                 for k in _indexes(node, path)]
        _check_length(items, shape, path)
        return items
    if kind == "map":
        out = {}
        for k in _indexes(node, path):
            entry = node.children[k]
            if "key" not in entry.children or "value" not in entry.children:
                raise AwsError("MissingParameter",
                               f"The map {path} entry {k} needs a key and a value", 400)
            key = _scalar(entry.children["key"].value, shape.key, f"{path}.key")
            out[key] = _scalar(entry.children["value"].value, shape.value,
                               f"{path}.value")
        return out
    return _scalar(node.value, shape, path)


def _check_length(value, shape, path):
    lo = shape.metadata.get("min")
    hi = shape.metadata.get("max")
    n = len(value)
    if lo is not None and n < lo:
        raise invalid(f"The parameter {path} must have at least {lo} "
                      f"{'items' if isinstance(value, list) else 'characters'}")
    if hi is not None and n > hi:
        raise invalid(f"The parameter {path} must have at most {hi} "
                      f"{'items' if isinstance(value, list) else 'characters'}")


def _scalar(text, shape, path):
    kind = shape.type_name
    if kind == "string":
        enum = shape.metadata.get("enum")
        if enum and text not in enum:
            raise invalid(f"Invalid value {text!r} for parameter {path}; "
                          f"valid values: {', '.join(enum)}")
        _check_length(text, shape, path)
        pattern = shape.metadata.get("pattern")
        if pattern and not re.search(pattern, text):
            raise invalid(f"The parameter {path} does not match pattern {pattern}")
        return text
    if kind in ("integer", "long"):
        if not _INT_RE.match(text):
            raise invalid(f"Invalid value {text!r} for parameter {path}: "
                          "not an integer")
        value = int(text)
        lo = shape.metadata.get("min")
        hi = shape.metadata.get("max")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise invalid(f"Invalid value {value} for parameter {path}: "
                          f"must be between {lo} and {hi}")
        return value
    if kind in ("double", "float"):
        if not _FLOAT_RE.match(text):
            raise invalid(f"Invalid value {text!r} for parameter {path}: "
                          "not a number")
        return float(text)
    if kind == "boolean":
        if text not in ("true", "false"):
            raise invalid(f"Invalid value {text!r} for parameter {path}: "
                          "must be true or false")
        return text == "true"
    if kind == "timestamp":
        return parse_timestamp(text, path)
    if kind == "blob":
        try:
            return base64.b64decode(text, validate=True)
        except ValueError:
            raise invalid(f"The parameter {path} is not valid base64") from None
    raise invalid(f"The parameter {path} has unsupported type {kind}")


def parse_params(pairs, op_model):
    """pairs: list of (name, value) as received (Action and Version removed).
    Returns the validated, typed input of op_model."""
    shape = op_model.input_shape
    root = _Node()
    seen = set()
    for name, value in pairs:
        if name in seen:
            raise invalid(f"The parameter {name} is given more than once")
        seen.add(name)
        if shape is None:
            raise invalid(f"The parameter {name} is not recognized")
        _insert(root, shape, name.split("."), 0, value, name)
    if shape is None:
        return {}
    return _convert(root, shape, "")
