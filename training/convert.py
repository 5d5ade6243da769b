"""`make data`: convert CIFAR-100 or an image folder into the image-classification layout."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from training.dataset.archive import check_md5, read_archive
from training.dataset.imagefolder import read_image_folder
from training.dataset.imageset import ImageSet
from training.dataset.layout import write_dataset
from training.dataset.source import default_cache_dir, resolve_source
from training.dataset.split import split_train
from training.errors import TrainingToolError
from training.labels import CLASSES

LOG = logging.getLogger("training.convert")

VALIDATION_FRACTION = 0.1
SPLIT_SEED = 0


def convert(
    data: Path | None,
    out: Path,
    *,
    verify: bool = True,
    cache_dir: Path | None = None,
    validation_fraction: float = VALIDATION_FRACTION,
    seed: int = SPLIT_SEED,
) -> dict[str, ImageSet]:
    """Convert the input into out/{train,validation,test}/<class>/*.png and out/<split>.lst."""
    source = resolve_source(data, cache_dir or default_cache_dir())
    if source.kind == "archive":
        check_md5(source.path, verify=verify)
        splits = read_archive(source.path)
    else:
        splits = read_image_folder(source.path)
    channels = split_train(splits, validation_fraction, seed)
    write_dataset(channels, out)
    return channels


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m training.convert", description=__doc__)
    parser.add_argument(
        "--data",
        default="",
        help="image folder (train/<class>/*, test/<class>/*) or cifar-100-python.tar.gz; "
        "default: download the official archive once into the cache",
    )
    parser.add_argument("--out", type=Path, default=Path("build/data"))
    parser.add_argument(
        "--no-verify",
        dest="verify",
        action="store_false",
        help="convert an archive whose md5 differs",
    )
    parser.add_argument("--cache-dir", type=Path, default=None, help="default: ~/.cache/scones")
    parser.add_argument("--validation-fraction", type=float, default=VALIDATION_FRACTION)
    parser.add_argument("--seed", type=int, default=SPLIT_SEED, help="seed of the validation split")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    # An empty DATA= from make means "not given" (and Path("") would mean the current folder).
    data = Path(args.data) if args.data.strip() else None
    started = time.perf_counter()
    try:
        channels = convert(
            data,
            args.out,
            verify=args.verify,
            cache_dir=args.cache_dir,
            validation_fraction=args.validation_fraction,
            seed=args.seed,
        )
    except TrainingToolError as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    elapsed = time.perf_counter() - started
    total = sum(len(images) for images in channels.values())
    for split, images in channels.items():
        counts = ", ".join(
            f"{name} {int((images.labels == label).sum())}" for label, name in enumerate(CLASSES)
        )
        print(f"{split:<10} {len(images):>5} images ({counts})")
    print(f"wrote {total} images to {args.out} in {elapsed:.2f} s ({total / elapsed:.0f} images/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
