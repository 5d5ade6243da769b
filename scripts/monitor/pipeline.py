"""One pass over the source's records: parse, join, aggregate; then figures and the report."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scripts.monitor import figures
from scripts.monitor.aggregate import Aggregate
from scripts.monitor.joins import JoinIndex, OutcomeStats
from scripts.monitor.report import write_report
from scripts.monitor.sources import Entry, Line, Source, parse_lines


@dataclass
class Report:
    aggregate: Aggregate
    html: Path
    summary: Path
    outcomes: list[OutcomeStats] = field(default_factory=list)
    context: dict[str, Any] = field(default_factory=dict)  # where it read, as summary.json says


def consume(lines: Iterable[Line], aggregate: Aggregate, index: JoinIndex | None = None) -> None:
    """Feed every capture line to the aggregate; malformed ones are counted, never raised."""
    add_entries(parse_lines(lines), aggregate, index)


def add_entries(
    entries: Iterable[Entry], aggregate: Aggregate, index: JoinIndex | None = None
) -> None:
    """Feed every record to the aggregate; malformed ones are counted there, never raised."""
    join = index.lookup if index else None
    for location, record in entries:
        if isinstance(record, Exception):
            aggregate.add_malformed(location, str(record))
            continue
        aggregate.add(record, location, join(record) if join else None)


def run(
    source: Source,
    out: Path,
    threshold: float,
    index: JoinIndex | None = None,
    outcomes: list[OutcomeStats] | None = None,
    context: dict[str, Any] | None = None,
) -> Report:
    """Read `source` once and write report.html, its figures and summary.json into `out`."""
    aggregate = Aggregate(threshold=threshold)
    add_entries(source.entries(), aggregate, index)
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("*.png"):
        stale.unlink()  # a figure of an earlier run must not sit beside a report without it
    drawn = figures.draw_all(aggregate, out)
    context = {
        "source": source.kind,
        "capture_source": source.description,
        "capture_files": source.file_count(),
        "threshold_source": "given",
        "join_method": "not attempted",
        **(context or {}),
    }
    html, summary = write_report(out, aggregate, drawn, outcomes or [], context)
    return Report(aggregate, html, summary, outcomes or [], context)
