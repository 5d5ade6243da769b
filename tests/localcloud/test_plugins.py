"""The server refuses to start without one of its plugins instead of serving as plain moto."""

from __future__ import annotations

from pathlib import Path

import pytest

from localcloud.plugin import LocalCloudContext, MissingPluginError, install_plugins


def test_a_missing_plugin_stops_the_start(tmp_path: Path) -> None:
    ctx = LocalCloudContext(state_dir=tmp_path, port=0)
    with pytest.raises(MissingPluginError, match=r"localcloud\.no_such_part cannot be imported"):
        install_plugins(ctx, ("localcloud.s3_policies", "localcloud.no_such_part"))
