#!/usr/bin/python3
"""Validate run documents against docs/run-document.schema.json.

Usage: validate_rundoc.py [--schema PATH] [--require SECTION[,SECTION...]] [FILE...]

Reads each FILE, or stdin when none is given. Each input must be exactly ONE
line holding one JSON object (what every command writes to stdout), optionally
followed by a newline. Exit 0 when every input is valid; 1 with one line per
problem on stderr, each naming the input and the path of the offending field
(e.g. "stdin: clone.instances[0]: 5 is not of type 'string'"); 2 when an input
or the schema cannot be read.

Other tests may import it and call check(raw_bytes, name, validator, require).
"""
import argparse
import json
import os
import re
import sys

from jsonschema import Draft202012Validator

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SCHEMA = os.path.join(HERE, "..", "..", "docs", "run-document.schema.json")


def load_validator(path=DEFAULT_SCHEMA):
    with open(path, encoding="utf-8") as f:
        schema = json.load(f)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def path_of(error):
    out = ""
    for part in error.absolute_path:
        if isinstance(part, int):
            out += "[%d]" % part
        else:
            out += ("." if out else "") + str(part)
    return out or "(document)"


def message_of(error):
    """jsonschema's message, made plain for unknown keys (typos)."""
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = error.schema.get("properties", {})
        patterns = error.schema.get("patternProperties", {})
        extra = [k for k in error.instance
                 if k not in known and not any(re.search(p, k) for p in patterns)]
        if extra:
            return "unknown key%s %s (allowed: %s)" % (
                "s" if len(extra) > 1 else "", ", ".join(repr(k) for k in sorted(extra)),
                ", ".join(sorted(known)))
    return error.message


def _no_duplicates(pairs):
    seen = {}
    for k, v in pairs:
        if k in seen:
            raise ValueError("duplicate key %r" % k)
        seen[k] = v
    return seen


def check(raw, name, validator, require=()):
    """Returns the list of problems (empty when valid), each "name: path: message"."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        return ["%s: not UTF-8: %s" % (name, e)]
    body = text[:-1] if text.endswith("\n") else text
    if not body.strip():
        return ["%s: empty input" % name]
    if "\n" in body:
        return ["%s: more than one line (a run document is written on ONE line)" % name]
    try:
        doc = json.loads(body, object_pairs_hook=_no_duplicates)
    except ValueError as e:
        return ["%s: not JSON: %s" % (name, e)]
    problems = []
    for section in require:
        if not isinstance(doc, dict) or section not in doc:
            problems.append("%s: %s: required section missing" % (name, section))
    for e in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path))):
        problems.append("%s: %s: %s" % (name, path_of(e), message_of(e)))
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--schema", default=DEFAULT_SCHEMA)
    ap.add_argument("--require", default="", help="comma-separated sections that must be present")
    ap.add_argument("files", nargs="*")
    args = ap.parse_args()
    try:
        validator = load_validator(args.schema)
    except (OSError, ValueError) as e:
        print("%s: %s" % (args.schema, e), file=sys.stderr)
        return 2
    require = [s for s in args.require.split(",") if s]
    inputs = args.files or ["-"]
    failed = False
    for f in inputs:
        name = "stdin" if f == "-" else f
        try:
            if f == "-":
                raw = sys.stdin.buffer.read()
            else:
                with open(f, "rb") as fh:
                    raw = fh.read()
        except OSError as e:
            print("%s: %s" % (name, e), file=sys.stderr)
            return 2
        for p in check(raw, name, validator, require):
            print(p, file=sys.stderr)
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
