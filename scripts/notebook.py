"""The Python API that notebooks/image_classification.ipynb drives: one call per step.

Each function is a thin layer over the module that `make` runs for the same step (training.*,
scripts.package_lambdas and scripts/tf.sh, scripts.classify and scripts.batch, scripts.results,
scripts.monitor), so the notebook and the make targets cannot drift apart. What differs is only
the shape of the answer: values to look at in a notebook instead of lines on a terminal.

A Session names the environment (local: this machine's local cloud; dev, prod: a real AWS
account through the caller's AWS configuration) and where the notebook works. NOTEBOOK_*
environment variables (ENVIRONMENT below) override its defaults, so that a test can point the
notebook at a stack of its own without editing it.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
# The original project's test event names this key; the walk-through classifies it first.
ORIGINAL_TEST_KEY = "test/bicycle_s_000513.png"
# Seconds between two DescribeTrainingJob calls while following training in the notebook.
POLL_SECONDS = 5.0
# Seconds one image's execution may take before classify_image gives up on it.
CLASSIFY_TIMEOUT = 300.0
ENVIRONMENT = {
    "NOTEBOOK_REPO": "checkout holding scripts/tf.sh and infra/envs (default: this one)",
    "NOTEBOOK_WORK_DIR": "where the converted data, logs and report go (default: build/notebook)",
    "NOTEBOOK_DATA": "image folder or cifar-100-python.tar.gz (default: the official archive)",
    "NOTEBOOK_PREFIX": "key prefix of everything the notebook uploads (default: none)",
    "NOTEBOOK_EPOCHS": "epochs of the training run (default: training/config)",
    "NOTEBOOK_MIN_ACCURACY": "the quality gate for this run (default: Terraform's min_accuracy)",
}


class NotebookError(RuntimeError):
    """A step of the notebook cannot run as asked; the message says what to change."""


@dataclass(frozen=True)
class Session:
    """Where the notebook works: the environment, the checkout, and its own folder and prefix."""

    env: str
    repo: Path
    work: Path
    data_source: Path | None
    prefix: str
    epochs: int | None
    min_accuracy: float | None
    poll_seconds: float = POLL_SECONDS

    @property
    def envs_dir(self) -> Path:
        return self.repo / "infra" / "envs"

    @property
    def data_dir(self) -> Path:
        """The converted dataset (train/, validation/, test/ and their .lst files)."""
        return self.work / "data"

    def key(self, relative: str) -> str:
        """The bucket key of `relative` (test/<file>.png, test/) under the notebook's prefix."""
        return self.prefix + relative

    def client(self, service: str) -> Any:
        from training.aws import client

        return client(service, self.env)

    def outputs(self) -> dict[str, Any]:
        """The environment's Terraform outputs (bucket, state machines, table, ...)."""
        from training.terraform_outputs import read_outputs

        return read_outputs(self.env, self.envs_dir)


def session(env: str = "local", environ: Mapping[str, str] | None = None) -> Session:
    """The Session of `env`, with the NOTEBOOK_* overrides of `environ` (os.environ)."""
    environ = os.environ if environ is None else environ
    repo = Path(environ.get("NOTEBOOK_REPO") or REPO_ROOT).resolve()
    roots = repo / "infra" / "envs"
    known = sorted(path.name for path in roots.iterdir() if path.is_dir()) if roots.is_dir() else []
    if env not in known:
        raise NotebookError(
            f"environment {env!r} has no Terraform root in {roots}; name one of {known} in the "
            "notebook's environment cell"
        )
    data = environ.get("NOTEBOOK_DATA") or None
    if data is not None and not Path(data).exists():
        raise NotebookError(f"NOTEBOOK_DATA={data} does not exist; unset it to download CIFAR-100")
    prefix = environ.get("NOTEBOOK_PREFIX", "")
    if prefix and (not prefix.endswith("/") or prefix.startswith("/")):
        raise NotebookError(f"NOTEBOOK_PREFIX={prefix!r} must be a key prefix ending in /")
    return Session(
        env=env,
        repo=repo,
        work=Path(environ.get("NOTEBOOK_WORK_DIR") or repo / "build" / "notebook").resolve(),
        data_source=Path(data).resolve() if data else None,
        prefix=prefix,
        epochs=_number(environ, "NOTEBOOK_EPOCHS", int, 1, None),
        min_accuracy=_number(environ, "NOTEBOOK_MIN_ACCURACY", float, 0.0, 1.0),
    )


def _number(
    environ: Mapping[str, str], name: str, kind: type[Any], low: float, high: float | None
) -> Any:
    text = environ.get(name, "").strip()
    if not text:
        return None
    try:
        value = kind(text)
    except ValueError:
        raise NotebookError(f"{name}={text!r} is not a {kind.__name__}") from None
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise NotebookError(f"{name}={text} must be {bounds}")
    return value


# --- data ------------------------------------------------------------------------------------


def convert_data(session: Session) -> dict[str, int]:
    """Convert the images into session.data_dir (as `make data`); images per split."""
    from training.convert import convert

    channels = convert(session.data_source, session.data_dir)
    return {split: len(images) for split, images in channels.items()}


def upload(session: Session) -> dict[str, Any]:
    """Copy the converted data to the environment's bucket (as `make upload`)."""
    from training.upload import sync

    bucket = str(session.outputs()["bucket_name"])
    result = sync(session.client("s3"), bucket, session.data_dir, session.prefix, progress=False)
    return {
        "bucket": bucket,
        "prefix": session.prefix,
        "uploaded": result.uploaded,
        "unchanged": result.skipped,
    }


# --- training, the gate and promotion ---------------------------------------------------------


def hyperparameters_file(session: Session) -> Path:
    """The committed hyperparameters, with the session's epochs when it sets them."""
    from training.hyperparameters import DEFAULT_HYPERPARAMETERS, load_json

    if session.epochs is None:
        return DEFAULT_HYPERPARAMETERS
    config = load_json(DEFAULT_HYPERPARAMETERS) | {"epochs": session.epochs}
    target = session.work / "hyperparameters.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    return target


def start_training(session: Session) -> str:
    """Launch the SageMaker training job on the uploaded data (as `make train`); its name."""
    from training.algorithm_image import image_uri
    from training.aws import region_of
    from training.hyperparameters import CONFIG_DIR, load_hyperparameters, load_json
    from training.job_request import JobSettings, job_name, training_job_request
    from training.launch import resolve_infra

    settings = JobSettings.from_config(load_json(CONFIG_DIR / "job.json"))
    hyperparameters = load_hyperparameters(
        hyperparameters_file(session), session.data_dir / "train.lst"
    )
    role, bucket = resolve_infra(session.env, session.envs_dir, None, None)
    sagemaker = session.client("sagemaker")
    name = job_name(settings.job_name_prefix)
    sagemaker.create_training_job(
        **training_job_request(
            name=name,
            image=image_uri(region_of(sagemaker)),
            role_arn=role,
            bucket=bucket,
            hyperparameters=hyperparameters,
            settings=settings,
            prefix=session.prefix,
        )
    )
    print(f"launched {name} on {settings.instance_type} with {hyperparameters}")
    return name


def follow_training(session: Session, job: str) -> dict[str, Any]:
    """Print the job's status changes until it ends; its last description.

    TrainingJobFailedError (with the job's FailureReason) when it did not complete.
    """
    from training.follow import follow
    from training.launch import finish

    description = follow(session.client("sagemaker"), job, poll_seconds=session.poll_seconds)
    print(f"model artifact: {finish(description)}")
    return description


def gate(session: Session, description: dict[str, Any]) -> Any:
    """Test the trained model on the test split and register it (training.registry).

    Approved when its test accuracy reaches the gate (the session's min_accuracy, else the
    Terraform output min_accuracy); a Rejected model raises ModelRejectedError, registered
    as Rejected so that it can never be promoted.
    """
    from training.launch import gate_and_register, resolve_registry

    group, quality_gate = resolve_registry(
        session.env, session.envs_dir, None, session.min_accuracy
    )
    registration = gate_and_register(
        session.client("sagemaker"),
        session.client("s3"),
        description,
        session.data_dir,
        group,
        quality_gate,
        description["AlgorithmSpecification"]["TrainingImage"],
    )
    print(f"Approved: {registration.reason}\nregistered {registration.arn}")
    return registration


def promote(session: Session, package_arn: str) -> str:
    """Make an Approved package the one the next deploy serves (as `make promote PACKAGE=`).

    Writes infra/envs/<env>/model.auto.tfvars.json; returns what changes (old -> new).
    """
    from training.promote import read_model_tfvars, summary, write_model_tfvars
    from training.registry import check_promotable, describe

    group = str(session.outputs()["model_package_group_name"])
    previous = read_model_tfvars(session.envs_dir, session.env)
    package = describe(session.client("sagemaker"), package_arn)
    check_promotable(package, group)
    return summary(previous, package, write_model_tfvars(session.envs_dir, session.env, package))


# --- Terraform --------------------------------------------------------------------------------


def deploy(session: Session) -> dict[str, Any]:
    """Package the Lambdas, then init, plan and apply the environment's root with scripts/tf.sh
    (as `make init plan apply`); the root's outputs after the apply.

    Terraform's progress is printed; its whole output goes to <work>/logs/terraform.log.
    """
    from scripts.demo.terraform import apply, terraform
    from scripts.package_lambdas import build_all

    build_all(session.repo / "build" / "functions")
    log = session.work / "logs" / "terraform.log"
    environ = terraform_environment(session)
    terraform("init", log=log, env=session.env, repo=session.repo, environ=environ)
    apply(log, env=session.env, repo=session.repo, environ=environ)
    return session.outputs()


def terraform_environment(
    session: Session, environ: Mapping[str, str] | None = None
) -> dict[str, str] | None:
    """scripts/tf.sh's environment, as make gives it: for local, `environ` (os.environ) with
    the local cloud's endpoint, issued key and port in place of the caller's AWS settings;
    for another environment None, the caller's own AWS configuration untouched."""
    from training.aws import LOCAL, local_cloud_env

    if session.env != LOCAL:
        return None
    from localcloud import control

    environ = os.environ if environ is None else environ
    kept = {name: value for name, value in environ.items() if name not in control.UNSET_FOR_LOCAL}
    port = control.default_port()
    return kept | local_cloud_env(port) | {"LOCAL_CLOUD_PORT": str(port)}


# --- the service ------------------------------------------------------------------------------


def classify_image(session: Session, key: str) -> dict[str, Any]:
    """Run the workflow on one object of the bucket and wait for its answer (as `make classify
    KEY=`): status, result, label, confidence, and the execution's ARN."""
    from scripts.classify import Target, classify_key, make_clients

    outputs = session.outputs()
    target = Target(str(outputs["state_machine_arn"]), str(outputs["bucket_name"]))
    sfn, s3 = make_clients(session.env, None, 1)
    record: dict[str, Any] = classify_key(sfn, target, key, 1, None, CLASSIFY_TIMEOUT, s3=s3)
    return record


def classify_prefix(session: Session, prefix: str) -> Any:
    """Classify every image under `prefix` as one batch run (as `make classify PREFIX=`) and
    wait for it; the run's report (counts by outcome, failures, manifest)."""
    from scripts import batch

    if not prefix.endswith("/"):
        raise NotebookError(f"prefix {prefix!r} must end in / (a folder of the bucket)")
    outputs = session.outputs()
    target = batch.BatchTarget(str(outputs["batch_state_machine_arn"]), str(outputs["bucket_name"]))
    sfn, s3 = session.client("stepfunctions"), session.client("s3")
    execution_arn = batch.start(sfn, target, prefix)
    print(f"started {execution_arn} over s3://{target.bucket}/{prefix}")
    described = batch.follow(sfn, execution_arn)
    return batch.report(s3, target, str(outputs["batch_results_prefix"]), described)


@dataclass(frozen=True)
class ResultsTable:
    """The newest items of the results table; str() is the `make results` table."""

    items: list[dict[str, Any]]
    table: str

    def __str__(self) -> str:
        from scripts.results import write_table

        if not self.items:
            return f"no results in table {self.table}"
        out = io.StringIO()
        write_table(self.items, out)
        return out.getvalue() + f"{len(self.items)} items from table {self.table}"


def results(session: Session, limit: int = 20) -> ResultsTable:
    """The newest `limit` items of the results table, every status (as `make results LIMIT=`)."""
    from scripts.results import STATUSES, Selection, select

    if limit < 1:
        raise NotebookError(f"limit {limit} must be 1 or more")
    table = str(session.outputs()["results_table_name"])
    items = select(session.client("dynamodb"), table, Selection(STATUSES, None, limit))
    return ResultsTable(items, table)


# --- monitoring -------------------------------------------------------------------------------


@dataclass(frozen=True)
class InlineFigure:
    """A matplotlib Figure that Jupyter shows inline (as a PNG) without pyplot."""

    figure: Any  # matplotlib.figure.Figure

    def _repr_png_(self) -> bytes:
        from scripts.monitor.figures import DPI

        out = io.BytesIO()
        self.figure.savefig(out, format="png", dpi=DPI)
        return out.getvalue()


@dataclass(frozen=True)
class Monitoring:
    """The monitoring report's figures, and where the report itself was written."""

    confidence: InlineFigure
    timeline: InlineFigure
    hours: InlineFigure
    summary: dict[str, Any] = field(default_factory=dict)
    report: Path | None = None


def monitoring(session: Session) -> Monitoring:
    """The monitoring report of the environment (as `make monitor`), written under
    <work>/monitor, with its three figures: confidence distribution, inferences over time,
    performance by hour of day."""
    from scripts.monitor import cli, figures

    outputs = session.outputs()
    args = cli.parse_args(["--env", session.env, "--out", str(session.work / "monitor")])
    if cli.source_for(outputs) == "results":
        report = cli.build_from_results(args, outputs)
    else:
        report = cli.build_from_capture(args, outputs)
    aggregate = report.aggregate
    if not aggregate.records:
        raise NotebookError(
            f"the monitor found no inferences ({report.context.get('capture_source')}); "
            "classify some images first"
        )
    return Monitoring(
        confidence=InlineFigure(figures.confidence_figure(aggregate)),
        timeline=InlineFigure(figures.timeline_figure(aggregate)),
        hours=InlineFigure(figures.hours_figure(aggregate)),
        summary=aggregate.summary(),
        report=report.html,
    )
