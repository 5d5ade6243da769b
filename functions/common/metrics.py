"""CloudWatch Embedded Metric Format (EMF) members for a structured log line.

A log event that carries these members is both the invocation's log record and an EMF document:
CloudWatch Logs extracts the metrics from it, with no PutMetricData call and no agent.
Specification (the source of every rule below):
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
- the root node holds `_aws` = {"Timestamp": <ms since the epoch>, "CloudWatchMetrics": [
  {"Namespace", "Dimensions": [[dimension names]], "Metrics": [{"Name", "Unit"}]}]};
- every dimension and metric named there is a member of the root node ("target members"):
  dimension values are strings, metric values numbers;
- at most 30 dimensions in a dimension set and 100 metrics in a directive.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# The units PutMetricData accepts (StandardUnit in the CloudWatch API reference); EMF uses them.
UNITS = frozenset(
    {
        "Seconds",
        "Microseconds",
        "Milliseconds",
        "Bytes",
        "Kilobytes",
        "Megabytes",
        "Gigabytes",
        "Terabytes",
        "Bits",
        "Kilobits",
        "Megabits",
        "Gigabits",
        "Terabits",
        "Percent",
        "Count",
        "Bytes/Second",
        "Kilobytes/Second",
        "Megabytes/Second",
        "Gigabytes/Second",
        "Terabytes/Second",
        "Bits/Second",
        "Kilobits/Second",
        "Megabits/Second",
        "Gigabits/Second",
        "Terabits/Second",
        "Count/Second",
        "None",
    }
)
MAX_DIMENSIONS = 30
MAX_METRICS = 100


@dataclass(frozen=True)
class Metric:
    name: str
    value: float
    unit: str = "None"


@dataclass(frozen=True)
class MetricSet:
    """Metrics of one namespace and one dimension set, to be logged as EMF target members."""

    namespace: str
    dimensions: Mapping[str, str]
    metrics: tuple[Metric, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        # Wrong here is a bug in our code, and CloudWatch would drop the metrics silently.
        if not self.namespace or len(self.namespace) > 255:
            raise ValueError(f"EMF namespace {self.namespace!r} must be 1 to 255 characters")
        if len(self.dimensions) > MAX_DIMENSIONS:
            raise ValueError(f"EMF allows at most {MAX_DIMENSIONS} dimensions in a set")
        if not 1 <= len(self.metrics) <= MAX_METRICS:
            raise ValueError(f"EMF needs 1 to {MAX_METRICS} metrics in a directive")
        for name, value in self.dimensions.items():
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"EMF dimension {name} must be a non-blank string, got {value!r}")
        for metric in self.metrics:
            if metric.unit not in UNITS:
                raise ValueError(f"EMF metric {metric.name} has unknown unit {metric.unit!r}")
            if not math.isfinite(metric.value):
                raise ValueError(f"EMF metric {metric.name} must be finite, got {metric.value}")
        names = [*self.dimensions, *(m.name for m in self.metrics)]
        if len(set(names)) != len(names):
            raise ValueError(f"EMF dimension and metric names must differ: {names}")

    def members(self, timestamp_ms: int) -> dict[str, Any]:
        """The root-node members that make a JSON log record an EMF document."""
        return {
            "_aws": {
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [
                    {
                        "Namespace": self.namespace,
                        "Dimensions": [list(self.dimensions)],
                        "Metrics": [{"Name": m.name, "Unit": m.unit} for m in self.metrics],
                    }
                ],
            },
            **self.dimensions,
            **{m.name: m.value for m in self.metrics},
        }
