"""filterInferences: pass confident predictions on and stop the workflow on unsure ones."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from common.config import env_probability, env_str
from common.errors import InvalidEvent, ThresholdConfidenceNotMet
from common.events import ImageEvent, parse_event
from common.inference import Prediction, parse_probabilities, top_prediction
from common.log import log_invocation
from common.metrics import Metric, MetricSet

FUNCTION_NAME = "filterInferences"
DEFAULT_THRESHOLD = 0.93
# The metrics contract (issue 12): one EMF document per invocation that reached a decision.
METRICS_NAMESPACE = "SconesUnlimited/Classifier"


@dataclass(frozen=True)
class Config:
    """Environment of filterInferences."""

    threshold: float
    service_name: str


@functools.cache
def get_config() -> Config:
    """Read once per container, on the first invocation (so a bad value fails visibly there)."""
    return Config(
        threshold=env_probability("THRESHOLD", DEFAULT_THRESHOLD),
        # Required: without it the metrics would land under a dimension no alarm watches.
        service_name=env_str(
            "SERVICE_NAME",
            pattern=r"[A-Za-z0-9][A-Za-z0-9._-]{0,254}",
            requirement="the stack's name for the Service metric dimension, e.g. scones-dev",
        ),
    )


def lambda_handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    """Return the event with label and confidence, or raise ThresholdConfidenceNotMet."""
    with log_invocation(FUNCTION_NAME, event, context) as record:
        config = get_config()
        request = parse_event(event)
        prediction = read_prediction(request)
        record.label, record.confidence = prediction.label, prediction.confidence
        record.attach_metrics(decision_metrics(prediction, config))
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


def decision_metrics(prediction: Prediction, config: Config) -> MetricSet:
    """Classified/NeedsReview (one of them 1) and the confidence, by Service."""
    confident = is_confident(prediction, config.threshold)
    return MetricSet(
        namespace=METRICS_NAMESPACE,
        dimensions={"Service": config.service_name},
        metrics=(
            Metric("Classified", int(confident), "Count"),
            Metric("NeedsReview", int(not confident), "Count"),
            Metric("Confidence", prediction.confidence, "None"),
        ),
    )


def is_confident(prediction: Prediction, threshold: float) -> bool:
    """The rule: at least as confident as `threshold` (exactly at it passes)."""
    return prediction.confidence >= threshold


def check_confidence(request: ImageEvent, prediction: Prediction, threshold: float) -> None:
    """Raise unless the prediction is at least as confident as `threshold`."""
    if is_confident(prediction, threshold):
        return
    raise ThresholdConfidenceNotMet(
        f"confidence {prediction.confidence:.4f} for {prediction.label!r} is below the "
        f"threshold {threshold} (THRESHOLD) for {request.source}; the image needs a human look"
    )
