"""`make apply`'s readback: the endpoint must be InService on the configuration Terraform planned.

Provider 5.x reports a SageMaker rollback as a successful apply: it waits only for InService,
which a rolled-back deployment also reaches (hashicorp/terraform-provider-aws#46663, #48997).
So after every apply this reads the endpoint back with DescribeEndpoint and compares its
EndpointConfigName with the root's output endpoint_configuration_name. On a mismatch, or any
status but InService, it exits 1 with SageMaker's FailureReason ("If the status of the endpoint
is Failed, or the status is InService but update operation fails, this provides the reason why
it failed.", API DescribeEndpoint), so a silent rollback is never a success.

    python -m scripts.endpoint_check --env ENV [--envs-dir DIR] [--timeout SECONDS]
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from training.errors import TerraformOutputError
from training.terraform_outputs import ENVS_DIR, read_outputs

# Statuses an endpoint passes through on its way to InService or Failed.
TRANSITIONAL = frozenset({"Creating", "Updating", "SystemUpdating", "RollingBack"})
POLL_SECONDS = 5.0


class EndpointCheckError(RuntimeError):
    """The endpoint does not serve what Terraform planned; the message says why and what next."""


@dataclass(frozen=True)
class Readback:
    endpoint: str
    status: str
    serving: str
    planned: str
    failure_reason: str | None


def read_back(
    sagemaker: Any, endpoint: str, planned: str, timeout: float, poll: float = POLL_SECONDS
) -> Readback:
    """DescribeEndpoint once it leaves its transitional statuses (or the timeout passes)."""
    from botocore.exceptions import ClientError

    deadline = time.monotonic() + timeout
    while True:
        try:
            described = sagemaker.describe_endpoint(EndpointName=endpoint)
        except ClientError as error:
            raise EndpointCheckError(
                f"endpoint {endpoint} cannot be read back ({error}); Terraform planned it on "
                f"{planned}: check the environment's credentials and region, then apply again"
            ) from None
        status = described["EndpointStatus"]
        if status not in TRANSITIONAL or time.monotonic() >= deadline:
            return Readback(
                endpoint,
                status,
                described.get("EndpointConfigName", ""),
                planned,
                described.get("FailureReason"),
            )
        time.sleep(poll)


def verdict(readback: Readback) -> str:
    """The success line; EndpointCheckError when the endpoint is not what was planned."""
    reason = readback.failure_reason or "SageMaker gave no FailureReason"
    if readback.status != "InService":
        raise EndpointCheckError(
            f"endpoint {readback.endpoint} is {readback.status}, not InService: {reason}. "
            "See its CloudWatch logs (/aws/sagemaker/Endpoints/"
            f"{readback.endpoint}), fix the model or configuration, then plan and apply again."
        )
    if readback.serving != readback.planned:
        raise EndpointCheckError(
            f"endpoint {readback.endpoint} is InService on {readback.serving}, not on the planned "
            f"{readback.planned}: SageMaker rolled the deployment back. FailureReason: {reason}. "
            "The old model still serves. Fix or replace the model (make promote ENV=... "
            "PACKAGE=<a good package>), then plan and apply again."
        )
    return f"endpoint {readback.endpoint}: InService on {readback.planned}, as planned"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--env", required=True, help="environment root under infra/envs")
    parser.add_argument("--envs-dir", type=Path, default=ENVS_DIR, help=argparse.SUPPRESS)
    parser.add_argument(
        "--timeout", type=float, default=3600.0, help="seconds to wait for a deployment to end"
    )
    args = parser.parse_args(argv)
    try:
        outputs = read_outputs(args.env, args.envs_dir)
    except TerraformOutputError as error:
        print(f"endpoint_check: {error}", file=sys.stderr)
        return 2
    endpoint, planned = outputs.get("endpoint_name"), outputs.get("endpoint_configuration_name")
    if not endpoint or not planned:
        print(
            f"endpoint_check: {args.env} has no endpoint yet (no promoted model), nothing to read"
        )
        return 0
    import boto3

    sagemaker = boto3.client("sagemaker", region_name=outputs.get("region"))
    try:
        print(verdict(read_back(sagemaker, str(endpoint), str(planned), args.timeout)))
    except EndpointCheckError as error:
        print(f"endpoint_check: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
