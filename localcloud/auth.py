"""The local cloud's front door: loopback Host only, no CORS, and every request SigV4-signed.

moto's server accepts any signature and answers every origin (flask-cors), so any web page the
developer opens could drive it; and through Lambda's CreateFunction + Invoke, run code as the
developer. This WSGI middleware stands in front of moto and checks, in order:

1. the Host header names this server on loopback (DNS rebinding sends the attacker's name);
2. the request is signed with AWS Signature Version 4 by the key this server issued at start
   (header or presigned-query form), within 15 minutes of now;
3. the answer carries no Access-Control-* headers, so browsers keep cross-origin pages from
   reading it.

The canonical request follows the SigV4 specification ("Create a canonical request", IAM user
guide, reference_sigv-create-signed-request): the URI is normalised and URI-encoded a second
time except for S3, the query is decoded, re-encoded with only A-Za-z0-9-_.~ left bare, and
sorted; signed headers are lower-cased, trimmed and their inner spaces folded. botocore
(auth.SigV4Auth / S3SigV4Auth) and the Go SDK the Terraform provider uses build the same string.

Refusals have AWS's own shapes per protocol, status 403, and nothing reaches moto:
    S3 (rest-xml): AccessDenied | InvalidAccessKeyId | SignatureDoesNotMatch |
                   RequestTimeTooSkewed
    query (IAM, STS, SNS): MissingAuthenticationToken | InvalidClientTokenId |
                   SignatureDoesNotMatch
    JSON, rest-JSON, CBOR: MissingAuthenticationTokenException | UnrecognizedClientException |
                   InvalidSignatureException
(codes from AWS's "Common Errors" API reference pages and the S3 error-code list).

Streaming uploads (x-amz-content-sha256 STREAMING-AWS4-HMAC-SHA256-PAYLOAD and its -TRAILER
and UNSIGNED variants) are authenticated by their seed signature over the headers, which
carries that literal in place of the body's hash; the chunk signatures are not re-checked.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import io
import json
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

from localcloud.credentials import Credentials

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_SKEW = dt.timedelta(minutes=15)  # SigV4's window, in both directions
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
# x-amz-content-sha256 values that stand for the body instead of its hash (S3 only).
PAYLOAD_PLACEHOLDERS = frozenset(
    {
        "UNSIGNED-PAYLOAD",
        "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
    }
)
_HEX_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<credential>[^,\s]+)\s*,\s*"
    r"SignedHeaders=(?P<signed>[^,\s]+)\s*,\s*Signature=(?P<signature>[0-9a-f]{64})\s*$"
)

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

# What each refusal is called in each protocol family: (S3, query, JSON).
_CODES = {
    "missing": (
        "AccessDenied",
        "MissingAuthenticationToken",
        "MissingAuthenticationTokenException",
    ),
    "unknown_key": ("InvalidAccessKeyId", "InvalidClientTokenId", "UnrecognizedClientException"),
    "signature": ("SignatureDoesNotMatch", "SignatureDoesNotMatch", "InvalidSignatureException"),
    "skew": ("RequestTimeTooSkewed", "SignatureDoesNotMatch", "InvalidSignatureException"),
    "host": ("AccessDenied", "AccessDenied", "AccessDeniedException"),
}
_SIGNATURE_MESSAGE = (
    "The request signature we calculated does not match the signature you provided. Check your "
    "AWS Secret Access Key and signing method. The local cloud accepts only the key it issued "
    'at start: eval "$(make -s local-env)" (python -m localcloud env) to use it.'
)


class RefusedError(Exception):
    """A request the front door turns away; kind picks the code (see _CODES)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Signature:
    """The parts of a SigV4 signature, wherever in the request they came from."""

    access_key_id: str
    scope: str  # date/region/service/aws4_request
    signed_headers: list[str]
    signature: str
    timestamp: str  # YYYYMMDDTHHMMSSZ
    expires: int | None  # presigned URLs only

    @property
    def service(self) -> str:
        parts = self.scope.split("/")
        return parts[2] if len(parts) == 4 else ""


def allowed_hosts(port: int) -> frozenset[str]:
    return frozenset(f"{host}:{port}" for host in ("127.0.0.1", "localhost", "[::1]"))


def _header(environ: dict[str, Any], name: str) -> str | None:
    key = name.upper().replace("-", "_")
    if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        value = environ.get(key)
        return value if value not in (None, "") or key == "CONTENT_TYPE" else None
    value = environ.get(f"HTTP_{key}")
    return None if value is None else str(value)


def _raw_uri(environ: dict[str, Any]) -> tuple[str, str]:
    """(path, query) exactly as the client sent them, still percent-encoded."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if not raw:
        raw = quote(environ.get("PATH_INFO", ""), safe="/~!$&'()*+,;=:@%")
        if environ.get("QUERY_STRING"):
            raw += "?" + environ["QUERY_STRING"]
    if "://" in raw.split("?", 1)[0]:  # absolute-form request target
        raw = "/" + raw.split("://", 1)[1].partition("/")[2]
    path, _, query = raw.partition("?")
    return path or "/", query


def _query_pairs(query: str) -> list[tuple[str, str]]:
    pairs = []
    for item in query.split("&"):
        if not item:
            continue
        key, _, value = item.partition("=")
        pairs.append((unquote(key), unquote(value)))
    return pairs


def _uri_encode(text: str) -> str:
    return quote(text, safe="-_.~")


def canonical_query(pairs: list[tuple[str, str]]) -> str:
    encoded = sorted((_uri_encode(key), _uri_encode(value)) for key, value in pairs)
    return "&".join(f"{key}={value}" for key, value in encoded)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 5.2.4, and empty segments dropped, as AWS services (and botocore) do."""
    kept: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if kept:
                kept.pop()
        elif segment and segment != ".":
            kept.append(segment)
    first = "/" if path.startswith("/") else ""
    last = "/" if path.endswith("/") and kept else ""
    return first + "/".join(kept) + last


def canonical_path(raw_path: str, service: str) -> str:
    if service == "s3":
        return raw_path  # S3 signs the path as sent: no normalisation, no second encoding
    return quote(_remove_dot_segments(raw_path) or "/", safe="/~")


def _folded(value: str) -> str:
    return " ".join(value.split())


def parse_signature(environ: dict[str, Any], query_pairs: list[tuple[str, str]]) -> Signature:
    """The request's signature, from its Authorization header or presigned query."""
    authorization = _header(environ, "Authorization")
    query = dict(query_pairs)
    if authorization:
        match = _AUTHORIZATION.match(authorization.strip())
        if not match:
            scheme = authorization.split(" ", 1)[0]
            raise RefusedError(
                "signature",
                f"Authorization scheme {scheme!r} is not accepted: the local cloud takes "
                f"{ALGORITHM} (Signature Version 4) signatures only.",
            )
        credential = match["credential"]
        signed = match["signed"]
        signature = match["signature"]
        timestamp = _header(environ, "X-Amz-Date") or ""
        expires = None
    elif "X-Amz-Signature" in query:
        if query.get("X-Amz-Algorithm") != ALGORITHM:
            raise RefusedError("signature", f"X-Amz-Algorithm must be {ALGORITHM}.")
        credential = query.get("X-Amz-Credential", "")
        signed = query.get("X-Amz-SignedHeaders", "")
        signature = query["X-Amz-Signature"]
        timestamp = query.get("X-Amz-Date", "")
        try:
            expires = int(query.get("X-Amz-Expires", ""))
        except ValueError:
            raise RefusedError("signature", "X-Amz-Expires must be a number of seconds.") from None
    elif "AWSAccessKeyId" in query or "Signature" in query:
        raise RefusedError(
            "signature",
            "Signature Version 2 is not accepted: sign with SigV4 (for boto3 presigned S3 URLs, "
            "Config(signature_version='s3v4')).",
        )
    else:
        raise RefusedError("missing", "Missing Authentication Token")
    key_id, _, scope = credential.partition("/")
    if not key_id or len(scope.split("/")) != 4 or not scope.endswith("/aws4_request"):
        raise RefusedError(
            "signature", f"Credential {credential!r} is not key/date/region/service."
        )
    if not re.fullmatch(r"\d{8}T\d{6}Z", timestamp):
        raise RefusedError("signature", "X-Amz-Date is missing or not YYYYMMDDTHHMMSSZ.")
    if scope.split("/")[0] != timestamp[:8]:
        raise RefusedError("signature", "The credential scope's date is not the X-Amz-Date's day.")
    headers = signed.split(";")
    if "host" not in headers:
        raise RefusedError("signature", "SignedHeaders must include host.")
    return Signature(key_id, scope, headers, signature, timestamp, expires)


def _check_time(signature: Signature, now: dt.datetime) -> None:
    signed_at = dt.datetime.strptime(signature.timestamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    if signature.expires is not None:
        if now > signed_at + dt.timedelta(seconds=signature.expires):
            raise RefusedError("skew", "Request has expired")
        if signed_at - now > MAX_SKEW:
            raise RefusedError("skew", "Request is not yet valid")
        return
    if abs(now - signed_at) > MAX_SKEW:
        raise RefusedError(
            "skew",
            f"Signature expired: {signature.timestamp} is outside 15 minutes of "
            f"{now:%Y%m%dT%H%M%SZ}. Check the clock.",
        )


def _body(environ: dict[str, Any]) -> bytes:
    """Read the whole body and put it back for moto to read."""
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    if environ.get("wsgi.input_terminated"):
        data: bytes = stream.read()
    else:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        data = stream.read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(data)
    return data


def string_to_sign(environ: dict[str, Any], signature: Signature) -> str:
    raw_path, raw_query = _raw_uri(environ)
    pairs = [(k, v) for k, v in _query_pairs(raw_query) if k != "X-Amz-Signature"]
    lines = []
    for name in signature.signed_headers:
        value = _header(environ, name)
        if value is None:
            raise RefusedError("signature", f"Signed header {name!r} is not in the request.")
        lines.append(f"{name}:{_folded(value)}")
    declared = _header(environ, "X-Amz-Content-SHA256")
    if signature.expires is not None:
        payload = declared or "UNSIGNED-PAYLOAD"
    elif declared in PAYLOAD_PLACEHOLDERS:
        payload = declared
    else:
        data = _body(environ)
        payload = hashlib.sha256(data).hexdigest()
        if declared is not None and declared != payload:
            raise RefusedError(
                "signature",
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
            )
    canonical = "\n".join(
        [
            environ.get("REQUEST_METHOD", "GET").upper(),
            canonical_path(raw_path, signature.service),
            canonical_query(pairs),
            "\n".join(lines) + "\n",
            ";".join(signature.signed_headers),
            payload,
        ]
    )
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    return "\n".join([ALGORITHM, signature.timestamp, signature.scope, digest])


def signature_of(secret: str, signature: Signature, to_sign: str) -> str:
    key = ("AWS4" + secret).encode()
    for part in signature.scope.split("/"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def verify(
    environ: dict[str, Any], credentials: Credentials, now: dt.datetime | None = None
) -> Signature:
    """The request's signature when it is our key's and correct; RefusedError otherwise."""
    _, raw_query = _raw_uri(environ)
    signature = parse_signature(environ, _query_pairs(raw_query))
    if not hmac.compare_digest(signature.access_key_id, credentials.access_key_id):
        raise RefusedError(
            "unknown_key",
            "The security token included in the request is invalid. The local cloud accepts "
            'only the key it issued at start: eval "$(make -s local-env)" to use it.',
        )
    if _header(environ, "X-Amz-Security-Token"):
        raise RefusedError(
            "unknown_key",
            "The security token included in the request is invalid: the local cloud issues no "
            "session tokens; unset AWS_SESSION_TOKEN.",
        )
    _check_time(signature, now or dt.datetime.now(dt.UTC))
    expected = signature_of(
        credentials.secret_access_key, signature, string_to_sign(environ, signature)
    )
    if not hmac.compare_digest(expected, signature.signature):
        raise RefusedError("signature", _SIGNATURE_MESSAGE)
    return signature


# -- refusals in the protocol the client speaks ---------------------------------------------


def protocol_of(environ: dict[str, Any], service: str | None) -> str:
    """s3, query, json, cbor or rest-json: which error shape the client's SDK will parse."""
    content_type = (environ.get("CONTENT_TYPE") or "").lower()
    if _header(environ, "Smithy-Protocol") == "rpc-v2-cbor":
        return "cbor"
    if _header(environ, "X-Amz-Target"):
        return "json"
    if content_type.startswith("application/x-www-form-urlencoded") or "Action=" in (
        environ.get("QUERY_STRING") or ""
    ):
        return "query"
    if service == "s3":
        return "s3"
    path = environ.get("PATH_INFO", "")
    # Lambda's, SageMaker Runtime's and our own (moto-api) paths; anything else is S3's.
    if re.match(r"^/(20\d\d-\d\d-\d\d|endpoints|moto-api|_localcloud)(/|$)", path) or service:
        return "rest-json"
    return "s3"


def _cbor_text(text: str) -> bytes:
    data = text.encode()
    length = len(data)
    if length < 24:
        head = bytes([0x60 | length])
    elif length < 0x100:
        head = bytes([0x78, length])
    else:
        head = bytes([0x79]) + length.to_bytes(2, "big")
    return head + data


def refusal(protocol: str, kind: str, message: str) -> tuple[str, list[tuple[str, str]], bytes]:
    """(status line, headers, body) of a 403 in the given protocol's error shape."""
    s3_code, query_code, json_code = _CODES[kind]
    request_id = str(uuid.uuid4())
    headers = [("x-amzn-RequestId", request_id)]
    if protocol == "s3":
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{s3_code}</Code><Message>{_xml(message)}</Message>"
            f"<RequestId>{request_id}</RequestId></Error>"
        ).encode()
        headers += [("Content-Type", "application/xml"), ("x-amz-request-id", request_id)]
    elif protocol == "query":
        body = (
            "<ErrorResponse><Error><Type>Sender</Type>"
            f"<Code>{query_code}</Code><Message>{_xml(message)}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
        headers.append(("Content-Type", "text/xml"))
    elif protocol == "cbor":
        body = b"\xa2" + _cbor_text("__type") + _cbor_text(json_code)
        body += _cbor_text("message") + _cbor_text(message)
        headers += [("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor")]
    else:
        body = json.dumps({"__type": json_code, "message": message}).encode()
        content_type = "application/x-amz-json-1.1" if protocol == "json" else "application/json"
        headers += [("Content-Type", content_type), ("x-amzn-ErrorType", json_code)]
    headers.append(("Content-Length", str(len(body))))
    return "403 Forbidden", headers, body


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _without_cors(start_response: StartResponse) -> StartResponse:
    def start(status: str, headers: list[tuple[str, str]], *args: Any) -> Any:
        kept = [(k, v) for k, v in headers if not k.lower().startswith("access-control-")]
        return start_response(status, kept, *args)

    return start


def guard(app: WsgiApp, port: int, credentials: Credentials, logger: Any) -> WsgiApp:
    """app behind the checks above; refusals are logged with the reason, never the secret."""
    hosts = allowed_hosts(port)

    def guarded(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        service = None
        try:
            host = environ.get("HTTP_HOST", "")
            if host not in hosts:
                raise RefusedError(
                    "host",
                    f"Host {host!r} is not this local cloud: it answers only "
                    f"{', '.join(sorted(hosts))}.",
                )
            service = verify(environ, credentials).service
        except RefusedError as refused:
            if refused.kind != "host":
                _, raw_query = _raw_uri(environ)
                try:
                    service = parse_signature(environ, _query_pairs(raw_query)).service
                except RefusedError:
                    service = None
            logger.warning(
                "refused %s %s from %s: %s",
                environ.get("REQUEST_METHOD"),
                environ.get("PATH_INFO"),
                environ.get("REMOTE_ADDR"),
                refused,
            )
            status, headers, body = refusal(
                protocol_of(environ, service), refused.kind, str(refused)
            )
            start_response(status, headers)
            return [body]
        return app(environ, _without_cors(start_response))

    return guarded


def signed_headers_for(
    method: str,
    url: str,
    credentials: Credentials,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    service: str = "localcloud",
    region: str = "us-east-1",
) -> dict[str, str]:
    """Headers that sign a request to the local cloud's own URLs (health, moto-api)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials as BotoCredentials

    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    boto = BotoCredentials(credentials.access_key_id, credentials.secret_access_key)
    SigV4Auth(boto, service, region).add_auth(request)
    return dict(request.headers.items())


def signed_request(
    url: str,
    credentials: Credentials,
    method: str = "GET",
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    timeout: float = 10.0,
) -> tuple[int, bytes]:
    """(status, body) of a signed request; HTTP errors are answers too, not exceptions."""
    import urllib.error
    import urllib.request

    all_headers = signed_headers_for(method, url, credentials, body, headers)
    request = urllib.request.Request(url, data=body or None, headers=all_headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status), bytes(response.read())
    except urllib.error.HTTPError as error:
        return int(error.code), bytes(error.read())
