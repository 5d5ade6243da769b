"""What the local cloud hands moto's ASL grammar: AWS's meaning, in words the grammar reads."""

from __future__ import annotations

import json

from localcloud.stepfunctions import interpreter_definition

MAP = {
    "StartAt": "Batch",
    "States": {
        "Batch": {
            "Type": "Map",
            "ToleratedFailurePercentage": 10,
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
                "StartAt": "P",
                "States": {"P": {"Type": "Pass", "Result": "EXPRESS", "End": True}},
            },
            "End": True,
        }
    },
}


def test_an_integer_percentage_and_express_children_become_what_the_grammar_takes() -> None:
    read = json.loads(interpreter_definition(json.dumps(MAP)))
    batch = read["States"]["Batch"]
    assert batch["ToleratedFailurePercentage"] == 10.0
    assert isinstance(batch["ToleratedFailurePercentage"], float)
    assert batch["ItemProcessor"]["ProcessorConfig"]["ExecutionType"] == "STANDARD"
    # Only the ProcessorConfig field changes: a value that happens to read EXPRESS stays.
    assert batch["ItemProcessor"]["States"]["P"]["Result"] == "EXPRESS"


def test_any_other_definition_is_passed_through_byte_for_byte() -> None:
    text = '{"StartAt": "P",  "States": {"P": {"Type": "Pass", "Result": "é", "End": true}}}'
    assert interpreter_definition(text) is text
    broken = '{"ToleratedFailurePercentage": '
    assert interpreter_definition(broken) == broken  # the parser reports it, not this step
