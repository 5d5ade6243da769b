"""Lambda workers are held to MemorySize: going over is Runtime.OutOfMemory, as on AWS."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import time
from pathlib import Path
from typing import Any

import pytest

from localcloud.testing import RunningCloud, create_function, invoke

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = REPO_ROOT / "infra" / "modules" / "workflow" / "templates" / "classify.asl.json"
FUNCTIONS_TF = REPO_ROOT / "infra" / "modules" / "functions" / "variables.tf"
SFN_ROLE = "arn:aws:iam::123456789012:role/localcloud-test-sfn"

HUNGRY = """
import os
from concurrent.futures import ThreadPoolExecutor

import boto3

HELD = []


def lambda_handler(event, context):
    boto3.client("s3").list_buckets()
    with ThreadPoolExecutor(event.get("threads", 1)) as pool:
        list(pool.map(lambda n: n, range(64)))
    # The workflow passes only its own fields: the key says how much to touch there.
    touch_mb = event.get("touch_mb") or int(event.get("s3_key", "touch-0").split("-")[1])
    for _ in range(touch_mb // 16):
        HELD.append(b"x" * (16 * 1024 * 1024))  # written, so resident
    if event.get("reserve_mb"):
        HELD.append(bytearray(event["reserve_mb"] * 1024 * 1024))  # one big calloc
    return {"pid": os.getpid()}
"""


def invoke_with_log(cloud: RunningCloud, name: str, event: Any) -> tuple[Any, str | None, str]:
    """(payload, FunctionError, log tail with the REPORT line) of a synchronous invocation."""
    response = cloud.client("lambda").invoke(
        FunctionName=name, Payload=json.dumps(event).encode(), LogType="Tail"
    )
    tail = base64.b64decode(response["LogResult"]).decode()
    return json.loads(response["Payload"].read()), response.get("FunctionError"), tail


def max_memory_used(tail: str) -> int:
    found = re.search(r"Max Memory Used: (\d+) MB", tail)
    assert found, tail
    return int(found.group(1))


@pytest.fixture(scope="module")
def hungry(local_cloud: RunningCloud, lambda_role: str) -> str:
    create_function(local_cloud, lambda_role, "hungry", HUNGRY, MemorySize=128, Timeout=20)
    return "hungry"


def test_a_normal_function_with_boto3_and_threads_runs_in_128_mb(
    local_cloud: RunningCloud, hungry: str
) -> None:
    payload, error, tail = invoke_with_log(local_cloud, hungry, {"threads": 10})
    assert error is None, (payload, tail)
    assert "Memory Size: 128 MB" in tail
    assert 10 < max_memory_used(tail) < 128


def test_touching_more_than_memory_size_is_runtime_out_of_memory_then_a_fresh_worker(
    local_cloud: RunningCloud, hungry: str
) -> None:
    before, _ = invoke(local_cloud, hungry)
    payload, error, tail = invoke_with_log(local_cloud, hungry, {"touch_mb": 192})
    assert error == "Unhandled"
    assert payload["errorType"] == "Runtime.OutOfMemory"
    assert re.fullmatch(
        r"RequestId: [0-9a-f-]{36} Error: Runtime exited with error: signal: killed",
        payload["errorMessage"],
    )
    assert max_memory_used(tail) > 128
    assert "Status: error\tError Type: Runtime.OutOfMemory" in tail
    after, error = invoke(local_cloud, hungry)
    assert error is None
    assert after["pid"] != before["pid"]  # the killed environment was not reused


def test_memory_error_at_the_ceiling_ends_the_environment_as_runtime_out_of_memory(
    local_cloud: RunningCloud, hungry: str
) -> None:
    before, _ = invoke(local_cloud, hungry)
    began = time.perf_counter()
    payload, error, tail = invoke_with_log(local_cloud, hungry, {"reserve_mb": 1024})
    assert time.perf_counter() - began < 5  # refused at once, not after filling the machine
    assert error == "Unhandled"
    assert payload["errorType"] == "Runtime.OutOfMemory"
    assert "MemoryError" in tail  # the traceback is in the function's log
    after, error = invoke(local_cloud, hungry)
    assert error is None
    assert after["pid"] != before["pid"]


def test_the_workflow_catches_out_of_memory_into_classification_failed(
    local_cloud: RunningCloud, hungry: str
) -> None:
    arn = local_cloud.client("lambda").get_function(FunctionName=hungry)["Configuration"][
        "FunctionArn"
    ]
    table = "oom-results"
    dynamodb = local_cloud.client("dynamodb")
    dynamodb.create_table(
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[
            {"AttributeName": "s3_key", "KeyType": "HASH"},
            {"AttributeName": "version", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "s3_key", "AttributeType": "S"},
            {"AttributeName": "version", "AttributeType": "S"},
        ],
    )
    definition = TEMPLATE.read_text(encoding="utf-8")
    for role in ("serialize_image_data", "classify_image", "filter_inferences"):
        definition = definition.replace("${" + role + "_arn}", arn)
    for name, value in {
        "table_name": table,
        "threshold": "0.5",
        "model_name": "oom-model",
        "model_data": "s3://oom/model.tar.gz",
        "review_queue_url": "https://sqs.us-east-1.amazonaws.com/123456789012/oom-review",
    }.items():
        definition = definition.replace("${" + name + "}", value)
    assert "${" not in definition, "a template variable the test does not fill"
    sfn = local_cloud.client("stepfunctions")
    machine = sfn.create_state_machine(
        name="oom-workflow", definition=definition, roleArn=SFN_ROLE
    )["stateMachineArn"]
    event = {"s3_bucket": "oom", "s3_key": "touch-192", "s3_version": "v1", "image_data": ""}
    execution = sfn.start_execution(stateMachineArn=machine, input=json.dumps(event))
    deadline = time.monotonic() + 60
    while (described := sfn.describe_execution(executionArn=execution["executionArn"]))[
        "status"
    ] == "RUNNING":
        assert time.monotonic() < deadline, "the execution hangs"
        time.sleep(0.1)
    assert described["status"] == "FAILED"
    assert described["error"] == "Runtime.OutOfMemory"
    assert "signal: killed" in described["cause"]
    history = sfn.get_execution_history(executionArn=execution["executionArn"])["events"]
    entered = [e["stateEnteredEventDetails"]["name"] for e in history if "Entered" in e["type"]]
    assert entered[-2:] == ["RecordFailure", "ClassificationFailed"]
    item = dynamodb.get_item(
        TableName=table, Key={"s3_key": {"S": "touch-192"}, "version": {"S": "v1"}}
    )
    assert item["Item"]["status"]["S"] == "failed"
    assert item["Item"]["error"]["S"] == "Runtime.OutOfMemory"


def configured_memory_mb(function_key: str) -> int:
    """The memory_size default the functions module gives a function (no env overrides it)."""
    text = FUNCTIONS_TF.read_text(encoding="utf-8")
    found = re.search(
        rf"{function_key} = optional\(object\(\{{"
        r"(?:\s*#.*)*"  # comments between the braces
        r"\s*memory_size\s*= optional\(number, (\d+)\)",
        text,
    )
    assert found, f"no memory_size default for {function_key} in {FUNCTIONS_TF}"
    return int(found.group(1))


def sixteen_bit_png(side: int = 5000) -> bytes:
    """A side x side 16-bit grayscale PNG: a gradient under a tiled noise pattern.

    Noise everywhere would not compress under MAX_IMAGE_BYTES (it would be refused before any
    decoding); the tile repeats within deflate's window, so it shrinks to a few MB yet every
    pixel still has to be decoded. Grayscale 16-bit is the costliest path in normalise(): it is
    widened to 32-bit floats and rescaled (RGB 16-bit decodes straight to 8 bits).
    """
    import numpy as np
    from PIL import Image

    columns = np.arange(side, dtype=np.uint32)
    gradient = ((columns[:, None] + columns[None, :]) * 6).astype(np.uint16)
    tile = np.random.default_rng(7).integers(0, 4096, size=(50, 50), dtype=np.uint16)
    image = Image.fromarray(gradient + np.tile(tile, (side // 50, side // 50)))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def test_a_25_megapixel_16_bit_png_fits_serialize_image_data_at_its_configured_memory(
    local_cloud: RunningCloud, lambda_role: str, tmp_path: Path
) -> None:
    from scripts import package_lambdas as pkg

    try:
        layer_zip = pkg.build_layer(tmp_path).path
    except pkg.LayerBuildError as exc:
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            raise
        pytest.skip(f"the Pillow layer cannot be built here: {exc}")
    function_zip = pkg.build_function_zip("serialize_image_data", tmp_path).path
    memory_mb = configured_memory_mb("serialize_image_data")
    png = sixteen_bit_png()
    assert png[24:26] == b"\x10\x00", "bit depth 16, grayscale"

    s3, lam = local_cloud.client("s3"), local_cloud.client("lambda")
    s3.create_bucket(Bucket="big-photos")
    s3.put_object(Bucket="big-photos", Key="25mp.png", Body=png)
    layer = lam.publish_layer_version(
        LayerName="pillow-memory-test",
        Content={"ZipFile": layer_zip.read_bytes()},
        CompatibleRuntimes=["python3.12"],
    )
    lam.create_function(
        FunctionName="serialize-25mp",
        Runtime="python3.12",
        Role=lambda_role,
        Handler="handler.lambda_handler",
        Code={"ZipFile": function_zip.read_bytes()},
        Layers=[layer["LayerVersionArn"]],
        MemorySize=memory_mb,
        Timeout=60,
        # As Terraform sets them (its defaults); MAX_IMAGE_PIXELS keeps the handler's 25 MP.
        Environment={"Variables": {"MAX_IMAGE_BYTES": str(10 * 1024 * 1024), "IMAGE_SIZE": "32"}},
    )
    event = {"s3_bucket": "big-photos", "s3_key": "25mp.png", "image_data": ""}
    payload, error, tail = invoke_with_log(local_cloud, "serialize-25mp", event)
    peak = max_memory_used(tail)
    print(f"25 MP 16-bit PNG ({len(png)} bytes): Max Memory Used {peak} of {memory_mb} MB")
    assert error is None, payload  # decoded in full: 25 MP is exactly the pixel limit
    assert base64.b64decode(payload["image_data"]).startswith(b"\x89PNG")
    assert peak < memory_mb
