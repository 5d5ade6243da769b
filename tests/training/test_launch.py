"""`make train`: the CreateTrainingJob request (checked against moto), following, the artifact.

The gate and the registration: tests/training/test_registry.py, against the local cloud."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from training.algorithm_image import REGISTRY_ACCOUNTS, image_uri
from training.errors import TrainingJobFailedError, UnknownRegionError
from training.follow import DetachedError, follow
from training.job_request import JobSettings, job_name, training_job_request
from training.launch import finish, main

ROLE = "arn:aws:iam::123456789012:role/scones-sagemaker"
BUCKET = "scones-test-bucket"
SETTINGS = JobSettings("vehicle-classifier", "ml.p3.2xlarge", 1, 50, 3600, 0.0)


@pytest.fixture
def aws(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield boto3.client("sagemaker", region_name="us-east-1")


@pytest.fixture
def data(tmp_path) -> Path:
    root = tmp_path / "data"
    root.mkdir()
    (root / "train.lst").write_text("".join(f"{i}\t{i % 2}\tb/{i}.png\n" for i in range(900)))
    (root / "test.lst").write_text("0\t0\tbicycle/t.png\n")
    return root


def test_image_uri_per_region():
    assert image_uri("us-east-1") == (
        "811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1"
    )
    assert image_uri("us-west-2").startswith("433757028032.dkr.ecr.us-west-2.")
    assert image_uri("eu-west-1").startswith("685385470294.dkr.ecr.eu-west-1.")
    assert image_uri("cn-north-1").endswith(".amazonaws.com.cn/image-classification:1")
    with pytest.raises(UnknownRegionError, match="--image"):
        image_uri("mars-north-1")


def test_every_region_of_the_published_table_is_known():
    # The 37 regions of SageMaker's registry table for image-classification (algorithm_image.py
    # cites the copy in the SageMaker Python SDK), newer ones among them.
    assert len(REGISTRY_ACCOUNTS) == 37
    assert image_uri("ap-southeast-4") == (
        "106583098589.dkr.ecr.ap-southeast-4.amazonaws.com/image-classification:1"
    )
    assert image_uri("il-central-1").startswith("898809789911.dkr.ecr.il-central-1.")
    assert image_uri("us-gov-east-1").endswith(".amazonaws.com/image-classification:1")
    assert image_uri("us-iso-east-1").endswith(".c2s.ic.gov/image-classification:1")
    assert image_uri("us-isob-east-1").endswith(".sc2s.sgov.gov/image-classification:1")
    assert all(len(account) == 12 and account.isdigit() for account in REGISTRY_ACCOUNTS.values())


def test_job_names_are_unique_sortable_and_short():
    now = datetime(2026, 11, 30, 13, 5, 9, tzinfo=UTC)
    assert job_name("vehicle-classifier", now, "ab12") == "vehicle-classifier-20261130-130509-ab12"
    assert len(job_name("x" * 80, now)) <= 63
    assert job_name("p", now) != job_name("p", now)


def test_request_has_four_image_channels():
    request = training_job_request(
        name="job-1",
        image="img",
        role_arn=ROLE,
        bucket=BUCKET,
        hyperparameters={"epochs": "1"},
        settings=SETTINGS,
    )
    channels = {c["ChannelName"]: c for c in request["InputDataConfig"]}
    assert list(channels) == ["train", "validation", "train_lst", "validation_lst"]
    for name, spec in channels.items():
        assert spec["DataSource"]["S3DataSource"]["S3Uri"] == f"s3://{BUCKET}/{name}/"
        assert spec["DataSource"]["S3DataSource"]["S3DataType"] == "S3Prefix"
        assert spec["ContentType"] == "application/x-image"
        assert spec["InputMode"] == "File"
    assert request["OutputDataConfig"] == {"S3OutputPath": f"s3://{BUCKET}/models/"}


def test_launch_against_moto_sends_the_expected_job(aws, data, tmp_path, capsys):
    envs = tmp_path / "envs"
    code = main(
        [
            "--env", "dev", "--envs-dir", str(envs), "--role", ROLE, "--bucket", BUCKET,
            "--data", str(data), "--poll-seconds", "0", "--no-wait",
            "--model-package-group", "scones-dev-models", "--min-accuracy", "0.9",
        ]
    )  # fmt: skip
    assert code == 0
    (summary,) = aws.list_training_jobs()["TrainingJobSummaries"]
    job = aws.describe_training_job(TrainingJobName=summary["TrainingJobName"])
    assert job["TrainingJobName"].startswith("vehicle-classifier-")
    assert job["AlgorithmSpecification"]["TrainingImage"] == (
        "811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1"
    )
    assert job["AlgorithmSpecification"]["TrainingInputMode"] == "File"
    assert job["RoleArn"] == ROLE
    committed = json.loads(Path("training/config/hyperparameters.json").read_text())
    assert job["HyperParameters"] == {
        **{k: str(v) for k, v in committed.items()},
        "num_training_samples": "900",
    }
    assert [c["ChannelName"] for c in job["InputDataConfig"]] == [
        "train", "validation", "train_lst", "validation_lst",
    ]  # fmt: skip
    assert job["InputDataConfig"][2]["DataSource"]["S3DataSource"]["S3Uri"] == (
        f"s3://{BUCKET}/train_lst/"
    )
    assert job["OutputDataConfig"]["S3OutputPath"] == f"s3://{BUCKET}/models/"
    assert job["ResourceConfig"] == {
        "InstanceType": "ml.p3.2xlarge",
        "InstanceCount": 1,
        "VolumeSizeInGB": 50,
    }
    assert job["StoppingCondition"]["MaxRuntimeInSeconds"] == 3600
    assert not (envs / "dev" / "model.auto.tfvars.json").exists()  # `make promote` writes it


def test_bad_config_fails_before_any_aws_call(data, tmp_path, capsys):
    config = tmp_path / "h.json"
    config.write_text(json.dumps({"image_shape": "3,32,32", "num_classes": 2, "epochs": 1,
                                  "learning_rate": 0.1, "mini_batch_size": 5000}))  # fmt: skip
    args = ["--config", str(config), "--data", str(data), "--role", ROLE, "--bucket", "b",
            "--model-package-group", "g", "--min-accuracy", "0.5"]  # fmt: skip
    code = main(["--env", "dev", *args])
    assert code == 1
    assert "mini_batch_size=5000 exceeds" in capsys.readouterr().err


def test_missing_terraform_outputs_say_what_to_pass(aws, data, tmp_path, capsys):
    code = main(
        ["--env", "nowhere", "--envs-dir", str(tmp_path), "--data", str(data),
         "--model-package-group", "g", "--min-accuracy", "0.5"]
    )  # fmt: skip
    assert code == 1
    assert "--role ARN and --bucket NAME" in capsys.readouterr().err


class FakeSageMaker:
    """Answers DescribeTrainingJob from a script of statuses."""

    def __init__(self, states: list[tuple[str, str]], failure: str = "") -> None:
        self.states = states
        self.failure = failure
        self.calls = 0
        self.stopped: list[str] = []

    def describe_training_job(self, TrainingJobName: str) -> dict[str, Any]:  # noqa: N803
        status, secondary = self.states[min(self.calls, len(self.states) - 1)]
        self.calls += 1
        description: dict[str, Any] = {
            "TrainingJobName": TrainingJobName,
            "TrainingJobStatus": status,
            "SecondaryStatus": secondary,
            "SecondaryStatusTransitions": [{"Status": secondary, "StatusMessage": "working"}],
        }
        if status == "Completed":
            description["ModelArtifacts"] = {"S3ModelArtifacts": "s3://b/models/j/model.tar.gz"}
        if status == "Failed":
            description["FailureReason"] = self.failure
        return description

    def stop_training_job(self, TrainingJobName: str) -> None:  # noqa: N803
        self.stopped.append(TrainingJobName)
        self.states = [("Stopping", "Stopping"), ("Stopped", "Stopped")]
        self.calls = 0


def test_follow_prints_each_state_once_until_completed(tmp_path):
    fake = FakeSageMaker(
        [("InProgress", "Starting"), ("InProgress", "Starting"), ("InProgress", "Training"),
         ("Completed", "Completed")]
    )  # fmt: skip
    lines: list[str] = []
    description = follow(fake, "j", poll_seconds=0, out=lines.append, sleep=lambda s: None)
    assert [line.split("] ")[1].split("  ")[0] for line in lines] == [
        "InProgress / Starting",
        "InProgress / Training",
        "Completed / Completed",
    ]
    assert lines[0].startswith("[00:00]")
    assert finish(description) == "s3://b/models/j/model.tar.gz"


def test_failed_job_raises_with_its_failure_reason(tmp_path):
    fake = FakeSageMaker(
        [("InProgress", "Training"), ("Failed", "Failed")], failure="ClientError: bad lst"
    )
    description = follow(fake, "j", poll_seconds=0, out=lambda line: None, sleep=lambda s: None)
    with pytest.raises(TrainingJobFailedError, match="ended Failed: ClientError: bad lst"):
        finish(description)


def interrupt_once() -> Any:
    fired = []

    def sleep(seconds: float) -> None:
        if not fired:
            fired.append(True)
            raise KeyboardInterrupt

    return sleep


def test_ctrl_c_and_yes_stops_the_job():
    fake = FakeSageMaker([("InProgress", "Training")])
    lines: list[str] = []
    description = follow(
        fake, "j", poll_seconds=0, out=lines.append, sleep=interrupt_once(), confirm=lambda q: True
    )
    assert fake.stopped == ["j"]
    assert description["TrainingJobStatus"] == "Stopped"
    assert any("stop requested" in line for line in lines)


def test_ctrl_c_and_no_leaves_the_job_running():
    fake = FakeSageMaker([("InProgress", "Training")])
    with pytest.raises(DetachedError, match="--attach j"):
        follow(fake, "j", poll_seconds=0, out=lambda line: None, sleep=interrupt_once(),
               confirm=lambda q: False)  # fmt: skip
    assert fake.stopped == []
