"""Fixtures for tests against a real local cloud server (reusable by the end-to-end tests)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from localcloud.testing import RunningCloud, running_local_cloud

ASSUME_LAMBDA = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


@pytest.fixture(scope="session")
def local_cloud() -> Iterator[RunningCloud]:
    """One server for the session, on a free port with a temporary state dir; always stopped."""
    with running_local_cloud() as cloud:
        yield cloud


@pytest.fixture(scope="session")
def lambda_role(local_cloud: RunningCloud) -> str:
    iam = local_cloud.client("iam")
    role: str = iam.create_role(
        RoleName="localcloud-test-lambda", AssumeRolePolicyDocument=ASSUME_LAMBDA
    )["Role"]["Arn"]
    return role


@pytest.fixture
def local_cloud_env(local_cloud: RunningCloud, monkeypatch: pytest.MonkeyPatch) -> RunningCloud:
    """This process's tools (ENV=local) find the session's server, as `make` would point them."""
    for name, value in local_cloud.env().items():
        monkeypatch.setenv(name, value)
    return local_cloud
