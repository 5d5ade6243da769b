"""Fixtures of the reliability tests: the end-to-end `deployed_stack`, reused as it is."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

E2E = Path(__file__).resolve().parents[1] / "e2e"


def _e2e_conftest() -> ModuleType:
    # The fixture lives in tests/e2e/conftest.py, which pytest only applies below tests/e2e;
    # loading that file (not a copy of it) keeps one definition of how the stack is deployed.
    if str(E2E) not in sys.path:
        sys.path.insert(0, str(E2E))
    spec = importlib.util.spec_from_file_location(
        "e2e_conftest_for_reliability", E2E / "conftest.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


deployed_stack = _e2e_conftest().deployed_stack


@pytest.fixture(scope="session")
def reliability_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the tests write their records (bad_inputs.jsonl, ...), kept for the session."""
    return tmp_path_factory.mktemp("reliability")
