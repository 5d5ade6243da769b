"""CloudWatch Logs' Embedded Metric Format extraction, for the log lines of local Lambdas.

In AWS, CloudWatch Logs turns every log event that is a valid EMF document into metrics; an
invalid one stays an ordinary log event and yields no metric at all. This module does the
same for one log line: `extract` returns PutMetricData-shaped data, or nothing.

The rules are those of the specification,
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
- the message is one JSON object, nothing before or after it;
- `_aws` is an object with `Timestamp` (epoch milliseconds) and `CloudWatchMetrics`, an array
  of MetricDirectives {Namespace, Dimensions, Metrics};
- Dimensions is an array of DimensionSets (arrays of member names), each at most 30 names;
- Metrics is an array of at most 100 MetricDefinitions {Name, Unit?, StorageResolution?};
- every referenced name is a top-level member ("target member"): a dimension's value a string,
  a metric's value a number or an array of at most 100 numbers.
and, for the values, those of PutMetricData (API reference: MetricDatum, Dimension): namespace
1-255 characters not starting with ':', dimension values 1-1024 non-blank ASCII characters,
units from StandardUnit, values within +/-2^360, timestamps from two weeks back to two hours
ahead. Pure Python with no moto import: lambda_runtime hands the result to moto's backend.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

MAX_DIMENSIONS_PER_SET = 30
MAX_METRICS_PER_DIRECTIVE = 100
MAX_VALUES_PER_METRIC = 100
MAX_NAME_LENGTH = 255
MAX_DIMENSION_VALUE_LENGTH = 1024
MAX_VALUE_MAGNITUDE = 2.0**360
MAX_AGE = timedelta(days=14)
MAX_AHEAD = timedelta(hours=2)
STORAGE_RESOLUTIONS = frozenset({1, 60})
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


class InvalidEmfError(ValueError):
    """The line looks like an EMF document (it has `_aws`) but breaks a rule: no metrics."""


@dataclass(frozen=True)
class Extracted:
    """The metrics of one document: PutMetricData's MetricData, grouped by namespace."""

    timestamp: datetime  # naive UTC, as moto's CloudWatch backend keeps it
    by_namespace: dict[str, list[dict[str, Any]]]


def extract(message: str, *, now: datetime) -> Extracted | None:
    """The metrics in `message`, or None when it is no EMF document (invalid ones included)."""
    try:
        return parse(message, now=now)
    except InvalidEmfError:
        return None


def parse(message: str, *, now: datetime) -> Extracted | None:
    """Like extract, but an invalid EMF document raises InvalidEmfError naming the rule."""
    if not message.startswith("{") or '"_aws"' not in message:
        return None  # the cheap test: most log lines are not JSON objects at all
    try:
        root = json.loads(message, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        return None
    if not isinstance(root, dict) or "_aws" not in root:
        return None
    meta = root["_aws"]
    if not isinstance(meta, dict):
        raise InvalidEmfError("_aws must be an object")
    timestamp = _timestamp(meta.get("Timestamp"), now)
    directives = meta.get("CloudWatchMetrics")
    if not isinstance(directives, list):
        raise InvalidEmfError("_aws.CloudWatchMetrics must be an array of MetricDirective objects")
    by_namespace: dict[str, list[dict[str, Any]]] = {}
    for index, directive in enumerate(directives):
        namespace, data = _directive(root, directive, f"CloudWatchMetrics[{index}]", timestamp)
        by_namespace.setdefault(namespace, []).extend(data)
    return Extracted(timestamp=timestamp, by_namespace=by_namespace)


def _no_constant(name: str) -> None:
    raise InvalidEmfError(f"{name} is not JSON")


def _timestamp(value: object, now: datetime) -> datetime:
    if not _is_number(value):
        raise InvalidEmfError("_aws.Timestamp must be a number of milliseconds since the epoch")
    assert isinstance(value, int | float)
    try:
        when = datetime.fromtimestamp(value / 1000.0, UTC).replace(tzinfo=None)
    except (OverflowError, OSError, ValueError):
        raise InvalidEmfError(f"_aws.Timestamp {value} is not a time") from None
    if not now - MAX_AGE <= when <= now + MAX_AHEAD:
        raise InvalidEmfError(
            f"_aws.Timestamp {when:%Y-%m-%dT%H:%M:%S} is over 2 weeks old or 2 hours ahead"
        )
    return when


def _directive(
    root: dict[str, Any], directive: object, where: str, timestamp: datetime
) -> tuple[str, list[dict[str, Any]]]:
    if not isinstance(directive, dict):
        raise InvalidEmfError(f"{where} must be a MetricDirective object")
    namespace = directive.get("Namespace")
    if (
        not isinstance(namespace, str)
        or not 1 <= len(namespace) <= MAX_NAME_LENGTH
        or namespace.startswith(":")
    ):
        raise InvalidEmfError(f"{where}.Namespace must be 1-255 characters, not starting with ':'")
    dimension_sets = directive.get("Dimensions")
    if not isinstance(dimension_sets, list):
        raise InvalidEmfError(f"{where}.Dimensions must be an array of DimensionSets")
    # An empty array is taken as one empty set: the metrics without dimensions.
    resolved = [
        _dimension_set(root, names, f"{where}.Dimensions[{i}]")
        for i, names in enumerate(dimension_sets or [[]])
    ]
    definitions = directive.get("Metrics")
    if not isinstance(definitions, list) or not definitions:
        raise InvalidEmfError(f"{where}.Metrics must be a non-empty array of MetricDefinitions")
    if len(definitions) > MAX_METRICS_PER_DIRECTIVE:
        raise InvalidEmfError(
            f"{where}.Metrics has {len(definitions)} definitions, over {MAX_METRICS_PER_DIRECTIVE}"
        )
    data = []
    for i, definition in enumerate(definitions):
        name, unit, values = _metric(root, definition, f"{where}.Metrics[{i}]")
        for dimensions in resolved:
            datum: dict[str, Any] = {
                "MetricName": name,
                "Dimensions": dimensions,
                "Timestamp": timestamp,
                "Unit": unit,
            }
            datum.update({"Values": values} if len(values) > 1 else {"Value": values[0]})
            data.append(datum)
    return namespace, data


def _dimension_set(root: dict[str, Any], names: object, where: str) -> list[dict[str, str]]:
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        raise InvalidEmfError(f"{where} must be an array of dimension names")
    if len(names) > MAX_DIMENSIONS_PER_SET:
        raise InvalidEmfError(f"{where} has {len(names)} dimensions, over {MAX_DIMENSIONS_PER_SET}")
    dimensions = []
    for name in names:
        value = root.get(name)
        if not isinstance(value, str):
            raise InvalidEmfError(f"dimension {name!r} ({where}) must be a string root member")
        if not _is_name(name, MAX_NAME_LENGTH) or not _is_name(value, MAX_DIMENSION_VALUE_LENGTH):
            raise InvalidEmfError(f"dimension {name!r}={value!r}: not 1-255/1-1024 ASCII chars")
        dimensions.append({"Name": name, "Value": value})
    return dimensions


def _metric(root: dict[str, Any], definition: object, where: str) -> tuple[str, str, list[float]]:
    if not isinstance(definition, dict):
        raise InvalidEmfError(f"{where} must be a MetricDefinition object")
    name = definition.get("Name")
    if not isinstance(name, str) or not 1 <= len(name) <= MAX_NAME_LENGTH:
        raise InvalidEmfError(f"{where}.Name must be a string of 1-255 characters")
    unit = definition.get("Unit", "None")
    if unit not in UNITS:
        raise InvalidEmfError(f"{where}.Unit {unit!r} is not a CloudWatch unit")
    resolution = definition.get("StorageResolution", 60)
    if resolution not in STORAGE_RESOLUTIONS or isinstance(resolution, bool):
        raise InvalidEmfError(f"{where}.StorageResolution must be 1 or 60")
    if name not in root:
        raise InvalidEmfError(f"metric {name!r} ({where}) has no member in the root node")
    raw = root[name]
    values = raw if isinstance(raw, list) else [raw]
    if not values or len(values) > MAX_VALUES_PER_METRIC:
        raise InvalidEmfError(f"metric {name!r} must have 1 to {MAX_VALUES_PER_METRIC} values")
    for value in values:
        if not _is_number(value) or abs(value) > MAX_VALUE_MAGNITUDE:
            raise InvalidEmfError(f"metric {name!r} has value {value!r}: not a CloudWatch number")
    return name, str(unit), [float(value) for value in values]


def _is_number(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:  # an integer beyond any float
        return False


def _is_name(text: str, limit: int) -> bool:
    return 1 <= len(text) <= limit and text.isascii() and text.isprintable() and bool(text.strip())
