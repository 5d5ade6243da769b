"""scripts.bench.convert: the generated archive is CIFAR's layout; both converters agree."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from scripts.bench.convert import notebook_convert, subset_size, write_archive
from training.dataset.archive import read_archive


def test_the_generated_archive_reads_like_cifar_with_the_real_label_spread(
    tmp_path: Path,
) -> None:
    archive = write_archive(tmp_path / "cifar-100-python.tar.gz", 1_000, 200)
    splits = read_archive(archive)
    # 10 of each class in 1,000 rows, as the real 500 of 50,000.
    assert len(splits["train"]) == 20 and len(splits["test"]) == 4
    assert [int((splits["train"].labels == k).sum()) for k in (0, 1)] == [10, 10]
    assert subset_size(1_000, 200) == 24
    assert subset_size() == 1_200


def test_the_notebook_baseline_writes_the_same_pixels_as_the_real_reader(tmp_path: Path) -> None:
    archive = write_archive(tmp_path / "cifar-100-python.tar.gz", 500, 100)
    assert notebook_convert(archive, tmp_path / "out") == subset_size(500, 100)
    test = read_archive(archive)["test"]
    for index, name in enumerate(test.filenames):
        written = np.asarray(Image.open(tmp_path / "out" / "test" / name).convert("RGB"))
        assert np.array_equal(written, test.images[index]), name
