"""`make classify PREFIX=` on the deployed local stack: one run of the batch state machine, a
Distributed Map of Express children over the prefix (issue 13)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scripts.stack import REPO_ROOT, DeployedStack, execute

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

GOOD = 24  # 1 bad image in 27 items stays under the local root's 5 % tolerance
DEADLINE_SECONDS = 300.0


def classify(stack: DeployedStack, *args: str) -> subprocess.CompletedProcess[str]:
    """What `make classify` runs, with the stack's outputs given directly."""
    return subprocess.run(
        [sys.executable, "-m", "scripts.classify", "--env", "local", *outputs(stack), *args],
        cwd=REPO_ROOT,
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=DEADLINE_SECONDS,
        check=False,
    )


def outputs(stack: DeployedStack) -> list[str]:
    return [
        *("--batch-state-machine-arn", str(stack.outputs["batch_state_machine_arn"])),
        *("--batch-results-prefix", str(stack.outputs["batch_results_prefix"])),
        *("--bucket", stack.bucket),
    ]


def originals(stack: DeployedStack, count: int) -> list[str]:
    """count test images to copy from, the suite's (20) over again when it asks for more."""
    listed = stack.client("s3").list_objects_v2(Bucket=stack.bucket, Prefix="test/", Delimiter="/")
    flat = sorted(item["Key"] for item in listed["Contents"])
    return [flat[index % len(flat)] for index in range(count)]


def copy_to(stack: DeployedStack, source: str, key: str) -> None:
    stack.client("s3").copy_object(
        Bucket=stack.bucket, Key=key, CopySource={"Bucket": stack.bucket, "Key": source}
    )


def items(stack: DeployedStack, prefix: str) -> dict[str, list[dict[str, Any]]]:
    """Every results item whose key is under the prefix, by key (a scan: the test's own table)."""
    found: dict[str, list[dict[str, Any]]] = {}
    pages = (
        stack.client("dynamodb")
        .get_paginator("scan")
        .paginate(TableName=str(stack.outputs["results_table_name"]), ConsistentRead=True)
    )
    for page in pages:
        for raw in page["Items"]:
            item = {name: next(iter(value.values())) for name, value in raw.items()}
            if item["s3_key"].startswith(prefix):
                found.setdefault(item["s3_key"], []).append(item)
    return found


def version_of(stack: DeployedStack, key: str) -> str:
    return str(stack.client("s3").head_object(Bucket=stack.bucket, Key=key)["VersionId"])


@pytest.fixture(scope="module", autouse=True)
def _clean_up(deployed_stack: DeployedStack) -> Iterator[None]:
    """The stack is the session's: what this module put under test/batch- goes when it ends,
    so that the tests that read test/ as the test split see only the split."""
    yield
    s3, bucket = deployed_stack.client("s3"), deployed_stack.bucket
    for page in s3.get_paginator("list_object_versions").paginate(
        Bucket=bucket, Prefix="test/batch-"
    ):
        doomed = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        if doomed:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed, "Quiet": True})


@pytest.fixture(scope="module")
def prefix(deployed_stack: DeployedStack) -> str:
    """test/batch-<id>/: GOOD images, a bad one, one already classified, and a text file."""
    stack, prefix = deployed_stack, f"test/batch-{uuid.uuid4().hex[:8]}/"
    sources = originals(stack, GOOD + 1)
    for index, source in enumerate(sources[:GOOD]):
        copy_to(stack, source, f"{prefix}{index:02d}.png")
    s3 = stack.client("s3")
    s3.put_object(Bucket=stack.bucket, Key=f"{prefix}not-an-image.png", Body=b"not a png")
    s3.put_object(Bucket=stack.bucket, Key=f"{prefix}notes.txt", Body=b"photos of the week")
    copy_to(stack, sources[GOOD], f"{prefix}done.png")
    done = execute(stack, f"{prefix}done.png", fresh=False)
    assert done.described["status"] == "SUCCEEDED", done.described
    return prefix


@pytest.fixture(scope="module")
def first_run(deployed_stack: DeployedStack, prefix: str) -> subprocess.CompletedProcess[str]:
    before = items(deployed_stack, prefix)
    assert list(before) == [f"{prefix}done.png"]
    return classify(deployed_stack, "--prefix", prefix)


def test_a_batch_classifies_each_image_once_and_writes_a_manifest(
    deployed_stack: DeployedStack, prefix: str, first_run: subprocess.CompletedProcess[str]
) -> None:
    stack = deployed_stack
    assert first_run.returncode == 0, first_run.stdout + first_run.stderr
    out = first_run.stdout
    assert "batch SUCCEEDED" in out
    assert "failed: 1" in out and f"{prefix}not-an-image.png: InvalidImage" in out
    assert "skipped (not_an_image): 1" in out
    assert "skipped (classified): 1" in out or "skipped (needs_review): 1" in out
    answered = sum(int(n) for n in _counts(out, ("classified", "needs_review")))
    assert answered == GOOD
    found = items(stack, prefix)
    assert sorted(found) == sorted(
        [f"{prefix}{i:02d}.png" for i in range(GOOD)]
        + [f"{prefix}not-an-image.png", f"{prefix}done.png"]
    ), "one item per image key, none for the text file"
    for key, versions in found.items():
        assert [v["version"] for v in versions] == [version_of(stack, key)], key
    assert found[f"{prefix}not-an-image.png"][0]["status"] == "failed"
    assert found[f"{prefix}not-an-image.png"][0]["error"] == "InvalidImage"
    # The children are the batch's: each answer names a child execution of its map run.
    batch_machine = str(stack.outputs["batch_state_machine_arn"]).split(":")[-1]
    assert f":execution:{batch_machine}/" in found[f"{prefix}00.png"][0]["execution_arn"]
    [manifest_line] = [line for line in out.splitlines() if line.startswith("manifest: ")]
    manifest_uri = manifest_line.removeprefix("manifest: ")
    bucket, key = manifest_uri.removeprefix("s3://").split("/", 1)
    assert key.startswith(str(stack.outputs["batch_results_prefix"]))
    manifest = json.loads(stack.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())
    listed = sum(
        len(json.loads(stack.client("s3").get_object(Bucket=bucket, Key=f["Key"])["Body"].read()))
        for files in manifest["ResultFiles"].values()
        for f in files
    )
    assert listed == GOOD + 3  # every key of the prefix is accounted for


def _counts(out: str, names: tuple[str, ...]) -> list[str]:
    [line] = [line for line in out.splitlines() if line.startswith("batch ")]
    parts = dict(p.split(": ") for p in line.split(": ", 1)[1].split(", "))
    return [parts.get(name, "0") for name in names]


def test_a_rerun_skips_what_is_done(
    deployed_stack: DeployedStack, prefix: str, first_run: subprocess.CompletedProcess[str]
) -> None:
    stack = deployed_stack
    assert first_run.returncode == 0
    before = items(stack, prefix)
    again = classify(stack, "--prefix", prefix)
    assert again.returncode == 0, again.stdout + again.stderr
    skipped = sum(
        int(n) for n in _counts(again.stdout, ("skipped (classified)", "skipped (needs_review)"))
    )
    assert skipped == GOOD + 1
    assert "failed: 1" in again.stdout  # the bad image has no answer yet: it is tried again
    after = items(stack, prefix)
    for key, versions in before.items():
        if versions[0]["status"] != "failed":
            assert after[key] == versions, f"{key} was classified again"


def test_past_the_tolerated_failures_the_run_fails(deployed_stack: DeployedStack) -> None:
    stack, prefix = deployed_stack, f"test/batch-bad-{uuid.uuid4().hex[:8]}/"
    copy_to(stack, originals(stack, 1)[0], f"{prefix}good.png")
    stack.client("s3").put_object(Bucket=stack.bucket, Key=f"{prefix}bad.png", Body=b"nope")
    done = classify(stack, "--prefix", prefix)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "batch FAILED" in done.stdout
    assert "States.ExceedToleratedFailureThreshold" in done.stdout
    assert "manifest: s3://" in done.stdout  # the results of a failed run are written too


def test_a_prefix_the_batch_may_not_list_is_refused(deployed_stack: DeployedStack) -> None:
    done = classify(deployed_stack, "--prefix", "models/")
    assert done.returncode == 1
    assert "InvalidBatchInput" in done.stdout


def test_ctrl_c_leaves_the_run_going_and_says_how_to_follow_it(
    deployed_stack: DeployedStack, tmp_path: Path
) -> None:
    stack, prefix = deployed_stack, f"test/batch-int-{uuid.uuid4().hex[:8]}/"
    for index, source in enumerate(originals(stack, 8)):
        copy_to(stack, source, f"{prefix}{index}.png")
    command = [sys.executable, "-m", "scripts.classify", "--env", "local", *outputs(stack)]
    process = subprocess.Popen(
        [*command, "--prefix", prefix],
        cwd=REPO_ROOT,
        env=stack.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    started = process.stdout.readline()  # "started <arn> over ..." once StartExecution answered
    assert started.startswith("started "), started
    execution_arn = started.split()[1]
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, out + err
    assert f"make classify ENV=local FOLLOW={execution_arn}" in err
    assert f"make classify ENV=local STOP={execution_arn}" in err
    assert f"make classify ENV=local REDRIVE={execution_arn}" in err
    followed = classify(stack, "--follow", execution_arn)
    assert followed.returncode == 0, followed.stdout + followed.stderr
    answered = sum(int(n) for n in _counts(followed.stdout, ("classified", "needs_review")))
    assert answered == 8


def test_a_stopped_run_is_redriven_and_finishes(deployed_stack: DeployedStack) -> None:
    stack, prefix = deployed_stack, f"test/batch-stop-{uuid.uuid4().hex[:8]}/"
    for index, source in enumerate(originals(stack, 16)):
        copy_to(stack, source, f"{prefix}{index:02d}.png")
    sfn = stack.client("stepfunctions")
    arn = sfn.start_execution(
        stateMachineArn=str(stack.outputs["batch_state_machine_arn"]),
        input=json.dumps({"prefix": prefix}),
    )["executionArn"]
    stopped = classify(stack, "--stop", arn)
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    deadline = time.monotonic() + 60
    while (status := sfn.describe_execution(executionArn=arn)["status"]) == "RUNNING":
        assert time.monotonic() < deadline, "the stopped batch goes on"
        time.sleep(0.2)
    assert status == "ABORTED"
    redriven = classify(stack, "--redrive", arn)
    assert redriven.returncode == 0, redriven.stdout + redriven.stderr
    assert "batch SUCCEEDED" in redriven.stdout
    assert sfn.describe_execution(executionArn=arn)["redriveCount"] == 1
    found = items(stack, prefix)
    assert len(found) == 16 and all(len(v) == 1 for v in found.values())
    assert all(v[0]["status"] in {"classified", "needs_review"} for v in found.values())
    again = classify(stack, "--redrive", arn)  # a finished run has nothing to redrive
    assert again.returncode == 2 and "cannot be redriven" in again.stderr, again.stderr


def test_unknown_executions_are_named_errors(deployed_stack: DeployedStack) -> None:
    machine = str(deployed_stack.outputs["batch_state_machine_arn"])
    unknown = machine.replace(":stateMachine:", ":execution:") + ":no-such-run"
    for flag in ("--follow", "--stop", "--redrive"):
        done = classify(deployed_stack, flag, unknown)
        assert done.returncode == 2, done.stdout + done.stderr
        assert f"no batch execution {unknown}" in done.stderr
        assert "Traceback" not in done.stderr
