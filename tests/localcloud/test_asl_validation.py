"""Step Functions definition checks: the pure validator and ValidateStateMachineDefinition."""

from __future__ import annotations

import json
from typing import Any

import pytest

from localcloud.asl_validation import validate_definition
from localcloud.testing import RunningCloud

GOOD: dict[str, Any] = {
    "StartAt": "Work",
    "States": {
        "Work": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 2}],
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Failed"}],
            "Next": "Decide",
        },
        "Decide": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.ok", "BooleanEquals": True, "Next": "Done"}],
            "Default": "Failed",
        },
        "Done": {"Type": "Succeed"},
        "Failed": {"Type": "Fail", "ErrorPath": "$.Error", "CausePath": "$.Cause"},
    },
}


def broken(**changes: Any) -> str:
    definition = json.loads(json.dumps(GOOD))
    for path, value in changes.items():
        *parents, leaf = path.split("__")
        node = definition
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if value is None:
            del node[leaf]
        else:
            node[leaf] = value
    return json.dumps(definition)


def codes(definition: str) -> list[tuple[str, str]]:
    return [(d.code, d.location) for d in validate_definition(definition)]


def test_good_definition_is_valid() -> None:
    assert validate_definition(json.dumps(GOOD)) == []


@pytest.mark.parametrize(
    ("definition", "expected"),
    [
        (broken(StartAt="Nowhere"), ("MISSING_TRANSITION_TARGET", "/StartAt")),
        (broken(States__Work__Next="Nowhere"), ("MISSING_TRANSITION_TARGET", "/States/Work/Next")),
        (
            broken(States__Decide__Default="Nowhere"),
            ("MISSING_TRANSITION_TARGET", "/States/Decide/Default"),
        ),
        (
            broken(States__Work__Catch=[{"ErrorEquals": ["X"], "Next": "Nowhere"}]),
            ("MISSING_TRANSITION_TARGET", "/States/Work/Catch/0/Next"),
        ),
        (
            broken(States__Work__Resource=None),
            ("SCHEMA_VALIDATION_FAILED", "/States/Work/Resource"),
        ),
        (broken(States__Work__Type="Job"), ("SCHEMA_VALIDATION_FAILED", "/States/Work/Type")),
        (broken(States__Work__Next=None), ("SCHEMA_VALIDATION_FAILED", "/States/Work")),
        (broken(States__Done__Next="Failed"), ("SCHEMA_VALIDATION_FAILED", "/States/Done")),
        (broken(StartAt=None), ("SCHEMA_VALIDATION_FAILED", "/StartAt")),
        (
            broken(States__Orphan={"Type": "Succeed"}),
            ("MISSING_TRANSITION_TARGET", "/States/Orphan"),
        ),
    ],
)
def test_broken_definitions_name_the_problem_and_where(
    definition: str, expected: tuple[str, str]
) -> None:
    assert expected in codes(definition)


def test_invalid_json_is_reported_not_raised() -> None:
    [diagnostic] = validate_definition("{not json")
    assert diagnostic.code == "INVALID_JSON_DESCRIPTION"


def test_nested_parallel_branches_are_checked() -> None:
    definition = {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "End": True,
                "Branches": [{"StartAt": "Missing", "States": {"A": {"Type": "Succeed"}}}],
            },
        },
    }
    assert ("MISSING_TRANSITION_TARGET", "/States/P/Branches/0/StartAt") in codes(
        json.dumps(definition)
    )


@pytest.mark.e2e
def test_validate_state_machine_definition_api(local_cloud: RunningCloud) -> None:
    sfn = local_cloud.client("stepfunctions")

    ok = sfn.validate_state_machine_definition(definition=json.dumps(GOOD), type="STANDARD")
    assert (ok["result"], ok["diagnostics"], ok["truncated"]) == ("OK", [], False)

    failed = sfn.validate_state_machine_definition(definition=broken(StartAt="Nowhere"))
    assert failed["result"] == "FAIL"
    assert failed["diagnostics"][0] == {
        "severity": "ERROR",
        "code": "MISSING_TRANSITION_TARGET",
        "message": "Missing 'Next' target: Nowhere",
        "location": "/StartAt",
    }

    not_json = sfn.validate_state_machine_definition(definition="{")
    assert not_json["result"] == "FAIL"
    assert not_json["diagnostics"][0]["code"] == "INVALID_JSON_DESCRIPTION"
