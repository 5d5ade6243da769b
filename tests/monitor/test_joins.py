"""Joining capture records with the results file and Step Functions executions (moto)."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from scripts.monitor.joins import JoinIndex, read_executions, read_results
from scripts.monitor.pipeline import run
from scripts.monitor.sources import DirectorySource
from tests.support.monitor_kit import START, png, record, write_files

CAUSE = json.dumps({"errorMessage": "confidence 0.51 is below the threshold 0.93"})
# Stands in for the real workflow: the image arrives in the input's image_data, a Choice sends
# it to success (label, confidence, image passed through) or to a Fail with a Lambda-like cause.
DEFINITION = {
    "StartAt": "ClassifyImage",
    "States": {
        "ClassifyImage": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.unsure", "BooleanEquals": True, "Next": "Failed"}],
            "Default": "FilterInferences",
        },
        "FilterInferences": {
            "Type": "Pass",
            "Parameters": {
                "image_data.$": "$.image_data",
                "s3_key.$": "$.s3_key",
                "label.$": "$.label",
                "confidence": 0.97,
            },
            "End": True,
        },
        "Failed": {"Type": "Fail", "Error": "ThresholdConfidenceNotMet", "Cause": CAUSE},
    },
}
IMAGES = {
    name: png(colour)
    for name, colour in [
        ("a", (255, 0, 0)),
        ("b", (0, 255, 0)),
        ("c", (0, 0, 255)),
        ("d", (9, 9, 9)),
    ]
}


def _results_line(key: str, status: str, **fields: Any) -> str:
    return json.dumps({"key": key, "status": status, "execution_arn": f"arn:x:{key}-1", **fields})


def test_results_file_last_line_per_key_counts(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    path.write_text(
        "\n".join(
            [
                _results_line("test/a.png", "STARTED"),
                _results_line("test/a.png", "SUCCEEDED", label="bicycle", confidence=0.97),
                _results_line("test/b.png", "STARTED"),
                _results_line(
                    "test/b.png", "FAILED", error="ThresholdConfidenceNotMet", cause=CAUSE
                ),
                _results_line("test/c.png", "STARTED"),
                '{"key": "test/d.png", "sta',  # cut short by a killed batch
            ]
        )
    )
    index = JoinIndex()
    stats = read_results(path, index).summary()
    assert stats["statuses"] == {"SUCCEEDED": 1, "FAILED": 1, "STARTED": 1}
    assert (stats["finished"], stats["failed"], stats["share_failed"]) == (2, 1, 0.5)
    assert stats["errors"] == [
        {
            "error": "ThresholdConfidenceNotMet",
            "count": 1,
            "example_cause": "confidence 0.51 is below the threshold 0.93",
        }
    ]
    assert {"test/a.png", "test/b.png", "test/a.png-1", "test/b.png-1"} <= set(index.by_id)


def test_join_by_inference_id_with_the_results_file(tmp_path: Path) -> None:
    results = tmp_path / "results.jsonl"
    results.write_text(
        _results_line("test/a.png", "SUCCEEDED", label="bicycle", confidence=0.97)
        + "\n"
        + _results_line("test/b.png", "FAILED", error="ThresholdConfidenceNotMet", cause=CAUSE)
    )
    write_files(
        tmp_path / "capture",
        {
            START: [
                record((0.97, 0.03), inference_id="test/a.png"),
                record((0.49, 0.51), inference_id="test/b.png"),
                record((0.99, 0.01), inference_id="test/unknown.png"),
            ]
        },
    )
    index = JoinIndex()
    outcomes = [read_results(results, index)]
    report = run(DirectorySource(tmp_path / "capture"), tmp_path / "out", 0.93, index, outcomes)
    summary = json.loads(report.summary.read_text())
    assert summary["joined"] == {
        "records": 2,
        "by_status": {"SUCCEEDED": 1, "FAILED": 1},
        "label_agreement": {"agree": 1},
    }
    assert summary["lowest_confidence"][0] | {"location": "", "time": ""} == {
        "confidence": 0.51,
        "label": "motorcycle",
        "time": "",
        "location": "",
        "file": "thumbnails/lowest-01.png",
        "key": "test/b.png",
        "status": "FAILED",
        "error": "ThresholdConfidenceNotMet",
    }
    assert summary["outcomes"][0]["share_failed"] == 0.5
    assert "ThresholdConfidenceNotMet" in report.html.read_text()


@pytest.fixture
def executions() -> Iterator[tuple[Any, str]]:
    """A moto state machine that ran: a and b succeeded (b as motorcycle), c failed."""
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        arn = sfn.create_state_machine(
            name="classify",
            definition=json.dumps(DEFINITION),
            roleArn="arn:aws:iam::123456789012:role/sfn",
        )["stateMachineArn"]
        for name, label, unsure in [
            ("a", "bicycle", False),
            ("b", "motorcycle", False),
            ("c", "bicycle", True),
        ]:
            event = {
                "image_data": base64.b64encode(IMAGES[name]).decode(),
                "s3_key": f"test/{name}.png",
                "label": label,
                "unsure": unsure,
            }
            sfn.start_execution(stateMachineArn=arn, name=f"{name}-1", input=json.dumps(event))
        deadline = time.monotonic() + 30
        while any(
            e["status"] == "RUNNING" for e in sfn.list_executions(stateMachineArn=arn)["executions"]
        ):
            assert time.monotonic() < deadline, "moto's executions did not finish"
            time.sleep(0.05)
        yield sfn, arn


def test_join_by_image_bytes_with_step_functions(
    executions: tuple[Any, str], tmp_path: Path
) -> None:
    sfn, arn = executions
    write_files(
        tmp_path / "capture",
        {
            START: [
                record((0.98, 0.02), image=IMAGES["a"]),
                record((0.98, 0.02), image=IMAGES["a"]),  # the same image sent twice
                record((0.96, 0.04), image=IMAGES["b"]),  # the workflow said motorcycle
                record((0.51, 0.49), image=IMAGES["c"]),
                record((0.99, 0.01), image=IMAGES["d"]),  # no execution of ours sent it
            ]
        },
    )
    index = JoinIndex()
    stats = read_executions(sfn, arn, max_executions=10, index=index)
    assert len(index.by_image) == 3
    summary = stats.summary()
    assert summary["statuses"] == {"SUCCEEDED": 2, "FAILED": 1}
    assert summary["errors"][0]["example_cause"] == "confidence 0.51 is below the threshold 0.93"
    assert not summary["truncated"]
    report = run(DirectorySource(tmp_path / "capture"), tmp_path / "out", 0.93, index, [stats])
    joined = json.loads(report.summary.read_text())["joined"]
    assert joined == {
        "records": 4,
        "by_status": {"SUCCEEDED": 3, "FAILED": 1},
        "label_agreement": {"agree": 2, "disagree": 1},
    }


def test_max_executions_bounds_what_is_read(executions: tuple[Any, str]) -> None:
    sfn, arn = executions
    index = JoinIndex()
    stats = read_executions(sfn, arn, max_executions=2, index=index)
    assert sum(stats.statuses.values()) == 2
    assert stats.truncated
    assert len(index.by_image) == 2
