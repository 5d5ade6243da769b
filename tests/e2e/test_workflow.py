"""Real images through the deployed state machine: answers, failures, retries and a batch."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from common import aws
from scripts.classify import TERMINAL, ResultsFile, Target, run_batch
from scripts.stack import ORIGINAL_TEST_KEY, DeployedStack, execute
from training.labels import CLASSES

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(scope="module")
def test_classes(deployed_stack: DeployedStack) -> dict[str, str]:
    """Key -> class of the test images training.upload put flat under test/.

    The classes come from the uploaded test_lst/test.lst, whose paths are relative to test/.
    """
    s3 = deployed_stack.client("s3")
    listed = s3.list_objects_v2(Bucket=deployed_stack.bucket, Prefix="test/", Delimiter="/")
    keys = sorted(item["Key"] for item in listed.get("Contents", []))
    lst = s3.get_object(Bucket=deployed_stack.bucket, Key="test_lst/test.lst")["Body"].read()
    rows = [line.split("\t") for line in lst.decode().splitlines() if line.strip()]
    classes = {f"test/{path}": CLASSES[int(label)] for _, label, path in rows}
    assert sorted(classes) == keys, "test_lst/test.lst lists exactly the keys under test/"
    assert set(classes.values()) == set(CLASSES), classes
    return classes


@pytest.fixture(scope="module")
def test_keys(test_classes: dict[str, str]) -> list[str]:
    return sorted(test_classes)


def endpoint_answer(stack: DeployedStack, png: bytes) -> list[float]:
    response = stack.client("sagemaker-runtime").invoke_endpoint(
        EndpointName=stack.endpoint_name, ContentType="image/png", Body=png
    )
    probabilities: list[float] = json.loads(response["Body"].read())
    return probabilities


def some_of_each_class(classes: dict[str, str], per_class: int) -> list[str]:
    return [
        key
        for name in CLASSES
        for key in sorted(k for k, c in classes.items() if c == name)[:per_class]
    ]


def test_the_original_projects_test_event_with_a_version_succeeds(
    deployed_stack: DeployedStack,
) -> None:
    # The original project's event, plus the object's version id the ingest rule adds.
    run = execute(deployed_stack, ORIGINAL_TEST_KEY)
    assert run.status == "SUCCEEDED", run.described
    sent = json.loads(run.described["input"])
    assert sent == {
        "image_data": "",
        "s3_bucket": deployed_stack.bucket,
        "s3_key": "test/bicycle_s_000513.png",
        "s3_version": sent["s3_version"],
    }
    assert run.output["s3_key"] == ORIGINAL_TEST_KEY
    assert run.output["s3_version"] == sent["s3_version"]
    assert run.output["status"] in {"classified", "needs_review"}
    assert run.output["label"] in CLASSES


def test_executions_succeed_with_the_endpoints_own_answer(
    deployed_stack: DeployedStack, test_classes: dict[str, str]
) -> None:
    for key in some_of_each_class(test_classes, 2):
        run = execute(deployed_stack, key)
        assert run.status == "SUCCEEDED", (key, run.described)
        label, confidence = run.output["label"], run.output["confidence"]
        # The same serialized image the workflow sent, straight to the endpoint.
        png = base64.b64decode(run.state_output("SerializeImageData")["step"]["image_data"])
        probabilities = endpoint_answer(deployed_stack, png)
        assert len(probabilities) == len(CLASSES)
        assert label == CLASSES[probabilities.index(max(probabilities))], (key, probabilities)
        assert confidence == pytest.approx(max(probabilities), abs=1e-6)
        classified = run.state_output("ClassifyImage")
        assert classified["step"]["inferences"] == pytest.approx(probabilities)
        assert "image_data" not in classified["step"], "the image stops at ClassifyImage"
        assert classified["image_data"] == "", "only the input's empty field is left"
        # One try of each function, then one write of the result.
        assert len(run.of_type("TaskScheduled")) == 4


def test_a_non_image_ends_in_invalid_image(deployed_stack: DeployedStack) -> None:
    key = "e2e/not-an-image.png"  # outside incoming/: only this test's execution reads it
    deployed_stack.client("s3").put_object(
        Bucket=deployed_stack.bucket, Key=key, Body=b"plain text wearing a .png name\n"
    )
    run = execute(deployed_stack, key)
    assert run.status == "FAILED"
    assert run.described["error"] == "InvalidImage"
    assert key in run.described["cause"]
    assert run.task_errors() == ["InvalidImage"]
    assert len(run.of_type("TaskScheduled")) == 2  # not retried; the failure is recorded
    assert run.of_type("FailStateEntered"), "the Catch path ends in the Fail state"


def test_endpoint_throttling_is_retried_by_the_workflow(
    deployed_stack: DeployedStack, test_keys: list[str]
) -> None:
    # Exactly one Lambda attempt's worth of throttles: the client gives up once.
    deployed_stack.inject_fault("throttle", aws.SAGEMAKER_RUNTIME_MAX_ATTEMPTS)
    try:
        run = execute(deployed_stack, test_keys[0])
    finally:
        deployed_stack.clear_faults()
    assert run.status == "SUCCEEDED", run.described
    assert run.task_errors() == ["EndpointUnavailable"]
    scheduled: list[dict[str, Any]] = run.of_type("TaskScheduled")
    assert len(scheduled) == 5, "serialize, classify twice (Retry), filter, the result"
    assert run.output["label"] in CLASSES


def test_batch_classify_accounts_for_every_image(
    deployed_stack: DeployedStack, test_keys: list[str], tmp_path: Path
) -> None:
    results = ResultsFile(tmp_path / "results.jsonl")
    target = Target(deployed_stack.state_machine_arn, deployed_stack.bucket)
    counts = run_batch(
        deployed_stack.client("stepfunctions"),
        deployed_stack.client("s3"),
        target,
        "test/",
        results,
        concurrency=4,
        timeout=180,
    )
    latest = results.latest()
    assert sorted(latest) == test_keys
    assert all(record["status"] in TERMINAL for record in latest.values())
    assert counts == {"SUCCEEDED": len(test_keys)}, counts
    assert all(record["label"] in CLASSES for record in latest.values())
