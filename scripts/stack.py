"""The deployed `local` stack on a private local cloud: build, deploy, helpers and teardown.

The one definition of how the `local` root is deployed for a run of the real system; the
end-to-end and reliability tests (tests/conftest.py), the benchmarks and the soak use it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localcloud.testing import RunningCloud, running_local_cloud

REPO_ROOT = Path(__file__).resolve().parents[1]
ENV = "local"
# Low enough that every inference of the short-trained model passes: the top of two
# probabilities is at least 0.5. Tests that need a failing threshold pass their own.
BASE_THRESHOLD = 0.5
# A subset of the shared images keeps the short training job to seconds per epoch.
TRAIN_PER_CLASS = 100
TEST_PER_CLASS = 10
# The original project's test event names this key; the subset always holds its image.
ORIGINAL_TEST_KEY = "test/bicycle_s_000513.png"
TRAINING_EPOCHS = 2
# Copies leave out a developer's init, state, plans and trained-model variables.
COPY_IGNORE = shutil.ignore_patterns(
    ".terraform", "*.tfstate", "*.tfstate.*", "*.tfplan", "*.auto.tfvars", "*.auto.tfvars.json"
)
FAULTS_PATH = "/moto-api/localcloud/sagemaker/faults"


class StackError(RuntimeError):
    """A deployment step failed; the message carries the command and its output."""


def _tail(text: str, lines: int = 60) -> str:
    return "\n".join(text.splitlines()[-lines:])


def run_bounded(
    command: Sequence[str], timeout: float, cwd: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """subprocess.run(capture_output, text) that, past its timeout, kills the whole process group.

    tf.sh runs terraform, which runs the provider: subprocess.run would kill only bash and leave
    them running (holding the state and calling the cloud). The TimeoutExpired raised here
    carries what the command printed until then, so a hang names the resource it hung on.
    """
    with subprocess.Popen(
        list(command),
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except BaseException as error:  # a timeout, or Ctrl-C: nothing of the group survives
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            stdout, stderr = process.communicate()
            if isinstance(error, subprocess.TimeoutExpired):
                raise subprocess.TimeoutExpired(
                    error.cmd, timeout, output=stdout, stderr=stderr
                ) from None
            raise
    return subprocess.CompletedProcess(list(command), process.returncode, stdout, stderr)


@dataclass
class DeployedStack:
    """The real `local` root applied to a private local cloud, with what tests need to drive it.

    Attributes:
        cloud: the running server (`cloud.endpoint_url`, `cloud.port`, `cloud.client(service)`,
            `cloud.log_file`).
        repo: an isolated copy holding `scripts/tf.sh`, `infra/` and `build/` (functions zips,
            Terraform plans and state under `build/terraform/local/`), so nothing here touches a
            developer's `build/terraform/local` or `infra/envs/local/.terraform`.
        data: the converted dataset (`train.lst`, `test/<class>/*.png`, ...); in the bucket
            the test images are flat (`test/<file>.png`, classes in `test_lst/test.lst`).
        env: environment for subprocesses: the AWS SDK pointed at the cloud (`AWS_ENDPOINT_URL`,
            dummy keys, region), `LOCAL_CLOUD_PORT`, `TF_BUILD_DIR`.
        variables: `-var` values every plan gets (threshold = BASE_THRESHOLD).
        outputs: the root's Terraform outputs after the last apply (name -> value).
        model_package_arn: the promoted model package the endpoint serves.
        model_data_url: its artifact (recorded with every answer).
        timings: seconds per deployment step (package, convert, apply_1, upload, train, ...).
    """

    cloud: RunningCloud
    repo: Path
    data: Path
    env: dict[str, str]
    variables: dict[str, str] = field(default_factory=lambda: {"threshold": str(BASE_THRESHOLD)})
    outputs: dict[str, Any] = field(default_factory=dict)
    model_package_arn: str = ""
    model_data_url: str = ""
    timings: dict[str, float] = field(default_factory=dict)

    # -- what the root created -------------------------------------------------------------
    @property
    def endpoint_url(self) -> str:
        return self.cloud.endpoint_url

    @property
    def bucket(self) -> str:
        return str(self.outputs["bucket_name"])

    @property
    def state_machine_arn(self) -> str:
        return str(self.outputs["state_machine_arn"])

    @property
    def endpoint_name(self) -> str:
        return str(self.outputs["endpoint_name"])

    @property
    def function_names(self) -> dict[str, str]:
        """serialize_image_data, classify_image, filter_inferences -> deployed function name."""
        return dict(self.outputs["function_names"])

    @property
    def root(self) -> Path:
        """The copied `infra/envs/local` (where training wrote model.auto.tfvars.json)."""
        return self.repo / "infra" / "envs" / ENV

    def client(self, service: str, **kwargs: Any) -> Any:
        return self.cloud.client(service, **kwargs)

    # -- Terraform -------------------------------------------------------------------------
    def terraform(
        self, command: str, *args: str, check: bool = True, timeout: float = 600
    ) -> subprocess.CompletedProcess[str]:
        """`scripts/tf.sh <command> local <args>` in the copy; StackError when check fails."""
        done = run_bounded(
            ["bash", str(self.repo / "scripts" / "tf.sh"), command, ENV, *args],
            timeout,
            self.repo,
            self.env,
        )
        if check and done.returncode != 0:
            raise StackError(
                f"tf.sh {command} {ENV} {' '.join(args)} exited {done.returncode}:\n"
                f"{_tail(done.stdout)}\n{_tail(done.stderr)}"
            )
        return done

    def var_args(self, **overrides: object) -> list[str]:
        values = {**self.variables, **{name: str(value) for name, value in overrides.items()}}
        return [f"-var={name}={value}" for name, value in sorted(values.items())]

    def apply(self, **overrides: object) -> float:
        """Plan with the stack's variables (and overrides), apply that plan, then read the
        endpoint back as `make apply` does (scripts/endpoint_check.py); returns seconds.

        StackError when the apply or the readback fails: the message carries both outputs (the
        readback's FailureReason when SageMaker rolled a deployment back).
        """
        began = time.monotonic()
        self.terraform("plan", "-no-color", *self.var_args(**overrides))
        applied = self.terraform("apply", "-no-color", check=False)
        checked = self.endpoint_check()
        self.outputs = self.read_outputs()
        if applied.returncode != 0 or checked.returncode != 0:
            raise StackError(
                f"tf.sh apply {ENV} exited {applied.returncode}, endpoint_check exited "
                f"{checked.returncode}:\n{_tail(applied.stdout)}\n{_tail(applied.stderr)}\n"
                f"{checked.stdout}{checked.stderr}"
            )
        return time.monotonic() - began

    def endpoint_check(self, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        """`python -m scripts.endpoint_check` on this stack's root (what `make apply` runs)."""
        envs = str(self.repo / "infra" / "envs")
        command = [sys.executable, "-m", "scripts.endpoint_check", "--env", ENV, "--envs-dir", envs]
        return run_bounded(command, timeout, REPO_ROOT, self.env)

    def plan_exit_code(self) -> tuple[int, str]:
        """`plan -detailed-exitcode` with the stack's variables: 0 no changes, 2 changes."""
        done = self.terraform(
            "plan", "-no-color", "-detailed-exitcode", *self.var_args(), check=False
        )
        return done.returncode, done.stdout + done.stderr

    def read_outputs(self, timeout: float = 600) -> dict[str, Any]:
        raw = json.loads(self.terraform("output", "-json", timeout=timeout).stdout)
        return {name: entry["value"] for name, entry in raw.items()}

    def destroy(self, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        """`tf.sh destroy` without its question (AUTO_APPROVE=1); the caller checks the result."""
        self.env["AUTO_APPROVE"] = "1"
        try:
            return self.terraform(
                "destroy", "-no-color", *self.var_args(), check=False, timeout=timeout
            )
        finally:
            del self.env["AUTO_APPROVE"]

    # -- the running system ----------------------------------------------------------------
    def inject_fault(self, fault: str, count: int, endpoint: str | None = None) -> None:
        """The next `count` invocations of the endpoint fail with `fault` (throttle, ...)."""
        body = {"EndpointName": endpoint or self.endpoint_name, "Fault": fault, "Count": count}
        self._faults("POST", json.dumps(body).encode())

    def clear_faults(self) -> None:
        self._faults("DELETE")

    def _faults(self, method: str, body: bytes = b"") -> None:
        headers = {"Content-Type": "application/json"}
        status, answer = self.cloud.request(FAULTS_PATH, method, body, headers)
        if status != 200:
            raise StackError(f"{method} {FAULTS_PATH} answered {status}: {answer!r}")

    def run_module(self, module: str, *args: str, timeout: float = 900) -> str:
        """`python -m <module> <args>` against the cloud (a project CLI); returns its stdout."""
        done = run_bounded([sys.executable, "-m", module, *args], timeout, REPO_ROOT, self.env)
        if done.returncode != 0:
            raise StackError(
                f"python -m {module} {' '.join(args)} exited {done.returncode}:\n"
                f"{_tail(done.stdout)}\n{_tail(done.stderr)}"
            )
        return done.stdout


def isolated_repo(destination: Path) -> Path:
    """scripts/tf.sh and infra/ copied unchanged: tf.sh then keeps its state and plans here."""
    (destination / "scripts").mkdir(parents=True)
    shutil.copy2(REPO_ROOT / "scripts" / "tf.sh", destination / "scripts" / "tf.sh")
    shutil.copytree(REPO_ROOT / "infra", destination / "infra", ignore=COPY_IGNORE)
    return destination


def subset_images(shared_data: Path, destination: Path) -> Path:
    """The first images of each class (sorted names), linked into an image folder.

    The test subset always holds the image of ORIGINAL_TEST_KEY (in place of its class's last).
    """
    original = ORIGINAL_TEST_KEY.removeprefix("test/")
    for split, count in (("train", TRAIN_PER_CLASS), ("test", TEST_PER_CLASS)):
        for class_dir in sorted((shared_data / split).iterdir()):
            target = destination / split / class_dir.name
            target.mkdir(parents=True)
            images = sorted(class_dir.glob("*.png"))[:count]
            wanted = class_dir / original
            if split == "test" and wanted.is_file() and wanted not in images:
                images = [*images[:-1], wanted]
            for image in images:
                (target / image.name).symlink_to(image)
    return destination


def subprocess_env(cloud: RunningCloud, repo: Path) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        # A developer's Terraform settings must not leak into the private stack.
        if not name.startswith(("TF_VAR_", "AWS_")) and name not in {"TF_DATA_DIR", "TF_BUILD_DIR"}
    }
    env |= cloud.env()
    env |= {
        "LOCAL_CLOUD_PORT": str(cloud.port),
        "TF_BUILD_DIR": str(repo / "build" / "terraform"),
        "TF_IN_AUTOMATION": "1",
        "TF_INPUT": "0",
        "CHECKPOINT_DISABLE": "1",
        "PYTHONWARNINGS": "ignore",
    }
    return env


def short_training_config(destination: Path) -> Path:
    """The committed hyperparameters with fewer epochs: a real model in seconds, not minutes."""
    from training.hyperparameters import DEFAULT_HYPERPARAMETERS

    config = json.loads(DEFAULT_HYPERPARAMETERS.read_text(encoding="utf-8"))
    config["epochs"] = TRAINING_EPOCHS
    destination.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    return destination


def _timed(timings: dict[str, float], name: str, began: float) -> None:
    timings[name] = round(time.monotonic() - began, 1)


def deploy(cloud: RunningCloud, workdir: Path, shared_data: Path) -> DeployedStack:
    """Package, convert, first apply, upload, train briefly, apply with the model."""
    from scripts.package_lambdas import build_all
    from training.convert import convert
    from training.upload import sync

    timings: dict[str, float] = {}
    repo = isolated_repo(workdir / "repo")
    began = time.monotonic()
    build_all(repo / "build" / "functions")
    _timed(timings, "package", began)

    began = time.monotonic()
    data = workdir / "data"
    convert(subset_images(shared_data, workdir / "images"), data)
    _timed(timings, "convert", began)

    stack = DeployedStack(cloud, repo, data, subprocess_env(cloud, repo), timings=timings)
    began = time.monotonic()
    stack.terraform("init", "-no-color")
    _timed(timings, "init", began)
    timings["apply_1"] = round(stack.apply(), 1)

    began = time.monotonic()
    sync(cloud.client("s3"), stack.bucket, data, progress=False)
    _timed(timings, "upload", began)

    began = time.monotonic()
    config = short_training_config(workdir / "hyperparameters.json")
    stack.run_module(
        "training.launch",
        *("--env", ENV, "--envs-dir", str(repo / "infra" / "envs")),
        *("--config", str(config), "--data", str(data), "--poll-seconds", "1"),
        # A few epochs on a subset: what these stacks test is not the model's accuracy.
        *("--min-accuracy", "0"),
    )
    _timed(timings, "train", began)
    stack.run_module("training.promote", "--env", ENV, "--envs-dir", str(repo / "infra" / "envs"))
    tfvars = json.loads((stack.root / "model.auto.tfvars.json").read_text(encoding="utf-8"))
    stack.model_package_arn = str(tfvars["model_package_arn"])
    stack.model_data_url = str(tfvars["model_data_url"])

    timings["apply_2"] = round(stack.apply(), 1)
    return stack


def remaining_resources(
    stack: DeployedStack, keep_buckets: Collection[str] = ()
) -> dict[str, list[Any]]:
    """What the cloud still holds of the kinds the root creates (buckets in keep_buckets aside)."""
    buckets = stack.client("s3").list_buckets()["Buckets"]
    leftovers = {
        "state machines": stack.client("stepfunctions").list_state_machines()["stateMachines"],
        "functions": stack.client("lambda").list_functions()["Functions"],
        "buckets": [bucket for bucket in buckets if bucket["Name"] not in keep_buckets],
        "endpoints": stack.client("sagemaker").list_endpoints()["Endpoints"],
        "tables": stack.client("dynamodb").list_tables()["TableNames"],
        "queues": stack.client("sqs").list_queues().get("QueueUrls", []),
        "rules": stack.client("events").list_rules()["Rules"],
    }
    return {kind: items for kind, items in leftovers.items() if items}


def destroy_and_check(stack: DeployedStack, keep_buckets: Collection[str] = ()) -> None:
    """Destroy the root and check the cloud holds none of its resources; StackError if not.

    keep_buckets: buckets the caller made outside the root (the soak's artifact bucket).
    """
    from training.registry import delete_packages

    # The packages are the tooling's, not Terraform's: the group goes only once they are gone.
    group = stack.outputs.get("model_package_group_name")
    if group:
        delete_packages(stack.client("sagemaker"), str(group))
    destroyed = stack.destroy()
    if destroyed.returncode != 0:
        raise StackError(
            f"terraform destroy of the local stack failed ({destroyed.returncode}):\n"
            f"{_tail(destroyed.stdout)}\n{_tail(destroyed.stderr)}"
        )
    remaining = remaining_resources(stack, keep_buckets)
    if remaining:
        raise StackError(f"terraform destroy left resources behind: {remaining}")


@contextmanager
def deployed_local_stack(workdir: Path, shared_data: Path) -> Iterator[DeployedStack]:
    """A private local cloud with the stack deployed; destroyed and stopped on exit.

    For any conftest that needs its own stack (a benchmark, a reliability suite):
    `with deployed_local_stack(tmp_path_factory.mktemp("x"), shared_data) as stack: yield stack`.
    Raises StackError when the deployment or the destroy fails.
    """
    # The cloud's state (and its server.log) under the test's folder, kept after a failure.
    with running_local_cloud(state_root=workdir / "localcloud") as cloud:
        try:
            stack = deploy(cloud, workdir, shared_data)
        except StackError as error:
            # A half-applied stack needs no destroy: it lives only in this cloud, stopped here.
            raise StackError(f"{error}\n(local cloud log: {cloud.log_file})") from None
        yield stack
        destroy_and_check(stack)


@dataclass(frozen=True)
class Execution:
    """A finished execution: DescribeExecution and the whole GetExecutionHistory."""

    described: dict[str, Any]
    events: list[dict[str, Any]]

    @property
    def status(self) -> str:
        return str(self.described["status"])

    @property
    def output(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.described.get("output") or "{}")
        return loaded

    def of_type(self, event_type: str) -> list[dict[str, Any]]:
        return [event for event in self.events if event["type"] == event_type]

    def state_output(self, state: str) -> dict[str, Any]:
        """What a state passed on (after its OutputPath), from its StateExited event."""
        for event in self.events:
            details = event.get("stateExitedEventDetails")
            if details and details["name"] == state:
                loaded: dict[str, Any] = json.loads(details["output"])
                return loaded
        raise AssertionError(f"no {state} exit in the history: {[e['type'] for e in self.events]}")

    def task_errors(self) -> list[str]:
        return [event["taskFailedEventDetails"]["error"] for event in self.of_type("TaskFailed")]


def new_version(stack: DeployedStack, key: str) -> str:
    """Write the object's bytes again: a new version (the bucket is versioned), no event (only
    incoming/ triggers the workflow), so the next execution has no result recorded yet."""
    s3 = stack.client("s3")
    body = s3.get_object(Bucket=stack.bucket, Key=key)["Body"].read()
    return str(s3.put_object(Bucket=stack.bucket, Key=key, Body=body)["VersionId"])


def execute(
    stack: DeployedStack, key: str, timeout: float = 180, *, fresh: bool = True
) -> Execution:
    """One execution of the deployed state machine on s3://<bucket>/<key>, waited for.

    fresh: run it on a new version of the object, so that it records its own item instead of
    finding an earlier execution's (the workflow writes one item per object version).
    """
    from scripts.classify import object_version, wait_for

    sfn = stack.client("stepfunctions")
    version = (
        new_version(stack, key) if fresh else object_version(stack.client("s3"), stack.bucket, key)
    )
    event = {"image_data": "", "s3_bucket": stack.bucket, "s3_key": key, "s3_version": version}
    started = sfn.start_execution(
        stateMachineArn=stack.state_machine_arn,
        name=f"e2e-{uuid.uuid4().hex[:16]}",
        input=json.dumps(event),
    )
    described = wait_for(sfn, started["executionArn"], timeout)
    events: list[dict[str, Any]] = []
    for page in sfn.get_paginator("get_execution_history").paginate(
        executionArn=started["executionArn"]
    ):
        events.extend(page["events"])
    return Execution(described, events)
