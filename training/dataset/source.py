"""Where the data comes from: an image folder, a given archive, or the cached official download."""

from __future__ import annotations

import os
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from training.dataset.archive import ARCHIVE_MD5, ARCHIVE_NAME, ARCHIVE_URL, file_md5
from training.errors import ChecksumMismatchError, DataUnavailableError

HOW_TO_PASS_DATA = (
    "pass the data explicitly: `make data DATA=/path/to/cifar-100-python.tar.gz` (the archive "
    f"from {ARCHIVE_URL}) or `make data DATA=/path/to/folder` with train/<class>/*.png and "
    "test/<class>/*.png (classes bicycle, motorcycle)"
)


@dataclass(frozen=True)
class Source:
    """A resolved input: kind is 'archive' or 'folder'."""

    kind: str
    path: Path


def default_cache_dir() -> Path:
    """$SCONES_CACHE_DIR, else $XDG_CACHE_HOME/scones, else ~/.cache/scones."""
    if explicit := os.environ.get("SCONES_CACHE_DIR"):
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "scones"


def download_archive(cache_dir: Path, url: str = ARCHIVE_URL, timeout: float = 60.0) -> Path:
    """The official archive in cache_dir, downloaded once; a partial download never counts."""
    target = cache_dir / ARCHIVE_NAME
    if target.is_file():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    handle, partial_name = tempfile.mkstemp(
        prefix=f".{ARCHIVE_NAME}.", suffix=".part", dir=cache_dir
    )
    partial = Path(partial_name)
    try:
        with (
            os.fdopen(handle, "wb") as sink,
            urllib.request.urlopen(url, timeout=timeout) as response,
        ):
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc="download") as bar:
                for chunk in iter(lambda: response.read(1 << 20), b""):
                    sink.write(chunk)
                    bar.update(len(chunk))
        actual = file_md5(partial)
        if actual != ARCHIVE_MD5:
            raise ChecksumMismatchError(
                f"the download from {url} has md5 {actual}, not {ARCHIVE_MD5}; it was discarded. "
                f"Retry, or {HOW_TO_PASS_DATA}"
            )
        partial.replace(target)
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise DataUnavailableError(f"cannot download {url} ({exc}); {HOW_TO_PASS_DATA}") from exc
    finally:
        partial.unlink(missing_ok=True)
    return target


def resolve_source(data: Path | None, cache_dir: Path) -> Source:
    """A folder or archive given by the operator, else the official archive (downloaded once)."""
    if data is None:
        return Source("archive", download_archive(cache_dir))
    if data.is_dir():
        return Source("folder", data)
    if data.is_file():
        return Source("archive", data)
    raise DataUnavailableError(f"{data} does not exist; {HOW_TO_PASS_DATA}")
