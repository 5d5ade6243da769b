"""The SageMaker parts' one door into moto 5.2.5's internals: S3 and Logs in-process, patching."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

from localcloud.plugin import MOTO_VERSION, require_moto_version

# Everything the SageMaker plugins read or replace inside moto, as (module, attribute path).
# tests/localcloud/test_sagemaker_moto.py fails loudly if any of these moves or changes shape.
MOTO_INTERNALS: tuple[tuple[str, str], ...] = (
    ("moto.s3.models", "s3_backends"),
    ("moto.s3.models", "S3Backend.get_bucket"),
    ("moto.s3.models", "S3Backend.get_object"),
    ("moto.s3.models", "S3Backend.put_object"),
    ("moto.logs.models", "logs_backends"),
    ("moto.logs.models", "LogsBackend.create_log_group"),
    ("moto.logs.models", "LogsBackend.create_log_stream"),
    ("moto.logs.models", "LogsBackend.put_log_events"),
    # Endpoint invocation metrics (sagemaker_runtime) and EMF extraction (lambda_runtime).
    ("moto.cloudwatch.models", "cloudwatch_backends"),
    ("moto.cloudwatch.models", "CloudWatchBackend.put_metric_data"),
    # Rollback alarms of blue/green deployments (sagemaker_deployments).
    ("moto.cloudwatch.models", "MetricDatum"),
    ("moto.cloudwatch.models", "Alarm.update_state"),
    ("moto.sagemaker.responses", "SageMakerResponse.create_endpoint"),
    ("moto.sagemaker.models", "sagemaker_backends"),
    ("moto.sagemaker.models", "SageMakerModelBackend.create_training_job"),
    ("moto.sagemaker.models", "SageMakerModelBackend.describe_training_job"),
    ("moto.sagemaker.models", "SageMakerModelBackend.create_endpoint"),
    ("moto.sagemaker.models", "SageMakerModelBackend.create_endpoint_config"),
    ("moto.sagemaker.models", "SageMakerModelBackend.delete_endpoint"),
    ("moto.sagemaker.models", "SageMakerModelBackend.describe_endpoint"),
    ("moto.sagemaker.models", "SageMakerModelBackend.describe_endpoint_config"),
    ("moto.sagemaker.models", "SageMakerModelBackend.describe_model"),
    ("moto.sagemaker.models", "FakeEndpoint._process_production_variants"),
    # The model registry (sagemaker_registry).
    ("moto.sagemaker.models", "ModelPackage"),
    ("moto.sagemaker.models", "ModelPackage.set_model_approval_status"),
    ("moto.sagemaker.models", "ModelPackage.add_additional_inference_specifications"),
    ("moto.sagemaker.models", "ModelPackage.modifications_done"),
    ("moto.sagemaker.models", "SageMakerModelBackend.create_model"),
    ("moto.sagemaker.models", "SageMakerModelBackend.create_model_package_group"),
    ("moto.sagemaker.models", "SageMakerModelBackend.describe_model_package_group"),
    ("moto.sagemaker.models", "SageMakerModelBackend.create_model_package"),
    ("moto.sagemaker.models", "SageMakerModelBackend.describe_model_package"),
    ("moto.sagemaker.models", "SageMakerModelBackend.update_model_package"),
    ("moto.sagemaker.exceptions", "ConflictException"),
    ("moto.sagemaker.responses", "SageMakerResponse.describe_training_job"),
    ("moto.sagemaker.responses", "SageMakerResponse.describe_endpoint"),
    ("moto.sagemaker.responses", "SageMakerResponse.describe_endpoint_config"),
    ("moto.sagemaker.responses", "SageMakerResponse.describe_model"),
    ("moto.sagemaker.responses", "SageMakerResponse.create_model"),
    ("moto.sagemaker.exceptions", "ValidationError"),
    ("moto.sagemakerruntime.responses", "SageMakerRuntimeResponse.invoke_endpoint"),
    ("moto.core.responses", "BaseResponse.use_raw_body"),
    ("moto.moto_api._internal.urls", "url_paths"),
)

_PATCH_MARK = "_localcloud_original"


class S3ObjectMissingError(LookupError):
    """An S3 object the SageMaker emulation needs (channel data, model artifact) is absent."""


def require_moto() -> None:
    """Fail at install, with what to do, if moto is not the release these patches target."""
    require_moto_version(MOTO_VERSION)


def utcnow() -> datetime:
    """Naive UTC, the form moto stores and serializes its own timestamps in."""
    return datetime.now(UTC).replace(tzinfo=None)


def patch(owner: Any, name: str, replacement: Callable[..., Any]) -> None:
    """Replace owner.name, keeping the original reachable; a second install re-patches cleanly."""
    current = getattr(owner, name, None)
    original = getattr(current, _PATCH_MARK, current)
    setattr(replacement, _PATCH_MARK, original)
    setattr(owner, name, replacement)


def original(owner: Any, name: str) -> Any:
    """moto's own implementation of a patched attribute (or the attribute if unpatched)."""
    current = getattr(owner, name)
    return getattr(current, _PATCH_MARK, current)


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """s3://bucket/key/part → ("bucket", "key/part")."""
    parsed = urlparse(uri)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise ValueError(f"not an s3:// URI: {uri!r}")
    return parsed.netloc, parsed.path.lstrip("/")


def _s3(account_id: str, region: str) -> Any:
    from moto.s3.models import s3_backends
    from moto.utilities.utils import get_partition

    return s3_backends[account_id][get_partition(region)]


def list_objects(account_id: str, region: str, bucket: str, prefix: str) -> list[str]:
    """Keys under a prefix (current versions only), sorted; raises if the bucket is missing."""
    from moto.s3.exceptions import MissingBucket

    backend = _s3(account_id, region)
    try:
        fake_bucket = backend.get_bucket(bucket)
    except MissingBucket as error:
        raise S3ObjectMissingError(f"bucket {bucket!r} does not exist") from error
    # list() first: another request thread may add keys while we iterate.
    return sorted(key for key in list(fake_bucket.keys) if key.startswith(prefix))


def get_object(account_id: str, region: str, bucket: str, key: str) -> bytes:
    from moto.s3.exceptions import MissingBucket, MissingKey

    try:
        fake_key = _s3(account_id, region).get_object(bucket, key)
    except (MissingBucket, MissingKey) as error:
        raise S3ObjectMissingError(f"s3://{bucket}/{key} does not exist") from error
    if fake_key is None:
        raise S3ObjectMissingError(f"s3://{bucket}/{key} does not exist")
    value: bytes = fake_key.value
    return value


def put_object(account_id: str, region: str, bucket: str, key: str, data: bytes) -> None:
    from moto.s3.exceptions import MissingBucket

    try:
        _s3(account_id, region).put_object(bucket, key, data)
    except MissingBucket as error:
        raise S3ObjectMissingError(f"bucket {bucket!r} does not exist") from error


class LogStreamWriter:
    """One CloudWatch Logs stream in moto's Logs backend, written in batches from one thread."""

    def __init__(self, account_id: str, region: str, group: str, stream: str) -> None:
        from moto.logs.exceptions import ResourceAlreadyExistsException
        from moto.logs.models import logs_backends

        self.group = group
        self.stream = stream
        self.arn = f"arn:aws:logs:{region}:{account_id}:log-group:{group}:log-stream:{stream}"
        self._backend = logs_backends[account_id][region]
        self._lock = threading.Lock()
        with contextlib.suppress(ResourceAlreadyExistsException):
            self._backend.create_log_group(group, tags={})
        with contextlib.suppress(ResourceAlreadyExistsException):
            self._backend.create_log_stream(group, stream)

    def write(self, messages: list[str]) -> None:
        if not messages:
            return
        now_ms = int(time.time() * 1000)
        events = [{"timestamp": now_ms, "message": message} for message in messages]
        # moto's put_log_events is not thread safe (its own TODO says so).
        with self._lock:
            self._backend.put_log_events(self.group, self.stream, events)


def prune_empty(value: Any) -> Any:
    """Drop None, {} and [] members recursively: AWS omits them, and Terraform reads {} as set."""
    if isinstance(value, dict):
        pruned = {key: prune_empty(item) for key, item in value.items()}
        return {key: item for key, item in pruned.items() if item not in (None, {}, [])}
    if isinstance(value, list):
        return [prune_empty(item) for item in value]
    return value
