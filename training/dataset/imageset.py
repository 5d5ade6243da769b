"""The in-memory form of one split: pixels, labels and file names, in step."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from training.labels import CLASSES

Pixels = npt.NDArray[np.uint8]
Labels = npt.NDArray[np.int64]


@dataclass(frozen=True)
class ImageSet:
    """N images as an (N, 32, 32, 3) uint8 array with their labels and output file names."""

    images: Pixels
    labels: Labels
    filenames: tuple[str, ...]

    def __post_init__(self) -> None:
        if not (len(self.images) == len(self.labels) == len(self.filenames)):
            raise ValueError("images, labels and filenames must have the same length")

    def __len__(self) -> int:
        return len(self.filenames)

    def relative_paths(self) -> list[str]:
        """Paths under the split folder: <class>/<filename>."""
        return [
            f"{CLASSES[int(label)]}/{name}"
            for label, name in zip(self.labels, self.filenames, strict=True)
        ]

    def select(self, mask: npt.NDArray[np.bool_]) -> ImageSet:
        """The images where mask is true, in their original order."""
        picked = tuple(name for name, keep in zip(self.filenames, mask, strict=True) if keep)
        return ImageSet(self.images[mask], self.labels[mask], picked)
