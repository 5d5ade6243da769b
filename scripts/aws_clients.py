"""boto3 clients for the operator tools: ENV=local means this machine's local cloud."""

from __future__ import annotations

import os
from typing import Any


def client(service: str, env: str, endpoint_url: str | None = None, **kwargs: Any) -> Any:
    """A boto3 client for `service`; ENV=local without an endpoint URL uses the local cloud."""
    import boto3  # imported here so `--help` and argument errors stay fast

    if env == "local":
        port = os.environ.get("LOCAL_CLOUD_PORT", "4566")
        endpoint_url = endpoint_url or f"http://127.0.0.1:{port}"
        kwargs.setdefault("region_name", os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
        if "AWS_ACCESS_KEY_ID" not in os.environ:  # the local cloud accepts any credentials
            kwargs |= {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
    if endpoint_url:
        kwargs["endpoint_url"] = endpoint_url
    return boto3.client(service, **kwargs)
