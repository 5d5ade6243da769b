"""training.aws, the one client factory: ENV=local is the local cloud's key, never the caller's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from localcloud.testing import RunningCloud, running_local_cloud
from training import aws
from training.convert import convert
from training.upload import main as upload

BUCKET = "scones-local-upload"
# A caller's real-account configuration, which ENV=local must never use.
CALLER = {
    "AWS_ACCESS_KEY_ID": "AKIACALLERSOWNKEY000",
    "AWS_SECRET_ACCESS_KEY": "callers-own-secret",
    "AWS_SESSION_TOKEN": "callers-own-token",
    "AWS_DEFAULT_REGION": "eu-west-1",
}


@pytest.fixture(scope="module")
def cloud() -> Iterator[RunningCloud]:
    with running_local_cloud() as running:
        running.client("s3").create_bucket(Bucket=BUCKET)
        yield running


@pytest.fixture
def outside_make(cloud: RunningCloud, monkeypatch: pytest.MonkeyPatch) -> RunningCloud:
    """A shell that never ran `make` or `eval "$(make -s local-env)"`: the caller's keys only."""
    for name, value in CALLER.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    # What finds the local cloud: its state root and port, as `make local-up` leaves them.
    env = cloud.env()
    monkeypatch.setenv("LOCAL_CLOUD_HOME", env["LOCAL_CLOUD_HOME"])
    monkeypatch.setenv("LOCAL_CLOUD_PORT", env["LOCAL_CLOUD_PORT"])
    return cloud


@pytest.mark.e2e
def test_upload_env_local_outside_make_reaches_the_local_cloud(
    outside_make: RunningCloud, make_archive, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    convert(make_archive(), data, verify=False, validation_fraction=0.34)
    assert upload(["--env", "local", "--bucket", BUCKET, "--data", str(data)]) == 0, (
        capsys.readouterr().err
    )
    listed = outside_make.client("s3").list_objects_v2(Bucket=BUCKET, Prefix="train/")
    assert listed["KeyCount"] > 0


@pytest.mark.e2e
def test_a_local_client_signs_with_the_issued_key_not_the_callers(
    outside_make: RunningCloud,
) -> None:
    s3 = aws.client("s3", "local")
    signed = s3._request_signer._credentials.get_frozen_credentials()
    assert signed.access_key == outside_make.credentials.access_key_id
    assert signed.token is None
    assert s3.meta.endpoint_url == outside_make.endpoint_url
    assert s3.meta.region_name == "us-east-1"


def test_env_local_without_a_running_cloud_is_a_named_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOCAL_CLOUD_HOME", str(tmp_path))  # no server ever started here
    monkeypatch.setenv("LOCAL_CLOUD_PORT", "4999")
    with pytest.raises(aws.LocalCloudNotRunningError, match="port 4999 is not running"):
        aws.client("s3", "local")
    assert upload(["--env", "local", "--bucket", BUCKET, "--data", str(tmp_path)]) == 1
    assert "LocalCloudNotRunningError" in capsys.readouterr().err


def test_dev_uses_the_callers_configuration_and_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in CALLER.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
    s3 = aws.client("s3", "dev")
    assert s3.meta.endpoint_url == "http://127.0.0.1:1"
    assert s3.meta.region_name == "eu-west-1"
    assert s3._request_signer._credentials.access_key == CALLER["AWS_ACCESS_KEY_ID"]
