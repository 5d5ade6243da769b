"""The demo's progress lines and closing summary."""

from __future__ import annotations

import io

import pytest

from scripts.demo.stages import Stages, stage_line
from scripts.demo.summary import format_summary, histogram_lines

REPORT = {
    "images": 200,
    "accuracy": 0.875,
    "target": "endpoint scones-local-endpoint",
    "per_class": {
        "bicycle": {"precision": 0.9, "recall": 0.85, "support": 100},
        "motorcycle": {"precision": 0.85, "recall": 0.9, "support": 100},
    },
    "confidence_histogram": {
        "edges": [0.5, 0.6, 0.7, 0.8, 0.9, 1.0],
        "counts": [10, 20, 30, 40, 100],
    },
}


def test_the_histogram_marks_the_threshold_bin() -> None:
    lines = histogram_lines(REPORT["confidence_histogram"], 0.93)
    assert len(lines) == 5
    assert lines[-1].endswith("<- threshold")
    assert "#" * 30 in lines[-1]
    assert not any("threshold" in line for line in lines[:-1])


def test_the_summary_names_accuracy_the_service_timings_and_where_things_are() -> None:
    text = format_summary(
        report=REPORT,
        service=["service         202 objects under the incoming prefix: ..."],
        threshold=0.93,
        timings={"train": 62.1, "ingest": 40.0},
        artifacts={"evaluation": "build/eval/report.json"},
    )
    assert "accuracy        0.8750 on 200 test images" in text
    assert "bicycle      precision 0.900  recall 0.850" in text
    assert "service         202 objects" in text
    assert "stages          102.1 s: train 62.1, ingest 40.0" in text
    assert "build/eval/report.json" in text


def test_a_summary_without_a_report_or_a_service_run_still_prints() -> None:
    text = format_summary(report=None, service=[], threshold=None, timings={}, artifacts={})
    assert "demo summary" in text


def test_a_stage_line_has_its_number_name_and_duration() -> None:
    assert stage_line(3, 9, "train", 62.14) == "[3/9] train ......................   62.1 s"
    assert stage_line(2, 9, "data", 0.2, "reused").endswith("0.2 s  (reused)")


def test_stages_time_each_step_and_mark_a_failure() -> None:
    out = io.StringIO()
    stages = Stages(["data", "train"], out=out)
    with stages.run("data"):
        stages.note("data", "reused")
    with pytest.raises(RuntimeError), stages.run("train"):
        raise RuntimeError("boom")
    printed = out.getvalue()
    assert ">>> [1/2] data" in printed
    assert "(reused)" in printed
    assert "[2/2] train" in printed and "(FAILED)" in printed
    assert list(stages.timings) == ["data"]
