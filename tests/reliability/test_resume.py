"""`scripts.classify --prefix --per-image` killed mid-batch, then run again: finishes exactly
what was left."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest

from scripts.classify import STARTED, TERMINAL, ResultsFile, execution_name
from scripts.stack import REPO_ROOT, DeployedStack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

IMAGES = 16
KILL_AFTER = 4  # finished images in the results file before the SIGKILL


def classify_command(stack: DeployedStack, prefix: str, results: Path) -> list[str]:
    # The client path (`--per-image`, one execution per key from here), with the stack's
    # outputs given directly.
    return [
        sys.executable,
        *("-m", "scripts.classify", "--env", "local", "--prefix", prefix, "--per-image"),
        *("--state-machine-arn", stack.state_machine_arn, "--bucket", stack.bucket),
        *("--results", str(results), "--concurrency", "2"),
    ]


def finished(results: ResultsFile) -> int:
    return sum(record["status"] in TERMINAL for record in results.latest().values())


@pytest.fixture(scope="module")
def prefix(deployed_stack: DeployedStack) -> tuple[str, list[str]]:
    """A fresh prefix holding copies of test images, so no other test's executions collide."""
    s3 = deployed_stack.client("s3")
    prefix = f"reliability/resume-{uuid.uuid4().hex[:8]}/"
    sources = sorted(
        item["Key"]
        for item in s3.list_objects_v2(Bucket=deployed_stack.bucket, Prefix="test/", Delimiter="/")[
            "Contents"
        ]
    )[:IMAGES]
    keys = []
    for source in sources:
        key = prefix + source.removeprefix("test/")
        s3.copy_object(
            Bucket=deployed_stack.bucket,
            Key=key,
            CopySource={"Bucket": deployed_stack.bucket, "Key": source},
        )
        keys.append(key)
    return prefix, sorted(keys)


def test_a_killed_batch_resumes_only_its_unfinished_images(
    deployed_stack: DeployedStack, prefix: tuple[str, list[str]], tmp_path: Path
) -> None:
    folder, keys = prefix
    results = ResultsFile(tmp_path / "results.jsonl")
    command = classify_command(deployed_stack, folder, results.path)
    process = subprocess.Popen(
        command,
        cwd=REPO_ROOT,
        env=deployed_stack.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 180
        while finished(results) < KILL_AFTER and process.poll() is None:
            assert time.monotonic() < deadline, "no results written in 180 s"
            time.sleep(0.05)
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL, "the batch ended before the kill"

    after_kill = results.latest()
    done = {key for key, record in after_kill.items() if record["status"] in TERMINAL}
    in_flight = {key for key, record in after_kill.items() if record["status"] == STARTED}
    unfinished = set(keys) - done
    assert KILL_AFTER <= len(done) < len(keys), after_kill
    assert in_flight <= unfinished  # the file says which started images never finished
    lines_before = len(results.path.read_text().splitlines())

    again = subprocess.run(
        command, cwd=REPO_ROOT, env=deployed_stack.env, capture_output=True, text=True, timeout=600
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"{len(done)} already finished" in again.stdout, again.stdout

    # The second run appended records for exactly the unfinished images (STARTED + final each).
    new_lines = results.path.read_text().splitlines()[lines_before:]
    resumed = Counter(json.loads(line)["key"] for line in new_lines if line.strip())
    assert set(resumed) == unfinished
    assert set(resumed.values()) == {2}
    final = results.latest()
    assert sorted(final) == keys
    assert {record["status"] for record in final.values()} == {"SUCCEEDED"}, final

    # Step Functions itself: exactly one execution per image, none missed, none doubled.
    sfn = deployed_stack.client("stepfunctions")
    names = Counter(
        execution["name"]
        for page in sfn.get_paginator("list_executions").paginate(
            stateMachineArn=deployed_stack.state_machine_arn
        )
        for execution in page["executions"]
    )
    per_key = {key: names[execution_name(key, 1)] for key in keys}
    assert set(per_key.values()) == {1}, per_key
    stems = {execution_name(key, 1).rsplit("-", 1)[0] for key in keys}
    others = [name for name in names if name.rsplit("-", 1)[0] in stems]
    assert len(others) == len(keys), f"an image ran under another attempt number: {others}"
