"""A dev or prod state made by the roots before infra/modules/stack moves into it, nothing lost.

How: the dev and prod roots of PRE_STACK_COMMIT (the last commit whose roots called the five
modules themselves, read with `git archive`) are applied for real to a private local cloud,
each with an override file (localcloud_override.tf) that points every service at the cloud
and keeps the state in a local file, `-var account_id=` the cloud's account and dummy Lambda
zips. Then today's root of the same environment, with the same override, state and
variables, plans: every old resource must only move (module.<name> ->
module.stack.module.<name>), in place (no-op, or an update where the service of issue 12 changed
it), none replaced or destroyed but the one alarm the service drops; what is new is only
created, and no old output changes but alarm_names. That plan is applied and a second plan
must exit 0 with -detailed-exitcode.

No model_package_arn: the local cloud would load the artifact to serve the endpoint, so the
model, endpoint configuration and endpoint (count 0 without a model) are not in the state;
every module instance is, the SageMaker role standing for model_endpoint.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import tarfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from scripts.offline_plan import REPO_ROOT, copy_infra
from tests.support.infra_kit import run_terraform
from tests.support.prereq import require

pytestmark = [pytest.mark.terraform, pytest.mark.slow, pytest.mark.e2e]

PRE_STACK_COMMIT = "e195b514a1dda940d709dba3654943b627c3b220"
ROOTS = ("dev", "prod")
LOCAL_CLOUD_ACCOUNT = "123456789012"
# Every service the local root points at the local cloud, so the override names the same ones.
SERVICES = tuple(
    re.findall(
        r"^\s*(\w+)\s*=\s*var\.local_cloud_endpoint\s*$",
        (REPO_ROOT / "infra" / "envs" / "local" / "providers.tf").read_text(),
        re.MULTILINE,
    )
)
# What the service (issue 12) removes on purpose: filterInferences' ThresholdConfidenceNotMet is
# business, not a fault, so its Lambda-errors alarm went (functions_with_business_errors).
REMOVED = {
    'module.stack.module.monitoring.aws_cloudwatch_metric_alarm.lambda_errors["filter_inferences"]'
}
# What a root turns off on purpose since: dev's dashboard (issue 14, enable_dashboard = false:
# $3 of an idle month that must stay under $5).
REMOVED_IN = {"dev": {"module.stack.module.monitoring.aws_cloudwatch_dashboard.this[0]"}}
# What is replaced on purpose: the per-image workflow of dev and prod became EXPRESS (issue 13,
# workflow_type), and a state machine's type cannot change in place: `type` is ForceNew in the
# provider (internal/service/sfn/state_machine.go) and UpdateStateMachine takes no type. Its
# name, so its ARN, stays.
REPLACED_IN = {
    root: {"module.stack.module.workflow.aws_sfn_state_machine.this"} for root in ("dev", "prod")
}
# Resources that gained a count since, moved to their [0] by the module's own moved block.
INDEXED = {
    "module.monitoring.aws_cloudwatch_dashboard.this": (
        "module.monitoring.aws_cloudwatch_dashboard.this[0]"
    )
}
# Root outputs the service (issue 12) and the batch (issue 13) added after PRE_STACK_COMMIT.
# alarm_names lists the alarms, and the service changed them (REMOVED, and its new alarms).
UPDATED_OUTPUTS = {"alarm_names"}
# dev's dashboard goes (REMOVED_IN), and its name with it; dev turned data capture off (its
# endpoint is serverless), so it has no capture URI.
UPDATED_OUTPUTS_IN = {"dev": {"dashboard_name", "data_capture_s3_uri"}}
# The replaced workflow's ARN is the same name's, but unknown until it is created again.
REPLACED_OUTPUTS = {"state_machine_arn"}
NEW_OUTPUTS = {
    "results_table_name",
    "review_queue_url",
    "ingest_dlq_url",
    "incoming_prefix",
    "batch_state_machine_arn",
    "batch_results_prefix",
    # The model registry (issue 14): the group is created, next to the moved role
    # (model_package_arn too, but it is null before a promotion, and a null output is no change).
    "model_package_group_name",
    "min_accuracy",
    # The training role split from the SageMaker role (issue 14); sagemaker_role_arn stays the
    # hosting role, the same role.
    "sagemaker_training_role_arn",
}
OVERRIDE = """\
terraform {
  backend "local" {
    path = "%(state)s"
  }
}

provider "aws" {
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  s3_use_path_style           = true
  max_retries                 = 2

  endpoints {
%(endpoints)s
  }
}
"""


@dataclass(frozen=True)
class Migration:
    """One root: the managed addresses of the old state, today's plan, the last plan's exit."""

    root: str
    old_addresses: set[str]
    plan: dict[str, Any]
    final_exit_code: int
    final_output: str


def git_archive(commit: str, destination: Path, *paths: str) -> None:
    done = subprocess.run(
        ["git", "archive", "--format=tar", commit, *paths],
        cwd=REPO_ROOT,
        capture_output=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    with tarfile.open(fileobj=io.BytesIO(done.stdout)) as archive:
        archive.extractall(destination, filter="data")


def checked(done: subprocess.CompletedProcess[str], what: str) -> str:
    tail = f"{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    assert done.returncode == 0, f"{what} exited {done.returncode}:\n{tail}"
    return done.stdout


def migrate(root: str, workdir: Path, env: dict[str, str], zips: Path, endpoint: str) -> Migration:
    state = workdir / "terraform.tfstate"
    endpoints = "\n".join(f'    {service} = "{endpoint}"' for service in SERVICES)
    override = OVERRIDE % {"state": state, "endpoints": endpoints}
    variables = [f"-var=account_id={LOCAL_CLOUD_ACCOUNT}", f"-var=functions_build_dir={zips}"]

    old = workdir / "old"
    git_archive(PRE_STACK_COMMIT, old, "infra/modules", f"infra/envs/{root}")
    old_root = old / "infra" / "envs" / root
    (old_root / "localcloud_override.tf").write_text(override)
    checked(run_terraform(["init", "-input=false", "-no-color"], old_root, env), "old init")
    checked(
        run_terraform(["apply", "-auto-approve", "-no-color", *variables], old_root, env, 900),
        f"apply of the {root} root of {PRE_STACK_COMMIT[:7]}",
    )
    listed = checked(run_terraform(["state", "list"], old_root, env), "state list")
    old_addresses = {a for a in listed.split() if ".data." not in a and not a.startswith("data.")}

    new_root = copy_infra(workdir / "new", root) / "envs" / root
    (new_root / "localcloud_override.tf").write_text(override)
    checked(run_terraform(["init", "-input=false", "-no-color"], new_root, env), "new init")
    checked(
        run_terraform(["plan", "-out=moves.tfplan", "-no-color", *variables], new_root, env, 600),
        "plan of today's root",
    )
    shown = checked(run_terraform(["show", "-json", "moves.tfplan"], new_root, env), "show")
    checked(
        run_terraform(["apply", "-no-color", "moves.tfplan"], new_root, env, 600), "apply moves"
    )
    final = run_terraform(
        ["plan", "-detailed-exitcode", "-no-color", *variables], new_root, env, 600
    )
    return Migration(
        root, old_addresses, json.loads(shown), final.returncode, final.stdout + final.stderr
    )


@pytest.fixture(scope="module")
def migrations(
    tmp_path_factory: pytest.TempPathFactory, terraform_env: dict[str, str], dummy_zips: Path
) -> Iterator[dict[str, Migration]]:
    """dev and prod of PRE_STACK_COMMIT applied to one local cloud, then planned by today's."""
    has_commit = subprocess.run(
        ["git", "cat-file", "-e", f"{PRE_STACK_COMMIT}^{{commit}}"],
        cwd=REPO_ROOT,
        capture_output=True,
        check=False,
    )
    require(has_commit.returncode == 0, f"git history with {PRE_STACK_COMMIT[:7]} (fetch-depth 0)")
    from localcloud.testing import running_local_cloud

    with running_local_cloud() as cloud:
        env = {k: v for k, v in terraform_env.items() if not k.startswith(("TF_VAR_", "AWS_"))}
        env |= cloud.env()
        env.pop("AWS_ENDPOINT_URL", None)  # the override names every endpoint
        with ThreadPoolExecutor(max_workers=2) as pool:
            futures = {
                root: pool.submit(
                    migrate,
                    root,
                    tmp_path_factory.mktemp(f"moved-{root}"),
                    env,
                    dummy_zips,
                    cloud.endpoint_url,
                )
                for root in ROOTS
            }
            yield {root: future.result() for root, future in futures.items()}


def managed(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in plan["resource_changes"] if c["mode"] == "managed"]


@pytest.mark.parametrize("root", ROOTS)
def test_every_old_resource_moves_into_the_stack_and_none_is_replaced(
    root: str, migrations: dict[str, Migration]
) -> None:
    migration = migrations[root]
    changes = managed(migration.plan)
    assert changes, "the old root created nothing"
    for change in changes:
        assert change["address"].startswith("module.stack.module."), change["address"]
        previous = change.get("previous_address")
        if previous is None:
            # The service and the batch add resources; nothing that existed is recreated.
            assert change["change"]["actions"] == ["create"], (change["address"], change["change"])
            continue
        assert INDEXED.get(previous, previous) == change["address"].removeprefix("module.stack."), (
            change["address"]
        )
        if change["address"] in REMOVED | REMOVED_IN.get(root, set()):
            assert change["change"]["actions"] == ["delete"], change["address"]
            continue
        if change["address"] in REPLACED_IN.get(root, set()):
            assert change["change"]["actions"] == ["delete", "create"], change["address"]
            continue
        assert change["change"]["actions"] in (["no-op"], ["update"]), (
            change["address"],
            change["change"]["actions"],
        )
    moved_from = {c["previous_address"] for c in changes if c.get("previous_address")}
    assert moved_from == migration.old_addresses


@pytest.mark.parametrize("root", ROOTS)
def test_no_output_changes_value(root: str, migrations: dict[str, Migration]) -> None:
    """The outputs the old roots had keep their values but alarm_names; the service's are new."""
    output_changes = migrations[root].plan.get("output_changes", {})
    assert output_changes
    for name, change in output_changes.items():
        allowed = (["no-op"], ["update"]) if name in UPDATED_OUTPUTS else (["no-op"], ["create"])
        if name in UPDATED_OUTPUTS_IN.get(root, set()):
            allowed = (["update"], ["delete"])
        if name in REPLACED_OUTPUTS and REPLACED_IN.get(root):
            allowed = (["no-op"], ["update"])
        assert change["actions"] in allowed, (name, change)
    created = {n for n, c in output_changes.items() if c["actions"] == ["create"]}
    assert created == NEW_OUTPUTS


@pytest.mark.parametrize("root", ROOTS)
def test_after_the_moves_the_plan_is_empty(root: str, migrations: dict[str, Migration]) -> None:
    migration = migrations[root]
    assert migration.final_exit_code == 0, migration.final_output[-4000:]
    assert "No changes." in migration.final_output
