"""The local root on the local cloud: no drift after apply, and variables reach the Lambdas."""

from __future__ import annotations

import pytest

from scripts.stack import BASE_THRESHOLD, DeployedStack, execute

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.terraform]


def test_a_second_plan_shows_no_drift(deployed_stack: DeployedStack) -> None:
    code, output = deployed_stack.plan_exit_code()
    assert code == 0, f"plan -detailed-exitcode exited {code}:\n{output[-4000:]}"


def test_a_threshold_applied_by_terraform_changes_what_the_workflow_lets_through(
    deployed_stack: DeployedStack,
) -> None:
    s3 = deployed_stack.client("s3")
    keys = [
        item["Key"]
        for item in s3.list_objects_v2(Bucket=deployed_stack.bucket, Prefix="test/", Delimiter="/")[
            "Contents"
        ]
    ]
    before = next(
        run
        for run in (execute(deployed_stack, key) for key in keys[:5])
        if run.status == "SUCCEEDED" and run.output["confidence"] < 0.999
    )
    key, confidence = before.output["s3_key"], before.output["confidence"]
    high = round((confidence + 1.0) / 2, 6)  # above this image's confidence, still valid
    function = deployed_stack.function_names["filter_inferences"]
    lambdas = deployed_stack.client("lambda")
    try:
        deployed_stack.apply(threshold=high)
        environment = lambdas.get_function_configuration(FunctionName=function)["Environment"]
        assert float(environment["Variables"]["THRESHOLD"]) == pytest.approx(high)
        after = execute(deployed_stack, key)
        # Unsure is not a fault: recorded as needs_review, and the execution succeeds.
        assert after.status == "SUCCEEDED", after.described
        assert after.output["status"] == "needs_review", after.output
        assert after.task_errors() == ["ThresholdConfidenceNotMet"]
        assert not after.of_type("FailStateEntered")
    finally:
        deployed_stack.apply()
    restored = execute(deployed_stack, key)
    assert restored.status == "SUCCEEDED", restored.described
    assert restored.output["confidence"] == pytest.approx(confidence)
    assert confidence >= BASE_THRESHOLD, key
