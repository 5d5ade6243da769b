"""The local cloud restarted under `scripts.classify --prefix --per-image`: the rerun finishes
what it named."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from localcloud import control
from localcloud.testing import RunningCloud, create_function
from scripts import classify
from scripts.classify import TERMINAL, UNFINISHED, ResultsFile, execution_name

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REPO_ROOT = Path(__file__).resolve().parents[2]
IMAGES = 14
QUICK = 4  # on the first cloud only these finish; the restart comes once all four have
CONCURRENCY = 2
BUCKET, MACHINE, FUNCTION = "restart-test", "classify-restart", "classify-restart"
PREFIX = "restart/"
KEYS = [f"{PREFIX}{i:02d}_{'quick' if i < QUICK else 'held'}.png" for i in range(IMAGES)]
# The first cloud's function holds every image after the quick ones far longer than the test
# runs, so which images finish before the restart is decided by their names, not by timing.
HOLDING = """
import time


def lambda_handler(event, context):
    if "_held" in event["s3_key"]:
        time.sleep(600)
    return {**event, "label": "bicycle", "confidence": 0.97}
"""
TRIVIAL = """
def lambda_handler(event, context):
    return {**event, "label": "bicycle", "confidence": 0.97}
"""
ASSUME_LAMBDA = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)
DEADLINE_S = 180.0  # for anything we wait on; only ever reached when something is broken


@dataclass
class Restartable:
    """One port and state root whose server the test can restart, as `make local-down local-up`."""

    port: int
    state_root: Path
    processes: list[subprocess.Popen[bytes]]

    def start(self) -> RunningCloud:
        pid, process = control.start(self.port, state_root=self.state_root)
        assert process is not None, "a server was already running on the test's own port"
        self.processes.append(process)
        return RunningCloud.attach(self.port, self.state_root, pid)

    def stop(self) -> None:
        control.stop(self.port, state_root=self.state_root)
        for process in self.processes:
            process.wait(timeout=30)  # reap it: we are its parent


@pytest.fixture
def restartable() -> Iterator[Restartable]:
    with tempfile.TemporaryDirectory(prefix="lc-") as state_root:
        cloud = Restartable(control.free_port(), Path(state_root), [])
        try:
            yield cloud
        finally:
            cloud.stop()


def build_stack(cloud: RunningCloud, handler: str) -> classify.Target:
    """Bucket, images, and a one-Task state machine around `handler`: the stack, in miniature."""
    s3 = cloud.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    for key in KEYS:
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"not really an image")
    role = cloud.client("iam").create_role(
        RoleName="classify-restart-lambda", AssumeRolePolicyDocument=ASSUME_LAMBDA
    )["Role"]["Arn"]
    function = create_function(cloud, role, FUNCTION, handler, Timeout=900)
    definition = {
        "StartAt": "Classify",
        "States": {
            "Classify": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": function, "Payload.$": "$"},
                "OutputPath": "$.Payload",
                "End": True,
            }
        },
    }
    machine = cloud.client("stepfunctions").create_state_machine(
        name=MACHINE,
        definition=json.dumps(definition),
        roleArn="arn:aws:iam::123456789012:role/sfn",
    )
    return classify.Target(machine["stateMachineArn"], BUCKET)


def command(target: classify.Target, results: Path) -> list[str]:
    # The client path (`--per-image`) over restart/, with the stack's outputs given directly.
    return [
        sys.executable,
        *("-m", "scripts.classify", "--env", "local", "--prefix", PREFIX, "--per-image"),
        *("--state-machine-arn", target.state_machine_arn, "--bucket", target.bucket),
        *("--results", str(results), "--concurrency", str(CONCURRENCY)),
    ]


def poll(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not within {DEADLINE_S:.0f} s"
        time.sleep(0.05)


def finished(results: ResultsFile) -> set[str]:
    return {key for key, record in results.latest().items() if record["status"] in TERMINAL}


def named_unfinished(stderr: str) -> list[str]:
    """The keys the error message lists, one per indented line under its first line."""
    lines = stderr[stderr.index("images unfinished:") :].splitlines()[1:]
    return [
        line.strip() for line in lines if line.startswith("  ") and not line.startswith("  ... ")
    ]


def test_a_restart_mid_batch_names_the_unfinished_and_a_rerun_finishes_exactly_those(
    restartable: Restartable, tmp_path: Path
) -> None:
    first = restartable.start()
    target = build_stack(first, HOLDING)
    results = ResultsFile(tmp_path / "results.jsonl")
    env = {**os.environ, **first.env()}
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        batch = subprocess.Popen(
            command(target, results.path), cwd=REPO_ROOT, env=env, stdout=stdout, stderr=stderr
        )
        try:
            poll(
                lambda: len(finished(results)) >= QUICK or batch.poll() is not None,
                f"{QUICK} images finished",
            )
            assert batch.poll() is None, err.read_text()
            restartable.stop()  # everything the cloud knew is gone, and its key with it
            second = restartable.start()
            poll(lambda: batch.poll() is not None, "the batch gave up on the restarted cloud")
        finally:
            if batch.poll() is None:
                batch.kill()
            batch.wait(timeout=30)

    message = err.read_text()
    assert batch.returncode == classify.EXIT_CLOUD_GONE, message
    assert "error: the local cloud stopped answering (" in message, message
    assert "Run the same command again when the stack is back" in message, message
    after = results.latest()
    done = finished(results)
    unfinished = [key for key in KEYS if key not in done]
    assert sorted(done) == KEYS[:QUICK], after  # the held images cannot have finished
    assert f"; {len(unfinished)} images unfinished:" in message, message
    assert named_unfinished(message) == unfinished, message
    assert sorted(after) == KEYS  # every unfinished image is in the file, started or not
    assert {after[key]["status"] for key in unfinished} == {UNFINISHED}, after
    lines_before = len(results.path.read_text().splitlines())

    # The stack comes back (a new, empty cloud with a new key), and the same command runs again.
    # The environment is the one from before the restart: the tool reads the new key itself.
    target_again = build_stack(second, TRIVIAL)
    assert target_again == target
    again = subprocess.run(
        command(target, results.path),
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=DEADLINE_S,
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"{QUICK} already finished in {results.path}, {len(unfinished)} to run" in again.stdout

    # Each image has exactly one final record in the whole file, and the rerun wrote records
    # (STARTED + final) for the unfinished images only.
    records = [json.loads(line) for line in results.path.read_text().splitlines()]
    finals = Counter(record["key"] for record in records if record["status"] in TERMINAL)
    assert finals == dict.fromkeys(KEYS, 1), finals
    rerun = Counter(record["key"] for record in records[lines_before:])
    assert rerun == dict.fromkeys(unfinished, 2), rerun
    latest = results.latest()
    assert {latest[key]["status"] for key in KEYS} == {"SUCCEEDED"}, latest
    # The restarted cloud had forgotten the held images' executions: each got a new one.
    assert {latest[key]["execution"] for key in unfinished} == {"started"}

    # The restarted cloud ran one execution per unfinished image and none for finished ones.
    listed = second.client("stepfunctions").list_executions(
        stateMachineArn=target.state_machine_arn, maxResults=1000
    )["executions"]
    names = Counter(execution["name"] for execution in listed)
    assert names == {execution_name(key, latest[key]["attempt"]): 1 for key in unfinished}
