"""Kubernetes manifests against the Kubernetes API's own types, unknown fields included.

kubernetes-models (npm, pinned in tests/node; generated from the Kubernetes OpenAPI
spec) ships a validator per type (tests/lib/k8s-validate.js: types, enums,
required fields) but, like the API server without strict field validation, its
validators let unknown fields through, and those are dropped silently by kubectl
apply (a misspelled `concurrencyPolicy` would leave the default Allow). So this
walks a manifest along the same package's TypeScript declarations (one interface
per .d.ts file, each field with its type, imports naming the file of each nested
type) and reports every field the Kubernetes type does not have, as
`kubectl apply --validate=strict` does.
"""
import os
import re

NODE_MODULES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "node", "node_modules")
KINDS = {("v1", "ServiceAccount"): "kubernetes-models/v1/ServiceAccount",
         ("v1", "ConfigMap"): "kubernetes-models/v1/ConfigMap",
         ("v1", "Secret"): "kubernetes-models/v1/Secret",
         ("v1", "PersistentVolumeClaim"): "kubernetes-models/v1/PersistentVolumeClaim",
         ("batch/v1", "CronJob"): "kubernetes-models/batch/v1/CronJob",
         ("batch/v1", "Job"): "kubernetes-models/batch/v1/Job"}
_cache = {}


def _load(path):
    """path of a .d.ts: (fields {name: type text}, imports {alias: .d.ts path})."""
    if path in _cache:
        return _cache[path]
    text = open(path).read()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    imports = {}
    for names, src in re.findall(r'import \{([^}]*)\} from "([^"]+)";', text):
        base = os.path.dirname(path) if src.startswith(".") else NODE_MODULES
        target = os.path.normpath(os.path.join(base, src)) + ".d.ts"
        for n in names.split(","):
            n = n.strip().split(" as ")[-1].strip()
            if n:
                imports[n] = target
    m = re.search(r"export interface \w+[^{]*\{", text)
    fields = {}
    if m:
        i, depth, start = m.end(), 1, m.end()
        while depth:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        body = text[start:i - 1]
        # top-level members only: `"name"?: TYPE;` with TYPE possibly a nested {...}
        depth, member = 0, ""
        for ch in body:
            depth += {"{": 1, "<": 1, "}": -1, ">": -1}.get(ch, 0)
            if ch == ";" and depth == 0:
                mm = re.match(r'\s*"?([\w$-]+)"?\??:\s*(.*)', member, re.S)
                if mm:
                    fields[mm.group(1)] = mm.group(2).strip()
                member = ""
            else:
                member += ch
    _cache[path] = (fields, imports)
    return _cache[path]


def _resolve(type_text, imports):
    """The .d.ts of a field's object type (through Array<...>), or None for a leaf/map."""
    t = type_text.strip()
    m = re.fullmatch(r"Array<(.*)>", t, re.S)
    if m:
        t = m.group(1).strip()
    return imports.get(t) if re.fullmatch(r"\w+", t) else None


def _walk(value, dts, where, errors):
    fields, imports = _load(dts)
    if isinstance(value, list):
        for i, v in enumerate(value):
            _walk(v, dts, "%s[%d]" % (where, i), errors)
        return
    if not isinstance(value, dict) or not fields:
        return
    for key, v in value.items():
        if key not in fields:
            errors.append("%s.%s: unknown field (not in %s)" % (where, key, os.path.basename(dts)[:-5]))
            continue
        sub = _resolve(fields[key], imports)
        if sub and os.path.exists(sub):
            _walk(v, sub, "%s.%s" % (where, key), errors)


def unknown_fields(doc):
    """The unknown fields of one manifest document (apiVersion/kind must be modelled)."""
    key = (doc.get("apiVersion"), doc.get("kind"))
    if key not in KINDS:
        return ["%s/%s: kind not modelled by the test" % key]
    errors = []
    _walk(doc, os.path.join(NODE_MODULES, KINDS[key] + ".d.ts"), doc["kind"], errors)
    return errors
