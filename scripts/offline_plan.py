"""Plan the dev or prod root with the real provider and no AWS: tests/infra and the cost bench.

The plan runs on a copy of the root with an override file (offline_override.tf): a local
backend instead of S3, placeholder credentials and the skip_* flags. Every data source of the
roots is computed inside the provider (partition, region, policy documents, the SageMaker
image) and every ARN in a policy is built from account_id, so the plan is complete. The one call
the provider makes at plan time is Step Functions' ValidateStateMachineDefinition; the override
points it at a stub (`validate_stub`) that checks the definition is JSON and answers OK.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

REPO_ROOT = Path(__file__).resolve().parent.parent
INFRA = REPO_ROOT / "infra"
ZIP_NAMES = ("serialize_image_data", "classify_image", "filter_inferences", "layer")
# Copies leave out local state, plugins and the generated model variables of training.
COPY_IGNORE = shutil.ignore_patterns(
    ".terraform", "*.tfstate", "*.tfstate.*", "*.tfplan", "*.auto.tfvars", "*.auto.tfvars.json"
)
OVERRIDE = """\
terraform {
  backend "local" {}
}

provider "aws" {
  access_key                  = "offline-plan"
  secret_key                  = "offline-plan"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  skip_requesting_account_id  = true
  allowed_account_ids         = null
  max_retries                 = 1

  endpoints {
    sfn = "%(sfn_url)s"
  }
}
"""


class OfflinePlanError(RuntimeError):
    """terraform init, plan or show failed; the message carries its output."""


def cli_config(build_dir: Path, env: dict[str, str] | None = None) -> str | None:
    """The CLI config scripts/tf.sh would use, written under build_dir (`tf.sh cli-config`).

    tf.sh is the one place that finds the provider mirror (TF_PLUGIN_MIRROR, then the usual
    places) and writes a configuration that installs from it only; None means no mirror, so
    Terraform uses the registry.
    """
    done = subprocess.run(
        ["bash", str(REPO_ROOT / "scripts" / "tf.sh"), "cli-config"],
        env={**(os.environ if env is None else env), "TF_BUILD_DIR": str(build_dir)},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if done.returncode != 0:
        raise OfflinePlanError(f"scripts/tf.sh cli-config failed: {done.stderr.strip()}")
    return done.stdout.strip() or None


def terraform_env(scratch: Path) -> dict[str, str]:
    """Environment for terraform: the mirror when there is one, never a prompt or a checkpoint."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_VAR_", "AWS_"))}
    env |= {"TF_IN_AUTOMATION": "1", "TF_INPUT": "0", "CHECKPOINT_DISABLE": "1"}
    config = cli_config(scratch, env)
    if config is not None:
        env["TF_CLI_CONFIG_FILE"] = config
    elif env.get("TF_CLI_CONFIG_FILE") and not Path(env["TF_CLI_CONFIG_FILE"]).is_file():
        del env["TF_CLI_CONFIG_FILE"]
    return env


def dummy_zips(folder: Path) -> Path:
    """Small stand-ins for build/functions/*.zip, so a plan needs no `make package`."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ZIP_NAMES:
        with zipfile.ZipFile(folder / f"{name}.zip", "w") as archive:
            archive.writestr("handler.py", f"def lambda_handler(event, context):  # {name}\n")
    return folder


def copy_infra(destination: Path, *roots: str) -> Path:
    """Copy infra/modules and the given roots, keeping the layout the relative sources expect."""
    shutil.copytree(INFRA / "modules", destination / "infra" / "modules", ignore=COPY_IGNORE)
    for root in roots:
        shutil.copytree(
            INFRA / "envs" / root, destination / "infra" / "envs" / root, ignore=COPY_IGNORE
        )
    return destination / "infra"


class ValidateStub(BaseHTTPRequestHandler):
    """Step Functions' ValidateStateMachineDefinition: OK for JSON, FAIL otherwise."""

    received: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        target = self.headers.get("X-Amz-Target", "")
        if not target.endswith(".ValidateStateMachineDefinition"):
            self.send_error(400, f"unexpected call {target}: the plan must not reach AWS")
            return
        self.received.append(body["definition"])
        try:
            json.loads(body["definition"])
            answer: dict[str, Any] = {"result": "OK", "diagnostics": []}
        except json.JSONDecodeError as error:
            answer = {
                "result": "FAIL",
                "diagnostics": [{"severity": "ERROR", "code": "SCHEMA", "message": str(error)}],
            }
        payload = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        return


@contextlib.contextmanager
def validate_stub() -> Iterator[str]:
    """The stub on a free loopback port; yields its URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), ValidateStub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class Plan:
    """The managed resources of a saved plan, by address, with their planned values."""

    def __init__(self, raw: dict[str, Any], bucket: str) -> None:
        self.raw = raw
        self.bucket = bucket
        self.changes = {
            change["address"]: change
            for change in raw["resource_changes"]
            if change["mode"] == "managed"
        }

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {
            address: change["change"]["after"]
            for address, change in self.changes.items()
            if change["type"] == resource_type
        }

    def one(self, resource_type: str) -> dict[str, Any]:
        (values,) = self.of_type(resource_type).values()
        return values

    @property
    def outputs(self) -> dict[str, Any]:
        result: dict[str, Any] = self.raw["planned_values"]["outputs"]
        return result


def _terraform(args: list[str], cwd: Path, env: dict[str, str], timeout: float) -> str:
    done = subprocess.run(
        ["terraform", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise OfflinePlanError(f"terraform {' '.join(args)} in {cwd}:\n{done.stdout}{done.stderr}")
    return done.stdout


def plan_root(
    root: str, workdir: Path, env: dict[str, str], zips: Path, sfn_url: str, timeout: float = 600
) -> Plan:
    """Plan infra/envs/<root> (a copy under workdir) offline; the `show -json` of that plan."""
    infra = copy_infra(workdir, root)
    root_dir = infra / "envs" / root
    (root_dir / "offline_override.tf").write_text(OVERRIDE % {"sfn_url": sfn_url})
    bucket = f"scones-{root}-vehicle-classifier-changeme"
    # What `make promote` writes: a version of the root's own model package group, and its
    # artifact (recorded with each answer). The account is the root's terraform.tfvars one.
    account = re.search(
        r'^account_id\s*=\s*"(\d{12})"', (root_dir / "terraform.tfvars").read_text(), re.M
    )
    variables = {
        "functions_build_dir": str(zips),
        "model_package_arn": (
            f"arn:aws:sagemaker:us-east-1:{account.group(1) if account else '111111111111'}:"
            f"model-package/scones-{root}-models/1"
        ),
        "model_data_url": f"s3://{bucket}/models/job-1/output/model.tar.gz",
    }
    _terraform(["init", "-input=false", "-no-color"], root_dir, env, timeout)
    var_args = [f"-var={name}={value}" for name, value in variables.items()]
    _terraform(
        ["plan", "-input=false", "-no-color", "-out=offline.tfplan", *var_args],
        root_dir,
        env,
        timeout,
    )
    raw = json.loads(_terraform(["show", "-json", "offline.tfplan"], root_dir, env, timeout))
    return Plan(raw, bucket)
