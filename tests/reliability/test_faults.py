"""Faults in the deployed workflow: endpoint throttling and outage, and a Lambda timeout."""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Iterator

import pytest

from common import aws
from localcloud.testing import zip_of
from scripts.stack import REPO_ROOT, DeployedStack, new_version
from tests.support.reliability_kit import finish, run_event

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TEMPLATE = REPO_ROOT / "infra" / "modules" / "workflow" / "templates" / "classify.asl.json"
# classifyImage's boto3 client makes SAGEMAKER_RUNTIME_MAX_ATTEMPTS attempts before the Lambda
# gives up with EndpointUnavailable; the workflow then retries that error as its ASL says.
CLIENT_ATTEMPTS = aws.SAGEMAKER_RUNTIME_MAX_ATTEMPTS
WORKFLOW_ATTEMPTS = 1 + next(
    retrier["MaxAttempts"]
    for retrier in json.loads(TEMPLATE.read_text(encoding="utf-8"))["States"]["ClassifyImage"][
        "Retry"
    ]
    if "EndpointUnavailable" in retrier["ErrorEquals"]
)
SLEEPER = """
import time

def lambda_handler(event, context):
    time.sleep(float(event.get("sleep", 5)))
    return event
"""


@pytest.fixture(scope="module")
def test_key(deployed_stack: DeployedStack) -> str:
    listed = deployed_stack.client("s3").list_objects_v2(
        Bucket=deployed_stack.bucket, Prefix="test/", Delimiter="/"
    )
    return str(sorted(item["Key"] for item in listed["Contents"])[0])


def _event(stack: DeployedStack, key: str) -> dict[str, str]:
    """The workflow's input on a new version of the object, so each run records its own item."""
    version = new_version(stack, key)
    return {"image_data": "", "s3_bucket": stack.bucket, "s3_key": key, "s3_version": version}


def invocations(stack: DeployedStack) -> float:
    """InvokeEndpoint calls the endpoint has counted (AWS/SageMaker Invocations, all time)."""
    now = datetime.datetime.now(datetime.UTC)
    answer = stack.client("cloudwatch").get_metric_statistics(
        Namespace="AWS/SageMaker",
        MetricName="Invocations",
        Dimensions=[
            {"Name": "EndpointName", "Value": stack.endpoint_name},
            {"Name": "VariantName", "Value": "AllTraffic"},
        ],
        StartTime=now - datetime.timedelta(days=1),
        EndTime=now + datetime.timedelta(hours=1),
        Period=86400,
        Statistics=["Sum"],
    )
    return float(sum(point["Sum"] for point in answer["Datapoints"]))


def test_endpoint_throttling_is_retried_with_backoff_then_succeeds(
    deployed_stack: DeployedStack, test_key: str
) -> None:
    # Two whole Lambda attempts' worth of throttles: the workflow must retry twice.
    deployed_stack.inject_fault("throttle", 2 * CLIENT_ATTEMPTS)
    try:
        run = run_event(deployed_stack, _event(deployed_stack, test_key))
    finally:
        deployed_stack.clear_faults()
    assert run.status == "SUCCEEDED", run.described
    assert run.task_errors() == ["EndpointUnavailable", "EndpointUnavailable"]
    assert len(run.of_type("TaskScheduled")) == 1 + 3 + 1 + 1, "serialize, classify x3, filter, put"
    # The backoff has full jitter (JitterStrategy FULL: each wait is random up to the
    # interval), so the waits are not asserted; tests/infra/test_asl.py checks the Retry.


def test_endpoint_down_ends_in_endpoint_unavailable_after_the_workflows_retries(
    deployed_stack: DeployedStack, test_key: str
) -> None:
    event = _event(deployed_stack, test_key)
    before = invocations(deployed_stack)
    deployed_stack.inject_fault("unavailable", 10 * WORKFLOW_ATTEMPTS * CLIENT_ATTEMPTS)
    try:
        run = run_event(deployed_stack, event, timeout=300)
    finally:
        deployed_stack.clear_faults()
    calls = invocations(deployed_stack) - before
    # The budget: client retries x workflow retries, at most 6 calls for one image.
    assert calls == CLIENT_ATTEMPTS * WORKFLOW_ATTEMPTS <= aws.INVOKE_ENDPOINT_BUDGET == 6, calls
    assert run.status == "FAILED", run.described
    assert run.described["error"] == "EndpointUnavailable"
    assert "unavailable" in run.described["cause"].lower(), run.described["cause"]
    assert run.task_errors() == ["EndpointUnavailable"] * WORKFLOW_ATTEMPTS
    assert run.of_type("FailStateEntered"), "the Catch path ends in ClassificationFailed"


@pytest.fixture
def slow_workflow(deployed_stack: DeployedStack) -> Iterator[tuple[str, str]]:
    """The real ASL with a 1-second function that sleeps in place of serializeImageData.

    Yields (state machine ARN, sleeper function name); both are deleted afterwards so the
    stack's destroy finds nothing it does not own.
    """
    suffix = uuid.uuid4().hex[:8]
    lambdas, sfn = deployed_stack.client("lambda"), deployed_stack.client("stepfunctions")
    real = lambdas.get_function_configuration(
        FunctionName=deployed_stack.function_names["serialize_image_data"]
    )
    name = f"rel-sleeper-{suffix}"
    sleeper = lambdas.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=real["Role"],
        Handler="handler.lambda_handler",
        Code={"ZipFile": zip_of({"handler.py": SLEEPER})},
        Timeout=1,
    )["FunctionArn"]
    # The deployed definition (rendered by Terraform), with the sleeper as its first function.
    deployed = sfn.describe_state_machine(stateMachineArn=deployed_stack.state_machine_arn)
    parsed = json.loads(deployed["definition"])
    parsed["States"]["SerializeImageData"]["Parameters"]["FunctionName"] = sleeper
    definition = json.dumps(parsed)
    role = deployed["roleArn"]
    machine = sfn.create_state_machine(
        name=f"rel-timeout-{suffix}", definition=definition, roleArn=role
    )["stateMachineArn"]
    try:
        yield machine, name
    finally:
        sfn.delete_state_machine(stateMachineArn=machine)
        lambdas.delete_function(FunctionName=name)


def test_a_lambda_timeout_is_caught_and_ends_the_execution_with_its_error(
    deployed_stack: DeployedStack, slow_workflow: tuple[str, str], test_key: str
) -> None:
    machine, _ = slow_workflow
    sfn = deployed_stack.client("stepfunctions")
    event = {**_event(deployed_stack, test_key), "sleep": 5}
    started = sfn.start_execution(
        stateMachineArn=machine, name=f"rel-{uuid.uuid4().hex[:12]}", input=json.dumps(event)
    )
    run = finish(deployed_stack, started["executionArn"], timeout=120)
    assert run.status == "FAILED", run.described
    assert run.described["error"] == "Sandbox.Timedout", run.described
    assert "timed out after 1.00 seconds" in run.described["cause"], run.described["cause"]
    assert run.task_errors() == ["Sandbox.Timedout"], "a timeout is not in the Retry list"
    assert run.of_type("FailStateEntered"), "the Catch path ends in ClassificationFailed"
    lambda_successes = [
        event
        for event in run.of_type("TaskSucceeded")
        if event["taskSucceededEventDetails"]["resourceType"] == "lambda"
    ]
    assert not lambda_successes, "no function got past the timeout"
    assert run.state_output("RecordFailure")["step"]["Error"] == "Sandbox.Timedout"


def test_the_timed_out_worker_does_not_poison_the_next_invocation(
    deployed_stack: DeployedStack, slow_workflow: tuple[str, str]
) -> None:
    _, name = slow_workflow
    lambdas = deployed_stack.client("lambda")
    slow = lambdas.invoke(FunctionName=name, Payload=json.dumps({"sleep": 3}).encode())
    assert slow.get("FunctionError") == "Unhandled"
    fast = lambdas.invoke(FunctionName=name, Payload=json.dumps({"sleep": 0}).encode())
    assert fast.get("FunctionError") is None, fast["Payload"].read()
    assert json.loads(fast["Payload"].read()) == {"sleep": 0}
