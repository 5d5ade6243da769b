"""The model registry through the local cloud: groups, versioned packages, models from packages."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from localcloud.testing import RunningCloud
from tests.localcloud.test_sagemaker_endpoints import (
    IMAGE,
    NO_RETRIES,
    ROLE,
    STAND_IN_INFERENCE,
    image_bytes,
    invoke,
    model_archive,
    wait_status,
)
from tests.support.stand_in_kit import cloud_serving

BUCKET = "registry-bucket"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCloud]:
    with cloud_serving(STAND_IN_INFERENCE, tmp_path_factory.mktemp("stand_in")) as running:
        s3 = running.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key="models/a/model.tar.gz", Body=model_archive(1.0))
        s3.put_object(Bucket=BUCKET, Key="models/b/model.tar.gz", Body=model_archive(0.5))
        yield running


@pytest.fixture(scope="module")
def sagemaker(cloud: RunningCloud) -> Any:
    return cloud.client("sagemaker", config=NO_RETRIES)


def spec(key: str) -> dict[str, Any]:
    return {
        "Containers": [
            {"Image": IMAGE, "ModelDataUrl": f"s3://{BUCKET}/models/{key}/model.tar.gz"}
        ],
        "SupportedContentTypes": ["image/png"],
        "SupportedResponseMIMETypes": ["application/json"],
    }


def register(sagemaker: Any, group: str, key: str = "a", **extra: Any) -> str:
    arn: str = sagemaker.create_model_package(
        ModelPackageGroupName=group, InferenceSpecification=spec(key), **extra
    )["ModelPackageArn"]
    return arn


def error_of(call: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as raised:
        call(**kwargs)
    error: dict[str, Any] = raised.value.response["Error"]
    return error


def test_group_lifecycle_as_terraform_drives_it(sagemaker: Any) -> None:
    arn = sagemaker.create_model_package_group(
        ModelPackageGroupName="lifecycle-models",
        ModelPackageGroupDescription="models of one environment",
        Tags=[{"Key": "Project", "Value": "scones"}],
    )["ModelPackageGroupArn"]
    assert arn == "arn:aws:sagemaker:us-east-1:123456789012:model-package-group/lifecycle-models"
    for name in ("lifecycle-models", arn):
        group = sagemaker.describe_model_package_group(ModelPackageGroupName=name)
        assert group["ModelPackageGroupStatus"] == "Completed"
        assert group["ModelPackageGroupDescription"] == "models of one environment"
    assert sagemaker.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "Project", "Value": "scones"}]

    sagemaker.delete_model_package_group(ModelPackageGroupName="lifecycle-models")
    # The provider's read and its delete waiter take "does not exist" for gone.
    error = error_of(sagemaker.describe_model_package_group, ModelPackageGroupName=arn)
    assert error["Code"] == "ValidationException" and "does not exist" in error["Message"]
    error = error_of(sagemaker.delete_model_package_group, ModelPackageGroupName=arn)
    assert "does not exist" in error["Message"]


def test_group_input_is_validated_as_aws_does(sagemaker: Any) -> None:
    error = error_of(sagemaker.create_model_package_group, ModelPackageGroupName="bad_name")
    assert error["Code"] == "ValidationException"
    assert "Member must satisfy regular expression pattern" in error["Message"]
    error = error_of(
        sagemaker.create_model_package_group,
        ModelPackageGroupName="long-description",
        ModelPackageGroupDescription="x" * 1025,
    )
    assert "length less than or equal to 1024" in error["Message"]
    sagemaker.create_model_package_group(ModelPackageGroupName="twice")
    error = error_of(sagemaker.create_model_package_group, ModelPackageGroupName="twice")
    assert "already exists" in error["Message"]


def test_a_group_with_versions_is_not_deleted(sagemaker: Any) -> None:
    sagemaker.create_model_package_group(ModelPackageGroupName="busy-models")
    package = register(sagemaker, "busy-models")
    error = error_of(sagemaker.delete_model_package_group, ModelPackageGroupName="busy-models")
    assert error["Code"] == "ConflictException" and "DeleteModelPackage" in error["Message"]
    sagemaker.delete_model_package(ModelPackageName=package)
    sagemaker.delete_model_package_group(ModelPackageGroupName="busy-models")


def test_versions_metrics_approval_and_listing(sagemaker: Any) -> None:
    group_arn = sagemaker.create_model_package_group(ModelPackageGroupName="gate-models")[
        "ModelPackageGroupArn"
    ]
    metrics = {
        "ModelQuality": {
            "Statistics": {
                "ContentType": "application/json",
                "S3Uri": f"s3://{BUCKET}/models/a/evaluation.json",
            }
        }
    }
    first = register(
        sagemaker,
        "gate-models",
        ModelApprovalStatus="Rejected",
        ModelPackageDescription="test accuracy 0.81 is below the gate 0.90",
        CustomerMetadataProperties={"test_accuracy": "0.8100"},
        ModelMetrics=metrics,
    )
    second = register(
        sagemaker,
        group_arn,  # a group's ARN names it as well as its name
        key="b",
        ModelApprovalStatus="Approved",
        CustomerMetadataProperties={"test_accuracy": "0.9300", "training_job": "job-2"},
    )
    assert first.endswith("model-package/gate-models/1")
    assert second.endswith("model-package/gate-models/2")
    described = sagemaker.describe_model_package(ModelPackageName=first)
    assert described["ModelApprovalStatus"] == "Rejected"
    assert described["ModelMetrics"] == metrics
    assert described["ModelPackageDescription"].startswith("test accuracy 0.81")

    approved = sagemaker.list_model_packages(
        ModelPackageGroupName="gate-models",
        ModelApprovalStatus="Approved",
        SortBy="CreationTime",
        SortOrder="Descending",
    )["ModelPackageSummaryList"]
    assert [p["ModelPackageArn"] for p in approved] == [second]

    # An update changes what it names, and only that.
    sagemaker.update_model_package(
        ModelPackageArn=second,
        ModelApprovalStatus="Rejected",
        ApprovalDescription="rolled back: latency",
    )
    sagemaker.update_model_package(
        ModelPackageArn=second, CustomerMetadataProperties={"reviewed_by": "ops"}
    )
    described = sagemaker.describe_model_package(ModelPackageName=second)
    assert described["ModelApprovalStatus"] == "Rejected"
    assert described["ApprovalDescription"] == "rolled back: latency"
    assert described["CustomerMetadataProperties"] == {
        "test_accuracy": "0.9300",
        "training_job": "job-2",
        "reviewed_by": "ops",
    }

    # Versions are never handed out twice, even after a delete.
    sagemaker.delete_model_package(ModelPackageName=second)
    third = register(sagemaker, "gate-models")
    assert third.endswith("model-package/gate-models/3")
    error = error_of(sagemaker.describe_model_package, ModelPackageName=second)
    assert error["Code"] == "ValidationException"


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"ModelApprovalStatus": "Fine"}, "enum value set"),
        ({"ModelPackageDescription": "x" * 1025}, "length less than or equal to 1024"),
        ({"ModelPackageDescription": "tab\tinside"}, r"\p{L}\p{M}"),
        ({"CustomerMetadataProperties": {"accuracy": "0.9, good"}}, "Map values"),
        (
            {"ModelMetrics": {"ModelQuality": {"Statistics": {"ContentType": "a", "S3Uri": "x"}}}},
            "modelMetrics.modelQuality.statistics.s3Uri",
        ),
    ],
)
def test_package_input_is_validated_as_aws_does(
    sagemaker: Any, extra: dict[str, Any], expected: str
) -> None:
    group = f"invalid-{zlib.crc32(expected.encode())}"
    sagemaker.create_model_package_group(ModelPackageGroupName=group)
    error = error_of(
        sagemaker.create_model_package,
        ModelPackageGroupName=group,
        InferenceSpecification=spec("a"),
        **extra,
    )
    assert error["Code"] == "ValidationException"
    assert expected in error["Message"]


def test_a_package_into_a_missing_group_is_refused(sagemaker: Any) -> None:
    error = error_of(
        sagemaker.create_model_package,
        ModelPackageGroupName="no-such-group",
        InferenceSpecification=spec("a"),
    )
    assert "does not exist" in error["Message"]


def test_an_endpoint_serves_the_packages_artifact(cloud: RunningCloud, sagemaker: Any) -> None:
    sagemaker.create_model_package_group(ModelPackageGroupName="served-models")
    package = register(sagemaker, "served-models", key="b", ModelApprovalStatus="Approved")
    error = error_of(
        sagemaker.create_model,
        ModelName="from-nothing",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"ModelPackageName": package.replace("/1", "/9")},
    )
    assert (
        error["Code"] == "ValidationException"
        and "Could not find model package" in (error["Message"])
    )

    sagemaker.create_model(
        ModelName="from-package",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"ModelPackageName": package, "Mode": "SingleModel"},
        EnableNetworkIsolation=True,
    )
    model = sagemaker.describe_model(ModelName="from-package")
    # As created: Terraform reads primary_container back and must see no drift.
    assert model["PrimaryContainer"] == {"ModelPackageName": package, "Mode": "SingleModel"}
    sagemaker.create_endpoint_config(
        EndpointConfigName="from-package-config",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "from-package",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
    )
    sagemaker.create_endpoint(EndpointName="from-package", EndpointConfigName="from-package-config")
    endpoint = wait_status(sagemaker, "from-package")
    assert endpoint["EndpointStatus"] == "InService", endpoint.get("FailureReason")
    runtime = cloud.client("sagemaker-runtime", config=NO_RETRIES)
    # Package b's artifact has bias 0.5: a red image gives [0.5, 0.5] (a's would give [0, 1]).
    red = invoke(runtime, "from-package", image_bytes((32, 32), (255, 0, 0), "PNG"))
    assert red == pytest.approx([0.5, 0.5])
