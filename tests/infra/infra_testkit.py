"""Helpers of the Terraform tests: where infra/ is, offline provider install, copies, runs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
INFRA = REPO_ROOT / "infra"
# The five concerns, then the stack that composes them (and that every root calls).
MODULES = ("storage", "functions", "model_endpoint", "workflow", "monitoring", "stack")
ZIP_NAMES = ("serialize_image_data", "classify_image", "filter_inferences", "layer")
MIRROR_CANDIDATES = (Path("/opt/tf-plugins"), Path.home() / ".terraform.d" / "plugins")
# Copies leave out local state, plugins and the generated model variables of training.
COPY_IGNORE = shutil.ignore_patterns(
    ".terraform", "*.tfstate", "*.tfstate.*", "*.tfplan", "*.auto.tfvars", "*.auto.tfvars.json"
)


def require(condition: bool, reason: str) -> None:
    """The rule of tests/conftest.py (skip on a user's clone, fail in CI), for this folder."""
    if condition:
        return
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"prerequisite missing in CI: {reason}")
    pytest.skip(reason)


def find_mirror() -> Path | None:
    """The provider mirror scripts/tf.sh would use (TF_PLUGIN_MIRROR, then the usual places)."""
    configured = os.environ.get("TF_PLUGIN_MIRROR")
    if configured == "none":
        return None
    candidates = (Path(configured),) if configured else MIRROR_CANDIDATES
    for candidate in candidates:
        if (candidate / "registry.terraform.io" / "hashicorp" / "aws").is_dir():
            return candidate
    return None


def mirror_cli_config(mirror: Path, path: Path) -> Path:
    """Write the CLI configuration scripts/tf.sh writes: the mirror only, no registry."""
    path.write_text(
        "disable_checkpoint = true\n"
        "provider_installation {\n"
        f'  filesystem_mirror {{\n    path    = "{mirror}"\n'
        '    include = ["registry.terraform.io/hashicorp/*"]\n  }\n'
        '  direct {\n    exclude = ["registry.terraform.io/*/*"]\n  }\n'
        "}\n"
    )
    return path


def copy_infra(destination: Path, *roots: str) -> Path:
    """Copy infra/modules and the given roots, keeping the layout the relative sources expect."""
    shutil.copytree(INFRA / "modules", destination / "infra" / "modules", ignore=COPY_IGNORE)
    for root in roots:
        shutil.copytree(
            INFRA / "envs" / root, destination / "infra" / "envs" / root, ignore=COPY_IGNORE
        )
    return destination / "infra"


def run_terraform(
    args: list[str], cwd: Path, env: dict[str, str], timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["terraform", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@dataclass(frozen=True)
class TerraformTestResult:
    """One `terraform test` of a module or root: its summary and the time it took."""

    target: str
    returncode: int
    summary: dict[str, object]
    runs: dict[str, str]
    output: str
    init_seconds: float
    test_seconds: float

    def describe(self) -> str:
        return (
            f"{self.target}: {self.summary.get('status')} {self.summary}"
            f" (init {self.init_seconds:.1f} s, test {self.test_seconds:.1f} s)"
        )


def _parse_test_json(stdout: str) -> tuple[dict[str, object], dict[str, str]]:
    """Summary and run statuses from `terraform test -json` (one JSON message per line)."""
    summary: dict[str, object] = {}
    runs: dict[str, str] = {}
    for line in stdout.splitlines():
        try:
            message = json.loads(line)
        except json.JSONDecodeError:
            continue
        if message.get("type") == "test_summary":
            summary = message["test_summary"]
        elif message.get("type") == "test_run" and "progress" in message.get("test_run", {}):
            run = message["test_run"]
            if run["progress"] == "complete":
                runs[run["run"]] = run.get("status", "")
    return summary, runs


def terraform_init(
    folder: Path, env: dict[str, str]
) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    init = run_terraform(["init", "-backend=false", "-input=false", "-no-color"], folder, env)
    return init, time.monotonic() - started


def terraform_test(
    target: str,
    folder: Path,
    env: dict[str, str],
    variables: dict[str, str],
    init: tuple[subprocess.CompletedProcess[str], float],
) -> TerraformTestResult:
    done, init_seconds = init
    if done.returncode != 0:
        return TerraformTestResult(
            target, done.returncode, {}, {}, done.stdout + done.stderr, init_seconds, 0.0
        )
    started = time.monotonic()
    var_args = [f"-var={name}={value}" for name, value in variables.items()]
    test = run_terraform(["test", "-json", "-no-color", *var_args], folder, env)
    summary, runs = _parse_test_json(test.stdout)
    return TerraformTestResult(
        target,
        test.returncode,
        summary,
        runs,
        test.stdout + test.stderr,
        init_seconds,
        time.monotonic() - started,
    )
