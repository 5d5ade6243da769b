"""House style of infra/: module files, typed and described variables, thin roots (a provider,
a backend, terraform.tfvars and one call of the stack), validation in the module that owns the
value, committed lock files (the checkov skips: test_checkov_skips.py)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from localcloud import control
from scripts.offline_plan import INFRA, REPO_ROOT
from tests.support.infra_kit import ACCOUNT_MODULES, MODULES

pytestmark = pytest.mark.terraform

ROOTS = ("dev", "prod", "local")
ROOT_FILES = ("main.tf", "variables.tf", "outputs.tf", "moved.tf", "versions.tf", "providers.tf")
# Variables a root declares besides its terraform.tfvars keys: what the tooling sets
# (TF_VAR_functions_build_dir in tests, model.auto.tfvars.json from `make promote`, and for local
# TF_VAR_local_cloud_endpoint from scripts/tf.sh).
TOOLING_VARIABLES = {"functions_build_dir", "model_package_arn", "model_data_url"}
PROVIDER_VARIABLES = {"local": {"local_cloud_endpoint"}}
# Values validated outside the five concern modules: only those the stack or a root owns.
OWN_VALIDATIONS = {
    # incoming_prefix: the one check relating two values (serializeImageData must be allowed to
    # read what the trigger starts it for); its own format is the ingest module's.
    "infra/modules/stack": {"environment", "project", "incoming_prefix"},
    "infra/envs/local": {"local_cloud_endpoint"},
}
CONCERN_MODULES = tuple(m for m in MODULES if m != "stack" and m not in ACCOUNT_MODULES)
# The modules the roots called themselves before infra/modules/stack existed (e195b51).
ONCE_CALLED = ("storage", "functions", "model_endpoint", "workflow", "monitoring")
MODULE_CALL = re.compile(r'^module "(\w+)" \{\n(.*?)^\}', re.MULTILINE | re.DOTALL)
MOVED = re.compile(r"^moved \{\n\s+from = (\S+)\n\s+to\s+= (\S+)\n\}", re.MULTILINE)
BLOCK = re.compile(r'^(variable|output) "([\w-]+)" \{\n(.*?)^\}', re.MULTILINE | re.DOTALL)
RESOURCE = re.compile(r'^resource "(\w+)" "(\w+)"', re.MULTILINE)
RETENTION_DAYS = "1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827"


def tf_files() -> list[Path]:
    return sorted(p for p in INFRA.rglob("*.tf") if ".terraform" not in p.parts)


def blocks(kind: str) -> list[tuple[Path, str, str]]:
    found = []
    for path in tf_files():
        for match in BLOCK.finditer(path.read_text()):
            if match.group(1) == kind:
                found.append((path, match.group(2), match.group(3)))
    return found


def argument_order(body: str) -> list[str]:
    """Top-level arguments and blocks of a variable, in order (fmt indents them by two)."""
    return re.findall(r"^  (description|type|default|validation|nullable|sensitive)\b", body, re.M)


@pytest.mark.parametrize("module", MODULES)
def test_module_has_the_standard_files(module: str) -> None:
    folder = INFRA / "modules" / module
    for name in ("main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md"):
        assert (folder / name).is_file(), f"infra/modules/{module}/{name} is missing"
    assert list((folder / "tests").glob("*.tftest.hcl")), f"{module} has no terraform tests"
    versions = (folder / "versions.tf").read_text()
    assert "required_version" in versions
    assert re.search(r'source\s*=\s*"hashicorp/aws"\s*\n\s*version\s*=\s*">= 5\.\d+"', versions)


@pytest.mark.parametrize("module", MODULES)
def test_a_single_resource_of_a_type_is_named_this(module: str) -> None:
    names: dict[str, list[str]] = {}
    for path in (INFRA / "modules" / module).glob("*.tf"):
        for resource_type, name in RESOURCE.findall(path.read_text()):
            names.setdefault(resource_type, []).append(name)
    for resource_type, declared in names.items():
        if len(declared) == 1:
            assert declared == ["this"], f"{module}: {resource_type}.{declared[0]}"


def test_every_variable_is_described_then_typed() -> None:
    variables = blocks("variable")
    assert len(variables) > 50
    for path, name, body in variables:
        order = argument_order(body)
        where = f"{path.relative_to(REPO_ROOT)}: variable {name}"
        assert order[:2] == ["description", "type"], f"{where} must start description, type"
        expected = [a for a in ("description", "type", "default", "validation") if a in order]
        assert [a for a in order if a in expected] == sorted(
            [a for a in order if a in expected], key=expected.index
        ), f"{where}: description, type, default, validation"


def test_every_output_is_described() -> None:
    outputs = blocks("output")
    assert outputs
    for path, name, body in outputs:
        assert re.search(r"^  description\s*=", body, re.M), f"{path}: output {name}"


def test_constrained_variables_are_validated_by_the_module_that_owns_them() -> None:
    for path, name, body in blocks("variable"):
        folder = path.parent.relative_to(REPO_ROOT).as_posix()
        if folder not in {f"infra/modules/{m}" for m in (*CONCERN_MODULES, *ACCOUNT_MODULES)}:
            continue
        if re.search(r"threshold|percentage|retention|log_level|_arn$", name):
            assert "validation {" in body, f"{path.relative_to(REPO_ROOT)}: {name}"
        if "retention" in name:
            assert RETENTION_DAYS in body, f"{name} must allow only CloudWatch retention values"


def test_the_stack_and_the_roots_validate_only_what_they_own() -> None:
    """A value passed on is checked once, by the module it is passed to, with one message."""
    validated: dict[str, set[str]] = {}
    for path, name, body in blocks("variable"):
        folder = path.parent.relative_to(REPO_ROOT).as_posix()
        owner = folder.startswith("infra/envs/") or folder == "infra/modules/stack"
        if owner and "validation {" in body:
            validated.setdefault(folder, set()).add(name)
    assert validated == OWN_VALIDATIONS


def names_in(path: Path, kind: str) -> set[str]:
    return set(re.findall(rf'^{kind} "([\w-]+)"', path.read_text(), re.M))


def tfvars_keys(root: str) -> set[str]:
    text = (INFRA / "envs" / root / "terraform.tfvars").read_text()
    return set(re.findall(r"^(\w+)\s*=", text, re.M))


@pytest.mark.parametrize("root", ROOTS)
def test_root_is_a_provider_a_backend_tfvars_and_one_call_of_the_stack(root: str) -> None:
    folder = INFRA / "envs" / root
    files = {p.name for p in folder.iterdir() if p.is_file() and p.name != "backend.hcl"}
    assert files == {*ROOT_FILES, "terraform.tfvars", ".terraform.lock.hcl"}, root
    text = "\n".join(p.read_text() for p in sorted(folder.glob("*.tf")))
    assert not re.search(r'^(resource|data) "', text, re.M), f"{root}: resources belong in modules"
    (call,) = MODULE_CALL.findall((folder / "main.tf").read_text())
    name, body = call
    assert name == "stack" and re.search(r'^  source = "../../modules/stack"$', body, re.M)
    arguments = dict(re.findall(r"^  (\w+)\s*= (.+)$", body, re.M))
    del arguments["source"]
    assert all(value == f"var.{key}" for key, value in arguments.items()), root


@pytest.mark.parametrize("root", ROOTS)
def test_root_declares_only_what_its_tfvars_and_the_tooling_set(root: str) -> None:
    folder = INFRA / "envs" / root
    declared = names_in(folder / "variables.tf", "variable") | names_in(
        folder / "providers.tf", "variable"
    )
    own = PROVIDER_VARIABLES.get(root, set())
    assert declared == tfvars_keys(root) | TOOLING_VARIABLES | own
    (call,) = MODULE_CALL.findall((folder / "main.tf").read_text())
    passed = set(re.findall(r"^  (\w+)\s*= var\.", call[1], re.M))
    # A root's own provider settings (local_cloud_endpoint) stay there; the rest go to the stack.
    assert passed == declared - own, root
    assert passed <= names_in(INFRA / "modules" / "stack" / "variables.tf", "variable")


@pytest.mark.parametrize("root", ROOTS)
def test_root_outputs_are_the_stacks(root: str) -> None:
    text = (INFRA / "envs" / root / "outputs.tf").read_text()
    values = dict(re.findall(r'^output "(\w+)" \{\n(?:.*\n)*?  value\s*= (.+)$', text, re.M))
    stack_outputs = names_in(INFRA / "modules" / "stack" / "outputs.tf", "output")
    assert values == {name: f"module.stack.{name}" for name in stack_outputs}


@pytest.mark.parametrize("root", ROOTS)
def test_root_moves_the_modules_it_once_called_into_the_stack(root: str) -> None:
    """States made before the stack kept module.<name> at the top: moved.tf maps each one."""
    stack_calls = {n for n, _ in MODULE_CALL.findall((INFRA / "modules/stack/main.tf").read_text())}
    assert stack_calls == set(CONCERN_MODULES)
    moves = MOVED.findall((INFRA / "envs" / root / "moved.tf").read_text())
    # results and ingest came after the stack: no state ever had them at the top.
    assert sorted(moves) == sorted((f"module.{n}", f"module.stack.module.{n}") for n in ONCE_CALLED)


@pytest.mark.parametrize("root", ROOTS)
def test_lock_file_pins_the_aws_provider(root: str) -> None:
    lock = (INFRA / "envs" / root / ".terraform.lock.hcl").read_text()
    assert 'provider "registry.terraform.io/hashicorp/aws"' in lock
    assert 'version     = "5.100.0"' in lock
    assert 'constraints = ">= 5.100.0, < 6.0.0"' in lock
    assert re.search(r'"h1:[A-Za-z0-9+/=]+"', lock)


@pytest.mark.parametrize("root", ["dev", "prod"])
def test_cloud_roots_use_an_s3_backend_with_a_lock_file(root: str) -> None:
    versions = (INFRA / "envs" / root / "versions.tf").read_text()
    assert 'backend "s3"' in versions and re.search(r"use_lockfile\s*=\s*true", versions)
    backend = (INFRA / "envs" / root / "backend.hcl").read_text()
    for key in ("bucket", "key", "region"):
        assert re.search(rf"^{key}\s*=", backend, re.M), f"{root}/backend.hcl lacks {key}"
    assert f"/{root}/terraform.tfstate" in backend


def test_local_root_points_every_service_at_the_local_cloud() -> None:
    versions = (INFRA / "envs" / "local" / "versions.tf").read_text()
    assert 'backend "local"' in versions and "build/terraform/local" in versions
    providers = (INFRA / "envs" / "local" / "providers.tf").read_text()
    for setting in (
        "skip_credentials_validation = true",
        "skip_metadata_api_check     = true",
        "skip_region_validation      = true",
        "s3_use_path_style           = true",
        "max_retries = 2",
    ):
        assert setting in providers, setting
    endpoints = set(re.findall(r"^\s+(\w+)\s*= var\.local_cloud_endpoint", providers, re.M))
    assert {"s3", "iam", "sts", "lambda", "sfn", "sagemaker", "logs", "cloudwatch"} <= endpoints


def test_the_literal_default_ports_agree_with_the_local_cloud() -> None:
    """Terraform, make and tf.sh cannot import localcloud.control.DEFAULT_PORT: each names it
    once, and must name the same port."""
    port = control.DEFAULT_PORT
    providers = (INFRA / "envs" / "local" / "providers.tf").read_text()
    assert re.search(rf'^\s*default\s*=\s*"{control.endpoint_url(port)}"$', providers, re.M)
    makefile = (REPO_ROOT / "Makefile").read_text()
    assert re.search(rf"^LOCAL_CLOUD_PORT \?= {port}$", makefile, re.M)
    tf_sh = (REPO_ROOT / "scripts" / "tf.sh").read_text()
    assert re.search(rf"^DEFAULT_LOCAL_CLOUD_PORT={port}$", tf_sh, re.M)
    assert tf_sh.count(str(port)) == 1, "tf.sh names the default port once"


def test_no_generated_or_secret_file_is_tracked() -> None:
    if shutil.which("git") is None or not (REPO_ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    tracked = subprocess.run(
        ["git", "ls-files", "infra"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    for name in tracked:
        assert not re.search(r"\.tfstate|\.tfplan$|auto\.tfvars|/\.terraform/|\.zip$", name), name
        if name.endswith(".terraform.lock.hcl"):
            assert name.startswith("infra/envs/"), f"{name}: modules take versions from roots"
