"""Fixtures of the local cloud's own tests; the session's `local_cloud` is tests/conftest.py's."""

from __future__ import annotations

import json

import pytest

from localcloud.testing import RunningCloud

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
def lambda_role(local_cloud: RunningCloud) -> str:
    iam = local_cloud.client("iam")
    role: str = iam.create_role(
        RoleName="localcloud-test-lambda", AssumeRolePolicyDocument=ASSUME_LAMBDA
    )["Role"]["Arn"]
    return role
