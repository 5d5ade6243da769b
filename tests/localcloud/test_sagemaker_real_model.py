"""The real trainer and model through the local cloud: train, deploy, invoke, time it."""

from __future__ import annotations

import io
import json
import re
import statistics
import tarfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from localcloud.testing import RunningCloud, running_local_cloud

pytestmark = [pytest.mark.slow, pytest.mark.shared_data]

IMAGE = "811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1"
ROLE = "arn:aws:iam::123456789012:role/sagemaker"
BUCKET = "real-model"
CLASSES = ("bicycle", "motorcycle")
PER_CLASS = {"train": 16, "validation": 8}  # a few dozen images: one quick epoch


@dataclass(frozen=True)
class Trained:
    job: dict[str, Any]
    wall_seconds: float
    test_images: list[Path]


@pytest.fixture(scope="module")
def cloud() -> Iterator[RunningCloud]:
    with running_local_cloud() as running:
        yield running


def upload_dataset(cloud: RunningCloud, shared_data: Path) -> int:
    """The image-classification layout (channels of PNGs plus .lst files) under s3://BUCKET/data."""
    s3 = cloud.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    for channel, count in PER_CLASS.items():
        lines = []
        for label, name in enumerate(CLASSES):
            for path in sorted((shared_data / "train" / name).glob("*.png"))[
                (0 if channel == "train" else 100) : (0 if channel == "train" else 100) + count
            ]:
                key = f"{name}/{path.name}"
                s3.put_object(Bucket=BUCKET, Key=f"data/{channel}/{key}", Body=path.read_bytes())
                lines.append(f"{len(lines)}\t{label}\t{key}")
        body = ("\n".join(lines) + "\n").encode()
        s3.put_object(Bucket=BUCKET, Key=f"data/{channel}_lst/{channel}.lst", Body=body)
    return PER_CLASS["train"] * len(CLASSES)


def job_request(name: str, hyperparameters: dict[str, str]) -> dict[str, Any]:
    return {
        "TrainingJobName": name,
        "AlgorithmSpecification": {"TrainingImage": IMAGE, "TrainingInputMode": "File"},
        "RoleArn": ROLE,
        "HyperParameters": hyperparameters,
        "InputDataConfig": [
            {
                "ChannelName": channel,
                "ContentType": "application/x-image",
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": f"s3://{BUCKET}/data/{channel}/",
                        "S3DataDistributionType": "FullyReplicated",
                    }
                },
            }
            for channel in ("train", "validation", "train_lst", "validation_lst")
        ],
        "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/models"},
        "ResourceConfig": {
            "InstanceType": "ml.p3.2xlarge",
            "InstanceCount": 1,
            "VolumeSizeInGB": 5,
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": 900},
    }


def wait_job(sagemaker: Any, name: str, timeout: float = 600) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job: dict[str, Any] = sagemaker.describe_training_job(TrainingJobName=name)
        if job["TrainingJobStatus"] in ("Completed", "Failed", "Stopped"):
            return job
        assert time.monotonic() < deadline, f"{name} still {job['TrainingJobStatus']}"
        time.sleep(0.25)


def hyperparameters(samples: int, **overrides: str) -> dict[str, str]:
    values = {
        "num_classes": "2",
        "num_training_samples": str(samples),
        "image_shape": "3,32,32",
        "epochs": "1",
        "mini_batch_size": "16",
        "learning_rate": "0.05",
    }
    return {**values, **overrides}


@pytest.fixture(scope="module")
def trained(cloud: RunningCloud, shared_data: Path) -> Trained:
    samples = upload_dataset(cloud, shared_data)
    sagemaker = cloud.client("sagemaker")
    started = time.perf_counter()
    sagemaker.create_training_job(**job_request("real-job", hyperparameters(samples)))
    job = wait_job(sagemaker, "real-job")
    wall = time.perf_counter() - started
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    print(f"\nMEASURED training job wall time through the local cloud: {wall:.1f}s")
    tests = [sorted((shared_data / "test" / name).glob("*.png"))[:10] for name in CLASSES]
    return Trained(job, wall, [p for group in tests for p in group])


@pytest.fixture(scope="module")
def endpoint(cloud: RunningCloud, trained: Trained) -> str:
    sagemaker = cloud.client("sagemaker")
    artifact = trained.job["ModelArtifacts"]["S3ModelArtifacts"]
    sagemaker.create_model(
        ModelName="real-model",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": IMAGE, "ModelDataUrl": artifact},
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName="real-config",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "real-model",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
    )
    started = time.perf_counter()
    sagemaker.create_endpoint(EndpointName="real", EndpointConfigName="real-config")
    while (status := sagemaker.describe_endpoint(EndpointName="real"))["EndpointStatus"] == (
        "Creating"
    ):
        time.sleep(0.02)
    load = time.perf_counter() - started
    assert status["EndpointStatus"] == "InService", status.get("FailureReason")
    logged = re.findall(
        r"endpoint real InService with real-config \((\S+)s\)", cloud.log_file.read_text()
    )
    print(f"\nMEASURED endpoint Creating → InService: {load:.2f}s (server's load: {logged}s)")
    started = time.perf_counter()
    sagemaker.create_endpoint(EndpointName="real-warm", EndpointConfigName="real-config")
    while sagemaker.describe_endpoint(EndpointName="real-warm")["EndpointStatus"] == "Creating":
        time.sleep(0.02)
    print(f"MEASURED a second endpoint on the same artifact: {time.perf_counter() - started:.2f}s")
    print("\n".join(re.findall(r"model real-model: .*", cloud.log_file.read_text())))
    return "real"


def local_model(cloud: RunningCloud, trained: Trained, tmp_path: Path) -> Any:
    """The same artifact loaded in this process with the trainer's own inference code."""
    from training.local_trainer.inference import load_model

    bucket, key = trained.job["ModelArtifacts"]["S3ModelArtifacts"][5:].split("/", 1)
    data = cloud.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        archive.extractall(tmp_path, filter="data")
    return load_model(tmp_path)


def invoke(cloud: RunningCloud, name: str, body: bytes, content_type: str) -> list[float]:
    response = cloud.client("sagemaker-runtime").invoke_endpoint(
        EndpointName=name, ContentType=content_type, Body=body
    )
    assert response["ContentType"] == "application/json"
    result: list[float] = json.loads(response["Body"].read())
    return result


def test_training_job_logs_the_real_trainers_progress(
    cloud: RunningCloud, trained: Trained
) -> None:
    logs = cloud.client("logs")
    [stream] = logs.describe_log_streams(
        logGroupName="/aws/sagemaker/TrainingJobs", logStreamNamePrefix="real-job/"
    )["logStreams"]
    events = logs.get_log_events(
        logGroupName="/aws/sagemaker/TrainingJobs", logStreamName=stream["logStreamName"]
    )["events"]
    assert len(events) > 3


def test_endpoint_answers_with_the_trained_models_probabilities(
    cloud: RunningCloud, trained: Trained, endpoint: str, tmp_path: Path
) -> None:
    model = local_model(cloud, trained, tmp_path)
    for path in trained.test_images[:6]:
        body = path.read_bytes()
        served = invoke(cloud, endpoint, body, "image/png")
        assert len(served) == 2
        assert sum(served) == pytest.approx(1.0)
        assert served == pytest.approx(model.predict(body, "image/png"), abs=1e-6)


def test_a_larger_jpeg_is_resized_to_the_models_input(
    cloud: RunningCloud, trained: Trained, endpoint: str
) -> None:
    buffer = io.BytesIO()
    Image.open(trained.test_images[0]).convert("RGB").resize((97, 64)).save(buffer, "JPEG")
    probabilities = invoke(cloud, endpoint, buffer.getvalue(), "image/jpeg")
    assert sum(probabilities) == pytest.approx(1.0)


def test_garbage_is_a_model_error(cloud: RunningCloud, endpoint: str) -> None:
    runtime = cloud.client("sagemaker-runtime")
    with pytest.raises(runtime.exceptions.ModelError) as raised:
        runtime.invoke_endpoint(EndpointName=endpoint, ContentType="image/png", Body=b"\x00" * 64)
    assert raised.value.response["OriginalStatusCode"] == 400
    assert "not a decodable PNG or JPEG" in raised.value.response["OriginalMessage"]


def test_invoke_latency_is_a_few_milliseconds(
    cloud: RunningCloud, trained: Trained, endpoint: str
) -> None:
    runtime = cloud.client("sagemaker-runtime")
    bodies = [path.read_bytes() for path in trained.test_images]
    runtime.invoke_endpoint(EndpointName=endpoint, ContentType="image/png", Body=bodies[0])
    round_trips, model_times = [], []
    for i in range(100):
        started = time.perf_counter()
        response = runtime.invoke_endpoint(
            EndpointName=endpoint, ContentType="image/png", Body=bodies[i % len(bodies)]
        )
        response["Body"].read()
        round_trips.append((time.perf_counter() - started) * 1000)
        headers = response["ResponseMetadata"]["HTTPHeaders"]
        model_times.append(float(headers["x-localcloud-model-latency-ms"]))
    quantiles = statistics.quantiles(round_trips, n=20)
    model_quantiles = statistics.quantiles(model_times, n=20)
    print(
        f"\nMEASURED invoke round trip over HTTP (boto3): p50 {statistics.median(round_trips):.1f}"
        f" ms, p95 {quantiles[18]:.1f} ms; model predict alone: p50 "
        f"{statistics.median(model_times):.2f} ms, p95 {model_quantiles[18]:.2f} ms"
    )
    assert statistics.median(model_times) < 50


def test_a_bad_hyperparameter_fails_with_the_trainers_reason(
    cloud: RunningCloud, trained: Trained
) -> None:
    sagemaker = cloud.client("sagemaker")
    request = job_request("real-bad-hp", hyperparameters(32, learning_rate="fast"))
    sagemaker.create_training_job(**request)
    job = wait_job(sagemaker, "real-bad-hp")
    assert job["TrainingJobStatus"] == "Failed"
    assert job["FailureReason"].startswith("ClientError:")
    assert "learning_rate" in job["FailureReason"]
