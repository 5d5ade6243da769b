"""Decoding one capture line: output encodings, inputs, times and what counts as malformed."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest

from scripts.monitor.errors import MalformedRecordError
from scripts.monitor.records import decode_input, parse_line
from tests.support.monitor_kit import png, record


@pytest.mark.parametrize("encoding", ["JSON", "BASE64", "CSV"])
def test_output_encodings_decode_to_the_same_probabilities(encoding: str) -> None:
    parsed = parse_line(json.dumps(record((0.2, 0.8), output_encoding=encoding)))
    assert parsed.probabilities == (0.2, 0.8)
    assert (parsed.label, parsed.confidence) == ("motorcycle", 0.8)


def test_base64_output_of_csv_content() -> None:
    raw = record((0.6, 0.4))
    raw["captureData"]["endpointOutput"] |= {
        "observedContentType": "text/csv",
        "data": base64.b64encode(b"0.6,0.4").decode(),
        "encoding": "BASE64",
    }
    assert parse_line(json.dumps(raw)).probabilities == (0.6, 0.4)


def test_input_image_time_and_ids() -> None:
    image = png((1, 2, 3))
    parsed = parse_line(json.dumps(record(image=image, inference_id="run-1")).encode())
    assert parsed.input_base64 is not None
    assert decode_input(parsed.input_base64) == image
    assert parsed.time == datetime(2026, 11, 30, 0, 0, tzinfo=UTC)
    assert parsed.inference_id == "run-1"
    assert parsed.event_id


def test_a_record_without_input_is_still_an_inference() -> None:
    raw = record()
    del raw["captureData"]["endpointInput"]
    assert parse_line(json.dumps(raw)).input_base64 is None


def _broken(change: str) -> str:
    raw = record()
    output = raw["captureData"]["endpointOutput"]
    if change == "no output":
        del raw["captureData"]["endpointOutput"]
    elif change == "three classes":
        output["data"] = "[0.1, 0.2, 0.7]"
    elif change == "not json":
        output["data"] = "{oops"
    elif change == "bad base64":
        output |= {"encoding": "BASE64", "data": "!!!"}
    elif change == "unknown encoding":
        output["encoding"] = "XML"
    elif change == "out of range":
        output["data"] = "[1.5, -0.5]"
    elif change == "no time":
        del raw["eventMetadata"]["inferenceTime"]
    elif change == "bad time":
        raw["eventMetadata"]["inferenceTime"] = "yesterday"
    return json.dumps(raw)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        (b"\xff\xfe", "not JSON"),
        (_broken("no output"), "endpointOutput is missing"),
        (_broken("three classes"), "not 2 class probabilities"),
        (_broken("not json"), "is not JSON"),
        (_broken("bad base64"), "not base64"),
        (_broken("unknown encoding"), "'XML' is unknown"),
        (_broken("out of range"), "outside [0, 1]"),
        (_broken("no time"), "inferenceTime is missing"),
        (_broken("bad time"), "is not a time"),
    ],
)
def test_malformed_lines_say_what_is_wrong(line: str | bytes, reason: str) -> None:
    with pytest.raises(MalformedRecordError, match=reason.replace("[", r"\[")):
        parse_line(line)
