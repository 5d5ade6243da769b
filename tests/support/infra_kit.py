"""Helpers of the Terraform tests: where infra/ is, offline provider install, copies, runs."""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

# The seven concerns, then the stack that composes them (and that every root calls), then the
# modules applied once per account, outside the roots (the CI's plan role).
ACCOUNT_MODULES = ("ci_oidc",)
MODULES = (
    "storage",
    "functions",
    "model_endpoint",
    "results",
    "workflow",
    "ingest",
    "monitoring",
    "stack",
    *ACCOUNT_MODULES,
)


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
