"""The deterministic, stratified hold-out of train that becomes the validation channel."""

from __future__ import annotations

import hashlib

import numpy as np
import numpy.typing as npt

from training.dataset.imageset import ImageSet


def _rank_key(seed: int, filename: str) -> str:
    # A hash of the name instead of an RNG: the split does not change with numpy's version or
    # with the order in which files were listed.
    return hashlib.sha256(f"{seed}:{filename}".encode()).hexdigest()


def validation_mask(images: ImageSet, fraction: float, seed: int) -> npt.NDArray[np.bool_]:
    """True for the images held out: round(fraction * n) of each class, at least one of two."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"validation fraction must be between 0 and 1, got {fraction}")
    mask = np.zeros(len(images), dtype=bool)
    for label in np.unique(images.labels):
        members = np.flatnonzero(images.labels == label)
        count = max(1, round(fraction * len(members))) if len(members) >= 2 else 0
        ranked = sorted(members, key=lambda i: _rank_key(seed, images.filenames[i]))
        mask[ranked[:count]] = True
    return mask


def split_train(splits: dict[str, ImageSet], fraction: float, seed: int) -> dict[str, ImageSet]:
    """train, validation and test, where validation is held out of the source's train split."""
    held_out = validation_mask(splits["train"], fraction, seed)
    return {
        "train": splits["train"].select(~held_out),
        "validation": splits["train"].select(held_out),
        "test": splits["test"],
    }
