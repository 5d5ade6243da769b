"""The one reader of an environment's Terraform outputs (bucket, role, endpoint names).

Plain `terraform output`: reading state needs neither the provider mirror nor the local cloud
URL that scripts/tf.sh sets up for init, plan and apply, and training reaches into no later
stage. The operator tools (scripts/classify.py, scripts/monitor) read outputs through here too.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from training.errors import TerraformOutputError

# The repository's roots, from any working directory (the tools run from a source checkout).
ENVS_DIR = Path(__file__).resolve().parent.parent / "infra" / "envs"


def read_outputs(env: str, envs_dir: Path = ENVS_DIR) -> dict[str, Any]:
    """`terraform -chdir=infra/envs/<env> output -json` as name -> value."""
    root = envs_dir / env
    if not root.is_dir():
        raise TerraformOutputError(f"{root} does not exist; check ENV (local, dev or prod)")
    # Where `make init` keeps the backend and providers; TF_DATA_DIR moves it elsewhere.
    if "TF_DATA_DIR" not in os.environ and not (root / ".terraform").is_dir():
        raise TerraformOutputError(
            f"{root} is not initialised: run `make init ENV={env}` (and `make apply ENV={env}`)"
        )
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
