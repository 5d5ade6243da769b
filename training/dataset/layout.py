"""Writing the split folders and .lst files into a temporary folder and swapping it in whole."""

from __future__ import annotations

import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from training.dataset.imageset import ImageSet
from training.dataset.pngio import encode_png
from training.errors import DuplicateImageError, EmptyClassError
from training.labels import CLASSES


def lst_text(images: ImageSet) -> str:
    """A SageMaker .lst: index, label and relative path, tab-separated, sorted by path."""
    rows = sorted(zip(images.relative_paths(), images.labels, strict=True))
    return "".join(f"{index}\t{int(label)}\t{path}\n" for index, (path, label) in enumerate(rows))


def _check(splits: dict[str, ImageSet]) -> None:
    for split, images in splits.items():
        paths = images.relative_paths()
        if len(set(paths)) != len(paths):
            raise DuplicateImageError(f"two {split} images share a file name within one class")
        for label, class_name in enumerate(CLASSES):
            if not (images.labels == label).any():
                raise EmptyClassError(
                    f"the {split} split has no {class_name} image; check the input data "
                    "(or the validation fraction, for a tiny train split)"
                )


def _write_split(folder: Path, images: ImageSet, pool: ThreadPoolExecutor) -> None:
    for class_name in CLASSES:
        (folder / class_name).mkdir(parents=True)
    paths = images.relative_paths()

    def write_one(index: int) -> None:
        (folder / paths[index]).write_bytes(encode_png(images.images[index]))

    list(pool.map(write_one, range(len(paths))))


def _swap_in(staging: Path, out: Path) -> None:
    # Two renames within one folder: the old output is replaced only once the new one is whole.
    if not out.exists():
        staging.rename(out)
        return
    retired = out.with_name(f".{out.name}.old-{os.getpid()}")
    out.rename(retired)
    try:
        staging.rename(out)
    except OSError:
        retired.rename(out)
        raise
    shutil.rmtree(retired)


def write_dataset(splits: dict[str, ImageSet], out: Path, workers: int = 4) -> None:
    """Write <split>/<class>/<file>.png and <split>.lst for each split, all or nothing."""
    _check(splits)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        # PNG encoding is zlib in C, which releases the GIL: threads use both cores.
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for split, images in splits.items():
                _write_split(staging / split, images, pool)
                (staging / f"{split}.lst").write_text(lst_text(images), encoding="utf-8")
        _swap_in(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
