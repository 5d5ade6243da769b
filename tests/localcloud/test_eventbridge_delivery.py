"""EventBridge delivery in-process: templates as AWS fills them, retries, the role check."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from localcloud.eventbridge import (
    Backoff,
    Delivery,
    DeliveryError,
    TargetDeliverer,
    build_input,
    check_role,
)

RULE = "arn:aws:events:us-east-1:123456789012:rule/r"
MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:m"
EVENT = {
    "version": "0",
    "id": "e-1",
    "detail-type": "Object Created",
    "source": "aws.s3",
    "account": "123456789012",
    "time": 1700000000.0,
    "region": "us-east-1",
    "resources": [],
    "detail": {"object": {"key": 'a "b" c.png', "size": 0}, "flag": False},
    "ingestion-time": 1700000000.5,
}


def transformed(paths: dict[str, str], template: str) -> Any:
    target = {
        "Arn": MACHINE,
        "InputTransformer": {"InputPathsMap": paths, "InputTemplate": template},
    }
    return json.loads(build_input(target, EVENT, RULE, "r", 1700000000.5))


def test_a_variable_outside_quotes_becomes_json_and_falsy_values_are_kept() -> None:
    # moto's own parser would leave <size> and <flag> in place (it skips 0 and false).
    got = transformed(
        {"key": "$.detail.object.key", "size": "$.detail.object.size", "flag": "$.detail.flag"},
        '{"k": <key>, "s": <size>, "f": <flag>}',
    )
    assert got == {"k": 'a "b" c.png', "s": 0, "f": False}


def test_a_variable_inside_a_string_goes_in_unescaped() -> None:
    assert transformed({"size": "$.detail.object.size"}, '"size <size>"') == "size 0"
    # "EventBridge doesn't escape values extracted by Input Path": a quote breaks the JSON.
    with pytest.raises(DeliveryError) as error:
        transformed({"key": "$.detail.object.key"}, '{"k": "<key>"}')
    assert error.value.code == "INVALID_JSON" and not error.value.retryable


def test_predefined_variables_and_missing_paths() -> None:
    got = transformed(
        {"gone": "$.detail.nothing"},
        '{"arn": <aws.events.rule-arn>, "name": "<aws.events.rule-name>", "gone": "<gone>", '
        '"at": <aws.events.event.ingestion-time>, "e": <aws.events.event>, '
        '"all": <aws.events.event.json>, "literal": "<not-a-variable>"}',
    )
    assert got["arn"] == RULE and got["name"] == "r" and got["gone"] == ""
    assert got["at"] == "2023-11-14T22:13:20Z"
    assert "detail" not in got["e"] and got["e"]["time"] == "2023-11-14T22:13:20Z"
    assert got["all"]["detail"] == EVENT["detail"] and "ingestion-time" not in got["all"]
    assert got["literal"] == "<not-a-variable>"


def test_input_and_input_path() -> None:
    assert build_input({"Input": '{"a": 1}'}, EVENT, RULE, "r", 0) == '{"a": 1}'
    assert json.loads(build_input({"InputPath": "$.detail.object"}, EVENT, RULE, "r", 0)) == {
        "key": 'a "b" c.png',
        "size": 0,
    }


class Recorder:
    """Stands in for Step Functions and the DLQ: fails `failures` times with `code`, then starts."""

    def __init__(self, failures: int, code: str = "THROTTLING") -> None:
        self.failures = failures
        self.code = code
        self.calls = 0
        self.started: list[str] = []
        self.dead: list[tuple[str, str, dict[str, str]]] = []
        self.done = threading.Event()

    def start(self, delivery: Delivery, text: str) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise DeliveryError(self.code, f"failure {self.calls}")
        self.started.append(text)
        self.done.set()

    def dead_letter(self, queue: str, body: str, attributes: dict[str, str]) -> None:
        self.dead.append((queue, body, attributes))
        self.done.set()


class Log:
    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None


@pytest.fixture
def deliver() -> Iterator[Any]:
    made: list[TargetDeliverer] = []

    def run(recorder: Recorder, policy: dict[str, int], backoff: Backoff) -> Recorder:
        deliverer = TargetDeliverer(recorder.start, recorder.dead_letter, Log(), backoff)
        made.append(deliverer)
        target = {
            "Arn": MACHINE,
            "RetryPolicy": policy,
            "DeadLetterConfig": {"Arn": "arn:aws:sqs:us-east-1:123456789012:dlq"},
        }
        deliverer.submit(Delivery(RULE, "r", target, dict(EVENT), 0.0))
        assert recorder.done.wait(10), "the delivery neither started nor dead-lettered"
        return recorder

    yield run
    for deliverer in made:
        deliverer.stop()


FAST = Backoff(base=0.001, cap=0.01)


def test_retryable_failures_are_retried_until_the_start_succeeds(deliver: Any) -> None:
    recorder = deliver(Recorder(failures=3), {"MaximumRetryAttempts": 5}, FAST)
    assert recorder.calls == 4 and len(recorder.started) == 1 and recorder.dead == []


def test_spent_retries_go_to_the_dlq_saying_which_limit(deliver: Any) -> None:
    recorder = deliver(Recorder(failures=99), {"MaximumRetryAttempts": 2}, FAST)
    assert recorder.calls == 3 and recorder.started == []
    ((queue, body, attributes),) = recorder.dead
    assert queue == "arn:aws:sqs:us-east-1:123456789012:dlq"
    assert attributes == {
        "RULE_ARN": RULE,
        "TARGET_ARN": MACHINE,
        "ERROR_CODE": "THROTTLING",
        "ERROR_MESSAGE": "failure 3",
        "RETRY_ATTEMPTS": "2",
        "EXHAUSTED_RETRY_CONDITION": "MaximumRetryAttempts",
    }
    assert json.loads(body)["id"] == "e-1"


def test_a_retry_past_the_event_age_goes_to_the_dlq(deliver: Any) -> None:
    # The first backoff (100 s or more) would pass MaximumEventAgeInSeconds: no waiting for it.
    recorder = deliver(
        Recorder(failures=99), {"MaximumEventAgeInSeconds": 60}, Backoff(base=200, cap=300)
    )
    assert recorder.calls == 1
    assert recorder.dead[0][2]["EXHAUSTED_RETRY_CONDITION"] == "MaximumEventAgeInSeconds"


def test_a_permission_error_is_not_retried(deliver: Any) -> None:
    recorder = deliver(Recorder(failures=1, code="NO_PERMISSIONS"), {}, FAST)
    assert recorder.calls == 1
    assert recorder.dead[0][2]["RETRY_ATTEMPTS"] == "0"
    assert "EXHAUSTED_RETRY_CONDITION" not in recorder.dead[0][2]


@pytest.fixture
def iam() -> Iterator[Any]:
    import boto3
    from moto import mock_aws

    with mock_aws():
        yield boto3.client("iam", region_name="us-east-1")


def role(iam: Any, name: str, principal: dict[str, str], policy: dict[str, Any]) -> str:
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}],
    }
    arn: str = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"][
        "Arn"
    ]
    managed = iam.create_policy(PolicyName=f"{name}-p", PolicyDocument=json.dumps(policy))
    iam.attach_role_policy(RoleName=name, PolicyArn=managed["Policy"]["Arn"])
    return arn


ALLOW = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "states:*", "Resource": MACHINE}],
}


def code_of(role_arn: str | None) -> str | None:
    try:
        check_role("123456789012", role_arn, "states:StartExecution", MACHINE, RULE)
    except DeliveryError as error:
        return error.code
    return None


def test_an_attached_policy_allows_and_a_deny_wins(iam: Any) -> None:
    allowed = role(iam, "ok", {"Service": "events.amazonaws.com"}, ALLOW)
    assert code_of(allowed) is None
    iam.put_role_policy(
        RoleName="ok",
        PolicyName="deny",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Deny", "Action": "states:StartExecution", "Resource": "*"}
                ],
            }
        ),
    )
    assert code_of(allowed) == "NO_PERMISSIONS"


def test_a_role_events_cannot_assume_fails_delivery(iam: Any) -> None:
    lambda_only = role(iam, "lambda-only", {"Service": "lambda.amazonaws.com"}, ALLOW)
    assert code_of(lambda_only) == "FAILED_TO_ASSUME_ROLE"
    assert code_of("arn:aws:iam::123456789012:role/none") == "FAILED_TO_ASSUME_ROLE"
    assert code_of(None) == "FAILED_TO_ASSUME_ROLE"
