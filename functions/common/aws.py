"""The boto3 clients of the functions, built once per container on first use."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

# Standard retry mode retries throttling and 5xx with backoff; total_max_attempts counts the
# first call too (https://boto3.amazonaws.com/v1/documentation/api/latest/guide/retries.html).
# Short timeouts (a 32x32 inference takes milliseconds; read_timeout is per socket read, so a
# 10 MB S3 body is fine) keep the worst case well inside a 60 s Lambda timeout, so the
# workflow's own Retry, not a Lambda timeout, decides what happens next.
# No endpoint_url here: boto3 reads AWS_ENDPOINT_URL(_<SERVICE>) itself, which is how the
# local cloud points these clients at its server.
MAX_ATTEMPTS = 3
# The InvokeEndpoint retry budget (issue 12): during an endpoint outage one image may cause at
# most 6 InvokeEndpoint calls in all. Client attempts multiply with workflow attempts:
#   2 client attempts x 3 workflow attempts (the first + the ASL's EndpointUnavailable Retry,
#   MaxAttempts 2) = 6.
# Raising either number breaks the budget: with 3 client attempts it would be 9.
SAGEMAKER_RUNTIME_MAX_ATTEMPTS = 2
WORKFLOW_ENDPOINT_ATTEMPTS = 3  # 1 + the ASL's Retry MaxAttempts for EndpointUnavailable
INVOKE_ENDPOINT_BUDGET = 6


def _config(max_attempts: int) -> Config:
    return Config(
        retries={"mode": "standard", "total_max_attempts": max_attempts},
        connect_timeout=3,
        read_timeout=10,
    )


CLIENT_CONFIG = _config(MAX_ATTEMPTS)
CLIENT_CONFIGS = {"sagemaker-runtime": _config(SAGEMAKER_RUNTIME_MAX_ATTEMPTS)}

_clients: dict[str, Any] = {}


def client_config(service: str) -> Config:
    """The botocore Config the functions use for `service`."""
    return CLIENT_CONFIGS.get(service, CLIENT_CONFIG)


def client(service: str) -> Any:
    """The container's client for `service` (created lazily: no network at import)."""
    if service not in _clients:
        _clients[service] = boto3.client(service, config=client_config(service))
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
