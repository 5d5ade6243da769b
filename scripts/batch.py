"""`make classify PREFIX=`: one run of the batch state machine over a prefix, followed to its end.

The batch machine (infra/modules/workflow, `<project>-<env>-classify-batch`) is a Distributed Map
that lists the prefix in the cloud and runs every image that has no answer yet through the
per-image states in Express children. This module only starts it, shows DescribeMapRun's counts
as a progress bar, and reads the run's manifest at the end: nothing here depends on this machine
staying online, and Ctrl-C leaves the run going.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

TERMINAL = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})
POLL_SECONDS = 1.0
# Terminal outcomes a manifest's result files can hold; AWS names them so
# (https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html).
RESULT_FILES = ("SUCCEEDED", "FAILED", "PENDING")
SHOWN_FAILURES = 10
EXCEEDED = "States.ExceedToleratedFailureThreshold"


class BatchError(RuntimeError):
    """The batch could not be started or read; the message says what to do."""


@dataclass(frozen=True)
class BatchTarget:
    state_machine_arn: str
    bucket: str


@dataclass
class BatchReport:
    """What one run did: the execution's end and its items counted by outcome."""

    execution_arn: str
    status: str
    error: str | None = None
    cause: str | None = None
    map_run_arn: str | None = None
    manifest: str | None = None  # s3:// URI
    outcomes: Counter[str] = field(default_factory=Counter)
    failures: list[tuple[str, str, str]] = field(default_factory=list)  # key, error, cause

    @property
    def succeeded(self) -> bool:
        return self.status == "SUCCEEDED"

    def lines(self) -> list[str]:
        done = ", ".join(f"{name}: {n}" for name, n in sorted(self.outcomes.items())) or "no items"
        lines = [f"batch {self.status}: {done}"]
        for key, error, cause in self.failures[:SHOWN_FAILURES]:
            lines.append(f"  failed {key}: {error}: {_short(cause)}")
        if len(self.failures) > SHOWN_FAILURES:
            lines.append(f"  ... and {len(self.failures) - SHOWN_FAILURES} more in the manifest")
        if self.error:
            lines.append(f"the run failed: {self.error}: {_short(self.cause or '')}")
        if self.manifest:
            lines.append(f"manifest: {self.manifest}")
        return lines


def _short(cause: str) -> str:
    try:
        parsed = json.loads(cause)
    except (TypeError, ValueError):
        return cause[:300]
    if isinstance(parsed, dict):  # a Lambda error's payload
        return str(parsed.get("errorMessage", cause))[:300]
    return cause[:300]


def run_name(prefix: str, now: datetime | None = None) -> str:
    """Readable and unique per start, within Step Functions' 80 characters of [A-Za-z0-9_-]."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S%fZ")
    readable = re.sub(r"[^A-Za-z0-9_-]+", "-", prefix).strip("-")[:50] or "all"
    return f"{readable}-{stamp}"


def start(sfn: Any, target: BatchTarget, prefix: str) -> str:
    if not prefix or prefix.startswith("/"):
        raise BatchError(f"PREFIX must be a key prefix such as test/, not {prefix!r}")
    try:
        answer = sfn.start_execution(
            stateMachineArn=target.state_machine_arn,
            name=run_name(prefix),
            input=json.dumps({"prefix": prefix}),
        )
    except sfn.exceptions.StateMachineDoesNotExist:
        raise BatchError(
            f"no batch state machine {target.state_machine_arn}: deploy the stack "
            "(`make plan apply`) or pass the right --batch-state-machine-arn."
        ) from None
    arn: str = answer["executionArn"]
    return arn


def map_run_of(sfn: Any, execution_arn: str) -> str | None:
    runs = sfn.list_map_runs(executionArn=execution_arn).get("mapRuns", [])
    return str(runs[0]["mapRunArn"]) if runs else None


def item_counts(sfn: Any, map_run_arn: str) -> dict[str, int]:
    counts: dict[str, int] = sfn.describe_map_run(mapRunArn=map_run_arn)["itemCounts"]
    return counts


def follow(sfn: Any, execution_arn: str, progress: Any | None = None) -> dict[str, Any]:
    """DescribeExecution until the run ends, moving `progress` (a tqdm bar) by the map run's
    finished items. KeyboardInterrupt goes to the caller, with the run still going."""
    map_run: str | None = None
    while True:
        described: dict[str, Any] = sfn.describe_execution(executionArn=execution_arn)
        map_run = map_run or map_run_of(sfn, execution_arn)
        if map_run and progress is not None:
            counts = item_counts(sfn, map_run)
            finished = sum(counts.get(k, 0) for k in ("succeeded", "failed", "timedOut", "aborted"))
            progress.total = counts.get("total", 0)
            progress.n = finished
            progress.set_postfix(
                succeeded=counts.get("succeeded", 0),
                failed=counts.get("failed", 0) + counts.get("timedOut", 0),
                pending=counts.get("pending", 0) + counts.get("running", 0),
                refresh=False,
            )
            progress.refresh()
        if described["status"] in TERMINAL:
            described["mapRunArn"] = map_run
            return described
        time.sleep(POLL_SECONDS)


def manifest_key(results_prefix: str, map_run_arn: str) -> str:
    """`<prefix>/<map run id>/manifest.json`: the ResultWriter's place for one map run."""
    return f"{results_prefix.rstrip('/')}/{map_run_arn.rsplit(':', 1)[1]}/manifest.json"


def read_json(s3: Any, bucket: str, key: str) -> Any:
    return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def report(
    s3: Any, target: BatchTarget, results_prefix: str, described: dict[str, Any]
) -> BatchReport:
    """Count the run's items by outcome from its manifest's result files."""
    found = BatchReport(
        execution_arn=described["executionArn"],
        status=described["status"],
        error=described.get("error"),
        cause=described.get("cause"),
        map_run_arn=described.get("mapRunArn"),
    )
    if found.map_run_arn is None:  # failed before the map (bad input): nothing was written
        return found
    key = manifest_key(results_prefix, found.map_run_arn)
    try:
        manifest = read_json(s3, target.bucket, key)
    except s3.exceptions.NoSuchKey:
        return found  # aborted before the ResultWriter ran
    found.manifest = f"s3://{target.bucket}/{key}"
    for status in RESULT_FILES:
        for result_file in manifest.get("ResultFiles", {}).get(status, []):
            for child in read_json(s3, target.bucket, result_file["Key"]):
                _count(found, child)
    return found


def _count(found: BatchReport, child: dict[str, Any]) -> None:
    item = json.loads(child.get("Input") or "{}")
    if child.get("Status") != "SUCCEEDED":
        found.outcomes["failed"] += 1
        found.failures.append(
            (str(item.get("s3_key")), str(child.get("Error")), str(child.get("Cause", "")))
        )
        return
    output = json.loads(child.get("Output") or "{}")
    status = str(output.get("status", "classified"))
    if status == "skipped":
        status = f"skipped ({output.get('reason', 'done')})"
    found.outcomes[status] += 1
