"""The server refuses to start without one of its plugins instead of serving as plain moto."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from localcloud.plugin import LocalCloudContext, MissingPluginError, install_plugins


def test_a_missing_plugin_stops_the_start(tmp_path: Path) -> None:
    ctx = LocalCloudContext(state_dir=tmp_path, port=0)
    with pytest.raises(MissingPluginError, match=r"localcloud\.no_such_part cannot be imported"):
        install_plugins(ctx, ("localcloud.s3_policies", "localcloud.no_such_part"))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            datetime.datetime(2026, 12, 1, 23, 36, 5, 123456, tzinfo=datetime.UTC),
            "2026-12-01T23:36:05.123Z",
        ),
        ("2026-12-01T23:36:05.123456+00:00", "2026-12-01T23:36:05.123Z"),
        ("2026-12-02T01:36:05.5+02:00", "2026-12-01T23:36:05.500Z"),
        ("2026-12-01T23:36:05.123Z", "2026-12-01T23:36:05.123Z"),
    ],
)
def test_context_object_times_are_aws_timestamps(value: object, expected: str) -> None:
    from localcloud.stepfunctions import aws_timestamp

    assert aws_timestamp(value) == expected
