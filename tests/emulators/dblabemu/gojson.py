"""Render JSON and times the way the Go engine does.

The engine writes API bodies with json.MarshalIndent(v, "", "  ") (api.WriteJSON),
/healthz with json.NewEncoder(w).Encode (compact plus a newline), escapes <, > and &
as \\u003c, \\u003e, \\u0026, prints integral float64 values without a fraction, renders
models.LocalTime as "2006-01-02 15:04:05 -07:00" and time.Time as RFC 3339 with
nanoseconds (trailing zeros trimmed).
"""
import datetime
import json


def _go_floats(value):
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e21:
            return int(value)
        return value
    if isinstance(value, dict):
        return {k: _go_floats(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_go_floats(v) for v in value]
    return value


def _html_escape(text):
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def marshal_indent(value):
    """api.WriteJSON: two-space indentation, no trailing newline."""
    return _html_escape(json.dumps(_go_floats(value), indent=2, ensure_ascii=False))


def encode_compact(value):
    """json.NewEncoder(w).Encode: compact with a trailing newline."""
    return _html_escape(json.dumps(_go_floats(value), separators=(",", ":"),
                                   ensure_ascii=False)) + "\n"


def go_type_name(value):
    """fmt's %T for a value decoded by encoding/json into interface{}."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "[]interface {}"
    if isinstance(value, dict):
        return "map[string]interface {}"
    return type(value).__name__


def go_sharp_v(value):
    """fmt's %#v for a JSON-decoded value (as projection errors print it)."""
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if value is None:
        return "<nil>"
    if isinstance(value, list):
        return "[]interface {}{" + ", ".join(go_sharp_v(v) for v in value) + "}"
    if isinstance(value, dict):
        inner = ", ".join(json.dumps(k) + ":" + go_sharp_v(v) for k, v in sorted(value.items()))
        return "map[string]interface {}{" + inner + "}"
    return str(value)


UTC = datetime.timezone.utc


def local_time(ts):
    """models.LocalTime.MarshalJSON: "2006-01-02 15:04:05 -07:00" (UTC here)."""
    if ts is None:
        return None
    dt = datetime.datetime.fromtimestamp(ts, UTC)
    return dt.strftime("%Y-%m-%d %H:%M:%S +00:00")


def rfc3339nano(ts):
    """time.Time.MarshalJSON: RFC 3339 with up to nine fractional digits, zeros trimmed."""
    dt = datetime.datetime.fromtimestamp(ts, UTC)
    frac = ("%06d" % dt.microsecond).rstrip("0")
    base = dt.strftime("%Y-%m-%dT%H:%M:%S")
    return base + ("." + frac if frac else "") + "Z"
