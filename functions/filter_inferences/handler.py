"""filterInferences: pass confident predictions on and stop the workflow on unsure ones."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from common.config import env_probability
from common.errors import InvalidEvent, ThresholdConfidenceNotMet
from common.events import ImageEvent, parse_event
from common.inference import Prediction, parse_probabilities, top_prediction
from common.log import log_invocation

FUNCTION_NAME = "filterInferences"
DEFAULT_THRESHOLD = 0.93


@dataclass(frozen=True)
class Config:
    """Environment of filterInferences."""

    threshold: float


@functools.cache
def get_config() -> Config:
    """Read once per container, on the first invocation (so a bad value fails visibly there)."""
    return Config(threshold=env_probability("THRESHOLD", DEFAULT_THRESHOLD))


def lambda_handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    """Return the event with label and confidence, or raise ThresholdConfidenceNotMet."""
    with log_invocation(FUNCTION_NAME, event, context) as record:
        config = get_config()
        request = parse_event(event)
        prediction = read_prediction(request)
        record.label, record.confidence = prediction.label, prediction.confidence
        check_confidence(request, prediction, config.threshold)
        return request.to_event(label=prediction.label, confidence=prediction.confidence)


def read_prediction(request: ImageEvent) -> Prediction:
    """The top class of the event's inferences; InvalidEvent if they are not probabilities."""
    if "inferences" not in request.raw:
        raise InvalidEvent(
            f"event field inferences is missing for {request.source}; run classifyImage first"
        )
    try:
        probabilities = parse_probabilities(request.raw["inferences"])
    except ValueError as exc:
        raise InvalidEvent(
            f"event field inferences is invalid for {request.source}: {exc}"
        ) from None
    return top_prediction(probabilities)


def check_confidence(request: ImageEvent, prediction: Prediction, threshold: float) -> None:
    """Raise unless the prediction is at least as confident as `threshold`."""
    if prediction.confidence >= threshold:
        return
    raise ThresholdConfidenceNotMet(
        f"confidence {prediction.confidence:.4f} for {prediction.label!r} is below the "
        f"threshold {threshold} (THRESHOLD) for {request.source}; the image needs a human look"
    )
