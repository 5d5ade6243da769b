"""Soak of the `local` root: N back-to-back plan, apply, executions, destroy runs under load.

`python -m scripts.soak --runs 10` (`make soak`). One private local cloud for the whole soak:
scripts/stack.py deploys the root once and trains a short model, whose artifact is kept in a
bucket of the soak's own; then every run plans and applies the root from nothing, classifies
test images through the deployed state machine, destroys the root and checks the cloud holds
none of its resources. Meanwhile a real SageMaker training job keeps running in the same cloud
(restarted whenever it ends), so the runs see a loaded machine. Every step has a deadline well
below the 5 minutes a lost request once cost: a hang is a named failure, not a wait.
Writes build/soak/results.json; exits 1 when any run failed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO_ROOT.parent / "shared" / "data" / "cifar100-bike-moto"
OUT_DIR = REPO_ROOT / "build" / "soak"
# Outside the root, so destroy leaves it: the model artifact and the load job's data.
SOAK_BUCKET = "soak-artifacts"
MODEL_KEY = "model/model.tar.gz"
LOAD_ROLE = "arn:aws:iam::123456789012:role/soak-load-trainer"
LOAD_EPOCHS = 5
CONCURRENCY = 4
EXECUTION_TIMEOUT = 120.0
# Seconds each step may take before it is a named failure. Unloaded figures (docs/offline-aws.md
# and the bench): plan 10-15 s, apply 65-75 s, destroy 17-24 s, an execution well under 1 s.
DEADLINES: dict[str, float] = {
    "plan": 150.0,
    "apply": 210.0,
    "outputs": 60.0,
    "register": 60.0,
    "plan_model": 150.0,
    "apply_model": 210.0,
    "upload": 60.0,
    "executions": 180.0,
    "destroy": 180.0,
    "check": 60.0,
}
STEPS = tuple(DEADLINES)
LOAD_JOB_TIMEOUT = 270.0


class SoakError(RuntimeError):
    """A step of a run failed or passed its deadline; the message says which and why."""


class StepFailedError(SoakError):
    def __init__(self, step: str, seconds: float, detail: str) -> None:
        super().__init__(f"step {step} failed after {seconds:.1f} s: {detail}")
        self.step = step
        self.seconds = seconds
        self.detail = detail


@dataclass
class RunResult:
    """One run: seconds per step that finished, and the failure (step, detail) if any."""

    run: int
    steps: dict[str, float] = field(default_factory=dict)
    ok: bool = False
    failed_step: str | None = None
    failure: str | None = None
    executions: dict[str, int] = field(default_factory=dict)
    loadavg: list[float] = field(default_factory=list)
    load_jobs_running: bool = False

    @property
    def total(self) -> float:
        return round(sum(self.steps.values()), 1)


# -- pure helpers: summary and table ---------------------------------------------------------------
def summarize(runs: Sequence[RunResult]) -> dict[str, dict[str, float]]:
    """min / median / max seconds per step (and `total`) over the runs that passed."""
    passed = [run for run in runs if run.ok]
    columns: dict[str, list[float]] = {}
    for run in passed:
        for step, seconds in run.steps.items():
            columns.setdefault(step, []).append(seconds)
        columns.setdefault("total", []).append(run.total)
    ordered = [step for step in (*STEPS, "total") if step in columns]
    ordered += sorted(set(columns) - set(ordered))
    return {
        step: {
            "min": round(min(columns[step]), 1),
            "median": round(statistics.median(columns[step]), 1),
            "max": round(max(columns[step]), 1),
        }
        for step in ordered
    }


def table(runs: Sequence[RunResult], summary: dict[str, dict[str, float]]) -> list[str]:
    """A fixed-width table: a row per run (seconds per step, total, result), then min/median/max."""
    steps = [step for step in STEPS if any(step in run.steps for run in runs)]
    header = ["run", *steps, "total", "result"]
    rows: list[list[str]] = []
    for run in runs:
        cells = [f"{run.steps[step]:.1f}" if step in run.steps else "-" for step in steps]
        result = "ok" if run.ok else f"FAILED at {run.failed_step}"
        rows.append([str(run.run), *cells, f"{run.total:.1f}", result])
    for statistic in ("min", "median", "max"):
        cells = [
            f"{summary[step][statistic]:.1f}" if step in summary else "-"
            for step in [*steps, "total"]
        ]
        rows.append([statistic, *cells, ""])
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(cell.rjust(width) for cell, width in zip(cells, widths, strict=True))

    return [line(header), line(["-" * width for width in widths]), *map(line, rows)]


# -- the load --------------------------------------------------------------------------------------
class TrainingLoad:
    """A real training job through the local cloud, relaunched whenever it ends (training.launch).

    Each launch is `python -m training.launch` as an operator runs it, followed to the end; the
    local cloud runs training.local_trainer for it, which keeps the cores busy.
    """

    def __init__(self, stack: Any, config: Path, scratch: Path) -> None:
        self.stack = stack
        self.config = config
        self.scratch = scratch
        self.jobs: list[dict[str, Any]] = []
        self._stop = threading.Event()
        self._process: subprocess.Popen[str] | None = None
        self._thread = threading.Thread(target=self._loop, name="soak-load", daemon=True)
        self._lock = threading.Lock()

    def start(self) -> None:
        self._thread.start()

    @property
    def running(self) -> bool:
        with self._lock:
            return self._process is not None and self._process.poll() is None

    def _loop(self) -> None:
        while not self._stop.is_set():
            began = time.monotonic()
            command = [
                sys.executable,
                "-m",
                "training.launch",
                *("--env", "local", "--envs-dir", str(self.scratch)),
                *("--role", LOAD_ROLE, "--bucket", SOAK_BUCKET, "--prefix", "load"),
                *("--config", str(self.config), "--data", str(self.stack.data)),
                *("--poll-seconds", "2"),
            ]
            with self._lock:
                self._process = subprocess.Popen(
                    command,
                    cwd=REPO_ROOT,
                    env=self.stack.env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                )
            try:
                output, _ = self._process.communicate(timeout=LOAD_JOB_TIMEOUT)
                code: int | str = self._process.returncode
            except subprocess.TimeoutExpired:
                self._process.kill()
                output, _ = self._process.communicate()
                code = f"timeout after {LOAD_JOB_TIMEOUT:.0f} s"
            if self._stop.is_set():
                return
            self.jobs.append(
                {
                    "seconds": round(time.monotonic() - began, 1),
                    "exit": code,
                    "tail": "" if code == 0 else output[-1500:],
                }
            )
            if code != 0:
                time.sleep(5)  # a broken launch must not spin

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            if self._process is not None and self._process.poll() is None:
                self._process.terminate()
        self._thread.join(timeout=30)

    def summary(self) -> dict[str, Any]:
        finished = [job["seconds"] for job in self.jobs if job["exit"] == 0]
        return {
            "launches": len(self.jobs),
            "completed": len(finished),
            "failed": [job for job in self.jobs if job["exit"] != 0],
            "median_seconds": round(statistics.median(finished), 1) if finished else None,
        }


# -- one run ---------------------------------------------------------------------------------------
@contextmanager
def step(result: RunResult, name: str) -> Iterator[None]:
    """Time a step into result.steps; any error becomes StepFailedError naming the step."""
    began = time.monotonic()
    try:
        yield
    except StepFailedError:
        raise
    except subprocess.TimeoutExpired as error:
        seconds = time.monotonic() - began
        printed = "\n".join(
            str(part or "") for part in (error.output, error.stderr) if part
        ).splitlines()
        detail = f"no answer within its {error.timeout:.0f} s deadline (HANG); last output:\n"
        raise StepFailedError(name, seconds, detail + "\n".join(printed[-40:])) from None
    except Exception as error:
        seconds = time.monotonic() - began
        raise StepFailedError(name, seconds, f"{type(error).__name__}: {error}") from None
    result.steps[name] = round(time.monotonic() - began, 1)


def bounded(name: str, began: float) -> float:
    """Seconds left of step `name`'s deadline (TimeoutError when none are)."""
    left = DEADLINES[name] - (time.monotonic() - began)
    if left <= 0:
        raise TimeoutError(f"{name} passed its {DEADLINES[name]:.0f} s deadline")
    return left


@dataclass(frozen=True)
class SoakModel:
    """The kept artifact, and the image that serves it: what every run registers afresh."""

    url: str
    image: str


def register_model(stack: Any, model: SoakModel, run: int) -> str:
    """Register the kept artifact, Approved, in the group this run's apply created; its ARN.

    Terraform deploys a model package ARN, and the group is Terraform's: it goes with every
    destroy, so each run registers the artifact again before the apply that serves it.
    """
    from training.registry import CONTENT_TYPES

    sagemaker = stack.client("sagemaker", config=client_config())
    arn: str = sagemaker.create_model_package(
        ModelPackageGroupName=str(stack.outputs["model_package_group_name"]),
        ModelPackageDescription=f"soak run {run}: the setup's short-trained artifact",
        InferenceSpecification={
            "Containers": [{"Image": model.image, "ModelDataUrl": model.url}],
            "SupportedContentTypes": CONTENT_TYPES,
            "SupportedResponseMIMETypes": ["application/json"],
        },
        ModelApprovalStatus="Approved",
    )["ModelPackageArn"]
    return arn


def run_once(
    stack: Any, result: RunResult, keys: list[str], images: dict[str, Path], model: SoakModel
) -> None:
    """plan, apply, outputs, register, plan and apply the model, upload, executions, destroy,
    check into result; StepFailedError."""
    from scripts.classify import Target, classify_key

    number = result.run
    with step(result, "plan"):
        stack.terraform("plan", "-no-color", *stack.var_args(), timeout=DEADLINES["plan"])
    with step(result, "apply"):
        stack.terraform("apply", "-no-color", timeout=DEADLINES["apply"])
    with step(result, "outputs"):
        stack.outputs = stack.read_outputs(timeout=DEADLINES["outputs"])
    with step(result, "register"):
        arn = register_model(stack, model, number)
    served = {"model_package_arn": arn, "model_data_url": model.url}
    with step(result, "plan_model"):
        stack.terraform(
            "plan", "-no-color", *stack.var_args(**served), timeout=DEADLINES["plan_model"]
        )
    with step(result, "apply_model"):
        stack.terraform("apply", "-no-color", timeout=DEADLINES["apply_model"])
        stack.outputs = stack.read_outputs(timeout=DEADLINES["outputs"])
    s3 = stack.client("s3", config=client_config())
    with step(result, "upload"):
        began = time.monotonic()
        for key in keys:
            bounded("upload", began)
            s3.upload_file(str(images[key]), stack.bucket, key)
    with step(result, "executions"):
        began = time.monotonic()
        sfn = stack.client("stepfunctions", config=client_config())
        target = Target(stack.state_machine_arn, stack.bucket)
        records = []
        with ThreadPoolExecutor(CONCURRENCY) as pool:
            futures = [
                pool.submit(classify_key, sfn, target, key, number, None, EXECUTION_TIMEOUT, s3=s3)
                for key in keys
            ]
            for future in as_completed(futures, timeout=bounded("executions", began)):
                records.append(future.result())
        statuses: dict[str, int] = {}
        for record in records:
            statuses[record["status"]] = statuses.get(record["status"], 0) + 1
        result.executions = statuses
        bad = [r for r in records if r["status"] != "SUCCEEDED" or r["label"] is None]
        if bad:
            raise SoakError(
                f"{len(bad)} of {len(records)} executions did not succeed with a label: "
                + "; ".join(f"{r['key']}: {r['status']} {r['error']} {r['cause']}" for r in bad[:3])
            )
    destroy_step(stack, result)
    result.ok = True


def destroy_step(stack: Any, result: RunResult) -> None:
    from scripts.stack import remaining_resources
    from training.registry import delete_packages

    with step(result, "destroy"):
        # The packages are the tooling's, not Terraform's: the group goes only once they are gone.
        group = stack.outputs.get("model_package_group_name")
        if group:
            delete_packages(stack.client("sagemaker", config=client_config()), str(group))
        done = stack.destroy(timeout=DEADLINES["destroy"])
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).splitlines()[-30:])
            raise SoakError(f"tf.sh destroy exited {done.returncode}:\n{tail}")
    with step(result, "check"):
        remaining = remaining_resources(stack, keep_buckets={SOAK_BUCKET})
        sagemaker = stack.client("sagemaker", config=client_config())
        extra = {
            "models": sagemaker.list_models()["Models"],
            "endpoint configs": sagemaker.list_endpoint_configs()["EndpointConfigs"],
        }
        remaining |= {kind: items for kind, items in extra.items() if items}
        if remaining:
            raise SoakError(f"destroy left resources behind: {remaining}")


def client_config() -> Any:
    """Short socket timeouts and few retries: a lost answer fails a step, it does not stall it."""
    from botocore.config import Config

    return Config(
        connect_timeout=5,
        read_timeout=60,
        retries={"max_attempts": 2, "mode": "standard"},
        max_pool_connections=CONCURRENCY + 4,
    )


def server_log_tail(stack: Any, lines: int = 80) -> str:
    try:
        text = Path(stack.cloud.log_file).read_text(encoding="utf-8", errors="replace")
    except OSError as error:
        return f"(no server.log: {error})"
    return "\n".join(text.splitlines()[-lines:])


# -- the soak --------------------------------------------------------------------------------------
def prepare(stack: Any, workdir: Path) -> SoakModel:
    """Keep the trained artifact and the training data in SOAK_BUCKET; the kept model."""
    from scripts.stack import destroy_and_check
    from training.upload import sync

    s3 = stack.client("s3", config=client_config())
    sagemaker = stack.client("sagemaker", config=client_config())
    package = sagemaker.describe_model_package(ModelPackageName=stack.model_package_arn)
    image = str(package["InferenceSpecification"]["Containers"][0]["Image"])
    bucket, key = stack.model_data_url.removeprefix("s3://").split("/", 1)
    artifact = workdir / "model.tar.gz"
    s3.download_file(bucket, key, str(artifact))
    s3.create_bucket(Bucket=SOAK_BUCKET)
    s3.upload_file(str(artifact), SOAK_BUCKET, MODEL_KEY)
    sync(s3, SOAK_BUCKET, stack.data, prefix="load", progress=False)
    destroy_and_check(stack, keep_buckets={SOAK_BUCKET})
    # Every run's apply serves this artifact; the copy's own model.auto.tfvars.json would name
    # the bucket the first destroy just removed.
    (stack.root / "model.auto.tfvars.json").unlink(missing_ok=True)
    return SoakModel(f"s3://{SOAK_BUCKET}/{MODEL_KEY}", image)


def pick_test_images(data: Path, count: int) -> dict[str, Path]:
    """test/<file>.png -> the converted image, the first `count` by name (classes interleaved)."""
    files = sorted((data / "test").glob("*/*.png"), key=lambda path: (path.name, path.parent))
    return {f"test/{path.name}": path for path in files[:count]}


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def soak(
    runs: int,
    executions: int,
    shared_data: Path,
    out_dir: Path,
    with_load: bool,
    say: Callable[[str], None] = print,
) -> dict[str, Any]:
    from localcloud.testing import running_local_cloud
    from scripts import stack as local_stack

    workdir = out_dir / "work"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    report: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "runs_requested": runs,
        "executions_per_run": executions,
        "deadlines_s": DEADLINES,
        "machine": machine(),
        "workdir": str(workdir),
        "runs": [],
    }
    results: list[RunResult] = []
    load: TrainingLoad | None = None
    with running_local_cloud(state_root=workdir / "localcloud") as cloud:
        report["server_log"] = str(cloud.log_file)
        say(f"local cloud on {cloud.endpoint_url}; state and server.log under {cloud.state_dir}")
        began = time.monotonic()
        stack = local_stack.deploy(cloud, workdir, shared_data)
        model = prepare(stack, workdir)
        report["setup_s"] = {**stack.timings, "total": round(time.monotonic() - began, 1)}
        say(f"setup (deploy, short training, destroy) {report['setup_s']}; model {model.url}")
        images = pick_test_images(stack.data, executions)
        keys = sorted(images)
        if with_load:
            config = local_stack.short_training_config(workdir / "load-hyperparameters.json")
            settings = json.loads(config.read_text(encoding="utf-8"))
            config.write_text(json.dumps({**settings, "epochs": LOAD_EPOCHS}), encoding="utf-8")
            load = TrainingLoad(stack, config, workdir / "load-envs")
            load.start()
            time.sleep(10)  # let the first job reach its training loop
        try:
            for number in range(1, runs + 1):
                say(f"run {number}/{runs} ...")
                result = RunResult(run=number, loadavg=[round(x, 2) for x in os.getloadavg()])
                result.load_jobs_running = load.running if load else False
                try:
                    run_once(stack, result, keys, images, model)
                except StepFailedError as error:
                    result.failed_step, result.failure = error.step, str(error)
                    say(f"run {number} FAILED: {error}")
                    report.setdefault("failures", []).append(
                        {
                            "run": number,
                            "step": error.step,
                            "seconds": round(error.seconds, 1),
                            "detail": error.detail,
                            "server_log_tail": server_log_tail(stack),
                        }
                    )
                    if not recover(stack, say):
                        results.append(result)
                        say("the root could not be destroyed after the failure: soak stopped")
                        break
                results.append(result)
                say(f"run {number}: {result.steps} total {result.total} s")
                write(out_dir, report, results, load)
        finally:
            if load is not None:
                load.stop()
    write(out_dir, report, results, load)
    return report


def recover(stack: Any, say: Callable[[str], None]) -> bool:
    """After a failed run: destroy what it left so the next run starts from nothing."""
    cleanup = RunResult(run=0)
    try:
        destroy_step(stack, cleanup)
    except StepFailedError as error:
        say(f"cleanup after the failure failed: {error}")
        return False
    return True


def write(
    out_dir: Path, report: dict[str, Any], results: list[RunResult], load: TrainingLoad | None
) -> Path:
    report["runs"] = [asdict(run) | {"total": run.total} for run in results]
    report["summary_s"] = summarize(results)
    report["passed"] = sum(run.ok for run in results)
    report["failed"] = sum(not run.ok for run in results)
    if load is not None:
        report["load"] = load.summary()
    report["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "results.json"
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.soak", description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--executions", type=int, default=20, help="test images per run")
    parser.add_argument("--data", type=Path, default=SHARED_DATA, help="the shared image folder")
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="results.json and work/ here")
    parser.add_argument("--no-load", action="store_true", help="no training job alongside")
    args = parser.parse_args(argv)
    if not (args.data / "test").is_dir():
        print(f"error: no image folder at {args.data} (give --data)", file=sys.stderr)
        return 2
    if shutil.which("terraform") is None:
        print("error: terraform is not on PATH", file=sys.stderr)
        return 2
    try:
        report = soak(args.runs, args.executions, args.data, args.out, not args.no_load)
    except Exception:
        traceback.print_exc()
        print(f"error: the soak could not run; see {args.out / 'work'}", file=sys.stderr)
        return 1
    runs = [RunResult(**{k: v for k, v in run.items() if k != "total"}) for run in report["runs"]]
    print("\n".join(table(runs, report["summary_s"])))
    if "load" in report:
        print(f"load: {report['load']['completed']} training jobs completed alongside")
    print(f"results: {args.out / 'results.json'}")
    ok = report["passed"] == args.runs
    print("PASSED" if ok else f"FAILED: {report['failed']} run(s) failed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
