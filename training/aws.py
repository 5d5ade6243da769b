"""The one place boto3 clients are built; boto3 itself honours AWS_ENDPOINT_URL (local cloud)."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import NoRegionError

from training.errors import ConfigError

# A few retries, not botocore's long default: the local cloud answers at once or not at all.
_CONFIG = Config(retries={"max_attempts": 3, "mode": "standard"}, max_pool_connections=32)


def client(service: str, region: str | None = None) -> Any:
    """A boto3 client; the region comes from the environment unless given."""
    try:
        return boto3.session.Session().client(service, region_name=region, config=_CONFIG)
    except NoRegionError as exc:
        raise ConfigError(
            "no AWS region is set; export AWS_REGION (e.g. us-east-1), or AWS_PROFILE with a region"
        ) from exc


def region_of(any_client: Any) -> str:
    """The region a client was built for."""
    return str(any_client.meta.region_name)
