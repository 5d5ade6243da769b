"""Fixtures of the training tests: a small CIFAR-format archive built in the test, and helpers."""

from __future__ import annotations

import hashlib
import io
import pickle
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest


@dataclass(frozen=True)
class FakeSplit:
    """Rows of a fake CIFAR pickle: file names, fine labels, N x 3072 uint8 data."""

    filenames: list[str]
    fine_labels: list[int]
    data: np.ndarray


def fake_split(fine_labels: list[int], seed: int, stem: str) -> FakeSplit:
    rng = np.random.default_rng(seed)
    names = [f"{stem}_s_{i:06d}.png" for i in range(len(fine_labels))]
    data = rng.integers(0, 256, size=(len(fine_labels), 3072), dtype=np.uint8)
    return FakeSplit(names, fine_labels, data)


def pickle_bytes(split: FakeSplit, str_keys: bool = False) -> bytes:
    # Python 2 wrote the real files, so their keys load as bytes; str keys are also accepted.
    def key(name: str) -> str | bytes:
        return name if str_keys else name.encode()

    payload = {
        key("filenames"): [name.encode() for name in split.filenames],
        key("fine_labels"): split.fine_labels,
        key("coarse_labels"): [18] * len(split.fine_labels),
        key("data"): split.data,
        key("batch_label"): b"fake batch",
    }
    return pickle.dumps(payload, protocol=2)


def write_tar_gz(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, body in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    return path


# Train: 4 bicycles (8), 3 motorcycles (48), 3 others; test: 2 + 2 + 1 other.
TRAIN_FINE = [8, 48, 3, 8, 48, 8, 77, 48, 8, 3]
TEST_FINE = [48, 8, 5, 8, 48]


@pytest.fixture
def fake_splits() -> dict[str, FakeSplit]:
    return {
        "train": fake_split(TRAIN_FINE, seed=1, stem="train"),
        "test": fake_split(TEST_FINE, seed=2, stem="test"),
    }


ArchiveMaker = Callable[..., Path]


@pytest.fixture
def make_archive(tmp_path: Path, fake_splits: dict[str, FakeSplit]) -> ArchiveMaker:
    """Write a CIFAR-100-python-like archive; skip= drops members, str_keys= uses str keys."""

    def make(
        name: str = "cifar-100-python.tar.gz",
        skip: tuple[str, ...] = (),
        str_keys: bool = False,
        splits: dict[str, FakeSplit] | None = None,
    ) -> Path:
        chosen = splits or fake_splits
        members = {
            f"cifar-100-python/{split}": pickle_bytes(rows, str_keys)
            for split, rows in chosen.items()
            if split not in skip
        }
        members["cifar-100-python/meta"] = pickle.dumps({b"fine_label_names": []}, protocol=2)
        return write_tar_gz(tmp_path / name, members)

    return make


@pytest.fixture
def trust_archive(monkeypatch: pytest.MonkeyPatch) -> Callable[[Path], None]:
    """Make an archive's md5 the expected one, so the verifying path runs on fake archives."""

    def trust(path: Path) -> None:
        digest = hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()
        monkeypatch.setattr("training.dataset.archive.ARCHIVE_MD5", digest)

    return trust


@pytest.fixture
def tar_writer() -> Callable[[Path, dict[str, bytes]], Path]:
    return write_tar_gz
