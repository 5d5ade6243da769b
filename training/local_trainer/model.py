"""The small CNN and its saved form: weights plus a JSON of what inference needs to know."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

from training.errors import ModelLoadError

FORMAT_VERSION = 1
WEIGHTS_FILE = "model.pt"
META_FILE = "model.json"
WIDTHS = (32, 64, 128)


@dataclass(frozen=True)
class ModelMeta:
    """What inference needs besides the weights."""

    image_shape: tuple[int, int, int]
    classes: tuple[str, ...]
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    widths: tuple[int, ...] = WIDTHS
    version: int = FORMAT_VERSION


def _block(channels_in: int, channels_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(channels_in, channels_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(channels_out),
        nn.ReLU(inplace=True),
        nn.Conv2d(channels_out, channels_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(channels_out),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
    )


class VehicleNet(nn.Module):
    """Conv blocks with BatchNorm, global average pooling, one linear layer."""

    def __init__(self, num_classes: int, widths: tuple[int, ...] = WIDTHS) -> None:
        super().__init__()
        blocks = []
        channels = 3
        for width in widths:
            blocks.append(_block(channels, width))
            channels = width
        self.features = nn.Sequential(*blocks)
        # Average pooling makes the network indifferent to the input side (image_shape).
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits: torch.Tensor = self.classifier(torch.flatten(self.pool(self.features(x)), 1))
        return logits


def probabilities(network: VehicleNet, inputs: torch.Tensor) -> torch.Tensor:
    """Class probabilities, averaged over each image and its mirror image.

    Training augments with horizontal flips, so both views are in-distribution; averaging them
    gained about one point of validation accuracy in every configuration tried.
    """
    network.eval()
    with torch.inference_mode():
        both = torch.cat([inputs, inputs.flip(3)])
        probs = torch.softmax(network(both).double(), dim=1)
    return (probs[: len(inputs)] + probs[len(inputs) :]) / 2


def save_model(model: VehicleNet, meta: ModelMeta, model_dir: Path) -> None:
    """model.pt (state dict) and model.json into model_dir."""
    model_dir.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), model_dir / WEIGHTS_FILE)
    (model_dir / META_FILE).write_text(json.dumps(asdict(meta), indent=2) + "\n", encoding="utf-8")


def read_meta(model_dir: Path) -> ModelMeta:
    """model.json of a model directory."""
    path = model_dir / META_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if raw.get("version") != FORMAT_VERSION:
            raise ModelLoadError(
                f"{path} has format version {raw.get('version')}, this code reads "
                f"{FORMAT_VERSION}; retrain the model with this version of training/"
            )
        return ModelMeta(
            image_shape=tuple(raw["image_shape"]),
            classes=tuple(raw["classes"]),
            mean=tuple(raw["mean"]),
            std=tuple(raw["std"]),
            widths=tuple(raw["widths"]),
            version=raw["version"],
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelLoadError(
            f"{model_dir} is not a model directory written by the local trainer ({exc})"
        ) from exc


def load_network(model_dir: Path, meta: ModelMeta) -> VehicleNet:
    """The network with its weights, in eval mode."""
    network = VehicleNet(len(meta.classes), meta.widths)
    try:
        state = torch.load(model_dir / WEIGHTS_FILE, map_location="cpu", weights_only=True)
        network.load_state_dict(state)
    except (OSError, RuntimeError) as exc:
        raise ModelLoadError(
            f"cannot load weights from {model_dir / WEIGHTS_FILE} ({exc})"
        ) from exc
    return network.eval()
