"""`make upload` against moto: the channel layout, and a second run that uploads nothing."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from training.convert import convert
from training.errors import ConfigError
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
    for split in ("train", "validation", "test"):
        listed = (data / f"{split}.lst").read_text().splitlines()
        expected = {f"{split}/{line.split(chr(9))[2]}" for line in listed}
        assert {k for k in uploaded if k.startswith(f"{split}/")} == expected
    body = s3.get_object(Bucket=BUCKET, Key="train_lst/train.lst")["Body"].read()
    assert body == (data / "train.lst").read_bytes()
    head = s3.head_object(Bucket=BUCKET, Key="test/bicycle/test_s_000001.png")
    assert head["ContentType"] == "image/png"
    assert len(head["Metadata"]["sha256"]) == 64


def test_second_run_uploads_nothing_and_changes_are_uploaded(s3, data):
    sync(s3, BUCKET, data, progress=False)
    again = sync(s3, BUCKET, data, progress=False)
    assert (again.uploaded, again.skipped) == (0, 14)
    (data / "test.lst").write_text((data / "test.lst").read_text() + "\n")
    changed = sync(s3, BUCKET, data, progress=False)
    assert changed.uploaded == 1


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
    assert main(["--bucket", BUCKET, "--data", str(data)]) == 0
    assert "uploaded 14, unchanged 0" in capsys.readouterr().out


def test_cli_without_bucket_or_terraform_root_says_what_to_pass(data, tmp_path, capsys):
    assert main(["--env", "nowhere", "--envs-dir", str(tmp_path), "--data", str(data)]) == 1
    assert "--bucket" in capsys.readouterr().err
