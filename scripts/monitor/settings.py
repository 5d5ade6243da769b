"""What to monitor: capture location, state machine and threshold, from Terraform or the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scripts.monitor.errors import MonitorError
from training import aws
from training.errors import TerraformOutputError
from training.terraform_outputs import read_outputs

DEFAULT_THRESHOLD = 0.93  # filterInferences' own default (functions/filter_inferences)


@dataclass(frozen=True)
class Target:
    """An environment's capture location and workflow, as the report reads them."""

    bucket: str
    capture_prefix: str  # <data capture prefix>/<endpoint name>: one endpoint's variants
    state_machine_arn: str | None
    threshold_function: str | None  # filterInferences, whose THRESHOLD is the real one


def terraform_outputs(env: str) -> dict[str, Any]:
    """The env's Terraform outputs, read by training.terraform_outputs (the one reader)."""
    try:
        return read_outputs(env)
    except TerraformOutputError as error:
        raise MonitorError(
            f"cannot read the Terraform outputs of infra/envs/{env} ({error}). For offline "
            "analysis pass --capture-dir; to skip Terraform pass --bucket, --capture-prefix and "
            "--endpoint-name, or --results-table."
        ) from None


def resolve_target(
    env: str,
    bucket: str | None,
    capture_prefix: str | None,
    endpoint_name: str | None,
    state_machine_arn: str | None,
    outputs: dict[str, Any] | None = None,
) -> tuple[Target, dict[str, Any]]:
    """The target, and the Terraform outputs read for it (empty when the CLI gave everything).

    `outputs`: the env's Terraform outputs when the caller has read them already.
    """
    if outputs is None:
        outputs = {}
        if not capture_flags_given(bucket, capture_prefix, endpoint_name):
            outputs = terraform_outputs(env)
    uri_bucket, uri_prefix = None, None
    if outputs.get("data_capture_s3_uri"):
        uri_bucket, uri_prefix = parse_s3_uri(outputs["data_capture_s3_uri"])
    elif capture_prefix is None and "data_capture_s3_uri" in outputs:
        raise MonitorError(
            f"data capture is disabled in infra/envs/{env} (output data_capture_s3_uri is null): "
            "set enable_data_capture = true and apply, or pass --capture-prefix"
        )
    bucket = bucket or uri_bucket or outputs.get("bucket_name")
    prefix = capture_prefix if capture_prefix is not None else uri_prefix
    endpoint = endpoint_name or outputs.get("endpoint_name")
    missing = [
        flag
        for flag, value in (
            ("--bucket", bucket),
            ("--capture-prefix", prefix),
            ("--endpoint-name", endpoint),
        )
        if value is None
    ]
    if missing or bucket is None or prefix is None or endpoint is None:
        raise MonitorError(
            f"infra/envs/{env} does not say {', '.join(missing)}; is it applied "
            f"(`make apply ENV={env}`)? Or pass {' and '.join(missing)}"
        )
    functions = outputs.get("function_names") or {}
    target = Target(
        bucket=bucket,
        capture_prefix="/".join(p for p in (prefix.strip("/"), endpoint) if p),
        state_machine_arn=state_machine_arn or outputs.get("state_machine_arn"),
        threshold_function=functions.get("filter_inferences"),
    )
    return target, outputs


def capture_flags_given(
    bucket: str | None, capture_prefix: str | None, endpoint_name: str | None
) -> bool:
    """The CLI says where the capture is: Terraform need not be read."""
    return bool(bucket and capture_prefix is not None and endpoint_name)


def resolve_results_table(env: str, given: str | None, outputs: dict[str, Any]) -> str:
    """--results-table, else the Terraform output results_table_name."""
    name = given or outputs.get("results_table_name")
    if not isinstance(name, str) or not name:
        raise MonitorError(
            f"infra/envs/{env} has no output results_table_name: the results table is not "
            f"deployed; run `make plan apply ENV={env}`, or pass --results-table"
        )
    return name


def parse_s3_uri(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://") or not uri[5:].split("/", 1)[0]:
        raise MonitorError(f"{uri!r} is not an s3://bucket/prefix URI")
    bucket, _, prefix = uri[5:].partition("/")
    return bucket, prefix.strip("/")


def resolve_threshold(
    given: float | None, outputs: dict[str, Any], function: str | None, lambda_client: Any
) -> tuple[float, str]:
    """(threshold, where it came from): the flag, a Terraform output, the Lambda's env, 0.93."""
    if given is not None:
        return _checked(given, "--threshold"), "--threshold"
    if outputs.get("threshold") is not None:
        return _checked(float(outputs["threshold"]), "output threshold"), "Terraform output"
    if function and lambda_client is not None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            config = lambda_client.get_function_configuration(FunctionName=function)
            value = config["Environment"]["Variables"]["THRESHOLD"]
            return _checked(float(value), f"{function} THRESHOLD"), f"{function} THRESHOLD"
        except (BotoCoreError, ClientError, KeyError, TypeError, ValueError):
            pass  # the function's default applies; say so below
    return DEFAULT_THRESHOLD, "default"


def _checked(value: float, where: str) -> float:
    if not 0.0 < value <= 1.0:
        raise MonitorError(f"{where} is {value}; a threshold must be in (0, 1]")
    return value


def make_client(service: str, env: str, endpoint_url: str | None) -> Any:
    """A boto3 client; ENV=local without AWS_ENDPOINT_URL means this machine's local cloud."""
    return aws.client(service, env, endpoint_url=endpoint_url)
