"""The GitHub workflows: pinned actions, least permissions, no persisted credentials, and a plan
that gets cloud credentials only in its environment and runs nothing the build did not make."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

# PyYAML comes with moto[server] (the dev extra), which requires it itself.
import yaml

from scripts.offline_plan import REPO_ROOT

WORKFLOWS = sorted((REPO_ROOT / ".github" / "workflows").glob("*.y*ml"))
TERRAFORM = REPO_ROOT / ".github" / "workflows" / "terraform.yml"
# owner/repo[/path]@<40 hex> # v1.2.3
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40} # v\d+\.\d+\.\d+$")
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(.+?)\s*$")


def load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text())
    assert isinstance(document, dict), f"{path.name}: not a mapping"
    return document


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job.get("steps", []))


def action(step: dict[str, Any]) -> str:
    """`actions/checkout` for `uses: actions/checkout@<sha>`, '' for a run step."""
    return str(step.get("uses", "")).split("@")[0]


def run_text(job: dict[str, Any]) -> str:
    return "\n".join(str(step.get("run", "")) for step in steps(job))


@pytest.fixture(scope="module")
def terraform_jobs() -> dict[str, dict[str, Any]]:
    return dict(load(TERRAFORM)["jobs"])


def test_there_are_workflows() -> None:
    assert TERRAFORM in WORKFLOWS


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_commit_with_its_version(path: Path) -> None:
    uses = [m.group(1) for line in path.read_text().splitlines() if (m := USES_LINE.match(line))]
    assert uses, f"{path.name} uses no action"
    for ref in uses:
        if ref.startswith("./"):
            continue  # an action of this repository is pinned by the checkout itself
        assert PINNED.match(ref), f"{path.name}: `uses: {ref}` must be <action>@<sha> # vX.Y.Z"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_checkout_drops_its_credentials(path: Path) -> None:
    for name, job in load(path)["jobs"].items():
        for step in steps(job):
            if action(step) == "actions/checkout":
                assert step.get("with", {}).get("persist-credentials") is False, (
                    f"{path.name} job {name}: checkout must set persist-credentials: false"
                )


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_permissions_are_empty_by_default_and_given_per_job(path: Path) -> None:
    workflow = load(path)
    assert workflow.get("permissions") == {}, f"{path.name}: top-level permissions must be {{}}"
    for name, job in workflow["jobs"].items():
        assert isinstance(job.get("permissions"), dict), f"{path.name} job {name}: no permissions"
        assert "write-all" not in str(job["permissions"]), f"{path.name} job {name}"


def test_each_job_has_the_least_permissions(terraform_jobs: dict[str, dict[str, Any]]) -> None:
    assert terraform_jobs["build"]["permissions"] == {"contents": "read"}
    assert terraform_jobs["plan"]["permissions"] == {"contents": "read", "id-token": "write"}
    assert terraform_jobs["comment"]["permissions"] == {"pull-requests": "write"}


def test_only_the_plan_job_can_get_cloud_credentials(
    terraform_jobs: dict[str, dict[str, Any]],
) -> None:
    for name, job in terraform_jobs.items():
        credentials = [s for s in steps(job) if "configure-aws-credentials" in action(s)]
        if name == "plan":
            assert len(credentials) == 1
            assert job["permissions"].get("id-token") == "write"
        else:
            assert not credentials, f"job {name} must not get cloud credentials"
            assert "id-token" not in job["permissions"], f"job {name} must not get an OIDC token"


def test_the_plan_runs_in_the_dev_plan_environment_after_the_build(
    terraform_jobs: dict[str, dict[str, Any]],
) -> None:
    plan = terraform_jobs["plan"]
    assert plan["environment"] == "dev-plan"
    assert plan["needs"] == "build"
    # Fork pull requests get no OIDC token.
    assert "head.repo.full_name == github.repository" in plan["if"]


def test_the_plan_uses_the_zips_the_build_uploaded(
    terraform_jobs: dict[str, dict[str, Any]],
) -> None:
    uploads = [
        s["with"] for s in steps(terraform_jobs["build"]) if action(s) == "actions/upload-artifact"
    ]
    downloads = [
        s["with"] for s in steps(terraform_jobs["plan"]) if action(s) == "actions/download-artifact"
    ]
    assert len(uploads) == 1 and len(downloads) == 1
    assert uploads[0]["name"] == downloads[0]["name"] == "lambda-zips"
    assert uploads[0]["path"] == "build/functions/*.zip"
    assert uploads[0]["if-no-files-found"] == "error"
    # Where infra/envs/dev's functions_build_dir default looks for them.
    assert downloads[0]["path"] == "build/functions"


def test_the_plan_job_runs_terraform_and_nothing_of_the_repository(
    terraform_jobs: dict[str, dict[str, Any]],
) -> None:
    plan = terraform_jobs["plan"]
    script = run_text(plan)
    for forbidden in ("make ", "pip", "python", "npm", "node ", "scripts/", ".venv", "pytest"):
        assert forbidden not in script, f"the plan job must not run `{forbidden.strip()}`"
    commands = [
        line.strip()
        for line in script.splitlines()
        if line.strip().startswith("terraform ") or "terraform -chdir" in line
    ]
    init = [c for c in commands if " init " in f"{c} "]
    assert init and all("-lockfile=readonly" in c for c in init), init
    assert any(" plan " in c for c in commands), commands
    assert not any(re.search(r"\b(apply|destroy|import|state)\b", c) for c in commands), commands
    # Credentials come after everything that brings files in, right before terraform.
    names = [action(s) or s.get("name", "") for s in steps(plan)]
    assert names.index("aws-actions/configure-aws-credentials") > max(
        names.index("actions/checkout"), names.index("actions/download-artifact")
    )


def test_the_build_job_lints_tests_and_packages(
    terraform_jobs: dict[str, dict[str, Any]],
) -> None:
    script = run_text(terraform_jobs["build"])
    assert "make lint" in script
    assert "pytest tests/infra" in script
    assert "make package" in script


def test_the_comment_job_checks_nothing_out(terraform_jobs: dict[str, dict[str, Any]]) -> None:
    comment = terraform_jobs["comment"]
    assert comment["needs"] == "plan"
    uses = [action(s) for s in steps(comment)]
    assert "actions/checkout" not in uses
    assert uses == ["actions/download-artifact", "actions/github-script"]
    assert not run_text(comment).strip(), "the comment job runs no shell"


def test_no_expression_is_expanded_inside_a_shell_script() -> None:
    """`${{ }}` in `run:` is template injection waiting to happen: pass values through env."""
    for path in WORKFLOWS:
        for name, job in load(path)["jobs"].items():
            for step in steps(job):
                assert "${{" not in str(step.get("run", "")), f"{path.name} job {name}: {step}"


def test_lint_ci_finds_every_shell_script() -> None:
    listed = subprocess.run(
        ["bash", "scripts/lint_ci.sh", "--list-shell-scripts"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.split()
    expected = {".ci/run", *(str(p.relative_to(REPO_ROOT)) for p in REPO_ROOT.glob("scripts/*.sh"))}
    assert expected <= set(listed), sorted(expected - set(listed))
    assert all(not name.endswith((".py", ".mjs", ".tf")) for name in listed), listed
