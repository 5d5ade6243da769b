"""Application Auto Scaling on the local cloud: SageMaker variant targets, policies and tags."""

from __future__ import annotations

import io
import tarfile
import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from localcloud.testing import RunningCloud
from tests.support.stand_in_kit import cloud_serving

pytestmark = pytest.mark.e2e

IMAGE = "811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1"
BUCKET = "scaling-bucket"
DIMENSION = "sagemaker:variant:DesiredInstanceCount"
STAND_IN_INFERENCE = """
class StandIn:
    def predict(self, body, content_type):
        return [0.5, 0.5]

def load_model(model_dir):
    return StandIn()
"""


def empty_archive() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz"):
        pass
    return buffer.getvalue()


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCloud]:
    with cloud_serving(STAND_IN_INFERENCE, tmp_path_factory.mktemp("stand_in")) as running:
        yield running


@pytest.fixture(scope="module")
def scaling(cloud: RunningCloud) -> Any:
    return cloud.client("application-autoscaling")


@pytest.fixture(scope="module")
def endpoint(cloud: RunningCloud) -> str:
    """An InService endpoint with one provisioned variant, AllTraffic."""
    s3, sagemaker = cloud.client("s3"), cloud.client("sagemaker")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="models/a/model.tar.gz", Body=empty_archive())
    sagemaker.create_model(
        ModelName="scaled-model",
        ExecutionRoleArn="arn:aws:iam::123456789012:role/hosting",
        PrimaryContainer={"Image": IMAGE, "ModelDataUrl": f"s3://{BUCKET}/models/a/model.tar.gz"},
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName="scaled-config",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "scaled-model",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
    )
    sagemaker.create_endpoint(EndpointName="scaled", EndpointConfigName="scaled-config")
    deadline = time.monotonic() + 30
    while sagemaker.describe_endpoint(EndpointName="scaled")["EndpointStatus"] == "Creating":
        assert time.monotonic() < deadline, "endpoint still Creating"
        time.sleep(0.05)
    return "scaled"


def register(scaling: Any, resource_id: str, **extra: Any) -> dict[str, Any]:
    response: dict[str, Any] = scaling.register_scalable_target(
        ServiceNamespace="sagemaker",
        ResourceId=resource_id,
        ScalableDimension=DIMENSION,
        MinCapacity=1,
        MaxCapacity=3,
        **extra,
    )
    return response


def test_a_variant_registers_with_tags_that_read_back_and_change(
    scaling: Any, endpoint: str
) -> None:
    resource_id = f"endpoint/{endpoint}/variant/AllTraffic"
    arn = register(scaling, resource_id, Tags={"project": "scones"})["ScalableTargetARN"]
    assert scaling.list_tags_for_resource(ResourceARN=arn)["Tags"] == {"project": "scones"}
    scaling.tag_resource(ResourceARN=arn, Tags={"env": "local"})
    scaling.untag_resource(ResourceARN=arn, TagKeys=["project"])
    assert scaling.list_tags_for_resource(ResourceARN=arn)["Tags"] == {"env": "local"}
    (target,) = scaling.describe_scalable_targets(
        ServiceNamespace="sagemaker", ResourceIds=[resource_id]
    )["ScalableTargets"]
    assert (target["MinCapacity"], target["MaxCapacity"], target["ScalableTargetARN"]) == (
        1,
        3,
        arn,
    )

    scaling.put_scaling_policy(
        PolicyName="invocations",
        ServiceNamespace="sagemaker",
        ResourceId=resource_id,
        ScalableDimension=DIMENSION,
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 600.0,
            "PredefinedMetricSpecification": {
                "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
            },
        },
    )
    (policy,) = scaling.describe_scaling_policies(
        ServiceNamespace="sagemaker", ResourceId=resource_id
    )["ScalingPolicies"]
    assert policy["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] == 600.0

    scaling.delete_scaling_policy(
        PolicyName="invocations",
        ServiceNamespace="sagemaker",
        ResourceId=resource_id,
        ScalableDimension=DIMENSION,
    )
    scaling.deregister_scalable_target(
        ServiceNamespace="sagemaker", ResourceId=resource_id, ScalableDimension=DIMENSION
    )
    with pytest.raises(ClientError) as gone:
        scaling.list_tags_for_resource(ResourceARN=arn)
    assert gone.value.response["Error"]["Code"] == "ResourceNotFoundException"


@pytest.mark.parametrize(
    "resource_id",
    ["endpoint/no-such-endpoint/variant/AllTraffic", "endpoint/scaled/variant/NoSuchVariant"],
)
def test_a_variant_that_does_not_exist_is_refused(
    scaling: Any, endpoint: str, resource_id: str
) -> None:
    with pytest.raises(ClientError) as refused:
        register(scaling, resource_id)
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert "does not exist" in refused.value.response["Error"]["Message"]
    assert not scaling.describe_scalable_targets(ServiceNamespace="sagemaker")["ScalableTargets"]


def test_tags_of_an_unknown_target_are_not_found(scaling: Any) -> None:
    arn = "arn:aws:application-autoscaling:us-east-1:123456789012:scalable-target/nonesuch"
    for call in (
        lambda: scaling.list_tags_for_resource(ResourceARN=arn),
        lambda: scaling.tag_resource(ResourceARN=arn, Tags={"a": "b"}),
    ):
        with pytest.raises(ClientError) as missing:
            call()
        assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
