"""The demo's reuse decisions: converted data and the cached model, by their stamps."""

from __future__ import annotations

import os
from pathlib import Path

from scripts.demo.cache import (
    DataStamp,
    ModelStamp,
    data_reusable,
    dataset_fingerprint,
    files_fingerprint,
    input_fingerprint,
    model_reusable,
    wanted_data_stamp,
    write_stamp,
)


def stamp_of(source: Path, archive: Path, out: Path) -> DataStamp:
    stamp = wanted_data_stamp(source, archive, out)
    assert stamp is not None
    return stamp


def image_folder(root: Path) -> Path:
    for split in ("train", "test"):
        for name in ("bicycle", "motorcycle"):
            (root / split / name).mkdir(parents=True)
            (root / split / name / f"{name}_1.png").write_bytes(b"png " + name.encode())
    return root


def converted(out: Path, lst: str = "0\t0\tbicycle/a.png\n") -> Path:
    for split in ("train", "validation", "test"):
        (out / split / "bicycle").mkdir(parents=True, exist_ok=True)
        (out / split / "bicycle" / "a.png").write_bytes(b"png")
        (out / f"{split}.lst").write_text(lst)
    return out


def test_data_is_reused_for_the_same_unchanged_input(tmp_path: Path) -> None:
    source, out, stamp = image_folder(tmp_path / "in"), converted(tmp_path / "out"), tmp_path / "s"
    missing_archive = tmp_path / "none.tar.gz"
    write_stamp(stamp, stamp_of(source, missing_archive, out))
    assert data_reusable(stamp, wanted_data_stamp(source, missing_archive, out))


def test_a_changed_input_file_means_converting_again(tmp_path: Path) -> None:
    source, out, stamp = image_folder(tmp_path / "in"), converted(tmp_path / "out"), tmp_path / "s"
    archive = tmp_path / "none.tar.gz"
    write_stamp(stamp, stamp_of(source, archive, out))
    image = source / "train" / "bicycle" / "bicycle_1.png"
    image.write_bytes(b"another picture")
    os.utime(image, ns=(1, 1))
    assert not data_reusable(stamp, wanted_data_stamp(source, archive, out))


def test_another_input_folder_means_converting_again(tmp_path: Path) -> None:
    first, second = image_folder(tmp_path / "a"), image_folder(tmp_path / "b")
    out, stamp, archive = converted(tmp_path / "out"), tmp_path / "s", tmp_path / "none"
    write_stamp(stamp, stamp_of(first, archive, out))
    assert not data_reusable(stamp, wanted_data_stamp(second, archive, out))


def test_an_edited_or_missing_dataset_means_converting_again(tmp_path: Path) -> None:
    source, out, stamp = image_folder(tmp_path / "in"), converted(tmp_path / "out"), tmp_path / "s"
    archive = tmp_path / "none"
    write_stamp(stamp, stamp_of(source, archive, out))
    (out / "train.lst").write_text("0\t1\tbicycle/a.png\n")
    assert not data_reusable(stamp, wanted_data_stamp(source, archive, out))
    (out / "train.lst").unlink()
    assert wanted_data_stamp(source, archive, out) is None


def test_no_data_and_no_downloaded_archive_is_never_reused(tmp_path: Path) -> None:
    assert input_fingerprint(None, tmp_path / "cifar-100-python.tar.gz") is None
    archive = tmp_path / "cifar-100-python.tar.gz"
    archive.write_bytes(b"archive")
    assert input_fingerprint(None, archive) == input_fingerprint(archive, tmp_path / "other")


def test_a_torn_stamp_is_not_reused(tmp_path: Path) -> None:
    source, out, stamp = image_folder(tmp_path / "in"), converted(tmp_path / "out"), tmp_path / "s"
    stamp.write_text('{"input": ')
    assert not data_reusable(stamp, wanted_data_stamp(source, tmp_path / "none", out))


def test_the_dataset_fingerprint_follows_the_lst_files(tmp_path: Path) -> None:
    one = dataset_fingerprint(converted(tmp_path / "one"))
    two = dataset_fingerprint(converted(tmp_path / "two", lst="0\t1\tbicycle/a.png\n"))
    assert one and two and one != two
    assert dataset_fingerprint(tmp_path / "empty") is None


def model_cache(tmp_path: Path) -> tuple[Path, Path]:
    artifact = tmp_path / "model.tar.gz"
    artifact.write_bytes(b"weights")
    stamp = tmp_path / "model.stamp.json"
    write_stamp(stamp, ModelStamp("data-1", "hp-1", "trainer-1", "models/job/output/model.tar.gz"))
    return stamp, artifact


def test_the_model_is_reused_only_for_the_same_data_hyperparameters_and_trainer(
    tmp_path: Path,
) -> None:
    stamp, artifact = model_cache(tmp_path)
    key = "models/job/output/model.tar.gz"
    assert model_reusable(stamp, artifact, "data-1", "hp-1", "trainer-1") == key
    assert model_reusable(stamp, artifact, "data-2", "hp-1", "trainer-1") is None
    assert model_reusable(stamp, artifact, "data-1", "hp-2", "trainer-1") is None
    assert model_reusable(stamp, artifact, "data-1", "hp-1", "trainer-2") is None


def test_a_stamp_without_its_artifact_is_not_reused(tmp_path: Path) -> None:
    stamp, artifact = model_cache(tmp_path)
    artifact.unlink()
    assert model_reusable(stamp, artifact, "data-1", "hp-1", "trainer-1") is None


def test_the_files_fingerprint_sees_names_and_contents(tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text("{}")
    b.write_text("{}")
    assert files_fingerprint([a]) != files_fingerprint([b])
    before = files_fingerprint([a])
    a.write_text('{"epochs": 2}')
    assert files_fingerprint([a]) != before
