"""The deployed local stack, once per session, for every end-to-end test (and later benchmarks)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_stack import DeployedStack, StackError, deploy, require

from localcloud.testing import running_local_cloud


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
    with running_local_cloud() as cloud:
        try:
            stack = deploy(cloud, workdir, shared_data)
        except StackError as error:
            # A half-applied stack needs no destroy: it lives only in this cloud, stopped here.
            pytest.fail(f"deploying the local stack failed (log: {cloud.log_file}):\n{error}")
        print(f"\ndeployed the local stack in {stack.timings} (seconds)")
        yield stack
        destroyed = stack.destroy()
        if destroyed.returncode != 0:
            pytest.fail(
                f"terraform destroy of the local stack failed ({destroyed.returncode}):\n"
                f"{destroyed.stdout[-4000:]}\n{destroyed.stderr[-4000:]}"
            )
        leftovers = {
            "state machines": cloud.client("stepfunctions").list_state_machines()["stateMachines"],
            "functions": cloud.client("lambda").list_functions()["Functions"],
            "buckets": cloud.client("s3").list_buckets()["Buckets"],
            "endpoints": cloud.client("sagemaker").list_endpoints()["Endpoints"],
        }
        remaining = {kind: items for kind, items in leftovers.items() if items}
        if remaining:
            pytest.fail(f"terraform destroy left resources behind: {remaining}")
