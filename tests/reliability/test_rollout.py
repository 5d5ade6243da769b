"""Guarded rollout on the deployed local root: a broken model rolls back under a batch, a good one
rolls out under a batch, and no image of either batch fails because of the rollout (issue 14).

Each roll is what `make promote` + `make plan apply` do: a new model package in the group, a plan
with it, the apply, then the readback of scripts/endpoint_check.py (DeployedStack.apply). The
canary (50 %) and its baking period (ROLLOUT_WAIT seconds) are the root's variables, kept small
here (the default is 600 s). The timeline of each roll (canary start, alarm, rollback or
completion, the batch's start and end, in seconds from the canary's start) comes from the
endpoint's log stream, where the local cloud writes each step, and from the batch execution; it
goes to rollout_timeline.jsonl in the reliability folder and to the test's output.
"""

from __future__ import annotations

import io
import json
import tarfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from scripts import batch
from scripts.stack import DeployedStack, StackError
from tests.support.reliability_kit import append_jsonl

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.terraform]

# Long enough for the batch, started when the endpoint starts updating, to reach the canary on
# a loaded machine (its first items wait for Distributed Map listing and Lambda workers); the
# broken model's canary is rolled back at its first 5xx, long before the wait is over.
ROLLOUT_WAIT = 45
CANARY = '{type="CAPACITY_PERCENT",value=50}'
BATCH_IMAGES = 40
DEADLINE = 900.0
# Every prefix this module writes starts so; other tests list test/ with Delimiter="/".
PREFIX_ROOT = "test/rollout-"


@dataclass
class Roll:
    """One apply of a new package, with the batch that ran under it."""

    package: str
    error: StackError | None = None
    batch_report: batch.BatchReport | None = None
    timeline: dict[str, float] = field(default_factory=dict)
    log: str = ""  # the deployment's lines of the endpoint's log, for failure messages


@pytest.fixture(scope="module", autouse=True)
def _restore(deployed_stack: DeployedStack) -> Iterator[None]:
    """At the end the stack serves its own model again, and test/rollout-*/ is gone."""
    yield
    stack = deployed_stack
    try:
        stack.apply()  # model.auto.tfvars.json still names the original package
    finally:
        s3 = stack.client("s3")
        for page in s3.get_paginator("list_object_versions").paginate(
            Bucket=stack.bucket, Prefix=PREFIX_ROOT
        ):
            doomed = [
                {"Key": v["Key"], "VersionId": v["VersionId"]}
                for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
            ]
            if doomed:
                s3.delete_objects(Bucket=stack.bucket, Delete={"Objects": doomed, "Quiet": True})
    described = stack.client("sagemaker").describe_endpoint(EndpointName=stack.endpoint_name)
    assert described["EndpointConfigName"] == stack.outputs["endpoint_configuration_name"]


def artifact(stack: DeployedStack, *, broken: bool) -> str:
    """A copy of the stack's model.tar.gz under models/rollout-<id>/; broken: its model.json asks
    predict to resize every image to 0x0, so predict raises (ValueError) on every request."""
    s3 = stack.client("s3")
    bucket, key = stack.model_data_url.removeprefix("s3://").split("/", 1)
    original = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    data = original
    if broken:
        out = io.BytesIO()
        with (
            tarfile.open(fileobj=io.BytesIO(original), mode="r:gz") as source,
            tarfile.open(fileobj=out, mode="w:gz") as target,
        ):
            for member in source.getmembers():
                extracted = source.extractfile(member) if member.isfile() else None
                content = extracted.read() if extracted is not None else b""
                if member.name.endswith("model.json"):
                    meta = json.loads(content)
                    meta["image_shape"] = [3, 0, 0]
                    content = json.dumps(meta).encode()
                    member.size = len(content)
                target.addfile(member, io.BytesIO(content) if member.isfile() else None)
        data = out.getvalue()
    new_key = f"models/rollout-{'broken' if broken else 'good'}-{uuid.uuid4().hex[:8]}/model.tar.gz"
    s3.put_object(Bucket=bucket, Key=new_key, Body=data)
    return f"s3://{bucket}/{new_key}"


def register(stack: DeployedStack, url: str) -> str:
    """An Approved version of the stack's model package group serving `url`."""
    sagemaker = stack.client("sagemaker")
    current = sagemaker.describe_model_package(ModelPackageName=stack.model_package_arn)
    container = current["InferenceSpecification"]["Containers"][0]
    arn: str = sagemaker.create_model_package(
        ModelPackageGroupName=str(stack.outputs["model_package_group_name"]),
        ModelPackageDescription="rollout test",
        InferenceSpecification={
            "Containers": [{"Image": container["Image"], "ModelDataUrl": url}],
            "SupportedContentTypes": current["InferenceSpecification"]["SupportedContentTypes"],
            "SupportedResponseMIMETypes": ["application/json"],
        },
        ModelApprovalStatus="Approved",
    )["ModelPackageArn"]
    return arn


def batch_prefix(stack: DeployedStack, name: str, count: int = BATCH_IMAGES) -> str:
    """test/rollout-<name>-<id>/ holding `count` copies of the test split's images."""
    s3, prefix = stack.client("s3"), f"{PREFIX_ROOT}{name}-{uuid.uuid4().hex[:8]}/"
    listed = s3.list_objects_v2(Bucket=stack.bucket, Prefix="test/", Delimiter="/")
    images = sorted(item["Key"] for item in listed["Contents"] if item["Key"].endswith(".png"))
    for index in range(count):
        s3.copy_object(
            Bucket=stack.bucket,
            Key=f"{prefix}{index:02d}.png",
            CopySource={"Bucket": stack.bucket, "Key": images[index % len(images)]},
        )
    return prefix


def endpoint_log(stack: DeployedStack, since_ms: int) -> list[tuple[float, str]]:
    """(seconds since the epoch, message) of the endpoint's log since since_ms, oldest first."""
    logs = stack.client("logs")
    events: list[tuple[float, str]] = []
    for page in logs.get_paginator("filter_log_events").paginate(
        logGroupName=f"/aws/sagemaker/Endpoints/{stack.endpoint_name}", startTime=since_ms
    ):
        events += [(e["timestamp"] / 1000, e["message"]) for e in page["events"]]
    return sorted(events)


def timeline(events: list[tuple[float, str]], extra: dict[str, float]) -> dict[str, float]:
    """Seconds from the canary's start to each deployment event the local cloud logged, and to
    the `extra` moments (seconds since the epoch)."""
    marks = {
        "canary_start": "step 1/2",
        "full_shift": "final baking period",
        "alarm_fired": "is in ALARM",
        "rollback_finished": "rollback to",
        "deployment_complete": "complete",
    }
    found: dict[str, float] = {}
    for when, message in events:
        if "localcloud: deployment:" not in message:
            continue
        for name, needle in marks.items():
            if needle in message and name not in found:
                if name == "deployment_complete" and "rollback" in message:
                    continue
                found[name] = when
    start = found.get("canary_start")
    assert start is not None, events
    found.update(extra)
    return {name: round(when - start, 2) for name, when in found.items()}


def run_batch(stack: DeployedStack, prefix: str) -> tuple[dict[str, Any], batch.BatchReport]:
    """One run of the batch machine over the prefix, followed to its end: (described, report)."""
    sfn = stack.client("stepfunctions")
    target = batch.BatchTarget(str(stack.outputs["batch_state_machine_arn"]), stack.bucket)
    described = batch.follow(sfn, batch.start(sfn, target, prefix))
    report = batch.report(
        stack.client("s3"), target, str(stack.outputs["batch_results_prefix"]), described
    )
    return described, report


@pytest.fixture(scope="module", autouse=True)
def _warm(deployed_stack: DeployedStack, _restore: None) -> None:
    """A small batch first, so the functions' workers are up when a roll's batch starts."""
    _, report = run_batch(deployed_stack, batch_prefix(deployed_stack, "warm", count=4))
    assert report.status == "SUCCEEDED" and report.outcomes["failed"] == 0, report.lines()


def roll_under_batch(stack: DeployedStack, package: str, url: str, name: str) -> Roll:
    """Apply the package in a thread; start a batch as soon as the endpoint is Updating."""
    roll, since_ms = Roll(package), int(time.time() * 1000)
    prefix = batch_prefix(stack, name)

    def apply() -> None:
        try:
            stack.apply(
                model_package_arn=package,
                model_data_url=url,
                endpoint_rollout_wait_seconds=ROLLOUT_WAIT,
                endpoint_rollout_canary_size=CANARY,
            )
        except StackError as error:
            roll.error = error

    applying = threading.Thread(target=apply, name=f"apply-{name}")
    applying.start()
    sagemaker = stack.client("sagemaker")
    deadline = time.monotonic() + DEADLINE
    while sagemaker.describe_endpoint(EndpointName=stack.endpoint_name)["EndpointStatus"] != (
        "Updating"
    ):
        assert applying.is_alive(), f"the apply ended before the endpoint updated: {roll.error}"
        assert time.monotonic() < deadline, "the endpoint never started updating"
        time.sleep(0.2)
    described, roll.batch_report = run_batch(stack, prefix)
    applying.join(DEADLINE)
    assert not applying.is_alive(), "the apply did not end"
    events = endpoint_log(stack, since_ms)
    batch_run = {
        "batch_start": described["startDate"].timestamp(),
        "batch_end": described["stopDate"].timestamp(),
    }
    roll.timeline = timeline(events, batch_run)
    deployment = [f"{when:.2f} {message}" for when, message in events if "deployment" in message]
    roll.log = "\n".join(deployment)
    return roll


def answer(stack: DeployedStack, key: str) -> list[float]:
    image = stack.client("s3").get_object(Bucket=stack.bucket, Key=key)["Body"].read()
    body = stack.client("sagemaker-runtime").invoke_endpoint(
        EndpointName=stack.endpoint_name, ContentType="image/png", Body=image
    )["Body"]
    probabilities: list[float] = json.loads(body.read())
    return probabilities


def record(reliability_dir: Path, case: str, roll: Roll) -> None:
    entry = {"case": case, "timeline_seconds": roll.timeline}
    append_jsonl(reliability_dir / "rollout_timeline.jsonl", entry)
    print(f"\nrollout timeline ({case}): {json.dumps(roll.timeline)}")


def test_a_broken_model_rolls_back_under_a_batch_that_loses_no_image(
    deployed_stack: DeployedStack, reliability_dir: Path
) -> None:
    stack = deployed_stack
    sagemaker = stack.client("sagemaker")
    serving = sagemaker.describe_endpoint(EndpointName=stack.endpoint_name)["EndpointConfigName"]
    probe = "test/bicycle_s_000513.png"
    before = answer(stack, probe)

    url = artifact(stack, broken=True)
    roll = roll_under_batch(stack, register(stack, url), url, "broken")
    record(reliability_dir, "broken model", roll)

    # The apply fails, saying why (the readback's FailureReason names the alarm).
    assert roll.error is not None, (
        f"a rolled-back deployment must fail the apply\n{roll.log}\n{roll.batch_report}"
    )
    message = str(roll.error)
    assert "rolled back" in message and "5xx-errors" in message, message
    assert "endpoint_check exited 1" in message, message
    # The endpoint serves the old model, on its old configuration, which still exists.
    described = sagemaker.describe_endpoint(EndpointName=stack.endpoint_name)
    assert described["EndpointStatus"] == "InService"
    assert described["EndpointConfigName"] == serving
    assert "5xx-errors" in described["FailureReason"]
    sagemaker.describe_endpoint_config(EndpointConfigName=serving)
    assert answer(stack, probe) == pytest.approx(before)
    # The canary did serve (and fail) while the batch ran, and the alarm saw it.
    assert {"canary_start", "alarm_fired", "rollback_finished"} <= set(roll.timeline), roll.log
    assert roll.timeline["batch_start"] < roll.timeline["alarm_fired"], roll.timeline
    assert "deployment_complete" not in roll.timeline
    # The batch finished with no image lost to the rollout: its retries reached the old model.
    report = roll.batch_report
    assert report is not None and report.status == "SUCCEEDED", report
    assert report.outcomes["failed"] == 0, report.lines()
    assert sum(report.outcomes.values()) == BATCH_IMAGES, report.lines()


def test_a_good_model_rolls_out_under_a_batch_with_no_failure(
    deployed_stack: DeployedStack, reliability_dir: Path
) -> None:
    stack = deployed_stack
    url = artifact(stack, broken=False)
    roll = roll_under_batch(stack, register(stack, url), url, "good")
    record(reliability_dir, "good model", roll)

    assert roll.error is None, f"{roll.error}\n{roll.log}"
    described = stack.client("sagemaker").describe_endpoint(EndpointName=stack.endpoint_name)
    assert described["EndpointStatus"] == "InService"
    assert described["EndpointConfigName"] == stack.outputs["endpoint_configuration_name"]
    assert "FailureReason" not in described
    assert {"canary_start", "full_shift", "deployment_complete"} <= set(roll.timeline), roll.log
    assert "alarm_fired" not in roll.timeline, roll.log
    # The batch ran while the new model took traffic (the canary or the whole fleet).
    assert roll.timeline["batch_start"] < roll.timeline["deployment_complete"], roll.timeline
    report = roll.batch_report
    assert report is not None and report.status == "SUCCEEDED", report
    assert report.outcomes["failed"] == 0, report.lines()
    assert sum(report.outcomes.values()) == BATCH_IMAGES, report.lines()
