"""Stamps that let a re-run of the demo reuse converted data and the trained model."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

STAMP_VERSION = 1
SPLITS = ("train", "validation", "test")


def sha256_of(chunks: Iterable[bytes]) -> str:
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()


def input_fingerprint(data: Path | None, official_archive: Path) -> str | None:
    """What the converted data came from: every file's path, size and mtime (no reading).

    None when there is nothing to fingerprint yet (no DATA and the official archive not yet
    downloaded): such data is never reused.
    """
    source = data if data is not None else official_archive
    if not source.exists():
        return None
    files = sorted(source.rglob("*")) if source.is_dir() else [source]
    lines = []
    for path in files:
        if path.is_file():  # follows symlinks: a linked image counts as its target
            stat = path.stat()
            relative = path.relative_to(source) if source.is_dir() else path.name
            lines.append(f"{relative}\t{stat.st_size}\t{stat.st_mtime_ns}\n".encode())
    return sha256_of([str(source.resolve()).encode(), b"\n", *lines])


def dataset_fingerprint(out: Path) -> str | None:
    """The converted dataset as training sees it: its .lst files and its image count."""
    lst_files = [out / f"{split}.lst" for split in SPLITS]
    if not all(path.is_file() for path in lst_files):
        return None
    images = sum(1 for split in SPLITS for _ in (out / split).rglob("*.png"))
    return sha256_of([*(path.read_bytes() for path in lst_files), str(images).encode()])


def files_fingerprint(files: Iterable[Path]) -> str:
    """Contents of the given files, in the order given (names included)."""
    return sha256_of(
        part for path in files for part in (path.name.encode(), b"\0", path.read_bytes())
    )


@dataclass(frozen=True)
class DataStamp:
    """Recorded after a conversion: its input and the dataset it wrote."""

    input: str
    input_fingerprint: str
    dataset: str
    version: int = STAMP_VERSION


@dataclass(frozen=True)
class ModelStamp:
    """Recorded after a training: what it trained on and with, and where the artifact was."""

    dataset: str
    hyperparameters: str
    trainer: str
    model_key: str
    version: int = STAMP_VERSION


def read_stamp(path: Path) -> dict[str, Any] | None:
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None  # missing or torn: treated as "nothing to reuse"
    return loaded if isinstance(loaded, dict) else None


def write_stamp(path: Path, stamp: DataStamp | ModelStamp) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.{os.getpid()}")
    staging.write_text(json.dumps(asdict(stamp), indent=2) + "\n", encoding="utf-8")
    staging.replace(path)


def data_reusable(stamp_file: Path, wanted: DataStamp | None) -> bool:
    """Same input, unchanged since, and the dataset on disk is the one converted from it."""
    return wanted is not None and read_stamp(stamp_file) == asdict(wanted)


def wanted_data_stamp(data: Path | None, official_archive: Path, out: Path) -> DataStamp | None:
    """The stamp the data on disk must carry to be reused (None: convert again)."""
    fingerprint = input_fingerprint(data, official_archive)
    dataset = dataset_fingerprint(out)
    if fingerprint is None or dataset is None:
        return None
    label = str(data.resolve()) if data is not None else f"official archive {official_archive}"
    return DataStamp(input=label, input_fingerprint=fingerprint, dataset=dataset)


def model_reusable(
    stamp_file: Path, artifact: Path, dataset: str, hyperparameters: str, trainer: str
) -> str | None:
    """The artifact's original S3 key if the cached model was trained on exactly this, else None."""
    recorded = read_stamp(stamp_file)
    if recorded is None or not artifact.is_file():
        return None
    expected = {
        "dataset": dataset,
        "hyperparameters": hyperparameters,
        "trainer": trainer,
        "version": STAMP_VERSION,
    }
    if any(recorded.get(name) != value for name, value in expected.items()):
        return None
    key = recorded.get("model_key")
    return key if isinstance(key, str) and key else None
