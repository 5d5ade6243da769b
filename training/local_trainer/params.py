"""Parsing the string hyperparameters that SageMaker passes into typed training settings."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from training.errors import InvalidHyperparameterError

LOG = logging.getLogger(__name__)
T = TypeVar("T")

# Hyperparameters of the built-in algorithm that this stand-in does not model: accepted so one
# config serves both, and logged so nobody believes they took effect.
IGNORED = frozenset(
    {
        "num_layers",
        "use_pretrained_model",
        "use_weighted_loss",
        "optimizer",
        "lr_scheduler_step",
        "lr_scheduler_factor",
        "checkpoint_frequency",
        "early_stopping",
        "early_stopping_min_epochs",
        "early_stopping_patience",
        "early_stopping_tolerance",
        "precision_dtype",
        "top_k",
        "resize",
        "multi_label",
        "kv_store",
        "beta_1",
        "beta_2",
        "eps",
        "gamma",
        "epsilon",
    }
)
AUGMENTATIONS = frozenset({"none", "crop", "crop_color", "crop_color_transform"})


@dataclass(frozen=True)
class TrainParams:
    """The settings of one local training run."""

    num_classes: int
    num_training_samples: int
    image_shape: tuple[int, int, int]
    epochs: int = 30
    learning_rate: float = 0.1
    mini_batch_size: int = 32
    momentum: float = 0.9
    weight_decay: float = 0.0001
    augmentation_type: str = "none"
    seed: int = 0


def _convert(raw: Mapping[str, str], name: str, parse: Callable[[str], T], default: T) -> T:
    if name not in raw:
        return default
    try:
        return parse(raw[name].strip())
    except ValueError as exc:
        raise InvalidHyperparameterError(
            f"hyperparameter {name}={raw[name]!r} is not valid ({exc})"
        ) from exc


def _required(raw: Mapping[str, str], name: str) -> int:
    if name not in raw:
        raise InvalidHyperparameterError(f"hyperparameter {name} is required; add it to the job")
    return _convert(raw, name, int, 0)


def parse_image_shape(text: str) -> tuple[int, int, int]:
    """'3,32,32' -> (3, 32, 32); channels must be 3 and sides at least 8."""
    parts = text.split(",")
    if len(parts) != 3:
        raise ValueError("image_shape must be 'channels,height,width', e.g. '3,32,32'")
    channels, height, width = (int(part) for part in parts)
    if channels != 3 or height < 8 or width < 8:
        raise ValueError("image_shape needs 3 channels and sides of at least 8 pixels")
    return channels, height, width


def parse_params(raw: Mapping[str, str]) -> TrainParams:
    """Typed, range-checked settings; unknown names are logged and ignored."""
    params = TrainParams(
        num_classes=_required(raw, "num_classes"),
        num_training_samples=_required(raw, "num_training_samples"),
        image_shape=_convert(raw, "image_shape", parse_image_shape, (3, 224, 224)),
        epochs=_convert(raw, "epochs", int, TrainParams.epochs),
        learning_rate=_convert(raw, "learning_rate", float, TrainParams.learning_rate),
        mini_batch_size=_convert(raw, "mini_batch_size", int, TrainParams.mini_batch_size),
        momentum=_convert(raw, "momentum", float, TrainParams.momentum),
        weight_decay=_convert(raw, "weight_decay", float, TrainParams.weight_decay),
        augmentation_type=_convert(raw, "augmentation_type", str, TrainParams.augmentation_type),
        seed=_convert(raw, "seed", int, TrainParams.seed),
    )
    checks = [
        (params.num_classes >= 2, "num_classes must be at least 2"),
        (params.num_training_samples > 0, "num_training_samples must be positive"),
        (params.epochs > 0, "epochs must be positive"),
        (0.0 < params.learning_rate < 1.0, "learning_rate must be between 0 and 1"),
        (params.mini_batch_size > 0, "mini_batch_size must be positive"),
        (0.0 <= params.momentum < 1.0, "momentum must be in [0, 1)"),
        (0.0 <= params.weight_decay < 1.0, "weight_decay must be in [0, 1)"),
        (
            params.augmentation_type in AUGMENTATIONS,
            f"augmentation_type must be one of {sorted(AUGMENTATIONS)}",
        ),
    ]
    for ok, message in checks:
        if not ok:
            raise InvalidHyperparameterError(message)
    known = {field for field in TrainParams.__dataclass_fields__}
    for name in sorted(set(raw) - known):
        why = "not modelled by the local trainer" if name in IGNORED else "unknown"
        LOG.info("hyperparameter %s=%s ignored (%s)", name, raw[name], why)
    return params
