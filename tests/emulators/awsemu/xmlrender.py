"""Render Query-protocol responses generically from the model's output shape,
so element names, list member names and scalar formats are the model's.

Values are plain Python: dict for structures (keys = model member names; keys
starting with "_" are emulator-internal and skipped), list, str, int, bool,
datetime.  A key the shape does not have is an emulator bug and raises."""
import datetime
from xml.sax.saxutils import escape


def format_timestamp(value):
    """AWS Query responses use ISO 8601 UTC with milliseconds."""
    value = value.astimezone(datetime.timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _scalar_text(value, shape):
    kind = shape.type_name
    if kind == "boolean":
        if not isinstance(value, bool):
            raise TypeError(f"{shape.name}: expected bool, got {value!r}")
        return "true" if value else "false"
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{shape.name}: expected int, got {value!r}")
        return str(value)
    if kind in ("double", "float"):
        return repr(float(value))
    if kind == "timestamp":
        if not isinstance(value, datetime.datetime):
            raise TypeError(f"{shape.name}: expected datetime, got {value!r}")
        return format_timestamp(value)
    if kind == "string":
        if not isinstance(value, str):
            raise TypeError(f"{shape.name}: expected str, got {value!r}")
        enum = shape.metadata.get("enum")
        if enum and value not in enum:
            raise ValueError(f"{shape.name}: {value!r} not in enum")
        return value
    raise TypeError(f"unsupported output type {kind}")


def _render(out, name, value, shape, indent):
    pad = "  " * indent
    kind = shape.type_name
    if kind == "structure":
        unknown = [k for k in value if not k.startswith("_") and k not in shape.members]
        if unknown:
            raise KeyError(f"{shape.name} has no member(s) {unknown}")
        out.append(f"{pad}<{name}>")
        for member_name, member_shape in shape.members.items():
            v = value.get(member_name)
            if v is None:
                continue
            elem = member_shape.serialization.get("name", member_name)
            _render(out, elem, v, member_shape, indent + 1)
        out.append(f"{pad}</{name}>")
        return
    if kind == "list":
        item = shape.member.serialization.get("name", "member")
        if shape.serialization.get("flattened"):
            for v in value:
                _render(out, item if shape.member.serialization.get("name") else name,
                        v, shape.member, indent)
            return
        if not value:
            out.append(f"{pad}<{name}/>")
            return
        out.append(f"{pad}<{name}>")
        for v in value:
            _render(out, item, v, shape.member, indent + 1)
        out.append(f"{pad}</{name}>")
        return
    if kind == "map":
        out.append(f"{pad}<{name}>")
        for k, v in value.items():
            out.append(f"{pad}  <entry>")
            _render(out, "key", k, shape.key, indent + 2)
            _render(out, "value", v, shape.value, indent + 2)
            out.append(f"{pad}  </entry>")
        out.append(f"{pad}</{name}>")
        return
    out.append(f"{pad}<{name}>{escape(_scalar_text(value, shape))}</{name}>")


def render_result(op_model, namespace, result, request_id):
    """<OpResponse xmlns=ns><OpResult>...</OpResult><ResponseMetadata>..."""
    op = op_model.name
    out = [f'<{op}Response xmlns="{namespace}">']
    shape = op_model.output_shape
    if shape is not None:
        # botocore keeps the resultWrapper only in the raw operation dict.
        output = op_model._operation_model.get("output", {})  # pylint: disable=protected-access
        wrapper = output.get("resultWrapper", f"{op}Result")
        _render(out, wrapper, result or {}, shape, 1)
    out.append("  <ResponseMetadata>")
    out.append(f"    <RequestId>{request_id}</RequestId>")
    out.append("  </ResponseMetadata>")
    out.append(f"</{op}Response>")
    return ("\n".join(out) + "\n").encode("utf-8")


def render_error(namespace, err, request_id):
    kind = "Sender" if err.sender else "Receiver"
    return (f'<ErrorResponse xmlns="{namespace}">\n'
            f"  <Error>\n"
            f"    <Type>{kind}</Type>\n"
            f"    <Code>{escape(err.code)}</Code>\n"
            f"    <Message>{escape(err.message)}</Message>\n"
            f"  </Error>\n"
            f"  <RequestId>{request_id}</RequestId>\n"
            f"</ErrorResponse>\n").encode("utf-8")
