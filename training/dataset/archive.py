"""Reading the CIFAR-100 python archive: md5 check, safe unpickling, vectorised selection."""

from __future__ import annotations

import gzip
import hashlib
import logging
import pickle
import tarfile
import zlib
from pathlib import Path
from typing import IO, Any

import numpy as np

from training.dataset.imageset import ImageSet
from training.errors import ChecksumMismatchError, CorruptArchiveError, MissingMemberError
from training.labels import CIFAR_FINE_LABELS, label_of

LOG = logging.getLogger(__name__)

ARCHIVE_URL = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
ARCHIVE_MD5 = "eb9058c3a382ffc7106e4002c42a8d85"
ARCHIVE_NAME = "cifar-100-python.tar.gz"
MEMBERS = {"train": "cifar-100-python/train", "test": "cifar-100-python/test"}
SIDE = 32


def file_md5(path: Path) -> str:
    """The md5 of a file, read in chunks so a 160 MB archive does not sit in memory twice."""
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_md5(path: Path, *, verify: bool) -> None:
    """Raise ChecksumMismatchError on a wrong md5, or only warn when verification is off."""
    actual = file_md5(path)
    if actual == ARCHIVE_MD5:
        return
    message = f"{path} has md5 {actual}, but the published CIFAR-100 archive has {ARCHIVE_MD5}"
    if verify:
        raise ChecksumMismatchError(
            f"{message}. Delete it and download it again, or pass --no-verify "
            "(make data VERIFY=0) to convert it anyway."
        )
    LOG.warning("%s; converting anyway because verification is off (--no-verify)", message)


class _CifarUnpickler(pickle.Unpickler):
    """Allows only what a CIFAR pickle holds, because unpickling runs code named in the file."""

    _ALLOWED = frozenset(
        {
            ("numpy.core.multiarray", "_reconstruct"),
            ("numpy._core.multiarray", "_reconstruct"),
            ("numpy", "ndarray"),
            ("numpy", "dtype"),
            ("numpy.core.multiarray", "scalar"),
            ("numpy._core.multiarray", "scalar"),
            # Python 3 writers store bytes through _codecs.encode at protocol 2; harmless.
            ("_codecs", "encode"),
        }
    )

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self._ALLOWED:
            raise CorruptArchiveError(
                f"the pickle asks for {module}.{name}, which CIFAR never holds"
            )
        return super().find_class(module, name)


def _load_pickle(stream: IO[bytes], member: str) -> dict[Any, Any]:
    # encoding="bytes": the files were written by Python 2, so their keys decode as bytes.
    loaded = _CifarUnpickler(stream, encoding="bytes").load()
    if not isinstance(loaded, dict):
        raise CorruptArchiveError(f"{member} does not hold a dictionary")
    return loaded


def _field(batch: dict[Any, Any], key: str, member: str) -> Any:
    for candidate in (key.encode(), key):
        if candidate in batch:
            return batch[candidate]
    raise MissingMemberError(
        f"{member} has no '{key}' entry; is this the CIFAR-100 python version?"
    )


def _to_imageset(batch: dict[Any, Any], member: str) -> ImageSet:
    data = np.asarray(_field(batch, "data", member))
    fine = np.asarray(_field(batch, "fine_labels", member), dtype=np.int64)
    names = list(_field(batch, "filenames", member))
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * SIDE * SIDE:
        raise CorruptArchiveError(
            f"{member}: 'data' is {data.dtype} {data.shape}, not N x 3072 uint8"
        )
    if not (len(data) == len(fine) == len(names)):
        raise CorruptArchiveError(f"{member}: data, fine_labels and filenames differ in length")
    mask = np.isin(fine, list(CIFAR_FINE_LABELS))
    # Each row is three 1024-byte planes (R, G, B), each a 32x32 image in row order.
    images = np.ascontiguousarray(data[mask].reshape(-1, 3, SIDE, SIDE).transpose(0, 2, 3, 1))
    lookup = np.zeros(max(CIFAR_FINE_LABELS) + 1, dtype=np.int64)
    for fine_label, class_name in CIFAR_FINE_LABELS.items():
        lookup[fine_label] = label_of(class_name)
    labels = lookup[fine[mask]]
    picked = tuple(_safe_name(names[i], member) for i in np.flatnonzero(mask))
    return ImageSet(images, labels, picked)


def _safe_name(raw: bytes | str, member: str) -> str:
    name = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
    # The name becomes a path: refuse anything that could leave the class folder.
    if not name or name != Path(name).name or name.startswith("."):
        raise CorruptArchiveError(f"{member}: file name {name!r} is not a plain file name")
    return name


def read_archive(path: Path) -> dict[str, ImageSet]:
    """The bicycle and motorcycle images of the train and test pickles of a CIFAR-100 archive."""
    splits: dict[str, ImageSet] = {}
    try:
        with tarfile.open(path, "r:gz") as tar:
            for split, member in MEMBERS.items():
                try:
                    stream = tar.extractfile(member)
                except KeyError:
                    stream = None
                if stream is None:
                    raise MissingMemberError(
                        f"{path} has no {member}; pass the CIFAR-100 python archive "
                        f"({ARCHIVE_NAME}), not the binary or MATLAB version"
                    )
                with stream:
                    splits[split] = _to_imageset(_load_pickle(stream, member), member)
    except (
        tarfile.TarError,
        EOFError,
        zlib.error,
        gzip.BadGzipFile,
        pickle.UnpicklingError,
        ValueError,
    ) as exc:
        raise CorruptArchiveError(
            f"{path} cannot be read as a gzip tar of CIFAR pickles ({exc}); download it again"
        ) from exc
    return splits
