"""The deployed per-image workflow as an Express machine (workflow_type = "EXPRESS"): make classify
KEY= runs it synchronously, and one event delivered twice records one answer.

The session's stack is STANDARD (infra/envs/local/terraform.tfvars) and the other e2e tests
follow its executions with DescribeExecution, so rather than replace its machine (a new type
forces a new machine), this module creates an EXPRESS machine from the deployed definition and
role, with its own log group, as the workflow module renders it for EXPRESS (TimeoutSeconds 300),
and deletes both when it ends.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from scripts.stack import ORIGINAL_TEST_KEY, REPO_ROOT, DeployedStack, new_version
from training.labels import CLASSES

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

DEADLINE_SECONDS = 180
EXPRESS_TIMEOUT_SECONDS = 300  # infra/modules/workflow/locals.tf, express_timeout_seconds


@pytest.fixture(scope="module")
def express_machine(deployed_stack: DeployedStack) -> Iterator[dict[str, str]]:
    sfn, logs = deployed_stack.client("stepfunctions"), deployed_stack.client("logs")
    deployed = sfn.describe_state_machine(stateMachineArn=deployed_stack.state_machine_arn)
    assert deployed["type"] == "STANDARD"
    definition = json.loads(deployed["definition"])
    definition["TimeoutSeconds"] = EXPRESS_TIMEOUT_SECONDS
    name = f"{deployed['name']}-express-{uuid.uuid4().hex[:6]}"
    group = f"/aws/vendedlogs/states/{name}"
    logs.create_log_group(logGroupName=group)
    group_arn = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["arn"]
    arn = sfn.create_state_machine(
        name=name,
        definition=json.dumps(definition),
        roleArn=deployed["roleArn"],
        type="EXPRESS",
        # Execution data included here only: the test reads each execution's output from it.
        loggingConfiguration={
            "level": "ALL",
            "includeExecutionData": True,
            "destinations": [{"cloudWatchLogsLogGroup": {"logGroupArn": group_arn}}],
        },
    )["stateMachineArn"]
    yield {"arn": arn, "group": group}
    sfn.delete_state_machine(stateMachineArn=arn)
    logs.delete_log_group(logGroupName=group)


def result_item(stack: DeployedStack, key: str, version: str) -> dict[str, Any]:
    table = str(stack.outputs["results_table_name"])
    item = stack.client("dynamodb").get_item(
        TableName=table, Key={"s3_key": {"S": key}, "version": {"S": version}}, ConsistentRead=True
    )
    found: dict[str, Any] = item.get("Item", {})
    return found


def execution_end(stack: DeployedStack, group: str, execution_arn: str) -> dict[str, Any]:
    """The execution's last record in the log group (its ExecutionSucceeded, ...Failed, ...)."""
    logs = stack.client("logs")
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        pages = logs.get_paginator("filter_log_events").paginate(logGroupName=group)
        records = [json.loads(e["message"]) for page in pages for e in page["events"]]
        for record in records:
            ended = record["type"] != "ExecutionStarted" and record["type"].startswith("Execution")
            if record["execution_arn"] == execution_arn and ended:
                end: dict[str, Any] = record
                return end
        if time.monotonic() > deadline:
            raise AssertionError(f"{execution_arn} did not end in {DEADLINE_SECONDS} s")
        time.sleep(0.5)


def test_make_classify_key_runs_the_express_workflow_synchronously(
    deployed_stack: DeployedStack, express_machine: dict[str, str]
) -> None:
    version = new_version(deployed_stack, ORIGINAL_TEST_KEY)  # no answer recorded for it yet
    # What `make classify KEY=` runs, with the Express machine given in place of the output.
    done = subprocess.run(
        [sys.executable, "-m", "scripts.classify", "--env", "local", "--key", ORIGINAL_TEST_KEY,
         "--state-machine-arn", express_machine["arn"], "--bucket", deployed_stack.bucket],
        cwd=REPO_ROOT,
        env=deployed_stack.env,
        capture_output=True,
        text=True,
        timeout=DEADLINE_SECONDS,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    labels = "|".join(CLASSES)
    assert re.fullmatch(
        rf"{re.escape(ORIGINAL_TEST_KEY)}: (classified|needs_review) ({labels}) "
        r"\(confidence 0\.\d+\)\n",
        out,
    ), out
    item = result_item(deployed_stack, ORIGINAL_TEST_KEY, version)
    assert item["status"]["S"] in {"classified", "needs_review"}
    assert f":express:{express_machine['arn'].rsplit(':', 1)[-1]}:" in item["execution_arn"]["S"]


def test_one_event_delivered_twice_records_one_answer(
    deployed_stack: DeployedStack, express_machine: dict[str, str]
) -> None:
    """EventBridge delivers at least once, and an Express execution runs at least once: the same
    Object Created event starting two executions must leave one item, written by one of them."""
    sfn = deployed_stack.client("stepfunctions")
    key = ORIGINAL_TEST_KEY
    version = new_version(deployed_stack, key)
    event = json.dumps(
        {"image_data": "", "s3_bucket": deployed_stack.bucket, "s3_key": key, "s3_version": version}
    )
    runs = [
        sfn.start_execution(stateMachineArn=express_machine["arn"], input=event)["executionArn"]
        for _ in range(2)
    ]
    assert len(set(runs)) == 2 and all(":express:" in arn for arn in runs)
    ends = {arn: execution_end(deployed_stack, express_machine["group"], arn) for arn in runs}
    assert {end["type"] for end in ends.values()} == {"ExecutionSucceeded"}, ends
    outputs = {arn: json.loads(end["details"]["output"]) for arn, end in ends.items()}
    writers = [arn for arn, output in outputs.items() if output["status"] != "duplicate"]
    assert len(writers) == 1, outputs  # the other one found the item: duplicate
    (writer,) = writers
    assert outputs[writer]["status"] in {"classified", "needs_review"}, outputs
    item = result_item(deployed_stack, key, version)
    assert item["execution_arn"]["S"] == writer
    assert item["status"]["S"] == outputs[writer]["status"]
    # Both ran the same image through the same endpoint: the duplicate carries the same answer.
    assert len({(o["label"], o["confidence"]) for o in outputs.values()}) == 1
