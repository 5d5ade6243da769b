"""`make train`: launch the training job, follow it, gate the model and register it.

The trained artifact is evaluated here on the test split (the local CPU inference code, the
code the local endpoint runs) and registered as a version of the environment's model package
group with its metrics: Approved when the test accuracy reaches the gate (--min-accuracy, else
the Terraform output min_accuracy), else Rejected with the reason, and a non-zero exit.
`make promote` then picks an Approved package for the next plan.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from training.algorithm_image import image_uri
from training.aws import client, region_of
from training.errors import TerraformOutputError, TrainingJobFailedError, TrainingToolError
from training.evaluate import split_images
from training.follow import DetachedError, follow
from training.hyperparameters import (
    CONFIG_DIR,
    DEFAULT_HYPERPARAMETERS,
    load_hyperparameters,
    load_json,
)
from training.job_request import JobSettings, job_name, training_job_request
from training.registry import Gate, ModelRejectedError, Registration, evaluate_artifact, register
from training.terraform_outputs import ENVS_DIR, read_outputs

EXIT_INTERRUPTED = 130


def resolve_infra(
    env: str, envs_dir: Path, role: str | None, bucket: str | None
) -> tuple[str, str]:
    """Training role ARN and bucket: the flags if given, else the environment's outputs."""
    if role and bucket:
        return role, bucket
    try:
        outputs = read_outputs(env, envs_dir)
    except TerraformOutputError as exc:
        raise TerraformOutputError(f"{exc}; or pass --role ARN and --bucket NAME") from exc
    role = role or outputs.get("sagemaker_training_role_arn")
    bucket = bucket or outputs.get("bucket_name")
    if not role or not bucket:
        raise TerraformOutputError(
            f"the {env} environment lacks the Terraform outputs sagemaker_training_role_arn and "
            f"bucket_name; run `make apply ENV={env}` first, or pass --role and --bucket"
        )
    return str(role), str(bucket)


def finish(description: dict[str, Any]) -> str:
    """A Completed job's artifact URL, or raise with the job's FailureReason."""
    name = description["TrainingJobName"]
    status = description["TrainingJobStatus"]
    if status != "Completed":
        reason = description.get("FailureReason", "no FailureReason given")
        raise TrainingJobFailedError(f"training job {name} ended {status}: {reason}")
    return str(description["ModelArtifacts"]["S3ModelArtifacts"])


def resolve_registry(
    env: str, envs_dir: Path, group: str | None, min_accuracy: float | None
) -> tuple[str, Gate]:
    """The model package group and the gate: the flags if given, else the Terraform outputs."""
    outputs: dict[str, Any] = {}
    if group is None or min_accuracy is None:
        try:
            outputs = read_outputs(env, envs_dir)
        except TerraformOutputError as exc:
            raise TerraformOutputError(
                f"{exc}; or pass --model-package-group NAME and --min-accuracy N"
            ) from exc
    group = group or outputs.get("model_package_group_name")
    if not group:
        raise TerraformOutputError(
            f"the {env} environment has no Terraform output model_package_group_name; run "
            f"`make apply ENV={env}` first, or pass --model-package-group NAME"
        )
    if min_accuracy is not None:
        return str(group), Gate(min_accuracy, "--min-accuracy")
    if not isinstance(outputs.get("min_accuracy"), int | float):
        raise TerraformOutputError(
            f"the {env} environment has no Terraform output min_accuracy; run "
            f"`make apply ENV={env}` first, or pass --min-accuracy N (MIN_ACCURACY= on make)"
        )
    return str(group), Gate(float(outputs["min_accuracy"]), "Terraform output min_accuracy")


def gate_and_register(
    sagemaker: Any,
    s3: Any,
    description: dict[str, Any],
    data: Path,
    group: str,
    gate: Gate,
    image: str,
) -> Registration:
    """Evaluate the job's artifact on the test split and register it; raise when Rejected."""
    url = finish(description)
    report = evaluate_artifact(s3, url, data)
    registration = register(
        sagemaker, s3, group=group, job=description, image=image, report=report, gate=gate
    )
    if not registration.approved:
        raise ModelRejectedError(
            f"{registration.reason}. Registered as Rejected: {registration.arn}; it will not "
            "be promoted. Improve the model, or lower the gate for one run with MIN_ACCURACY="
        )
    return registration


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m training.launch", description=__doc__)
    parser.add_argument("--env", default="local", help="Terraform environment (local, dev, prod)")
    parser.add_argument("--envs-dir", type=Path, default=ENVS_DIR)
    parser.add_argument(
        "--role", help="SageMaker training role ARN (default: output sagemaker_training_role_arn)"
    )
    parser.add_argument("--bucket", help="data and model bucket (default: output bucket_name)")
    parser.add_argument("--prefix", default="", help="key prefix of the channels in the bucket")
    parser.add_argument("--image", help="training image URI (default: by region)")
    parser.add_argument("--instance-type", help="overrides training/config/job.json")
    parser.add_argument("--config", type=Path, default=DEFAULT_HYPERPARAMETERS)
    parser.add_argument("--job-config", type=Path, default=CONFIG_DIR / "job.json")
    parser.add_argument("--data", type=Path, default=Path("build/data"), help="for train.lst")
    parser.add_argument("--poll-seconds", type=float, help="overrides training/config/job.json")
    parser.add_argument("--attach", metavar="JOB", help="follow an existing job instead")
    parser.add_argument(
        "--min-accuracy",
        type=float,
        help="gate for this run: test accuracy an Approved model needs (default: output "
        "min_accuracy)",
    )
    parser.add_argument(
        "--model-package-group", help="registry group (default: output model_package_group_name)"
    )
    parser.add_argument("--no-wait", action="store_true", help="launch and return")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = JobSettings.from_config(load_json(args.job_config))
        poll = args.poll_seconds if args.poll_seconds is not None else settings.poll_seconds
        # Checked before any call to AWS: a missing gate or test split fails in a second.
        group, gate = resolve_registry(
            args.env, args.envs_dir, args.model_package_group, args.min_accuracy
        )
        split_images(args.data, "test")
        if args.attach:
            sagemaker = client("sagemaker", args.env)
            name = args.attach
        else:
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
        image = description["AlgorithmSpecification"]["TrainingImage"]
        print(f"evaluating {finish(description)} on {args.data / 'test.lst'}")
        registration = gate_and_register(
            sagemaker, client("s3", args.env), description, args.data, group, gate, image
        )
    except DetachedError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_INTERRUPTED
    except TrainingToolError as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(
        f"Approved: {registration.reason}\nregistered {registration.arn}\n"
        f"run `make promote ENV={args.env}` to deploy it with the next plan"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
