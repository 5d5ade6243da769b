"""Measurements, their statistics, the results file and the printed table."""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Measure:
    """One figure: what, how much, in which unit, and its baseline when there is one."""

    name: str
    value: float
    unit: str
    baseline: float | None = None
    ratio: float | None = None
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value not in (None, "")}


def compared(name: str, value: float, baseline: float, unit: str, note: str = "") -> Measure:
    """A measure with its baseline from the same run and ours / baseline."""
    ratio = value / baseline if baseline else math.inf
    return Measure(name, value, unit, baseline, round(ratio, 3), note)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation between closest ranks."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def latency_measures(prefix: str, seconds: Sequence[float]) -> list[Measure]:
    """p50, p95 and p99 of latencies given in seconds, reported in milliseconds."""
    return [
        Measure(f"{prefix}.p{q}", round(percentile(seconds, q) * 1000, 1), "ms")
        for q in (50, 95, 99)
    ]


def timed(action: Callable[[], object]) -> float:
    """Seconds one call of action takes (monotonic, high resolution)."""
    began = time.perf_counter()
    action()
    return time.perf_counter() - began


def median_of(repeats: int, action: Callable[[], object]) -> tuple[float, list[float]]:
    """Median seconds of `repeats` calls: a noisy machine's outliers do not move it much."""
    if repeats < 1:
        raise ValueError("repeats must be at least 1")
    samples = [timed(action) for _ in range(repeats)]
    return statistics.median(samples), samples


def machine_info() -> dict[str, Any]:
    """What ran the benchmark: results from different machines are not comparable."""
    cpu = platform.processor()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in load] if load else None,
    }


def write_results(path: Path, measures: Iterable[Measure], **extra: Any) -> dict[str, Any]:
    """The results file: timestamp, machine, extra fields and the list of measures."""
    document = {
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        **extra,
        "results": [measure.to_json() for measure in measures],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return document


def _number(value: float | None) -> str:
    if value is None:
        return ""
    if value == 0 or abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:,.2f}"
    return f"{value:.4g}"


def format_table(measures: Sequence[Measure]) -> str:
    """A plain-text table: name, value, unit, baseline, ratio, note."""
    header = ("name", "value", "unit", "baseline", "ratio", "note")
    rows = [
        (m.name, _number(m.value), m.unit, _number(m.baseline), _number(m.ratio), m.note)
        for m in measures
    ]
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header) - 1)]
    lines = []
    for row in [header, *rows]:
        cells = [
            str(cell).rjust(width) if 0 < i < 5 and i != 2 else str(cell).ljust(width)
            for i, (cell, width) in enumerate(zip(row[:-1], widths, strict=True))
        ]
        lines.append("  ".join(cells) + ("  " + row[-1] if row[-1] else ""))
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(line.rstrip() for line in lines)
