"""Fixtures shared by every test area: where the shared dataset is, and the CI rule for skips."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(
    os.environ.get("SHARED_DATA_DIR", REPO_ROOT.parent / "shared" / "data" / "cifar100-bike-moto")
)


def in_ci() -> bool:
    """CI sets CI=true; there a missing prerequisite is a failure, never a skip."""
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require(condition: bool, reason: str) -> None:
    """Skip on a user's clone when a prerequisite is missing; fail in CI."""
    if condition:
        return
    if in_ci():
        pytest.fail(f"prerequisite missing in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real CIFAR-100 bicycle/motorcycle images (../shared/data/cifar100-bike-moto)."""
    require(
        (SHARED_DATA / "train").is_dir() and (SHARED_DATA / "test").is_dir(),
        f"the shared dataset is not at {SHARED_DATA} (set SHARED_DATA_DIR to point at it)",
    )
    return SHARED_DATA
