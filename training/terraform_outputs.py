"""Reading the outputs of an environment's Terraform root (bucket, role, endpoint names)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from training.errors import TerraformOutputError

ENVS_DIR = Path("infra/envs")


def read_outputs(env: str, envs_dir: Path = ENVS_DIR) -> dict[str, Any]:
    """`terraform -chdir=infra/envs/<env> output -json` as name -> value."""
    root = envs_dir / env
    if not root.is_dir():
        raise TerraformOutputError(f"{root} does not exist; check ENV (local, dev or prod)")
    terraform = shutil.which("terraform")
    if terraform is None:
        raise TerraformOutputError(
            "terraform is not on PATH; install it or pass the value as a flag"
        )
    completed = subprocess.run(
        [terraform, f"-chdir={root}", "output", "-json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if completed.returncode != 0:
        raise TerraformOutputError(
            f"`terraform -chdir={root} output -json` failed: {completed.stderr.strip()}"
        )
    try:
        raw = json.loads(completed.stdout or "{}")
        return {name: entry["value"] for name, entry in raw.items()}
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise TerraformOutputError(f"unexpected output from terraform in {root} ({exc})") from exc


def output_value(env: str, name: str, flag: str, envs_dir: Path = ENVS_DIR) -> str:
    """One string output, with an error that names the flag that overrides it."""
    try:
        outputs = read_outputs(env, envs_dir)
    except TerraformOutputError as exc:
        raise TerraformOutputError(f"{exc}; or pass {flag}") from exc
    value = outputs.get(name)
    if not isinstance(value, str) or not value:
        raise TerraformOutputError(
            f"the {env} environment has no Terraform output {name!r}; run `make apply ENV={env}` "
            f"first, or pass {flag}"
        )
    return value
