"""Names that would become paths outside the state folder are refused, and nothing is touched."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from localcloud import sagemaker_endpoints, sagemaker_training
from localcloud.testing import RunningCloud, running_local_cloud, zip_of

pytestmark = [pytest.mark.e2e]

IMAGE = "811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1"
ROLE = "arn:aws:iam::123456789012:role/sagemaker"
BUCKET = "traversal-bucket"
# A trainer and a model loader that would run (and finish at once) if a bad name got through.
STAND_IN_TRAINER = (
    "import sys, pathlib\n"
    "root = pathlib.Path(sys.argv[sys.argv.index('--ml-root') + 1])\n"
    "(root / 'model/model.json').write_text('{}')\n"
)
STAND_IN_INFERENCE = "def load_model(model_dir):\n    raise RuntimeError('not for serving')\n"


@pytest.fixture(scope="module")
def outside(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the server's state root and, next to it, canaries it must not touch."""
    return tmp_path_factory.mktemp("outside")


@pytest.fixture(scope="module")
def cloud(outside: Path) -> Iterator[RunningCloud]:
    (outside / "stand_in_trainer.py").write_text(STAND_IN_TRAINER)
    (outside / "stand_in_inference.py").write_text(STAND_IN_INFERENCE)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(sagemaker_training.TRAINER_MODULE_ENV, str(outside / "stand_in_trainer.py"))
        patch.setenv(
            sagemaker_endpoints.INFERENCE_MODULE_ENV, str(outside / "stand_in_inference.py")
        )
        with running_local_cloud(state_root=outside / "state") as running:
            yield running


@pytest.fixture(scope="module")
def canary(outside: Path, cloud: RunningCloud) -> Path:
    """A folder with a file, beside the state root: what `../` names reached before the fix."""
    folder = outside / "canary"
    folder.mkdir()
    (folder / "keep.txt").write_text("still here")
    return folder


@pytest.fixture(scope="module")
def data(cloud: RunningCloud) -> str:
    s3 = cloud.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="data/train/a.png", Body=b"png")
    return f"s3://{BUCKET}/data"


def client(cloud: RunningCloud, service: str) -> Any:
    """A client that sends what it is given: botocore's own checks (min length) are the server's."""
    return cloud.client(service, config=Config(parameter_validation=False))


def traversals(canary: Path, cloud: RunningCloud) -> list[str]:
    """Relative escapes at every depth up to the canary, `..` alone, and absolute paths."""
    depth = len(cloud.state_dir.relative_to(canary.parent).parts) + 3  # e.g. sagemaker/training
    return [
        "../x",
        "..",
        ".",
        "a/../../b",
        "/".join([".."] * depth) + "/canary",
        str(canary),
        str(canary / "keep.txt"),
        "",
    ]


def outside_state(outside: Path, state_dir: Path) -> dict[str, bytes | None]:
    """Every path under `outside` but not under the server's state dir, with file contents."""
    found: dict[str, bytes | None] = {}
    for dirpath, dirnames, filenames in os.walk(outside):
        here = Path(dirpath)
        if here == state_dir or state_dir in here.parents:
            dirnames.clear()
            continue
        for name in dirnames:
            found[str(here / name)] = None
        for name in filenames:
            found[str(here / name)] = (here / name).read_bytes()
    return found


@pytest.fixture
def untouched(outside: Path, cloud: RunningCloud, canary: Path) -> Iterator[None]:
    """Fails the test if anything outside the state dir appeared, changed or went away."""
    before = outside_state(outside, cloud.state_dir)
    yield
    assert (canary / "keep.txt").read_text() == "still here"
    assert outside_state(outside, cloud.state_dir) == before


def assert_validation_error(error: pytest.ExceptionInfo[ClientError], member: str) -> None:
    response: Any = error.value.response
    assert response["Error"]["Code"] == "ValidationException"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    message = response["Error"]["Message"]
    assert "validation error" in message and "detected: Value '" in message, message
    assert f"at '{member}' failed to satisfy constraint" in message, message


def training_job(name: str, data: str, channels: list[str]) -> dict[str, Any]:
    return {
        "TrainingJobName": name,
        "AlgorithmSpecification": {"TrainingImage": IMAGE, "TrainingInputMode": "File"},
        "RoleArn": ROLE,
        "HyperParameters": {"num_classes": "2", "num_training_samples": "1"},
        "InputDataConfig": [
            {
                "ChannelName": channel,
                "DataSource": {
                    "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"{data}/train/"}
                },
            }
            for channel in channels
        ],
        "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/models"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 5},
        "StoppingCondition": {"MaxRuntimeInSeconds": 60},
    }


@pytest.mark.usefixtures("untouched")
def test_training_job_names_that_are_paths_are_refused(
    cloud: RunningCloud, canary: Path, data: str
) -> None:
    sagemaker = client(cloud, "sagemaker")
    for name in traversals(canary, cloud):
        with pytest.raises(ClientError) as error:
            sagemaker.create_training_job(**training_job(name, data, ["train"]))
        assert_validation_error(error, "trainingJobName")
    assert sagemaker.list_training_jobs()["TrainingJobSummaries"] == []
    assert not (cloud.state_dir / "sagemaker" / "training").exists()


@pytest.mark.usefixtures("untouched")
def test_channel_names_that_are_paths_are_refused(
    cloud: RunningCloud, canary: Path, data: str
) -> None:
    sagemaker = client(cloud, "sagemaker")
    for index, channel in enumerate(traversals(canary, cloud)):
        with pytest.raises(ClientError) as error:
            sagemaker.create_training_job(
                **training_job(f"channel-{index}", data, ["train", channel])
            )
        assert_validation_error(error, "inputDataConfig.2.member.channelName")
    assert sagemaker.list_training_jobs()["TrainingJobSummaries"] == []


def test_a_job_with_plain_names_still_runs(cloud: RunningCloud, data: str) -> None:
    sagemaker = client(cloud, "sagemaker")
    sagemaker.create_training_job(
        **training_job("plain-job-1", data, ["train", "validation", "train.lst_2"])
    )
    for _ in range(300):
        job = sagemaker.describe_training_job(TrainingJobName="plain-job-1")
        if job["TrainingJobStatus"] != "InProgress":
            break
        time.sleep(0.1)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    assert (cloud.state_dir / "sagemaker/training/plain-job-1/input/data/train.lst_2").is_dir()


@pytest.mark.usefixtures("untouched")
def test_model_names_that_are_paths_are_refused(cloud: RunningCloud, canary: Path) -> None:
    sagemaker = client(cloud, "sagemaker")
    for name in traversals(canary, cloud):
        with pytest.raises(ClientError) as error:
            sagemaker.create_model(
                ModelName=name, ExecutionRoleArn=ROLE, PrimaryContainer={"Image": IMAGE}
            )
        assert_validation_error(error, "modelName")
    assert [m["ModelName"] for m in sagemaker.list_models()["Models"]] in ([], ["traversal-model"])


@pytest.fixture(scope="module")
def endpoint_config(cloud: RunningCloud) -> str:
    sagemaker = client(cloud, "sagemaker")
    sagemaker.create_model(
        ModelName="traversal-model", ExecutionRoleArn=ROLE, PrimaryContainer={"Image": IMAGE}
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName="traversal-config",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "traversal-model",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
    )
    return "traversal-config"


@pytest.mark.usefixtures("untouched")
def test_endpoint_names_that_are_paths_are_refused(
    cloud: RunningCloud, canary: Path, endpoint_config: str
) -> None:
    sagemaker = client(cloud, "sagemaker")
    for name in traversals(canary, cloud):
        with pytest.raises(ClientError) as error:
            sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=endpoint_config)
        assert_validation_error(error, "endpointName")
        with pytest.raises(ClientError) as error:
            sagemaker.create_endpoint_config(
                EndpointConfigName=name,
                ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": "traversal-model"}],
            )
        assert_validation_error(error, "endpointConfigName")
    assert sagemaker.list_endpoints()["Endpoints"] == []
    configs = sagemaker.list_endpoint_configs()["EndpointConfigs"]
    assert [c["EndpointConfigName"] for c in configs] == [endpoint_config]


@pytest.fixture(scope="module")
def role(cloud: RunningCloud) -> str:
    assume = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    arn: str = cloud.client("iam").create_role(
        RoleName="traversal-lambda", AssumeRolePolicyDocument=json.dumps(assume)
    )["Role"]["Arn"]
    return arn


@pytest.mark.usefixtures("untouched")
def test_function_names_that_are_paths_are_refused(
    cloud: RunningCloud, canary: Path, role: str
) -> None:
    lambda_ = client(cloud, "lambda")
    code = {"ZipFile": zip_of({"handler.py": "def lambda_handler(event, context):\n  return 1\n"})}
    for name in traversals(canary, cloud):
        with pytest.raises(ClientError) as error:
            lambda_.create_function(
                FunctionName=name,
                Runtime="python3.12",
                Role=role,
                Handler="handler.lambda_handler",
                Code=code,
            )
        assert_validation_error(error, "functionName")
    assert lambda_.list_functions()["Functions"] == []
    assert not (cloud.state_dir / "lambda").exists()


@pytest.mark.usefixtures("untouched")
def test_layer_names_that_are_paths_are_refused(cloud: RunningCloud, canary: Path) -> None:
    lambda_ = client(cloud, "lambda")
    content = {"ZipFile": zip_of({"python/shared.py": "VALUE = 1\n"})}
    for name in traversals(canary, cloud):
        if not name:
            continue  # an empty URI segment matches no route (moto answers 404): nothing runs
        with pytest.raises(ClientError) as error:
            lambda_.publish_layer_version(LayerName=name, Content=content)
        assert_validation_error(error, "layerName")
    assert lambda_.list_layers()["Layers"] == []


def test_plain_function_and_layer_names_still_work(cloud: RunningCloud, role: str) -> None:
    lambda_ = client(cloud, "lambda")
    layer = lambda_.publish_layer_version(
        LayerName="shared_layer-1", Content={"ZipFile": zip_of({"python/shared.py": "V = 7\n"})}
    )
    lambda_.create_function(
        FunctionName="plain_function-1",
        Runtime="python3.12",
        Role=role,
        Handler="handler.lambda_handler",
        Code={
            "ZipFile": zip_of(
                {"handler.py": "import shared\ndef lambda_handler(e, c):\n  return shared.V\n"}
            )
        },
        Layers=[layer["LayerVersionArn"]],
    )
    response = lambda_.invoke(FunctionName="plain_function-1", Payload=b"{}")
    assert json.loads(response["Payload"].read()) == 7
    assert (cloud.state_dir / "lambda" / "plain_function-1").is_dir()
