"""EMF documents in a local Lambda's log become CloudWatch metrics, as CloudWatch Logs does;
invalid ones stay plain log lines. Rules: the EMF specification,
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from localcloud import emf
from localcloud.testing import RunningCloud, create_function, invoke
from tests.support.lambda_kit import FUNCTIONS_DIR

NOW = datetime(2026, 6, 1, 12, 0, 0)
NOW_MS = int(NOW.replace(tzinfo=UTC).timestamp() * 1000)


def document(**overrides: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "_aws": {
            "Timestamp": NOW_MS,
            "CloudWatchMetrics": [
                {
                    "Namespace": "Test/Emf",
                    "Dimensions": [["Service"], ["Service", "Stage"]],
                    "Metrics": [
                        {"Name": "Hits", "Unit": "Count"},
                        {"Name": "Latency", "Unit": "Milliseconds"},
                    ],
                }
            ],
        },
        "Service": "svc",
        "Stage": "dev",
        "Hits": 2,
        "Latency": [1.5, 2.5],
        "note": "members nobody references are ignored",
    }
    doc.update(overrides)
    return doc


def directive(doc: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = doc["_aws"]["CloudWatchMetrics"][0]
    return found


def test_a_valid_document_gives_one_datum_per_metric_and_dimension_set() -> None:
    found = emf.parse(json.dumps(document()), now=NOW)
    assert found is not None and found.timestamp == NOW
    data = found.by_namespace["Test/Emf"]
    by_key = {(d["MetricName"], tuple(x["Name"] for x in d["Dimensions"])): d for d in data}
    assert set(by_key) == {
        ("Hits", ("Service",)),
        ("Hits", ("Service", "Stage")),
        ("Latency", ("Service",)),
        ("Latency", ("Service", "Stage")),
    }
    assert by_key["Hits", ("Service",)]["Value"] == 2.0
    assert by_key["Hits", ("Service",)]["Unit"] == "Count"
    assert by_key["Latency", ("Service", "Stage")]["Values"] == [1.5, 2.5]
    assert by_key["Hits", ("Service", "Stage")]["Dimensions"] == [
        {"Name": "Service", "Value": "svc"},
        {"Name": "Stage", "Value": "dev"},
    ]


def test_unit_defaults_to_none() -> None:
    doc = document()
    directive(doc)["Metrics"] = [{"Name": "Hits"}]
    found = emf.parse(json.dumps(doc), now=NOW)
    assert found is not None
    assert {d["Unit"] for d in found.by_namespace["Test/Emf"]} == {"None"}


@pytest.mark.parametrize(
    "line",
    ["START RequestId: 1 Version: $LATEST", "handling {'a': 1}", '{"level": "INFO"}', "[1, 2]"],
)
def test_lines_that_are_not_emf_are_just_log_lines(line: str) -> None:
    assert emf.parse(line, now=NOW) is None


def _break(change: str) -> dict[str, Any]:
    doc = document()
    meta, first = doc["_aws"], directive(doc)
    if change == "no timestamp":
        del meta["Timestamp"]
    elif change == "timestamp as text":
        meta["Timestamp"] = "2026-06-01T12:00:00Z"
    elif change == "timestamp 15 days old":
        meta["Timestamp"] = NOW_MS - int(timedelta(days=15).total_seconds() * 1000)
    elif change == "timestamp 3 hours ahead":
        meta["Timestamp"] = NOW_MS + 3 * 3600 * 1000
    elif change == "no directives array":
        meta["CloudWatchMetrics"] = {}
    elif change == "empty namespace":
        first["Namespace"] = ""
    elif change == "namespace starting with a colon":
        first["Namespace"] = ":aws"
    elif change == "31 dimensions":
        names = [f"D{i}" for i in range(31)]
        first["Dimensions"] = [names]
        doc.update(dict.fromkeys(names, "x"))
    elif change == "101 metrics":
        first["Metrics"] = [{"Name": f"M{i}"} for i in range(101)]
        doc.update(dict.fromkeys((f"M{i}" for i in range(101)), 1))
    elif change == "101 values":
        doc["Latency"] = list(range(101))
    elif change == "missing dimension member":
        del doc["Stage"]
    elif change == "numeric dimension value":
        doc["Stage"] = 3
    elif change == "blank dimension value":
        doc["Stage"] = "  "
    elif change == "missing metric member":
        del doc["Hits"]
    elif change == "metric as text":
        doc["Hits"] = "2"
    elif change == "metric as boolean":
        doc["Hits"] = True
    elif change == "metric too large":
        doc["Hits"] = 2.0**361
    elif change == "unknown unit":
        first["Metrics"][0]["Unit"] = "Scones"
    elif change == "storage resolution 30":
        first["Metrics"][0]["StorageResolution"] = 30
    elif change == "no metrics":
        first["Metrics"] = []
    else:
        raise AssertionError(change)
    return doc


BREAKS = [
    "no timestamp",
    "timestamp as text",
    "timestamp 15 days old",
    "timestamp 3 hours ahead",
    "no directives array",
    "empty namespace",
    "namespace starting with a colon",
    "31 dimensions",
    "101 metrics",
    "101 values",
    "missing dimension member",
    "numeric dimension value",
    "blank dimension value",
    "missing metric member",
    "metric as text",
    "metric as boolean",
    "metric too large",
    "unknown unit",
    "storage resolution 30",
    "no metrics",
]


@pytest.mark.parametrize("change", BREAKS)
def test_an_invalid_document_yields_no_metric_at_all(change: str) -> None:
    line = json.dumps(_break(change))
    with pytest.raises(emf.InvalidEmfError):
        emf.parse(line, now=NOW)
    assert emf.extract(line, now=NOW) is None


def test_the_limits_themselves_are_accepted() -> None:
    doc = document()
    names = [f"D{i}" for i in range(30)]
    metrics = [f"M{i}" for i in range(100)]
    directive(doc)["Dimensions"] = [names]
    directive(doc)["Metrics"] = [{"Name": m, "StorageResolution": 1} for m in metrics]
    doc.update(dict.fromkeys(names, "x"))
    doc.update({m: list(range(100)) for m in metrics})
    found = emf.parse(json.dumps(doc), now=NOW)
    assert found is not None and len(found.by_namespace["Test/Emf"]) == 100


def test_nan_is_not_json_so_the_line_is_no_document() -> None:
    line = json.dumps(document()).replace('"Hits": 2', '"Hits": NaN')
    assert '"Hits": NaN' in line
    assert emf.parse(line, now=NOW) is None


# Through a real Lambda in the local cloud, read back with the CloudWatch API.

EMITTER = """
import json, time

def lambda_handler(event, context):
    for line in event["lines"]:
        if line.get("_aws") is not None and line["_aws"].get("Timestamp") == "now":
            line["_aws"]["Timestamp"] = int(time.time() * 1000)
        print(json.dumps(line))
    print("not json at all")
    return "ok"
"""


def fresh_document(namespace: str, **members: Any) -> dict[str, Any]:
    doc = document(**members)
    doc["_aws"]["Timestamp"] = "now"
    directive(doc)["Namespace"] = namespace
    return doc


def statistics(cloud: RunningCloud, namespace: str, name: str, **dims: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    answer: dict[str, Any] = cloud.client("cloudwatch").get_metric_statistics(
        Namespace=namespace,
        MetricName=name,
        Dimensions=[{"Name": k, "Value": v} for k, v in dims.items()],
        StartTime=now - timedelta(minutes=10),
        EndTime=now + timedelta(minutes=1),
        Period=3600,
        Statistics=["Sum", "SampleCount", "Maximum"],
    )
    return answer


@pytest.mark.e2e
@pytest.mark.slow
def test_a_lambdas_emf_lines_become_metrics_and_invalid_ones_do_not(
    local_cloud: RunningCloud, lambda_role: str
) -> None:
    create_function(local_cloud, lambda_role, "emf-emitter", EMITTER, Timeout=10)
    valid = fresh_document("Test/EmfValid")
    invalid = _break("101 metrics")
    invalid["_aws"]["Timestamp"] = "now"
    directive(invalid)["Namespace"] = "Test/EmfInvalid"
    payload, error = invoke(local_cloud, "emf-emitter", {"lines": [valid, invalid]})
    assert (payload, error) == ("ok", None)

    cloudwatch = local_cloud.client("cloudwatch")
    listed = cloudwatch.list_metrics(Namespace="Test/EmfValid")["Metrics"]
    # A set: moto lists a metric once per value put, AWS once.
    assert {(m["MetricName"], len(m["Dimensions"])) for m in listed} == {
        ("Hits", 1),
        ("Hits", 2),
        ("Latency", 1),
        ("Latency", 2),
    }
    # moto's GetMetricStatistics matches any metric whose dimensions include the asked ones
    # (AWS wants them exact), so these ask for the two-dimension set, which only one has.
    hits = statistics(local_cloud, "Test/EmfValid", "Hits", Service="svc", Stage="dev")
    assert [(p["Sum"], p["SampleCount"], p["Unit"]) for p in hits["Datapoints"]] == [
        (2.0, 1.0, "Count")
    ]
    latency = statistics(local_cloud, "Test/EmfValid", "Latency", Service="svc", Stage="dev")
    assert [(p["Sum"], p["Maximum"]) for p in latency["Datapoints"]] == [(4.0, 2.5)]
    assert cloudwatch.list_metrics(Namespace="Test/EmfInvalid")["Metrics"] == []
    # Both documents are still in the function's log, as in AWS.
    logs = local_cloud.client("logs")
    events = logs.filter_log_events(logGroupName="/aws/lambda/emf-emitter")["events"]
    messages = [e["message"] for e in events]
    assert sum('"Test/EmfInvalid"' in m for m in messages) == 1
    assert sum('"Test/EmfValid"' in m for m in messages) == 1
    assert "EMF document ignored" in local_cloud.log_file.read_text()


def _filter_inferences_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.write(FUNCTIONS_DIR / "filter_inferences" / "handler.py", "handler.py")
        for path in sorted((FUNCTIONS_DIR / "common").glob("*.py")):
            archive.write(path, f"common/{path.name}")
    return buffer.getvalue()


@pytest.mark.e2e
@pytest.mark.slow
def test_filter_inferences_decisions_are_counted_by_service(
    local_cloud: RunningCloud, lambda_role: str
) -> None:
    local_cloud.client("lambda").create_function(
        FunctionName="emf-filter-inferences",
        Runtime="python3.12",
        Role=lambda_role,
        Handler="handler.lambda_handler",
        Code={"ZipFile": _filter_inferences_zip()},
        Timeout=10,
        Environment={"Variables": {"THRESHOLD": "0.9", "SERVICE_NAME": "scones-emf"}},
    )
    event = {"s3_bucket": "b", "s3_key": "k.png", "image_data": ""}
    for inferences in ([0.97, 0.03], [0.05, 0.95], [0.6, 0.4]):
        _, error = invoke(local_cloud, "emf-filter-inferences", {**event, "inferences": inferences})
        assert error == (None if max(inferences) >= 0.9 else "Unhandled")
    _, error = invoke(local_cloud, "emf-filter-inferences", {**event, "inferences": []})
    assert error == "Unhandled"  # InvalidEvent: no decision, no metrics

    ns = "SconesUnlimited/Classifier"
    # Synchronous: the runtime writes the log and extracts its metrics before Invoke answers.
    classified = statistics(local_cloud, ns, "Classified", Service="scones-emf")["Datapoints"]
    assert [(p["Sum"], p["SampleCount"]) for p in classified] == [(2.0, 3.0)]
    review = statistics(local_cloud, ns, "NeedsReview", Service="scones-emf")["Datapoints"]
    assert [(p["Sum"], p["SampleCount"]) for p in review] == [(1.0, 3.0)]
    confidence = statistics(local_cloud, ns, "Confidence", Service="scones-emf")["Datapoints"]
    assert [(p["Maximum"], p["SampleCount"]) for p in confidence] == [(0.97, 3.0)]
