"""serializeImageData: fetch the photo named by the event from S3 and normalise it for the model."""

from __future__ import annotations

import base64
import functools
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError, HTTPClientError, ParamValidationError
from botocore.exceptions import ConnectionError as BotocoreConnectionError

from common import aws
from common.config import env_int
from common.errors import (
    ImageAccessDenied,
    ImageNotFound,
    ImageTooLarge,
    InvalidEvent,
    InvalidImage,
    StorageUnavailable,
)
from common.events import ImageEvent, parse_event
from common.imaging import normalise
from common.log import log_invocation

FUNCTION_NAME = "serializeImageData"

# A 32x32 PNG is about 3 KB (4 KB in base64); the cap on IMAGE_SIZE keeps the worst case (64x64
# of noise) near 17 KB. This guard is the backstop: Step Functions fails a state over 256 KB,
# and a big image in the state also bloats every history event and log line that carries it.
MAX_STATE_IMAGE_BYTES = 32 * 1024

# S3 error codes that mean "S3 cannot serve this now", not "this request is wrong": botocore's
# standard retry mode already retried them (its throttling and transient lists, botocore
# retries/standard.py), so when they reach us the workflow's Retry is the next step.
# https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html (SlowDown 503,
# ServiceUnavailable 503, InternalError 500, RequestTimeout 400).
_UNAVAILABLE_CODES = frozenset(
    {
        "SlowDown",
        "ServiceUnavailable",
        "InternalError",
        "RequestTimeout",
        "ThrottlingException",
        "Throttling",
        "503",
    }
)
# What botocore raises when no HTTP answer came (refused, reset, timed out): the same classes
# its standard retry mode treats as transient.
_UNREACHABLE = (BotocoreConnectionError, HTTPClientError)


@dataclass(frozen=True)
class Config:
    """Environment of serializeImageData."""

    image_size: int
    max_image_bytes: int
    max_image_pixels: int


@functools.cache
def get_config() -> Config:
    """Read once per container, on the first invocation (so a bad value fails visibly there)."""
    return Config(
        # The model's input side; CIFAR is 32. Above 64 the PNG no longer fits comfortably.
        image_size=env_int("IMAGE_SIZE", 32, minimum=8, maximum=64),
        max_image_bytes=env_int(
            "MAX_IMAGE_BYTES", 10 * 1024 * 1024, minimum=1, maximum=100 * 1024 * 1024
        ),
        # 25 megapixels decode to about 100 MB in RGBA; the costliest case, a 16-bit grayscale
        # PNG widened to floats, peaks at 371 MB resident: fits the 512 MB function.
        max_image_pixels=env_int("MAX_IMAGE_PIXELS", 25_000_000, minimum=1, maximum=200_000_000),
    )


def lambda_handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    """Return the event with image_data (base64 PNG) and an empty inferences list."""
    with log_invocation(FUNCTION_NAME, event, context):
        config = get_config()
        request = parse_event(event)
        return serialize(request, config, aws.client("s3"))


def serialize(request: ImageEvent, config: Config, s3: Any) -> dict[str, Any]:
    """Fetch, check and normalise the image; the returned event is what classifyImage reads."""
    data = fetch_object(s3, request, max_bytes=config.max_image_bytes)
    image = normalise(
        data,
        size=config.image_size,
        max_pixels=config.max_image_pixels,
        source=request.source,
    )
    encoded = base64.b64encode(image.png).decode("ascii")
    if len(encoded) > MAX_STATE_IMAGE_BYTES:
        raise ImageTooLarge(
            f"the normalised image of {request.source} is {len(encoded)} bytes in base64, over "
            f"the {MAX_STATE_IMAGE_BYTES} bytes allowed in the workflow state; lower IMAGE_SIZE "
            f"(now {config.image_size})"
        )
    return request.to_event(image_data=encoded, inferences=[])


def fetch_object(s3: Any, request: ImageEvent, *, max_bytes: int) -> bytes:
    """The object's bytes, refusing before the download when it is over `max_bytes`."""
    version = {"VersionId": request.s3_version} if request.s3_version else {}
    try:
        response = s3.get_object(Bucket=request.s3_bucket, Key=request.s3_key, **version)
    except ParamValidationError as exc:
        raise InvalidEvent(f"S3 rejected the bucket or key of {request.source}: {exc}") from None
    except ClientError as exc:
        code = aws.error_code(exc)
        if code == "NoSuchBucket":
            raise ImageNotFound(
                f"bucket {request.s3_bucket!r} does not exist (reading {request.source}); "
                "check s3_bucket in the event"
            ) from None
        if code == "NoSuchVersion" or (code == "InvalidArgument" and request.s3_version):
            raise ImageNotFound(
                f"{request.source} has no version {request.s3_version!r} (S3: {code}); it was "
                "deleted, or s3_version in the event is wrong"
            ) from None
        if code in {"NoSuchKey", "404", "NotFound"}:
            raise ImageNotFound(
                f"{request.source} does not exist; check s3_key in the event and that the "
                "upload finished"
            ) from None
        if code in {"AccessDenied", "403", "Forbidden"}:
            # Without s3:ListBucket, S3 answers 403 (not 404) for a key that does not exist,
            # so this cannot tell a missing image from a missing permission: say both.
            raise ImageAccessDenied(
                f"S3 denied reading {request.source}: either the key does not exist (S3 answers "
                "403 for missing keys when the role may not s3:ListBucket the bucket) or the "
                "function's role lacks s3:GetObject on it; check the key, then the role"
            ) from None
        if code in _UNAVAILABLE_CODES or aws.http_status(exc) >= 500:
            message = aws.error_message(exc)
            raise StorageUnavailable(
                _unavailable(request, f"{code}: {message}" if message else code)
            ) from None
        raise
    except _UNREACHABLE as exc:
        raise StorageUnavailable(_unavailable(request, f"{type(exc).__name__}: {exc}")) from None
    body = response["Body"]
    try:
        length = int(response.get("ContentLength", 0))
        if length > max_bytes:
            raise ImageTooLarge(_too_large(request, length, max_bytes))
        # ContentLength is the server's word; the capped read holds even if it is wrong.
        data: bytes = body.read(max_bytes + 1)
    except _UNREACHABLE as exc:
        # A body cut off or stalled mid-read; botocore does not retry a streaming read.
        raise StorageUnavailable(
            _unavailable(request, f"reading the body: {type(exc).__name__}: {exc}")
        ) from None
    finally:
        body.close()
    if len(data) > max_bytes:
        raise ImageTooLarge(_too_large(request, len(data), max_bytes))
    if not data:
        raise InvalidImage(f"{request.source} is empty (0 bytes); upload the photo again")
    return data


def _unavailable(request: ImageEvent, detail: str) -> str:
    return (
        f"S3 could not serve {request.source} after the client's retries ({detail}); "
        "a storage outage, not a bad image: it will be retried"
    )


def _too_large(request: ImageEvent, size: int, max_bytes: int) -> str:
    return (
        f"{request.source} is {size} bytes, over the limit of {max_bytes} (MAX_IMAGE_BYTES); "
        "upload a smaller photo or raise the limit"
    )
