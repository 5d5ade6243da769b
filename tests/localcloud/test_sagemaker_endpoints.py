"""Endpoints through the local cloud: lifecycle, invoke, data capture, describe shapes, faults."""

from __future__ import annotations

import base64
import io
import json
import re
import tarfile
import textwrap
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config
from PIL import Image

from localcloud.testing import RunningCloud
from tests.support.stand_in_kit import cloud_serving

IMAGE = "811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1"
ROLE = "arn:aws:iam::123456789012:role/sagemaker"
BUCKET = "endpoint-bucket"
NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})

# Stands in for training.local_trainer.inference to test the serving path alone: a "model" is
# one number in model.json, and the probabilities come from the image's mean red level, so a
# different artifact or a different image gives a different, checkable answer.
STAND_IN_INFERENCE = textwrap.dedent(
    """
    import io, json
    from pathlib import Path
    from PIL import Image

    # PIL's UnidentifiedImageError is an OSError: an unreadable body is the client's fault.
    CLIENT_ERRORS = (OSError,)

    class StandIn:
        def __init__(self, bias):
            self.bias = bias

        def predict(self, body, content_type):
            image = Image.open(io.BytesIO(body)).convert("RGB").resize((32, 32))
            red = sum(p[0] for p in image.getdata()) / (32 * 32 * 255)
            p = min(max(red * self.bias, 0.0), 1.0)
            return [1.0 - p, p]

    def load_model(model_dir):
        return StandIn(json.loads((Path(model_dir) / "model.json").read_text())["bias"])
    """
)


def model_archive(bias: float) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        data = json.dumps({"bias": bias}).encode()
        info = tarfile.TarInfo("model.json")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def image_bytes(size: tuple[int, int], colour: tuple[int, int, int], fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCloud]:
    """A real local cloud server whose endpoints serve the stand-in model code."""
    with cloud_serving(STAND_IN_INFERENCE, tmp_path_factory.mktemp("stand_in")) as running:
        yield running


@pytest.fixture(scope="module")
def sagemaker(cloud: RunningCloud) -> Any:
    return cloud.client("sagemaker")


@pytest.fixture(scope="module")
def runtime(cloud: RunningCloud) -> Any:
    return cloud.client("sagemaker-runtime", config=NO_RETRIES)


@pytest.fixture(scope="module")
def artifacts(cloud: RunningCloud) -> dict[str, str]:
    s3 = cloud.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="models/a/model.tar.gz", Body=model_archive(1.0))
    s3.put_object(Bucket=BUCKET, Key="models/b/model.tar.gz", Body=model_archive(0.5))
    s3.put_object(Bucket=BUCKET, Key="models/broken/model.tar.gz", Body=b"not a tar.gz")
    return {
        name: f"s3://{BUCKET}/models/{name}/model.tar.gz"
        for name in ("a", "b", "broken", "missing")
    }


def create_model(sagemaker: Any, name: str, url: str) -> None:
    sagemaker.create_model(
        ModelName=name,
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": IMAGE, "ModelDataUrl": url},
        EnableNetworkIsolation=True,
    )


def create_config(
    sagemaker: Any, name: str, model: str, capture: dict[str, Any] | None = None
) -> None:
    extra = {"DataCaptureConfig": capture} if capture else {}
    sagemaker.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": model,
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
                "InitialVariantWeight": 1.0,
            }
        ],
        **extra,
    )


def wait_status(sagemaker: Any, name: str, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        endpoint: dict[str, Any] = sagemaker.describe_endpoint(EndpointName=name)
        if endpoint["EndpointStatus"] not in ("Creating", "Updating"):
            return endpoint
        assert time.monotonic() < deadline, f"{name} still {endpoint['EndpointStatus']}"
        time.sleep(0.05)


def deploy(
    sagemaker: Any, name: str, url: str, capture: dict[str, Any] | None = None
) -> dict[str, Any]:
    create_model(sagemaker, f"{name}-model", url)
    create_config(sagemaker, f"{name}-config", f"{name}-model", capture)
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=f"{name}-config")
    return wait_status(sagemaker, name)


def invoke(runtime: Any, name: str, body: bytes, content_type: str = "image/png") -> Any:
    response = runtime.invoke_endpoint(EndpointName=name, ContentType=content_type, Body=body)
    assert response["ContentType"] == "application/json"
    return json.loads(response["Body"].read())


@pytest.fixture(scope="module")
def serving(sagemaker: Any, artifacts: dict[str, str]) -> str:
    endpoint = deploy(sagemaker, "serving", artifacts["a"])
    assert endpoint["EndpointStatus"] == "InService", endpoint.get("FailureReason")
    return "serving"


def test_endpoint_goes_creating_then_in_service(sagemaker: Any, artifacts: dict[str, str]) -> None:
    create_model(sagemaker, "lifecycle-model", artifacts["a"])
    create_config(sagemaker, "lifecycle-config", "lifecycle-model")
    sagemaker.create_endpoint(EndpointName="lifecycle", EndpointConfigName="lifecycle-config")
    assert sagemaker.describe_endpoint(EndpointName="lifecycle")["EndpointStatus"] == "Creating"
    endpoint = wait_status(sagemaker, "lifecycle")
    assert endpoint["EndpointStatus"] == "InService"
    assert "FailureReason" not in endpoint and "DataCaptureConfig" not in endpoint


def test_png_gets_the_models_probabilities(runtime: Any, serving: str) -> None:
    red = invoke(runtime, serving, image_bytes((32, 32), (255, 0, 0), "PNG"))
    black = invoke(runtime, serving, image_bytes((32, 32), (0, 0, 0), "PNG"))
    assert red == pytest.approx([0.0, 1.0])
    assert black == pytest.approx([1.0, 0.0])


@pytest.mark.parametrize("content_type", ["image/jpeg", "application/x-image"])
def test_jpeg_of_another_size_is_accepted(runtime: Any, serving: str, content_type: str) -> None:
    probabilities = invoke(
        runtime, serving, image_bytes((120, 75), (128, 0, 0), "JPEG"), content_type
    )
    assert len(probabilities) == 2
    assert sum(probabilities) == pytest.approx(1.0)
    assert probabilities[1] == pytest.approx(128 / 255, abs=0.02)


def test_garbage_bytes_are_a_model_error_with_awss_shape(runtime: Any, serving: str) -> None:
    with pytest.raises(runtime.exceptions.ModelError) as raised:
        runtime.invoke_endpoint(
            EndpointName=serving, ContentType="image/png", Body=b"\x89\xff\x00garbage"
        )
    error = raised.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 424
    assert error["OriginalStatusCode"] == 400
    assert "Unable to evaluate payload provided" in error["OriginalMessage"]
    assert error["LogStreamArn"].endswith(":log-group:/aws/sagemaker/Endpoints/serving")


def test_unsupported_content_type_is_a_model_error(runtime: Any, serving: str) -> None:
    with pytest.raises(runtime.exceptions.ModelError) as raised:
        runtime.invoke_endpoint(EndpointName=serving, ContentType="text/csv", Body=b"1,2,3")
    assert raised.value.response["OriginalStatusCode"] == 415


def test_unknown_endpoint_is_a_validation_error(runtime: Any) -> None:
    with pytest.raises(
        runtime.exceptions.ValidationError,
        match=r": Endpoint nowhere of account 123456789012 not found\.$",
    ):
        runtime.invoke_endpoint(EndpointName="nowhere", ContentType="image/png", Body=b"x")


def test_missing_artifact_fails_the_endpoint_with_a_reason(
    sagemaker: Any, runtime: Any, artifacts: dict[str, str]
) -> None:
    endpoint = deploy(sagemaker, "no-artifact", artifacts["missing"])
    assert endpoint["EndpointStatus"] == "Failed"
    assert endpoint["FailureReason"].startswith(
        f"Could not find model data at {artifacts['missing']}"
    )
    with pytest.raises(runtime.exceptions.ValidationError, match="is not InService"):
        runtime.invoke_endpoint(EndpointName="no-artifact", ContentType="image/png", Body=b"x")


def test_an_archive_that_is_not_tar_gz_fails_the_endpoint(
    sagemaker: Any, artifacts: dict[str, str]
) -> None:
    endpoint = deploy(sagemaker, "broken-artifact", artifacts["broken"])
    assert endpoint["EndpointStatus"] == "Failed"
    assert endpoint["FailureReason"].startswith("Failed to extract model data archive")


def test_update_endpoint_rolls_to_the_new_model(
    sagemaker: Any, runtime: Any, artifacts: dict[str, str]
) -> None:
    deploy(sagemaker, "rolling", artifacts["a"])
    red = image_bytes((32, 32), (255, 0, 0), "PNG")
    assert invoke(runtime, "rolling", red) == pytest.approx([0.0, 1.0])
    create_model(sagemaker, "rolling-model-b", artifacts["b"])
    create_config(sagemaker, "rolling-config-b", "rolling-model-b")

    sagemaker.update_endpoint(EndpointName="rolling", EndpointConfigName="rolling-config-b")
    status = sagemaker.describe_endpoint(EndpointName="rolling")["EndpointStatus"]
    endpoint = wait_status(sagemaker, "rolling")

    assert status in ("Updating", "InService")
    assert endpoint["EndpointStatus"] == "InService"
    assert endpoint["EndpointConfigName"] == "rolling-config-b"
    assert invoke(runtime, "rolling", red) == pytest.approx([0.5, 0.5])


def test_a_failed_update_keeps_the_old_model_serving(
    sagemaker: Any, runtime: Any, artifacts: dict[str, str]
) -> None:
    deploy(sagemaker, "rollback", artifacts["a"])
    create_model(sagemaker, "rollback-model-broken", artifacts["broken"])
    create_config(sagemaker, "rollback-config-broken", "rollback-model-broken")
    sagemaker.update_endpoint(EndpointName="rollback", EndpointConfigName="rollback-config-broken")
    endpoint = wait_status(sagemaker, "rollback")
    assert endpoint["EndpointStatus"] == "InService"
    assert endpoint["EndpointConfigName"] == "rollback-config"
    assert endpoint["FailureReason"].startswith("Failed to extract")
    assert invoke(runtime, "rollback", image_bytes((8, 8), (255, 0, 0), "PNG"))[1] == 1.0


def test_delete_endpoint_unloads_it(
    sagemaker: Any, runtime: Any, artifacts: dict[str, str]
) -> None:
    deploy(sagemaker, "doomed", artifacts["a"])
    sagemaker.delete_endpoint(EndpointName="doomed")
    with pytest.raises(runtime.exceptions.ValidationError, match="not found"):
        runtime.invoke_endpoint(EndpointName="doomed", ContentType="image/png", Body=b"x")


def test_describe_model_has_no_empty_members(sagemaker: Any, serving: str) -> None:
    model = sagemaker.describe_model(ModelName=f"{serving}-model")
    assert "VpcConfig" not in model
    assert "Containers" not in model
    assert model["PrimaryContainer"]["ModelDataUrl"].endswith("/a/model.tar.gz")
    assert model["EnableNetworkIsolation"] is True


def test_serverless_endpoint_config_has_no_empty_data_capture(sagemaker: Any, serving: str) -> None:
    sagemaker.create_endpoint_config(
        EndpointConfigName="serverless-config",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": f"{serving}-model",
                "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 2},
            }
        ],
    )
    config = sagemaker.describe_endpoint_config(EndpointConfigName="serverless-config")
    assert "DataCaptureConfig" not in config
    assert "AsyncInferenceConfig" not in config and "KmsKeyId" not in config
    assert config["ProductionVariants"][0]["ServerlessConfig"] == {
        "MemorySizeInMB": 2048,
        "MaxConcurrency": 2,
    }


def test_tags_can_be_read_and_added_on_every_resource(sagemaker: Any, serving: str) -> None:
    arns = [
        sagemaker.describe_model(ModelName=f"{serving}-model")["ModelArn"],
        sagemaker.describe_endpoint_config(EndpointConfigName=f"{serving}-config")[
            "EndpointConfigArn"
        ],
        sagemaker.describe_endpoint(EndpointName=serving)["EndpointArn"],
    ]
    for arn in arns:
        sagemaker.add_tags(ResourceArn=arn, Tags=[{"Key": "project", "Value": "scones"}])
        assert sagemaker.list_tags(ResourceArn=arn)["Tags"] == [
            {"Key": "project", "Value": "scones"}
        ]


def faults(cloud: RunningCloud, method: str, spec: dict[str, Any] | None = None) -> Any:
    """Call the local cloud's fault-injection URL (signed); returns (status, JSON body)."""
    body = json.dumps(spec).encode() if spec is not None else b""
    status, answer = cloud.request(
        "/moto-api/localcloud/sagemaker/faults", method, body, {"Content-Type": "application/json"}
    )
    return status, json.loads(answer)


def test_injected_throttling_then_recovery(cloud: RunningCloud, runtime: Any, serving: str) -> None:
    armed = faults(cloud, "POST", {"EndpointName": serving, "Fault": "throttle", "Count": 2})
    assert armed == (200, {"pending": {serving: ["throttle", "throttle"]}})
    body = image_bytes((32, 32), (0, 0, 0), "PNG")
    for _ in range(2):
        with pytest.raises(runtime.exceptions.ClientError) as raised:
            invoke(runtime, serving, body)
        error = raised.value.response
        assert error["Error"]["Code"] == "ThrottlingException"
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert invoke(runtime, serving, body) == pytest.approx([1.0, 0.0])


def test_injected_unavailability_is_a_503(cloud: RunningCloud, runtime: Any, serving: str) -> None:
    faults(cloud, "POST", {"EndpointName": serving, "Fault": "unavailable"})
    with pytest.raises(runtime.exceptions.ServiceUnavailable):
        invoke(runtime, serving, image_bytes((32, 32), (0, 0, 0), "PNG"))
    assert faults(cloud, "GET") == (200, {"pending": {}})


def test_faults_can_be_cleared_and_bad_requests_are_refused(cloud: RunningCloud) -> None:
    faults(cloud, "POST", {"EndpointName": "x", "Fault": "internal", "Count": 3})
    assert faults(cloud, "DELETE") == (200, {"pending": {}})
    status, body = faults(cloud, "POST", {"EndpointName": "x", "Fault": "?"})
    assert status == 400
    assert "unknown fault" in body["message"]


def endpoint_sums(cloud: RunningCloud, endpoint: str) -> dict[str, tuple[float, float]]:
    """(Sum, SampleCount) of each invocation metric of the endpoint's AllTraffic variant."""
    cloudwatch = cloud.client("cloudwatch")
    now = datetime.now(UTC)
    found = {}
    for name in ("Invocations", "Invocation4XXErrors", "Invocation5XXErrors", "ModelLatency"):
        points = cloudwatch.get_metric_statistics(
            Namespace="AWS/SageMaker",
            MetricName=name,
            Dimensions=[
                {"Name": "EndpointName", "Value": endpoint},
                {"Name": "VariantName", "Value": "AllTraffic"},
            ],
            StartTime=now - timedelta(minutes=10),
            EndTime=now + timedelta(minutes=1),
            Period=3600,
            Statistics=["Sum", "SampleCount"],
        )["Datapoints"]
        found[name] = (sum(p["Sum"] for p in points), sum(p["SampleCount"] for p in points))
    return found


def test_every_invocation_publishes_the_endpoint_metrics(
    cloud: RunningCloud, sagemaker: Any, runtime: Any, artifacts: dict[str, str]
) -> None:
    # As SageMaker does per request ("Monitor Amazon SageMaker AI with Amazon CloudWatch"):
    # Invocations 1; Invocation4XXErrors / Invocation5XXErrors 1 or 0; ModelLatency (µs) when
    # the model ran. An injected fault stands for the model server failing.
    assert deploy(sagemaker, "metered", artifacts["a"])["EndpointStatus"] == "InService"
    image = image_bytes((32, 32), (0, 0, 0), "PNG")
    invoke(runtime, "metered", image)
    with pytest.raises(runtime.exceptions.ModelError):  # the model's own 400
        invoke(runtime, "metered", b"not an image")
    faults(cloud, "POST", {"EndpointName": "metered", "Fault": "unavailable", "Count": 2})
    for _ in range(2):
        with pytest.raises(runtime.exceptions.ServiceUnavailable):
            invoke(runtime, "metered", image)
    with pytest.raises(runtime.exceptions.ClientError):  # no such endpoint: nothing to count
        invoke(runtime, "metered-not-there", image)

    sums = endpoint_sums(cloud, "metered")
    assert sums["Invocations"] == (4.0, 4.0)
    assert sums["Invocation4XXErrors"] == (1.0, 4.0)
    assert sums["Invocation5XXErrors"] == (2.0, 4.0)
    latency_sum, latency_count = sums["ModelLatency"]
    assert latency_count == 2.0 and latency_sum > 0  # the success and the model error
    listed = cloud.client("cloudwatch").list_metrics(
        Namespace="AWS/SageMaker", MetricName="Invocations"
    )["Metrics"]
    assert all(
        {d["Name"] for d in m["Dimensions"]} == {"EndpointName", "VariantName"} for m in listed
    )
    assert "metered-not-there" not in {d["Value"] for m in listed for d in m["Dimensions"]}


def test_the_server_log_has_no_tracebacks(cloud: RunningCloud, serving: str) -> None:
    log = Path(cloud.log_file).read_text()
    assert "Traceback" not in log, log[-3000:]


CAPTURE_KEY = re.compile(
    r"^capture/(?P<endpoint>[\w-]+)/AllTraffic/\d{4}/\d{2}/\d{2}/\d{2}/"
    r"\d{2}-\d{2}-\d{3}-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.jsonl$"
)


def capture_config(
    percentage: int,
    modes: tuple[str, ...] = ("Input", "Output"),
    json_types: tuple[str, ...] = ("application/json",),
) -> dict[str, Any]:
    config: dict[str, Any] = {
        "EnableCapture": True,
        "InitialSamplingPercentage": percentage,
        "DestinationS3Uri": f"s3://{BUCKET}/capture",
        "CaptureOptions": [{"CaptureMode": mode} for mode in modes],
    }
    if json_types:
        config["CaptureContentTypeHeader"] = {"JsonContentTypes": list(json_types)}
    return config


def captured(
    cloud: RunningCloud, endpoint: str, expected: int, timeout: float = 10
) -> list[tuple[str, dict[str, Any]]]:
    """(key, record) for every capture record of endpoint, once `expected` have been written."""
    s3 = cloud.client("s3")
    deadline = time.monotonic() + timeout
    while True:
        listing = s3.list_objects_v2(Bucket=BUCKET, Prefix=f"capture/{endpoint}/")
        records = [
            (item["Key"], json.loads(line))
            for item in listing.get("Contents", [])
            for line in s3.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].iter_lines()
        ]
        if len(records) >= expected or time.monotonic() > deadline:
            return records
        time.sleep(0.25)


def test_full_capture_writes_every_request_in_awss_format(
    cloud: RunningCloud, sagemaker: Any, runtime: Any, artifacts: dict[str, str]
) -> None:
    deploy(sagemaker, "captured", artifacts["a"], capture_config(100))
    bodies = [image_bytes((32, 32), (40 * i, 0, 0), "PNG") for i in range(5)]
    answers = [invoke(runtime, "captured", body) for body in bodies]

    records = captured(cloud, "captured", 5)

    assert len(records) == 5
    for key, _ in records:
        assert CAPTURE_KEY.match(key), key
    by_input = {base64.b64decode(r["captureData"]["endpointInput"]["data"]): r for _, r in records}
    for body, answer in zip(bodies, answers, strict=True):
        record = by_input[body]
        assert record["eventVersion"] == "0"
        assert record["captureData"]["endpointInput"] == {
            "observedContentType": "image/png",
            "mode": "INPUT",
            "data": base64.b64encode(body).decode(),
            "encoding": "BASE64",
        }
        output = record["captureData"]["endpointOutput"]
        assert (output["observedContentType"], output["mode"], output["encoding"]) == (
            "application/json",
            "OUTPUT",
            "JSON",
        )
        assert json.loads(output["data"]) == answer
        assert re.fullmatch(
            r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", record["eventMetadata"]["inferenceTime"]
        )
        assert uuid.UUID(record["eventMetadata"]["eventId"])


def test_zero_percent_captures_nothing(
    cloud: RunningCloud, sagemaker: Any, runtime: Any, artifacts: dict[str, str]
) -> None:
    deploy(sagemaker, "uncaptured", artifacts["a"], capture_config(0))
    for _ in range(5):
        invoke(runtime, "uncaptured", image_bytes((32, 32), (0, 0, 0), "PNG"))
    sagemaker.delete_endpoint(EndpointName="uncaptured")  # flushes whatever was buffered
    assert captured(cloud, "uncaptured", 1, timeout=3) == []


def test_sampling_takes_a_seeded_share(
    cloud: RunningCloud, sagemaker: Any, runtime: Any, artifacts: dict[str, str]
) -> None:
    deploy(sagemaker, "sampled", artifacts["a"], capture_config(50))
    for _ in range(40):
        invoke(runtime, "sampled", image_bytes((8, 8), (0, 0, 0), "PNG"))
    sagemaker.delete_endpoint(EndpointName="sampled")
    assert 10 <= len(captured(cloud, "sampled", 40, timeout=1)) <= 30


def test_input_only_capture_without_type_header_is_base64(
    cloud: RunningCloud, sagemaker: Any, runtime: Any, artifacts: dict[str, str]
) -> None:
    deploy(sagemaker, "input-only", artifacts["a"], capture_config(100, ("Input",), ()))
    invoke(runtime, "input-only", image_bytes((8, 8), (0, 0, 0), "PNG"))
    sagemaker.delete_endpoint(EndpointName="input-only")
    [(_, record)] = captured(cloud, "input-only", 1, timeout=1)
    assert list(record["captureData"]) == ["endpointInput"]
    assert record["captureData"]["endpointInput"]["encoding"] == "BASE64"


def test_output_is_base64_unless_its_type_is_listed_as_json(
    cloud: RunningCloud, sagemaker: Any, runtime: Any, artifacts: dict[str, str]
) -> None:
    deploy(sagemaker, "no-header", artifacts["a"], capture_config(100, json_types=()))
    answer = invoke(runtime, "no-header", image_bytes((8, 8), (0, 0, 0), "PNG"))
    sagemaker.delete_endpoint(EndpointName="no-header")
    [(_, record)] = captured(cloud, "no-header", 1, timeout=1)
    output = record["captureData"]["endpointOutput"]
    assert output["encoding"] == "BASE64"
    assert json.loads(base64.b64decode(output["data"])) == answer


def test_describe_shows_capture_as_aws_does(sagemaker: Any, artifacts: dict[str, str]) -> None:
    deploy(sagemaker, "described", artifacts["a"], capture_config(25))
    endpoint = sagemaker.describe_endpoint(EndpointName="described")
    assert endpoint["DataCaptureConfig"] == {
        "EnableCapture": True,
        "CaptureStatus": "Started",
        "CurrentSamplingPercentage": 25,
        "DestinationS3Uri": f"s3://{BUCKET}/capture",
    }
    config = sagemaker.describe_endpoint_config(EndpointConfigName="described-config")
    assert config["DataCaptureConfig"] == capture_config(25)
