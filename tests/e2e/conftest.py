"""The deployed local stack, once per session, for every end-to-end test (and later benchmarks)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_stack import DeployedStack, StackError, deployed_local_stack, require


@pytest.fixture(scope="session")
def deployed_stack(
    tmp_path_factory: pytest.TempPathFactory, shared_data: Path
) -> Iterator[DeployedStack]:
    """The real `local` root applied to a private local cloud with a briefly trained model.

    Starts a local cloud on a free port, builds the Lambda packages, converts a subset of the
    shared images, applies the root without a model, uploads the data, trains for a few epochs
    through the cloud (training.launch), applies again with the model. On teardown it destroys
    the root (a failed destroy fails the session with Terraform's output) and stops the cloud.
    See DeployedStack for the attributes and helpers.
    """
    require(shutil.which("terraform") is not None, "terraform is not on PATH")
    workdir = tmp_path_factory.mktemp("e2e")
    try:
        with deployed_local_stack(workdir, shared_data) as stack:
            print(f"\ndeployed the local stack in {stack.timings} (seconds)")
            yield stack
    except StackError as error:  # deploying, or the destroy at teardown
        pytest.fail(str(error))
