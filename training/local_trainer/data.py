"""Loading a channel pair (images + .lst) into one uint8 tensor, as the algorithm reads it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import torch
from PIL import Image, UnidentifiedImageError

from training.errors import TrainerInputError


@dataclass(frozen=True)
class LstEntry:
    """One .lst row: index, label, path relative to the image channel."""

    index: int
    label: int
    path: str


@dataclass(frozen=True)
class Channel:
    """Images as an (N, C, H, W) uint8 tensor and labels as an (N,) int64 tensor."""

    images: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return int(self.labels.shape[0])


def find_lst(lst_channel: Path) -> Path:
    """The one .lst file in a *_lst channel."""
    found = sorted(lst_channel.rglob("*.lst")) if lst_channel.is_dir() else []
    if len(found) != 1:
        raise TrainerInputError(
            f"channel {lst_channel.name} must hold exactly one .lst file, found {len(found)} in "
            f"{lst_channel}; point the channel at the folder holding {lst_channel.name[:-4]}.lst"
        )
    return found[0]


def read_lst(path: Path, num_classes: int) -> list[LstEntry]:
    """Parse a tab-separated .lst: index, label (0..num_classes-1), relative path."""
    entries: list[LstEntry] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split("\t")
        try:
            if len(fields) != 3:
                raise ValueError("expected 3 tab-separated fields")
            entry = LstEntry(int(fields[0]), int(float(fields[1])), fields[2])
        except ValueError as exc:
            raise TrainerInputError(f"{path}:{number}: malformed .lst line ({exc})") from exc
        if not 0 <= entry.label < num_classes:
            raise TrainerInputError(
                f"{path}:{number}: label {entry.label} is outside 0..{num_classes - 1}; "
                "check num_classes"
            )
        entries.append(entry)
    if not entries:
        raise TrainerInputError(f"{path} lists no image")
    return entries


def load_image(path: Path, size: tuple[int, int]) -> npt.NDArray[np.uint8]:
    """An RGB image resized to (height, width) as an (H, W, 3) uint8 array."""
    try:
        with Image.open(path) as image:
            rgb = image.convert("RGB")
    except (FileNotFoundError, UnidentifiedImageError, OSError) as exc:
        raise TrainerInputError(f"cannot read image {path} ({exc})") from exc
    height, width = size
    if rgb.size != (width, height):
        rgb = rgb.resize((width, height), Image.Resampling.BICUBIC)
    return np.asarray(rgb, dtype=np.uint8)


def load_channel(
    image_dir: Path, lst_dir: Path, num_classes: int, size: tuple[int, int]
) -> Channel:
    """All images listed in the channel's .lst, in .lst order."""
    entries = read_lst(find_lst(lst_dir), num_classes)
    pixels = np.stack([load_image(image_dir / entry.path, size) for entry in entries])
    images = torch.from_numpy(pixels).permute(0, 3, 1, 2).contiguous()
    labels = torch.tensor([entry.label for entry in entries], dtype=torch.int64)
    return Channel(images, labels)
