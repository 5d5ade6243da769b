"""`make evaluate`: metrics, the report file, and the endpoint and local-model paths."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from training.evaluate import endpoint_predictor, evaluate, main, split_images
from training.metrics import report, summary_table


def test_report_counts():
    result = report(
        ["bicycle", "motorcycle"],
        [0, 0, 1, 1, 1],
        [[0.9, 0.1], [0.4, 0.6], [0.2, 0.8], [0.3, 0.7], [0.55, 0.45]],
    )
    assert result["accuracy"] == pytest.approx(3 / 5)
    assert result["confusion_matrix"]["counts"] == [[1, 1], [1, 2]]
    assert result["per_class"]["bicycle"] == {"precision": 0.5, "recall": 0.5, "support": 2}
    assert result["per_class"]["motorcycle"]["precision"] == pytest.approx(2 / 3)
    assert sum(result["confidence_histogram"]["counts"]) == 5
    assert result["confidence_histogram"]["edges"][0] == 0.5
    assert result["confidence_histogram"]["counts"][8] == 1  # the 0.9, in [0.90, 0.95)
    assert "accuracy 0.6000" in summary_table(result)


def write_split(root: Path) -> None:
    (root / "test" / "bicycle").mkdir(parents=True)
    (root / "test" / "motorcycle").mkdir(parents=True)
    for relative in ("bicycle/a.png", "motorcycle/b.png"):
        (root / "test" / relative).write_bytes(b"png:" + relative.encode())
    (root / "test.lst").write_text("0\t0\tbicycle/a.png\n1\t1\tmotorcycle/b.png\n")


def test_evaluate_with_a_fake_predictor(tmp_path):
    write_split(tmp_path)
    seen: list[tuple[bytes, str]] = []

    def predict(body: bytes, content_type: str) -> list[float]:
        seen.append((body, content_type))
        return [0.8, 0.2] if b"bicycle" in body else [0.3, 0.7]

    result = evaluate(predict, split_images(tmp_path))
    assert result["accuracy"] == 1.0
    assert seen[0] == (b"png:bicycle/a.png", "image/png")


class FakeRuntime:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    def invoke_endpoint(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        return {"Body": io.BytesIO(b"[0.25, 0.75]")}


def test_endpoint_predictor_sends_one_image_per_request():
    runtime = FakeRuntime()
    predict = endpoint_predictor(runtime, "vehicle-endpoint")
    assert predict(b"img", "image/png") == [0.25, 0.75]
    assert runtime.requests == [
        {
            "EndpointName": "vehicle-endpoint",
            "ContentType": "image/png",
            "Accept": "application/json",
            "Body": b"img",
        }
    ]


def test_cli_writes_the_report_and_enforces_a_minimum(tmp_path, monkeypatch, capsys):
    write_split(tmp_path)
    monkeypatch.setattr(
        "training.evaluate.local_predictor", lambda model_dir: lambda body, ct: [0.6, 0.4]
    )
    out = tmp_path / "eval" / "report.json"
    args = ["--local-model", str(tmp_path), "--data", str(tmp_path), "--out", str(out)]
    assert main(args) == 0
    saved = json.loads(out.read_text())
    assert saved["accuracy"] == 0.5 and saved["split"] == "test"
    assert "confusion" in capsys.readouterr().out
    assert main([*args, "--min-accuracy", "0.9"]) == 3


def test_cli_without_endpoint_says_what_to_pass(tmp_path, capsys):
    write_split(tmp_path)
    code = main(["--env", "nowhere", "--envs-dir", str(tmp_path), "--data", str(tmp_path)])
    assert code == 1
    assert "--endpoint NAME" in capsys.readouterr().err
