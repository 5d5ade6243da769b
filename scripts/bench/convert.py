"""Conversion benchmark: a full-size CIFAR-format archive, training.convert vs the notebook."""

from __future__ import annotations

import io
import logging
import pickle
import shutil
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from scripts.bench.results import Measure, compared, median_of
from training.labels import CIFAR_FINE_LABELS

FINE_CLASSES = 100
TRAIN_ROWS, TEST_ROWS = 50_000, 10_000  # CIFAR-100's real sizes: 500 / 100 per fine label
ROW_BYTES = 3 * 32 * 32


def fake_split(rows: int, seed: int, stem: str) -> dict[bytes, object]:
    """A pickle payload in CIFAR-100's layout (bytes keys, N x 3072 uint8) with random pixels."""
    rng = np.random.default_rng(seed)
    # Every fine label equally often, like the real data: 8 and 48 get rows / 100 each.
    fine = rng.permutation(np.repeat(np.arange(FINE_CLASSES), rows // FINE_CLASSES))
    return {
        b"filenames": [f"{stem}_s_{i:06d}.png".encode() for i in range(rows)],
        b"batch_label": f"{stem} batch 1 of 1".encode(),
        b"fine_labels": fine.tolist(),
        b"coarse_labels": (fine // 5).tolist(),
        b"data": rng.integers(0, 256, size=(rows, ROW_BYTES), dtype=np.uint8),
    }


def write_archive(path: Path, train_rows: int = TRAIN_ROWS, test_rows: int = TEST_ROWS) -> Path:
    """cifar-100-python.tar.gz with train and test pickles (protocol 2, as Python 2 wrote them)."""
    members = {
        "cifar-100-python/train": pickle.dumps(fake_split(train_rows, 1, "train"), protocol=2),
        "cifar-100-python/test": pickle.dumps(fake_split(test_rows, 2, "test"), protocol=2),
    }
    # Random pixels do not compress: level 1 saves time and changes nothing the reader sees.
    with tarfile.open(path, "w:gz", compresslevel=1) as tar:
        for name, body in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    return path


def subset_size(train_rows: int = TRAIN_ROWS, test_rows: int = TEST_ROWS) -> int:
    """Images of the bicycle/motorcycle subset in an archive written by write_archive."""
    return len(CIFAR_FINE_LABELS) * (train_rows + test_rows) // FINE_CLASSES


def pyplot() -> Any:
    """matplotlib.pyplot on the file-only backend (imported once, outside the timed part)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def notebook_convert(archive: Path, out: Path) -> int:
    """The original notebook's approach: unpickle, loop over rows, one plt.imsave per image."""
    plt = pyplot()
    written = 0
    with tarfile.open(archive, "r:gz") as tar:
        for split in ("train", "test"):
            stream = tar.extractfile(f"cifar-100-python/{split}")
            assert stream is not None
            batch = pickle.load(stream, encoding="bytes")  # the bench wrote this file itself
            folder = out / split
            folder.mkdir(parents=True, exist_ok=True)
            for row, label, name in zip(
                batch[b"data"], batch[b"fine_labels"], batch[b"filenames"], strict=True
            ):
                if label not in CIFAR_FINE_LABELS:
                    continue
                image = np.dstack((row[:1024], row[1024:2048], row[2048:])).reshape(32, 32, 3)
                plt.imsave(folder / name.decode(), image)
                written += 1
    return written


def run(quick: bool) -> list[Measure]:
    from training.convert import convert

    pyplot()
    # The generated archive's md5 differs from the published one by design: not news here.
    logging.getLogger("training.dataset.archive").setLevel(logging.ERROR)
    # --quick: a tenth of the rows, same label spread; the rate is what is compared.
    train_rows, test_rows = (5_000, 1_000) if quick else (TRAIN_ROWS, TEST_ROWS)
    repeats = 1 if quick else 3
    images = subset_size(train_rows, test_rows)
    with tempfile.TemporaryDirectory(prefix="bench-convert-") as tmp:
        root = Path(tmp)
        archive = write_archive(root / "cifar-100-python.tar.gz", train_rows, test_rows)

        def ours() -> None:
            out = root / "ours"
            shutil.rmtree(out, ignore_errors=True)
            channels = convert(archive, out, verify=False)
            assert sum(len(split) for split in channels.values()) == images

        def baseline() -> None:
            out = root / "notebook"
            shutil.rmtree(out, ignore_errors=True)
            assert notebook_convert(archive, out) == images

        # Alternate them, so a burst of load from elsewhere hits both alike.
        ours_s, baseline_s = [], []
        for _ in range(repeats):
            ours_s.append(median_of(1, ours)[0])
            baseline_s.append(median_of(1, baseline)[0])
    ours_rate = images / float(np.median(ours_s))
    base_rate = images / float(np.median(baseline_s))
    note = f"{train_rows + test_rows:,} rows -> {images:,} images, median of {repeats}"
    return [
        compared(
            "convert.images_per_s", round(ours_rate, 1), round(base_rate, 1), "images/s", note
        ),
        Measure("convert.seconds", round(float(np.median(ours_s)), 2), "s", note=note),
        Measure("convert.notebook_seconds", round(float(np.median(baseline_s)), 2), "s"),
    ]
