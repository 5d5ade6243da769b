"""Image-folder mode of `make data`, on made-up folders and on the real shared images."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from training.convert import convert
from training.errors import (
    CorruptImageError,
    EmptyClassError,
    MissingMemberError,
    UnexpectedClassError,
)


def write_image(path: Path, size: tuple[int, int], seed: int, fmt: str = "PNG") -> np.ndarray:
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path, format=fmt)
    return pixels


def make_folder(root: Path) -> dict[str, np.ndarray]:
    written = {}
    seed = 0
    for split in ("train", "test"):
        for class_name in ("bicycle", "motorcycle"):
            for i in range(3 if split == "train" else 1):
                seed += 1
                relative = f"{split}/{class_name}/{class_name}_{i}.png"
                written[relative] = write_image(root / relative, (32, 32), seed)
    return written


def test_folder_pixels_are_kept_and_other_formats_normalised(tmp_path):
    source = tmp_path / "src"
    written = make_folder(source)
    # A big RGBA PNG and a JPEG must come out as 32x32 RGB PNG.
    Image.new("RGBA", (64, 48), (10, 20, 30, 255)).save(source / "train/bicycle/big.png")
    write_image(source / "train/motorcycle/photo.JPG", (40, 40), 99, fmt="JPEG")
    (source / "train/bicycle/notes.txt").write_text("ignored")
    out = tmp_path / "data"
    convert(source, out, validation_fraction=0.25)
    for relative, pixels in written.items():
        split, class_name, name = relative.split("/")
        targets = ("test",) if split == "test" else ("train", "validation")
        found = [out / s / class_name / name for s in targets]
        (path,) = [p for p in found if p.exists()]
        with Image.open(path) as image:
            np.testing.assert_array_equal(np.asarray(image), pixels)
    for relative in ("bicycle/big.png", "motorcycle/photo.png"):
        (path,) = [
            out / s / relative for s in ("train", "validation") if (out / s / relative).exists()
        ]
        with Image.open(path) as image:
            assert (image.mode, image.size, image.format) == ("RGB", (32, 32), "PNG")
    assert not list(out.rglob("*.txt"))
    lines = sum(len((out / f"{s}.lst").read_text().splitlines()) for s in ("train", "validation"))
    assert lines == 8


def test_unknown_class_folder(tmp_path):
    make_folder(tmp_path / "src")
    write_image(tmp_path / "src/train/scooter/a.png", (32, 32), 1)
    with pytest.raises(UnexpectedClassError, match="scooter"):
        convert(tmp_path / "src", tmp_path / "data")


def test_empty_class_folder(tmp_path):
    make_folder(tmp_path / "src")
    for path in (tmp_path / "src/test/motorcycle").iterdir():
        path.unlink()
    with pytest.raises(EmptyClassError, match="motorcycle"):
        convert(tmp_path / "src", tmp_path / "data")
    assert not (tmp_path / "data").exists()


def test_missing_split_folder(tmp_path):
    make_folder(tmp_path / "src")
    for path in sorted((tmp_path / "src/test").rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    (tmp_path / "src/test").rmdir()
    with pytest.raises(MissingMemberError, match="test/"):
        convert(tmp_path / "src", tmp_path / "data")


def test_undecodable_image(tmp_path):
    make_folder(tmp_path / "src")
    (tmp_path / "src/train/bicycle/broken.png").write_bytes(b"\x89PNG not really")
    with pytest.raises(CorruptImageError, match=r"broken\.png"):
        convert(tmp_path / "src", tmp_path / "data")


@pytest.mark.shared_data
def test_real_shared_images_convert_losslessly(shared_data: Path, tmp_path):
    out = tmp_path / "data"
    convert(shared_data, out)
    counts = {
        s: len((out / f"{s}.lst").read_text().splitlines()) for s in ("train", "validation", "test")
    }
    assert counts == {"train": 900, "validation": 100, "test": 200}
    for split in ("train", "validation"):
        labels = [line.split("\t")[1] for line in (out / f"{split}.lst").read_text().splitlines()]
        assert labels.count("0") == labels.count("1")
    # Every written image has the pixels of its source image.
    for written in sorted(out.rglob("*.png"))[::25]:
        class_name, name = written.parent.name, written.name
        split = "test" if written.parts[-3] == "test" else "train"
        with Image.open(written) as a, Image.open(shared_data / split / class_name / name) as b:
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b.convert("RGB")))
    again = tmp_path / "again"
    convert(shared_data, again)

    def digest(root: Path) -> str:
        hasher = hashlib.sha256()
        for path in sorted(root.rglob("*")):
            if path.is_file():
                hasher.update(str(path.relative_to(root)).encode() + path.read_bytes())
        return hasher.hexdigest()

    assert digest(out) == digest(again)
