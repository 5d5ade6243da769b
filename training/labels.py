"""The two classes, their label numbers and their CIFAR-100 fine labels: one place for all."""

from __future__ import annotations

# Label order is the model's output order: bicycle = 0, motorcycle = 1.
CLASSES: tuple[str, ...] = ("bicycle", "motorcycle")
CIFAR_FINE_LABELS: dict[int, str] = {8: "bicycle", 48: "motorcycle"}


def label_of(class_name: str) -> int:
    """The label number of a class name."""
    return CLASSES.index(class_name)
