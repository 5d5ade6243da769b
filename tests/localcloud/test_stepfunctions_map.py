"""A Distributed Map over an S3 prefix on the local cloud, as AWS runs one (stepfunctions_map)."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest

from localcloud.testing import RunningCloud, create_function

pytestmark = [pytest.mark.e2e]

SFN_ROLE = "arn:aws:iam::123456789012:role/localcloud-test-sfn"
# Fails on keys holding "bad", answers the key and the index otherwise.
CHILD = """
def lambda_handler(event, context):
    if "bad" in event["key"]:
        raise ValueError("cannot read " + event["key"])
    return {"key": event["key"], "index": event["index"]}
"""


@pytest.fixture(scope="module")
def child_arn(local_cloud: RunningCloud, lambda_role: str) -> str:
    create_function(local_cloud, lambda_role, "map-child", CHILD)
    arn: str = local_cloud.client("lambda").get_function(FunctionName="map-child")["Configuration"][
        "FunctionArn"
    ]
    return arn


def bucket_with(cloud: RunningCloud, keys: list[str]) -> str:
    name = f"map-{uuid.uuid4().hex[:10]}"
    s3 = cloud.client("s3")
    s3.create_bucket(Bucket=name)
    for key in keys:
        s3.put_object(Bucket=name, Key=key, Body=key.encode())
    return name


def batch_definition(function_arn: str, bucket: str, **map_fields: Any) -> str:
    # The results bucket is static, as Terraform writes it: which input moto evaluates a
    # ResultWriter path against differs from AWS, so the test does not depend on it.
    return json.dumps(
        {
            "StartAt": "Batch",
            "States": {
                "Batch": {
                    "Type": "Map",
                    "ItemReader": {
                        "Resource": "arn:aws:states:::s3:listObjectsV2",
                        "Parameters": {"Bucket.$": "$.bucket", "Prefix.$": "$.prefix"},
                    },
                    "ItemSelector": {
                        "key.$": "$$.Map.Item.Value.Key",
                        "size.$": "$$.Map.Item.Value.Size",
                        "etag.$": "$$.Map.Item.Value.Etag",
                        "index.$": "$$.Map.Item.Index",
                    },
                    "MaxConcurrency": 4,
                    "ItemProcessor": {
                        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
                        "StartAt": "Call",
                        "States": {
                            "Call": {
                                "Type": "Task",
                                "Resource": "arn:aws:states:::lambda:invoke",
                                "Parameters": {"FunctionName": function_arn, "Payload.$": "$"},
                                "OutputPath": "$.Payload",
                                "End": True,
                            }
                        },
                    },
                    "ResultWriter": {
                        "Resource": "arn:aws:states:::s3:putObject",
                        "Parameters": {"Bucket": bucket, "Prefix": "batch-results"},
                    },
                    **map_fields,
                    "End": True,
                }
            },
        }
    )


def run(cloud: RunningCloud, definition: str, bucket: str, prefix: str) -> dict[str, Any]:
    sfn = cloud.client("stepfunctions")
    machine = sfn.create_state_machine(
        name=f"map-{uuid.uuid4().hex[:10]}", definition=definition, roleArn=SFN_ROLE
    )["stateMachineArn"]
    arn = sfn.start_execution(
        stateMachineArn=machine, input=json.dumps({"bucket": bucket, "prefix": prefix})
    )["executionArn"]
    deadline = time.monotonic() + 120
    while (described := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline, "the batch hangs"
        time.sleep(0.2)
    return dict(described)


def read_json(cloud: RunningCloud, bucket: str, key: str) -> Any:
    return json.loads(cloud.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())


def test_the_whole_prefix_is_read_past_one_page_in_aws_item_shape(
    local_cloud: RunningCloud, child_arn: str
) -> None:
    keys = [f"in/{i:04d}.png" for i in range(1005)] + ["other/x.png"]
    bucket = bucket_with(local_cloud, keys)
    definition = batch_definition(child_arn, bucket, MaxConcurrency=16)
    described = run(local_cloud, definition, bucket, "in/")
    assert described["status"] == "SUCCEEDED", described
    output = json.loads(described["output"])
    sfn = local_cloud.client("stepfunctions")
    map_run = sfn.describe_map_run(mapRunArn=output["MapRunArn"])
    assert map_run["itemCounts"]["total"] == 1005
    assert map_run["itemCounts"]["succeeded"] == 1005
    assert map_run["executionCounts"]["running"] == 0
    manifest = read_json(local_cloud, bucket, output["ResultWriterDetails"]["Key"])
    [succeeded] = manifest["ResultFiles"]["SUCCEEDED"]
    results = read_json(local_cloud, bucket, succeeded["Key"])
    assert sorted(json.loads(r["Output"])["key"] for r in results) == keys[:-1]
    first = json.loads(results[0]["Input"])
    assert first["size"] == len(b"in/0000.png")
    assert first["etag"].startswith('"') and first["etag"].endswith('"')


def test_failures_within_the_tolerance_succeed_and_are_written_as_failed(
    local_cloud: RunningCloud, child_arn: str
) -> None:
    keys = [f"in/{i}.png" for i in range(9)] + ["in/bad.png"]
    bucket = bucket_with(local_cloud, keys)
    described = run(
        local_cloud,
        batch_definition(child_arn, bucket, ToleratedFailurePercentage=10),
        bucket,
        "in/",
    )
    assert described["status"] == "SUCCEEDED", described
    output = json.loads(described["output"])
    manifest = read_json(local_cloud, bucket, output["ResultWriterDetails"]["Key"])
    assert manifest["MapRunArn"] == output["MapRunArn"]
    run_id = output["MapRunArn"].rsplit(":", 1)[1]
    assert output["ResultWriterDetails"]["Key"] == f"batch-results/{run_id}/manifest.json"
    [failed_file] = manifest["ResultFiles"]["FAILED"]
    assert failed_file["Key"] == f"batch-results/{run_id}/FAILED_0.json"
    [failed] = read_json(local_cloud, bucket, failed_file["Key"])
    assert failed["Status"] == "FAILED"
    assert json.loads(failed["Input"])["key"] == "in/bad.png"
    assert failed["Error"] == "ValueError"
    assert "cannot read in/bad.png" in failed["Cause"]
    [succeeded_file] = manifest["ResultFiles"]["SUCCEEDED"]
    assert len(read_json(local_cloud, bucket, succeeded_file["Key"])) == 9
    assert succeeded_file["Size"] > 0


@pytest.mark.parametrize(
    ("fields", "bad", "fails"),
    [
        ({}, 1, True),  # no tolerance: one failure fails the run
        ({"ToleratedFailurePercentage": 10}, 2, True),  # 2 of 10 is more than 10 %
        ({"ToleratedFailureCount": 2}, 2, False),
        ({"ToleratedFailureCount": 1}, 2, True),
    ],
)
def test_tolerated_failures_are_enforced(
    local_cloud: RunningCloud, child_arn: str, fields: dict[str, Any], bad: int, fails: bool
) -> None:
    keys = [f"in/{i}.png" for i in range(10 - bad)] + [f"in/bad-{i}.png" for i in range(bad)]
    bucket = bucket_with(local_cloud, keys)
    described = run(local_cloud, batch_definition(child_arn, bucket, **fields), bucket, "in/")
    if not fails:
        assert described["status"] == "SUCCEEDED", described
        return
    assert described["status"] == "FAILED", described
    assert described["error"] == "States.ExceedToleratedFailureThreshold"
    sfn = local_cloud.client("stepfunctions")
    [map_run] = sfn.list_map_runs(executionArn=described["executionArn"])["mapRuns"]
    detail = sfn.describe_map_run(mapRunArn=map_run["mapRunArn"])
    assert detail["status"] == "FAILED"
    assert detail["itemCounts"]["failed"] == bad
    # The results of a failed run are written too.
    listed = local_cloud.client("s3").list_objects_v2(Bucket=bucket, Prefix="batch-results/")
    names = sorted(item["Key"].rsplit("/", 1)[1] for item in listed["Contents"])
    assert names == ["FAILED_0.json", "SUCCEEDED_0.json", "manifest.json"]


def test_a_map_runs_children_are_listed(local_cloud: RunningCloud, child_arn: str) -> None:
    bucket = bucket_with(local_cloud, ["in/a.png", "in/bad.png"])
    described = run(
        local_cloud, batch_definition(child_arn, bucket, ToleratedFailureCount=1), bucket, "in/"
    )
    sfn = local_cloud.client("stepfunctions")
    map_run_arn = json.loads(described["output"])["MapRunArn"]
    children = sfn.list_executions(mapRunArn=map_run_arn)["executions"]
    assert sorted(child["status"] for child in children) == ["FAILED", "SUCCEEDED"]
    failed = sfn.list_executions(mapRunArn=map_run_arn, statusFilter="FAILED")["executions"]
    assert len(failed) == 1
    unknown = map_run_arn.rsplit(":", 1)[0] + ":" + str(uuid.uuid4())
    with pytest.raises(sfn.exceptions.ResourceNotFound):
        sfn.list_executions(mapRunArn=unknown)
    with pytest.raises(sfn.exceptions.ResourceNotFound):
        sfn.describe_map_run(mapRunArn=unknown)


def test_an_empty_prefix_is_an_empty_successful_run(
    local_cloud: RunningCloud, child_arn: str
) -> None:
    bucket = bucket_with(local_cloud, ["elsewhere/a.png"])
    described = run(local_cloud, batch_definition(child_arn, bucket), bucket, "in/")
    assert described["status"] == "SUCCEEDED", described
    output = json.loads(described["output"])
    manifest = read_json(local_cloud, bucket, output["ResultWriterDetails"]["Key"])
    assert manifest["ResultFiles"] == {"FAILED": [], "PENDING": [], "SUCCEEDED": []}


def test_each_child_sees_its_own_execution_in_the_context(local_cloud: RunningCloud) -> None:
    bucket = bucket_with(local_cloud, ["in/a.png", "in/b.png"])
    definition = json.loads(batch_definition("unused", bucket))
    definition["States"]["Batch"]["ItemProcessor"]["States"] = {
        "Call": {
            "Type": "Pass",
            "Parameters": {"id.$": "$$.Execution.Id", "name.$": "$$.Execution.Name"},
            "End": True,
        }
    }
    described = run(local_cloud, json.dumps(definition), bucket, "in/")
    assert described["status"] == "SUCCEEDED", described
    output = json.loads(described["output"])
    manifest = read_json(local_cloud, bucket, output["ResultWriterDetails"]["Key"])
    [succeeded] = manifest["ResultFiles"]["SUCCEEDED"]
    results = read_json(local_cloud, bucket, succeeded["Key"])
    assert len(results) == 2
    for result in results:
        seen = json.loads(result["Output"])
        assert seen["id"] == result["ExecutionArn"] != described["executionArn"]
        assert seen["name"] == result["Name"]


def test_a_stopped_run_is_aborted_with_its_children(local_cloud: RunningCloud) -> None:
    bucket = bucket_with(local_cloud, [f"in/{i}.png" for i in range(8)])
    definition = json.loads(batch_definition("unused", bucket, MaxConcurrency=2))
    definition["States"]["Batch"]["ItemProcessor"]["States"] = {
        "Call": {"Type": "Wait", "Seconds": 2, "End": True}
    }
    sfn = local_cloud.client("stepfunctions")
    machine = sfn.create_state_machine(
        name=f"map-{uuid.uuid4().hex[:10]}", definition=json.dumps(definition), roleArn=SFN_ROLE
    )["stateMachineArn"]
    arn = sfn.start_execution(
        stateMachineArn=machine, input=json.dumps({"bucket": bucket, "prefix": "in/"})
    )["executionArn"]
    deadline = time.monotonic() + 60
    while not sfn.list_map_runs(executionArn=arn)["mapRuns"]:
        assert time.monotonic() < deadline, "the map run never started"
        time.sleep(0.1)
    sfn.stop_execution(executionArn=arn, cause="operator")
    while (described := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline, "the stopped run goes on"
        time.sleep(0.2)
    assert described["status"] == "ABORTED", (described.get("error"), described.get("cause"))
    [map_run] = sfn.list_map_runs(executionArn=arn)["mapRuns"]
    detail = sfn.describe_map_run(mapRunArn=map_run["mapRunArn"])
    assert detail["status"] == "ABORTED"
    assert detail["itemCounts"]["failed"] == 0
    assert detail["itemCounts"]["aborted"] + detail["itemCounts"]["succeeded"] == 8


def test_a_worker_runs_more_children_than_the_recursion_limit(local_cloud: RunningCloud) -> None:
    # One worker (MaxConcurrency 1) runs every child: moto's worker called itself once per
    # child and died near 950 of them, leaving the run RUNNING for ever.
    count = 1200
    bucket = bucket_with(local_cloud, [f"in/{i:04d}" for i in range(count)])
    definition = json.loads(batch_definition("unused", bucket, MaxConcurrency=1))
    definition["States"]["Batch"]["ItemProcessor"]["States"] = {
        "Call": {"Type": "Pass", "End": True}
    }
    described = run(local_cloud, json.dumps(definition), bucket, "in/")
    assert described["status"] == "SUCCEEDED", described
    output = json.loads(described["output"])
    sfn = local_cloud.client("stepfunctions")
    counts = sfn.describe_map_run(mapRunArn=output["MapRunArn"])["itemCounts"]
    assert (counts["total"], counts["succeeded"]) == (count, count)
    manifest = read_json(local_cloud, bucket, output["ResultWriterDetails"]["Key"])
    [succeeded] = manifest["ResultFiles"]["SUCCEEDED"]
    keys = {
        json.loads(result["Input"])["key"]
        for result in read_json(local_cloud, bucket, succeeded["Key"])
    }
    assert keys == {f"in/{i:04d}" for i in range(count)}
