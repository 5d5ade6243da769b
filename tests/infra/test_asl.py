"""The workflow's ASL template: rendered like templatefile(), every path ends somewhere named.

The contract (issue 12): every outcome is one conditional write to the results table; an unsure
image is recorded as needs_review, queued once, and the execution succeeds; a fault is recorded
as failed and fails the execution; the base64 image never reaches a later state that does not
need it.
"""

from __future__ import annotations

import ast
import json
import re
from typing import Any

import pytest

from scripts.offline_plan import INFRA, REPO_ROOT

TEMPLATE = INFRA / "modules" / "workflow" / "templates" / "classify.asl.json"
LOCALS = INFRA / "modules" / "workflow" / "locals.tf"
ERRORS_MODULE = REPO_ROOT / "functions" / "common" / "errors.py"
SAMPLE_VALUES = {
    "serialize_image_data_arn": "arn:aws:lambda:us-east-1:123456789012:function:t-serialize",
    "classify_image_arn": "arn:aws:lambda:us-east-1:123456789012:function:t-classify",
    "filter_inferences_arn": "arn:aws:lambda:us-east-1:123456789012:function:t-filter",
    "table_name": "t-results",
    "review_queue_url": "https://sqs.us-east-1.amazonaws.com/123456789012/t-review",
    "threshold": "0.93",
    "model_name": "t-model",
    "model_data": "s3://t/models/model.tar.gz",
}
FUNCTIONS = ["serialize_image_data_arn", "classify_image_arn", "filter_inferences_arn"]
LAMBDA_TRANSIENT = {
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
}
# The list; functions/common/errors.py adds whatever else is raised.
NAMED_ERRORS = {
    "InvalidEvent",
    "ImageNotFound",
    "InvalidImage",
    "ImageTooLarge",
    "EndpointUnavailable",
    "ThresholdConfidenceNotMet",
    "ConfigurationError",
    "InvalidModelResponse",
}
# Named errors a retry can cure: the store or the endpoint was briefly unavailable.
RETRIED_NAMED = {"EndpointUnavailable", "StorageUnavailable"}
RECORD_STATES = {"RecordClassified", "RecordNeedsReview", "RecordFailure"}
pytestmark = pytest.mark.terraform

PLACEHOLDER = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def render(template: str, variables: dict[str, str]) -> str:
    """templatefile() for a template that uses only ${name} placeholders."""
    missing = set(PLACEHOLDER.findall(template)) - set(variables)
    assert not missing, f"placeholders without a value: {sorted(missing)}"
    rendered = PLACEHOLDER.sub(lambda match: variables[match.group(1)], template)
    return rendered.replace("$${", "${")


def raised_errors() -> set[str]:
    tree = ast.parse(ERRORS_MODULE.read_text())
    classes = {node.name for node in tree.body if isinstance(node, ast.ClassDef)}
    # FunctionError is the base class; Lambda reports the concrete class name.
    return NAMED_ERRORS | (classes - {"FunctionError"})


@pytest.fixture(scope="module")
def definition() -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(render(TEMPLATE.read_text(), SAMPLE_VALUES))
    return parsed


@pytest.fixture(scope="module")
def states(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = definition["States"]
    return result


def tasks(states: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {name: state for name, state in states.items() if state["Type"] == "Task"}


def lambda_tasks(states: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        name: state
        for name, state in tasks(states).items()
        if state["Resource"] == "arn:aws:states:::lambda:invoke"
    }


def transitions(state: dict[str, Any]) -> list[str]:
    targets = [state["Next"]] if "Next" in state else []
    targets += [catcher["Next"] for catcher in state.get("Catch", [])]
    targets += [choice["Next"] for choice in state.get("Choices", [])]
    if "Default" in state:
        targets.append(state["Default"])
    return targets


def catcher_for(state: dict[str, Any], error: str) -> dict[str, Any] | None:
    """The first Catch entry that handles the error, as Step Functions picks it."""
    for catcher in state.get("Catch", []):
        if error in catcher["ErrorEquals"] or "States.ALL" in catcher["ErrorEquals"]:
            result: dict[str, Any] = catcher
            return result
    return None


def happy_path(definition: dict[str, Any], states: dict[str, dict[str, Any]]) -> list[str]:
    order, name = [], definition["StartAt"]
    while name is not None:
        order.append(name)
        state = states[name]
        name = state["Choices"][0]["Next"] if state["Type"] == "Choice" else state.get("Next")
    return order


def paths_in(value: Any) -> list[str]:
    """Every JSONPath a state's Parameters or ResultSelector reads."""
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in ([v] if k.endswith(".$") else paths_in(v))]
    if isinstance(value, list):
        return [p for v in value for p in paths_in(v)]
    return []


def test_template_is_json_with_exactly_the_module_placeholders() -> None:
    text = TEMPLATE.read_text()
    json.loads(text)  # readable and diffable on its own, before rendering
    placeholders = set(PLACEHOLDER.findall(text))
    assert placeholders == set(SAMPLE_VALUES)
    passed = set(re.findall(r"^\s+(\w+)\s*=", LOCALS.read_text(), flags=re.MULTILINE))
    assert placeholders <= passed, "locals.tf must pass every placeholder to templatefile()"


def test_the_happy_path_calls_the_functions_in_order_then_records(
    definition: dict[str, Any], states: dict[str, dict[str, Any]]
) -> None:
    order = happy_path(definition, states)
    called = [states[n]["Parameters"]["FunctionName"] for n in order if n in lambda_tasks(states)]
    assert called == [SAMPLE_VALUES[f] for f in FUNCTIONS]
    assert order[-2:] == ["RecordClassified", "Classified"]
    assert states["Classified"]["Parameters"]["status"] == "classified"


def test_every_task_has_a_timeout_and_so_does_the_machine(
    definition: dict[str, Any], states: dict[str, dict[str, Any]]
) -> None:
    for name, task in tasks(states).items():
        assert task.get("TimeoutSeconds", 0) > 0, f"{name} has no TimeoutSeconds"
    for name, task in lambda_tasks(states).items():
        # Above the functions' 60 s timeout (infra/modules/functions function_settings).
        assert task["TimeoutSeconds"] > 60, name
    longest_task = sum(
        t["TimeoutSeconds"] * (1 + max((r["MaxAttempts"] for r in t.get("Retry", [])), default=0))
        for t in lambda_tasks(states).values()
    )
    assert definition["TimeoutSeconds"] >= longest_task


def test_every_task_has_retry_and_catch_to_a_state_that_exists(
    states: dict[str, dict[str, Any]],
) -> None:
    for name, task in tasks(states).items():
        assert task.get("Retry"), f"{name} has no Retry"
        assert task.get("Catch"), f"{name} has no Catch: an error there ends the run unrecorded"
        assert any("States.ALL" in c["ErrorEquals"] for c in task["Catch"]), name
        for catcher in task["Catch"]:
            assert catcher["Next"] in states, f"{name} catches into a missing {catcher['Next']}"


def test_a_review_that_cannot_be_queued_is_not_left_waiting(
    states: dict[str, dict[str, Any]],
) -> None:
    catcher = catcher_for(states["SendForReview"], "SQS.AmazonSQSException")
    assert catcher is not None and catcher["ResultPath"] == "$.step"
    undo = states[catcher["Next"]]
    assert undo["Resource"] == "arn:aws:states:::dynamodb:updateItem"
    parameters = undo["Parameters"]
    assert parameters["Key"] == {"s3_key": {"S.$": "$.s3_key"}, "version": {"S.$": "$.s3_version"}}
    # Only this execution's own needs_review item becomes failed, so a re-run classifies again.
    assert parameters["ConditionExpression"] == (
        "#status = :needs_review AND execution_arn = :execution"
    )
    assert parameters["ExpressionAttributeValues"][":failed"] == {"S": "failed"}
    assert parameters["ExpressionAttributeValues"][":execution"] == {"S.$": "$$.Execution.Id"}
    assert undo["Next"] == "ClassificationFailed"
    assert undo["Catch"][-1]["Next"] == "ClassificationFailed"


def test_every_retry_backs_off_with_jitter_and_none_retries_everything(
    states: dict[str, dict[str, Any]],
) -> None:
    for name, task in tasks(states).items():
        assert task.get("Retry"), f"{name} has no Retry"
        retried = {error for retrier in task["Retry"] for error in retrier["ErrorEquals"]}
        assert "States.ALL" not in retried, f"{name} must not retry every error"
        for retrier in task["Retry"]:
            assert retrier["MaxAttempts"] >= 1 and retrier["BackoffRate"] > 1, name
            assert retrier.get("JitterStrategy") == "FULL", f"{name} retries in lockstep"
    for name, task in lambda_tasks(states).items():
        retried = {error for retrier in task["Retry"] for error in retrier["ErrorEquals"]}
        assert retried >= LAMBDA_TRANSIENT, name


def test_only_unavailable_store_or_endpoint_is_retried_among_named_errors(
    states: dict[str, dict[str, Any]],
) -> None:
    retried = {
        e for task in tasks(states).values() for r in task["Retry"] for e in r["ErrorEquals"]
    }
    assert retried & raised_errors() == RETRIED_NAMED
    serialize = {e for r in states["SerializeImageData"]["Retry"] for e in r["ErrorEquals"]}
    classify = {e for r in states["ClassifyImage"]["Retry"] for e in r["ErrorEquals"]}
    assert "StorageUnavailable" in serialize and "EndpointUnavailable" in classify


def test_every_transition_target_exists_and_every_state_is_reachable(
    definition: dict[str, Any], states: dict[str, dict[str, Any]]
) -> None:
    for name, state in states.items():
        for target in transitions(state):
            assert target in states, f"{name} -> {target}: no such state"
    reachable, frontier = set(), [definition["StartAt"]]
    while frontier:
        name = frontier.pop()
        if name not in reachable:
            reachable.add(name)
            frontier.extend(transitions(states[name]))
    assert reachable == set(states), f"unreachable: {set(states) - reachable}"


@pytest.mark.parametrize("error", sorted(raised_errors() | LAMBDA_TRANSIENT | {"States.Timeout"}))
def test_every_fault_from_a_function_is_recorded_then_fails_the_execution(
    error: str, states: dict[str, dict[str, Any]]
) -> None:
    for name, task in lambda_tasks(states).items():
        catcher = catcher_for(task, error)
        assert catcher is not None, f"{error} from {name} is not caught"
        if error == "ThresholdConfidenceNotMet" and name == "FilterInferences":
            continue
        assert catcher["Next"] == "RecordFailure", f"{error} from {name} is not recorded"
        # The error replaces $.step (the image, if it was there): nothing large goes on.
        assert catcher["ResultPath"] == "$.step", name
    assert states["RecordFailure"]["Next"] == "ClassificationFailed"
    assert states["RecordFailure"]["Catch"][-1]["Next"] == "ClassificationFailed"
    fail = states["ClassificationFailed"]
    assert fail["Type"] == "Fail"
    assert (fail["ErrorPath"], fail["CausePath"]) == ("$.step.Error", "$.step.Cause")


def test_an_unsure_image_is_recorded_queued_once_and_succeeds(
    states: dict[str, dict[str, Any]],
) -> None:
    catcher = catcher_for(states["FilterInferences"], "ThresholdConfidenceNotMet")
    assert catcher is not None and catcher["Next"] == "RecordNeedsReview"
    assert catcher["ResultPath"] != "$.step", "the prediction in $.step must survive the catch"
    record = states["RecordNeedsReview"]
    assert record["Parameters"]["Item"]["status"] == {"S": "needs_review"}
    assert record["Next"] == "SendForReview"
    send = states["SendForReview"]
    assert send["Resource"] == "arn:aws:states:::sqs:sendMessage"
    assert send["Parameters"]["QueueUrl"] == SAMPLE_VALUES["review_queue_url"]
    body = send["Parameters"]["MessageBody"]
    for field in ("s3_key", "version", "inferences", "threshold", "model_name"):
        assert field in body or f"{field}.$" in body, f"the review message lacks {field}"
    done = states[send["Next"]]
    assert done.get("End") is True and done["Parameters"]["status"] == "needs_review"


def test_every_record_is_one_conditional_put_per_object_version(
    states: dict[str, dict[str, Any]],
) -> None:
    for name in RECORD_STATES:
        state = states[name]
        assert state["Resource"] == "arn:aws:states:::dynamodb:putItem", name
        parameters = state["Parameters"]
        assert parameters["TableName"] == SAMPLE_VALUES["table_name"]
        item = parameters["Item"]
        assert item["s3_key"] == {"S.$": "$.s3_key"} and item["version"] == {"S.$": "$.s3_version"}
        for field in ("status", "threshold", "model_name", "model_data", "execution_arn"):
            assert field in item, f"{name} does not record {field}"
        assert {"started_at", "finished_at"} <= set(item)
        condition = parameters["ConditionExpression"]
        assert condition == "attribute_not_exists(s3_key) OR #status = :failed", name
        assert state["ResultPath"] is None, f"{name} must keep its input"
    for name in ("RecordClassified", "RecordNeedsReview"):
        duplicate = catcher_for(states[name], "DynamoDB.ConditionalCheckFailedException")
        assert duplicate is not None and duplicate["Next"] == "AlreadyRecorded", name
    assert set(states["RecordFailure"]["Parameters"]["Item"]) >= {"error", "cause"}


def test_the_image_never_reaches_a_state_that_does_not_need_it(
    states: dict[str, dict[str, Any]],
) -> None:
    readers = {
        name
        for name, state in states.items()
        if any("image_data" in p for p in paths_in(state.get("Parameters", {})))
    }
    assert readers == {"ClassifyImage"}
    # ClassifyImage's result replaces $.step, where SerializeImageData put the image.
    assert states["SerializeImageData"]["ResultPath"] == "$.step"
    assert states["ClassifyImage"]["ResultPath"] == "$.step"
    assert "image_data" not in json.dumps(states["ClassifyImage"]["ResultSelector"])
    for name in RECORD_STATES | {"SendForReview"}:
        assert "image_data" not in json.dumps(states[name]["Parameters"]), name


def test_input_without_bucket_key_or_version_fails_before_any_work(
    definition: dict[str, Any], states: dict[str, dict[str, Any]]
) -> None:
    check = states[definition["StartAt"]]
    assert check["Type"] == "Choice"
    checked = {c["Variable"] for c in check["Choices"][0]["And"]}
    assert checked == {"$.s3_bucket", "$.s3_key", "$.s3_version"}
    assert states[check["Default"]]["Type"] == "Fail"


def test_render_replicates_templatefile_escapes() -> None:
    assert render("a $${literal} ${x}", {"x": "y"}) == "a ${literal} y"
    with pytest.raises(AssertionError):
        render("${missing}", {})
