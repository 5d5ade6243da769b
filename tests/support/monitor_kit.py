"""Synthetic data capture records and files, in the layout SageMaker writes them."""

from __future__ import annotations

import base64
import io
import json
import random
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from PIL import Image

from scripts.monitor.sources import Line

ENDPOINT = "scones-endpoint"
START = datetime(2026, 11, 30, 0, 0, 0, tzinfo=UTC)


def png(colour: tuple[int, int, int], size: int = 4) -> bytes:
    """A tiny real PNG; distinct colours give distinct bytes (and join digests)."""
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def record(
    probabilities: tuple[float, float] = (0.97, 0.03),
    when: datetime = START,
    image: bytes | None = None,
    output_encoding: str = "JSON",
    inference_id: str | None = None,
) -> dict[str, Any]:
    """One capture record as SageMaker writes it (output JSON, BASE64 or CSV)."""
    text = (
        ",".join(str(p) for p in probabilities)
        if output_encoding == "CSV"
        else json.dumps(list(probabilities))
    )
    output = {
        "observedContentType": "text/csv" if output_encoding == "CSV" else "application/json",
        "mode": "OUTPUT",
        "data": text,
        "encoding": output_encoding,
    }
    if output_encoding == "BASE64":
        output["data"] = base64.b64encode(text.encode()).decode()
    metadata = {"eventId": str(uuid.uuid4()), "inferenceTime": when.strftime("%Y-%m-%dT%H:%M:%SZ")}
    if inference_id:
        metadata["inferenceId"] = inference_id
    return {
        "captureData": {
            "endpointInput": {
                "observedContentType": "image/png",
                "mode": "INPUT",
                "data": base64.b64encode(image or png((200, 10, 10))).decode(),
                "encoding": "BASE64",
            },
            "endpointOutput": output,
        },
        "eventMetadata": metadata,
        "eventVersion": "0",
    }


def capture_key(prefix: str, when: datetime, endpoint: str = ENDPOINT) -> str:
    """<prefix>/<endpoint>/AllTraffic/YYYY/MM/DD/HH/<mm-ss-mmm-uuid>.jsonl"""
    name = f"{when:%M-%S}-{when.microsecond // 1000:03d}-{uuid.uuid4()}.jsonl"
    return "/".join(p for p in (prefix, endpoint, "AllTraffic", f"{when:%Y/%m/%d/%H}", name) if p)


def jsonl(records: Iterable[dict[str, Any] | str]) -> bytes:
    """Records as JSON lines; a str is written as-is (for malformed lines)."""
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records).encode()


def write_files(root: Path, files: dict[datetime, list[dict[str, Any] | str]]) -> list[Path]:
    """One capture file per timestamp under root, laid out as in S3 (without the prefix)."""
    written = []
    for when, records in files.items():
        path = root / capture_key("", when)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(jsonl(records))
        written.append(path)
    return written


def stream(count: int, images: list[bytes]) -> Iterator[Line]:
    """`count` capture lines made on the fly, spread over 24 hours; nothing is kept."""
    encoded = [base64.b64encode(image).decode() for image in images]
    for n in range(count):
        when = START + timedelta(seconds=n * 86400 // count)
        p = 0.5 + (n % 500) / 1000
        line = {
            "captureData": {
                "endpointInput": {
                    "observedContentType": "image/png",
                    "mode": "INPUT",
                    "data": encoded[n % len(encoded)],
                    "encoding": "BASE64",
                },
                "endpointOutput": {
                    "observedContentType": "application/json",
                    "mode": "OUTPUT",
                    "data": f"[{p}, {1 - p}]",
                    "encoding": "JSON",
                },
            },
            "eventMetadata": {"eventId": f"e{n}", "inferenceTime": f"{when:%Y-%m-%dT%H:%M:%SZ}"},
            "eventVersion": "0",
        }
        yield Line("stream", n + 1, json.dumps(line).encode())


def noise_png(seed: int, size: int = 32) -> bytes:
    """Random pixels compress badly: about the 3-4 KB serializeImageData sends for 32x32."""
    buffer = io.BytesIO()
    pixels = random.Random(seed).randbytes(size * size * 3)
    Image.frombytes("RGB", (size, size), pixels).save(buffer, format="PNG")
    return buffer.getvalue()
