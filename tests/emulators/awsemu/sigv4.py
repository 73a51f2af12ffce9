"""SigV4 verification: recompute the signature with botocore's signer over the
request as received (method, raw path, query, the headers the client said it
signed, the body) and compare.

Errors follow AWS: MissingAuthenticationToken (no Authorization at all),
IncompleteSignature (malformed Authorization / missing date or host),
InvalidClientTokenId (unknown access key, or a session key without its token),
ExpiredToken (session credentials past expiry), RequestExpired (clock skew over
5 minutes), SignatureDoesNotMatch (wrong signature, region or service scope).
JSON services use their own names for the same failures."""
import datetime
import email.utils
import hmac
import re
from urllib.parse import parse_qsl, urlsplit

import botocore.auth
import botocore.awsrequest
import botocore.credentials
from botocore.awsrequest import HTTPHeaders

from .errors import AwsError

SKEW = datetime.timedelta(minutes=5)
_AUTH_RE = re.compile(r"^AWS4-HMAC-SHA256 (.*)$")
_DATE_RE = re.compile(r"^\d{8}T\d{6}Z$")


class Scope:
    def __init__(self, access_key, date, region, service):
        self.access_key = access_key
        self.date = date
        self.region = region
        self.service = service


def _json_codes(code):
    return {
        "InvalidClientTokenId": "UnrecognizedClientException",
        "SignatureDoesNotMatch": "InvalidSignatureException",
        "ExpiredToken": "ExpiredTokenException",
        "RequestExpired": "InvalidSignatureException",
        "IncompleteSignature": "IncompleteSignatureException",
        "MissingAuthenticationToken": "MissingAuthenticationTokenException",
    }.get(code, code)


def auth_error(code, message, status, json_protocol):
    if json_protocol:
        code = _json_codes(code)
    return AwsError(code, message, status)


def parse_authorization(header, json_protocol=False):
    """Split 'AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...'."""
    m = _AUTH_RE.match(header.strip())
    if not m:
        raise auth_error("IncompleteSignature",
                         f"Authorization header requires 'AWS4-HMAC-SHA256' algorithm "
                         f"(got {header.split(' ', 1)[0]!r}).", 400, json_protocol)
    fields = {}
    for part in m.group(1).split(","):
        part = part.strip()
        if "=" not in part:
            raise auth_error("IncompleteSignature",
                             f"Authorization header requires 'Credential', "
                             f"'SignedHeaders' and 'Signature' parameters; "
                             f"malformed part {part!r}.", 400, json_protocol)
        k, v = part.split("=", 1)
        fields[k] = v
    for need in ("Credential", "SignedHeaders", "Signature"):
        if need not in fields:
            raise auth_error("IncompleteSignature",
                             f"Authorization header requires '{need}' parameter. "
                             f"Authorization={header}", 400, json_protocol)
    cred = fields["Credential"].split("/")
    if len(cred) != 5 or cred[4] != "aws4_request" or not re.match(r"^\d{8}$", cred[1]):
        raise auth_error("IncompleteSignature",
                         f"Credential should be scoped to a valid region and service, "
                         f"with the form KEY/YYYYMMDD/REGION/SERVICE/aws4_request "
                         f"(got {fields['Credential']!r}).", 400, json_protocol)
    return Scope(*cred[:4]), fields["SignedHeaders"], fields["Signature"]


def scope_service(headers):
    """The service named in the credential scope, or None when unsigned/garbled."""
    auth = headers.get("Authorization")
    if not auth:
        return None
    try:
        return parse_authorization(auth)[0].service
    except AwsError:
        return None


def _request_time(headers, json_protocol):
    amz = headers.get("X-Amz-Date")
    if amz:
        if not _DATE_RE.match(amz):
            raise auth_error("IncompleteSignature",
                             f"Invalid X-Amz-Date {amz!r}: must be YYYYMMDD'T'HHMMSS'Z'.",
                             400, json_protocol)
        return amz, datetime.datetime.strptime(amz, "%Y%m%dT%H%M%SZ").replace(
            tzinfo=datetime.timezone.utc)
    date = headers.get("Date")
    if date:
        try:
            t = email.utils.parsedate_to_datetime(date).astimezone(datetime.timezone.utc)
        except (TypeError, ValueError):
            t = None
        if t is not None:
            return t.strftime("%Y%m%dT%H%M%SZ"), t
    raise auth_error("IncompleteSignature",
                     "Authorization header requires existence of either a "
                     "'X-Amz-Date' or a 'Date' header.", 400, json_protocol)


class _ReceivedSigner(botocore.auth.SigV4Auth):
    """SigV4Auth that signs exactly the headers the client listed."""

    def __init__(self, credentials, service, region, signed_names, received):
        super().__init__(credentials, service, region)
        self._signed = signed_names
        self._received = received

    def headers_to_sign(self, request):
        out = HTTPHeaders()
        for name in self._signed:
            for v in self._received.get_all(name) or []:
                out[name] = v
        return out


def verify(method, raw_path, headers, body, credential_lookup, region,
           expected_service, now, json_protocol=False):
    """Check the request's signature.  credential_lookup(access_key, token, now)
    returns (secret, error-or-None).  Returns the Scope on success."""
    auth = headers.get("Authorization")
    if not auth:
        if "X-Amz-Signature" in raw_path or "X-Amz-Credential" in raw_path:
            raise auth_error("IncompleteSignature",
                             "Query-string (presigned) authentication is not "
                             "supported for this API.", 400, json_protocol)
        raise auth_error("MissingAuthenticationToken",
                         "Request is missing Authentication Token", 403, json_protocol)
    scope, signed_headers, signature = parse_authorization(auth, json_protocol)
    signed_names = signed_headers.split(";")
    if signed_names != sorted(signed_names) or any(n != n.lower() for n in signed_names):
        raise auth_error("IncompleteSignature",
                         "SignedHeaders must be lower-case and sorted "
                         f"(got {signed_headers!r}).", 400, json_protocol)
    if "host" not in signed_names:
        raise auth_error("IncompleteSignature",
                         "'Host' or ':authority' must be a 'SignedHeader' in the "
                         "AWS Authorization.", 400, json_protocol)
    for name in signed_names:
        if headers.get(name) is None:
            raise auth_error("IncompleteSignature",
                             f"Signed header {name!r} is not present in the request.",
                             400, json_protocol)
    if "x-amz-date" in (n.lower() for n in headers.keys()) and "x-amz-date" not in signed_names:
        raise auth_error("IncompleteSignature",
                         "X-Amz-Date must be a signed header.", 400, json_protocol)
    stamp, when = _request_time(headers, json_protocol)
    if stamp[:8] != scope.date:
        raise auth_error("SignatureDoesNotMatch",
                         f"Date in Credential scope does not match YYYYMMDD from "
                         f"ISO-8601 version of date from HTTP: '{scope.date}' != "
                         f"'{stamp[:8]}', from '{stamp}'.", 403, json_protocol)
    if abs(now - when) > SKEW:
        late = now - SKEW
        raise auth_error(
            "RequestExpired",
            f"Signature expired: {stamp} is now earlier than "
            f"{late.strftime('%Y%m%dT%H%M%SZ')} ({now.strftime('%Y%m%dT%H%M%SZ')} - 5 min.)"
            if when < now else
            f"Signature not yet current: {stamp} is still later than "
            f"{(now + SKEW).strftime('%Y%m%dT%H%M%SZ')} ({now.strftime('%Y%m%dT%H%M%SZ')} + 5 min.)",
            400, json_protocol)
    if scope.region != region:
        raise auth_error("SignatureDoesNotMatch",
                         f"Credential should be scoped to a valid region, not "
                         f"'{scope.region}'. ", 403, json_protocol)
    if scope.service != expected_service:
        raise auth_error("SignatureDoesNotMatch",
                         f"Credential should be scoped to correct service: "
                         f"'{expected_service}'. ", 403, json_protocol)
    token = headers.get("X-Amz-Security-Token")
    secret, err = credential_lookup(scope.access_key, token, now)
    if err is not None:
        code, message = err
        raise auth_error(code, message, 403, json_protocol)
    parts = urlsplit(raw_path)
    req = botocore.awsrequest.AWSRequest(
        method=method, url="http://emulator" + parts.path, data=body)
    req.params = parse_qsl(parts.query, keep_blank_values=True)
    req.context["timestamp"] = stamp
    creds = botocore.credentials.Credentials(scope.access_key, secret, token)
    signer = _ReceivedSigner(creds, scope.service, scope.region, signed_names, headers)
    canonical = signer.canonical_request(req)
    string_to_sign = signer.string_to_sign(req, canonical)
    expected = signer.signature(string_to_sign, req)
    if not hmac.compare_digest(expected, signature):
        raise auth_error(
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you "
            "provided. Check your AWS Secret Access Key and signing method. Consult "
            "the service documentation for details.\n\nThe Canonical String for this "
            f"request should have been\n'{canonical}'\n\nThe String-to-Sign should "
            f"have been\n'{string_to_sign}'\n", 403, json_protocol)
    return scope
