"""The demo's ingest stage: photos land under the incoming prefix and the service does the rest.

Nothing here starts an execution. Each test image is copied (CopyObject) from test/ to the
incoming prefix, as a driver's upload would land; the bucket's EventBridge notification, the
ingest rule and the workflow classify it and write the results table. The demo then reads the
table until every copied object version has its item, or a deadline passes.

Two more objects show the service's edges: a file named .png that is not an image (it must end
as a `failed` item with InvalidImage, and nothing else may fail), and a copy under a key with a
space, a `+` and non-ASCII letters (its item must carry that exact key).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from scripts.demo.errors import DemoError

NOT_AN_IMAGE = "not-an-image.png"
NOT_AN_IMAGE_BODY = b"a text file that says it is a PNG\n"
AWKWARD_NAME = "driver photos/vélo ünï 1+1.png"
EXPECTED_FAILURE = "InvalidImage"
COPY_CONCURRENCY = 8
POLL_SECONDS = 0.5
BATCH_GET_LIMIT = 100  # BatchGetItem reads at most 100 keys per call (DynamoDB API reference)


@dataclass(frozen=True)
class Landed:
    """One object the demo put under the incoming prefix."""

    key: str
    version: str
    sent_at: datetime  # just before the CopyObject/PutObject call, by this machine's clock
    expect_failure: bool = False


@dataclass(frozen=True)
class ServiceRun:
    """What the ingest stage saw: every landed object with its item."""

    landed: list[Landed]
    items: dict[tuple[str, str], dict[str, Any]]
    seconds: float
    review_messages: int

    def statuses(self) -> Counter[str]:
        return Counter(str(item["status"]) for item in self.items.values())

    def unexpected_failures(self) -> list[str]:
        """Keys that failed when they should not have, or did not fail when they should."""
        wrong = []
        for landed in self.landed:
            item = self.items[(landed.key, landed.version)]
            failed = item["status"] == "failed"
            as_expected = (
                failed and item.get("error") == EXPECTED_FAILURE
                if landed.expect_failure
                else not failed
            )
            if not as_expected:
                wrong.append(f"{landed.key}: {item['status']} {item.get('error', '')}".rstrip())
        return wrong

    def latencies(self) -> list[float]:
        """Seconds from sending each object to its item's finished_at."""
        return [
            (parse_time(str(item["finished_at"])) - landed.sent_at).total_seconds()
            for landed in self.landed
            if "finished_at" in (item := self.items[(landed.key, landed.version)])
        ]


def parse_time(text: str) -> datetime:
    """finished_at as the workflow writes it ($$.State.EnteredTime: ISO 8601, Z)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile: an observed value, not an interpolation."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * fraction // 1))  # ceil(n * fraction), at least 1
    return ordered[int(rank) - 1]


def land(
    s3: Any, bucket: str, source_keys: Sequence[str], source_prefix: str, incoming_prefix: str
) -> list[Landed]:
    """Copy each source image under the incoming prefix, plus the two edge cases."""
    if not source_keys:
        raise DemoError(f"no images under s3://{bucket}/{source_prefix} to send to the service")

    def copy(source: str, target: str) -> Landed:
        sent = datetime.now(UTC)
        answer = s3.copy_object(
            Bucket=bucket, Key=target, CopySource={"Bucket": bucket, "Key": source}
        )
        return Landed(target, version_of(answer, target), sent)

    jobs: list[tuple[str, str]] = [
        (source, incoming_prefix + source.removeprefix(source_prefix)) for source in source_keys
    ]
    jobs.append((source_keys[0], incoming_prefix + AWKWARD_NAME))
    with ThreadPoolExecutor(COPY_CONCURRENCY) as pool:
        landed = list(pool.map(lambda job: copy(*job), jobs))
    sent = datetime.now(UTC)
    answer = s3.put_object(
        Bucket=bucket,
        Key=incoming_prefix + NOT_AN_IMAGE,
        Body=NOT_AN_IMAGE_BODY,
        ContentType="image/png",
    )
    key = incoming_prefix + NOT_AN_IMAGE
    landed.append(Landed(key, version_of(answer, key), sent, expect_failure=True))
    return landed


def version_of(answer: Mapping[str, Any], key: str) -> str:
    version = answer.get("VersionId")
    if not version or version == "null":
        raise DemoError(
            f"S3 gave {key!r} no version id: the bucket is not versioned, so the service "
            "could not tell its versions apart"
        )
    return str(version)


def wait_for_items(
    dynamodb: Any,
    table: str,
    landed: Iterable[Landed],
    timeout: float,
    progress: Callable[[int, int], None] | None = None,
) -> dict[tuple[str, str], dict[str, Any]]:
    """Each landed object version's item, read by key until all are there or timeout passes."""
    from boto3.dynamodb.types import TypeDeserializer

    deserialize = TypeDeserializer().deserialize
    missing = {(one.key, one.version) for one in landed}
    total = len(missing)
    found: dict[tuple[str, str], dict[str, Any]] = {}
    deadline = time.monotonic() + timeout
    while missing:
        for chunk in _chunks(sorted(missing), BATCH_GET_LIMIT):
            request: dict[str, Any] = {
                table: {"Keys": [{"s3_key": {"S": k}, "version": {"S": v}} for k, v in chunk]}
            }
            while request:
                answer = dynamodb.batch_get_item(RequestItems=request)
                for raw in answer.get("Responses", {}).get(table, []):
                    item = {name: deserialize(value) for name, value in raw.items()}
                    found[(item["s3_key"], item["version"])] = item
                request = answer.get("UnprocessedKeys") or {}
        missing -= found.keys()
        if progress is not None:
            progress(len(found), total)
        if not missing:
            break
        if time.monotonic() > deadline:
            examples = ", ".join(repr(key) for key, _ in sorted(missing)[:3])
            raise DemoError(
                f"{len(missing)} of {total} objects have no item in {table} after {timeout:.0f} s "
                f"(for example {examples}): look for failed executions of the workflow and "
                "for messages in the ingest dead-letter queue (output ingest_dlq_url)"
            )
        time.sleep(POLL_SECONDS)
    return found


def _chunks(values: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def review_queue_depth(sqs: Any, queue_url: str) -> int:
    """Messages waiting in the review queue (visible and in flight)."""
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def summary_lines(run: ServiceRun) -> list[str]:
    """The service's part of the demo summary."""
    statuses = run.statuses()
    lines = [
        f"service         {len(run.landed)} objects under the incoming prefix: "
        + ", ".join(f"{statuses[s]} {s}" for s in ("classified", "needs_review", "failed")),
        f"  review queue  {run.review_messages} messages "
        f"(one per needs_review item: {statuses['needs_review']})",
    ]
    latencies = run.latencies()
    if latencies:
        lines.append(
            f"  latency       upload to item: p50 {percentile(latencies, 0.5):.2f} s, "
            f"p95 {percentile(latencies, 0.95):.2f} s, max {max(latencies):.2f} s "
            f"(all {len(latencies)} in {run.seconds:.1f} s)"
        )
    wrong = run.unexpected_failures()
    lines.append(
        "  failures      "
        + ("; ".join(wrong) if wrong else f"only {NOT_AN_IMAGE}, as {EXPECTED_FAILURE}")
    )
    return lines
