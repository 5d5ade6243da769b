"""The structured logger: one JSON line per invocation with its input, outcome and timing.

When the handler attaches a MetricSet, that same line is also a CloudWatch Embedded Metric
Format document (common.metrics): one log event per invocation, which Logs Insights queries
field by field and from which CloudWatch Logs extracts the metrics.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from common.metrics import MetricSet


class _StdoutHandler(logging.Handler):
    """Writes to the current sys.stdout (looked up per record, so test capture sees it)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stdout.write(self.format(record) + "\n")
            sys.stdout.flush()
        except Exception:
            self.handleError(record)


def _build_logger() -> logging.Logger:
    logger = logging.getLogger("scones.functions")
    if not logger.handlers:
        handler = _StdoutHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    # The Lambda runtime puts its own text handler on the root logger; not propagating keeps
    # each record a single line of pure JSON that Logs Insights can query field by field.
    logger.propagate = False
    return logger


LOGGER = _build_logger()
# The members of every line, in order; EMF members (attach_metrics) must not reuse them.
LOG_FIELDS = (
    "timestamp",
    "level",
    "function",
    "request_id",
    "s3_bucket",
    "s3_key",
    "outcome",
    "label",
    "confidence",
    "duration_ms",
    "error_type",
    "error_message",
)


@dataclass
class InvocationRecord:
    """What one invocation did; handlers fill in label and confidence as they learn them."""

    function: str
    request_id: str | None
    s3_bucket: str | None
    s3_key: str | None
    label: str | None = None
    confidence: float | None = None
    metrics: MetricSet | None = None

    def attach_metrics(self, metrics: MetricSet) -> None:
        """Make this invocation's log line an EMF document carrying `metrics` too."""
        clash = sorted(set(metrics.members(0)) & set(LOG_FIELDS))
        if clash:
            raise ValueError(f"metric or dimension names {clash} clash with the log's fields")
        self.metrics = metrics


@contextmanager
def log_invocation(function: str, event: object, context: object) -> Iterator[InvocationRecord]:
    """Time the block and log one line when it ends, with the error type if it raised."""
    record = InvocationRecord(
        function=str(getattr(context, "function_name", None) or function),
        request_id=getattr(context, "aws_request_id", None),
        # Read without validation: the line must name the input even when parsing fails.
        s3_bucket=_str_field(event, "s3_bucket"),
        s3_key=_str_field(event, "s3_key"),
    )
    started = time.perf_counter()
    try:
        yield record
    except Exception as exc:
        _emit(record, started, outcome="error", error=exc)
        raise
    _emit(record, started, outcome="ok", error=None)


def _emit(
    record: InvocationRecord, started: float, *, outcome: str, error: Exception | None
) -> None:
    now = datetime.now(UTC)
    line: dict[str, Any] = {
        "timestamp": now.isoformat(timespec="milliseconds"),
        "level": "INFO" if error is None else "ERROR",
        "function": record.function,
        "request_id": record.request_id,
        "s3_bucket": record.s3_bucket,
        "s3_key": record.s3_key,
        "outcome": outcome,
        "label": record.label,
        "confidence": record.confidence,
        "duration_ms": round((time.perf_counter() - started) * 1000.0, 2),
        "error_type": type(error).__name__ if error is not None else None,
        "error_message": str(error) if error is not None else None,
    }
    if record.metrics is not None:
        # The metrics carry the same instant as the record (EMF wants epoch milliseconds).
        line.update(record.metrics.members(int(now.timestamp() * 1000)))
    LOGGER.log(logging.INFO if error is None else logging.ERROR, json.dumps(line))


def _str_field(event: object, field: str) -> str | None:
    if isinstance(event, Mapping):
        value = event.get(field)
        if isinstance(value, str):
            return value
    return None
