"""classifyImage: send the normalised image to the SageMaker endpoint and record its answer."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from common import aws
from common.config import env_str
from common.errors import (
    EndpointNotFound,
    EndpointUnavailable,
    InvalidImage,
    InvalidModelResponse,
)
from common.events import ImageEvent, decode_image_data, parse_event
from common.inference import parse_probabilities, top_prediction
from common.log import log_invocation

FUNCTION_NAME = "classifyImage"

# serializeImageData never produces more than 32 KB; anything much bigger is not its output.
MAX_IMAGE_BYTES = 256 * 1024
# The answer is a short JSON list; a huge body is a wrong endpoint, not a prediction.
MAX_RESPONSE_BYTES = 64 * 1024

# Codes that mean "the endpoint is there but cannot answer now" once botocore's retries are
# spent: the workflow may retry them later.
_UNAVAILABLE_CODES = frozenset(
    {
        "ThrottlingException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalFailure",
        "InternalDependencyException",
        "ModelNotReadyException",
    }
)


@dataclass(frozen=True)
class Config:
    """Environment of classifyImage."""

    endpoint_name: str


@functools.cache
def get_config() -> Config:
    """Read once per container, on the first invocation (so a bad value fails visibly there)."""
    return Config(
        endpoint_name=env_str(
            "ENDPOINT_NAME",
            pattern=r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}",
            requirement="the name of the SageMaker endpoint (letters, digits, hyphens)",
        )
    )


def lambda_handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    """Return the event with inferences = [p_bicycle, p_motorcycle], and its top label and
    confidence (so the workflow can record an unsure image that filterInferences stops)."""
    with log_invocation(FUNCTION_NAME, event, context) as record:
        config = get_config()
        request = parse_event(event)
        probabilities = classify(request, config, aws.client("sagemaker-runtime"))
        prediction = top_prediction(probabilities)
        record.label, record.confidence = prediction.label, prediction.confidence
        return request.to_event(
            inferences=probabilities, label=prediction.label, confidence=prediction.confidence
        )


def classify(request: ImageEvent, config: Config, runtime: Any) -> list[float]:
    """The endpoint's class probabilities for the event's image, in CLASSES order."""
    image = decode_image_data(request, max_bytes=MAX_IMAGE_BYTES)
    body = invoke_endpoint(runtime, config.endpoint_name, image, source=request.source)
    return parse_model_response(body, endpoint=config.endpoint_name, source=request.source)


def invoke_endpoint(runtime: Any, endpoint: str, image: bytes, *, source: str) -> bytes:
    """The raw answer of the endpoint; errors mapped to the names the workflow acts on."""
    try:
        response = runtime.invoke_endpoint(
            EndpointName=endpoint,
            ContentType="image/png",
            Accept="application/json",
            Body=image,
        )
    except ClientError as exc:
        mapped = _endpoint_error(exc, endpoint=endpoint, source=source)
        if mapped is None:
            raise
        raise mapped from None
    except (
        EndpointConnectionError,
        ConnectTimeoutError,
        ReadTimeoutError,
        ConnectionClosedError,
    ) as exc:
        raise EndpointUnavailable(
            f"endpoint {endpoint!r} could not be reached for {source} after retries: {exc}"
        ) from None
    stream = response["Body"]
    try:
        data: bytes = stream.read(MAX_RESPONSE_BYTES + 1)
    finally:
        stream.close()
    return data


def parse_model_response(body: bytes, *, endpoint: str, source: str) -> list[float]:
    """Check the answer is one probability per class; InvalidModelResponse otherwise."""
    where = f"endpoint {endpoint!r} answered for {source}"
    if len(body) > MAX_RESPONSE_BYTES:
        raise InvalidModelResponse(f"{where} with more than {MAX_RESPONSE_BYTES} bytes")
    try:
        value = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise InvalidModelResponse(
            f"{where} with something that is not JSON: {body[:80]!r}"
        ) from None
    try:
        return parse_probabilities(value)
    except ValueError as exc:
        raise InvalidModelResponse(
            f"{where} but not with class probabilities: {exc}; is it the image classifier?"
        ) from None


def _endpoint_error(exc: ClientError, *, endpoint: str, source: str) -> Exception | None:
    """The named error for `exc`, or None to let it through (e.g. AccessDenied: fix IAM)."""
    code, message, status = aws.error_code(exc), aws.error_message(exc), aws.http_status(exc)
    detail = f"{code}: {message}" if message else code
    # InvokeEndpoint answers a missing endpoint with ValidationError ("Endpoint x of account y
    # not found."): https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_runtime_InvokeEndpoint.html
    if code in {"ValidationError", "ValidationException"} and "not found" in message.lower():
        return EndpointNotFound(
            f"endpoint {endpoint!r} does not exist (classifying {source}); deploy it or fix "
            f"ENDPOINT_NAME ({detail})"
        )
    if code == "ModelError":
        original = _original_status(exc)
        if 400 <= original < 500:
            return InvalidImage(
                f"the model behind {endpoint!r} rejected the image of {source} with status "
                f"{original} ({detail})"
            )
        return EndpointUnavailable(
            f"the model behind {endpoint!r} failed on {source} with status {original or status} "
            f"after retries ({detail}); see the endpoint's CloudWatch logs"
        )
    if code in _UNAVAILABLE_CODES or status == 429 or status >= 500:
        return EndpointUnavailable(
            f"endpoint {endpoint!r} is unavailable for {source} after retries ({detail}); "
            "retry later or add capacity"
        )
    return None


def _original_status(exc: ClientError) -> int:
    # botocore puts ModelError's modelled fields at the top level of the response.
    raw = exc.response.get(
        "OriginalStatusCode", exc.response.get("Error", {}).get("OriginalStatusCode")
    )
    try:
        return int(raw)
    except (TypeError, ValueError):
        return 0
