"""notebooks/image_classification.ipynb: committed clean, and run top to bottom with nbclient
against the session's deployed local stack (tests/conftest.py deployed_stack).

The stack is shared with tests/e2e and tests/reliability, so the run leaves it as it found it:
everything the notebook uploads is under a prefix of its own (test/notebook-<id>/, which a
listing of test/ with Delimiter="/" shows only as a common prefix), and afterwards the test
removes those objects, their results and batch manifests, deletes the model package the notebook
registered and its artifact, restores the promoted model and applies the stack's own plan again.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

from scripts.stack import DeployedStack, subset_images

REPO_ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = REPO_ROOT / "notebooks" / "image_classification.ipynb"
# A whole run: conversion, two applies, a one-epoch training job, the batch and the report.
CELL_TIMEOUT = 900
TFVARS = "model.auto.tfvars.json"
NOTEBOOK_TFVARS = "notebook-test.auto.tfvars.json"


def read_notebook() -> Any:
    return nbformat.read(NOTEBOOK, as_version=4)


def test_committed_notebook_has_no_outputs_and_no_execution_counts() -> None:
    notebook = read_notebook()
    nbformat.validate(notebook)
    dirty = [
        index
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert dirty == [], f"cells {dirty} keep outputs or counts: clear them before committing"


def test_every_code_cell_has_a_sentence_above_it() -> None:
    cells = read_notebook().cells
    bare = [
        index
        for index, cell in enumerate(cells)
        if cell.cell_type == "code"
        and (index == 0 or cells[index - 1].cell_type != "markdown" or not cells[index - 1].source)
    ]
    assert bare == [], f"code cells {bare} have no prose cell saying what they do and why"


def test_the_environment_is_named_in_one_cell() -> None:
    sources = [cell.source for cell in read_notebook().cells if cell.cell_type == "code"]
    naming = [source for source in sources if 'ENV = "local"' in source]
    assert len(naming) == 1
    assert all("nb.session(" not in source for source in sources if source not in naming)


def _delete_versions(stack: DeployedStack, prefix: str) -> None:
    s3 = stack.client("s3")
    for page in s3.get_paginator("list_object_versions").paginate(
        Bucket=stack.bucket, Prefix=prefix
    ):
        doomed = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        if doomed:
            s3.delete_objects(Bucket=stack.bucket, Delete={"Objects": doomed, "Quiet": True})


def _results_under(stack: DeployedStack, prefix: str) -> list[dict[str, Any]]:
    dynamodb = stack.client("dynamodb")
    items: list[dict[str, Any]] = []
    for page in dynamodb.get_paginator("scan").paginate(
        TableName=stack.outputs["results_table_name"],
        FilterExpression="begins_with(s3_key, :p)",
        ExpressionAttributeValues={":p": {"S": prefix}},
    ):
        items.extend(page["Items"])
    return items


def _batch_runs_of(stack: DeployedStack, prefix: str) -> list[str]:
    """Map run ids of the batch executions the notebook started over its prefix."""
    sfn = stack.client("stepfunctions")
    readable = prefix.replace("/", "-").strip("-")
    runs = []
    for page in sfn.get_paginator("list_executions").paginate(
        stateMachineArn=stack.outputs["batch_state_machine_arn"]
    ):
        for execution in page["executions"]:
            if execution["name"].startswith(readable):
                for run in sfn.list_map_runs(executionArn=execution["executionArn"])["mapRuns"]:
                    runs.append(run["mapRunArn"].rsplit(":", 1)[1])
    return runs


@pytest.fixture
def notebook_run(
    deployed_stack: DeployedStack, tmp_path: Path, shared_data: Path
) -> Iterator[tuple[dict[str, str], str]]:
    """The kernel's environment for a run on the shared stack, and the clean-up after it."""
    stack = deployed_stack
    prefix = f"test/notebook-{uuid.uuid4().hex[:8]}/"
    tfvars = stack.root / TFVARS
    promoted = tfvars.read_text(encoding="utf-8")
    env = {
        **stack.env,
        # The kernel imports the checkout under test, and drives the stack's copy of the roots.
        "PYTHONPATH": str(REPO_ROOT),
        "NOTEBOOK_REPO": str(stack.repo),
        "NOTEBOOK_WORK_DIR": str(tmp_path / "work"),
        # The stack's subset of the shared images (the same files the stack was trained on).
        "NOTEBOOK_DATA": str(subset_images(shared_data, tmp_path / "images")),
        "NOTEBOOK_PREFIX": prefix,
        # One epoch: the walk-through is under test, not the model (the gate is open for it).
        "NOTEBOOK_EPOCHS": "1",
        "NOTEBOOK_MIN_ACCURACY": "0",
    }
    # The stack's own -var values (threshold), so that the notebook's plans change only the
    # model. A *.auto.tfvars.json file, not TF_VAR_ variables: Terraform reads environment
    # variables first and terraform.tfvars after them, which would win; auto files come after
    # terraform.tfvars, and the -var of the stack's own plans still come last
    # (developer.hashicorp.com/terraform/language/values/variables#variable-definition-precedence).
    variables = stack.root / NOTEBOOK_TFVARS
    variables.write_text(json.dumps(stack.variables, indent=2) + "\n", encoding="utf-8")
    try:
        yield env, prefix
    finally:
        group = str(stack.outputs["model_package_group_name"])
        sagemaker = stack.client("sagemaker")
        for package in sagemaker.list_model_packages(ModelPackageGroupName=group)[
            "ModelPackageSummaryList"
        ]:
            arn = package["ModelPackageArn"]
            if arn != stack.model_package_arn:
                described = sagemaker.describe_model_package(ModelPackageName=arn)
                url = described["InferenceSpecification"]["Containers"][0]["ModelDataUrl"]
                sagemaker.delete_model_package(ModelPackageName=arn)
                job_folder = url.removeprefix(f"s3://{stack.bucket}/").rsplit("/output/", 1)[0]
                _delete_versions(stack, job_folder + "/")
        for run in _batch_runs_of(stack, prefix):
            _delete_versions(stack, f"{stack.outputs['batch_results_prefix'].rstrip('/')}/{run}/")
        _delete_versions(stack, prefix)
        dynamodb = stack.client("dynamodb")
        for item in _results_under(stack, prefix):
            dynamodb.delete_item(
                TableName=stack.outputs["results_table_name"],
                Key={"s3_key": item["s3_key"], "version": item["version"]},
            )
        variables.unlink()
        if tfvars.read_text(encoding="utf-8") != promoted:
            tfvars.write_text(promoted, encoding="utf-8")
            stack.apply()


@pytest.mark.e2e
@pytest.mark.terraform
@pytest.mark.slow
def test_notebook_runs_top_to_bottom_against_the_deployed_stack(
    deployed_stack: DeployedStack, notebook_run: tuple[dict[str, str], str], tmp_path: Path
) -> None:
    stack, (env, prefix) = deployed_stack, notebook_run
    notebook = read_notebook()
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    began = time.monotonic()
    client.execute(env=env)  # CellExecutionError (with the cell's traceback) on a failure
    print(f"\nthe notebook ran in {time.monotonic() - began:.0f} s; by cell:")
    for cell in notebook.cells:
        timing = cell.metadata.get("execution", {})
        if "shell.execute_reply" in timing:
            seconds = datetime.fromisoformat(
                timing["shell.execute_reply"]
            ) - datetime.fromisoformat(timing["iopub.execute_input"])
            print(f"  {seconds.total_seconds():6.1f} s  {cell.source.splitlines()[0]}")

    # The endpoint serves the model the notebook trained, gated and promoted.
    promoted = json.loads((stack.root / TFVARS).read_text(encoding="utf-8"))
    assert promoted["model_package_arn"] != stack.model_package_arn
    endpoint = stack.client("sagemaker").describe_endpoint(EndpointName=stack.endpoint_name)
    assert endpoint["EndpointStatus"] == "InService"
    # And only the model changed: the stack's threshold held through the notebook's plans.
    filter_function = stack.client("lambda").get_function_configuration(
        FunctionName=stack.function_names["filter_inferences"]
    )
    assert filter_function["Environment"]["Variables"]["THRESHOLD"] == stack.variables["threshold"]
    # Every test image under its prefix has its answer in the results table.
    keys = {item["s3_key"]["S"] for item in _results_under(stack, prefix)}
    expected = {
        f"{prefix}test/{image.name}" for image in (tmp_path / "images" / "test").glob("*/*.png")
    }
    assert keys == expected
    # The three monitoring figures are shown inline, as PNGs.
    shown = [
        cell.source
        for cell in notebook.cells
        if cell.cell_type == "code"
        and any("image/png" in output.get("data", {}) for output in cell.outputs)
    ]
    assert shown == ["monitor.confidence", "monitor.timeline", "monitor.hours"]
