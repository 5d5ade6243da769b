"""The report from capture files in a folder: zero, one and many records, malformed lines."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from scripts.monitor.aggregate import LOWEST_KEPT, TIMELINE_SAMPLES, Aggregate
from scripts.monitor.pipeline import consume, run
from scripts.monitor.records import parse_line
from scripts.monitor.sources import DirectorySource, Line
from tests.support.monitor_kit import START, png, record, write_files

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _report(capture: Path, out: Path, threshold: float = 0.93) -> tuple[dict[str, Any], str]:
    report = run(DirectorySource(capture), out, threshold)
    return json.loads(report.summary.read_text()), report.html.read_text()


def test_zero_records_still_write_a_report_that_says_so(tmp_path: Path) -> None:
    (tmp_path / "capture").mkdir()
    summary, html = _report(tmp_path / "capture", tmp_path / "out")
    assert summary["records"] == 0
    assert summary["capture_files"] == 0
    assert summary["mean_confidence"] is None
    assert summary["figures"] == {}
    assert "No data capture records" in html
    assert not list((tmp_path / "out").glob("*.png"))


def test_one_record(tmp_path: Path) -> None:
    write_files(tmp_path / "capture", {START: [record((0.1, 0.9), image=png((9, 9, 9)))]})
    summary, html = _report(tmp_path / "capture", tmp_path / "out")
    assert summary["records"] == 1
    assert summary["class_balance"] == {"bicycle": 0, "motorcycle": 1}
    assert summary["below_threshold"] == 1
    assert summary["by_hour_utc"][0] == {
        "hour": 0,
        "count": 1,
        "mean_confidence": 0.9,
        "share_below_threshold": 1.0,
    }
    assert set(summary["figures"]) == {"confidence", "timeline", "hours", "classes"}
    for name in summary["figures"].values():
        assert (tmp_path / "out" / name).read_bytes().startswith(PNG_MAGIC)
        assert f'src="{name}"' in html
    [lowest] = summary["lowest_confidence"]
    assert (tmp_path / "out" / lowest["file"]).read_bytes() == png((9, 9, 9))


def test_every_line_of_every_file_across_hours_is_counted_exactly(tmp_path: Path) -> None:
    files: dict[Any, list[Any]] = {}
    expected_count, expected_below = [0] * 24, [0] * 24
    for hour in range(0, 24, 3):
        for minute in (5, 40):  # two files per hour folder
            when = START + timedelta(hours=hour, minutes=minute)
            lines = [
                record((0.5 + (hour + i) / 100, 0.5 - (hour + i) / 100), when)
                for i in range(hour % 4 + 1)
            ]
            files[when] = lines
            expected_count[hour] += len(lines)
            expected_below[hour] += sum(0.5 + (hour + i) / 100 < 0.6 for i in range(len(lines)))
    write_files(tmp_path / "capture", files)
    summary, _ = _report(tmp_path / "capture", tmp_path / "out", threshold=0.6)
    assert summary["capture_files"] == 16
    assert summary["records"] == sum(expected_count)
    assert [h["count"] for h in summary["by_hour_utc"]] == expected_count
    shares = [h["share_below_threshold"] for h in summary["by_hour_utc"]]
    assert shares == [
        b / c if c else None for b, c in zip(expected_below, expected_count, strict=True)
    ]
    assert summary["by_hour_utc"][1]["mean_confidence"] is None


def test_malformed_lines_are_reported_and_skipped(tmp_path: Path) -> None:
    bad_output = record()
    bad_output["captureData"]["endpointOutput"]["data"] = "[0.5]"
    [path] = write_files(
        tmp_path / "capture",
        {START: [record(), "{cut short", "", bad_output, "<script>alert(1)</script>", record()]},
    )
    summary, html = _report(tmp_path / "capture", tmp_path / "out")
    assert summary["records"] == 2
    assert summary["malformed"]["count"] == 3
    assert [m["location"] for m in summary["malformed"]["first"]] == [
        f"{path}:2",
        f"{path}:4",
        f"{path}:5",
    ]
    assert "not JSON" in summary["malformed"]["first"][0]["reason"]
    assert "<script>" not in html  # every text is escaped
    assert "Malformed lines: 3 skipped" in html


def test_reservoir_and_lowest_heap_stay_bounded_and_exact() -> None:
    aggregate = Aggregate(threshold=0.93)
    lines = [json.dumps(record((0.5 + n / 10000, 0.5 - n / 10000))).encode() for n in range(5000)]
    consume((Line("mem", i, data) for i, data in enumerate(lines)), aggregate)
    assert len(aggregate.timeline) == TIMELINE_SAMPLES
    lowest = aggregate.lowest()
    assert len(lowest) == LOWEST_KEPT
    assert [round(t.confidence, 4) for t in lowest] == [0.5 + n / 10000 for n in range(LOWEST_KEPT)]
    assert sum(aggregate.histogram) == aggregate.records == 5000


def test_same_input_gives_the_same_summary(tmp_path: Path) -> None:
    lines = [json.dumps(record((0.5 + n / 5000, 0.5 - n / 5000))) for n in range(2500)]
    first, second = Aggregate(threshold=0.9), Aggregate(threshold=0.9)
    for aggregate in (first, second):
        consume((Line("x", i, s.encode()) for i, s in enumerate(lines)), aggregate)
    assert first.summary() == second.summary()
    assert first.timeline == second.timeline
    assert parse_line(lines[0]).confidence == 0.5
