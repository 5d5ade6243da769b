"""`python -m scripts.monitor` against moto's S3 and Lambda, and offline on a capture folder."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from scripts.monitor import cli, settings
from tests.support.monitor_kit import ENDPOINT, START, capture_key, jsonl, record, write_files

BUCKET = "scones-capture"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Any]:
    """moto in process; the CLI's clients are built as for a real AWS environment."""
    monkeypatch.chdir(tmp_path)  # no build/classify/results.jsonl of the developer's
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    for name, value in [
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ]:
        monkeypatch.setenv(name, value)
    with mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        yield s3


def _args(out: Path, *extra: str) -> list[str]:
    return ["--env", "dev", "--out", str(out), "--max-executions", "0", *extra]


def _target_args() -> list[str]:
    return ["--bucket", BUCKET, "--capture-prefix", "datacapture", "--endpoint-name", ENDPOINT]


def test_reads_every_capture_file_of_the_endpoint_from_s3(
    aws: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for hour, probabilities in [(1, [(0.97, 0.03), (0.2, 0.8)]), (5, [(0.6, 0.4)])]:
        when = START.replace(hour=hour)
        lines: list[Any] = [record(p, when) for p in probabilities]
        if hour == 5:
            lines.append("oops")
        aws.put_object(Bucket=BUCKET, Key=capture_key("datacapture", when), Body=jsonl(lines))
    # Neither another endpoint's capture nor a stray file is read.
    aws.put_object(
        Bucket=BUCKET, Key=capture_key("datacapture", START, "other"), Body=jsonl([record()])
    )
    aws.put_object(Bucket=BUCKET, Key=f"datacapture/{ENDPOINT}/README.txt", Body=b"hello")

    assert cli.main(_args(tmp_path / "out", *_target_args(), "--threshold", "0.9")) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert (summary["records"], summary["capture_files"]) == (3, 2)
    assert summary["malformed"]["first"][0]["location"].startswith(
        f"s3://{BUCKET}/datacapture/{ENDPOINT}/AllTraffic/2026/11/30/05/"
    )
    assert [h["count"] for h in summary["by_hour_utc"] if h["count"]] == [2, 1]
    assert (summary["threshold"], summary["threshold_source"]) == (0.9, "--threshold")
    printed = capsys.readouterr().out
    assert "3 capture records (1 malformed lines)" in printed
    assert f"report: {tmp_path / 'out' / 'report.html'}" in printed


def test_an_empty_prefix_gives_a_report_of_zero_records(aws: Any, tmp_path: Path) -> None:
    assert cli.main(_args(tmp_path / "out", *_target_args())) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["records"] == 0
    assert (summary["threshold"], summary["threshold_source"]) == (0.93, "default")
    assert "No data capture records" in (tmp_path / "out" / "report.html").read_text()


def test_a_missing_bucket_is_an_actionable_error(
    aws: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--bucket", "no-such-bucket", "--capture-prefix", "c", "--endpoint-name", "e"]
    assert cli.main(_args(tmp_path / "out", *args)) == 2
    error = capsys.readouterr().err
    assert "NoSuchBucket" in error and "make apply" in error


def _outputs(**changes: Any) -> dict[str, Any]:
    return {
        "bucket_name": BUCKET,
        "data_capture_s3_uri": f"s3://{BUCKET}/datacapture",
        "endpoint_name": ENDPOINT,
        "state_machine_arn": "arn:aws:states:us-east-1:123456789012:stateMachine:classify",
        "function_names": {"filter_inferences": "filterInferences"},
        **changes,
    }


def _filter_inferences(threshold: str) -> None:
    role = boto3.client("iam").create_role(
        RoleName="lambda",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", "def lambda_handler(event, context):\n    return event\n")
    boto3.client("lambda").create_function(
        FunctionName="filterInferences",
        Runtime="python3.12",
        Role=role,
        Handler="handler.lambda_handler",
        Code={"ZipFile": code.getvalue()},
        Environment={"Variables": {"THRESHOLD": threshold}},
    )


def test_target_and_threshold_come_from_terraform_and_the_lambda(
    aws: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "terraform_outputs", lambda env: _outputs())
    _filter_inferences("0.8")
    aws.put_object(Bucket=BUCKET, Key=capture_key("datacapture", START), Body=jsonl([record()]))
    assert cli.main(_args(tmp_path / "out")) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["records"] == 1
    assert (summary["threshold"], summary["threshold_source"]) == (
        0.8,
        "filterInferences THRESHOLD",
    )
    assert summary["capture_source"] == f"s3://{BUCKET}/datacapture/{ENDPOINT}/"

    monkeypatch.setattr(settings, "terraform_outputs", lambda env: _outputs(threshold=0.95))
    assert cli.main(_args(tmp_path / "out")) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert (summary["threshold"], summary["threshold_source"]) == (0.95, "Terraform output")


def test_disabled_data_capture_says_how_to_enable_it(
    aws: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(
        settings, "terraform_outputs", lambda env: _outputs(data_capture_s3_uri=None)
    )
    assert cli.main(_args(tmp_path / "out")) == 2
    assert "enable_data_capture = true" in capsys.readouterr().err


def test_offline_on_a_capture_folder_with_a_results_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    write_files(tmp_path / "capture", {START: [record(inference_id="test/a.png")]})
    results = tmp_path / "results.jsonl"
    results.write_text(
        json.dumps(
            {"key": "test/a.png", "status": "SUCCEEDED", "label": "bicycle", "confidence": 0.97}
        )
        + "\n"
    )
    argv = ["--capture-dir", "capture", "--results", str(results), "--out", "out"]
    assert cli.main(argv) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["joined"]["records"] == 1
    assert summary["environment"] is None
    assert "joined with the workflow: 1" in capsys.readouterr().out


def test_missing_inputs_are_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--capture-dir", str(tmp_path / "nowhere"), "--out", str(tmp_path)]) == 2
    assert "is not a folder" in capsys.readouterr().err
    (tmp_path / "capture").mkdir()
    argv = ["--capture-dir", str(tmp_path / "capture"), "--results", str(tmp_path / "r.jsonl")]
    assert cli.main([*argv, "--out", str(tmp_path / "out")]) == 2
    assert "make classify" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["--max-executions", "-1"])


def test_unreadable_outputs_say_what_to_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Read by training.terraform_outputs, the one reader; the message stays the monitor's own.
    assert cli.main(["--env", "nowhere", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "infra/envs/nowhere does not exist; check ENV" in err and "--capture-dir" in err
