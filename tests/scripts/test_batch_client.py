"""scripts/batch.py against a real Distributed Map on the local cloud: start, follow, report."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from localcloud.testing import RunningCloud
from scripts import batch

pytestmark = [pytest.mark.e2e]

ROLE = "arn:aws:iam::123456789012:role/batch-client-test"


class Progress:
    """What batch.follow asks of a tqdm bar, recorded."""

    def __init__(self) -> None:
        self.total, self.n = 0, 0
        self.postfixes: list[dict[str, Any]] = []

    def set_postfix(self, refresh: bool = True, **values: Any) -> None:
        self.postfixes.append(values)

    def refresh(self) -> None:
        pass


def machine(cloud: RunningCloud, bucket: str) -> batch.BatchTarget:
    """A batch over a prefix whose children answer like the per-image states: a status each,
    skipped for keys holding "done", failing for keys holding "bad"."""
    definition = {
        "StartAt": "Batch",
        "States": {
            "Batch": {
                "Type": "Map",
                "ItemReader": {
                    "Resource": "arn:aws:states:::s3:listObjectsV2",
                    "Parameters": {"Bucket": bucket, "Prefix.$": "$.prefix"},
                },
                "ItemSelector": {"s3_key.$": "$$.Map.Item.Value.Key"},
                "ToleratedFailurePercentage": 50,
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
                    "StartAt": "Which",
                    "States": {
                        "Which": {
                            "Type": "Choice",
                            "Choices": [
                                {"Variable": "$.s3_key", "StringMatches": "*bad*", "Next": "Bad"},
                                {"Variable": "$.s3_key", "StringMatches": "*done*", "Next": "Done"},
                            ],
                            "Default": "Answer",
                        },
                        "Bad": {"Type": "Fail", "Error": "InvalidImage", "Cause": "not a png"},
                        "Done": {
                            "Type": "Pass",
                            "Parameters": {"status": "skipped", "reason": "classified"},
                            "End": True,
                        },
                        "Answer": {
                            "Type": "Pass",
                            "Parameters": {"status": "classified", "label": "bicycle"},
                            "End": True,
                        },
                    },
                },
                "ResultWriter": {
                    "Resource": "arn:aws:states:::s3:putObject",
                    "Parameters": {"Bucket": bucket, "Prefix": "batch-results"},
                },
                "End": True,
            }
        },
    }
    arn = cloud.client("stepfunctions").create_state_machine(
        name=f"batch-client-{uuid.uuid4().hex[:8]}",
        definition=json.dumps(definition),
        roleArn=ROLE,
    )["stateMachineArn"]
    return batch.BatchTarget(arn, bucket)


@pytest.fixture
def bucket(local_cloud: RunningCloud) -> str:
    name = f"batch-client-{uuid.uuid4().hex[:8]}"
    s3 = local_cloud.client("s3")
    s3.create_bucket(Bucket=name)
    for key in ("in/a.png", "in/b.png", "in/done.png", "in/bad.png"):
        s3.put_object(Bucket=name, Key=key, Body=b"x")
    return name


def test_a_run_is_followed_to_its_end_and_counted_from_its_manifest(
    local_cloud: RunningCloud, bucket: str
) -> None:
    sfn, s3 = local_cloud.client("stepfunctions"), local_cloud.client("s3")
    target = machine(local_cloud, bucket)
    arn = batch.start(sfn, target, "in/")
    progress = Progress()
    described = batch.follow(sfn, arn, progress)
    assert described["status"] == "SUCCEEDED"
    assert (progress.total, progress.n) == (4, 4)
    assert progress.postfixes[-1] == {"succeeded": 3, "failed": 1, "pending": 0}
    found = batch.report(s3, target, "batch-results/", described)
    assert found.succeeded
    assert found.outcomes == {"classified": 2, "skipped (classified)": 1, "failed": 1}
    assert found.failures == [("in/bad.png", "InvalidImage", "not a png")]
    assert found.manifest == (
        f"s3://{bucket}/{batch.manifest_key('batch-results/', str(found.map_run_arn))}"
    )
    lines = found.lines()
    assert lines[0] == "batch SUCCEEDED: classified: 2, failed: 1, skipped (classified): 1"
    assert "  failed in/bad.png: InvalidImage: not a png" in lines
    assert lines[-1] == f"manifest: {found.manifest}"


def test_an_unknown_machine_is_a_named_error(local_cloud: RunningCloud) -> None:
    sfn = local_cloud.client("stepfunctions")
    missing = "arn:aws:states:us-east-1:123456789012:stateMachine:no-such-batch"
    with pytest.raises(batch.BatchError, match="no batch state machine"):
        batch.start(sfn, batch.BatchTarget(missing, "b"), "in/")


@pytest.mark.parametrize("prefix", ["", "/in/"])
def test_a_prefix_that_is_not_one_is_refused_before_anything_starts(
    local_cloud: RunningCloud, prefix: str
) -> None:
    sfn = local_cloud.client("stepfunctions")
    with pytest.raises(batch.BatchError, match="PREFIX must be a key prefix"):
        batch.start(sfn, batch.BatchTarget("arn:unused", "b"), prefix)


def test_run_names_are_readable_unique_and_valid() -> None:
    when = datetime(2026, 12, 2, 16, 30, 5, 123456, tzinfo=UTC)
    name = batch.run_name("incoming/driver photos/été/", when)
    assert name == "incoming-driver-photos-t-20261202T163005123456Z"
    assert len(batch.run_name("x" * 200, when)) <= 80
    assert batch.run_name("///", when).startswith("all-")


def test_the_manifest_key_is_the_result_writers() -> None:
    arn = "arn:aws:states:us-east-1:123456789012:mapRun:m/ClassifyPrefix:2f1c"
    assert batch.manifest_key("batch-results/", arn) == "batch-results/2f1c/manifest.json"
    assert batch.manifest_key("batch-results", arn) == "batch-results/2f1c/manifest.json"
