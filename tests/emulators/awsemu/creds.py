"""Credentials the emulator accepts, and the services that hand them out:
STS (AssumeRole, AssumeRoleWithWebIdentity, GetCallerIdentity), EC2 IMDSv2 and
the ECS container-credentials endpoint.  Every temporary credential they issue
is registered here, so the SigV4 check accepts it until it expires and then
answers ExpiredToken."""
import base64
import datetime
import json
import random
import re
import secrets
import string
import time

from .errors import AwsError

UTC = datetime.timezone.utc
_ROLE_ARN_RE = re.compile(r"^arn:aws:iam::(\d{12}):role/([\w+=,.@/-]{1,512})$")


def _iso(t):
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class CredentialStore:
    def __init__(self, account, lifetime=None):
        self.account = account
        self.lifetime = lifetime        # seconds; None = as requested (default 3600)
        self.static = {}                # access key -> {secret, arn}
        self.sessions = {}              # access key -> {secret, token, expiration, arn}
        self.roles = None               # None = any role ARN of this account
        self.role_max_session = {}      # role ARN -> MaxSessionDuration
        self.web_identity_tokens = {}   # token -> {"subject", "audience", "expired"}
        self.imds_role = "dblab-refresh-ec2"
        self.imds_tokens = {}           # token -> monotonic expiry
        self.ecs_authorization = None   # required Authorization header value, or None
        self.ecs_role = None
        self._rng = random.SystemRandom()

    # ---------------------------------------------------------------- lookup
    def lookup(self, access_key, token, now):
        """(secret, None) or (None, (code, message)) for the SigV4 check."""
        static = self.static.get(access_key)
        if static is not None:
            if token is not None:
                return None, ("InvalidClientTokenId",
                              "The security token included in the request is invalid.")
            return static["secret"], None
        session = self.sessions.get(access_key)
        if session is None or token != session["token"]:
            return None, ("InvalidClientTokenId",
                          "The security token included in the request is invalid.")
        if now >= session["expiration"]:
            return None, ("ExpiredToken",
                          "The security token included in the request is expired")
        return session["secret"], None

    def identity(self, access_key):
        entry = self.static.get(access_key) or self.sessions.get(access_key) or {}
        return entry.get("arn", f"arn:aws:iam::{self.account}:user/emulator")

    # ---------------------------------------------------------------- issuing
    def issue(self, duration, arn, source):
        lifetime = self.lifetime if self.lifetime is not None else duration
        key = "ASIA" + "".join(self._rng.choice(string.ascii_uppercase + string.digits)
                               for _ in range(16))
        secret = base64.b64encode(secrets.token_bytes(30)).decode()
        token = "IQoJb3JpZ2luX2VtdWxhdG9y" + base64.b64encode(secrets.token_bytes(96)).decode()
        expiration = datetime.datetime.now(UTC).replace(microsecond=0) + \
            datetime.timedelta(seconds=lifetime)
        self.sessions[key] = {"secret": secret, "token": token, "expiration": expiration,
                              "arn": arn, "source": source}
        return {"AccessKeyId": key, "SecretAccessKey": secret, "SessionToken": token,
                "Expiration": expiration}

    def expire_all(self):
        past = datetime.datetime.now(UTC) - datetime.timedelta(seconds=1)
        for s in self.sessions.values():
            s["expiration"] = past

    # ---------------------------------------------------------------- STS
    def _role(self, role_arn):
        m = _ROLE_ARN_RE.match(role_arn)
        if not m:
            raise AwsError("ValidationError",
                           f"{role_arn} is invalid: RoleArn must be an IAM role ARN", 400)
        if self.roles is not None and role_arn not in self.roles:
            raise AwsError("AccessDenied",
                           f"Not authorized to perform sts:AssumeRole on resource: "
                           f"{role_arn}", 403)
        return m.group(1), m.group(2).split("/")[-1]

    def _session_duration(self, role_arn, params):
        duration = params.get("DurationSeconds", 3600)
        max_session = self.role_max_session.get(role_arn, 3600)
        if duration > max_session:
            raise AwsError("ValidationError",
                           "The requested DurationSeconds exceeds the MaxSessionDuration "
                           "set for this role.", 400)
        return duration

    def _assumed(self, role_arn, params, source):
        account, role = self._role(role_arn)
        duration = self._session_duration(role_arn, params)
        session = params["RoleSessionName"]
        arn = f"arn:aws:sts::{account}:assumed-role/{role}/{session}"
        creds = self.issue(duration, arn, source)
        role_id = "AROA" + "".join(random.Random(role_arn).choice(
            string.ascii_uppercase + string.digits) for _ in range(17))
        return creds, {"AssumedRoleId": f"{role_id}:{session}", "Arn": arn}

    def AssumeRole(self, p):
        creds, user = self._assumed(p["RoleArn"], p, "sts:AssumeRole")
        return {"Credentials": creds, "AssumedRoleUser": user, "PackedPolicySize": 0}

    def AssumeRoleWithWebIdentity(self, p):
        entry = self.web_identity_tokens.get(p["WebIdentityToken"])
        if entry is None:
            raise AwsError("InvalidIdentityToken",
                           "The web identity token that was passed could not be "
                           "validated by AWS. Get a new identity token from the identity "
                           "provider and then retry the request.", 400)
        if entry.get("expired"):
            raise AwsError("ExpiredTokenException",
                           "Token expired: current date/time must be before the "
                           "expiration date/time.", 400)
        creds, user = self._assumed(p["RoleArn"], p, "sts:AssumeRoleWithWebIdentity")
        return {"Credentials": creds, "AssumedRoleUser": user, "PackedPolicySize": 0,
                "SubjectFromWebIdentityToken": entry.get("subject", "system:serviceaccount:"
                                                         "dblab:dblab-rds-refresh"),
                "Audience": entry.get("audience", "sts.amazonaws.com"),
                "Provider": entry.get("provider", "arn:aws:iam::" + self.account +
                                      ":oidc-provider/oidc.eks.example")}

    def GetCallerIdentity(self, _p, access_key=None):
        arn = self.identity(access_key)
        return {"UserId": access_key or "AIDAEMULATOR", "Account": self.account, "Arn": arn}

    # ---------------------------------------------------------------- IMDSv2
    def imds(self, method, path, headers):
        """Returns (status, content type, body bytes)."""
        if path == "/latest/api/token":
            if method != "PUT":
                return 405, "text/plain", b""
            if headers.get("X-Forwarded-For"):
                return 403, "text/plain", b""
            ttl = headers.get("X-aws-ec2-metadata-token-ttl-seconds")
            if ttl is None or not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
                return 400, "text/plain", b""
            token = base64.urlsafe_b64encode(secrets.token_bytes(42)).decode()
            self.imds_tokens[token] = time.monotonic() + int(ttl)
            return 200, "text/plain", token.encode()
        if method != "GET":
            return 405, "text/plain", b""
        token = headers.get("X-aws-ec2-metadata-token")
        expiry = self.imds_tokens.get(token) if token else None
        if expiry is None or time.monotonic() >= expiry:
            return 401, "text/plain", b""
        base = "/latest/meta-data/iam/security-credentials/"
        if path in (base, base.rstrip("/")):
            return 200, "text/plain", self.imds_role.encode()
        if path.startswith(base):
            if path[len(base):] != self.imds_role:
                return 404, "text/html", b"<?xml version=\"1.0\"?>\n<html><body>404 - Not Found</body></html>"
            creds = self.issue(6 * 3600, f"arn:aws:sts::{self.account}:assumed-role/"
                               f"{self.imds_role}/i-0123456789abcdef0", "imds")
            body = {"Code": "Success",
                    "LastUpdated": _iso(datetime.datetime.now(UTC)),
                    "Type": "AWS-HMAC", "AccessKeyId": creds["AccessKeyId"],
                    "SecretAccessKey": creds["SecretAccessKey"],
                    "Token": creds["SessionToken"],
                    "Expiration": _iso(creds["Expiration"])}
            return 200, "text/plain", json.dumps(body, indent=2).encode()
        if path == "/latest/meta-data/placement/region":
            return 200, "text/plain", self.region.encode()
        if path == "/latest/dynamic/instance-identity/document":
            doc = {"accountId": self.account, "region": self.region,
                   "instanceId": "i-0123456789abcdef0", "architecture": "x86_64"}
            return 200, "text/plain", json.dumps(doc, indent=2).encode()
        return 404, "text/html", b"<?xml version=\"1.0\"?>\n<html><body>404 - Not Found</body></html>"

    region = "us-east-1"

    # ---------------------------------------------------------------- ECS
    def ecs(self, method, path, headers):
        if method != "GET":
            return 405, "application/json", b'{"message":"method not allowed"}'
        if self.ecs_authorization is not None and \
                headers.get("Authorization") != self.ecs_authorization:
            return 401, "application/json", json.dumps(
                {"code": "AccessDeniedException",
                 "message": "Authorization header is missing or invalid"}).encode()
        role = self.ecs_role or f"arn:aws:iam::{self.account}:role/dblab-refresh-task"
        creds = self.issue(6 * 3600, role.replace(":iam::", ":sts::").replace(
            ":role/", ":assumed-role/") + "/ecs-task", "ecs")
        body = {"AccessKeyId": creds["AccessKeyId"],
                "SecretAccessKey": creds["SecretAccessKey"],
                "Token": creds["SessionToken"],
                "Expiration": _iso(creds["Expiration"]),
                "RoleArn": role}
        return 200, "application/json", json.dumps(body).encode()
