"""The demo's closing summary: accuracy, confidence, execution outcomes, throughput, timings."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

THRESHOLD_ERROR = "ThresholdConfidenceNotMet"
BAR_WIDTH = 30


@dataclass(frozen=True)
class Outcomes:
    """Executions of the classify stage, by how they ended."""

    succeeded: int
    below_threshold: int
    failed: int
    errors: Counter[str]

    @property
    def total(self) -> int:
        return self.succeeded + self.below_threshold + self.failed


def outcomes(records: Iterable[Mapping[str, Any]]) -> Outcomes:
    """Count the last record of each image (scripts.classify's results file rows)."""
    succeeded = below = failed = 0
    errors: Counter[str] = Counter()
    for record in records:
        if record["status"] == "SUCCEEDED":
            succeeded += 1
        elif record.get("error") == THRESHOLD_ERROR:
            below += 1
        else:
            failed += 1
            errors[str(record.get("error") or record["status"])] += 1
    return Outcomes(succeeded, below, failed, errors)


def histogram_lines(histogram: Mapping[str, list[Any]], threshold: float | None) -> list[str]:
    """One line per confidence bin with a bar; the bin holding the threshold is marked."""
    edges, counts = histogram["edges"], histogram["counts"]
    peak = max(counts, default=0) or 1
    lines = []
    for low, high, count in zip(edges, edges[1:], counts, strict=False):
        bar = "#" * round(BAR_WIDTH * count / peak)
        mark = " <- threshold" if threshold is not None and low <= threshold < high else ""
        lines.append(f"    {low:.2f}-{high:.2f} {count:>5} {bar}{mark}")
    return lines


def format_summary(
    *,
    report: Mapping[str, Any] | None,
    records: Sequence[Mapping[str, Any]],
    classify_seconds: float | None,
    threshold: float | None,
    timings: Mapping[str, float],
    artifacts: Mapping[str, str],
) -> str:
    """The text printed at the end of the demo."""
    lines = ["", "=== demo summary ==="]
    if report is not None:
        lines.append(
            f"accuracy        {report['accuracy']:.4f} on {report['images']} test images "
            f"({report.get('target', 'endpoint')})"
        )
        per_class = report.get("per_class", {})
        for name, scores in per_class.items():
            lines.append(
                f"  {name:<12} precision {scores['precision']:.3f}  recall {scores['recall']:.3f}"
            )
        lines.append("confidence of the top class (test images, through the endpoint):")
        lines.extend(histogram_lines(report["confidence_histogram"], threshold))
    if records:
        counted = outcomes(records)
        threshold_text = f" (threshold {threshold})" if threshold is not None else ""
        lines.append(
            f"executions      {counted.total}: {counted.succeeded} succeeded, "
            f"{counted.below_threshold} stopped by the threshold{threshold_text}, "
            f"{counted.failed} failed"
        )
        if counted.errors:
            lines.append(
                "  failures: " + ", ".join(f"{n} {err}" for err, n in counted.errors.most_common())
            )
        if classify_seconds:
            lines.append(
                f"throughput      {counted.total / classify_seconds:.2f} executions/s "
                f"({counted.total} in {classify_seconds:.1f} s)"
            )
    if timings:
        total = sum(timings.values())
        lines.append(
            f"stages          {total:.1f} s: "
            + ", ".join(f"{name} {seconds:.1f}" for name, seconds in timings.items())
        )
    for name, where in artifacts.items():
        lines.append(f"{name + ' ':<18}{where}")
    return "\n".join(lines)
