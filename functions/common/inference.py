"""The model's classes and the validation of its probabilities, shared by classify and filter."""

from __future__ import annotations

import math
from dataclasses import dataclass

# The order of the model's output, fixed by the label indices of the training .lst files.
CLASSES: tuple[str, ...] = ("bicycle", "motorcycle")


@dataclass(frozen=True)
class Prediction:
    """The most probable class and its probability."""

    label: str
    confidence: float


def parse_probabilities(value: object) -> list[float]:
    """One probability per class in CLASSES order; ValueError says what is wrong with `value`."""
    if not isinstance(value, list | tuple):
        raise ValueError(f"expected a list of {len(CLASSES)} probabilities, got {_short(value)}")
    if len(value) != len(CLASSES):
        raise ValueError(
            f"expected {len(CLASSES)} probabilities {list(CLASSES)}, "
            f"got {len(value)}: {_short(value)}"
        )
    probabilities: list[float] = []
    for index, item in enumerate(value):
        # bool is an int subclass; true/false from JSON is not a probability.
        if isinstance(item, bool) or not isinstance(item, int | float):
            raise ValueError(f"probability {index} is not a number: {_short(item)}")
        number = float(item)
        if not math.isfinite(number) or not 0.0 <= number <= 1.0:
            raise ValueError(f"probability {index} is {number}, outside [0, 1]")
        probabilities.append(number)
    return probabilities


def top_prediction(probabilities: list[float]) -> Prediction:
    """The class with the highest probability; a tie goes to the earlier class."""
    best = max(range(len(probabilities)), key=probabilities.__getitem__)
    return Prediction(label=CLASSES[best], confidence=probabilities[best])


def _short(value: object) -> str:
    text = repr(value)
    text = text if len(text) <= 80 else text[:77] + "..."
    return f"{type(value).__name__} {text}"
