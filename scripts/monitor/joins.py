"""Workflow outcomes (results file, Step Functions) and the join of capture records to them."""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scripts.monitor.errors import MonitorError
from scripts.monitor.records import CaptureRecord

SUCCEEDED = "SUCCEEDED"
# Finished without failing: Step Functions' SUCCEEDED, and the results table's own statuses of an
# execution that reached a decision (issue 12's contract).
DECIDED_STATUSES = frozenset({SUCCEEDED, "classified", "needs_review"})
# ERROR: classify.py's; failed: the results table's.
FAILED_STATUSES = frozenset({"FAILED", "TIMED_OUT", "ABORTED", "ERROR", "failed"})
CAUSE_CHARS = 300


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the workflow made of one image."""

    status: str
    key: str | None
    label: str | None = None
    confidence: float | None = None
    error: str | None = None
    cause: str | None = None
    execution_arn: str | None = None


@dataclass
class OutcomeStats:
    """Executions by status and failures by error, from one source."""

    source: str
    statuses: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    causes: dict[str, str] = field(default_factory=dict)  # first cause seen per error
    truncated: bool = False

    def add(self, outcome: Outcome) -> None:
        self.statuses[outcome.status] += 1
        if outcome.status in FAILED_STATUSES:
            error = outcome.error or outcome.status
            self.errors[error] += 1
            if outcome.cause and error not in self.causes:
                self.causes[error] = short_cause(outcome.cause)

    @property
    def finished(self) -> int:
        return sum(self.statuses[s] for s in DECIDED_STATUSES) + self.failed

    @property
    def failed(self) -> int:
        return sum(self.statuses[s] for s in FAILED_STATUSES)

    def summary(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "statuses": dict(self.statuses),
            "finished": self.finished,
            "failed": self.failed,
            "share_failed": self.failed / self.finished if self.finished else None,
            "errors": [
                {"error": name, "count": n, "example_cause": self.causes.get(name)}
                for name, n in self.errors.most_common()
            ],
            "truncated": self.truncated,
        }


@dataclass
class JoinIndex:
    """Looks capture records up by inference id, else by the SHA-256 of their image bytes."""

    by_image: dict[str, Outcome] = field(default_factory=dict)
    by_id: dict[str, Outcome] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.by_image or self.by_id)

    def lookup(self, record: CaptureRecord) -> Outcome | None:
        if record.inference_id and record.inference_id in self.by_id:
            return self.by_id[record.inference_id]
        if self.by_image and record.input_base64:
            digest = image_digest(record.input_base64)
            if digest is not None:
                return self.by_image.get(digest)
        return None


def image_digest(image_base64: str) -> str | None:
    """SHA-256 of the decoded bytes: base64 text may differ in padding or line breaks."""
    try:
        return hashlib.sha256(base64.b64decode(image_base64)).hexdigest()
    except (binascii.Error, ValueError):
        return None


def short_cause(cause: str) -> str:
    """A Lambda error's message rather than its whole JSON payload, cut to a readable length."""
    with contextlib.suppress(TypeError, ValueError, AttributeError):
        cause = str(json.loads(cause).get("errorMessage", cause))
    return cause if len(cause) <= CAUSE_CHARS else cause[: CAUSE_CHARS - 1] + "…"


def read_results(path: Path, index: JoinIndex) -> OutcomeStats:
    """The last line per key of scripts/classify.py's results file (earlier STARTED lines lose).

    Holds one small record per image key; the capture records themselves are never held.
    """
    latest: dict[str, Outcome] = {}
    try:
        with path.open() as lines:
            for line in lines:
                try:
                    raw = json.loads(line)
                    latest[raw["key"]] = Outcome(
                        status=str(raw["status"]),
                        key=raw["key"],
                        label=raw.get("label"),
                        confidence=raw.get("confidence"),
                        error=raw.get("error"),
                        cause=raw.get("cause"),
                        execution_arn=raw.get("execution_arn"),
                    )
                except (ValueError, KeyError, TypeError):
                    continue  # a line cut short by a killed batch; classify.py skips it too
    except OSError as error:
        raise MonitorError(
            f"cannot read the results file {path} ({error}); run `make classify PREFIX=...` "
            "first, or pass --results pointing at it"
        ) from None
    stats = OutcomeStats(source=f"results file {path}")
    for key, outcome in latest.items():
        stats.add(outcome)
        index.by_id[key] = outcome
        if outcome.execution_arn:
            # classify.py's execution names make good InferenceIds: index them too.
            index.by_id[outcome.execution_arn.rsplit(":", 1)[-1]] = outcome
    return stats


def read_executions(
    sfn: Any, state_machine_arn: str, max_executions: int, index: JoinIndex
) -> OutcomeStats:
    """The newest max_executions executions: outcome, and the image each one sent to the model."""
    stats = OutcomeStats(source=f"Step Functions {state_machine_arn.rsplit(':', 1)[-1]}")
    seen = 0
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        paginator = sfn.get_paginator("list_executions")
        for page in paginator.paginate(stateMachineArn=state_machine_arn):
            for execution in page.get("executions", []):
                if seen >= max_executions:
                    stats.truncated = True
                    return stats
                seen += 1
                if execution["status"] == "RUNNING":
                    stats.statuses["RUNNING"] += 1
                    continue
                outcome, image = describe(sfn, execution["executionArn"])
                stats.add(outcome)
                digest = image_digest(image) if image else None
                if digest:
                    index.by_image[digest] = outcome
                index.by_id[execution["executionArn"].rsplit(":", 1)[-1]] = outcome
    except (ClientError, BotoCoreError) as error:
        raise MonitorError(
            f"cannot read the executions of {state_machine_arn} ({error}); check the state "
            "machine exists and that you may states:ListExecutions, DescribeExecution and "
            "GetExecutionHistory on it, or pass --max-executions 0 to skip the join"
        ) from None
    return stats


def describe(sfn: Any, arn: str) -> tuple[Outcome, str | None]:
    """An execution's outcome and the image_data it carried (from its output, else its history)."""
    described = sfn.describe_execution(executionArn=arn)
    source = _json_object(described.get("input"))
    output = _json_object(described.get("output"))
    body = output.get("body", output)  # the original course wrapped the event in "body"
    body = _json_object(body) if isinstance(body, str) else body
    outcome = Outcome(
        status=described["status"],
        key=source.get("s3_key"),
        label=body.get("label") if isinstance(body, dict) else None,
        confidence=body.get("confidence") if isinstance(body, dict) else None,
        error=described.get("error"),
        cause=described.get("cause"),
        execution_arn=arn,
    )
    image = body.get("image_data") if isinstance(body, dict) else None
    if not image:
        image = image_from_history(sfn, arn)
    return outcome, image if isinstance(image, str) and image else None


def image_from_history(sfn: Any, arn: str) -> str | None:
    """The first non-empty image_data a state was entered with: what classifyImage sent."""
    history = sfn.get_execution_history(executionArn=arn, maxResults=1000)
    for event in history.get("events", []):
        details = event.get("stateEnteredEventDetails")
        if details:
            image = _json_object(details.get("input")).get("image_data")
            if isinstance(image, str) and image:
                return image
    return None


def _json_object(text: object) -> dict[str, Any]:
    if not isinstance(text, str):
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
