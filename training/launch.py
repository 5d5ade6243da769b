"""`make train`: launch the Image Classification training job, follow it, record the model."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from training.algorithm_image import image_uri
from training.aws import client, region_of
from training.errors import TerraformOutputError, TrainingJobFailedError, TrainingToolError
from training.follow import DetachedError, follow
from training.hyperparameters import (
    CONFIG_DIR,
    DEFAULT_HYPERPARAMETERS,
    load_hyperparameters,
    load_json,
)
from training.job_request import JobSettings, job_name, training_job_request
from training.terraform_outputs import ENVS_DIR, read_outputs

TFVARS_NAME = "model.auto.tfvars.json"
EXIT_INTERRUPTED = 130


def resolve_infra(
    env: str, envs_dir: Path, role: str | None, bucket: str | None
) -> tuple[str, str]:
    """Role ARN and bucket: the flags if given, else the environment's Terraform outputs."""
    if role and bucket:
        return role, bucket
    try:
        outputs = read_outputs(env, envs_dir)
    except TerraformOutputError as exc:
        raise TerraformOutputError(f"{exc}; or pass --role ARN and --bucket NAME") from exc
    role = role or outputs.get("sagemaker_role_arn")
    bucket = bucket or outputs.get("bucket_name")
    if not role or not bucket:
        raise TerraformOutputError(
            f"the {env} environment lacks the Terraform outputs sagemaker_role_arn and "
            f"bucket_name; run `make apply ENV={env}` first, or pass --role and --bucket"
        )
    return str(role), str(bucket)


def write_model_tfvars(envs_dir: Path, env: str, model_data_url: str) -> Path:
    """infra/envs/<env>/model.auto.tfvars.json, which the next `make apply` reads."""
    root = envs_dir / env
    root.mkdir(parents=True, exist_ok=True)
    target = root / TFVARS_NAME
    staging = target.with_suffix(f".tmp-{os.getpid()}")
    staging.write_text(json.dumps({"model_data_url": model_data_url}, indent=2) + "\n")
    staging.replace(target)
    return target


def finish(description: dict[str, Any], envs_dir: Path, env: str) -> Path:
    """Record a Completed job's model, or raise with the job's FailureReason."""
    name = description["TrainingJobName"]
    status = description["TrainingJobStatus"]
    if status != "Completed":
        reason = description.get("FailureReason", "no FailureReason given")
        raise TrainingJobFailedError(f"training job {name} ended {status}: {reason}")
    url = description["ModelArtifacts"]["S3ModelArtifacts"]
    return write_model_tfvars(envs_dir, env, url)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m training.launch", description=__doc__)
    parser.add_argument("--env", default="local", help="Terraform environment (local, dev, prod)")
    parser.add_argument("--envs-dir", type=Path, default=ENVS_DIR)
    parser.add_argument("--role", help="SageMaker role ARN (default: output sagemaker_role_arn)")
    parser.add_argument("--bucket", help="data and model bucket (default: output bucket_name)")
    parser.add_argument("--prefix", default="", help="key prefix of the channels in the bucket")
    parser.add_argument("--image", help="training image URI (default: by region)")
    parser.add_argument("--instance-type", help="overrides training/config/job.json")
    parser.add_argument("--config", type=Path, default=DEFAULT_HYPERPARAMETERS)
    parser.add_argument("--job-config", type=Path, default=CONFIG_DIR / "job.json")
    parser.add_argument("--data", type=Path, default=Path("build/data"), help="for train.lst")
    parser.add_argument("--poll-seconds", type=float, help="overrides training/config/job.json")
    parser.add_argument("--attach", metavar="JOB", help="follow an existing job instead")
    parser.add_argument("--no-wait", action="store_true", help="launch and return")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = JobSettings.from_config(load_json(args.job_config))
        poll = args.poll_seconds if args.poll_seconds is not None else settings.poll_seconds
        if args.attach:
            sagemaker = client("sagemaker", args.env)
            name = args.attach
        else:
            # Validated before any call to AWS: a bad config fails in a second, not a minute.
            hyperparameters = load_hyperparameters(args.config, args.data / "train.lst")
            role, bucket = resolve_infra(args.env, args.envs_dir, args.role, args.bucket)
            sagemaker = client("sagemaker", args.env)
            if args.instance_type:
                settings = JobSettings(**{**settings.__dict__, "instance_type": args.instance_type})
            name = job_name(settings.job_name_prefix)
            request = training_job_request(
                name=name,
                image=args.image or image_uri(region_of(sagemaker)),
                role_arn=role,
                bucket=bucket,
                hyperparameters=hyperparameters,
                settings=settings,
                prefix=args.prefix,
            )
            sagemaker.create_training_job(**request)
            print(f"launched {name} on {settings.instance_type} with {hyperparameters}")
            if args.no_wait:
                return 0
        description = follow(sagemaker, name, poll_seconds=poll)
        tfvars = finish(description, args.envs_dir, args.env)
    except DetachedError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_INTERRUPTED
    except TrainingToolError as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    url = description["ModelArtifacts"]["S3ModelArtifacts"]
    print(f"model: {url}\nwrote {tfvars}; run `make apply ENV={args.env}` to deploy it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
