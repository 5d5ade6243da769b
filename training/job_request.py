"""Building the CreateTrainingJob request for the built-in Image Classification algorithm."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from training.errors import ConfigError

CHANNELS = ("train", "validation", "train_lst", "validation_lst")
CONTENT_TYPE = "application/x-image"
MAX_NAME_LENGTH = 63


@dataclass(frozen=True)
class JobSettings:
    """training/config/job.json, possibly overridden on the command line."""

    job_name_prefix: str
    instance_type: str
    instance_count: int
    volume_size_gb: int
    max_runtime_seconds: int
    poll_seconds: float

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> JobSettings:
        try:
            return cls(
                job_name_prefix=str(config["job_name_prefix"]),
                instance_type=str(config["instance_type"]),
                instance_count=int(config["instance_count"]),
                volume_size_gb=int(config["volume_size_gb"]),
                max_runtime_seconds=int(config["max_runtime_seconds"]),
                poll_seconds=float(config["poll_seconds"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(
                f"training/config/job.json is incomplete or malformed ({exc})"
            ) from exc


def job_name(prefix: str, now: datetime | None = None, suffix: str | None = None) -> str:
    """<prefix>-YYYYMMDD-HHMMSS-<4 hex>: sortable, and unique even for two launches in a second."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    tail = suffix if suffix is not None else secrets.token_hex(2)
    return f"{prefix[: MAX_NAME_LENGTH - len(stamp) - len(tail) - 2]}-{stamp}-{tail}"


def channel(name: str, uri: str) -> dict[str, Any]:
    return {
        "ChannelName": name,
        "DataSource": {
            "S3DataSource": {
                "S3DataType": "S3Prefix",
                "S3Uri": uri,
                "S3DataDistributionType": "FullyReplicated",
            }
        },
        "ContentType": CONTENT_TYPE,
        "InputMode": "File",
        "CompressionType": "None",
    }


def training_job_request(
    *,
    name: str,
    image: str,
    role_arn: str,
    bucket: str,
    hyperparameters: dict[str, str],
    settings: JobSettings,
    prefix: str = "",
) -> dict[str, Any]:
    """The keyword arguments of sagemaker.create_training_job."""
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return {
        "TrainingJobName": name,
        "AlgorithmSpecification": {"TrainingImage": image, "TrainingInputMode": "File"},
        "RoleArn": role_arn,
        "HyperParameters": hyperparameters,
        "InputDataConfig": [channel(c, f"s3://{bucket}/{prefix}{c}/") for c in CHANNELS],
        "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/models/"},
        "ResourceConfig": {
            "InstanceType": settings.instance_type,
            "InstanceCount": settings.instance_count,
            "VolumeSizeInGB": settings.volume_size_gb,
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": settings.max_runtime_seconds},
        "Tags": [{"Key": "project", "Value": "scones-vehicle-classifier"}],
    }
