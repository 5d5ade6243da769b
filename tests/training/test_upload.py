"""`make upload` against moto: the channel layout, the flat test split, and a second run."""

from __future__ import annotations

from pathlib import Path

import boto3
import numpy as np
import pytest
from moto import mock_aws
from PIL import Image

from training.convert import convert
from training.errors import CollidingTestKeyError, ConfigError
from training.upload import main, plan, sync

BUCKET = "scones-test-bucket"


@pytest.fixture
def data(make_archive, tmp_path) -> Path:
    out = tmp_path / "data"
    convert(make_archive(), out, verify=False, validation_fraction=0.34)
    return out


@pytest.fixture
def s3(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


def keys(s3) -> list[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
    return sorted(entry["Key"] for page in pages for entry in page.get("Contents", []))


def test_layout_matches_the_channels(s3, data):
    result = sync(s3, BUCKET, data, progress=False)
    assert result.uploaded == 11 + 3 and result.skipped == 0
    uploaded = keys(s3)
    assert {"train_lst/train.lst", "validation_lst/validation.lst", "test_lst/test.lst"} <= set(
        uploaded
    )
    for split in ("train", "validation"):
        listed = (data / f"{split}.lst").read_text().splitlines()
        expected = {f"{split}/{line.split(chr(9))[2]}" for line in listed}
        assert {k for k in uploaded if k.startswith(f"{split}/")} == expected
        body = s3.get_object(Bucket=BUCKET, Key=f"{split}_lst/{split}.lst")["Body"].read()
        assert body == (data / f"{split}.lst").read_bytes()
    # The test split is flat, and its uploaded .lst lists what is in the bucket.
    local = [line.split("\t") for line in (data / "test.lst").read_text().splitlines()]
    assert {k for k in uploaded if k.startswith("test/")} == {
        f"test/{Path(path).name}" for _, _, path in local
    }
    remote = s3.get_object(Bucket=BUCKET, Key="test_lst/test.lst")["Body"].read().decode()
    assert [line.split("\t") for line in remote.splitlines()] == [
        [index, label, Path(path).name] for index, label, path in local
    ]
    head = s3.head_object(Bucket=BUCKET, Key="test/test_s_000001.png")
    assert head["ContentType"] == "image/png"
    assert len(head["Metadata"]["sha256"]) == 64


def test_second_run_uploads_nothing_and_changes_are_uploaded(s3, data):
    sync(s3, BUCKET, data, progress=False)
    again = sync(s3, BUCKET, data, progress=False)
    assert (again.uploaded, again.skipped) == (0, 14)
    (data / "test.lst").write_text((data / "test.lst").read_text() + "\n")
    changed = sync(s3, BUCKET, data, progress=False)
    assert changed.uploaded == 1


def test_test_images_are_at_the_original_projects_keys(s3, data):
    sync(s3, BUCKET, data, progress=False)
    # test_s_000001 is a bicycle (conftest's TEST_FINE): test/<file>, not test/<class>/<file>.
    body = s3.get_object(Bucket=BUCKET, Key="test/test_s_000001.png")["Body"].read()
    assert body == (data / "test" / "bicycle" / "test_s_000001.png").read_bytes()
    assert not [key for key in keys(s3) if key.startswith("test/bicycle/")]
    remote = s3.get_object(Bucket=BUCKET, Key="test_lst/test.lst")["Body"].read().decode()
    assert "\t0\ttest_s_000001.png\n" in remote


@pytest.mark.shared_data
def test_the_original_test_events_key_exists_after_upload(s3, shared_data, tmp_path):
    """The original project's event names s3_key test/bicycle_s_000513.png: it must exist."""
    source = tmp_path / "images"
    picks = {
        "train/bicycle": sorted((shared_data / "train/bicycle").glob("*.png"))[:2],
        "train/motorcycle": sorted((shared_data / "train/motorcycle").glob("*.png"))[:2],
        "test/bicycle": [shared_data / "test/bicycle/bicycle_s_000513.png"],
        "test/motorcycle": sorted((shared_data / "test/motorcycle").glob("*.png"))[:1],
    }
    for folder, images in picks.items():
        (source / folder).mkdir(parents=True)
        for image in images:
            (source / folder / image.name).symlink_to(image)
    data = tmp_path / "data"
    convert(source, data, validation_fraction=0.5)
    sync(s3, BUCKET, data, progress=False)
    head = s3.head_object(Bucket=BUCKET, Key="test/bicycle_s_000513.png")
    assert head["ContentType"] == "image/png"
    remote = s3.get_object(Bucket=BUCKET, Key="test_lst/test.lst")["Body"].read().decode()
    assert "\t0\tbicycle_s_000513.png\n" in remote


def test_test_images_of_two_classes_with_one_name_are_a_named_error(s3, tmp_path):
    source = tmp_path / "images"
    rng = np.random.default_rng(0)
    for relative in (
        "train/bicycle/a.png",
        "train/bicycle/b.png",
        "train/motorcycle/c.png",
        "train/motorcycle/d.png",
        "test/bicycle/same.png",
        "test/motorcycle/same.png",
    ):
        (source / relative).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(source / relative)
    data = tmp_path / "data"
    convert(source, data, validation_fraction=0.5)  # within a class the names are unique
    with pytest.raises(CollidingTestKeyError, match=r"bicycle/same\.png and motorcycle/same\.png"):
        sync(s3, BUCKET, data, progress=False)
    assert keys(s3) == [], "nothing is uploaded before the collision is found"


def test_cli_reports_a_collision_by_name(s3, data, capsys):
    (data / "test.lst").write_text("0\t0\tbicycle/x.png\n1\t1\tmotorcycle/x.png\n")
    assert main(["--env", "dev", "--bucket", BUCKET, "--data", str(data)]) == 1
    assert "CollidingTestKeyError" in capsys.readouterr().err


def test_matching_sha256_counts_when_the_etag_is_not_an_md5(s3, data, monkeypatch):
    sync(s3, BUCKET, data, progress=False)
    # As with SSE-KMS, where the ETag is not the md5 of the body.
    monkeypatch.setattr("training.upload.existing_etags", lambda *a: dict.fromkeys(keys(s3), "x"))
    assert sync(s3, BUCKET, data, progress=False).uploaded == 0


def test_prefix(s3, data):
    sync(s3, BUCKET, data, prefix="datasets/v1", progress=False)
    assert all(key.startswith("datasets/v1/") for key in keys(s3))


def test_missing_data_is_a_named_error(tmp_path):
    with pytest.raises(ConfigError, match="make data"):
        plan(tmp_path)


def test_cli_with_explicit_bucket(s3, data, capsys):
    assert main(["--env", "dev", "--bucket", BUCKET, "--data", str(data)]) == 0
    assert "uploaded 14, unchanged 0" in capsys.readouterr().out


def test_cli_without_bucket_or_terraform_root_says_what_to_pass(data, tmp_path, capsys):
    assert main(["--env", "nowhere", "--envs-dir", str(tmp_path), "--data", str(data)]) == 1
    assert "--bucket" in capsys.readouterr().err
