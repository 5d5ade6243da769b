"""EventBridge rules deliver to Step Functions on the local cloud as on AWS: S3 and custom events,
input transformers, the target's role, and the dead-letter queue."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from localcloud.testing import RunningCloud

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ACCOUNT = "123456789012"
PASS = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
TRUST_EVENTS = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)
# The contract's workflow input (notes/contract-12.md), from the S3 event.
WORKFLOW_INPUT = {
    "InputPathsMap": {
        "bucket": "$.detail.bucket.name",
        "key": "$.detail.object.key",
        "version": "$.detail.object.version-id",
    },
    "InputTemplate": (
        '{"s3_bucket": <bucket>, "s3_key": <key>, "image_data": "", "s3_version": <version>}'
    ),
}
KEYS = ["incoming/a b+c ünï.png", "incoming/plain.png", "incoming/100%+sure (1).png"]


def poll(what: str, probe: Callable[[], Any], timeout: float = 30.0) -> Any:
    """probe()'s first truthy answer, or fail naming what never happened."""
    deadline = time.monotonic() + timeout
    while True:
        answer = probe()
        if answer:
            return answer
        assert time.monotonic() < deadline, f"{what}: not within {timeout:.0f} s"
        time.sleep(0.1)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def state_machine(cloud: RunningCloud, name: str) -> str:
    arn: str = cloud.client("stepfunctions").create_state_machine(
        name=name, definition=PASS, roleArn=f"arn:aws:iam::{ACCOUNT}:role/sfn"
    )["stateMachineArn"]
    return arn


def events_role(cloud: RunningCloud, name: str, resource: str | None) -> str:
    """A role EventBridge may assume, allowed states:StartExecution on resource (None: nothing)."""
    iam = cloud.client("iam")
    arn: str = iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST_EVENTS)["Role"]["Arn"]
    action = "states:StartExecution" if resource else "states:DescribeExecution"
    iam.put_role_policy(
        RoleName=name,
        PolicyName="start",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource or "*"}],
            }
        ),
    )
    return arn


def queue(cloud: RunningCloud, name: str) -> tuple[str, str]:
    sqs = cloud.client("sqs")
    url: str = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn: str = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return url, arn


def inputs(cloud: RunningCloud, machine: str) -> list[dict[str, Any]]:
    sfn = cloud.client("stepfunctions")
    found = []
    for execution in sfn.list_executions(stateMachineArn=machine)["executions"]:
        described = sfn.describe_execution(executionArn=execution["executionArn"])
        found.append(json.loads(described["input"]))
    return found


def dead_letters(cloud: RunningCloud, url: str, count: int) -> list[dict[str, Any]]:
    """Poll the DLQ until it has given `count` messages; return them."""
    sqs = cloud.client("sqs")
    received: list[dict[str, Any]] = []

    def probe() -> bool:
        answer = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        )
        received.extend(answer.get("Messages", []))
        return len(received) >= count

    poll(f"{count} message(s) in {url}", probe)
    return received


def attributes(message: dict[str, Any]) -> dict[str, str]:
    return {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}


@pytest.fixture(scope="module")
def pipeline(local_cloud: RunningCloud) -> dict[str, str]:
    """A versioned bucket with EventBridge on, a rule for incoming/ into a Pass machine, a DLQ."""
    bucket = unique("eb-images")
    s3 = local_cloud.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    machine = state_machine(local_cloud, unique("eb-classify"))
    role = events_role(local_cloud, unique("eb-start"), machine)
    dlq_url, dlq_arn = queue(local_cloud, unique("eb-dlq"))
    events = local_cloud.client("events")
    rule = unique("eb-incoming")
    events.put_rule(
        Name=rule,
        EventPattern=json.dumps(
            {
                "source": ["aws.s3"],
                "detail-type": ["Object Created"],
                "detail": {
                    "bucket": {"name": [bucket]},
                    "object": {"key": [{"prefix": "incoming/"}]},
                },
            }
        ),
    )
    events.put_targets(
        Rule=rule,
        Targets=[
            {
                "Id": "classify",
                "Arn": machine,
                "RoleArn": role,
                "InputTransformer": WORKFLOW_INPUT,
                "DeadLetterConfig": {"Arn": dlq_arn},
            }
        ],
    )
    return {"bucket": bucket, "machine": machine, "role": role, "dlq_url": dlq_url}


def test_put_object_under_the_prefix_starts_an_execution_with_the_real_key(
    local_cloud: RunningCloud, pipeline: dict[str, str]
) -> None:
    s3 = local_cloud.client("s3")
    outside = "elsewhere/not-me.png"
    s3.put_object(Bucket=pipeline["bucket"], Key=outside, Body=b"x")
    versions = {
        key: s3.put_object(Bucket=pipeline["bucket"], Key=key, Body=b"png")["VersionId"]
        for key in KEYS
    }

    def all_started() -> list[dict[str, Any]] | None:
        found = inputs(local_cloud, pipeline["machine"])
        return found if {i["s3_key"] for i in found} >= set(KEYS) else None

    started = poll("an execution per key", all_started)
    by_key = {i["s3_key"]: i for i in started}
    for key in KEYS:
        assert by_key[key] == {
            "s3_bucket": pipeline["bucket"],
            "s3_key": key,
            "image_data": "",
            "s3_version": versions[key],
        }
    # One worker delivers in order: had the outside key matched, it would have started first.
    assert outside not in by_key
    assert sorted(i["s3_key"] for i in started if i["s3_key"] in KEYS) == sorted(KEYS)


def test_copy_and_multipart_completion_are_object_created_too(
    local_cloud: RunningCloud, pipeline: dict[str, str]
) -> None:
    s3 = local_cloud.client("s3")
    bucket = pipeline["bucket"]
    s3.put_object(Bucket=bucket, Key="staging/source.png", Body=b"png")
    s3.copy_object(
        Bucket=bucket,
        Key="incoming/copied.png",
        CopySource={"Bucket": bucket, "Key": "staging/source.png"},
    )
    upload = s3.create_multipart_upload(Bucket=bucket, Key="incoming/multi part.png")
    part = s3.upload_part(
        Bucket=bucket,
        Key="incoming/multi part.png",
        UploadId=upload["UploadId"],
        PartNumber=1,
        Body=b"p" * 1024,
    )
    s3.complete_multipart_upload(
        Bucket=bucket,
        Key="incoming/multi part.png",
        UploadId=upload["UploadId"],
        MultipartUpload={"Parts": [{"ETag": part["ETag"], "PartNumber": 1}]},
    )
    wanted = {"incoming/copied.png", "incoming/multi part.png"}
    poll(
        "executions for the copy and the multipart upload",
        lambda: wanted <= {i["s3_key"] for i in inputs(local_cloud, pipeline["machine"])},
    )


def test_the_s3_event_has_the_documented_shape(
    local_cloud: RunningCloud, pipeline: dict[str, str]
) -> None:
    """The whole event (no transformer) as https://docs.aws.amazon.com/AmazonS3/latest/userguide/
    ev-events.html shows it, for PutObject, CopyObject and CompleteMultipartUpload."""
    bucket = pipeline["bucket"]
    machine = state_machine(local_cloud, unique("eb-whole"))
    events = local_cloud.client("events")
    rule = unique("eb-shape")
    events.put_rule(
        Name=rule,
        EventPattern=json.dumps(
            {"source": ["aws.s3"], "detail": {"object": {"key": [{"prefix": "shape/"}]}}}
        ),
    )
    role = events_role(local_cloud, unique("eb-shape"), machine)
    events.put_targets(Rule=rule, Targets=[{"Id": "whole", "Arn": machine, "RoleArn": role}])
    s3 = local_cloud.client("s3")
    put = s3.put_object(Bucket=bucket, Key="shape/a b.png", Body=b"12345")
    s3.copy_object(
        Bucket=bucket, Key="shape/copy.png", CopySource={"Bucket": bucket, "Key": "shape/a b.png"}
    )
    received = poll(
        "two whole events", lambda: (found := inputs(local_cloud, machine))[1:] and found
    )
    by_key = {e["detail"]["object"]["key"]: e for e in received}
    event = by_key["shape/a b.png"]
    assert event["detail-type"] == "Object Created"
    assert event["source"] == "aws.s3"
    assert event["account"] == ACCOUNT
    assert event["resources"] == [f"arn:aws:s3:::{bucket}"]
    assert time.strptime(event["time"], "%Y-%m-%dT%H:%M:%SZ")
    detail = event["detail"]
    assert detail["version"] == "0"
    assert detail["bucket"] == {"name": bucket}
    assert detail["object"]["size"] == 5
    assert detail["object"]["etag"] == put["ETag"].strip('"')
    assert detail["object"]["version-id"] == put["VersionId"]
    assert int(detail["object"]["sequencer"], 16) > 0
    assert detail["reason"] == "PutObject"
    assert detail["requester"] == ACCOUNT
    assert {"request-id", "source-ip-address"} <= set(detail)
    assert "ingestion-time" not in event
    copied = by_key["shape/copy.png"]["detail"]
    assert copied["reason"] == "CopyObject"
    assert int(copied["object"]["sequencer"], 16) > int(detail["object"]["sequencer"], 16)


def test_put_events_with_a_custom_event_is_delivered(local_cloud: RunningCloud) -> None:
    machine = state_machine(local_cloud, unique("eb-custom"))
    role = events_role(local_cloud, unique("eb-custom"), machine)
    events = local_cloud.client("events")
    rule = unique("eb-custom")
    source = unique("scones.test")
    events.put_rule(Name=rule, EventPattern=json.dumps({"source": [source]}))
    events.put_targets(
        Rule=rule,
        Targets=[
            {
                "Id": "custom",
                "Arn": machine,
                "RoleArn": role,
                "InputTransformer": {
                    "InputPathsMap": {"key": "$.detail.key", "n": "$.detail.n"},
                    "InputTemplate": '{"key": <key>, "n": <n>, "said": "got <key>", '
                    '"rule": <aws.events.rule-name>}',
                },
            }
        ],
    )
    answer = events.put_events(
        Entries=[
            {"Source": source, "DetailType": "Test", "Detail": json.dumps({"key": "k 1", "n": 0})}
        ]
    )
    assert answer["FailedEntryCount"] == 0
    started = poll("an execution of the custom event", lambda: inputs(local_cloud, machine))
    assert started == [{"key": "k 1", "n": 0, "said": "got k 1", "rule": rule}]


def failing_rule(cloud: RunningCloud, machine: str, role: str, dlq_arn: str) -> tuple[str, str]:
    """A rule on a fresh source with one target that has a DLQ; returns (source, rule ARN)."""
    events = cloud.client("events")
    rule = unique("eb-fail")
    source = unique("scones.fail")
    rule_arn: str = events.put_rule(Name=rule, EventPattern=json.dumps({"source": [source]}))[
        "RuleArn"
    ]
    events.put_targets(
        Rule=rule,
        Targets=[
            {"Id": "t", "Arn": machine, "RoleArn": role, "DeadLetterConfig": {"Arn": dlq_arn}}
        ],
    )
    return source, rule_arn


def put(cloud: RunningCloud, source: str, detail: dict[str, Any]) -> None:
    answer = cloud.client("events").put_events(
        Entries=[{"Source": source, "DetailType": "Test", "Detail": json.dumps(detail)}]
    )
    assert answer["FailedEntryCount"] == 0


def test_a_role_without_start_execution_sends_one_message_to_the_dlq(
    local_cloud: RunningCloud,
) -> None:
    machine = state_machine(local_cloud, unique("eb-denied"))
    role = events_role(local_cloud, unique("eb-denied"), None)
    url, arn = queue(local_cloud, unique("eb-denied-dlq"))
    source, rule_arn = failing_rule(local_cloud, machine, role, arn)
    put(local_cloud, source, {"n": 1})
    # A second event after it: once its message is in, the first's delivery is over.
    put(local_cloud, source, {"n": 2})
    messages = dead_letters(local_cloud, url, 2)
    assert [json.loads(m["Body"])["detail"] for m in messages] == [{"n": 1}, {"n": 2}]
    first = attributes(messages[0])
    assert first["RULE_ARN"] == rule_arn
    assert first["TARGET_ARN"] == machine
    assert first["ERROR_CODE"] == "NO_PERMISSIONS"
    assert "states:StartExecution" in first["ERROR_MESSAGE"]
    assert first["RETRY_ATTEMPTS"] == "0"  # not retried: straight to the DLQ
    assert "EXHAUSTED_RETRY_CONDITION" not in first
    assert inputs(local_cloud, machine) == []


def test_a_missing_state_machine_sends_the_event_to_the_dlq(local_cloud: RunningCloud) -> None:
    machine = f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:{unique('eb-gone')}"
    role = events_role(local_cloud, unique("eb-gone"), machine)
    url, arn = queue(local_cloud, unique("eb-gone-dlq"))
    source, rule_arn = failing_rule(local_cloud, machine, role, arn)
    put(local_cloud, source, {"n": 3})
    (message,) = dead_letters(local_cloud, url, 1)
    found = attributes(message)
    assert found["ERROR_CODE"] == "NO_RESOURCE"
    assert found["TARGET_ARN"] == machine
    assert found["RULE_ARN"] == rule_arn
    assert found["RETRY_ATTEMPTS"] == "0"
    event = json.loads(message["Body"])
    assert event["source"] == source and event["detail"] == {"n": 3}
