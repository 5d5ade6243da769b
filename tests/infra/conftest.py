"""Fixtures of the Terraform tests: terraform's environment, dummy zips, `terraform test` runs."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from scripts import offline_plan
from scripts.offline_plan import ZIP_NAMES, copy_infra
from tests.support.infra_kit import MODULES, TerraformTestResult, terraform_init, terraform_test
from tests.support.prereq import require


@pytest.fixture(scope="session")
def terraform_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for terraform: the mirror when there is one, never a prompt or a checkpoint."""
    require(shutil.which("terraform") is not None, "terraform is not on PATH")
    return offline_plan.terraform_env(tmp_path_factory.mktemp("terraform"))


@pytest.fixture(scope="session")
def dummy_zips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Small stand-ins for build/functions/*.zip, so no test needs `make package`."""
    return offline_plan.dummy_zips(tmp_path_factory.mktemp("functions"))


@pytest.fixture(scope="session")
def terraform_test_results(
    tmp_path_factory: pytest.TempPathFactory, terraform_env: dict[str, str], dummy_zips: Path
) -> dict[str, TerraformTestResult]:
    """`terraform test` of every module, the stack (the composition) included, two at a time.

    The roots have no `terraform test` of their own: each is a provider, a backend and one call
    of the stack, which is tested once here (and planned per root in test_infra_plan.py).
    """
    infra = copy_infra(tmp_path_factory.mktemp("terraform-test"))
    zip_vars = {f"{name}_zip_path": str(dummy_zips / f"{name}.zip") for name in ZIP_NAMES}
    variables = {"functions": zip_vars, "stack": {"functions_build_dir": str(dummy_zips)}}
    jobs: dict[str, tuple[Path, dict[str, str]]] = {
        f"modules/{name}": (infra / "modules" / name, variables.get(name, {})) for name in MODULES
    }
    # One init at a time: a shared TF_PLUGIN_CACHE_DIR (CI) is not safe for concurrent inits.
    inits = {target: terraform_init(folder, terraform_env) for target, (folder, _) in jobs.items()}
    # The provider's schema load is the slow, CPU-bound part of a test; two fit two cores.
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {
            target: pool.submit(
                terraform_test, target, folder, terraform_env, variables, inits[target]
            )
            for target, (folder, variables) in jobs.items()
        }
        return {target: future.result() for target, future in futures.items()}
