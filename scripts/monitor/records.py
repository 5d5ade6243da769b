"""Decode one data capture line into the few fields the report needs."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from scripts.monitor.errors import MalformedRecordError

# The model's output order (functions/common/inference.py); not imported because scripts/
# must not depend on how the Lambda zips are laid out.
CLASSES: tuple[str, ...] = ("bicycle", "motorcycle")


@dataclass(frozen=True, slots=True)
class CaptureRecord:
    """One inference: when, what the model answered, and the image it was sent (base64)."""

    time: datetime
    probabilities: tuple[float, ...]
    label_index: int  # index of the top class in CLASSES
    input_base64: str | None
    event_id: str | None
    inference_id: str | None

    @property
    def label(self) -> str:
        return CLASSES[self.label_index]

    @property
    def confidence(self) -> float:
        return self.probabilities[self.label_index]


def parse_line(line: bytes | str) -> CaptureRecord:
    """The record on one line; MalformedRecordError says what is wrong with it."""
    try:
        raw = json.loads(line)
    except (UnicodeDecodeError, ValueError) as error:
        raise MalformedRecordError(f"not JSON ({error})") from None
    if not isinstance(raw, dict):
        raise MalformedRecordError("not a JSON object")
    capture = _object(raw, "captureData")
    metadata = _object(raw, "eventMetadata")
    output = _object(capture, "endpointOutput")
    probabilities = decode_output(output)
    input_base64 = None
    if isinstance(capture.get("endpointInput"), dict):
        input_base64 = input_data(capture["endpointInput"])
    return CaptureRecord(
        time=parse_time(metadata.get("inferenceTime")),
        probabilities=probabilities,
        label_index=probabilities.index(max(probabilities)),
        input_base64=input_base64,
        event_id=_optional_str(metadata.get("eventId")),
        inference_id=_optional_str(metadata.get("inferenceId")),
    )


def decode_output(output: dict[str, Any]) -> tuple[float, ...]:
    """Class probabilities from an endpointOutput in any of AWS's encodings (JSON, BASE64, CSV)."""
    data, encoding = output.get("data"), str(output.get("encoding", "")).upper()
    if not isinstance(data, str):
        raise MalformedRecordError("endpointOutput.data is missing")
    if encoding == "BASE64":
        try:
            data = base64.b64decode(data, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise MalformedRecordError("endpointOutput.data is not base64 of UTF-8 text") from None
    if encoding == "CSV" or (encoding == "BASE64" and "csv" in _content_type(output)):
        values: Any = data.strip().split(",")
    elif encoding in {"JSON", "BASE64"}:
        try:
            values = json.loads(data)
        except ValueError:
            raise MalformedRecordError(f"endpointOutput.data is not JSON: {data[:60]!r}") from None
    else:
        raise MalformedRecordError(f"endpointOutput.encoding {encoding or 'missing'!r} is unknown")
    return probabilities_of(values)


def input_data(endpoint_input: dict[str, Any]) -> str | None:
    """The request body as base64 text (the form serializeImageData's image_data takes)."""
    data = endpoint_input.get("data")
    if not isinstance(data, str) or not data:
        return None
    if str(endpoint_input.get("encoding", "")).upper() == "BASE64":
        return data
    return None  # a text body is not an image: nothing to show or join


def decode_input(input_base64: str) -> bytes:
    try:
        return base64.b64decode(input_base64, validate=True)
    except (binascii.Error, ValueError):
        raise MalformedRecordError("endpointInput.data is not valid base64") from None


def parse_time(value: object, name: str = "eventMetadata.inferenceTime") -> datetime:
    if not isinstance(value, str):
        raise MalformedRecordError(f"{name} is missing")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise MalformedRecordError(f"{name} {value[:40]!r} is not a time") from None
    # AWS writes UTC; a time without zone is taken as UTC rather than the reader's local time.
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def probabilities_of(values: Any, name: str = "endpointOutput") -> tuple[float, ...]:
    """One probability per class in CLASSES order, each in [0, 1]; `name` says where from."""
    if not isinstance(values, list) or len(values) != len(CLASSES):
        raise MalformedRecordError(
            f"{name} is not {len(CLASSES)} class probabilities: {str(values)[:60]}"
        )
    try:
        probabilities = tuple(float(v) for v in values)
    except (TypeError, ValueError):
        raise MalformedRecordError(f"{name} holds non-numbers: {str(values)[:60]}") from None
    if not all(0.0 <= p <= 1.0 for p in probabilities):
        raise MalformedRecordError(f"{name} probabilities outside [0, 1]: {probabilities}")
    return probabilities


def _object(parent: dict[str, Any], name: str) -> dict[str, Any]:
    value = parent.get(name)
    if not isinstance(value, dict):
        raise MalformedRecordError(f"{name} is missing or not an object")
    return value


def _optional_str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _content_type(part: dict[str, Any]) -> str:
    return str(part.get("observedContentType", "")).lower()
