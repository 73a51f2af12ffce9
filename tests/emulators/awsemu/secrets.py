"""Secrets Manager GetSecretValue and SSM GetParameter (awsJson1_1), plus the
generic JSON-protocol input validation against the botocore model."""
import base64
import datetime
import hashlib
import json
import uuid

from .errors import AwsError

UTC = datetime.timezone.utc


def validate_json(value, shape, path=""):
    """Check a decoded JSON input against the model: unknown members, required
    members, scalar types, enums and ranges."""
    kind = shape.type_name
    where = path or "input"
    if kind == "structure":
        if not isinstance(value, dict):
            raise AwsError("SerializationException", f"{where} must be an object", 400)
        for k in value:
            if k not in shape.members:
                raise AwsError("SerializationException",
                               f"Unrecognized field {k!r} at {where}", 400)
        for k in shape.required_members:
            if value.get(k) is None:
                raise AwsError("ValidationException",
                               f"1 validation error detected: Value null at "
                               f"'{(path + '.' if path else '') + k[0].lower() + k[1:]}' "
                               "failed to satisfy constraint: Member must not be null", 400)
        for k, v in value.items():
            validate_json(v, shape.members[k], f"{path}.{k}" if path else k)
        return
    if kind == "list":
        if not isinstance(value, list):
            raise AwsError("SerializationException", f"{where} must be a list", 400)
        for i, v in enumerate(value):
            validate_json(v, shape.member, f"{where}[{i}]")
        return
    if kind == "string":
        if not isinstance(value, str):
            raise AwsError("SerializationException", f"{where} must be a string", 400)
        lo, hi = shape.metadata.get("min"), shape.metadata.get("max")
        if (lo is not None and len(value) < lo) or (hi is not None and len(value) > hi):
            raise AwsError("ValidationException",
                           f"1 validation error detected: Value at '{where}' failed to "
                           f"satisfy constraint: Member must have length between {lo} "
                           f"and {hi}", 400)
        enum = shape.metadata.get("enum")
        if enum and value not in enum:
            raise AwsError("ValidationException",
                           f"Value {value!r} at '{where}' failed to satisfy constraint: "
                           f"Member must satisfy enum value set: {enum}", 400)
        return
    if kind == "boolean":
        if not isinstance(value, bool):
            raise AwsError("SerializationException", f"{where} must be a boolean", 400)
        return
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise AwsError("SerializationException", f"{where} must be an integer", 400)
        return
    if kind == "timestamp":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise AwsError("SerializationException", f"{where} must be epoch seconds", 400)
        return
    if kind == "map":
        if not isinstance(value, dict):
            raise AwsError("SerializationException", f"{where} must be an object", 400)
        return


def _epoch(t):
    return round(t.timestamp(), 3)


class SecretStore:
    def __init__(self, region, account):
        self.region = region
        self.account = account
        self.secrets = {}       # name -> record
        self.parameters = {}    # name -> record

    def add_secret(self, name, secret_string=None, secret_binary=None, created=None):
        suffix = hashlib.sha256(name.encode()).hexdigest()[:6]
        created = created or datetime.datetime.now(UTC)
        self.secrets[name] = {
            "ARN": f"arn:aws:secretsmanager:{self.region}:{self.account}:secret:{name}-{suffix}",
            "Name": name,
            "VersionId": str(uuid.uuid5(uuid.NAMESPACE_URL, name)),
            "SecretString": secret_string,
            "SecretBinary": secret_binary,
            "VersionStages": ["AWSCURRENT"],
            "CreatedDate": created,
        }

    def add_rds_master_secret(self, resource_arn, cluster, username, rng):
        """The secret RDS makes for ManageMasterUserPassword: named rds!db-<uuid> or
        rds!cluster-<uuid>, a JSON SecretString with username and password,
        tagged with the DB's ARN (aws:rds:primaryDBInstanceArn / ...ClusterArn)."""
        name = f"rds!{'cluster' if cluster else 'db'}-{uuid.UUID(int=rng.getrandbits(128))}"
        alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
        password = "".join(rng.choice(alphabet) for _ in range(28))
        self.add_secret(name, json.dumps({"username": username, "password": password}))
        rec = self.secrets[name]
        rec["Tags"] = [{"Key": "aws:rds:primaryDBClusterArn" if cluster else
                        "aws:rds:primaryDBInstanceArn", "Value": resource_arn},
                       {"Key": "aws:secretsmanager:owningService", "Value": "rds"}]
        return rec["ARN"]

    def remove_by_arn(self, arn):
        for name, rec in list(self.secrets.items()):
            if rec["ARN"] == arn:
                del self.secrets[name]

    def add_parameter(self, name, value, ptype="String", modified=None):
        if ptype not in ("String", "StringList", "SecureString"):
            raise ValueError(f"parameter {name}: bad type {ptype}")
        path = name if name.startswith("/") else "/" + name
        self.parameters[name] = {
            "Name": name, "Type": ptype, "Value": value, "Version": 1,
            "LastModifiedDate": modified or datetime.datetime.now(UTC),
            "ARN": f"arn:aws:ssm:{self.region}:{self.account}:parameter{path}",
            "DataType": "text",
        }

    # ---------------------------------------------------------------- Secrets Manager
    def _find_secret(self, secret_id):
        if secret_id in self.secrets:
            return self.secrets[secret_id]
        for rec in self.secrets.values():
            # Full ARN, or partial ARN (without the random 6-character suffix).
            if secret_id == rec["ARN"] or secret_id == rec["ARN"][:-7]:
                return rec
        raise AwsError("ResourceNotFoundException",
                       "Secrets Manager can't find the specified secret.", 400)

    def GetSecretValue(self, p):
        rec = self._find_secret(p["SecretId"])
        stage = p.get("VersionStage")
        if p.get("VersionId") and p["VersionId"] != rec["VersionId"]:
            raise AwsError("ResourceNotFoundException",
                           "Secrets Manager can't find the specified secret value for "
                           f"VersionId: {p['VersionId']}", 400)
        if stage and stage not in rec["VersionStages"]:
            raise AwsError("ResourceNotFoundException",
                           "Secrets Manager can't find the specified secret value for "
                           f"staging label: {stage}", 400)
        out = {"ARN": rec["ARN"], "Name": rec["Name"], "VersionId": rec["VersionId"],
               "VersionStages": list(rec["VersionStages"]),
               "CreatedDate": _epoch(rec["CreatedDate"])}
        if rec["SecretString"] is not None:
            out["SecretString"] = rec["SecretString"]
        if rec["SecretBinary"] is not None:
            out["SecretBinary"] = base64.b64encode(rec["SecretBinary"]).decode()
        return out

    # ---------------------------------------------------------------- SSM
    def GetParameter(self, p):
        name = p["Name"]
        rec = self.parameters.get(name)
        if rec is None:
            for r in self.parameters.values():
                if r["ARN"] == name:
                    rec = r
                    break
        if rec is None:
            raise AwsError("ParameterNotFound", "", 400)
        value = rec["Value"]
        if rec["Type"] == "SecureString" and not p.get("WithDecryption"):
            # Without WithDecryption AWS returns the KMS ciphertext, not the value.
            value = base64.b64encode(b"\x01\x02\x02\x00x" +
                                     hashlib.sha256(value.encode()).digest() * 3).decode()
        return {"Parameter": {"Name": rec["Name"], "Type": rec["Type"], "Value": value,
                              "Version": rec["Version"],
                              "LastModifiedDate": _epoch(rec["LastModifiedDate"]),
                              "ARN": rec["ARN"], "DataType": rec["DataType"]}}
