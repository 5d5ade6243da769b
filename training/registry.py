"""The quality gate and the model registry: evaluate a trained artifact, register it, find one."""

from __future__ import annotations

import json
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from training.errors import ConfigError, TrainingToolError
from training.evaluate import evaluate, local_predictor, split_images

CONTENT_TYPES = ["image/png", "image/jpeg", "application/x-image"]
EVALUATION_NAME = "evaluation.json"


class ModelRejectedError(TrainingToolError):
    """The trained model's accuracy is below the gate: it was registered Rejected."""


class NoApprovedPackageError(TrainingToolError):
    """The group holds no Approved model package to promote."""


class PackageNotApprovedError(TrainingToolError):
    """The model package given to promote is not Approved."""


class PackageNotInGroupError(TrainingToolError):
    """The model package given to promote belongs to another group (environment)."""


class UnknownPackageError(TrainingToolError):
    """No model package has the ARN given to promote."""


@dataclass(frozen=True)
class Gate:
    """The accuracy a model must reach on the test split, and where the number came from."""

    min_accuracy: float
    source: str  # "--min-accuracy" or "Terraform output min_accuracy"

    def __post_init__(self) -> None:
        if not 0.0 <= self.min_accuracy <= 1.0:
            raise ConfigError(f"{self.source} is {self.min_accuracy}; it must be between 0 and 1")


@dataclass(frozen=True)
class Registration:
    arn: str
    approved: bool
    reason: str


def validation_accuracy(description: dict[str, Any]) -> float | None:
    """validation:accuracy of DescribeTrainingJob's FinalMetricDataList (the algorithm's)."""
    for metric in description.get("FinalMetricDataList") or []:
        if metric.get("MetricName") == "validation:accuracy":
            return float(metric["Value"])
    return None


def evaluate_artifact(s3: Any, url: str, data: Path, split: str = "test") -> dict[str, Any]:
    """Download model.tar.gz, unpack it and run the split through it, as the endpoint would."""
    images = split_images(data, split)
    if not url.startswith("s3://") or "/" not in url[5:]:
        raise ConfigError(f"the model artifact {url!r} is not an s3://bucket/key URL")
    bucket, key = url[5:].split("/", 1)
    with tempfile.TemporaryDirectory(prefix="gate-") as scratch:
        archive = Path(scratch) / "model.tar.gz"
        s3.download_file(bucket, key, str(archive))
        model_dir = Path(scratch) / "model"
        try:
            with tarfile.open(archive, "r:gz") as tar:
                tar.extractall(model_dir, filter="data")
        except (tarfile.TarError, OSError, EOFError) as error:
            raise ConfigError(f"{url} is not the tar.gz a training job writes ({error})") from error
        result = evaluate(local_predictor(model_dir), images)
    result["split"] = split
    return result


def _accuracy(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def register(
    sagemaker: Any,
    s3: Any,
    *,
    group: str,
    job: dict[str, Any],
    image: str,
    report: dict[str, Any],
    gate: Gate,
) -> Registration:
    """Register the job's artifact as a version of group, Approved or Rejected by the gate.

    The full report goes beside the artifact (ModelMetrics.ModelQuality.Statistics points at it,
    as the registry expects metrics: a JSON document in S3); the headline numbers also go into
    CustomerMetadataProperties, where `make promote` shows them without reading S3.
    """
    url = job["ModelArtifacts"]["S3ModelArtifacts"]
    name = job["TrainingJobName"]
    bucket, key = url[5:].split("/", 1)
    validation = validation_accuracy(job)
    test = float(report["accuracy"])
    approved = test >= gate.min_accuracy
    verdict = "reaches" if approved else "is below"
    reason = (
        f"test accuracy {test:.4f} on {report['images']} images {verdict} the gate "
        f"min_accuracy {gate.min_accuracy:.4f} ({gate.source}); validation accuracy "
        f"{_accuracy(validation)}; training job {name}"
    )
    evaluation_key = f"{key.rsplit('/output/', 1)[0]}/{EVALUATION_NAME}"
    document = {
        "training_job": name,
        "model_data_url": url,
        "validation_accuracy": validation,
        "test": report,
        "min_accuracy": gate.min_accuracy,
        "approved": approved,
    }
    s3.put_object(
        Bucket=bucket,
        Key=evaluation_key,
        Body=json.dumps(document, indent=2).encode(),
        ContentType="application/json",
    )
    metadata = {
        "training_job": name,
        "test_accuracy": f"{test:.4f}",
        "test_images": str(report["images"]),
        "min_accuracy": f"{gate.min_accuracy:.4f}",
    }
    if validation is not None:
        metadata["validation_accuracy"] = f"{validation:.4f}"
    arn: str = sagemaker.create_model_package(
        ModelPackageGroupName=group,
        ModelPackageDescription=reason,
        InferenceSpecification={
            "Containers": [{"Image": image, "ModelDataUrl": url}],
            "SupportedContentTypes": CONTENT_TYPES,
            "SupportedResponseMIMETypes": ["application/json"],
        },
        ModelApprovalStatus="Approved" if approved else "Rejected",
        ModelMetrics={
            "ModelQuality": {
                "Statistics": {
                    "ContentType": "application/json",
                    "S3Uri": f"s3://{bucket}/{evaluation_key}",
                }
            }
        },
        CustomerMetadataProperties=metadata,
    )["ModelPackageArn"]
    # ApprovalDescription is set by UpdateModelPackage only: the same reason, where the
    # console and DescribeModelPackage show why a version is (not) approved.
    sagemaker.update_model_package(ModelPackageArn=arn, ApprovalDescription=reason)
    return Registration(arn, approved, reason)


def latest_approved(sagemaker: Any, group: str) -> dict[str, Any]:
    """The newest Approved package of the group (DescribeModelPackage), or raise."""
    summaries = sagemaker.list_model_packages(
        ModelPackageGroupName=group,
        ModelApprovalStatus="Approved",
        SortBy="CreationTime",
        SortOrder="Descending",
        MaxResults=1,
    )["ModelPackageSummaryList"]
    if not summaries:
        raise NoApprovedPackageError(
            f"model package group {group} holds no Approved package; train one that passes the "
            "gate (`make train`), or pass PACKAGE=<arn> of an Approved one"
        )
    return describe(sagemaker, summaries[0]["ModelPackageArn"])


def describe(sagemaker: Any, arn: str) -> dict[str, Any]:
    from botocore.exceptions import ClientError

    try:
        package: dict[str, Any] = sagemaker.describe_model_package(ModelPackageName=arn)
    except ClientError as error:
        if error.response["Error"]["Code"] == "ValidationException":
            raise UnknownPackageError(
                f"no model package {arn}: {error.response['Error']['Message']}"
            ) from None
        raise
    return package


def check_promotable(package: dict[str, Any], group: str) -> None:
    """The package must be a version of group and Approved."""
    arn = package["ModelPackageArn"]
    if package.get("ModelPackageGroupName") != group:
        raise PackageNotInGroupError(
            f"{arn} belongs to group {package.get('ModelPackageGroupName')!r}, not to this "
            f"environment's {group!r}; promote a package of {group}"
        )
    status = package.get("ModelApprovalStatus")
    if status != "Approved":
        why = package.get("ApprovalDescription") or package.get("ModelPackageDescription") or ""
        raise PackageNotApprovedError(
            f"{arn} is {status}, not Approved{f' ({why})' if why else ''}; only Approved "
            "packages are promoted"
        )


def artifact_of(package: dict[str, Any]) -> str:
    containers = (package.get("InferenceSpecification") or {}).get("Containers") or [{}]
    url = containers[0].get("ModelDataUrl")
    if not url:
        raise UnknownPackageError(f"{package['ModelPackageArn']} names no ModelDataUrl")
    return str(url)


def delete_packages(sagemaker: Any, group: str) -> list[str]:
    """Delete every version of group (before a destroy: the packages are not Terraform's)."""
    deleted = []
    paginator = sagemaker.get_paginator("list_model_packages")
    for page in paginator.paginate(ModelPackageGroupName=group):
        for summary in page["ModelPackageSummaryList"]:
            sagemaker.delete_model_package(ModelPackageName=summary["ModelPackageArn"])
            deleted.append(summary["ModelPackageArn"])
    return deleted
