"""Batch benchmark: the Distributed Map batch machine against one execution per image, and a
prefix of 10,000 generated PNGs through the batch with every key accounted for."""

from __future__ import annotations

import io
import json
import random
import statistics
import tempfile
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

from scripts import batch as batch_client
from scripts import classify
from scripts.bench.results import Measure, compared
from scripts.bench.stack import BenchError

POLL_S = 0.2  # the wall time is the batch's; a 0.2 s poll adds at most that to it
RUN_DEADLINE_S = 3600.0
LARGE_PREFIX_IMAGES = 10_000
QUICK_LARGE_PREFIX_IMAGES = 1_000
PER_IMAGE_CONCURRENCY = 8  # what `make classify PREFIX= --per-image` runs by default
UPLOAD_THREADS = 8


class AccountingError(BenchError):
    """A key of the prefix is missing from, or doubled in, the results table or the manifest."""


def test_images(stack: Any) -> list[str]:
    """The test split's own images (not the copies under test/<sub>/ that tests or runs add)."""
    listed = stack.client("s3").list_objects_v2(Bucket=stack.bucket, Prefix="test/", Delimiter="/")
    return sorted(item["Key"] for item in listed.get("Contents", []))


def copy_images(stack: Any, sources: list[str], prefix: str) -> list[str]:
    """Fresh objects under `prefix` (new versions with no answer yet); their keys."""
    s3 = stack.client("s3")
    keys = [f"{prefix}{index:05d}.png" for index in range(len(sources))]

    def copy(pair: tuple[str, str]) -> None:
        source, key = pair
        s3.copy_object(
            Bucket=stack.bucket, Key=key, CopySource={"Bucket": stack.bucket, "Key": source}
        )

    with ThreadPoolExecutor(UPLOAD_THREADS) as pool:
        list(pool.map(copy, zip(sources, keys, strict=True)))
    return keys


def small_png(seed: int, size: int = 32) -> bytes:
    """A size x size RGB PNG of noise, different for each seed (as CIFAR's images are 32x32)."""
    from PIL import Image

    noise = random.Random(seed).randbytes(size * size * 3)
    buffer = io.BytesIO()
    Image.frombytes("RGB", (size, size), noise).save(buffer, format="PNG")
    return buffer.getvalue()


def upload_generated(stack: Any, prefix: str, count: int) -> list[str]:
    s3 = stack.client("s3")
    keys = [f"{prefix}{index:05d}.png" for index in range(count)]

    def put(index: int) -> None:
        s3.put_object(Bucket=stack.bucket, Key=keys[index], Body=small_png(index))

    with ThreadPoolExecutor(UPLOAD_THREADS) as pool:
        list(pool.map(put, range(count)))
    return keys


def target_of(stack: Any) -> batch_client.BatchTarget:
    return batch_client.BatchTarget(str(stack.outputs["batch_state_machine_arn"]), stack.bucket)


def run_batch(stack: Any, prefix: str) -> tuple[float, dict[str, Any]]:
    """(wall seconds from StartExecution to its end, the final DescribeExecution) of one batch."""
    sfn = stack.client("stepfunctions")
    began = time.perf_counter()
    arn = batch_client.start(sfn, target_of(stack), prefix)
    deadline = time.monotonic() + RUN_DEADLINE_S
    while (described := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        if time.monotonic() > deadline:
            raise BenchError(f"the batch over {prefix} is still running after {RUN_DEADLINE_S} s")
        time.sleep(POLL_S)
    wall = time.perf_counter() - began
    described = dict(described)
    described["mapRunArn"] = batch_client.map_run_of(sfn, arn)
    return wall, described


def manifest_children(stack: Any, described: dict[str, Any]) -> list[dict[str, Any]]:
    """Every child the run's ResultWriter listed (SUCCEEDED, FAILED and PENDING files)."""
    s3 = stack.client("s3")
    key = batch_client.manifest_key(
        str(stack.outputs["batch_results_prefix"]), described["mapRunArn"]
    )
    manifest = batch_client.read_json(s3, stack.bucket, key)
    children: list[dict[str, Any]] = []
    for status in batch_client.RESULT_FILES:
        for result_file in manifest.get("ResultFiles", {}).get(status, []):
            children.extend(batch_client.read_json(s3, stack.bucket, result_file["Key"]))
    return children


def table_items(stack: Any, prefix: str) -> dict[str, list[dict[str, Any]]]:
    """The results table's items under the prefix, by key (a scan: the bench's own table)."""
    found: dict[str, list[dict[str, Any]]] = {}
    pages = (
        stack.client("dynamodb")
        .get_paginator("scan")
        .paginate(TableName=str(stack.outputs["results_table_name"]), ConsistentRead=True)
    )
    for page in pages:
        for raw in page["Items"]:
            item = {name: next(iter(value.values())) for name, value in raw.items()}
            if str(item.get("s3_key", "")).startswith(prefix):
                found.setdefault(str(item["s3_key"]), []).append(item)
    return found


def account(stack: Any, keys: list[str], prefix: str, described: dict[str, Any]) -> Counter[str]:
    """Check each key has exactly one child in the manifest and one item in the table; the
    children's outcomes counted. AccountingError names what is missing or doubled."""
    children = manifest_children(stack, described)
    in_manifest = Counter(str(json.loads(child["Input"]).get("s3_key")) for child in children)
    items = table_items(stack, prefix)
    expected = set(keys)
    problems = []
    for where, seen in (
        ("manifest", in_manifest),
        ("table", Counter({k: len(v) for k, v in items.items()})),
    ):
        missing = expected - set(seen)
        doubled = sorted(key for key, n in seen.items() if n > 1)
        strays = sorted(set(seen) - expected)
        if missing or doubled or strays:
            problems.append(
                f"{where}: {len(missing)} missing (e.g. {sorted(missing)[:3]}), "
                f"{len(doubled)} doubled (e.g. {doubled[:3]}), {len(strays)} not of the prefix"
            )
    if problems:
        raise AccountingError(f"{len(keys)} keys under {prefix}: " + "; ".join(problems))
    outcomes: Counter[str] = Counter()
    for child in children:
        if child["Status"] != "SUCCEEDED":
            outcomes["failed"] += 1
        else:
            outcomes[str(json.loads(child.get("Output") or "{}").get("status", "classified"))] += 1
    outcomes["table_items"] = sum(len(v) for v in items.values())
    return outcomes


def child_seconds(children: list[dict[str, Any]]) -> float:
    """The median child execution's duration (what Express bills), from the manifest's dates."""

    def when(text: str) -> datetime:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))

    return statistics.median(
        (when(c["StopDate"]) - when(c["StartDate"])).total_seconds()
        for c in children
        if c.get("Status") == "SUCCEEDED"
    )


def transitions(sfn: Any, execution_arn: str) -> int:
    """States entered by an execution: what Standard bills as state transitions."""
    entered = 0
    for page in sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn):
        entered += sum(event["type"].endswith("StateEntered") for event in page["events"])
    return entered


def per_image_path(stack: Any, prefix: str) -> tuple[float, Counter[str], str]:
    """(wall seconds, statuses, one execution's ARN) of today's client path over the prefix:
    `make classify PREFIX= --per-image`, one Standard execution per key, 8 at a time."""
    sfn, s3 = stack.client("stepfunctions"), stack.client("s3")
    from botocore.config import Config

    sfn = stack.client(
        "stepfunctions", config=Config(max_pool_connections=PER_IMAGE_CONCURRENCY + 4)
    )
    target = classify.Target(stack.state_machine_arn, stack.bucket)
    with tempfile.TemporaryDirectory(prefix="bench-per-image-") as tmp:
        results = classify.ResultsFile(Path(tmp) / "results.jsonl")
        began = time.perf_counter()
        counts = classify.run_batch(sfn, s3, target, prefix, results, PER_IMAGE_CONCURRENCY, 300.0)
        wall = time.perf_counter() - began
        arn = next(iter(results.latest().values()))["execution_arn"]
    return wall, counts, str(arn)


def peak_rss_mb(pid: int) -> tuple[float, float]:
    """(VmHWM, VmRSS) of a process in MB: its peak resident set so far and its resident set."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmHWM", "VmRSS"):
            fields[name] = int(value.split()[0]) / 1024  # kB
    return round(fields["VmHWM"], 1), round(fields["VmRSS"], 1)


def throughput(stack: Any) -> list[Measure]:
    """The 200 test images through the batch machine and through the per-image client path."""
    sources = test_images(stack)
    run_id = uuid.uuid4().hex[:8]
    batch_prefix, client_prefix = f"test/bench-batch-{run_id}/", f"test/bench-client-{run_id}/"
    batch_keys = copy_images(stack, sources, batch_prefix)
    copy_images(stack, sources, client_prefix)

    wall, described = run_batch(stack, batch_prefix)
    if described["status"] != "SUCCEEDED":
        raise BenchError(f"the batch over {batch_prefix} ended {described['status']}: {described}")
    outcomes = account(stack, batch_keys, batch_prefix, described)
    children = manifest_children(stack, described)
    client_wall, statuses, one_execution = per_image_path(stack, client_prefix)
    if set(statuses) != {"SUCCEEDED"}:
        raise BenchError(f"the per-image path over {client_prefix} ended {dict(statuses)}")
    n = len(batch_keys)
    batch_rate, client_rate = n / wall, n / client_wall
    sfn = stack.client("stepfunctions")
    return [
        compared(
            "batch.test_images.images_per_s",
            round(batch_rate, 2),
            round(client_rate, 2),
            "images/s",
            note=f"{n} images; baseline: the per-image client path (one Standard execution per "
            f"image, {PER_IMAGE_CONCURRENCY} at a time) over a copy of the same images; target 25",
        ),
        Measure("batch.test_images.wall", round(wall, 1), "s", note=_counted(outcomes)),
        Measure(
            "batch.test_images.per_image_path.images_per_s",
            round(client_rate, 2),
            "images/s",
            note=f"{n} images in {client_wall:.1f} s",
        ),
        Measure(
            "batch.child_execution.p50",
            round(child_seconds(children) * 1000, 1),
            "ms",
            note="a child's StartDate to StopDate in the manifest: Express bills this duration",
        ),
        Measure(
            "batch.per_image_execution.transitions",
            transitions(sfn, one_execution),
            "states",
            note="states entered by one per-image Standard execution (GetExecutionHistory)",
        ),
        Measure(
            "batch.parent_execution.transitions",
            transitions(sfn, described["executionArn"]),
            "states",
            note="states entered by the batch's own Standard execution",
        ),
    ]


def large_prefix(stack: Any, count: int) -> list[Measure]:
    """count generated PNGs through one batch: every key in the manifest and the table once."""
    prefix = f"test/bench-large-{uuid.uuid4().hex[:8]}/"
    began = time.perf_counter()
    keys = upload_generated(stack, prefix, count)
    upload = time.perf_counter() - began
    pid = int(stack.cloud.pid)
    peak_before, rss_before = peak_rss_mb(pid)
    wall, described = run_batch(stack, prefix)
    peak_after, rss_after = peak_rss_mb(pid)
    outcomes = account(stack, keys, prefix, described)
    if described["status"] != "SUCCEEDED":
        raise BenchError(
            f"the batch over {prefix} ended {described['status']}: {_counted(outcomes)}"
        )
    name = f"batch.generated_{count}"
    return [
        Measure(
            f"{name}.wall", round(wall, 1), "s", note=f"{count} 32x32 PNGs; {_counted(outcomes)}"
        ),
        Measure(f"{name}.images_per_s", round(count / wall, 2), "images/s"),
        Measure(f"{name}.upload", round(upload, 1), "s", note=f"{UPLOAD_THREADS} threads"),
        Measure(f"{name}.manifest_children", count, "keys", note="every key once (checked)"),
        Measure(
            f"{name}.table_items", outcomes["table_items"], "items", note="every key once (checked)"
        ),
        *(
            Measure(f"{name}.outcome.{status}", n, "images")
            for status, n in sorted(outcomes.items())
            if status != "table_items"
        ),
        Measure(f"{name}.server_peak_rss_before", peak_before, "MB", note=f"VmRSS {rss_before} MB"),
        Measure(f"{name}.server_peak_rss_after", peak_after, "MB", note=f"VmRSS {rss_after} MB"),
    ]


def _counted(outcomes: Counter[str]) -> str:
    return ", ".join(f"{status}: {n}" for status, n in sorted(outcomes.items()))


def run(quick: bool, deployment: Any) -> list[Measure]:
    stack = deployment.stack()
    measures = throughput(stack)
    measures += large_prefix(stack, QUICK_LARGE_PREFIX_IMAGES if quick else LARGE_PREFIX_IMAGES)
    return measures
