"""The boto3 clients of the functions, built once per container on first use."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

# Standard retry mode retries throttling and 5xx with backoff. 3 attempts in all, with short
# timeouts (a 32x32 inference takes milliseconds; read_timeout is per socket read, so a 10 MB
# S3 body is fine), keep the worst case near 45 s: inside a 60 s Lambda timeout, so the
# workflow's own Retry, not a Lambda timeout, decides what happens next.
# No endpoint_url here: boto3 reads AWS_ENDPOINT_URL(_<SERVICE>) itself, which is how the
# local cloud points these clients at its server.
MAX_ATTEMPTS = 3
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
    connect_timeout=3,
    read_timeout=10,
)

_clients: dict[str, Any] = {}


def client(service: str) -> Any:
    """The container's client for `service` (created lazily: no network at import)."""
    if service not in _clients:
        _clients[service] = boto3.client(service, config=CLIENT_CONFIG)
    return _clients[service]


def reset_clients() -> None:
    """Forget the clients, so the next call reads the environment again (tests)."""
    _clients.clear()


def error_code(exc: ClientError) -> str:
    """The AWS error code of a ClientError ("NoSuchKey", "ThrottlingException", ...)."""
    return str(exc.response.get("Error", {}).get("Code", ""))


def error_message(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Message", ""))


def http_status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
