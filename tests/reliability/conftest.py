"""Fixtures of the reliability tests (the deployed stack is tests/conftest.py's, shared)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def reliability_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the tests write their records (bad_inputs.jsonl, ...), kept for the session."""
    return tmp_path_factory.mktemp("reliability")
