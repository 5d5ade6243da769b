"""Fixtures shared by every test area: the shared dataset, a local cloud, the deployed stack.

`deployed_stack` lives here, at the top, so that pytest builds it at most once per run and every
suite that needs it (tests/e2e, tests/reliability) shares the same one.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from localcloud.testing import RunningCloud, running_local_cloud
from scripts.stack import DeployedStack, StackError, deployed_local_stack
from tests.support.prereq import require

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(
    os.environ.get("SHARED_DATA_DIR", REPO_ROOT.parent / "shared" / "data" / "cifar100-bike-moto")
)


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


@pytest.fixture(scope="session")
def local_cloud() -> Iterator[RunningCloud]:
    """One server for the session, on a free port with a temporary state dir; always stopped.

    Shared by every test area that needs a plain local cloud (tests/localcloud, tests/scripts,
    tests/monitor); each test creates what it needs under names of its own.
    """
    with running_local_cloud() as cloud:
        yield cloud


@pytest.fixture
def local_cloud_env(local_cloud: RunningCloud, monkeypatch: pytest.MonkeyPatch) -> RunningCloud:
    """This process's tools (ENV=local) find the session's server, as `make` would point them."""
    for name, value in local_cloud.env().items():
        monkeypatch.setenv(name, value)
    return local_cloud


@pytest.fixture(scope="session")
def deployed_stack(
    tmp_path_factory: pytest.TempPathFactory, shared_data: Path
) -> Iterator[DeployedStack]:
    """The real `local` root applied to a private local cloud with a briefly trained model.

    Starts a local cloud on a free port, builds the Lambda packages, converts a subset of the
    shared images, applies the root without a model, uploads the data, trains for a few epochs
    through the cloud (training.launch), applies again with the model. On teardown it destroys
    the root (a failed destroy fails the session with Terraform's output) and stops the cloud.
    See scripts.stack.DeployedStack for the attributes and helpers. Built once per run.
    """
    require(shutil.which("terraform") is not None, "terraform is not on PATH")
    workdir = tmp_path_factory.mktemp("e2e")
    try:
        with deployed_local_stack(workdir, shared_data) as stack:
            print(f"\ndeployed the local stack in {stack.timings} (seconds)")
            yield stack
    except StackError as error:  # deploying, or the destroy at teardown
        pytest.fail(str(error))
