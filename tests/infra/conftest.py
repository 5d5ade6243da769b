"""Fixtures of the Terraform tests: terraform's environment, dummy zips, `terraform test` runs."""

from __future__ import annotations

import os
import shutil
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from infra_testkit import (
    MODULES,
    ZIP_NAMES,
    TerraformTestResult,
    copy_infra,
    find_mirror,
    mirror_cli_config,
    require,
    terraform_init,
    terraform_test,
)


@pytest.fixture(scope="session")
def terraform_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for terraform: the mirror when there is one, never a prompt or a checkpoint."""
    require(shutil.which("terraform") is not None, "terraform is not on PATH")
    env = dict(os.environ)
    env.update({"TF_IN_AUTOMATION": "1", "TF_INPUT": "0", "CHECKPOINT_DISABLE": "1"})
    mirror = find_mirror()
    if mirror is None:
        cli_config = env.get("TF_CLI_CONFIG_FILE")
        if cli_config and not Path(cli_config).is_file():
            del env["TF_CLI_CONFIG_FILE"]
        return env
    config = tmp_path_factory.mktemp("terraform") / "terraformrc"
    env["TF_CLI_CONFIG_FILE"] = str(mirror_cli_config(mirror, config))
    return env


@pytest.fixture(scope="session")
def dummy_zips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Small stand-ins for build/functions/*.zip, so no test needs `make package`."""
    folder = tmp_path_factory.mktemp("functions")
    for name in ZIP_NAMES:
        with zipfile.ZipFile(folder / f"{name}.zip", "w") as archive:
            archive.writestr("handler.py", f"def lambda_handler(event, context):  # {name}\n")
    return folder


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
