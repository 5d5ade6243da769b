"""SageMaker training jobs for real: the built-in image-classification image runs our trainer."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import tarfile
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localcloud import names, paths
from localcloud import sagemaker_moto as moto_door
from localcloud.plugin import LocalCloudContext

# The trainer runs as `python -m MODULE train --ml-root DIR` (the container contract); the variable
# may also name a .py script. Tests of the orchestration alone point it at a stand-in.
TRAINER_MODULE_ENV = "LOCALCLOUD_SAGEMAKER_TRAINER"
DEFAULT_TRAINER_MODULE = "training.local_trainer"

# <account>.dkr.ecr.<region>.amazonaws.com[.cn]/image-classification:1 in any region's registry.
IMAGE_CLASSIFICATION_IMAGE = re.compile(
    r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/image-classification(:1|:latest)?$"
)
REQUIRED_CHANNELS = ("train", "validation")
REQUIRED_HYPERPARAMETERS = ("num_classes", "num_training_samples")
LOG_GROUP = "/aws/sagemaker/TrainingJobs"
FAILURE_REASON_LIMIT = 1024  # AWS truncates FailureReason at 1024 characters
STOP_GRACE_SECONDS = 5.0
LOG_FLUSH_LINES = 50
REPO_ROOT = Path(__file__).resolve().parent.parent

STATUS_MESSAGES = {
    "Starting": "Preparing the instances for training",
    "Downloading": "Downloading input data",
    "Training": "Training image download completed. Training in progress.",
    "Uploading": "Uploading generated training model",
    "Completed": "Training job completed",
    "Stopping": "Stopping the training job",
    "Stopped": "Training job stopped",
    "MaxRuntimeExceeded": "Training job stopped: MaxRuntimeInSeconds exceeded",
}


class TrainingJobFailedError(Exception):
    """The job cannot succeed; str(error) is the FailureReason an operator reads."""


class TrainingJobStoppedError(Exception):
    """StopTrainingJob (or MaxRuntimeInSeconds) ended the job before it finished."""


@dataclass
class _Run:
    """One training job's local execution: its folder, its process, how it should end."""

    job: Any  # moto's FakeTrainingJob: its attributes are what DescribeTrainingJob returns
    account_id: str
    region: str
    ml_root: Path
    stop: threading.Event = field(default_factory=threading.Event)
    max_runtime_exceeded: bool = False
    process: subprocess.Popen[bytes] | None = None
    thread: threading.Thread | None = None


class TrainingService:
    """Runs each job in a background thread that drives one trainer subprocess."""

    def __init__(self, ctx: LocalCloudContext) -> None:
        self.root = ctx.state_dir / "sagemaker" / "training"
        self.logger = ctx.child_logger("sagemaker.training")
        self._runs: dict[tuple[str, str, str], _Run] = {}
        self._lock = threading.Lock()

    def ml_root(self, name: str) -> Path:
        """The job's /opt/ml folder; raises PathOutsideRootError unless it is one under root."""
        return paths.inside(self.root, name)

    def start(self, backend: Any, job: Any) -> None:
        name: str = job.training_job_name
        run = _Run(job, backend.account_id, backend.region_name, self.ml_root(name))
        _set_running(job)
        with self._lock:
            self._runs[(run.account_id, run.region, name)] = run
        run.thread = threading.Thread(target=self._execute, args=(run,), name=f"train-{name}")
        run.thread.daemon = True
        run.thread.start()

    def stop(self, backend: Any, name: str) -> None:
        from moto.sagemaker.exceptions import ValidationError

        job = backend.training_jobs.get(name)
        if job is None:
            where = f"{backend.region_name}:{backend.account_id}"
            arn = f"arn:aws:sagemaker:{where}:training-job/{name}"
            raise ValidationError(message=f"Could not find training job '{arn}'.")
        with self._lock:
            run = self._runs.get((backend.account_id, backend.region_name, name))
        if run is None or job.training_job_status != "InProgress":
            raise ValidationError(
                message="The request was rejected because the training job is in status "
                f"{job.training_job_status}."
            )
        job.training_job_status = "Stopping"
        _transition(job, "Stopping")
        run.stop.set()
        _terminate(run.process)

    def shutdown(self) -> None:
        """Stop every running trainer so none outlives the server."""
        with self._lock:
            runs = list(self._runs.values())
        for run in runs:
            run.stop.set()
            _terminate(run.process)
        for run in runs:
            if run.thread is not None:
                run.thread.join(timeout=STOP_GRACE_SECONDS * 2)

    def _execute(self, run: _Run) -> None:
        job = run.job
        try:
            _check_algorithm(job)
            _transition(job, "Downloading")
            self._prepare(run)
            self._raise_if_stopped(run)
            _transition(job, "Training")
            self._train(run)
            self._raise_if_stopped(run)
            _transition(job, "Uploading")
            artifact = self._upload(run)
            _finish(job, "Completed", "Completed")
            job.model_artifacts = {"S3ModelArtifacts": artifact}
            self.logger.info("training job %s completed: %s", job.training_job_name, artifact)
        except TrainingJobStoppedError:
            secondary = "MaxRuntimeExceeded" if run.max_runtime_exceeded else "Stopped"
            _finish(job, "Stopped", secondary)
            self.logger.info("training job %s stopped", job.training_job_name)
        except TrainingJobFailedError as error:
            _fail(job, str(error))
            self.logger.info("training job %s failed: %s", job.training_job_name, error)
        except Exception as error:  # a bug of ours must still end the job, not hang it
            self.logger.exception("training job %s: internal error", job.training_job_name)
            _fail(job, f"InternalServerError: the local cloud failed to run the job: {error!r}")

    def _raise_if_stopped(self, run: _Run) -> None:
        if run.stop.is_set():
            raise TrainingJobStoppedError

    def _prepare(self, run: _Run) -> None:
        """Lay out the /opt/ml tree: config files, then every channel's objects."""
        job = run.job
        paths.remove_tree(self.root, run.ml_root)
        config = run.ml_root / "input" / "config"
        config.mkdir(parents=True)
        (run.ml_root / "model").mkdir()
        (run.ml_root / "output" / "data").mkdir(parents=True)
        hyperparameters = job.hyper_parameters or {}
        (config / "hyperparameters.json").write_text(json.dumps(hyperparameters, indent=2))
        channels = {c["ChannelName"]: c for c in job.input_data_config or []}
        (config / "inputdataconfig.json").write_text(
            json.dumps(
                {
                    name: {k: v for k, v in c.items() if k not in ("ChannelName", "DataSource")}
                    for name, c in channels.items()
                },
                indent=2,
            )
        )
        (config / "resourceconfig.json").write_text(
            json.dumps({"current_host": "algo-1", "hosts": ["algo-1"]})
        )
        for name, channel in channels.items():
            self._raise_if_stopped(run)
            self._download_channel(run, name, channel)

    def _download_channel(self, run: _Run, name: str, channel: dict[str, Any]) -> None:
        source = channel.get("DataSource", {}).get("S3DataSource")
        if not source:
            raise TrainingJobFailedError(
                f"ClientError: channel '{name}' has no S3DataSource; only S3 channels are "
                "emulated by the local cloud."
            )
        uri = source.get("S3Uri", "")
        if source.get("S3DataType", "S3Prefix") != "S3Prefix":
            raise TrainingJobFailedError(
                f"ClientError: channel '{name}' uses S3DataType {source['S3DataType']}; only "
                "S3Prefix is emulated by the local cloud. Point S3Uri at a prefix instead."
            )
        try:
            bucket, prefix = moto_door.parse_s3_uri(uri)
            keys = moto_door.list_objects(run.account_id, run.region, bucket, prefix)
        except (ValueError, moto_door.S3ObjectMissingError) as error:
            raise TrainingJobFailedError(
                f"ClientError: Data download failed for channel '{name}' ({uri}): {error}. "
                "Fix the channel's S3Uri or upload the data."
            ) from error
        if not keys:
            raise TrainingJobFailedError(
                f"ClientError: Data download failed for channel '{name}': no objects under "
                f"{uri}. Upload the channel's data there or fix its S3Uri."
            )
        try:
            target = paths.inside(run.ml_root / "input" / "data", name)
        except paths.PathOutsideRootError as error:  # CreateTrainingJob refuses these already
            raise TrainingJobFailedError(f"ClientError: channel {name!r}: {error}") from error
        for key in keys:
            if key.endswith("/"):
                continue  # a "folder" placeholder object
            # S3Prefix: the key after the prefix is the file's path in the channel folder.
            relative = key[len(prefix) :].lstrip("/") or key.rsplit("/", 1)[-1]
            try:
                path = paths.inside(target, relative)
            except paths.PathOutsideRootError as error:
                raise TrainingJobFailedError(
                    f"ClientError: object key {key!r} would be written outside the channel."
                ) from error
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(moto_door.get_object(run.account_id, run.region, bucket, key))

    def _train(self, run: _Run) -> None:
        job = run.job
        module = os.environ.get(TRAINER_MODULE_ENV, DEFAULT_TRAINER_MODULE)
        epoch = int(time.time())
        stream = moto_door.LogStreamWriter(
            run.account_id, run.region, LOG_GROUP, f"{job.training_job_name}/algo-1-{epoch}"
        )
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "TRAINING_JOB_NAME": job.training_job_name}
        entry = [module] if module.endswith(".py") else ["-m", module]
        command = [sys.executable, *entry, "train", "--ml-root", str(run.ml_root)]
        stream.write([f"localcloud: running {' '.join(command)}"])
        run.process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,  # the container's stderr goes to the same stream on AWS
        )
        if run.stop.is_set():  # StopTrainingJob arrived while the process was starting
            _terminate(run.process)
        timer = self._arm_max_runtime(run)
        tail: deque[str] = deque(maxlen=20)
        metrics = _MetricReader(job.algorithm_specification.get("MetricDefinitions") or [])
        try:
            assert run.process.stdout is not None
            pending: list[str] = []
            last_flush = time.monotonic()
            for raw in run.process.stdout:
                line = raw.decode("utf-8", errors="replace").rstrip("\n")
                tail.append(line)
                pending.append(line)
                metrics.read(line)
                if len(pending) >= LOG_FLUSH_LINES or time.monotonic() - last_flush > 1.0:
                    stream.write(pending)
                    pending, last_flush = [], time.monotonic()
            stream.write(pending)
            code = run.process.wait()
        finally:
            if timer is not None:
                timer.cancel()
        self._raise_if_stopped(run)
        job.final_metric_data_list = metrics.final() or None
        if code != 0:
            raise TrainingJobFailedError(self._failure_reason(run, code, tail, stream.stream))
        if not any((run.ml_root / "model").iterdir()):
            raise TrainingJobFailedError(
                "AlgorithmError: the trainer exited 0 but wrote nothing to /opt/ml/model "
                f"({run.ml_root / 'model'}); see log stream {stream.stream} in {LOG_GROUP}."
            )

    def _arm_max_runtime(self, run: _Run) -> threading.Timer | None:
        limit = (run.job.stopping_condition or {}).get("MaxRuntimeInSeconds")
        if not limit:
            return None

        def expire() -> None:
            run.max_runtime_exceeded = True
            run.stop.set()
            _terminate(run.process)

        timer = threading.Timer(float(limit), expire)
        timer.daemon = True
        timer.start()
        return timer

    def _failure_reason(self, run: _Run, code: int, tail: deque[str], stream: str) -> str:
        failure = run.ml_root / "output" / "failure"
        if failure.is_file() and failure.read_text().strip():
            reason = failure.read_text(errors="replace").strip()
            if not reason.startswith(("ClientError", "AlgorithmError")):
                reason = f"AlgorithmError: {reason}"
            return reason[:FAILURE_REASON_LIMIT]
        last = " | ".join(line for line in tail if line.strip())[-600:]
        return (
            f"AlgorithmError: the trainer exited with code {code} and wrote no "
            f"/opt/ml/output/failure. Last log lines: {last} (full log: {LOG_GROUP}, "
            f"stream {stream})"
        )[:FAILURE_REASON_LIMIT]

    def _upload(self, run: _Run) -> str:
        job = run.job
        output_path = (job.output_data_config or {}).get("S3OutputPath", "")
        try:
            bucket, prefix = moto_door.parse_s3_uri(output_path)
        except ValueError as error:
            raise TrainingJobFailedError(
                f"ClientError: OutputDataConfig.S3OutputPath {output_path!r} is not an s3:// URI."
            ) from error
        key = "/".join(p for p in (prefix.strip("/"), job.training_job_name, "output") if p)
        key += "/model.tar.gz"
        try:
            moto_door.put_object(run.account_id, run.region, bucket, key, _tar_gz(run))
        except moto_door.S3ObjectMissingError as error:
            raise TrainingJobFailedError(
                f"ClientError: could not upload the model to s3://{bucket}/{key}: {error}. "
                "Create the output bucket or fix OutputDataConfig.S3OutputPath."
            ) from error
        return f"s3://{bucket}/{key}"


class _MetricReader:
    """The algorithm's metrics from its log lines, as SageMaker reads them for
    FinalMetricDataList: each MetricDefinition's regex, its last match's first group."""

    def __init__(self, definitions: list[dict[str, str]]) -> None:
        self._patterns = [(d["Name"], re.compile(d["Regex"])) for d in definitions]
        self._last: dict[str, float] = {}

    def read(self, line: str) -> None:
        for name, pattern in self._patterns:
            match = pattern.search(line)
            if match:
                try:
                    self._last[name] = float(match.group(1))
                except (IndexError, ValueError):
                    continue

    def final(self) -> list[dict[str, Any]]:
        now = moto_door.utcnow()
        return [
            {"MetricName": name, "Value": value, "Timestamp": now}
            for name, value in self._last.items()
        ]


def _tar_gz(run: _Run) -> bytes:
    """model.tar.gz as SageMaker builds it: the contents of /opt/ml/model at the archive root."""
    buffer = io.BytesIO()
    model_dir = run.ml_root / "model"
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path in sorted(model_dir.rglob("*")):
            archive.add(path, arcname=str(path.relative_to(model_dir)), recursive=False)
    return buffer.getvalue()


def _check_algorithm(job: Any) -> None:
    image = (job.algorithm_specification or {}).get("TrainingImage", "")
    if not IMAGE_CLASSIFICATION_IMAGE.match(image or ""):
        raise TrainingJobFailedError(
            "ClientError: only the built-in image-classification algorithm is emulated by the "
            f"local cloud; TrainingImage was {image!r}. Use <account>.dkr.ecr.<region>."
            "amazonaws.com/image-classification:1 (Terraform: aws_sagemaker_prebuilt_ecr_image)."
        )
    hyperparameters = job.hyper_parameters or {}
    for name in REQUIRED_HYPERPARAMETERS:
        value = hyperparameters.get(name)
        if value is None:
            raise TrainingJobFailedError(
                f"ClientError: Missing required hyperparameter '{name}'. Add it to HyperParameters "
                'as a string, e.g. "2".'
            )
        if not str(value).isdigit() or int(value) < 1:
            raise TrainingJobFailedError(
                f"ClientError: hyperparameter '{name}' must be a positive integer, got {value!r}."
            )
    channels = {c.get("ChannelName") for c in job.input_data_config or []}
    for name in REQUIRED_CHANNELS:
        if name not in channels:
            raise TrainingJobFailedError(
                "ClientError: Unable to initialize the algorithm. Failed to validate input data "
                f"configuration: channel '{name}' is required (InputDataConfig has: "
                f"{', '.join(sorted(c for c in channels if c)) or 'none'})."
            )


def _set_running(job: Any) -> None:
    """Undo moto's instant completion: the job starts InProgress, with nothing produced yet."""
    now = moto_door.utcnow()
    job.training_job_status = "InProgress"
    job.secondary_status = "Starting"
    job.creation_time = job.last_modified_time = job.training_start_time = now
    job.training_end_time = None
    job.model_artifacts = None
    job.failure_reason = None
    job.training_time_in_seconds = None
    job.billable_time_in_seconds = None
    job.final_metric_data_list = None
    # moto invents a "test:dcg" metric; the built-in algorithm reports accuracy.
    job.algorithm_specification = {
        **(job.algorithm_specification or {}),
        "MetricDefinitions": [
            {"Name": "train:accuracy", "Regex": r"Epoch\[\d+\] Train-accuracy=(\S+)"},
            {"Name": "validation:accuracy", "Regex": r"Epoch\[\d+\] Validation-accuracy=(\S+)"},
        ],
    }
    job.secondary_status_transitions = [
        {"Status": "Starting", "StartTime": now, "StatusMessage": STATUS_MESSAGES["Starting"]}
    ]


def _transition(job: Any, status: str, message: str | None = None) -> None:
    now = moto_door.utcnow()
    # A new list each time: a describe in another thread may be serializing the old one.
    transitions = [dict(t) for t in job.secondary_status_transitions or []]
    if transitions and "EndTime" not in transitions[-1]:
        transitions[-1]["EndTime"] = now
    entry = {
        "Status": status,
        "StartTime": now,
        "StatusMessage": message or STATUS_MESSAGES[status],
    }
    transitions.append(entry)
    job.secondary_status_transitions = transitions
    job.secondary_status = status
    job.last_modified_time = now


def _finish(job: Any, status: str, secondary: str, message: str | None = None) -> None:
    _transition(job, secondary, message)
    now = moto_door.utcnow()
    transitions = job.secondary_status_transitions
    transitions[-1]["EndTime"] = now
    job.training_end_time = now
    seconds = max(1, int((now - job.training_start_time).total_seconds()))
    job.training_time_in_seconds = job.billable_time_in_seconds = seconds
    job.training_job_status = status


def _fail(job: Any, reason: str) -> None:
    job.failure_reason = reason[:FAILURE_REASON_LIMIT]
    _finish(job, "Failed", "Failed", reason[:FAILURE_REASON_LIMIT])


def _terminate(process: subprocess.Popen[bytes] | None) -> None:
    """SIGTERM (as SageMaker sends), then SIGKILL if the trainer ignores it."""
    if process is None or process.poll() is not None:
        return
    process.terminate()

    def kill_later() -> None:
        try:
            process.wait(timeout=STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()

    threading.Thread(target=kill_later, daemon=True).start()


def _patches(service: TrainingService) -> dict[str, Any]:
    """moto's replacements, each bound to this server's TrainingService (no module state)."""

    def create_training_job(self: Any, *args: Any, **kwargs: Any) -> Any:
        from moto.sagemaker.exceptions import ResourceInUseException
        from moto.sagemaker.models import SageMakerModelBackend

        name = kwargs.get("training_job_name", args[0] if args else None)
        channels = kwargs.get("input_data_config", args[4] if len(args) > 4 else None) or []
        # Names become folders under the state dir: refuse bad ones before moto stores anything.
        names.raise_sagemaker(
            names.TRAINING_JOB_NAME.violations(name) + names.channel_folder_violations(channels)
        )
        try:
            service.ml_root(str(name))
        except paths.PathOutsideRootError as error:  # the pattern admits none; a symlink might
            names.raise_sagemaker(
                [f"Value '{name}' at 'trainingJobName' failed to satisfy constraint: {error}"]
            )
        if name in self.training_jobs:
            # moto would silently replace the job (and orphan its running trainer).
            raise ResourceInUseException(
                message=f"Training job names must be unique within an AWS account and region, "
                f"and a training job with this name already exists "
                f"({self.training_jobs[name].arn})"
            )
        create = moto_door.original(SageMakerModelBackend, "create_training_job")
        job = create(self, *args, **kwargs)
        service.start(self, job)
        return job

    def stop_training_job_response(self: Any) -> Any:
        from moto.core.responses import EmptyResult

        service.stop(self.sagemaker_backend, self._get_param("TrainingJobName"))
        return EmptyResult()

    return {
        "create_training_job": create_training_job,
        "stop_training_job": stop_training_job_response,
    }


def _describe_training_job_response(self: Any) -> Any:
    from moto.core.responses import ActionResult

    name = self._get_param("TrainingJobName")
    # AWS omits members it has no value for; moto answers {} and [] for them.
    return ActionResult(moto_door.prune_empty(self.sagemaker_backend.describe_training_job(name)))


def install(ctx: LocalCloudContext) -> None:
    """Make CreateTrainingJob run the local trainer; add StopTrainingJob (moto 5.2.5 lacks it)."""
    moto_door.require_moto()
    from moto.sagemaker.models import SageMakerModelBackend
    from moto.sagemaker.responses import SageMakerResponse

    service = TrainingService(ctx)
    patches = _patches(service)
    moto_door.patch(SageMakerModelBackend, "create_training_job", patches["create_training_job"])
    moto_door.patch(SageMakerResponse, "describe_training_job", _describe_training_job_response)
    moto_door.patch(SageMakerResponse, "stop_training_job", patches["stop_training_job"])
    ctx.on_shutdown(service.shutdown)
