"""The committed hyperparameters: loaded, validated against the data, stringified for SageMaker."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from training.errors import ConfigError, InvalidHyperparameterError
from training.labels import CLASSES

CONFIG_DIR = Path(__file__).resolve().parent / "config"
DEFAULT_HYPERPARAMETERS = CONFIG_DIR / "hyperparameters.json"
REQUIRED = ("image_shape", "num_classes", "epochs", "learning_rate", "mini_batch_size")


def load_json(path: Path) -> dict[str, Any]:
    """A JSON object from a committed config file."""
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read {path} ({exc})") from exc
    if not isinstance(loaded, dict):
        raise ConfigError(f"{path} must hold a JSON object")
    return loaded


def count_lst(path: Path) -> int:
    """The number of images a .lst file lists."""
    if not path.is_file():
        raise ConfigError(f"{path} does not exist; run `make data` first")
    return sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip())


def _number(config: dict[str, Any], name: str, kind: type) -> Any:
    value = config[name]
    try:
        return kind(value)
    except (TypeError, ValueError) as exc:
        raise InvalidHyperparameterError(
            f"{name}={value!r} is not a valid {kind.__name__}"
        ) from exc


def validate(config: dict[str, Any], num_training_samples: int) -> None:
    """Raise InvalidHyperparameterError for anything SageMaker would reject or train badly on."""
    missing = [name for name in REQUIRED if name not in config]
    if missing:
        raise InvalidHyperparameterError(f"the config lacks {', '.join(missing)}")
    shape = str(config["image_shape"]).split(",")
    if (
        len(shape) != 3
        or not all(part.strip().isdigit() for part in shape)
        or shape[0].strip() != "3"
    ):
        raise InvalidHyperparameterError(
            f"image_shape={config['image_shape']!r} must be '3,<height>,<width>', e.g. '3,32,32'"
        )
    if _number(config, "num_classes", int) != len(CLASSES):
        raise InvalidHyperparameterError(
            f"num_classes={config['num_classes']} must be {len(CLASSES)} ({', '.join(CLASSES)})"
        )
    if _number(config, "epochs", int) <= 0:
        raise InvalidHyperparameterError(f"epochs={config['epochs']} must be positive")
    if not 0.0 < _number(config, "learning_rate", float) < 1.0:
        raise InvalidHyperparameterError(
            f"learning_rate={config['learning_rate']} must be between 0 and 1"
        )
    batch = _number(config, "mini_batch_size", int)
    if batch <= 0:
        raise InvalidHyperparameterError(f"mini_batch_size={batch} must be positive")
    if batch > num_training_samples:
        raise InvalidHyperparameterError(
            f"mini_batch_size={batch} exceeds the {num_training_samples} training images; lower it"
        )
    if "num_training_samples" in config:
        raise InvalidHyperparameterError(
            "num_training_samples is computed from train.lst; remove it from the config"
        )


def sagemaker_hyperparameters(config: dict[str, Any], num_training_samples: int) -> dict[str, str]:
    """Validated hyperparameters as SageMaker passes them: every value a string."""
    validate(config, num_training_samples)
    strings = {name: str(value) for name, value in config.items()}
    strings["num_training_samples"] = str(num_training_samples)
    return strings


def load_hyperparameters(path: Path, train_lst: Path) -> dict[str, str]:
    """The config at path, validated against train.lst and stringified."""
    return sagemaker_hyperparameters(load_json(path), count_lst(train_lst))
