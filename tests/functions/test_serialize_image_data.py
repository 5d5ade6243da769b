"""serializeImageData against S3 on moto: good images of every kind and every named failure."""

from __future__ import annotations

import base64
import io
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

import boto3
import pytest
from botocore.exceptions import ClientError, ReadTimeoutError
from botocore.stub import Stubber
from PIL import Image, ImageFile, JpegImagePlugin

from common import aws
from common.errors import (
    ConfigurationError,
    ImageAccessDenied,
    ImageNotFound,
    ImageTooLarge,
    InvalidEvent,
    InvalidImage,
    StorageUnavailable,
)
from tests.support.lambda_kit import (
    BUCKET,
    FakeContext,
    image_bytes,
    load_event,
    png_header_claiming,
)


def put(s3: Any, key: str, data: bytes) -> dict[str, Any]:
    s3.put_object(Bucket=BUCKET, Key=key, Body=data)
    return {"image_data": "", "s3_bucket": BUCKET, "s3_key": key}


def output_image(result: dict[str, Any]) -> Image.Image:
    image = Image.open(io.BytesIO(base64.b64decode(result["image_data"])))
    assert image.format == "PNG"
    return image


def last_log_line(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert lines, "the handler logged nothing"
    record: dict[str, Any] = json.loads(lines[-1])
    return record


@pytest.mark.shared_data
def test_original_test_event_with_a_real_cifar_image(
    serialize: ModuleType, s3: Any, shared_data: Path, context: FakeContext
) -> None:
    event = load_event("serialize_image_data/original_test_event.json")
    source = shared_data / "test" / "bicycle" / "bicycle_s_000513.png"
    s3.put_object(Bucket=event["s3_bucket"], Key=event["s3_key"], Body=source.read_bytes())

    result = serialize.lambda_handler(event, context)

    assert result["s3_bucket"] == event["s3_bucket"]
    assert result["s3_key"] == event["s3_key"]
    assert result["inferences"] == []
    image = output_image(result)
    assert (image.mode, image.size) == ("RGB", (32, 32))
    # CIFAR images already are 32x32 RGB: normalising must not change a single pixel.
    assert image.tobytes() == Image.open(source).convert("RGB").tobytes()
    assert len(result["image_data"]) < 5 * 1024


def test_extra_event_fields_pass_through(serialize: ModuleType, s3: Any) -> None:
    event = load_event("serialize_image_data/extra_fields.json")
    s3.put_object(Bucket=BUCKET, Key=event["s3_key"], Body=image_bytes())

    result = serialize.lambda_handler(event, FakeContext())

    assert result["order_id"] == event["order_id"]
    assert result["submitted_by"] == event["submitted_by"]
    assert set(result) == set(event) | {"inferences"}


def test_same_image_gives_the_same_bytes(serialize: ModuleType, s3: Any) -> None:
    event = put(s3, "photos/a.jpg", image_bytes(size=(640, 480), fmt="JPEG", quality=90))
    first = serialize.lambda_handler(event, FakeContext())["image_data"]
    second = serialize.lambda_handler(dict(event), FakeContext())["image_data"]
    assert first == second


def test_large_jpeg_photo_is_decoded_cheaply(
    serialize: ModuleType, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    decoded_sizes: list[tuple[int, int]] = []
    draft = JpegImagePlugin.JpegImageFile.draft

    def spy(self: JpegImagePlugin.JpegImageFile, mode: str | None, size: Any) -> Any:
        result = draft(self, mode, size)
        decoded_sizes.append(self.size)
        return result

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    event = put(s3, "photos/phone.jpg", image_bytes(size=(4000, 3000), fmt="JPEG", quality=85))
    result = serialize.lambda_handler(event, FakeContext())
    assert output_image(result).size == (32, 32)
    # draft() makes the decoder work at 1/8 scale: 500x375 pixels, not 12 megapixels.
    assert decoded_sizes == [(500, 375)]


def test_large_png_is_accepted(serialize: ModuleType, s3: Any) -> None:
    event = put(s3, "photos/scan.png", image_bytes(size=(4000, 3000)))
    assert output_image(serialize.lambda_handler(event, FakeContext())).size == (32, 32)


def test_grayscale_becomes_rgb(serialize: ModuleType, s3: Any) -> None:
    event = put(s3, "photos/gray.png", image_bytes(mode="L", size=(50, 40)))
    image = output_image(serialize.lambda_handler(event, FakeContext()))
    assert image.mode == "RGB"
    red, green, blue = image.split()
    assert red.tobytes() == green.tobytes() == blue.tobytes()


def test_transparent_pixels_are_composited_on_white(serialize: ModuleType, s3: Any) -> None:
    buffer = io.BytesIO()
    # Red under alpha 0 must come out white, not red: the colour of hidden pixels is noise.
    Image.new("RGBA", (64, 64), (255, 0, 0, 0)).save(buffer, format="PNG")
    event = put(s3, "photos/cutout.png", buffer.getvalue())
    image = output_image(serialize.lambda_handler(event, FakeContext()))
    assert image.mode == "RGB"
    assert image.getcolors() == [(32 * 32, (255, 255, 255))]


def test_non_square_images_are_centre_cropped(serialize: ModuleType, s3: Any) -> None:
    wide = Image.new("RGB", (300, 100), (0, 0, 255))
    wide.paste((255, 0, 0), (100, 0, 200, 100))  # a red square in the middle third
    buffer = io.BytesIO()
    wide.save(buffer, format="PNG")
    image = output_image(serialize.lambda_handler(put(s3, "w.png", buffer.getvalue()), None))
    # Only the red middle third is kept (Lanczos lets a hint of the blue edge bleed in).
    assert all(red >= 200 and blue <= 40 for _, (red, _, blue) in image.getcolors())


def test_image_size_is_configurable(
    serialize: ModuleType, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMAGE_SIZE", "64")
    event = put(s3, "photos/a.png", image_bytes(size=(200, 200)))
    assert output_image(serialize.lambda_handler(event, FakeContext())).size == (64, 64)


@pytest.mark.parametrize("value", ["512", "4", "abc", "32.5"])
def test_image_size_out_of_range_is_a_configuration_error(
    serialize: ModuleType, s3: Any, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("IMAGE_SIZE", value)
    event = put(s3, "photos/a.png", image_bytes())
    with pytest.raises(ConfigurationError, match="IMAGE_SIZE"):
        serialize.lambda_handler(event, FakeContext())


def test_text_file_named_png_is_invalid(serialize: ModuleType, s3: Any) -> None:
    event = put(s3, "uploads/notes.png", b"shopping list: flour, butter, sugar\n")
    with pytest.raises(InvalidImage, match=r"s3://scones-unlimited-test/uploads/notes\.png"):
        serialize.lambda_handler(event, FakeContext())


def test_truncated_png_is_invalid(serialize: ModuleType, s3: Any) -> None:
    data = image_bytes(size=(200, 200))
    event = put(s3, "uploads/cut.png", data[: len(data) // 2])
    with pytest.raises(InvalidImage, match="cannot be decoded"):
        serialize.lambda_handler(event, FakeContext())


def test_truncated_jpeg_is_invalid(serialize: ModuleType, s3: Any) -> None:
    data = image_bytes(size=(200, 200), fmt="JPEG")
    event = put(s3, "uploads/cut.jpg", data[: len(data) // 2])
    with pytest.raises(InvalidImage, match="cannot be decoded"):
        serialize.lambda_handler(event, FakeContext())


def test_zero_byte_object_is_invalid(serialize: ModuleType, s3: Any) -> None:
    event = put(s3, "uploads/empty.png", b"")
    with pytest.raises(InvalidImage, match="empty"):
        serialize.lambda_handler(event, FakeContext())


def test_other_formats_are_invalid_whatever_the_extension(serialize: ModuleType, s3: Any) -> None:
    event = put(s3, "uploads/photo.png", image_bytes(fmt="GIF"))
    with pytest.raises(InvalidImage, match="not a PNG or JPEG"):
        serialize.lambda_handler(event, FakeContext())


def test_decompression_bomb_is_rejected_before_decoding(
    serialize: ModuleType, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_decode(self: ImageFile.ImageFile) -> None:
        raise AssertionError("a bomb must be rejected from its header, before load()")

    # 10^10 pixels would be 30 GB of RGB: any decode attempt would show up here first.
    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decode)
    event = put(s3, "uploads/bomb.png", png_header_claiming(100_000, 100_000))
    with pytest.raises(InvalidImage, match="decompression bomb") as raised:
        serialize.lambda_handler(event, FakeContext())
    assert "uploads/bomb.png" in str(raised.value)


def test_image_just_over_the_pixel_limit_is_a_bomb_too(
    serialize: ModuleType, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Between 1x and 2x MAX_IMAGE_PIXELS Pillow only warns; the handler must still refuse.
    monkeypatch.setenv("MAX_IMAGE_PIXELS", "1000")
    event = put(s3, "uploads/slightly-big.png", image_bytes(size=(40, 30)))
    with pytest.raises(InvalidImage, match="MAX_IMAGE_PIXELS"):
        serialize.lambda_handler(event, FakeContext())


def test_missing_bucket_is_image_not_found(serialize: ModuleType, s3: Any) -> None:
    event = load_event("serialize_image_data/missing_bucket.json")
    with pytest.raises(ImageNotFound, match="bucket 'scones-unlimited-no-such-bucket'"):
        serialize.lambda_handler(event, FakeContext())


def test_missing_key_is_image_not_found(serialize: ModuleType, s3: Any) -> None:
    event = load_event("serialize_image_data/missing_key.json")
    with pytest.raises(ImageNotFound, match=r"test/no_such_image\.png does not exist"):
        serialize.lambda_handler(event, FakeContext())


def test_access_denied_names_both_likely_causes(
    serialize: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What real S3 answers for a missing key when the role has GetObject but not ListBucket.
    client = boto3.client("s3", region_name="us-east-1")
    monkeypatch.setitem(aws._clients, "s3", client)
    with Stubber(client) as stub:
        stub.add_client_error("get_object", "AccessDenied", "Access Denied", 403)
        with pytest.raises(ImageAccessDenied, match=r"s3:ListBucket.*s3:GetObject"):
            serialize.lambda_handler(load_event("serialize_image_data/missing_key.json"), None)


def test_object_over_the_byte_limit_is_too_large(
    serialize: ModuleType, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAX_IMAGE_BYTES", "1000")
    data = image_bytes(size=(300, 300), fmt="JPEG")
    assert len(data) > 1000
    event = put(s3, "uploads/big.jpg", data)
    with pytest.raises(ImageTooLarge, match=f"is {len(data)} bytes, over the limit of 1000"):
        serialize.lambda_handler(event, FakeContext())


class _LyingBody:
    """A body longer than the ContentLength its response claims."""

    def __init__(self, data: bytes) -> None:
        self._stream = io.BytesIO(data)
        self.requested: list[int] = []

    def read(self, amount: int) -> bytes:
        self.requested.append(amount)
        return self._stream.read(amount)

    def close(self) -> None:
        pass


class _LyingS3:
    def __init__(self, body: _LyingBody) -> None:
        self.body = body

    def get_object(self, **_: str) -> dict[str, Any]:
        return {"Body": self.body, "ContentLength": 10}


def test_read_is_capped_even_when_content_length_lies(serialize: ModuleType) -> None:
    body = _LyingBody(b"\x89PNG" + b"\x00" * 10_000)
    request = serialize.parse_event({"s3_bucket": BUCKET, "s3_key": "k.png"})
    with pytest.raises(ImageTooLarge):
        serialize.fetch_object(_LyingS3(body), request, max_bytes=100)
    assert body.requested == [101]


def test_event_without_s3_key_is_invalid(serialize: ModuleType, s3: Any) -> None:
    event = load_event("serialize_image_data/missing_s3_key.json")
    with pytest.raises(InvalidEvent, match="s3_key is missing"):
        serialize.lambda_handler(event, FakeContext())


def test_event_with_wrong_types_is_invalid(serialize: ModuleType, s3: Any) -> None:
    event = load_event("serialize_image_data/wrong_types.json")
    with pytest.raises(InvalidEvent, match="s3_key must be a string, got int 513"):
        serialize.lambda_handler(event, FakeContext())


@pytest.mark.parametrize(
    "event",
    [
        [],
        "test/bicycle_s_000513.png",
        {"s3_bucket": "", "s3_key": "a.png"},
        {"s3_bucket": BUCKET, "s3_key": "a.png", "image_data": 5},
        {"s3_bucket": "not a bucket!", "s3_key": "a.png"},
    ],
)
def test_malformed_events_are_invalid(serialize: ModuleType, s3: Any, event: Any) -> None:
    with pytest.raises(InvalidEvent):
        serialize.lambda_handler(event, FakeContext())


def test_a_normalised_image_too_big_for_the_state_is_refused(
    serialize: ModuleType, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(serialize, "MAX_STATE_IMAGE_BYTES", 100)
    event = put(s3, "photos/a.png", image_bytes(size=(100, 100)))
    with pytest.raises(ImageTooLarge, match="lower IMAGE_SIZE"):
        serialize.lambda_handler(event, FakeContext())


def test_one_structured_log_line_on_success(
    serialize: ModuleType, s3: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    event = put(s3, "photos/a.png", image_bytes())
    capsys.readouterr()
    serialize.lambda_handler(event, FakeContext(function_name="serializeImageData"))
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    line = json.loads(out[0])
    assert line["function"] == "serializeImageData"
    assert line["s3_key"] == "photos/a.png"
    assert line["outcome"] == "ok"
    assert line["error_type"] is None
    assert isinstance(line["duration_ms"], float)
    assert {"label", "confidence", "request_id", "timestamp"} <= set(line)


def test_log_line_names_the_error(
    serialize: ModuleType, s3: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    event = put(s3, "uploads/notes.png", b"not an image")
    with pytest.raises(InvalidImage):
        serialize.lambda_handler(event, FakeContext())
    line = last_log_line(capsys)
    assert line["outcome"] == "error"
    assert line["level"] == "ERROR"
    assert line["error_type"] == "InvalidImage"
    assert line["s3_key"] == "uploads/notes.png"
    assert "not a PNG or JPEG" in line["error_message"]


def test_s3_version_reads_exactly_that_version(serialize: ModuleType, s3: Any) -> None:
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    first = s3.put_object(Bucket=BUCKET, Key="incoming/v.png", Body=image_bytes(size=(8, 8)))
    s3.put_object(Bucket=BUCKET, Key="incoming/v.png", Body=b"not an image any more")
    event = {"s3_bucket": BUCKET, "s3_key": "incoming/v.png", "s3_version": first["VersionId"]}

    result = serialize.lambda_handler(event, FakeContext())

    assert output_image(result).size == (32, 32)
    assert result["s3_version"] == first["VersionId"]
    with pytest.raises(InvalidImage):  # the latest version is the text
        serialize.lambda_handler({**event, "s3_version": None}, FakeContext())


def test_a_version_that_does_not_exist_is_image_not_found(serialize: ModuleType, s3: Any) -> None:
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=BUCKET, Key="incoming/gone.png", Body=image_bytes(size=(8, 8)))
    missing = "3HL4kqtJlcpXroDTDmJ"
    event = {"s3_bucket": BUCKET, "s3_key": "incoming/gone.png", "s3_version": missing}
    with pytest.raises(ImageNotFound, match="has no version '3HL4kqtJlcpXroDTDmJ'"):
        serialize.lambda_handler(event, FakeContext())


@pytest.mark.parametrize("version", [42, "", "   ", ["v1"]])
def test_a_version_that_is_not_a_string_is_invalid_event(
    serialize: ModuleType, s3: Any, version: object
) -> None:
    event = {"s3_bucket": BUCKET, "s3_key": "incoming/x.png", "s3_version": version}
    with pytest.raises(InvalidEvent, match="s3_version must be a non-empty version id"):
        serialize.lambda_handler(event, FakeContext())


# S3 that cannot serve now becomes StorageUnavailable, which the workflow may retry; the
# error codes are S3's (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html).
@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("SlowDown", 503),
        ("ServiceUnavailable", 503),
        ("503", 503),
        ("InternalError", 500),
        ("RequestTimeout", 400),
        ("ThrottlingException", 400),
        ("SomethingNew", 502),
    ],
)
def test_s3_outage_is_storage_unavailable(
    serialize: ModuleType, monkeypatch: pytest.MonkeyPatch, code: str, status: int
) -> None:
    client = boto3.client("s3", region_name="us-east-1")
    monkeypatch.setitem(aws._clients, "s3", client)
    with Stubber(client) as stub:
        stub.add_client_error("get_object", code, "Please reduce your request rate.", status)
        with pytest.raises(StorageUnavailable) as raised:
            serialize.lambda_handler(load_event("serialize_image_data/missing_key.json"), None)
    message = str(raised.value)
    assert "s3://scones-unlimited-test/test/no_such_image.png" in message
    assert code in message
    assert "will be retried" in message


def test_other_client_errors_are_not_storage_unavailable(
    serialize: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = boto3.client("s3", region_name="us-east-1")
    monkeypatch.setitem(aws._clients, "s3", client)
    with Stubber(client) as stub:
        stub.add_client_error("get_object", "InvalidObjectState", "archived", 403)
        with pytest.raises(ClientError):
            serialize.lambda_handler(load_event("serialize_image_data/missing_key.json"), None)


class _SlowDownS3(BaseHTTPRequestHandler):
    """Answers every request the way S3 sheds load: 503 SlowDown (REST XML error body)."""

    requests: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.requests.append(self.path)
        body = (
            b"<Error><Code>SlowDown</Code>"
            b"<Message>Please reduce your request rate.</Message></Error>"
        )
        self.send_response(503)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_slow_down_over_http_is_retried_by_the_client_then_storage_unavailable(
    serialize: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("botocore.retries.standard.ExponentialBackoff.delay_amount", lambda *_: 0)
    monkeypatch.setattr(_SlowDownS3, "requests", [])
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SlowDownS3)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", f"http://127.0.0.1:{server.server_address[1]}")
        with pytest.raises(StorageUnavailable, match="SlowDown"):
            serialize.lambda_handler({"s3_bucket": BUCKET, "s3_key": "a.png"}, FakeContext())
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    # S3 keeps botocore's 3 attempts (only the SageMaker runtime client has 2).
    assert len(_SlowDownS3.requests) == aws.MAX_ATTEMPTS == 3


def test_unreachable_s3_is_storage_unavailable(
    serialize: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("botocore.retries.standard.ExponentialBackoff.delay_amount", lambda *_: 0)
    with socket.socket() as probe:  # a port nothing listens on: connection refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", f"http://127.0.0.1:{port}")
    with pytest.raises(StorageUnavailable, match=r"EndpointConnectionError.*will be retried"):
        serialize.lambda_handler({"s3_bucket": BUCKET, "s3_key": "a.png"}, FakeContext())


class _StallingBody:
    def read(self, amount: int) -> bytes:
        raise ReadTimeoutError(endpoint_url="http://s3.example/a.png")

    def close(self) -> None:
        pass


def test_a_body_that_times_out_mid_read_is_storage_unavailable(serialize: ModuleType) -> None:
    class StallingS3:
        def get_object(self, **_: str) -> dict[str, Any]:
            return {"Body": _StallingBody(), "ContentLength": 10}

    request = serialize.parse_event({"s3_bucket": BUCKET, "s3_key": "k.png"})
    with pytest.raises(StorageUnavailable, match=r"reading the body: ReadTimeoutError"):
        serialize.fetch_object(StallingS3(), request, max_bytes=100)


def test_storage_unavailable_is_logged_by_name(
    serialize: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    client = boto3.client("s3", region_name="us-east-1")
    monkeypatch.setitem(aws._clients, "s3", client)
    with Stubber(client) as stub:
        stub.add_client_error("get_object", "InternalError", "We encountered an error", 500)
        with pytest.raises(StorageUnavailable):
            serialize.lambda_handler(load_event("serialize_image_data/missing_key.json"), None)
    line = last_log_line(capsys)
    assert (line["outcome"], line["error_type"]) == ("error", "StorageUnavailable")
