"""filterInferences: the THRESHOLD rule, its configuration and malformed inferences."""

from __future__ import annotations

import json
import time
from datetime import datetime
from types import ModuleType
from typing import Any

import pytest

from common.errors import ConfigurationError, InvalidEvent, ThresholdConfidenceNotMet
from tests.support.lambda_kit import SERVICE, FakeContext, load_event


def test_confident_bicycle_passes_with_label_and_confidence(filter_inferences: ModuleType) -> None:
    event = load_event("filter_inferences/confident_bicycle.json")
    result = filter_inferences.lambda_handler(event, FakeContext())
    assert (result["label"], result["confidence"]) == ("bicycle", 0.97)
    assert {key: result[key] for key in event} == event


def test_confident_motorcycle_passes(filter_inferences: ModuleType) -> None:
    event = load_event("filter_inferences/confident_motorcycle.json")
    result = filter_inferences.lambda_handler(event, FakeContext())
    assert (result["label"], result["confidence"]) == ("motorcycle", 0.98)


def test_confidence_exactly_at_the_threshold_passes(filter_inferences: ModuleType) -> None:
    event = load_event("filter_inferences/at_threshold.json")
    assert event["inferences"][0] == filter_inferences.DEFAULT_THRESHOLD
    assert filter_inferences.lambda_handler(event, FakeContext())["label"] == "bicycle"


def test_confidence_below_the_threshold_stops_the_workflow(filter_inferences: ModuleType) -> None:
    event = load_event("filter_inferences/below_threshold.json")
    with pytest.raises(ThresholdConfidenceNotMet) as raised:
        filter_inferences.lambda_handler(event, FakeContext())
    message = str(raised.value)
    for part in ("0.7100", "'bicycle'", "0.93", "test/bicycle_s_000513.png"):
        assert part in message


@pytest.mark.parametrize(
    ("threshold", "event_file", "passes"),
    [
        ("0.5", "filter_inferences/below_threshold.json", True),
        ("1", "filter_inferences/confident_bicycle.json", False),
        ("0.97", "filter_inferences/confident_bicycle.json", True),
        (" 0.98 ", "filter_inferences/confident_bicycle.json", False),
    ],
)
def test_threshold_comes_from_the_environment(
    filter_inferences: ModuleType,
    monkeypatch: pytest.MonkeyPatch,
    threshold: str,
    event_file: str,
    passes: bool,
) -> None:
    monkeypatch.setenv("THRESHOLD", threshold)
    event = load_event(event_file)
    if passes:
        filter_inferences.lambda_handler(event, FakeContext())
    else:
        with pytest.raises(ThresholdConfidenceNotMet):
            filter_inferences.lambda_handler(event, FakeContext())


@pytest.mark.parametrize("threshold", ["0", "1.5", "abc", "-0.1", "nan", "inf", "0,9"])
def test_bad_threshold_is_a_configuration_error(
    filter_inferences: ModuleType, monkeypatch: pytest.MonkeyPatch, threshold: str
) -> None:
    monkeypatch.setenv("THRESHOLD", threshold)
    event = load_event("filter_inferences/confident_bicycle.json")
    with pytest.raises(ConfigurationError, match=r"THRESHOLD=.*greater than 0 and at most 1"):
        filter_inferences.lambda_handler(event, FakeContext())


def test_config_is_read_once_per_container(
    filter_inferences: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = load_event("filter_inferences/below_threshold.json")
    monkeypatch.setenv("THRESHOLD", "0.5")
    filter_inferences.lambda_handler(event, FakeContext())
    # A warm container keeps the configuration it started with.
    monkeypatch.setenv("THRESHOLD", "0.99")
    filter_inferences.lambda_handler(event, FakeContext())
    filter_inferences.get_config.cache_clear()
    with pytest.raises(ThresholdConfidenceNotMet):
        filter_inferences.lambda_handler(event, FakeContext())


@pytest.mark.parametrize(
    ("event_file", "match"),
    [
        ("filter_inferences/inferences_missing.json", "run classifyImage first"),
        ("filter_inferences/inferences_empty.json", "got 0"),
        ("filter_inferences/inferences_as_string.json", "got str"),
        ("filter_inferences/inferences_out_of_range.json", "outside"),
    ],
)
def test_malformed_inferences_are_invalid_events(
    filter_inferences: ModuleType, event_file: str, match: str
) -> None:
    with pytest.raises(InvalidEvent, match=match):
        filter_inferences.lambda_handler(load_event(event_file), FakeContext())


def test_log_lines_for_pass_and_stop(
    filter_inferences: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    filter_inferences.lambda_handler(
        load_event("filter_inferences/confident_motorcycle.json"), FakeContext()
    )
    with pytest.raises(ThresholdConfidenceNotMet):
        filter_inferences.lambda_handler(
            load_event("filter_inferences/below_threshold.json"), FakeContext()
        )
    passed, stopped = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert (passed["outcome"], passed["label"], passed["confidence"]) == ("ok", "motorcycle", 0.98)
    assert (stopped["outcome"], stopped["error_type"]) == ("error", "ThresholdConfidenceNotMet")
    assert (stopped["label"], stopped["confidence"]) == ("bicycle", 0.71)
    assert stopped["s3_key"] == "test/bicycle_s_000513.png"
    assert stopped["duration_ms"] >= 0


# The Embedded Metric Format line (contract-12): the invocation's log record is also the EMF
# document. The rules checked are the specification's:
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html


def emf_lines(out: str) -> list[dict[str, Any]]:
    return [line for line in map(json.loads, out.splitlines()) if "_aws" in line]


def assert_emf_document(line: dict[str, Any]) -> None:
    """Every name a directive references is a top-level member of the right type."""
    meta = line["_aws"]
    assert isinstance(meta["Timestamp"], int)
    for directive in meta["CloudWatchMetrics"]:
        assert set(directive) == {"Namespace", "Dimensions", "Metrics"}
        for dimension_set in directive["Dimensions"]:
            assert all(isinstance(line[name], str) for name in dimension_set)
        for metric in directive["Metrics"]:
            assert set(metric) == {"Name", "Unit"}
            assert isinstance(line[metric["Name"]], int | float)


@pytest.mark.parametrize(
    ("event_file", "classified", "confidence"),
    [
        ("filter_inferences/confident_motorcycle.json", 1, 0.98),
        ("filter_inferences/at_threshold.json", 1, 0.93),
        ("filter_inferences/below_threshold.json", 0, 0.71),
    ],
)
def test_a_decision_logs_one_emf_document(
    filter_inferences: ModuleType,
    capsys: pytest.CaptureFixture[str],
    event_file: str,
    classified: int,
    confidence: float,
) -> None:
    before = time.time() * 1000
    try:
        filter_inferences.lambda_handler(load_event(event_file), FakeContext())
    except ThresholdConfidenceNotMet:
        assert classified == 0  # the unsure case still raises: the workflow's contract
    else:
        assert classified == 1
    (line,) = emf_lines(capsys.readouterr().out)
    assert_emf_document(line)
    assert line["_aws"]["CloudWatchMetrics"] == [
        {
            "Namespace": "SconesUnlimited/Classifier",
            "Dimensions": [["Service"]],
            "Metrics": [
                {"Name": "Classified", "Unit": "Count"},
                {"Name": "NeedsReview", "Unit": "Count"},
                {"Name": "Confidence", "Unit": "None"},
            ],
        }
    ]
    assert line["Service"] == SERVICE
    assert (line["Classified"], line["NeedsReview"]) == (classified, 1 - classified)
    assert line["Confidence"] == confidence
    # Milliseconds since the epoch, the same instant as the record's ISO timestamp.
    assert before - 1 <= line["_aws"]["Timestamp"] <= time.time() * 1000 + 1
    iso = datetime.fromisoformat(line["timestamp"])
    assert line["_aws"]["Timestamp"] == int(iso.timestamp() * 1000)


def test_the_service_dimension_comes_from_service_name(
    filter_inferences: ModuleType,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SERVICE_NAME", "scones-prod")
    filter_inferences.lambda_handler(
        load_event("filter_inferences/confident_bicycle.json"), FakeContext()
    )
    (line,) = emf_lines(capsys.readouterr().out)
    assert line["Service"] == "scones-prod"


@pytest.mark.parametrize("value", [None, "", "   ", "has space", "-leading"])
def test_service_name_must_be_set_and_valid(
    filter_inferences: ModuleType, monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    if value is None:
        monkeypatch.delenv("SERVICE_NAME")
    else:
        monkeypatch.setenv("SERVICE_NAME", value)
    with pytest.raises(ConfigurationError, match="SERVICE_NAME"):
        filter_inferences.lambda_handler(
            load_event("filter_inferences/confident_bicycle.json"), FakeContext()
        )


@pytest.mark.parametrize(
    "event_file",
    ["filter_inferences/inferences_missing.json", "filter_inferences/inferences_out_of_range.json"],
)
def test_no_metrics_without_a_decision(
    filter_inferences: ModuleType, capsys: pytest.CaptureFixture[str], event_file: str
) -> None:
    with pytest.raises(InvalidEvent):
        filter_inferences.lambda_handler(load_event(event_file), FakeContext())
    (line,) = (json.loads(text) for text in capsys.readouterr().out.splitlines())
    assert line["error_type"] == "InvalidEvent"
    assert "_aws" not in line and "Classified" not in line
