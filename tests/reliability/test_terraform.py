"""Terraform safety on the deployed local root: a new model rolls the endpoint; bad values fail."""

from __future__ import annotations

import json
from typing import Any

import pytest

from scripts.stack import ENV, DeployedStack

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.terraform]

MODEL = "module.stack.module.model_endpoint.aws_sagemaker_model.this[0]"
CONFIG = "module.stack.module.model_endpoint.aws_sagemaker_endpoint_configuration.this[0]"
ENDPOINT = "module.stack.module.model_endpoint.aws_sagemaker_endpoint.this[0]"
# The workflow records the model (name and artifact) with every answer, so it follows the model.
WORKFLOW = "module.stack.module.workflow.aws_sfn_state_machine.this"
# The batch machine runs the same states, which record the model with each answer.
BATCH = "module.stack.module.workflow.aws_sfn_state_machine.batch"
# The hosting role reads only the deployed artifact's folder, so its policy follows the model.
HOSTING = "module.stack.module.model_endpoint.aws_iam_role_policy.this"


@pytest.fixture(scope="module")
def new_model_plan(deployed_stack: DeployedStack) -> dict[str, dict[str, Any]]:
    """The managed changes of a saved plan that promotes another model package (not applied)."""
    other = deployed_stack.model_data_url.replace("/output/model.tar.gz", "-v2/output/model.tar.gz")
    version = int(deployed_stack.model_package_arn.rsplit("/", 1)[1])
    package = f"{deployed_stack.model_package_arn.rsplit('/', 1)[0]}/{version + 1}"
    assert other != deployed_stack.model_data_url
    deployed_stack.terraform(
        "plan",
        "-no-color",
        *deployed_stack.var_args(model_package_arn=package, model_data_url=other),
    )
    plan_file = deployed_stack.repo / "build" / "terraform" / f"{ENV}.tfplan"
    try:
        shown = deployed_stack.terraform("show", "-json", str(plan_file))
    finally:
        plan_file.unlink(missing_ok=True)  # never leave a plan someone could apply
    raw = json.loads(shown.stdout)
    return {
        change["address"]: change
        for change in raw["resource_changes"]
        if change["mode"] == "managed"
    }


def actions(plan: dict[str, dict[str, Any]], address: str) -> list[str]:
    return list(plan[address]["change"]["actions"])


def test_a_new_model_replaces_model_and_config_create_before_destroy(
    new_model_plan: dict[str, dict[str, Any]],
) -> None:
    # ["create", "delete"] is Terraform's create-before-destroy replacement; a plain
    # replacement would be ["delete", "create"] and take the endpoint's config away first.
    assert actions(new_model_plan, MODEL) == ["create", "delete"]
    assert actions(new_model_plan, CONFIG) == ["create", "delete"]
    assert new_model_plan[MODEL]["action_reason"] == "replace_because_cannot_update"


def test_a_new_model_updates_the_endpoint_in_place(
    new_model_plan: dict[str, dict[str, Any]],
) -> None:
    assert actions(new_model_plan, ENDPOINT) == ["update"]
    change = new_model_plan[ENDPOINT]["change"]
    assert change["before"]["name"] == change["after"]["name"], "the endpoint keeps its name"


def test_nothing_else_changes_with_the_model(new_model_plan: dict[str, dict[str, Any]]) -> None:
    changed = {
        address
        for address, change in new_model_plan.items()
        if change["change"]["actions"] != ["no-op"]
    }
    assert changed == {MODEL, CONFIG, ENDPOINT, WORKFLOW, BATCH, HOSTING}, changed
    assert actions(new_model_plan, HOSTING) == ["update"]
    for machine in (WORKFLOW, BATCH):
        assert actions(new_model_plan, machine) == ["update"], "updated in place, never replaced"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("threshold", "1.5", "threshold must be in (0, 1]."),
        # Checked once, by the module that owns the value (modules/model_endpoint).
        ("data_capture_sampling_percentage", "101", "must be a whole number from 0 to 100."),
    ],
)
def test_a_bad_variable_fails_at_plan_time_with_its_validation_message(
    deployed_stack: DeployedStack, variable: str, value: str, message: str
) -> None:
    done = deployed_stack.terraform(
        "plan", "-no-color", *deployed_stack.var_args(**{variable: value}), check=False
    )
    output = " ".join((done.stdout + done.stderr).split())  # Terraform wraps long messages
    assert done.returncode == 1, output[-3000:]
    assert "Invalid value for variable" in output, output[-3000:]
    assert message in output, output[-3000:]
    # Terraform saves even an errored plan; what matters is that it can never be applied.
    refused = deployed_stack.terraform("apply", "-no-color", check=False)
    assert refused.returncode != 0, refused.stdout[-2000:]
