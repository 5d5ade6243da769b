"""scripts.bench.results: percentiles, ratios, the results file and the table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scripts.bench.results import (
    Measure,
    compared,
    format_table,
    latency_measures,
    median_of,
    percentile,
    write_results,
)


def test_percentile_interpolates_between_ranks() -> None:
    values = [4.0, 1.0, 3.0, 2.0, 5.0]
    assert percentile(values, 50) == 3.0
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 5.0
    assert percentile(values, 95) == pytest.approx(4.8)
    assert percentile([7.0], 99) == 7.0


def test_percentile_of_nothing_is_an_error() -> None:
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)


def test_latency_measures_are_milliseconds_by_percentile() -> None:
    measures = latency_measures("x.latency", [0.010, 0.020, 0.030])
    assert [(m.name, m.value, m.unit) for m in measures] == [
        ("x.latency.p50", 20.0, "ms"),
        ("x.latency.p95", 29.0, "ms"),
        ("x.latency.p99", 29.8, "ms"),
    ]


def test_compared_is_ours_over_the_baseline() -> None:
    measure = compared("convert.images_per_s", 300.0, 100.0, "images/s")
    assert (measure.baseline, measure.ratio) == (100.0, 3.0)
    assert measure.to_json() == {
        "name": "convert.images_per_s",
        "value": 300.0,
        "unit": "images/s",
        "baseline": 100.0,
        "ratio": 3.0,
    }


def test_median_of_calls_the_action_each_time() -> None:
    calls: list[int] = []
    median, samples = median_of(3, lambda: calls.append(1))
    assert len(calls) == len(samples) == 3
    assert min(samples) <= median <= max(samples)
    with pytest.raises(ValueError, match="at least 1"):
        median_of(0, lambda: None)


def test_results_file_holds_machine_timestamp_extras_and_measures(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "results.json"
    write_results(path, [Measure("a", 1.5, "s", note="n")], quick=True)
    document = json.loads(path.read_text())
    assert document["quick"] is True
    assert {"timestamp", "machine"} <= set(document)
    assert document["machine"]["cpus"] >= 1
    assert document["results"] == [{"name": "a", "value": 1.5, "unit": "s", "note": "n"}]


def test_table_lines_up_every_measure() -> None:
    table = format_table(
        [compared("convert.images_per_s", 1234.5, 100.0, "images/s"), Measure("b", 0.5, "ms")]
    )
    lines = table.splitlines()
    assert lines[0].split() == ["name", "value", "unit", "baseline", "ratio", "note"]
    assert set(lines[1]) == {"-"}
    assert "1,234" in lines[2] and "12.35" in lines[2]
    assert lines[3].split() == ["b", "0.5", "ms"]
