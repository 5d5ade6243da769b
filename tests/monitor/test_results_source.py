"""`make monitor SOURCE=results`: the report's records from the results table (local cloud)."""

from __future__ import annotations

import argparse
import json
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from localcloud.testing import RunningCloud
from scripts.monitor import cli, pipeline
from scripts.monitor.sources import ResultsSource
from tests.support.monitor_kit import START, record, write_files
from tests.support.results_kit import create_table, item, put

THRESHOLD = 0.9
# (probabilities, minutes after START): both classes, both sides of the threshold, three hours.
INFERENCES = [
    ((0.97, 0.03), 5),
    ((0.2, 0.8), 20),
    ((0.55, 0.45), 70),
    ((0.01, 0.99), 130),
    ((0.93, 0.07), 135),
    ((0.6, 0.4), 140),
]
# The figures' statements: what must agree between the two sources.
COMPARED = [
    "records",
    "below_threshold",
    "class_balance",
    "histogram",
    "first_inference",
    "last_inference",
    "threshold",
]


@pytest.fixture
def table(local_cloud_env: RunningCloud) -> str:
    name = create_table(local_cloud_env.client("dynamodb"), f"monitor-{uuid.uuid4().hex[:8]}")
    items = [
        item(
            f"test/image {n}, é.png",
            START + timedelta(minutes=minutes),
            "classified" if max(p) >= THRESHOLD else "needs_review",
            p,
        )
        for n, (p, minutes) in enumerate(INFERENCES)
    ]
    items.append(item("test/broken.png", START + timedelta(minutes=1), "failed"))
    items.append(item("test/broken 2.png", START + timedelta(minutes=2), "failed"))
    put(local_cloud_env.client("dynamodb"), name, items)
    return name


def _summary(out: Path) -> dict[str, Any]:
    summary: dict[str, Any] = json.loads((out / "summary.json").read_text())
    return summary


def test_the_results_table_gives_the_report_equivalent_capture_gives(
    table: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capture = tmp_path / "capture"
    write_files(
        capture, {START + timedelta(minutes=m): [record(p, START + timedelta(minutes=m))]
                  for p, m in INFERENCES}
    )  # fmt: skip
    common = ["--threshold", str(THRESHOLD), "--max-executions", "0"]
    assert cli.main(["--capture-dir", str(capture), "--out", str(tmp_path / "c"), *common]) == 0
    from_results = ["--env", "local", "--source", "results", "--results-table", table]
    assert cli.main([*from_results, "--out", str(tmp_path / "r"), *common]) == 0
    printed = capsys.readouterr().out

    by_capture, by_results = _summary(tmp_path / "c"), _summary(tmp_path / "r")
    assert by_results["records"] == len(INFERENCES)
    for name in COMPARED:
        assert by_results[name] == by_capture[name], name
    assert by_results["mean_confidence"] == pytest.approx(by_capture["mean_confidence"])
    for hour, other in zip(by_results["by_hour_utc"], by_capture["by_hour_utc"], strict=True):
        assert hour == pytest.approx(other)
    assert [h["count"] for h in by_results["by_hour_utc"][:3]] == [2, 1, 3]
    # Every figure drawn from capture is drawn from the table, and exists.
    assert by_results["figures"] == by_capture["figures"]
    assert {"confidence", "timeline", "hours", "classes"} <= set(by_results["figures"])
    for file_name in by_results["figures"].values():
        assert (tmp_path / "r" / file_name).stat().st_size > 0
    # The failed items are outcomes, not records: the share that failed and why.
    (outcomes,) = by_results["outcomes"]
    assert outcomes["statuses"] == {"classified": 3, "needs_review": 3, "failed": 2}
    assert (outcomes["failed"], outcomes["finished"]) == (2, 8)
    assert outcomes["errors"][0]["error"] == "InvalidImage"
    assert (by_results["source"], by_results["capture_source"]) == (
        "results",
        f"DynamoDB table {table}",
    )
    html = (tmp_path / "r" / "report.html").read_text()
    assert f"DynamoDB table {table}" in html and "Capture files" not in html
    assert "6 results (0 malformed items)" in printed
    assert f"results table {table}: 2/8 failed (25.0%)" in printed


def test_more_items_than_a_page_and_malformed_items_are_all_accounted(
    local_cloud_env: RunningCloud, tmp_path: Path
) -> None:
    dynamodb = local_cloud_env.client("dynamodb")
    name = create_table(dynamodb, f"monitor-{uuid.uuid4().hex[:8]}")
    items = [item(f"test/{n}.png", START + timedelta(minutes=n)) for n in range(7)]
    items.append(item("test/bad.png", START, inferences="[0.5]"))
    items.append(item("test/worse.png", START, inferences="not json"))
    put(dynamodb, name, items)
    source = ResultsSource(dynamodb, name, page_size=2)
    report = pipeline.run(source, tmp_path / "out", THRESHOLD, None, [source.outcomes])
    summary = report.aggregate.summary()
    assert (summary["records"], summary["malformed"]["count"]) == (7, 2)
    assert summary["malformed"]["reasons"] == {"inferences is not 2 class probabilities": 1,
                                               "inferences is not JSON": 1}  # fmt: skip
    locations = {entry["location"] for entry in summary["malformed"]["first"]}
    assert locations == {
        f"dynamodb://{name}/test/bad.png@v1",
        f"dynamodb://{name}/test/worse.png@v1",
    }
    assert source.outcomes.statuses == {"classified": 9}


def test_an_empty_table_says_so(local_cloud_env: RunningCloud, tmp_path: Path) -> None:
    name = create_table(local_cloud_env.client("dynamodb"), f"monitor-{uuid.uuid4().hex[:8]}")
    args = ["--env", "local", "--results-table", name, "--out", str(tmp_path), "--threshold", "0.9"]
    assert cli.main(args) == 0
    assert _summary(tmp_path)["records"] == 0
    assert "No inference results" in (tmp_path / "report.html").read_text()


def test_a_missing_table_is_an_error_naming_make_apply(
    local_cloud_env: RunningCloud, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--env", "local", "--results-table", "no-such-table", "--out", str(tmp_path)]
    assert cli.main([*args, "--threshold", "0.9"]) == 2
    error = capsys.readouterr().err
    assert "there is no DynamoDB table 'no-such-table'" in error and "make plan apply" in error


def _args(*argv: str) -> argparse.Namespace:
    return cli.parse_args(["--env", "dev", *argv])


@pytest.mark.parametrize(
    ("outputs", "argv", "chosen"),
    [
        ({"data_capture_s3_uri": "s3://b/capture", "results_table_name": "t"}, [], "capture"),
        ({"data_capture_s3_uri": None, "results_table_name": "t"}, [], "results"),
        ({"data_capture_s3_uri": None}, [], "capture"),  # the capture path says what is off
        ({"data_capture_s3_uri": "s3://b/capture"}, ["--source", "results"], "results"),
        ({"results_table_name": "t"}, ["--source", "capture"], "capture"),
        ({}, ["--capture-dir", "somewhere"], "capture"),
        ({}, ["--results-table", "t"], "results"),
        ({}, ["--bucket", "b", "--capture-prefix", "p", "--endpoint-name", "e"], "capture"),
    ],
)
def test_auto_reads_the_capture_when_there_is_one_else_the_results_table(
    monkeypatch: pytest.MonkeyPatch, outputs: dict[str, Any], argv: list[str], chosen: str
) -> None:
    monkeypatch.setattr(cli.settings, "terraform_outputs", lambda env: outputs)
    assert cli.choose_source(_args(*argv))[0] == chosen


def test_capture_dir_and_the_results_table_do_not_mix(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        _args("--capture-dir", "x", "--source", "results")
    assert stopped.value.code == 2
    assert "--capture-dir reads data capture" in capsys.readouterr().err


def test_no_results_table_output_names_make_apply(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli.settings, "terraform_outputs", lambda env: {"bucket_name": "b"})
    assert cli.main(["--env", "dev", "--source", "results", "--out", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert "no output results_table_name" in error and "make plan apply ENV=dev" in error
