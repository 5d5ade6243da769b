"""The workflow's ASL template: rendered like templatefile(), every path ends somewhere named."""

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
SAMPLE_ARNS = {
    "serialize_image_data_arn": "arn:aws:lambda:us-east-1:123456789012:function:t-serialize",
    "classify_image_arn": "arn:aws:lambda:us-east-1:123456789012:function:t-classify",
    "filter_inferences_arn": "arn:aws:lambda:us-east-1:123456789012:function:t-filter",
}
LAMBDA_TRANSIENT = {
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
}
# The list; functions/common/errors.py, when present, adds whatever else is raised.
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
pytestmark = pytest.mark.terraform

PLACEHOLDER = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def render(template: str, variables: dict[str, str]) -> str:
    """templatefile() for a template that uses only ${name} placeholders."""
    missing = set(PLACEHOLDER.findall(template)) - set(variables)
    assert not missing, f"placeholders without a value: {sorted(missing)}"
    rendered = PLACEHOLDER.sub(lambda match: variables[match.group(1)], template)
    return rendered.replace("$${", "${")


def raised_errors() -> set[str]:
    if not ERRORS_MODULE.is_file():
        return NAMED_ERRORS
    tree = ast.parse(ERRORS_MODULE.read_text())
    classes = {node.name for node in tree.body if isinstance(node, ast.ClassDef)}
    # FunctionError is the base class; Lambda reports the concrete class name.
    return NAMED_ERRORS | (classes - {"FunctionError"})


@pytest.fixture(scope="module")
def definition() -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(render(TEMPLATE.read_text(), SAMPLE_ARNS))
    return parsed


@pytest.fixture(scope="module")
def states(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = definition["States"]
    return result


def tasks(states: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {name: state for name, state in states.items() if state["Type"] == "Task"}


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


def test_template_is_json_with_exactly_the_module_placeholders() -> None:
    text = TEMPLATE.read_text()
    json.loads(text)  # readable and diffable on its own, before rendering
    placeholders = set(PLACEHOLDER.findall(text))
    assert placeholders == set(SAMPLE_ARNS)
    passed = set(re.findall(r"^\s+(\w+)\s*=\s*var\.", LOCALS.read_text(), flags=re.MULTILINE))
    assert placeholders <= passed, "locals.tf must pass every placeholder to templatefile()"


def test_rendered_definition_calls_the_functions_in_order(
    definition: dict[str, Any], states: dict[str, dict[str, Any]]
) -> None:
    order = []
    name = definition["StartAt"]
    while name is not None:
        order.append(name)
        name = states[name].get("Next")
    assert [states[n]["Parameters"]["FunctionName"] for n in order] == list(SAMPLE_ARNS.values())
    assert states[order[-1]].get("End") is True


def test_every_task_invokes_lambda_with_the_whole_input_and_keeps_the_payload(
    states: dict[str, dict[str, Any]],
) -> None:
    assert len(tasks(states)) == 3
    for name, task in tasks(states).items():
        assert task["Resource"] == "arn:aws:states:::lambda:invoke", name
        assert task["Parameters"]["Payload.$"] == "$", name
        assert task.get("OutputPath") == "$.Payload" or task.get("ResultSelector"), name


def test_every_task_retries_transient_lambda_errors_with_backoff(
    states: dict[str, dict[str, Any]],
) -> None:
    for name, task in tasks(states).items():
        assert task.get("Retry"), f"{name} has no Retry"
        retried = {error for retrier in task["Retry"] for error in retrier["ErrorEquals"]}
        assert retried >= LAMBDA_TRANSIENT, name
        assert "States.ALL" not in retried, f"{name} must not retry every error"
        for retrier in task["Retry"]:
            assert retrier["MaxAttempts"] >= 1 and retrier["BackoffRate"] > 1, name


def test_endpoint_unavailable_is_retried_and_no_other_named_error_is(
    states: dict[str, dict[str, Any]],
) -> None:
    classify = states["ClassifyImage"]
    retriers = [r for r in classify["Retry"] if "EndpointUnavailable" in r["ErrorEquals"]]
    assert retriers and retriers[0]["BackoffRate"] > 1 and retriers[0]["IntervalSeconds"] >= 1
    retried = {
        e for task in tasks(states).values() for r in task["Retry"] for e in r["ErrorEquals"]
    }
    assert retried & raised_errors() == {"EndpointUnavailable"}


def test_every_task_catches_everything_into_the_error_path(
    states: dict[str, dict[str, Any]],
) -> None:
    for name, task in tasks(states).items():
        assert task.get("Catch"), f"{name} has no Catch"
        assert "States.ALL" in task["Catch"][-1]["ErrorEquals"], f"{name} lets errors through"
        for catcher in task["Catch"]:
            assert catcher["ResultPath"] == "$.error", f"{name} must keep the input and the error"


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


def test_only_the_last_task_and_fail_states_end_an_execution(
    states: dict[str, dict[str, Any]],
) -> None:
    terminal = {n for n, s in states.items() if s.get("End") or s["Type"] in {"Fail", "Succeed"}}
    assert terminal == {"FilterInferences"} | {n for n, s in states.items() if s["Type"] == "Fail"}


def test_fail_states_keep_the_error_and_cause(states: dict[str, dict[str, Any]]) -> None:
    fails = [s for s in states.values() if s["Type"] == "Fail"]
    assert fails
    for fail in fails:
        assert fail["ErrorPath"] == "$.error.Error"
        assert fail["CausePath"] == "$.error.Cause"


@pytest.mark.parametrize("error", sorted(raised_errors() | LAMBDA_TRANSIENT | {"States.Timeout"}))
def test_every_error_from_every_task_ends_in_a_fail_state(
    error: str, states: dict[str, dict[str, Any]]
) -> None:
    for name, task in tasks(states).items():
        catcher = catcher_for(task, error)
        assert catcher is not None, f"{error} from {name} is not caught"
        assert states[catcher["Next"]]["Type"] == "Fail", f"{error} from {name} ends silently"


def test_threshold_confidence_not_met_fails_the_execution(
    states: dict[str, dict[str, Any]],
) -> None:
    catcher = catcher_for(states["FilterInferences"], "ThresholdConfidenceNotMet")
    assert catcher is not None
    assert states[catcher["Next"]]["Type"] == "Fail"


def test_render_replicates_templatefile_escapes() -> None:
    assert render("a $${literal} ${x}", {"x": "y"}) == "a ${literal} y"
    with pytest.raises(AssertionError):
        render("${missing}", {})
