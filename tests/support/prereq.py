"""The one rule for a missing test prerequisite: skip on a user's clone, fail in CI."""

from __future__ import annotations

import os

import pytest


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
