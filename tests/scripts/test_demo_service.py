"""The demo's ingest stage (scripts.demo.service) on the session's local cloud.

The service itself (rule, workflow, table writes) is tested in tests/e2e/test_service.py and
runs for real in `make demo`; here: what the demo lands, how it waits for and reads the items,
and how it judges and reports them.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from localcloud.testing import RunningCloud
from scripts.demo import service
from scripts.demo.errors import DemoError
from tests.support.results_kit import create_table, item, put


@pytest.fixture
def bucket(local_cloud_env: RunningCloud) -> str:
    name = f"demo-{uuid.uuid4().hex[:8]}"
    s3 = local_cloud_env.client("s3")
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    for key in ("test/bike 1.png", "test/moto+2.png"):
        s3.put_object(Bucket=name, Key=key, Body=b"\x89PNG pretend pixels " + key.encode())
    return name


@pytest.fixture
def table(local_cloud_env: RunningCloud) -> str:
    return create_table(local_cloud_env.client("dynamodb"), f"demo-{uuid.uuid4().hex[:8]}")


def test_landing_copies_each_image_and_adds_the_two_edge_cases(
    local_cloud_env: RunningCloud, bucket: str
) -> None:
    s3 = local_cloud_env.client("s3")
    keys = ["test/bike 1.png", "test/moto+2.png"]
    landed = service.land(s3, bucket, keys, "test/", "incoming/")
    assert [one.key for one in landed] == [
        "incoming/bike 1.png",
        "incoming/moto+2.png",
        "incoming/" + service.AWKWARD_NAME,
        "incoming/" + service.NOT_AN_IMAGE,
    ]
    assert [one.expect_failure for one in landed] == [False, False, False, True]
    for one in landed:
        head = s3.head_object(Bucket=bucket, Key=one.key, VersionId=one.version)
        assert head["VersionId"] == one.version
    copied = s3.get_object(Bucket=bucket, Key="incoming/moto+2.png")["Body"].read()
    assert copied == s3.get_object(Bucket=bucket, Key="test/moto+2.png")["Body"].read()


def test_an_unversioned_bucket_is_a_named_error(local_cloud_env: RunningCloud) -> None:
    s3 = local_cloud_env.client("s3")
    name = f"demo-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="test/a.png", Body=b"x")
    with pytest.raises(DemoError, match="not versioned"):
        service.land(s3, name, ["test/a.png"], "test/", "incoming/")


def test_nothing_to_land_is_a_named_error(local_cloud_env: RunningCloud, bucket: str) -> None:
    with pytest.raises(DemoError, match="no images under"):
        service.land(local_cloud_env.client("s3"), bucket, [], "empty/", "incoming/")


def landed(n: int, sent: datetime) -> list[service.Landed]:
    return [service.Landed(f"incoming/{i:03d}.png", f"v{i}", sent) for i in range(n)]


def test_waiting_reads_every_item_past_one_batch_get(
    local_cloud_env: RunningCloud, table: str
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    objects = landed(130, now)  # more than BatchGetItem's 100 keys
    put(
        local_cloud_env.client("dynamodb"),
        table,
        [item(o.key, now, version=o.version) for o in objects],
    )
    seen: list[tuple[int, int]] = []
    found = service.wait_for_items(
        local_cloud_env.client("dynamodb"),
        table,
        objects,
        30,
        lambda got, total: seen.append((got, total)),
    )
    assert set(found) == {(o.key, o.version) for o in objects}
    assert seen[-1] == (130, 130)


def test_waiting_past_the_deadline_names_what_is_missing(
    local_cloud_env: RunningCloud, table: str
) -> None:
    now = datetime.now(UTC)
    objects = landed(3, now)
    put(local_cloud_env.client("dynamodb"), table, [item(objects[0].key, now, version="v0")])
    with pytest.raises(DemoError, match=r"2 of 3 objects have no item .*incoming/001\.png"):
        service.wait_for_items(local_cloud_env.client("dynamodb"), table, objects, 0.5)


def run_of(items: dict[str, dict[str, Any]], sent: datetime) -> service.ServiceRun:
    objects = [
        service.Landed(key, "v1", sent, expect_failure=key.endswith(service.NOT_AN_IMAGE))
        for key in items
    ]
    return service.ServiceRun(
        objects, {(key, "v1"): found for key, found in items.items()}, 12.5, 1
    )


def test_the_run_is_clean_when_only_the_non_image_failed_as_invalid_image() -> None:
    sent = datetime(2026, 12, 2, 10, 0, 0, tzinfo=UTC)
    run = run_of(
        {
            "incoming/a.png": item("incoming/a.png", sent + timedelta(seconds=1)),
            "incoming/b.png": item("incoming/b.png", sent + timedelta(seconds=3), "needs_review"),
            "incoming/" + service.NOT_AN_IMAGE: item(
                "incoming/" + service.NOT_AN_IMAGE, sent + timedelta(seconds=2), "failed"
            ),
        },
        sent,
    )
    assert run.unexpected_failures() == []
    assert sorted(run.latencies()) == [1.0, 2.0, 3.0]
    text = "\n".join(service.summary_lines(run))
    assert "3 objects under the incoming prefix: 1 classified, 1 needs_review, 1 failed" in text
    assert "1 messages (one per needs_review item: 1)" in text
    assert "p50 2.00 s, p95 3.00 s, max 3.00 s" in text
    assert "only not-an-image.png, as InvalidImage" in text


def test_any_other_failure_or_a_non_image_that_passed_is_unexpected() -> None:
    sent = datetime(2026, 12, 2, 10, 0, 0, tzinfo=UTC)
    failed = item("incoming/a.png", sent, "failed")
    failed["error"] = "EndpointUnavailable"
    run = run_of(
        {
            "incoming/a.png": failed,
            "incoming/" + service.NOT_AN_IMAGE: item("incoming/" + service.NOT_AN_IMAGE, sent),
        },
        sent,
    )
    assert run.unexpected_failures() == [
        "incoming/a.png: failed EndpointUnavailable",
        "incoming/not-an-image.png: classified",
    ]


@pytest.mark.parametrize(
    ("values", "fraction", "expected"),
    [([3.0], 0.5, 3.0), ([1.0, 2.0, 3.0, 4.0], 0.5, 2.0), ([*range(1, 101)], 0.95, 95)],
)
def test_percentiles_are_nearest_rank(
    values: list[float], fraction: float, expected: float
) -> None:
    assert service.percentile(values, fraction) == expected


def test_finished_at_is_read_as_utc() -> None:
    assert service.parse_time("2026-12-02T10:00:01.250Z") == datetime(
        2026, 12, 2, 10, 0, 1, 250000, tzinfo=UTC
    )
