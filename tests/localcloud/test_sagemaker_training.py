"""Training jobs through the local cloud: lifecycle, failures, logs, stop (stand-in trainer)."""

from __future__ import annotations

import io
import json
import tarfile
import textwrap
import time
from collections.abc import Iterator
from typing import Any

import pytest

from localcloud import sagemaker_training
from localcloud.testing import RunningCloud, running_local_cloud

REGION = "us-east-1"
IMAGE = "811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1"
ROLE = "arn:aws:iam::123456789012:role/sagemaker"
BUCKET = "training-bucket"

# Stands in for training.local_trainer to test the orchestration alone: it honours the same
# container contract (ml-root in, model/ or output/failure out) and nothing else.
STAND_IN_TRAINER = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    root = Path(sys.argv[sys.argv.index("--ml-root") + 1])
    hp = json.loads((root / "input/config/hyperparameters.json").read_text())
    for channel in sorted((root / "input/data").iterdir()):
        files = sorted(p.name for p in channel.rglob("*") if p.is_file())
        print(f"channel {channel.name}: {files}")
    behaviour = hp.get("stand_in", "ok")
    if behaviour == "fail":
        (root / "output/failure").write_text("ClientError: TrainerInputError: epochs must be > 0")
        sys.exit(1)
    if behaviour == "crash":
        print("Traceback: boom")
        sys.exit(3)
    if behaviour == "sleep-briefly":
        time.sleep(0.5)
    if behaviour == "sleep":
        for i in range(600):
            print(f"epoch {i}", flush=True)
            time.sleep(0.1)
    print("Epoch[0] Train-accuracy=0.5")
    print("Epoch[0] Validation-accuracy=0.625")
    print("Epoch[1] Validation-accuracy=0.75")
    (root / "model/model.json").write_text(json.dumps({"hyperparameters": hp}))
    """
)


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCloud]:
    """A real local cloud server whose training jobs run the stand-in trainer."""
    script = tmp_path_factory.mktemp("stand_in") / "stand_in_trainer.py"
    script.write_text(STAND_IN_TRAINER)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(sagemaker_training.TRAINER_MODULE_ENV, str(script))
        with running_local_cloud() as running:
            yield running


def client(cloud: RunningCloud, service: str) -> Any:
    return cloud.client(service)


@pytest.fixture(scope="module")
def data(cloud: RunningCloud) -> str:
    s3 = client(cloud, "s3")
    s3.create_bucket(Bucket=BUCKET)
    for channel in ("train", "validation"):
        s3.put_object(Bucket=BUCKET, Key=f"data/{channel}/bicycle/a.png", Body=b"png")
        s3.put_object(Bucket=BUCKET, Key=f"data/{channel}_lst/{channel}.lst", Body=b"0\t0\ta")
    return f"s3://{BUCKET}/data"


def job_request(name: str, data: str, **overrides: Any) -> dict[str, Any]:
    channels = ["train", "validation", "train_lst", "validation_lst"]
    request: dict[str, Any] = {
        "TrainingJobName": name,
        "AlgorithmSpecification": {"TrainingImage": IMAGE, "TrainingInputMode": "File"},
        "RoleArn": ROLE,
        "HyperParameters": {"num_classes": "2", "num_training_samples": "2", "epochs": "1"},
        "InputDataConfig": [
            {
                "ChannelName": channel,
                "ContentType": "application/x-image",
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": f"{data}/{channel}/",
                        "S3DataDistributionType": "FullyReplicated",
                    }
                },
            }
            for channel in channels
        ],
        "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/models"},
        "ResourceConfig": {
            "InstanceType": "ml.p3.2xlarge",
            "InstanceCount": 1,
            "VolumeSizeInGB": 5,
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
    }
    request.update(overrides)
    return request


def wait(sagemaker: Any, name: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job: dict[str, Any] = sagemaker.describe_training_job(TrainingJobName=name)
        if job["TrainingJobStatus"] in ("Completed", "Failed", "Stopped"):
            return job
        assert time.monotonic() < deadline, f"{name} still {job['TrainingJobStatus']}"
        time.sleep(0.2)


def test_job_runs_in_progress_then_completes_with_a_model_archive(
    cloud: RunningCloud, data: str
) -> None:
    sagemaker = client(cloud, "sagemaker")
    sagemaker.create_training_job(
        **job_request(
            "ok-job",
            data,
            HyperParameters={
                "num_classes": "2",
                "num_training_samples": "2",
                "stand_in": "sleep-briefly",
            },
        )
    )
    first = sagemaker.describe_training_job(TrainingJobName="ok-job")
    assert first["TrainingJobStatus"] == "InProgress"
    assert "ModelArtifacts" not in first and "TrainingEndTime" not in first

    job = wait(sagemaker, "ok-job")

    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    assert [t["Status"] for t in job["SecondaryStatusTransitions"]] == [
        "Starting",
        "Downloading",
        "Training",
        "Uploading",
        "Completed",
    ]
    assert job["TrainingStartTime"] <= job["TrainingEndTime"]
    artifact = job["ModelArtifacts"]["S3ModelArtifacts"]
    assert artifact == f"s3://{BUCKET}/models/ok-job/output/model.tar.gz"
    body = client(cloud, "s3").get_object(Bucket=BUCKET, Key="models/ok-job/output/model.tar.gz")
    with tarfile.open(fileobj=io.BytesIO(body["Body"].read()), mode="r:gz") as archive:
        assert archive.getnames() == ["model.json"]
        model = json.load(archive.extractfile("model.json"))  # type: ignore[arg-type]
    assert model["hyperparameters"]["num_classes"] == "2"  # strings, as SageMaker passes them
    assert "VpcConfig" not in job and "FailureReason" not in job
    # As SageMaker reads them from the log: each metric's last value.
    final = {m["MetricName"]: m["Value"] for m in job["FinalMetricDataList"]}
    assert final == {"train:accuracy": 0.5, "validation:accuracy": 0.75}


def test_every_trainer_line_is_a_log_event_in_the_jobs_stream(
    cloud: RunningCloud, data: str
) -> None:
    sagemaker = client(cloud, "sagemaker")
    sagemaker.create_training_job(**job_request("logged-job", data))
    wait(sagemaker, "logged-job")
    logs = client(cloud, "logs")
    streams = logs.describe_log_streams(
        logGroupName="/aws/sagemaker/TrainingJobs", logStreamNamePrefix="logged-job/"
    )["logStreams"]
    assert len(streams) == 1
    assert streams[0]["logStreamName"].startswith("logged-job/algo-1-")
    events = logs.get_log_events(
        logGroupName="/aws/sagemaker/TrainingJobs", logStreamName=streams[0]["logStreamName"]
    )["events"]
    messages = [e["message"] for e in events]
    assert "channel train: ['a.png']" in messages
    assert "channel train_lst: ['train.lst']" in messages
    assert "Epoch[0] Train-accuracy=0.5" in messages


def test_trainer_failure_file_becomes_the_failure_reason(cloud: RunningCloud, data: str) -> None:
    sagemaker = client(cloud, "sagemaker")
    hyperparameters = {"num_classes": "2", "num_training_samples": "2", "stand_in": "fail"}
    sagemaker.create_training_job(**job_request("bad-hp", data, HyperParameters=hyperparameters))
    job = wait(sagemaker, "bad-hp")
    assert job["TrainingJobStatus"] == "Failed"
    assert job["SecondaryStatus"] == "Failed"
    assert job["FailureReason"] == "ClientError: TrainerInputError: epochs must be > 0"
    assert "ModelArtifacts" not in job


def test_a_crash_without_failure_file_names_exit_code_and_log_tail(
    cloud: RunningCloud, data: str
) -> None:
    sagemaker = client(cloud, "sagemaker")
    hyperparameters = {"num_classes": "2", "num_training_samples": "2", "stand_in": "crash"}
    sagemaker.create_training_job(**job_request("crash", data, HyperParameters=hyperparameters))
    reason = wait(sagemaker, "crash")["FailureReason"]
    assert reason.startswith("AlgorithmError: the trainer exited with code 3")
    assert "Traceback: boom" in reason


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {"HyperParameters": {"num_training_samples": "2"}},
            "ClientError: Missing required hyperparameter 'num_classes'",
        ),
        (
            {"HyperParameters": {"num_classes": "two", "num_training_samples": "2"}},
            "ClientError: hyperparameter 'num_classes' must be a positive integer",
        ),
        (
            {
                "AlgorithmSpecification": {
                    "TrainingImage": "123456789012.dkr.ecr.us-east-1.amazonaws.com/xgboost:1",
                    "TrainingInputMode": "File",
                }
            },
            "ClientError: only the built-in image-classification algorithm is emulated",
        ),
    ],
    ids=["missing-hyperparameter", "bad-hyperparameter", "other-algorithm"],
)
def test_requests_the_algorithm_would_reject_fail_with_an_actionable_reason(
    cloud: RunningCloud,
    data: str,
    overrides: dict[str, Any],
    expected: str,
    request: pytest.FixtureRequest,
) -> None:
    name = f"reject-{request.node.callspec.id}"
    sagemaker = client(cloud, "sagemaker")
    sagemaker.create_training_job(**job_request(name, data, **overrides))
    job = wait(sagemaker, name)
    assert job["TrainingJobStatus"] == "Failed"
    assert job["FailureReason"].startswith(expected)


def test_a_missing_channel_fails_the_job(cloud: RunningCloud, data: str) -> None:
    sagemaker = client(cloud, "sagemaker")
    request = job_request("no-validation", data)
    request["InputDataConfig"] = [
        c for c in request["InputDataConfig"] if c["ChannelName"] != "validation"
    ]
    sagemaker.create_training_job(**request)
    reason = wait(sagemaker, "no-validation")["FailureReason"]
    assert "channel 'validation' is required" in reason


def test_an_empty_channel_prefix_fails_the_download(cloud: RunningCloud, data: str) -> None:
    sagemaker = client(cloud, "sagemaker")
    request = job_request("empty-channel", data)
    request["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] = f"{data}/nothing/"
    sagemaker.create_training_job(**request)
    job = wait(sagemaker, "empty-channel")
    assert job["FailureReason"].startswith("ClientError: Data download failed for channel 'train'")
    assert [t["Status"] for t in job["SecondaryStatusTransitions"]][-2:] == [
        "Downloading",
        "Failed",
    ]


def test_stop_training_job_stops_the_trainer(cloud: RunningCloud, data: str) -> None:
    sagemaker = client(cloud, "sagemaker")
    hyperparameters = {"num_classes": "2", "num_training_samples": "2", "stand_in": "sleep"}
    sagemaker.create_training_job(**job_request("stopped", data, HyperParameters=hyperparameters))
    deadline = time.monotonic() + 30
    while sagemaker.describe_training_job(TrainingJobName="stopped")["SecondaryStatus"] != (
        "Training"
    ):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    sagemaker.stop_training_job(TrainingJobName="stopped")
    assert sagemaker.describe_training_job(TrainingJobName="stopped")["TrainingJobStatus"] in (
        "Stopping",
        "Stopped",
    )
    job = wait(sagemaker, "stopped", timeout=15)
    assert job["TrainingJobStatus"] == "Stopped"
    assert job["SecondaryStatus"] == "Stopped"
    with pytest.raises(sagemaker.exceptions.ClientError, match="is in status Stopped"):
        sagemaker.stop_training_job(TrainingJobName="stopped")


def test_max_runtime_stops_the_job(cloud: RunningCloud, data: str) -> None:
    sagemaker = client(cloud, "sagemaker")
    hyperparameters = {"num_classes": "2", "num_training_samples": "2", "stand_in": "sleep"}
    sagemaker.create_training_job(
        **job_request(
            "too-long",
            data,
            HyperParameters=hyperparameters,
            StoppingCondition={"MaxRuntimeInSeconds": 2},
        )
    )
    job = wait(sagemaker, "too-long", timeout=30)
    assert (job["TrainingJobStatus"], job["SecondaryStatus"]) == ("Stopped", "MaxRuntimeExceeded")


def test_a_second_job_of_the_same_name_is_refused(cloud: RunningCloud, data: str) -> None:
    sagemaker = client(cloud, "sagemaker")
    sagemaker.create_training_job(**job_request("twice", data))
    with pytest.raises(sagemaker.exceptions.ResourceInUse, match="must be unique"):
        sagemaker.create_training_job(**job_request("twice", data))
    assert wait(sagemaker, "twice")["TrainingJobStatus"] == "Completed"
