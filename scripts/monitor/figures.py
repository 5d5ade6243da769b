"""The report's figures, drawn with matplotlib's Agg canvas (no pyplot, no display).

Each `*_figure` function returns the matplotlib Figure (the notebook shows them inline); the
functions named after the report's figures write it as the PNG beside report.html.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import numpy.typing as npt
from matplotlib.figure import Figure

from scripts.monitor.aggregate import HISTOGRAM_BINS, Aggregate
from scripts.monitor.records import CLASSES

COLOURS = ("#1f77b4", "#ff7f0e")  # one per class, in CLASSES order
LOW = "#d62728"
DPI = 100


def draw_all(aggregate: Aggregate, out: Path) -> dict[str, str]:
    """Writes every figure into `out`; returns {figure id: file name}. Nothing for no records."""
    if not aggregate.records:
        return {}
    drawn = {
        "confidence": confidence_distribution(aggregate, out / "confidence.png"),
        "timeline": results_over_time(aggregate, out / "timeline.png"),
        "hours": by_hour_of_day(aggregate, out / "hours.png"),
        "classes": class_balance(aggregate, out / "classes.png"),
    }
    return {name: path.name for name, path in drawn.items()}


def confidence_distribution(aggregate: Aggregate, path: Path) -> Path:
    return _save(confidence_figure(aggregate), path)


def confidence_figure(aggregate: Aggregate) -> Figure:
    figure = Figure(figsize=(8, 4), layout="constrained")
    axes = figure.add_subplot()
    width = 1 / HISTOGRAM_BINS
    lefts = [i * width for i in range(HISTOGRAM_BINS)]
    colours = [LOW if left + width <= aggregate.threshold else COLOURS[0] for left in lefts]
    axes.bar(lefts, aggregate.histogram, width=width, align="edge", color=colours)
    axes.axvline(
        aggregate.threshold,
        color="black",
        linestyle="--",
        label=f"threshold {aggregate.threshold:g}",
    )
    first = next(i for i, n in enumerate(aggregate.histogram) if n)
    axes.set_xlim(min(0.5, first * width), 1.0)
    axes.set_xlabel("top-class confidence")
    axes.set_ylabel("inferences")
    axes.set_title(f"Confidence distribution ({aggregate.records:,} inferences)")
    axes.legend(loc="upper left")
    return figure


def results_over_time(aggregate: Aggregate, path: Path) -> Path:
    return _save(timeline_figure(aggregate), path)


def timeline_figure(aggregate: Aggregate) -> Figure:
    figure = Figure(figsize=(10, 4), layout="constrained")
    axes = figure.add_subplot()
    points = sorted(aggregate.timeline)
    for index, name in enumerate(CLASSES):
        mine = [(t, c) for t, c, k in points if k == index]
        if mine:
            axes.scatter(
                _times(t for t, _ in mine),
                [c for _, c in mine],
                s=10,
                color=COLOURS[index],
                label=name,
            )
    low = [(t, c) for t, c, _ in points if c < aggregate.threshold]
    if low:
        # Rings, not a marker of their own: the class colour inside stays visible.
        axes.scatter(
            _times(t for t, _ in low),
            [c for _, c in low],
            s=45,
            facecolors="none",
            edgecolors=LOW,
            linewidths=0.8,
            label="below threshold",
        )
    axes.axhline(
        aggregate.threshold,
        color="black",
        linestyle="--",
        label=f"threshold {aggregate.threshold:g}",
    )
    axes.set_ylim(min(0.45, min(c for _, c, _ in points) - 0.02), 1.02)
    axes.set_xlabel("inference time (UTC)")
    axes.set_ylabel("top-class confidence")
    sampled = "" if len(points) == aggregate.records else f", a sample of {len(points):,}"
    axes.set_title(f"Inferences over time ({aggregate.records:,}{sampled})")
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
    figure.autofmt_xdate()
    return figure


def by_hour_of_day(aggregate: Aggregate, path: Path) -> Path:
    return _save(hours_figure(aggregate), path)


def hours_figure(aggregate: Aggregate) -> Figure:
    figure = Figure(figsize=(10, 7), layout="constrained")
    count, mean, below = figure.subplots(3, 1, sharex=True)
    hours = list(range(24))
    count.bar(hours, aggregate.hour_count, color=COLOURS[0])
    count.set_ylabel("inferences")
    count.set_title("Performance by hour of day (UTC)")
    seen = [h for h in hours if aggregate.hour_count[h]]
    mean.plot(
        seen,
        [aggregate.hour_confidence_sum[h] / aggregate.hour_count[h] for h in seen],
        marker="o",
        color=COLOURS[1],
    )
    mean.axhline(aggregate.threshold, color="black", linestyle="--")
    mean.set_ylabel("mean confidence")
    below.bar(seen, [aggregate.hour_below[h] / aggregate.hour_count[h] for h in seen], color=LOW)
    below.set_ylim(0, 1)
    below.set_ylabel("share below threshold")
    below.set_xlabel("hour of day (UTC)")
    below.set_xticks(hours)
    return figure


def class_balance(aggregate: Aggregate, path: Path) -> Path:
    return _save(classes_figure(aggregate), path)


def classes_figure(aggregate: Aggregate) -> Figure:
    figure = Figure(figsize=(5, 3.5), layout="constrained")
    axes = figure.add_subplot()
    counts = [aggregate.classes[name] for name in CLASSES]
    axes.bar(list(CLASSES), counts, color=list(COLOURS))
    for index, n in enumerate(counts):
        axes.annotate(f"{n:,} ({n / aggregate.records:.0%})", (index, n), ha="center", va="bottom")
    axes.set_ylabel("inferences")
    axes.set_title("Class balance (top class)")
    return figure


def _times(posix: Iterable[float]) -> npt.NDArray[np.datetime64]:
    # datetime64 in ms: matplotlib draws it as a date axis without a units converter.
    return np.array([round(t * 1000) for t in posix], dtype="datetime64[ms]")


def _save(figure: Figure, path: Path) -> Path:
    # A fixed software tag keeps the PNG bytes the same from run to run.
    figure.savefig(path, dpi=DPI, metadata={"Software": "scripts.monitor"})
    return path
