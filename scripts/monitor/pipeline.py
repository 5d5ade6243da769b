"""One pass over the capture lines: parse, join, aggregate; then figures and the report."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scripts.monitor import figures
from scripts.monitor.aggregate import Aggregate
from scripts.monitor.errors import MalformedRecordError
from scripts.monitor.joins import JoinIndex, OutcomeStats
from scripts.monitor.records import parse_line
from scripts.monitor.report import write_report
from scripts.monitor.sources import CaptureSource, Line


@dataclass
class Report:
    aggregate: Aggregate
    html: Path
    summary: Path
    outcomes: list[OutcomeStats] = field(default_factory=list)


def consume(lines: Iterable[Line], aggregate: Aggregate, index: JoinIndex | None = None) -> None:
    """Feed every line to the aggregate; malformed ones are counted there, never raised."""
    join = index.lookup if index else None
    for line in lines:
        if not line.data.strip():
            continue  # a trailing blank line is not a record
        try:
            record = parse_line(line.data)
        except MalformedRecordError as error:
            aggregate.add_malformed(line.location, str(error))
            continue
        aggregate.add(record, line.location, join(record) if join else None)


def run(
    source: CaptureSource,
    out: Path,
    threshold: float,
    index: JoinIndex | None = None,
    outcomes: list[OutcomeStats] | None = None,
    context: dict[str, Any] | None = None,
) -> Report:
    """Read `source` once and write report.html, its figures and summary.json into `out`."""
    aggregate = Aggregate(threshold=threshold)
    consume(source.lines(), aggregate, index)
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("*.png"):
        stale.unlink()  # a figure of an earlier run must not sit beside a report without it
    drawn = figures.draw_all(aggregate, out)
    context = {
        "capture_source": source.description,
        "capture_files": source.file_count(),
        "threshold_source": "given",
        "join_method": "not attempted",
        **(context or {}),
    }
    html, summary = write_report(out, aggregate, drawn, outcomes or [], context)
    return Report(aggregate, html, summary, outcomes or [])
