"""`make demo`: the whole pipeline on a fresh local cloud, from the data to monitoring."""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from scripts.demo.cache import (
    ModelStamp,
    data_reusable,
    dataset_fingerprint,
    files_fingerprint,
    model_reusable,
    wanted_data_stamp,
    write_stamp,
)
from scripts.demo.errors import DemoError
from scripts.demo.service import ServiceRun
from scripts.demo.stages import Stages
from scripts.demo.summary import format_summary
from scripts.demo.terraform import apply, terraform
from scripts.demo.training_log import TrainingLogTail

REPO_ROOT = Path(__file__).resolve().parents[2]
ENV = "local"
BUILD = Path("build")
DATA_OUT = BUILD / "data"
DEMO_DIR = BUILD / "demo"
DATA_STAMP = DEMO_DIR / "data.stamp.json"
MODEL_CACHE = DEMO_DIR / "model" / "model.tar.gz"
MODEL_STAMP = DEMO_DIR / "model" / "model.stamp.json"
LOGS = DEMO_DIR / "logs"
EVAL_REPORT = BUILD / "eval" / "report.json"
MONITOR_OUT = BUILD / "monitor"
TF_STATE = BUILD / "terraform" / ENV / "terraform.tfstate"
MODEL_TFVARS = Path("infra") / "envs" / ENV / "model.auto.tfvars.json"
TEST_PREFIX = "test/"  # where training.upload puts the test split, flat (test/<file>.png)
SERVICE_TIMEOUT = 600.0  # seconds for every landed object to have its item
EXIT_INTERRUPTED = 130
STAGES = [
    "local cloud",
    "data",
    "package",
    "infra",
    "upload",
    "train",
    "deploy",
    "ingest",
    "evaluate",
    "monitor",
]


def _interrupt(signum: int, frame: FrameType | None) -> None:
    # SIGTERM (CI cancelling the job) takes the same path as Ctrl-C: stop the local cloud.
    raise KeyboardInterrupt


def check(code: int, what: str) -> None:
    if code != 0:
        raise DemoError(f"{what} failed (exit {code}); its message is above")


def outputs() -> dict[str, Any]:
    from training.terraform_outputs import read_outputs

    return read_outputs(ENV)


def reset_local_terraform() -> list[Path]:
    """Forget resources of a local cloud that is gone: state, saved plan, model variables."""
    removed = []
    for path in (
        TF_STATE,
        TF_STATE.with_name("terraform.tfstate.backup"),
        BUILD / "terraform" / f"{ENV}.tfplan",
        BUILD / "terraform" / f"{ENV}.tfplan.fingerprint",
        MODEL_TFVARS,
    ):
        if path.exists():
            path.unlink()
            removed.append(path)
    return removed


def point_sdk_at(port: int) -> str:
    """This process's boto3 (and the CLIs run in it) talks to the local cloud only."""
    from localcloud import control

    for name in control.UNSET_FOR_LOCAL:
        os.environ.pop(name, None)
    # The key the local cloud issued at start, as `python -m localcloud env` prints it.
    local = control.aws_env(port)
    os.environ |= {**local, "LOCAL_CLOUD_PORT": str(port)}
    return local["AWS_ENDPOINT_URL"]


class Demo:
    """The stages, in order; each calls the project's own module for its step."""

    def __init__(self, data: Path | None, fresh: bool, port: int) -> None:
        self.data = data
        self.fresh = fresh
        self.port = port
        self.stages = Stages(STAGES)
        self.service: ServiceRun | None = None
        self.threshold: float | None = None
        self.monitor_report: str | None = None

    # 1
    def start_cloud(self) -> None:
        from localcloud import control

        if control.health(self.port) is not None:
            raise DemoError(
                f"a local cloud already answers on port {self.port}. The demo starts and stops "
                "its own: stop that one (`make local-down`) or run the demo on another port "
                f"(`make demo LOCAL_CLOUD_PORT={self.port + 1}`)"
            )
        began = time.monotonic()
        pid, _ = control.start(self.port, control.default_state_root())
        url = point_sdk_at(self.port)
        print(f"    {url} (pid {pid}) up in {time.monotonic() - began:.1f} s")

    def stop_cloud(self) -> None:
        from localcloud import control

        if control.stop(self.port, control.default_state_root()):
            print(f"local cloud on port {self.port} stopped")
        removed = reset_local_terraform()
        if removed:
            # Its resources lived in the stopped server's memory: the state would only mislead.
            print(
                "cleared the local Terraform state of that cloud: " + ", ".join(map(str, removed))
            )

    # 2
    def convert_data(self) -> None:
        from training import convert
        from training.dataset.archive import ARCHIVE_NAME
        from training.dataset.source import default_cache_dir

        archive = default_cache_dir() / ARCHIVE_NAME
        if not self.fresh and data_reusable(
            DATA_STAMP, wanted_data_stamp(self.data, archive, DATA_OUT)
        ):
            print(f"    {DATA_OUT} was converted from the same input: reused")
            self.stages.note("data", "reused")
            return
        check(
            convert.main(["--data", str(self.data or ""), "--out", str(DATA_OUT)]),
            "converting the data (training.convert)",
        )
        stamp = wanted_data_stamp(self.data, archive, DATA_OUT)
        if stamp is not None:
            write_stamp(DATA_STAMP, stamp)

    # 3
    def package(self) -> None:
        from scripts import package_lambdas

        check(package_lambdas.main(["--out", "build/functions"]), "packaging (make package)")

    # 4
    def first_apply(self) -> None:
        removed = reset_local_terraform()
        if removed:
            print(
                "    cleared the state of a previous local cloud: " + ", ".join(map(str, removed))
            )
        terraform("init", log=LOGS / "terraform-init.log")
        apply(LOGS / "terraform-infra.log")

    # 5
    def upload(self) -> None:
        from training import upload

        check(upload.main(["--env", ENV, "--data", str(DATA_OUT)]), "upload (training.upload)")

    # 6
    def train(self) -> None:
        from training import launch, promote, registry
        from training.algorithm_image import image_uri
        from training.aws import client
        from training.hyperparameters import DEFAULT_HYPERPARAMETERS

        dataset = dataset_fingerprint(DATA_OUT) or ""
        hyperparameters = files_fingerprint([DEFAULT_HYPERPARAMETERS])
        trainer_dir = REPO_ROOT / "training" / "local_trainer"
        trainer = files_fingerprint(sorted(trainer_dir.glob("*.py")))
        bucket = str(outputs()["bucket_name"])
        s3 = client("s3", ENV)
        key = None
        if not self.fresh:
            key = model_reusable(MODEL_STAMP, MODEL_CACHE, dataset, hyperparameters, trainer)
        if key is not None:
            # Same data, hyperparameters and trainer: the cached artifact is what training
            # would produce again, so it goes back to the fresh cloud at its original key.
            s3.upload_file(str(MODEL_CACHE), bucket, key)
            # The reused artifact goes through the same gate and registry as a trained one.
            found = outputs()
            gate = registry.Gate(float(found["min_accuracy"]), "Terraform output min_accuracy")
            job = {
                "TrainingJobName": key.split("/")[1],
                "ModelArtifacts": {"S3ModelArtifacts": f"s3://{bucket}/{key}"},
            }
            report = registry.evaluate_artifact(s3, f"s3://{bucket}/{key}", DATA_OUT)
            registered = registry.register(
                client("sagemaker", ENV), s3, group=str(found["model_package_group_name"]),
                job=job, image=image_uri(client("sagemaker", ENV).meta.region_name),
                report=report, gate=gate,
            )  # fmt: skip
            if not registered.approved:
                raise DemoError(f"the cached model was Rejected: {registered.reason}")
            check(promote.main(["--env", ENV]), "promotion (training.promote)")
            print(f"    reused {MODEL_CACHE} (same data, hyperparameters and trainer)")
            print(f"    -> s3://{bucket}/{key}; registered {registered.arn}; wrote {MODEL_TFVARS}")
            self.stages.note("train", "reused")
            return
        with TrainingLogTail(client("logs", ENV)):
            check(
                launch.main(["--env", ENV, "--data", str(DATA_OUT), "--poll-seconds", "5"]),
                "training (training.launch)",
            )
        check(promote.main(["--env", ENV]), "promotion (training.promote)")
        url = json.loads(MODEL_TFVARS.read_text(encoding="utf-8"))["model_data_url"]
        key = url.removeprefix(f"s3://{bucket}/")
        MODEL_CACHE.parent.mkdir(parents=True, exist_ok=True)
        s3.download_file(bucket, key, str(MODEL_CACHE))
        write_stamp(MODEL_STAMP, ModelStamp(dataset, hyperparameters, trainer, key))
        print(f"    cached the model at {MODEL_CACHE} for the next run")

    # 7
    def deploy(self) -> None:
        apply(LOGS / "terraform-deploy.log")

    # 8
    def ingest(self) -> None:
        from scripts.demo import service

        found = outputs()
        bucket, table = str(found["bucket_name"]), str(found["results_table_name"])
        s3 = client_for("s3")
        keys = [
            item["Key"]
            for page in s3.get_paginator("list_objects_v2").paginate(
                Bucket=bucket, Prefix=TEST_PREFIX
            )
            for item in page.get("Contents", [])
        ]
        began = time.monotonic()
        landed = service.land(s3, bucket, keys, TEST_PREFIX, str(found["incoming_prefix"]))
        print(f"    {len(landed)} objects landed under s3://{bucket}/{found['incoming_prefix']}")
        shown = Progress()
        items = service.wait_for_items(
            client_for("dynamodb"), table, landed, SERVICE_TIMEOUT, shown.update
        )
        seconds = time.monotonic() - began
        depth = service.review_queue_depth(client_for("sqs"), str(found["review_queue_url"]))
        self.service = service.ServiceRun(landed, items, seconds, depth)
        print("    " + ", ".join(f"{s}: {n}" for s, n in sorted(self.service.statuses().items())))
        function = found["function_names"]["filter_inferences"]
        configuration = client_for("lambda").get_function_configuration(FunctionName=function)
        self.threshold = float(configuration["Environment"]["Variables"]["THRESHOLD"])

    # 9
    def evaluate(self) -> None:
        from training import evaluate

        check(
            evaluate.main(["--env", ENV, "--data", str(DATA_OUT), "--out", str(EVAL_REPORT)]),
            "evaluation (training.evaluate)",
        )

    # 10
    def monitor(self) -> None:
        try:
            cli = importlib.import_module("scripts.monitor.cli")
        except ImportError as error:
            print(f"    skipped: scripts.monitor is not importable ({error})")
            self.stages.note("monitor", "skipped")
            return
        # The records are the results table's items, which the service wrote.
        argv = ["--env", ENV, "--source", "results", "--out", str(MONITOR_OUT)]
        check(cli.main(argv), "the monitoring report (scripts.monitor)")
        self.monitor_report = str(MONITOR_OUT / "report.html")

    def run(self) -> None:
        steps = [
            self.start_cloud,
            self.convert_data,
            self.package,
            self.first_apply,
            self.upload,
            self.train,
            self.deploy,
            self.ingest,
            self.evaluate,
            self.monitor,
        ]
        for name, step in zip(STAGES, steps, strict=True):
            with self.stages.run(name):
                step()

    def summary(self) -> tuple[str, bool]:
        """The summary text, and whether the service ended every object as intended."""
        from scripts.demo.service import summary_lines

        report = json.loads(EVAL_REPORT.read_text()) if EVAL_REPORT.is_file() else None
        artifacts = {
            "evaluation": str(EVAL_REPORT),
            "results": "the local cloud's results table (stopped with it); `make results` "
            "lists a running one",
            "monitoring": self.monitor_report or "(skipped)",
            "terraform logs": str(LOGS),
        }
        text = format_summary(
            report=report,
            service=summary_lines(self.service) if self.service else [],
            threshold=self.threshold,
            timings=self.stages.timings,
            artifacts=artifacts,
        )
        clean = self.service is not None and not self.service.unexpected_failures()
        return text + "\n\n" + self.stages.table(), clean


class Progress:
    """One line that counts the items found, rewritten in place on a terminal."""

    def __init__(self) -> None:
        self.last = -1

    def update(self, found: int, total: int) -> None:
        if found == self.last:
            return
        self.last = found
        end = "\n" if found == total or not sys.stdout.isatty() else "\r"
        if found == total or sys.stdout.isatty():
            print(f"    {found}/{total} items in the results table", end=end, flush=True)


def client_for(service: str) -> Any:
    from training.aws import client

    return client(service, ENV)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m scripts.demo", description=__doc__)
    parser.add_argument(
        "--data",
        default=os.environ.get("DATA", ""),
        help="image folder or cifar-100-python.tar.gz (as `make data DATA=...`); default: the "
        "official archive, downloaded once",
    )
    parser.add_argument(
        "--fresh",
        action="store_true",
        default=os.environ.get("FRESH", "") in {"1", "true", "yes"},
        help="convert and train again even when the cached data and model are still valid "
        "(FRESH=1)",
    )
    from localcloud import control

    parser.add_argument("--port", type=int, default=control.default_port())
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    data = Path(args.data).expanduser().resolve() if args.data.strip() else None
    os.chdir(REPO_ROOT)  # the CLIs it runs take paths relative to the repository root
    demo = Demo(data, args.fresh, args.port)
    # The CLIs it runs turn on INFO logging; the SDK's credential chatter is noise here.
    for noisy in ("botocore", "boto3", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    signal.signal(signal.SIGTERM, _interrupt)
    began = time.monotonic()
    code = 0
    try:
        demo.run()
    except DemoError as error:
        print(f"\ndemo: error: {error}", file=sys.stderr)
        code = 1
    except KeyboardInterrupt:
        print("\ndemo: interrupted", file=sys.stderr)
        code = EXIT_INTERRUPTED
    finally:
        demo.stop_cloud()
    if code == 0:
        text, clean = demo.summary()
        print(text)
        print(f"\ndemo finished in {time.monotonic() - began:.1f} s")
        if not clean:
            print(
                "demo: the service did not end every object as intended (see failures above)",
                file=sys.stderr,
            )
            code = 1
    return code
