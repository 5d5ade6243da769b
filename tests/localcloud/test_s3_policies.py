"""Bucket policies on the local cloud: DenyInsecureTransport must not deny everything."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from localcloud.testing import RunningCloud

pytestmark = pytest.mark.e2e


def policy(bucket: str, statement: dict[str, object]) -> str:
    resources = [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Principal": "*", "Resource": resources, **statement}],
        }
    )


def test_deny_insecure_transport_lets_sdk_calls_through(local_cloud: RunningCloud) -> None:
    s3 = local_cloud.client("s3")
    s3.create_bucket(Bucket="secure-only")
    deny_http = {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Action": "s3:*",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    s3.put_bucket_policy(Bucket="secure-only", Policy=policy("secure-only", deny_http))
    s3.put_object(Bucket="secure-only", Key="k", Body=b"v")
    assert s3.get_object(Bucket="secure-only", Key="k")["Body"].read() == b"v"


def test_an_unconditional_deny_still_denies(local_cloud: RunningCloud) -> None:
    s3 = local_cloud.client("s3")
    s3.create_bucket(Bucket="locked")
    s3.put_object(Bucket="locked", Key="k", Body=b"v")
    deny_get = {"Effect": "Deny", "Action": "s3:GetObject"}
    s3.put_bucket_policy(Bucket="locked", Policy=policy("locked", deny_get))
    with pytest.raises(ClientError, match=r"403|AccessDenied"):
        s3.get_object(Bucket="locked", Key="k")
