"""UpdateEndpoint with a DeploymentConfig: canary traffic, baking, alarm rollback, completion."""

from __future__ import annotations

import io
import json
import tarfile
import textwrap
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.config import Config
from PIL import Image

from localcloud import sagemaker_deployments
from localcloud.sagemaker_deployments import CapacitySize, DeploymentConfigError
from localcloud.testing import RunningCloud
from tests.support.stand_in_kit import cloud_serving

IMAGE = "811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1"
ROLE = "arn:aws:iam::123456789012:role/sagemaker"
BUCKET = "deployment-bucket"
NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})
DEADLINE = 60.0

# A "model" is one number (the answer's second probability); a broken one raises in predict.
STAND_IN_INFERENCE = textwrap.dedent(
    """
    import json
    from pathlib import Path

    CLIENT_ERRORS = (ValueError,)

    class StandIn:
        def __init__(self, meta):
            self.meta = meta

        def predict(self, body, content_type):
            if self.meta.get("broken"):
                raise RuntimeError("the model's weights do not fit its network")
            return [1.0 - self.meta["p"], self.meta["p"]]

    def load_model(model_dir):
        return StandIn(json.loads((Path(model_dir) / "model.json").read_text()))
    """
)


def archive(meta: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        data = json.dumps(meta).encode()
        info = tarfile.TarInfo("model.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 20, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def canary(wait: int, percent: int = 50, alarms: list[str] | None = None) -> dict[str, Any]:
    config: dict[str, Any] = {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {
                "Type": "CANARY",
                "WaitIntervalInSeconds": wait,
                "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": percent},
            },
            "TerminationWaitInSeconds": 0,
        }
    }
    if alarms:
        config["AutoRollbackConfiguration"] = {"Alarms": [{"AlarmName": a} for a in alarms]}
    return config


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCloud]:
    with cloud_serving(STAND_IN_INFERENCE, tmp_path_factory.mktemp("stand_in")) as running:
        s3 = running.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        for name, meta in {
            "old": {"p": 0.25},
            "new": {"p": 0.75},
            "broken": {"p": 0.0, "broken": True},
        }.items():
            s3.put_object(Bucket=BUCKET, Key=f"models/{name}.tar.gz", Body=archive(meta))
        yield running


@pytest.fixture(scope="module")
def sagemaker(cloud: RunningCloud) -> Any:
    return cloud.client("sagemaker")


@pytest.fixture(scope="module")
def runtime(cloud: RunningCloud) -> Any:
    return cloud.client("sagemaker-runtime", config=NO_RETRIES)


@pytest.fixture(scope="module")
def cloudwatch(cloud: RunningCloud) -> Any:
    return cloud.client("cloudwatch")


def new_config(sagemaker: Any, model: str) -> str:
    """A model and a one-instance configuration serving models/<model>.tar.gz."""
    suffix = uuid.uuid4().hex[:8]
    sagemaker.create_model(
        ModelName=f"{model}-{suffix}",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": IMAGE, "ModelDataUrl": f"s3://{BUCKET}/models/{model}.tar.gz"},
    )
    name = f"cfg-{model}-{suffix}"
    sagemaker.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": f"{model}-{suffix}",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
                "InitialVariantWeight": 1.0,
            }
        ],
    )
    return name


def wait_status(sagemaker: Any, name: str, wanted: str) -> dict[str, Any]:
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        described: dict[str, Any] = sagemaker.describe_endpoint(EndpointName=name)
        if described["EndpointStatus"] == wanted:
            return described
        time.sleep(0.1)
    raise AssertionError(f"{name} never became {wanted}: {described}")


def answer(runtime: Any, name: str) -> float | str:
    """The second probability, or the error code and original status."""
    try:
        body = runtime.invoke_endpoint(EndpointName=name, ContentType="image/png", Body=png())
    except runtime.exceptions.ModelError as error:
        return f"ModelError {error.response['OriginalStatusCode']}"
    return float(json.loads(body["Body"].read())[1])


def alarm_on_5xx(cloudwatch: Any, endpoint: str) -> str:
    name = f"{endpoint}-5xx"
    cloudwatch.put_metric_alarm(
        AlarmName=name,
        Namespace="AWS/SageMaker",
        MetricName="Invocation5XXErrors",
        Dimensions=[
            {"Name": "EndpointName", "Value": endpoint},
            {"Name": "VariantName", "Value": "AllTraffic"},
        ],
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        TreatMissingData="notBreaching",
    )
    return name


@pytest.fixture
def endpoint(sagemaker: Any) -> Iterator[tuple[str, str]]:
    """An InService endpoint on the "old" model: (endpoint name, its configuration)."""
    name = f"ep-{uuid.uuid4().hex[:8]}"
    config = new_config(sagemaker, "old")
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=config)
    wait_status(sagemaker, name, "InService")
    yield name, config
    sagemaker.delete_endpoint(EndpointName=name)


def test_a_broken_canary_rolls_back_on_its_5xx_alarm(
    sagemaker: Any, runtime: Any, cloudwatch: Any, endpoint: tuple[str, str]
) -> None:
    name, old = endpoint
    alarm = alarm_on_5xx(cloudwatch, name)
    broken = new_config(sagemaker, "broken")
    deployment = canary(wait=120, alarms=[alarm])
    sagemaker.update_endpoint(
        EndpointName=name, EndpointConfigName=broken, DeploymentConfig=deployment
    )
    assert (
        wait_status(sagemaker, name, "Updating")["PendingDeploymentSummary"]["EndpointConfigName"]
        == broken
    )

    # Half the calls reach the broken canary once it is loaded; the first 5xx trips the alarm
    # and every later call is the old model's.
    answers: list[float | str] = []
    deadline = time.monotonic() + DEADLINE
    while "ModelError 500" not in answers and time.monotonic() < deadline:
        answers.append(answer(runtime, name))
    assert "ModelError 500" in answers
    after = [answer(runtime, name) for _ in range(20)]
    assert after == [0.25] * 20

    described = wait_status(sagemaker, name, "InService")
    assert described["EndpointConfigName"] == old
    assert alarm in described["FailureReason"]
    assert "rolled back" in described["FailureReason"]
    assert "PendingDeploymentSummary" not in described
    assert described["LastDeploymentConfig"] == deployment
    state = cloudwatch.describe_alarms(AlarmNames=[alarm])["MetricAlarms"][0]
    assert state["StateValue"] == "ALARM"


def test_a_good_canary_splits_traffic_then_completes(
    sagemaker: Any, runtime: Any, cloudwatch: Any, endpoint: tuple[str, str]
) -> None:
    name, _ = endpoint
    alarm = alarm_on_5xx(cloudwatch, name)
    good = new_config(sagemaker, "new")
    sagemaker.update_endpoint(
        EndpointName=name, EndpointConfigName=good, DeploymentConfig=canary(3, alarms=[alarm])
    )
    seen: set[float | str] = set()
    deadline = time.monotonic() + DEADLINE
    while sagemaker.describe_endpoint(EndpointName=name)["EndpointStatus"] == "Updating":
        assert time.monotonic() < deadline
        seen.add(answer(runtime, name))
    assert seen <= {0.25, 0.75}
    assert 0.75 in seen  # the canary served
    described = sagemaker.describe_endpoint(EndpointName=name)
    assert described["EndpointStatus"] == "InService"
    assert described["EndpointConfigName"] == good
    assert "FailureReason" not in described
    assert [answer(runtime, name) for _ in range(5)] == [0.75] * 5


def test_an_alarm_set_during_the_bake_rolls_back(
    sagemaker: Any, cloudwatch: Any, endpoint: tuple[str, str]
) -> None:
    name, old = endpoint
    alarm = alarm_on_5xx(cloudwatch, name)
    good = new_config(sagemaker, "new")
    sagemaker.update_endpoint(
        EndpointName=name, EndpointConfigName=good, DeploymentConfig=canary(120, alarms=[alarm])
    )
    wait_status(sagemaker, name, "Updating")
    cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="test")
    described = wait_status(sagemaker, name, "InService")
    assert described["EndpointConfigName"] == old
    assert alarm in described["FailureReason"]


def test_an_update_without_deployment_config_swaps_at_once(
    sagemaker: Any, runtime: Any, endpoint: tuple[str, str]
) -> None:
    name, _ = endpoint
    good = new_config(sagemaker, "new")
    sagemaker.update_endpoint(EndpointName=name, EndpointConfigName=good)
    described = wait_status(sagemaker, name, "InService")
    assert described["EndpointConfigName"] == good
    assert "LastDeploymentConfig" not in described
    assert answer(runtime, name) == 0.75


def test_create_endpoint_keeps_its_deployment_config(sagemaker: Any) -> None:
    name = f"ep-{uuid.uuid4().hex[:8]}"
    deployment = canary(10)
    sagemaker.create_endpoint(
        EndpointName=name,
        EndpointConfigName=new_config(sagemaker, "old"),
        DeploymentConfig=deployment,
    )
    try:
        assert wait_status(sagemaker, name, "InService")["LastDeploymentConfig"] == deployment
    finally:
        sagemaker.delete_endpoint(EndpointName=name)


@pytest.mark.parametrize(
    ("routing", "message"),
    [
        ({"Type": "CANARY", "WaitIntervalInSeconds": 5}, "CanarySize is required"),
        (
            {
                "Type": "CANARY",
                "WaitIntervalInSeconds": 3601,
                "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 10},
            },
            "less than or equal to 3600",
        ),
        (
            {
                "Type": "CANARY",
                "WaitIntervalInSeconds": 5,
                "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 1},
            },
            "50% of the variant's total instance count (1)",
        ),
        ({"Type": "SOMETIMES", "WaitIntervalInSeconds": 5}, "enum value set"),
    ],
)
def test_invalid_deployment_configs_are_validation_errors(
    sagemaker: Any, endpoint: tuple[str, str], routing: dict[str, Any], message: str
) -> None:
    name, old = endpoint
    config = {"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": routing}}
    with pytest.raises(sagemaker.exceptions.ClientError) as raised:
        sagemaker.update_endpoint(
            EndpointName=name,
            EndpointConfigName=new_config(sagemaker, "new"),
            DeploymentConfig=config,
        )
    assert message in raised.value.response["Error"]["Message"]
    described = sagemaker.describe_endpoint(EndpointName=name)
    assert (described["EndpointStatus"], described["EndpointConfigName"]) == ("InService", old)


def test_steps_of_each_traffic_routing() -> None:
    def config(routing: dict[str, Any]) -> sagemaker_deployments.DeploymentConfig:
        parsed = sagemaker_deployments.parse(
            {"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": routing}}
        )
        assert parsed is not None
        return parsed

    assert config({"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0}).steps(1) == [1.0]
    canary_config = config(
        {
            "Type": "CANARY",
            "WaitIntervalInSeconds": 0,
            "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 1},
        }
    )
    assert canary_config.steps(4) == [0.25, 1.0]
    linear = config(
        {
            "Type": "LINEAR",
            "WaitIntervalInSeconds": 0,
            "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 40},
        }
    )
    assert linear.steps(1) == pytest.approx([0.4, 0.8, 1.0])
    assert CapacitySize("CAPACITY_PERCENT", 20).share(3) == pytest.approx(0.2)
    with pytest.raises(DeploymentConfigError, match="RollingUpdatePolicy"):
        sagemaker_deployments.parse({"RollingUpdatePolicy": {"WaitIntervalInSeconds": 1}})
    assert sagemaker_deployments.parse(None) is None
