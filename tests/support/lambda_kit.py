"""Helpers for the Lambda tests: events, fake context, crafted images and a fake SageMaker."""

from __future__ import annotations

import io
import json
import struct
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from PIL import Image

REPO_ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS_DIR = REPO_ROOT / "functions"
EVENTS_DIR = REPO_ROOT / "tests" / "events"
BUCKET = "scones-unlimited-test"
ENDPOINT = "scones-vehicle-classifier"
SERVICE = "scones-test"  # filterInferences' SERVICE_NAME (the metrics' Service dimension)


def load_event(relative: str) -> dict[str, Any]:
    """An event stored under tests/events/, e.g. "filter_inferences/confident_bicycle.json"."""
    event: dict[str, Any] = json.loads((EVENTS_DIR / relative).read_text(encoding="utf-8"))
    return event


@dataclass
class FakeContext:
    """The attributes of the Lambda context that the handlers read."""

    function_name: str = "test-function"
    aws_request_id: str = "00000000-0000-0000-0000-000000000001"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:test-function"


def image_bytes(
    mode: str = "RGB", size: tuple[int, int] = (32, 32), fmt: str = "PNG", **save: Any
) -> bytes:
    """A real image with some structure (a gradient), so resizing has something to do."""
    base = Image.linear_gradient("L")
    across = base.transpose(Image.Transpose.ROTATE_90)
    if mode == "RGB":
        image = Image.merge("RGB", (base, across, Image.new("L", base.size, 128))).resize(size)
    else:
        image = base.resize(size).convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **save)
    return buffer.getvalue()


def png_header_claiming(width: int, height: int) -> bytes:
    """A PNG whose IHDR (with a valid CRC) claims width x height, with one tiny IDAT.

    Real decompression bombs are like this: a few bytes that promise gigabytes of pixels.
    """

    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@dataclass
class FakeSageMaker:
    """A stand-in for the SageMaker runtime API on localhost, answering like a real endpoint.

    Each request takes the next scripted (status, body, error_type) answer; when the script
    runs out, it repeats the last one. Requests are recorded for assertions.
    """

    answers: list[tuple[int, bytes, str | None]] = field(
        default_factory=lambda: [(200, b"[0.97, 0.03]", None)]
    )
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""

    def answer(self) -> tuple[int, bytes, str | None]:
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


def throttled() -> tuple[int, bytes, str | None]:
    body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"})
    return 400, body.encode(), "ThrottlingException"


def endpoint_missing(name: str) -> tuple[int, bytes, str | None]:
    message = f"Endpoint {name} of account 123456789012 not found."
    body = json.dumps({"__type": "ValidationException", "message": message})
    return 400, body.encode(), "ValidationException"


@contextmanager
def fake_sagemaker(fake: FakeSageMaker) -> Iterator[FakeSageMaker]:
    """Serve `fake` on a free localhost port for the duration of the block."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            fake.requests.append(
                {
                    "path": self.path,
                    "content_type": self.headers.get("Content-Type"),
                    "accept": self.headers.get("Accept"),
                    "body": body,
                }
            )
            status, payload, error_type = fake.answer()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            if error_type:
                self.send_header("x-amzn-ErrorType", error_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
