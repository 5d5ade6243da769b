"""Fixtures for the Lambda tests: handlers loaded by path, a clean environment, S3 on moto."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws
from PIL import Image

# The handlers import the shared package as top-level `common`, as they do in their zips:
# pyproject.toml's pytest `pythonpath = ["functions"]` puts it on the path.
from common import aws
from tests.support.lambda_kit import BUCKET, ENDPOINT, FUNCTIONS_DIR, SERVICE, FakeContext

FUNCTION_FOLDERS = ("serialize_image_data", "classify_image", "filter_inferences")
_ENV_VARS = (
    "IMAGE_SIZE",
    "MAX_IMAGE_BYTES",
    "MAX_IMAGE_PIXELS",
    "ENDPOINT_NAME",
    "THRESHOLD",
    "SERVICE_NAME",
    "AWS_PROFILE",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME",
)


def _load_handler(folder: str) -> ModuleType:
    # Three files are all called handler.py: load each under its own name.
    path = FUNCTIONS_DIR / folder / "handler.py"
    spec = importlib.util.spec_from_file_location(f"{folder}_handler", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


HANDLERS = {folder: _load_handler(folder) for folder in FUNCTION_FOLDERS}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts like a cold container: default config, no clients, fake credentials."""
    for name in _ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("ENDPOINT_NAME", ENDPOINT)
    monkeypatch.setenv("SERVICE_NAME", SERVICE)
    max_pixels = Image.MAX_IMAGE_PIXELS
    _reset_caches()
    yield
    _reset_caches()
    Image.MAX_IMAGE_PIXELS = max_pixels


def _reset_caches() -> None:
    for module in HANDLERS.values():
        module.get_config.cache_clear()
    aws.reset_clients()


@pytest.fixture
def serialize() -> ModuleType:
    return HANDLERS["serialize_image_data"]


@pytest.fixture
def classify() -> ModuleType:
    return HANDLERS["classify_image"]


@pytest.fixture
def filter_inferences() -> ModuleType:
    return HANDLERS["filter_inferences"]


@pytest.fixture
def context() -> FakeContext:
    return FakeContext()


@pytest.fixture(scope="module")
def _moto_s3() -> Iterator[Any]:
    # One mock per test module: starting moto and creating the bucket costs ~0.4 s, and the
    # tests write distinct keys, so they do not need a fresh bucket each.
    with mock_aws():
        client = boto3.client(
            "s3",
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        client.create_bucket(Bucket=BUCKET)
        yield client


@pytest.fixture
def s3(_moto_s3: Any) -> Any:
    """S3 served by moto in process, with the test bucket created."""
    return _moto_s3
