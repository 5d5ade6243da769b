"""Reading an image folder (train/<class>/*.png|jpg, test/<class>/*) into 32x32 RGB arrays."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from training.dataset.imageset import ImageSet, Pixels
from training.errors import (
    CorruptImageError,
    DuplicateImageError,
    EmptyClassError,
    MissingMemberError,
    UnexpectedClassError,
)
from training.labels import CLASSES, label_of

SPLITS = ("train", "test")
SUFFIXES = frozenset({".png", ".jpg", ".jpeg"})
SIDE = 32


def decode_image(path: Path) -> Pixels:
    """Any PNG or JPEG as a 32x32 RGB array; other sizes are resized (bicubic)."""
    try:
        with Image.open(path) as image:
            rgb = image.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise CorruptImageError(
            f"{path} cannot be decoded as an image ({exc}); replace or remove it"
        ) from exc
    if rgb.size != (SIDE, SIDE):
        rgb = rgb.resize((SIDE, SIDE), Image.Resampling.BICUBIC)
    return np.asarray(rgb, dtype=np.uint8)


def _class_files(split_dir: Path) -> list[tuple[str, Path]]:
    found: list[tuple[str, Path]] = []
    for class_dir in sorted(
        p for p in split_dir.iterdir() if p.is_dir() and not p.name.startswith(".")
    ):
        if class_dir.name not in CLASSES:
            raise UnexpectedClassError(
                f"{class_dir} is not a known class ({', '.join(CLASSES)}); rename or remove it"
            )
        files = sorted(
            p
            for p in class_dir.iterdir()
            if p.is_file() and p.suffix.lower() in SUFFIXES and not p.name.startswith(".")
        )
        found.extend((class_dir.name, path) for path in files)
    return found


def read_image_folder(root: Path, workers: int = 4) -> dict[str, ImageSet]:
    """The train and test splits of an image folder, each sorted by class and file name."""
    splits: dict[str, ImageSet] = {}
    for split in SPLITS:
        split_dir = root / split
        if not split_dir.is_dir():
            raise MissingMemberError(
                f"{root} has no {split}/ folder; expected {split}/<class>/*.png"
            )
        entries = _class_files(split_dir)
        for class_name in CLASSES:
            if not any(name == class_name for name, _ in entries):
                raise EmptyClassError(f"{split_dir / class_name} holds no .png or .jpg image")
        names = tuple(f"{path.stem}.png" for _, path in entries)
        seen: set[tuple[str, str]] = set()
        for (class_name, path), name in zip(entries, names, strict=True):
            if (class_name, name) in seen:
                raise DuplicateImageError(
                    f"{path} and another image of {split}/{class_name} both become {name}"
                )
            seen.add((class_name, name))
        # Decoding is mostly in C (zlib, libjpeg), so threads overlap it.
        with ThreadPoolExecutor(max_workers=workers) as pool:
            pixels = list(pool.map(decode_image, [path for _, path in entries]))
        labels = np.array([label_of(name) for name, _ in entries], dtype=np.int64)
        splits[split] = ImageSet(np.stack(pixels), labels, names)
    return splits
