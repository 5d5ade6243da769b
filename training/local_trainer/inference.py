"""The endpoint's model: load a model directory, turn one image request into class probabilities."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from training.errors import UndecodableImageError
from training.local_trainer.model import (
    ModelMeta,
    VehicleNet,
    load_network,
    probabilities,
    read_meta,
)

CONTENT_TYPES = frozenset({"image/png", "image/jpeg", "application/x-image"})
# What predict raises for a request body it cannot read: the local cloud's endpoint answers these
# with a 4xx ModelError, anything else as the model server failing (5xx).
CLIENT_ERRORS = (UndecodableImageError,)
# Decoding refuses anything larger, so a hostile request cannot exhaust memory.
MAX_PIXELS = 40_000_000


class Model:
    """A loaded classifier; predict() is what InvokeEndpoint runs."""

    def __init__(self, network: VehicleNet, meta: ModelMeta) -> None:
        self.network = network
        self.meta = meta
        self._mean = torch.tensor(meta.mean).view(1, 3, 1, 1)
        self._std = torch.tensor(meta.std).view(1, 3, 1, 1)

    @property
    def classes(self) -> tuple[str, ...]:
        return self.meta.classes

    def _decode(self, body: bytes, content_type: str) -> torch.Tensor:
        kind = content_type.split(";")[0].strip().lower()
        if kind not in CONTENT_TYPES:
            raise UndecodableImageError(
                f"content type {content_type!r} is not supported; send "
                f"{', '.join(sorted(CONTENT_TYPES))}"
            )
        try:
            with Image.open(io.BytesIO(body)) as image:
                if image.width * image.height > MAX_PIXELS:
                    raise UndecodableImageError(
                        f"the image is {image.width}x{image.height}, too large"
                    )
                rgb = image.convert("RGB")
        except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
            raise UndecodableImageError(
                f"the request body is not a decodable PNG or JPEG image ({exc})"
            ) from exc
        _, height, width = self.meta.image_shape
        if rgb.size != (width, height):
            rgb = rgb.resize((width, height), Image.Resampling.BICUBIC)
        pixels = torch.from_numpy(np.asarray(rgb, dtype=np.uint8).copy())
        return (pixels.permute(2, 0, 1).unsqueeze(0).float() / 255.0 - self._mean) / self._std

    def predict(self, body: bytes, content_type: str = "application/x-image") -> list[float]:
        """Class probabilities in class order ([p_bicycle, p_motorcycle]), summing to 1."""
        return [float(p) for p in probabilities(self.network, self._decode(body, content_type))[0]]


def load_model(model_dir: Path) -> Model:
    """The model in model_dir (model.pt and model.json, as the local trainer writes them)."""
    # One image per request: intra-op threads only add synchronisation (about 3 ms per request
    # on one thread, over 100 ms on two when the other core is busy, as measured here).
    torch.set_num_threads(1)
    meta = read_meta(model_dir)
    return Model(load_network(model_dir, meta), meta)
