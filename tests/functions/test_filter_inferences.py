"""filterInferences: the THRESHOLD rule, its configuration and malformed inferences."""

from __future__ import annotations

import json
from types import ModuleType

import pytest

from common.errors import ConfigurationError, InvalidEvent, ThresholdConfidenceNotMet
from tests.support.lambda_kit import FakeContext, load_event


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
