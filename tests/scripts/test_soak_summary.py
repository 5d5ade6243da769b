"""The soak's pure helpers: per-step summary, the table, step timing and deadlines."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from scripts.soak import (
    DEADLINES,
    RunResult,
    StepFailedError,
    bounded,
    pick_test_images,
    step,
    summarize,
    table,
)

STEPS = {"plan": 12.0, "apply": 70.0, "destroy": 20.0}


def passed(run: int, scale: float = 1.0) -> RunResult:
    return RunResult(run=run, steps={k: v * scale for k, v in STEPS.items()}, ok=True)


def test_summary_is_min_median_max_per_step_and_total_of_passed_runs() -> None:
    failed = RunResult(run=4, steps={"plan": 500.0}, failed_step="apply", failure="hang")
    summary = summarize([passed(1), passed(2, 2.0), passed(3, 3.0), failed])
    assert list(summary) == ["plan", "apply", "destroy", "total"]  # the order of the steps
    assert summary["plan"] == {"min": 12.0, "median": 24.0, "max": 36.0}
    assert summary["total"] == {"min": 102.0, "median": 204.0, "max": 306.0}


def test_summary_of_no_passed_run_is_empty() -> None:
    assert summarize([RunResult(run=1, failed_step="plan")]) == {}


def test_table_has_a_row_per_run_then_the_statistics() -> None:
    failed = RunResult(run=2, steps={"plan": 13.0}, failed_step="apply", failure="hang")
    runs = [passed(1), failed]
    lines = table(runs, summarize(runs))
    assert lines[0].split() == ["run", "plan", "apply", "destroy", "total", "result"]
    assert lines[2].split() == ["1", "12.0", "70.0", "20.0", "102.0", "ok"]
    assert lines[3].split() == ["2", "13.0", "-", "-", "13.0", "FAILED", "at", "apply"]
    assert [line.split()[0] for line in lines[4:]] == ["min", "median", "max"]
    assert len({len(line) for line in lines[:2]}) == 1  # the rule is as wide as the header


def test_a_passed_step_is_timed() -> None:
    result = RunResult(run=1)
    with step(result, "plan"):
        pass
    assert result.steps["plan"] >= 0.0


def test_a_timeout_becomes_a_named_hang_with_the_last_output() -> None:
    result = RunResult(run=1)
    with pytest.raises(StepFailedError) as caught, step(result, "apply"):
        raise subprocess.TimeoutExpired(
            ["tf.sh"], 210, output="aws_lambda_function.this: Still creating... [3m30s elapsed]"
        )
    assert caught.value.step == "apply"
    assert "HANG" in str(caught.value) and "Still creating" in caught.value.detail
    assert "apply" not in result.steps


def test_any_error_names_its_step() -> None:
    with (
        pytest.raises(StepFailedError, match=r"step upload failed .*KeyError"),
        step(RunResult(run=1), "upload"),
    ):
        raise KeyError("bucket_name")


def test_every_deadline_is_well_under_the_five_minutes_a_lost_request_took() -> None:
    assert max(DEADLINES.values()) <= 240


def test_bounded_counts_down_and_then_refuses() -> None:
    assert 0 < bounded("upload", time.monotonic()) <= DEADLINES["upload"]
    with pytest.raises(TimeoutError, match="upload passed its"):
        bounded("upload", time.monotonic() - DEADLINES["upload"] - 1)


def test_images_are_the_first_by_name_across_classes(tmp_path: Path) -> None:
    for name in ("bicycle/b_2.png", "bicycle/b_1.png", "motorcycle/a_1.png"):
        path = tmp_path / "test" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"png")
    images = pick_test_images(tmp_path, 2)
    assert list(images) == ["test/a_1.png", "test/b_1.png"]
