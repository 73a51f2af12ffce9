"""Reads a CloudFormation template in YAML (the short-form intrinsic functions !Ref,
!GetAtt, !Sub, ... become their long form {"Ref": ...}, {"Fn::GetAtt": [...]}, as
CloudFormation itself reads them) and answers questions the tests ask of it."""
import yaml

FUNCTIONS = ["Base64", "Cidr", "FindInMap", "GetAtt", "GetAZs", "ImportValue", "Join", "Select",
             "Split", "Sub", "Transform", "And", "Equals", "If", "Not", "Or", "Condition",
             "ToJsonString", "Length"]


class Loader(yaml.SafeLoader):
    pass


def _make(tag):
    def construct(loader, node):
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
            if tag == "Ref" or tag == "Condition":
                return {tag: value}
            if tag == "GetAtt":
                return {"Fn::GetAtt": value.split(".", 1)}
            return {"Fn::" + tag: value}
        if isinstance(node, yaml.SequenceNode):
            return {"Fn::" + tag: loader.construct_sequence(node, deep=True)}
        return {"Fn::" + tag: loader.construct_mapping(node, deep=True)}
    return construct


Loader.add_constructor("!Ref", _make("Ref"))
for _f in FUNCTIONS:
    Loader.add_constructor("!" + _f, _make(_f))


def load(path):
    with open(path) as f:
        return yaml.load(f, Loader=Loader)  # noqa: S506 - SafeLoader subclass


def statements(template, role):
    """Every statement of the role's inline policies (both branches of an Fn::If)."""
    out = []
    for pol in template["Resources"][role]["Properties"].get("Policies", []):
        cands = pol["Fn::If"][1:] if isinstance(pol, dict) and "Fn::If" in pol else [pol]
        for c in cands:
            if isinstance(c, dict) and "PolicyDocument" in c:
                out.extend(c["PolicyDocument"]["Statement"])
    return out


def actions(template, role):
    acts = set()
    for st in statements(template, role):
        a = st["Action"]
        acts.update(a if isinstance(a, list) else [a])
    return acts
