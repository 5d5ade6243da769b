"""Archive mode of `make data`: exact pixels and bytes, .lst files, named errors, atomic output."""

from __future__ import annotations

import logging
import pickle
import struct
import tarfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from training.convert import convert, main
from training.errors import (
    ChecksumMismatchError,
    CorruptArchiveError,
    EmptyClassError,
    MissingMemberError,
)

BICYCLE, MOTORCYCLE = 8, 48


def png_chunk_types(body: bytes) -> list[bytes]:
    assert body[:8] == b"\x89PNG\r\n\x1a\n"
    types, offset = [], 8
    while offset < len(body):
        (length,) = struct.unpack(">I", body[offset : offset + 4])
        types.append(body[offset + 4 : offset + 8])
        offset += 12 + length
    return types


def expected_pixels(row: np.ndarray) -> np.ndarray:
    """The CIFAR row layout spelled out pixel by pixel: R plane, G plane, B plane, row-major."""
    image = np.zeros((32, 32, 3), dtype=np.uint8)
    for channel in range(3):
        for y in range(32):
            for x in range(32):
                image[y, x, channel] = row[channel * 1024 + y * 32 + x]
    return image


def all_files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_pixels_match_the_planes_and_pngs_carry_no_metadata(
    make_archive: Callable[..., Path], trust_archive: Callable[[Path], None], fake_splits, tmp_path
):
    archive = make_archive()
    trust_archive(archive)
    out = tmp_path / "data"
    convert(archive, out, validation_fraction=0.34)
    for split, rows in fake_splits.items():
        kept = [i for i, label in enumerate(rows.fine_labels) if label in (BICYCLE, MOTORCYCLE)]
        for i in kept:
            class_name = "bicycle" if rows.fine_labels[i] == BICYCLE else "motorcycle"
            candidates = [
                out / folder / class_name / rows.filenames[i]
                for folder in (["train", "validation"] if split == "train" else ["test"])
            ]
            (path,) = [p for p in candidates if p.exists()]
            body = path.read_bytes()
            assert png_chunk_types(body) == [b"IHDR", b"IDAT", b"IEND"]
            with Image.open(path) as image:
                assert image.mode == "RGB"
                assert image.size == (32, 32)
                np.testing.assert_array_equal(np.asarray(image), expected_pixels(rows.data[i]))
    # Labels other than 8 and 48 are dropped.
    assert len(list(out.rglob("*.png"))) == 7 + 4


def test_lst_files_are_exact(make_archive, trust_archive, tmp_path):
    archive = make_archive()
    trust_archive(archive)
    out = tmp_path / "data"
    convert(archive, out, validation_fraction=0.34)
    assert (out / "test.lst").read_text() == (
        "0\t0\tbicycle/test_s_000001.png\n"
        "1\t0\tbicycle/test_s_000003.png\n"
        "2\t1\tmotorcycle/test_s_000000.png\n"
        "3\t1\tmotorcycle/test_s_000004.png\n"
    )
    train = (out / "train.lst").read_text().splitlines()
    validation = (out / "validation.lst").read_text().splitlines()
    # 4 bicycles and 3 motorcycles: round(0.34 * n) of each class held out.
    assert len(train) == 5 and len(validation) == 2
    assert [line.split("\t")[0] for line in train] == ["0", "1", "2", "3", "4"]
    held_out = {line.split("\t")[2] for line in validation}
    assert {path.split("/")[0] for path in held_out} == {"bicycle", "motorcycle"}
    assert not held_out & {line.split("\t")[2] for line in train}
    for line in train + validation:
        _, label, path = line.split("\t")
        assert label == ("0" if path.startswith("bicycle/") else "1")


def test_two_runs_write_identical_bytes(make_archive, trust_archive, tmp_path):
    archive = make_archive()
    trust_archive(archive)
    convert(archive, tmp_path / "one")
    convert(archive, tmp_path / "two")
    first = all_files(tmp_path / "one")
    assert first == all_files(tmp_path / "two")
    convert(archive, tmp_path / "one")  # replacing an existing output gives the same bytes
    assert all_files(tmp_path / "one") == first


def test_str_keys_are_accepted(make_archive, tmp_path):
    convert(make_archive(str_keys=True), tmp_path / "data", verify=False)
    assert (tmp_path / "data" / "test.lst").is_file()


def test_wrong_md5_is_a_named_error_and_writes_nothing(make_archive, tmp_path):
    with pytest.raises(ChecksumMismatchError, match="--no-verify"):
        convert(make_archive(), tmp_path / "data")
    assert not (tmp_path / "data").exists()


def test_no_verify_converts_with_a_warning(make_archive, tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        convert(make_archive(), tmp_path / "data", verify=False)
    assert "md5" in caplog.text and "verification is off" in caplog.text
    assert (tmp_path / "data" / "train.lst").is_file()


def test_corrupt_archive(tmp_path):
    archive = tmp_path / "cifar-100-python.tar.gz"
    archive.write_bytes(b"\x1f\x8b\x08\x00" + b"not really gzip" * 20)
    with pytest.raises(CorruptArchiveError, match="download it again"):
        convert(archive, tmp_path / "data", verify=False)


def test_truncated_archive(make_archive, tmp_path):
    archive = make_archive()
    archive.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    with pytest.raises(CorruptArchiveError):
        convert(archive, tmp_path / "data", verify=False)


class _Evil:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (print, ("this must never run",))


def test_pickle_asking_for_other_code_is_refused(tar_writer, tmp_path, capsys):
    body = pickle.dumps({b"data": _Evil()}, protocol=2)
    archive = tar_writer(
        tmp_path / "evil.tar.gz",
        {"cifar-100-python/train": body, "cifar-100-python/test": body},
    )
    with pytest.raises(CorruptArchiveError, match="print, which CIFAR never holds"):
        convert(archive, tmp_path / "data", verify=False)
    assert "must never run" not in capsys.readouterr().out


def test_missing_member(make_archive, tmp_path):
    with pytest.raises(MissingMemberError, match="cifar-100-python/test"):
        convert(make_archive(skip=("test",)), tmp_path / "data", verify=False)


def test_empty_class(make_archive, fake_splits, tmp_path):
    no_motorcycles = dict(fake_splits)
    test = fake_splits["test"]
    no_motorcycles["test"] = type(test)(
        test.filenames, [8 if label == 48 else label for label in test.fine_labels], test.data
    )
    with pytest.raises(EmptyClassError, match="test split has no motorcycle"):
        convert(make_archive(splits=no_motorcycles), tmp_path / "data", verify=False)


def test_failure_keeps_the_previous_output_and_leaves_no_temporary(make_archive, tmp_path):
    out = tmp_path / "data"
    convert(make_archive(), out, verify=False)
    before = all_files(out)
    broken = make_archive(name="broken.tar.gz", skip=("test",))
    with pytest.raises(MissingMemberError):
        convert(broken, out, verify=False)
    assert all_files(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "broken.tar.gz",
        "cifar-100-python.tar.gz",
        "data",
    ]


def test_failure_while_writing_leaves_no_temporary(make_archive, tmp_path, monkeypatch):
    def explode(pixels: np.ndarray) -> bytes:
        raise OSError("disk full")

    monkeypatch.setattr("training.dataset.layout.encode_png", explode)
    with pytest.raises(OSError, match="disk full"):
        convert(make_archive(), tmp_path / "data", verify=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cifar-100-python.tar.gz"]


def test_cli_exit_codes(make_archive, tmp_path, capsys):
    archive = make_archive()
    assert main(["--data", str(archive), "--out", str(tmp_path / "d")]) == 1
    assert "ChecksumMismatchError" in capsys.readouterr().err
    assert main(["--data", str(archive), "--out", str(tmp_path / "d"), "--no-verify"]) == 0
    assert "images/s" in capsys.readouterr().out


def test_offline_without_data_says_what_to_pass(tmp_path, monkeypatch, capsys):
    def offline(*args: object, **kwargs: object) -> None:
        import urllib.error

        raise urllib.error.URLError("no network")

    monkeypatch.setattr("urllib.request.urlopen", offline)
    # make passes --data "" when DATA is unset.
    code = main(
        ["--data", "", "--out", str(tmp_path / "d"), "--cache-dir", str(tmp_path / "cache")]
    )
    assert code == 1
    err = capsys.readouterr().err
    assert "make data DATA=/path/to/cifar-100-python.tar.gz" in err
    assert list((tmp_path / "cache").iterdir()) == []


def test_cached_archive_is_used_without_network(make_archive, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    cache.mkdir()
    make_archive().rename(cache / "cifar-100-python.tar.gz")
    monkeypatch.setattr("urllib.request.urlopen", None)
    convert(None, tmp_path / "data", verify=False, cache_dir=cache)
    assert (tmp_path / "data" / "train.lst").is_file()


def test_tar_without_gzip_is_corrupt(tmp_path):
    archive = tmp_path / "plain.tar"
    with tarfile.open(archive, "w"):
        pass
    with pytest.raises(CorruptArchiveError):
        convert(archive, tmp_path / "data", verify=False)
