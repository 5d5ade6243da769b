"""RedriveExecution on the local cloud (stepfunctions_redrive): a failed or stopped Distributed
Map goes on where it stopped and runs only the children that did not succeed."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest

from localcloud.testing import RunningCloud

pytestmark = [pytest.mark.e2e]

ROLE = "arn:aws:iam::123456789012:role/localcloud-test-redrive"
DEADLINE_SECONDS = 120


@pytest.fixture
def world(local_cloud: RunningCloud) -> dict[str, str]:
    """A bucket with six keys and a table that counts each key's runs (and holds a switch)."""
    suffix = uuid.uuid4().hex[:8]
    bucket, table = f"redrive-{suffix}", f"redrive-{suffix}"
    s3 = local_cloud.client("s3")
    s3.create_bucket(Bucket=bucket)
    for key in ("in/a.png", "in/b.png", "in/c.png", "in/d.png", "in/e.png", "in/bad.png"):
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    local_cloud.client("dynamodb").create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return {"bucket": bucket, "table": table}


def machine(cloud: RunningCloud, world: dict[str, str], wait: int = 0, **map_fields: Any) -> str:
    """Each child waits, counts its run, then fails for *bad* keys while the switch is broken."""
    table = world["table"]
    child = {
        "StartAt": "Wait",
        "States": {
            "Wait": {"Type": "Wait", "Seconds": wait, "Next": "Count"},
            "Count": {
                "Type": "Task",
                "Resource": "arn:aws:states:::dynamodb:updateItem",
                "Parameters": {
                    "TableName": table,
                    "Key": {"k": {"S.$": "$.key"}},
                    "UpdateExpression": "ADD runs :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                },
                "ResultPath": None,
                "Next": "Switch",
            },
            "Switch": {
                "Type": "Task",
                "Resource": "arn:aws:states:::dynamodb:getItem",
                "Parameters": {"TableName": table, "Key": {"k": {"S": "switch"}}},
                "ResultPath": "$.switch",
                "Next": "Broken",
            },
            "Broken": {
                "Type": "Choice",
                "Choices": [
                    {
                        "And": [
                            {"Variable": "$.key", "StringMatches": "*bad*"},
                            {"Variable": "$.switch.Item.state.S", "StringEquals": "broken"},
                        ],
                        "Next": "Fail",
                    }
                ],
                "Default": "Done",
            },
            "Fail": {"Type": "Fail", "Error": "Broken", "Cause": "the switch is broken"},
            "Done": {"Type": "Pass", "Result": "ok", "End": True},
        },
    }
    child["ProcessorConfig"] = {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"}
    definition = {
        "StartAt": "Check",
        "States": {
            "Check": {"Type": "Pass", "Next": "Batch"},
            "Batch": {
                "Type": "Map",
                "ItemReader": {
                    "Resource": "arn:aws:states:::s3:listObjectsV2",
                    "Parameters": {"Bucket": world["bucket"], "Prefix": "in/"},
                },
                "ItemSelector": {"key.$": "$$.Map.Item.Value.Key"},
                "ItemProcessor": child,
                "ResultWriter": {
                    "Resource": "arn:aws:states:::s3:putObject",
                    "Parameters": {"Bucket": world["bucket"], "Prefix": "results"},
                },
                **map_fields,
                "End": True,
            },
        },
    }
    arn: str = cloud.client("stepfunctions").create_state_machine(
        name=f"redrive-{uuid.uuid4().hex[:8]}", definition=json.dumps(definition), roleArn=ROLE
    )["stateMachineArn"]
    return arn


def set_switch(cloud: RunningCloud, world: dict[str, str], state: str) -> None:
    cloud.client("dynamodb").put_item(
        TableName=world["table"], Item={"k": {"S": "switch"}, "state": {"S": state}}
    )


def runs(cloud: RunningCloud, world: dict[str, str]) -> dict[str, int]:
    items = cloud.client("dynamodb").scan(TableName=world["table"], ConsistentRead=True)["Items"]
    return {i["k"]["S"]: int(i["runs"]["N"]) for i in items if "runs" in i}


def finished(cloud: RunningCloud, arn: str) -> dict[str, Any]:
    sfn = cloud.client("stepfunctions")
    deadline = time.monotonic() + DEADLINE_SECONDS
    while (described := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline, "the execution hangs"
        time.sleep(0.2)
    return dict(described)


def test_a_failed_map_is_redriven_and_reruns_only_what_failed(
    local_cloud: RunningCloud, world: dict[str, str]
) -> None:
    sfn = local_cloud.client("stepfunctions")
    set_switch(local_cloud, world, "broken")
    arn = sfn.start_execution(stateMachineArn=machine(local_cloud, world), input="{}")[
        "executionArn"
    ]
    failed = finished(local_cloud, arn)
    assert failed["status"] == "FAILED"
    assert failed["error"] == "States.ExceedToleratedFailureThreshold"
    assert failed["redriveCount"] == 0
    set_switch(local_cloud, world, "fixed")
    sfn.redrive_execution(executionArn=arn)
    redriven = finished(local_cloud, arn)
    assert redriven["status"] == "SUCCEEDED", redriven
    assert redriven["redriveCount"] == 1 and "redriveDate" in redriven
    assert redriven["input"] == failed["input"] and redriven["executionArn"] == arn
    assert runs(local_cloud, world) == {
        "in/a.png": 1,
        "in/b.png": 1,
        "in/c.png": 1,
        "in/d.png": 1,
        "in/e.png": 1,
        "in/bad.png": 2,  # only the failed child ran again
    }
    output = json.loads(redriven["output"])
    s3 = local_cloud.client("s3")
    manifest = json.loads(
        s3.get_object(Bucket=world["bucket"], Key=output["ResultWriterDetails"]["Key"])[
            "Body"
        ].read()
    )
    [succeeded] = manifest["ResultFiles"]["SUCCEEDED"]
    listed = json.loads(s3.get_object(Bucket=world["bucket"], Key=succeeded["Key"])["Body"].read())
    assert len(listed) == 6 and manifest["ResultFiles"]["FAILED"] == []


def test_a_stopped_map_is_redriven_and_each_item_runs_once(
    local_cloud: RunningCloud, world: dict[str, str]
) -> None:
    sfn = local_cloud.client("stepfunctions")
    set_switch(local_cloud, world, "fixed")
    arn = sfn.start_execution(
        stateMachineArn=machine(local_cloud, world, wait=3, MaxConcurrency=1), input="{}"
    )["executionArn"]
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not runs(local_cloud, world):  # stop once some children are done, others not
        assert time.monotonic() < deadline, "no child ever ran"
        time.sleep(0.1)
    sfn.stop_execution(executionArn=arn, cause="killed")
    assert finished(local_cloud, arn)["status"] == "ABORTED"
    [map_run] = sfn.list_map_runs(executionArn=arn)["mapRuns"]
    children = sfn.list_executions(mapRunArn=map_run["mapRunArn"])["executions"]
    done = {c["name"] for c in children if c["status"] == "SUCCEEDED"}
    assert 0 < len(done) < 6, children
    before = runs(local_cloud, world)
    sfn.redrive_execution(executionArn=arn)
    assert finished(local_cloud, arn)["status"] == "SUCCEEDED"
    after = runs(local_cloud, world)
    assert len(after) == 6, after  # every item ran
    # The children that had succeeded did not run again (an aborted child may have counted
    # before it was stopped: it runs again, at least once, as on AWS).
    [redriven_run] = sfn.list_map_runs(executionArn=arn)["mapRuns"]
    kept = [
        c
        for c in sfn.list_executions(mapRunArn=redriven_run["mapRunArn"])["executions"]
        if c["name"] in done
    ]
    assert len(kept) == len(done)
    assert sum(after.values()) - sum(before.values()) <= 6 - len(done)


def test_only_an_unsuccessful_execution_can_be_redriven(
    local_cloud: RunningCloud, world: dict[str, str]
) -> None:
    sfn = local_cloud.client("stepfunctions")
    set_switch(local_cloud, world, "fixed")
    arn = sfn.start_execution(stateMachineArn=machine(local_cloud, world), input="{}")[
        "executionArn"
    ]
    assert finished(local_cloud, arn)["status"] == "SUCCEEDED"
    with pytest.raises(sfn.exceptions.ClientError) as refused:
        sfn.redrive_execution(executionArn=arn)
    assert refused.value.response["Error"]["Code"] == "ExecutionNotRedrivable"
    with pytest.raises(sfn.exceptions.ExecutionDoesNotExist):
        sfn.redrive_execution(executionArn=arn + "-missing")
