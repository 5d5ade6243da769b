"""The service on the deployed local stack: a photo under incoming/ is classified with no
operator, recorded once per object version, queued for review when unsure, dead-lettered when
the trigger cannot start the workflow (issue 12)."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from scripts.stack import BASE_THRESHOLD, DeployedStack
from tests.support.reliability_kit import finish, start
from training.labels import CLASSES

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

DEADLINE_SECONDS = 180.0


@pytest.fixture(scope="module")
def prefix() -> str:
    return f"incoming/e2e-{uuid.uuid4().hex[:8]}/"


def table(stack: DeployedStack) -> str:
    return str(stack.outputs["results_table_name"])


def wait_for_item(stack: DeployedStack, key: str, version: str) -> dict[str, Any]:
    """The results item of (key, version), polled until the deadline."""
    ddb = stack.client("dynamodb")
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        found = ddb.get_item(
            TableName=table(stack),
            Key={"s3_key": {"S": key}, "version": {"S": version}},
            ConsistentRead=True,
        ).get("Item")
        if found:
            return {name: next(iter(value.values())) for name, value in found.items()}
        if time.monotonic() > deadline:
            raise AssertionError(f"no results item for {key} {version} in {DEADLINE_SECONDS} s")
        time.sleep(0.25)


def items_of(stack: DeployedStack, key: str) -> list[dict[str, Any]]:
    answer = stack.client("dynamodb").query(
        TableName=table(stack),
        KeyConditionExpression="s3_key = :key",
        ExpressionAttributeValues={":key": {"S": key}},
        ConsistentRead=True,
    )
    return list(answer["Items"])


def upload(stack: DeployedStack, key: str, body: bytes) -> str:
    return str(stack.client("s3").put_object(Bucket=stack.bucket, Key=key, Body=body)["VersionId"])


def image_of_the_test_split(stack: DeployedStack, index: int = 0) -> bytes:
    listed = stack.client("s3").list_objects_v2(Bucket=stack.bucket, Prefix="test/", Delimiter="/")
    key = sorted(item["Key"] for item in listed["Contents"])[index]
    body: bytes = stack.client("s3").get_object(Bucket=stack.bucket, Key=key)["Body"].read()
    return body


def confidence_of(stack: DeployedStack, key: str) -> tuple[str, float]:
    """What the model says of the object, asked the way the workflow asks it."""
    lambdas = stack.client("lambda")
    event = {"s3_bucket": stack.bucket, "s3_key": key, "image_data": ""}
    serialized = json.loads(
        lambdas.invoke(
            FunctionName=stack.function_names["serialize_image_data"],
            Payload=json.dumps(event).encode(),
        )["Payload"].read()
    )
    answer = stack.client("sagemaker-runtime").invoke_endpoint(
        EndpointName=stack.endpoint_name,
        ContentType="image/png",
        Body=base64.b64decode(serialized["image_data"]),
    )
    probabilities: list[float] = json.loads(answer["Body"].read())
    best = max(range(len(CLASSES)), key=probabilities.__getitem__)
    return CLASSES[best], probabilities[best]


def drain_review_queue(stack: DeployedStack, key: str) -> list[dict[str, Any]]:
    """Every review message for `key` now in the queue (each received once, then deleted)."""
    sqs = stack.client("sqs")
    url = stack.outputs["review_queue_url"]
    ours: list[dict[str, Any]] = []
    while True:
        got = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=300, WaitTimeSeconds=1
        ).get("Messages", [])
        if not got:
            return ours
        for message in got:
            body = json.loads(message["Body"])
            if body.get("s3_key") == key:
                ours.append(body)
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def test_a_photo_under_incoming_is_recorded_with_the_models_label(
    deployed_stack: DeployedStack, prefix: str
) -> None:
    key = prefix + "bicycle.png"
    version = upload(deployed_stack, key, image_of_the_test_split(deployed_stack))

    item = wait_for_item(deployed_stack, key, version)

    label, confidence = confidence_of(deployed_stack, key)
    assert item["status"] in {"classified", "needs_review"}, item
    assert item["label"] == label and float(item["confidence"]) == pytest.approx(confidence)
    assert json.loads(item["inferences"])[CLASSES.index(label)] == pytest.approx(confidence)
    assert float(item["threshold"]) == pytest.approx(BASE_THRESHOLD)
    assert item["model_data"] == deployed_stack.model_data_url
    assert item["model_name"].startswith("scones-local-")
    assert item["execution_arn"].startswith(
        deployed_stack.state_machine_arn.replace(":stateMachine:", ":execution:")
    )
    assert item["started_at"] <= item["finished_at"] and item["finished_at"].endswith("Z")


def test_keys_with_spaces_plus_and_unicode_arrive_as_the_real_key(
    deployed_stack: DeployedStack, prefix: str
) -> None:
    key = prefix + "Lieferung März/vélo 1+2 (自転車).png"
    version = upload(deployed_stack, key, image_of_the_test_split(deployed_stack, 1))
    item = wait_for_item(deployed_stack, key, version)
    assert item["s3_key"] == key and item["bucket"] == deployed_stack.bucket
    assert item["status"] in {"classified", "needs_review"}, item


def test_a_bad_image_is_recorded_failed_with_its_error(
    deployed_stack: DeployedStack, prefix: str
) -> None:
    key = prefix + "delivery-note.png"
    version = upload(deployed_stack, key, b"a delivery note, not a photo\n")
    item = wait_for_item(deployed_stack, key, version)
    assert item["status"] == "failed" and item["error"] == "InvalidImage", item
    assert key in item["cause"]
    assert "label" not in item


@pytest.fixture(scope="module")
def unsure_image(deployed_stack: DeployedStack) -> Iterator[tuple[bytes, float]]:
    """The least confident of 12 test images, and a threshold applied above its confidence
    (below the most confident's), so the review path runs; the suite's threshold comes back
    after the module. With two classes the base threshold, 0.5, can never be missed."""
    listed = deployed_stack.client("s3").list_objects_v2(
        Bucket=deployed_stack.bucket, Prefix="test/", Delimiter="/"
    )
    keys = sorted(item["Key"] for item in listed["Contents"])[:12]
    confidences = {key: confidence_of(deployed_stack, key)[1] for key in keys}
    lowest = min(keys, key=confidences.__getitem__)
    highest = max(confidences.values())
    assert confidences[lowest] < highest, confidences
    threshold = round((confidences[lowest] + highest) / 2, 6)
    body: bytes = (
        deployed_stack.client("s3")
        .get_object(Bucket=deployed_stack.bucket, Key=lowest)["Body"]
        .read()
    )
    deployed_stack.apply(threshold=threshold)
    try:
        yield body, threshold
    finally:
        deployed_stack.apply()


def test_an_unsure_photo_is_needs_review_with_exactly_one_message(
    deployed_stack: DeployedStack, prefix: str, unsure_image: tuple[bytes, float]
) -> None:
    image, threshold = unsure_image
    key = prefix + "unsure.png"
    version = upload(deployed_stack, key, image)

    item = wait_for_item(deployed_stack, key, version)

    assert item["status"] == "needs_review", item
    messages = drain_review_queue(deployed_stack, key)
    assert len(messages) == 1, messages
    (message,) = messages
    assert message["version"] == version and message["threshold"] == pytest.approx(threshold)
    assert float(item["threshold"]) == pytest.approx(threshold)
    assert message["label"] == item["label"] and message["model_name"] == item["model_name"]
    assert len(message["inferences"]) == len(CLASSES)


def test_the_same_event_twice_gives_one_item_and_at_most_one_message(
    deployed_stack: DeployedStack, prefix: str, unsure_image: tuple[bytes, float]
) -> None:
    key = prefix + "delivered-twice.png"
    version = upload(deployed_stack, key, unsure_image[0])
    # The ingest rule delivers it once; these are EventBridge delivering it again, twice more,
    # at the same time: the input the rule's transformer builds.
    event = {
        "s3_bucket": deployed_stack.bucket,
        "s3_key": key,
        "image_data": "",
        "s3_version": version,
    }
    runs = [finish(deployed_stack, arn) for arn in [start(deployed_stack, event) for _ in range(2)]]

    wait_for_item(deployed_stack, key, version)
    assert {run.status for run in runs} == {"SUCCEEDED"}, [run.described for run in runs]
    assert len(items_of(deployed_stack, key)) == 1
    # Let the ingest rule's own execution finish too, then count.
    sfn = deployed_stack.client("stepfunctions")
    deadline = time.monotonic() + DEADLINE_SECONDS
    while any(
        e["status"] == "RUNNING"
        for e in sfn.list_executions(stateMachineArn=deployed_stack.state_machine_arn)["executions"]
    ):
        assert time.monotonic() < deadline, "executions still running"
        time.sleep(0.5)
    assert len(drain_review_queue(deployed_stack, key)) == 1
    assert "duplicate" in {run.output["status"] for run in runs}


@pytest.fixture
def rule_without_permission(deployed_stack: DeployedStack) -> Iterator[None]:
    """The ingest rule's role without its StartExecution policy; restored as it was."""
    iam = deployed_stack.client("iam")
    events = deployed_stack.client("events")
    rule = deployed_stack.outputs["state_machine_name"].replace("-classify", "-incoming")
    (target,) = events.list_targets_by_rule(Rule=rule)["Targets"]
    role = target["RoleArn"].rsplit("/", 1)[1]
    (policy_name,) = iam.list_role_policies(RoleName=role)["PolicyNames"]
    document = iam.get_role_policy(RoleName=role, PolicyName=policy_name)["PolicyDocument"]
    iam.delete_role_policy(RoleName=role, PolicyName=policy_name)
    try:
        yield
    finally:
        iam.put_role_policy(
            RoleName=role,
            PolicyName=policy_name,
            PolicyDocument=document if isinstance(document, str) else json.dumps(document),
        )


def test_a_target_that_cannot_start_the_workflow_dead_letters_the_event(
    deployed_stack: DeployedStack, prefix: str, rule_without_permission: None
) -> None:
    key = prefix + "undeliverable.png"
    upload(deployed_stack, key, image_of_the_test_split(deployed_stack, 2))
    sqs = deployed_stack.client("sqs")
    url = deployed_stack.outputs["ingest_dlq_url"]
    deadline = time.monotonic() + DEADLINE_SECONDS
    found: list[dict[str, Any]] = []
    while not found:
        assert time.monotonic() < deadline, "nothing reached the ingest DLQ"
        for message in sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, MessageAttributeNames=["All"]
        ).get("Messages", []):
            if json.loads(message["Body"])["detail"]["object"]["key"] == key:
                found.append(message)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    attributes = found[0]["MessageAttributes"]
    assert attributes["ERROR_CODE"]["StringValue"] == "NO_PERMISSIONS", attributes
    assert attributes["TARGET_ARN"]["StringValue"] == deployed_stack.state_machine_arn
    assert items_of(deployed_stack, key) == []
