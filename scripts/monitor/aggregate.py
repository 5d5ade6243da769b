"""Streaming aggregation of capture records in memory that does not grow with their number."""

from __future__ import annotations

import heapq
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from scripts.monitor.joins import Outcome
from scripts.monitor.records import CLASSES, CaptureRecord

HISTOGRAM_BINS = 100  # 0.01 wide over [0, 1]: fine enough to see the mass near the threshold
TIMELINE_SAMPLES = 2000  # points on the over-time plot; more only blurs a scatter
LOWEST_KEPT = 12  # thumbnails of the least confident images
MALFORMED_EXAMPLES = 10


@dataclass(frozen=True, slots=True)
class Thumbnail:
    """One of the least confident inferences, with its image and what the workflow made of it."""

    confidence: float
    label: str
    time: datetime
    location: str
    input_base64: str | None
    outcome: Outcome | None


@dataclass
class Aggregate:
    """Counters, a fixed histogram, a reservoir sample and a bounded heap; nothing per record."""

    threshold: float
    seed: int = 0
    records: int = 0
    lines: int = 0
    malformed: int = 0
    malformed_reasons: Counter[str] = field(default_factory=Counter)
    malformed_examples: list[tuple[str, str]] = field(default_factory=list)
    histogram: list[int] = field(default_factory=lambda: [0] * HISTOGRAM_BINS)
    below_threshold: int = 0
    classes: Counter[str] = field(default_factory=Counter)
    hour_count: list[int] = field(default_factory=lambda: [0] * 24)
    hour_confidence_sum: list[float] = field(default_factory=lambda: [0.0] * 24)
    hour_below: list[int] = field(default_factory=lambda: [0] * 24)
    first_time: datetime | None = None
    last_time: datetime | None = None
    confidence_sum: float = 0.0
    # (POSIX time, confidence, class index): a uniform sample of every record seen (Algorithm R).
    timeline: list[tuple[float, float, int]] = field(default_factory=list)
    joined: int = 0
    joined_status: Counter[str] = field(default_factory=Counter)
    label_agreement: Counter[str] = field(default_factory=Counter)
    _lowest: list[tuple[float, int, Thumbnail]] = field(default_factory=list)
    _rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)  # same input, same report

    def add_malformed(self, location: str, reason: str) -> None:
        self.lines += 1
        self.malformed += 1
        # Reasons can quote data; the key is the text before any quote so counts stay few.
        self.malformed_reasons[reason.split(":", 1)[0].split("(", 1)[0].strip()] += 1
        if len(self.malformed_examples) < MALFORMED_EXAMPLES:
            self.malformed_examples.append((location, reason))

    def add(self, record: CaptureRecord, location: str, outcome: Outcome | None = None) -> None:
        self.lines += 1
        self.records += 1
        confidence, label = record.confidence, record.label
        below = confidence < self.threshold
        self.histogram[min(int(confidence * HISTOGRAM_BINS), HISTOGRAM_BINS - 1)] += 1
        self.below_threshold += below
        self.confidence_sum += confidence
        self.classes[label] += 1
        hour = record.time.hour
        self.hour_count[hour] += 1
        self.hour_confidence_sum[hour] += confidence
        self.hour_below[hour] += below
        if self.first_time is None or record.time < self.first_time:
            self.first_time = record.time
        if self.last_time is None or record.time > self.last_time:
            self.last_time = record.time
        self._sample((record.time.timestamp(), confidence, record.label_index))
        if outcome is not None:
            self._join(label, outcome)
        self._keep_if_lowest(record, location, outcome)

    def lowest(self) -> list[Thumbnail]:
        """The kept least-confident inferences, least confident first."""
        return [item for _, _, item in sorted(self._lowest, key=lambda entry: -entry[0])]

    def summary(self) -> dict[str, Any]:
        """Everything the report states, as JSON-ready values."""
        hours = [
            {
                "hour": hour,
                "count": self.hour_count[hour],
                "mean_confidence": _ratio(self.hour_confidence_sum[hour], self.hour_count[hour]),
                "share_below_threshold": _ratio(self.hour_below[hour], self.hour_count[hour]),
            }
            for hour in range(24)
        ]
        return {
            "records": self.records,
            "lines": self.lines,
            "malformed": {
                "count": self.malformed,
                "reasons": dict(self.malformed_reasons.most_common()),
                "first": [{"location": w, "reason": r} for w, r in self.malformed_examples],
            },
            "threshold": self.threshold,
            "below_threshold": self.below_threshold,
            "share_below_threshold": _ratio(self.below_threshold, self.records),
            "mean_confidence": _ratio(self.confidence_sum, self.records),
            "class_balance": {name: self.classes[name] for name in CLASSES},
            "first_inference": _iso(self.first_time),
            "last_inference": _iso(self.last_time),
            "histogram": {"bin_width": 1 / HISTOGRAM_BINS, "counts": self.histogram},
            "by_hour_utc": hours,
            "timeline_sampled": len(self.timeline),
            "joined": {
                "records": self.joined,
                "by_status": dict(self.joined_status),
                "label_agreement": dict(self.label_agreement),
            },
        }

    def _sample(self, point: tuple[float, float, int]) -> None:
        if len(self.timeline) < TIMELINE_SAMPLES:
            self.timeline.append(point)
            return
        slot = self._rng.randrange(self.records)
        if slot < TIMELINE_SAMPLES:
            self.timeline[slot] = point

    def _join(self, label: str, outcome: Outcome) -> None:
        self.joined += 1
        self.joined_status[outcome.status] += 1
        if outcome.label is not None:
            self.label_agreement["agree" if outcome.label == label else "disagree"] += 1

    def _keep_if_lowest(
        self, record: CaptureRecord, location: str, outcome: Outcome | None
    ) -> None:
        confidence = record.confidence
        # A max-heap on confidence (negated): its top is the most confident of the kept ones.
        if len(self._lowest) >= LOWEST_KEPT and -self._lowest[0][0] <= confidence:
            return
        item = Thumbnail(
            confidence, record.label, record.time, location, record.input_base64, outcome
        )
        entry = (-confidence, self.records, item)
        if len(self._lowest) < LOWEST_KEPT:
            heapq.heappush(self._lowest, entry)
        else:
            heapq.heapreplace(self._lowest, entry)


def _ratio(part: float, whole: int) -> float | None:
    return part / whole if whole else None


def _iso(when: datetime | None) -> str | None:
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z") if when else None
