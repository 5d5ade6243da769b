"""State machines run for real on the local cloud, calling the deployed Lambda code."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from localcloud.testing import RunningCloud, create_function

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SFN_ROLE = "arn:aws:iam::123456789012:role/localcloud-test-sfn"
FLAKY = """
class LowConfidence(Exception):
    pass


def lambda_handler(event, context):
    if event.get("confidence", 1) < 0.9:
        raise LowConfidence("confidence %.2f is below 0.90" % event["confidence"])
    return {"label": "bicycle", "confidence": event["confidence"]}
"""


def definition(function_arn: str) -> str:
    return json.dumps(
        {
            "StartAt": "Filter",
            "States": {
                "Filter": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke",
                    "Parameters": {"FunctionName": function_arn, "Payload.$": "$"},
                    "ResultSelector": {"body.$": "$.Payload"},
                    "Retry": [
                        {
                            "ErrorEquals": ["LowConfidence"],
                            "MaxAttempts": 1,
                            "IntervalSeconds": 1,
                            "BackoffRate": 1.0,
                        }
                    ],
                    "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Failed"}],
                    "End": True,
                },
                "Failed": {"Type": "Fail", "ErrorPath": "$.Error", "CausePath": "$.Cause"},
            },
        }
    )


@pytest.fixture(scope="module")
def state_machine(local_cloud: RunningCloud, lambda_role: str) -> str:
    arn = create_function(local_cloud, lambda_role, "sfn-filter", FLAKY)
    response = local_cloud.client("stepfunctions").create_state_machine(
        name="localcloud-test", definition=definition(arn), roleArn=SFN_ROLE
    )
    machine: str = response["stateMachineArn"]
    return machine


def finish(cloud: RunningCloud, execution_arn: str, timeout: float = 30) -> dict[str, Any]:
    sfn = cloud.client("stepfunctions")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        described: dict[str, Any] = sfn.describe_execution(executionArn=execution_arn)
        if described["status"] != "RUNNING":
            return described
        time.sleep(0.05)
    raise AssertionError(f"{execution_arn} still RUNNING after {timeout} s")


def test_success_path_returns_the_lambda_result(
    local_cloud: RunningCloud, state_machine: str
) -> None:
    sfn = local_cloud.client("stepfunctions")
    started = sfn.start_execution(stateMachineArn=state_machine, input='{"confidence": 0.95}')
    described = finish(local_cloud, started["executionArn"])
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"body": {"label": "bicycle", "confidence": 0.95}}


def test_named_error_is_retried_then_caught_into_fail(
    local_cloud: RunningCloud, state_machine: str
) -> None:
    sfn = local_cloud.client("stepfunctions")
    started = sfn.start_execution(stateMachineArn=state_machine, input='{"confidence": 0.5}')
    described = finish(local_cloud, started["executionArn"])
    assert described["status"] == "FAILED"
    assert described["error"] == "LowConfidence"
    assert "below 0.90" in described["cause"]

    events = sfn.get_execution_history(executionArn=started["executionArn"])["events"]
    failures = [
        e["lambdaFunctionFailedEventDetails"]
        if "lambdaFunctionFailedEventDetails" in e
        else e["taskFailedEventDetails"]
        for e in events
        if e["type"] in {"TaskFailed", "LambdaFunctionFailed"}
    ]
    assert [f["error"] for f in failures] == ["LowConfidence", "LowConfidence"]  # 1 retry
    [failed] = [e for e in events if e["type"] == "ExecutionFailed"]
    assert failed["executionFailedEventDetails"]["error"] == "LowConfidence"


def test_unnamed_executions_get_unique_names(local_cloud: RunningCloud, state_machine: str) -> None:
    sfn = local_cloud.client("stepfunctions")
    arns = {sfn.start_execution(stateMachineArn=state_machine)["executionArn"] for _ in range(3)}
    assert len(arns) == 3
    for arn in arns:
        finish(local_cloud, arn)


def test_terraform_reads_round_trip(local_cloud: RunningCloud, state_machine: str) -> None:
    """What aws_sfn_state_machine reads back after create: versions, revision, configs."""
    sfn = local_cloud.client("stepfunctions")
    assert (
        sfn.list_state_machine_versions(stateMachineArn=state_machine)["stateMachineVersions"] == []
    )
    described = sfn.describe_state_machine(stateMachineArn=state_machine)
    assert described["revisionId"]
    assert described["tracingConfiguration"] == {"enabled": False}
    sfn.update_state_machine(stateMachineArn=state_machine, tracingConfiguration={"enabled": True})
    updated = sfn.describe_state_machine(stateMachineArn=state_machine)
    assert updated["revisionId"] != described["revisionId"]
    assert updated["tracingConfiguration"] == {"enabled": True}


def test_create_rejects_an_invalid_definition(local_cloud: RunningCloud) -> None:
    sfn = local_cloud.client("stepfunctions")
    bad = json.dumps({"StartAt": "Nowhere", "States": {"A": {"Type": "Succeed"}}})
    with pytest.raises(sfn.exceptions.InvalidDefinition, match="MISSING_TRANSITION_TARGET"):
        sfn.create_state_machine(name="invalid", definition=bad, roleArn=SFN_ROLE)
