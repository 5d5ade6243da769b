"""The deployed `local` stack for the tests: scripts/stack.py plus the skip-or-fail rule."""

from __future__ import annotations

import os

import pytest

from scripts.stack import (
    BASE_THRESHOLD,
    COPY_IGNORE,
    ENV,
    FAULTS_PATH,
    ORIGINAL_TEST_KEY,
    REPO_ROOT,
    TEST_PER_CLASS,
    TRAIN_PER_CLASS,
    TRAINING_EPOCHS,
    DeployedStack,
    Execution,
    StackError,
    deploy,
    deployed_local_stack,
    destroy_and_check,
    execute,
    isolated_repo,
    short_training_config,
    subprocess_env,
    subset_images,
)

__all__ = [
    "BASE_THRESHOLD",
    "COPY_IGNORE",
    "ENV",
    "FAULTS_PATH",
    "ORIGINAL_TEST_KEY",
    "REPO_ROOT",
    "TEST_PER_CLASS",
    "TRAINING_EPOCHS",
    "TRAIN_PER_CLASS",
    "DeployedStack",
    "Execution",
    "StackError",
    "deploy",
    "deployed_local_stack",
    "destroy_and_check",
    "execute",
    "isolated_repo",
    "require",
    "short_training_config",
    "subprocess_env",
    "subset_images",
]


def require(condition: bool, reason: str) -> None:
    """The rule of tests/conftest.py (skip on a user's clone, fail in CI), for this folder."""
    if condition:
        return
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"prerequisite missing in CI: {reason}")
    pytest.skip(reason)
