"""boto3 clients for the operator tools: ENV=local means this machine's local cloud."""

from __future__ import annotations

from typing import Any


class LocalCloudNotRunningError(RuntimeError):
    """ENV=local, but no local cloud of ours answers on LOCAL_CLOUD_PORT."""


def local_cloud_env(port: int | None = None) -> dict[str, str]:
    """The local cloud's endpoint, issued key and region, as `python -m localcloud env` has them.

    Read from the running server's credentials file, never from the caller's environment: the
    AWS keys there may be a real account's, and the local cloud accepts only its own.
    """
    from localcloud import control, credentials

    port = port if port is not None else control.default_port()
    try:
        return control.aws_env(port)
    except credentials.CredentialsFileError as error:
        raise LocalCloudNotRunningError(
            f"ENV=local, but the local cloud on port {port} is not running: {error}"
        ) from None


def client(service: str, env: str, endpoint_url: str | None = None, **kwargs: Any) -> Any:
    """A boto3 client for `service`; ENV=local uses the local cloud with the key it issued."""
    import boto3  # imported here so `--help` and argument errors stay fast

    if env == "local":
        local = local_cloud_env()
        # Explicit keys and no token: a key or token in the caller's environment never mixes in.
        session = boto3.session.Session(
            aws_access_key_id=local["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=local["AWS_SECRET_ACCESS_KEY"],
            region_name=kwargs.pop("region_name", local["AWS_DEFAULT_REGION"]),
        )
        return session.client(
            service, endpoint_url=endpoint_url or local["AWS_ENDPOINT_URL"], **kwargs
        )
    if endpoint_url:
        kwargs["endpoint_url"] = endpoint_url
    return boto3.client(service, **kwargs)
