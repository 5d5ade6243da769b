"""The event the workflow passes between the handlers, parsed into a typed model."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from common.errors import InvalidEvent


@dataclass(frozen=True)
class ImageEvent:
    """The fields every handler reads; `raw` keeps the whole event so extra fields pass through."""

    s3_bucket: str
    s3_key: str
    image_data: str
    raw: Mapping[str, Any]
    # The object's version id, when the caller names one (the ingest rule and make classify
    # do): the workflow classifies and records exactly that version.
    s3_version: str | None = None

    @property
    def source(self) -> str:
        """The object's address, for messages that name the input."""
        return f"s3://{self.s3_bucket}/{self.s3_key}"

    def to_event(self, **updates: Any) -> dict[str, Any]:
        """The outgoing event: the incoming one, every field kept, with `updates` applied."""
        return {**self.raw, **updates}


def parse_event(event: object) -> ImageEvent:
    """Validate the fields shared by all three handlers; raise InvalidEvent naming the field."""
    if not isinstance(event, Mapping):
        raise InvalidEvent(
            f"the event must be a JSON object with s3_bucket and s3_key, got {_kind(event)}"
        )
    bucket = _required_str(event, "s3_bucket")
    key = _required_str(event, "s3_key", bucket=bucket)
    image_data = event.get("image_data", "")
    if image_data is None:
        image_data = ""
    if not isinstance(image_data, str):
        raise InvalidEvent(
            f"event field image_data must be a base64 string, got {_kind(image_data)} "
            f"(s3://{bucket}/{key})"
        )
    version = event.get("s3_version")
    if version is not None and (not isinstance(version, str) or not version.strip()):
        raise InvalidEvent(
            f"event field s3_version must be a non-empty version id string, got {_kind(version)} "
            f"(s3://{bucket}/{key})"
        )
    return ImageEvent(
        s3_bucket=bucket, s3_key=key, image_data=image_data, raw=dict(event), s3_version=version
    )


def decode_image_data(event: ImageEvent, *, max_bytes: int) -> bytes:
    """The image bytes carried in image_data; InvalidEvent when absent, not base64 or too big."""
    if not event.image_data:
        raise InvalidEvent(
            f"event field image_data is empty for {event.source}; "
            "run serializeImageData before this step"
        )
    # base64 is 4/3 of the payload: refuse before decoding so a huge field costs nothing.
    if len(event.image_data) > (max_bytes * 4) // 3 + 4:
        raise InvalidEvent(
            f"event field image_data is {len(event.image_data)} characters for {event.source}, "
            f"more than an image of at most {max_bytes} bytes"
        )
    try:
        return base64.b64decode(event.image_data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidEvent(
            f"event field image_data is not valid base64 for {event.source}: {exc}"
        ) from None


def _required_str(event: Mapping[str, Any], field: str, *, bucket: str | None = None) -> str:
    where = f" (s3_bucket={bucket!r})" if bucket else ""
    if field not in event:
        raise InvalidEvent(
            f"event field {field} is missing{where}; the event needs s3_bucket and s3_key"
        )
    value = event[field]
    if not isinstance(value, str):
        raise InvalidEvent(f"event field {field} must be a string, got {_kind(value)}{where}")
    if not value.strip():
        raise InvalidEvent(f"event field {field} is empty{where}")
    return value


def _kind(value: object) -> str:
    """A short description of a wrong value for messages, without dumping large payloads."""
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"
