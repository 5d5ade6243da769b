"""`terraform test` of every module and of the stack that composes them (mocked provider)."""

from __future__ import annotations

import re

import pytest

from scripts.offline_plan import INFRA
from tests.support.infra_kit import MODULES, TerraformTestResult

pytestmark = [pytest.mark.terraform, pytest.mark.slow]

TARGETS = [f"modules/{name}" for name in MODULES]


def run_blocks(target: str) -> set[str]:
    """Names of the run blocks in the target's test files."""
    names: set[str] = set()
    for test_file in (INFRA / target / "tests").glob("*.tftest.hcl"):
        names.update(re.findall(r'^run "([^"]+)"', test_file.read_text(), flags=re.MULTILINE))
    return names


@pytest.mark.parametrize("target", TARGETS)
def test_target_has_terraform_tests(target: str) -> None:
    assert run_blocks(target), f"infra/{target}/tests/*.tftest.hcl has no run blocks"


@pytest.mark.parametrize("target", TARGETS)
def test_terraform_test_passes(
    target: str, terraform_test_results: dict[str, TerraformTestResult]
) -> None:
    result = terraform_test_results[target]
    print(result.describe())
    assert result.returncode == 0, result.output[-6000:]
    assert result.summary.get("status") == "pass", result.output[-6000:]
    assert result.summary.get("failed") == 0 and result.summary.get("errored") == 0
    # Every run block ran and passed: none skipped after an earlier failure.
    assert result.runs == dict.fromkeys(run_blocks(target), "pass"), result.output[-6000:]
