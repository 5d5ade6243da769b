"""The one place boto3 clients are built, for training and the operator tools alike.

ENV=local means this machine's local cloud, signed with the key it issued at start (never the
caller's AWS_* keys, which may be a real account's); dev and prod use the caller's AWS
configuration, and boto3 itself honours AWS_ENDPOINT_URL there.
"""

from __future__ import annotations

from typing import Any

from training.errors import ConfigError

LOCAL = "local"


class LocalCloudNotRunningError(ConfigError):
    """ENV=local, but no local cloud of ours has a key on LOCAL_CLOUD_PORT."""


def local_cloud_env(port: int | None = None) -> dict[str, str]:
    """The local cloud's endpoint, issued key and region, as `python -m localcloud env` has them.

    Read from the running server's credentials file, never from the caller's environment.
    localcloud is imported only here and only for ENV=local: the emulator's own record of the
    key it issued is the one place that knows it.
    """
    from localcloud import control, credentials

    port = port if port is not None else control.default_port()
    try:
        return control.aws_env(port)
    except credentials.CredentialsFileError as error:
        raise LocalCloudNotRunningError(
            f"ENV=local, but the local cloud on port {port} is not running: {error}"
        ) from None


def _config(extra: Any | None) -> Any:
    from botocore.config import Config

    # A few retries, not botocore's long default: the local cloud answers at once or not at all.
    base = Config(retries={"max_attempts": 3, "mode": "standard"}, max_pool_connections=32)
    return base.merge(extra) if extra is not None else base


def client(
    service: str,
    env: str,
    *,
    region: str | None = None,
    endpoint_url: str | None = None,
    config: Any | None = None,
) -> Any:
    """A boto3 client for `service` in environment `env` (local, dev, prod)."""
    import boto3  # imported here so `--help` and argument errors stay fast
    from botocore.exceptions import NoRegionError

    if env == LOCAL:
        local = local_cloud_env()
        # Explicit keys and no token: a key or token in the caller's environment never mixes in.
        session = boto3.session.Session(
            aws_access_key_id=local["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=local["AWS_SECRET_ACCESS_KEY"],
            region_name=region or local["AWS_DEFAULT_REGION"],
        )
        endpoint_url = endpoint_url or local["AWS_ENDPOINT_URL"]
    else:
        session = boto3.session.Session(region_name=region)
    try:
        return session.client(service, endpoint_url=endpoint_url, config=_config(config))
    except NoRegionError as exc:
        raise ConfigError(
            "no AWS region is set; export AWS_REGION (e.g. us-east-1), or AWS_PROFILE with a region"
        ) from exc


def region_of(any_client: Any) -> str:
    """The region a client was built for."""
    return str(any_client.meta.region_name)
