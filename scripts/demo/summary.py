"""The demo's closing summary: accuracy, confidence, the service's outcomes, timings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

BAR_WIDTH = 30


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
    service: Sequence[str],
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
    lines.extend(service)
    if timings:
        total = sum(timings.values())
        lines.append(
            f"stages          {total:.1f} s: "
            + ", ".join(f"{name} {seconds:.1f}" for name, seconds in timings.items())
        )
    for name, where in artifacts.items():
        lines.append(f"{name + ' ':<18}{where}")
    return "\n".join(lines)
