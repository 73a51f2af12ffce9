#!/usr/bin/python3
"""Validate a run document against docs/run-document.schema.json.

Usage: validate_rundoc.py [--schema PATH] [--require SECTION[,SECTION...]] [FILE]

Reads the document from FILE or stdin. The input must be exactly ONE line
holding one JSON object (what every command writes to stdout), optionally
followed by a newline. Exit 0 when valid; 1 with one line per problem on
stderr, each naming the path of the offending field (e.g. "clone.instances[0]:
5 is not of type 'string'"); 2 on usage errors.
"""
import argparse
import json
import os
import re
import sys

from jsonschema import Draft202012Validator

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SCHEMA = os.path.join(HERE, "..", "..", "docs", "run-document.schema.json")


def path_of(error):
    out = ""
    for part in error.absolute_path:
        if isinstance(part, int):
            out += "[%d]" % part
        else:
            out += ("." if out else "") + str(part)
    return out or "(document)"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--schema", default=DEFAULT_SCHEMA)
    ap.add_argument("--require", default="", help="comma-separated sections that must be present")
    ap.add_argument("file", nargs="?")
    args = ap.parse_args()

    name = args.file or "stdin"
    try:
        if args.file:
            with open(args.file, "rb") as f:
                raw = f.read()
        else:
            raw = sys.stdin.buffer.read()
        with open(args.schema, encoding="utf-8") as f:
            schema = json.load(f)
    except OSError as e:
        print("%s: %s" % (name, e), file=sys.stderr)
        return 2

    text = raw.decode("utf-8", errors="strict") if raw else ""
    body = text[:-1] if text.endswith("\n") else text
    if not body.strip():
        print("%s: empty input" % name, file=sys.stderr)
        return 1
    if "\n" in body:
        print("%s: more than one line (a run document is written on ONE line)" % name,
              file=sys.stderr)
        return 1
    try:
        doc = json.loads(body, object_pairs_hook=_no_duplicates)
    except ValueError as e:
        print("%s: not JSON: %s" % (name, e), file=sys.stderr)
        return 1

    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    for section in filter(None, args.require.split(",")):
        if not isinstance(doc, dict) or section not in doc:
            print("%s: %s: required section missing" % (name, section), file=sys.stderr)
            errors.append(None)
    for e in errors:
        if e is not None:
            print("%s: %s: %s" % (name, path_of(e), message_of(e)), file=sys.stderr)
    return 1 if errors else 0


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


if __name__ == "__main__":
    sys.exit(main())
