"""`make promote`: pick an Approved model package for ENV's next plan, and say what changes."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from training.aws import client
from training.errors import ConfigError, TrainingToolError
from training.registry import artifact_of, check_promotable, describe, latest_approved
from training.terraform_outputs import ENVS_DIR, output_value

TFVARS_NAME = "model.auto.tfvars.json"
METRICS = ("test_accuracy", "validation_accuracy", "min_accuracy", "test_images", "training_job")


def read_model_tfvars(envs_dir: Path, env: str) -> dict[str, Any]:
    """What the last promotion wrote, or {} before the first."""
    target = envs_dir / env / TFVARS_NAME
    if not target.is_file():
        return {}
    try:
        value = json.loads(target.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{target} is not JSON ({exc}); delete it and promote again") from exc
    return value if isinstance(value, dict) else {}


def write_model_tfvars(envs_dir: Path, env: str, package: dict[str, Any]) -> Path:
    """infra/envs/<env>/model.auto.tfvars.json: the package the next plan deploys.

    model_data_url is the package's own artifact, recorded with every answer by the workflow;
    the endpoint is built from model_package_arn.
    """
    root = envs_dir / env
    root.mkdir(parents=True, exist_ok=True)
    target = root / TFVARS_NAME
    staging = target.with_suffix(f".tmp-{os.getpid()}")
    values = {
        "model_package_arn": package["ModelPackageArn"],
        "model_data_url": artifact_of(package),
    }
    staging.write_text(json.dumps(values, indent=2) + "\n")
    staging.replace(target)
    return target


def summary(previous: dict[str, Any], package: dict[str, Any], target: Path) -> str:
    """old → new package, the new one's metrics and where it was written."""
    old = previous.get("model_package_arn") or "(none: the endpoint is not deployed yet)"
    new = package["ModelPackageArn"]
    metadata = package.get("CustomerMetadataProperties") or {}
    lines = [
        "model package: unchanged" if old == new else "model package:",
        f"  old  {old}",
        f"  new  {new}",
        f"  artifact  {artifact_of(package)}",
    ]
    lines += [f"  {name}  {metadata[name]}" for name in METRICS if name in metadata]
    reason = package.get("ApprovalDescription") or package.get("ModelPackageDescription")
    if reason:
        lines.append(f"  approval  {reason}")
    lines.append(f"wrote {target}; run `make plan` and `make apply` to deploy it")
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m training.promote", description=__doc__)
    parser.add_argument("--env", default="local", help="Terraform environment (local, dev, prod)")
    parser.add_argument("--envs-dir", type=Path, default=ENVS_DIR)
    parser.add_argument("--package", help="ARN of an Approved package (default: the latest)")
    parser.add_argument(
        "--model-package-group", help="default: Terraform output model_package_group_name"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        group = args.model_package_group or output_value(
            args.env, "model_package_group_name", "--model-package-group NAME", args.envs_dir
        )
        previous = read_model_tfvars(args.envs_dir, args.env)
        sagemaker = client("sagemaker", args.env)
        if args.package:
            package = describe(sagemaker, args.package)
        else:
            package = latest_approved(sagemaker, group)
        check_promotable(package, group)
        target = write_model_tfvars(args.envs_dir, args.env, package)
    except TrainingToolError as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(summary(previous, package, target))
    return 0


if __name__ == "__main__":
    sys.exit(main())
