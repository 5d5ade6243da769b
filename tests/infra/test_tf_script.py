"""scripts/tf.sh on a provider-free root in a copy of the repo layout: plan, apply, destroy."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts.offline_plan import REPO_ROOT, ZIP_NAMES

pytestmark = pytest.mark.terraform

# The root copied in as infra/envs/local: no provider, so no mirror and no network.
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "tf_script_local"


@pytest.fixture(scope="module")
def local_cloud_port() -> Iterator[int]:
    """A listening socket where tf.sh expects the local cloud (it only checks that one answers)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield server.getsockname()[1]


@pytest.fixture
def repo(tmp_path: Path, local_cloud_port: int) -> Path:
    """A repo with scripts/tf.sh and one root, `local`, that needs no provider."""
    (tmp_path / "scripts").mkdir()
    shutil.copy2(REPO_ROOT / "scripts" / "tf.sh", tmp_path / "scripts" / "tf.sh")
    (tmp_path / "infra" / "modules").mkdir(parents=True)
    root = tmp_path / "infra" / "envs" / "local"
    shutil.copytree(FIXTURE, root)
    (tmp_path / "port").write_text(str(local_cloud_port))
    return tmp_path


def tf_sh(
    repo: Path, *args: str, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_VAR_", "AWS_"))}
    env.pop("TF_BUILD_DIR", None)
    port = (repo / "port").read_text()
    # The stand-in socket checks no signature; tf.sh only checks a key is there to sign with.
    key = {"AWS_ACCESS_KEY_ID": "stand-in-key-id", "AWS_SECRET_ACCESS_KEY": "stand-in-secret"}
    env.update({"TF_PLUGIN_MIRROR": "none", "LOCAL_CLOUD_PORT": port, **key, **(extra_env or {})})
    return subprocess.run(
        [str(repo / "scripts" / "tf.sh"), *args],
        cwd=repo,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def packaged_and_initialised(repo: Path) -> None:
    """The zips tf.sh checks for (ZIP_NAMES, as `make package` builds them), then `init local`."""
    build = repo / "build" / "functions"
    build.mkdir(parents=True)
    for name in ZIP_NAMES:
        (build / f"{name}.zip").write_bytes(b"zip")
    assert tf_sh(repo, "init", "local").returncode == 0


def test_apply_without_a_saved_plan_says_what_to_run(repo: Path) -> None:
    result = tf_sh(repo, "apply", "local")
    assert result.returncode == 1
    assert "no saved plan for local" in result.stderr and "make plan ENV=local" in result.stderr


def test_local_plan_without_the_local_cloud_key_says_how_to_get_it(repo: Path) -> None:
    packaged_and_initialised(repo)
    result = tf_sh(repo, "plan", "local", extra_env={"AWS_ACCESS_KEY_ID": ""})
    assert result.returncode == 1
    assert "no local cloud key" in result.stderr and "make -s local-env" in result.stderr
    assert not (repo / "build" / "terraform" / "local.tfplan").exists()


def test_unknown_environment_is_refused(repo: Path) -> None:
    result = tf_sh(repo, "plan", "staging")
    assert result.returncode == 1 and "no environment 'staging'" in result.stderr


def test_plan_then_apply_applies_the_saved_plan_once(repo: Path) -> None:
    packaged_and_initialised(repo)
    planned = tf_sh(repo, "plan", "local")
    assert planned.returncode == 0, planned.stderr
    plan_file = repo / "build" / "terraform" / "local.tfplan"
    assert plan_file.is_file()
    applied = tf_sh(repo, "apply", "local")
    assert applied.returncode == 0, applied.stderr
    assert not plan_file.exists(), "a plan is applied once"
    output = tf_sh(repo, "output", "local", "-raw", "endpoint")
    port = (repo / "port").read_text()
    assert output.stdout == f"http://127.0.0.1:{port}", "LOCAL_CLOUD_PORT sets the local cloud URL"


def test_a_plan_older_than_the_configuration_is_refused(repo: Path) -> None:
    packaged_and_initialised(repo)
    assert tf_sh(repo, "plan", "local").returncode == 0
    main_tf = repo / "infra" / "envs" / "local" / "main.tf"
    main_tf.write_text(main_tf.read_text().replace('"hello"', '"changed"'))
    result = tf_sh(repo, "apply", "local")
    assert result.returncode == 1 and "stale" in result.stderr


def test_local_plan_needs_the_local_cloud(repo: Path) -> None:
    packaged_and_initialised(repo)
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    result = tf_sh(repo, "plan", "local", extra_env={"LOCAL_CLOUD_PORT": str(free)})
    assert result.returncode == 1 and "make local-up" in result.stderr


def test_plan_needs_the_zips(repo: Path) -> None:
    assert tf_sh(repo, "init", "local").returncode == 0
    result = tf_sh(repo, "plan", "local")
    assert result.returncode == 1 and "make package" in result.stderr


def test_destroy_asks_unless_auto_approve(repo: Path) -> None:
    assert tf_sh(repo, "init", "local").returncode == 0
    refused = tf_sh(repo, "destroy", "local")
    assert refused.returncode == 1 and "AUTO_APPROVE=1" in refused.stderr
    approved = tf_sh(repo, "destroy", "local", extra_env={"AUTO_APPROVE": "1"})
    assert approved.returncode == 0, approved.stderr


def test_mirror_gives_an_offline_cli_config(repo: Path, tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    (mirror / "registry.terraform.io" / "hashicorp" / "aws").mkdir(parents=True)
    result = tf_sh(repo, "cli-config", extra_env={"TF_PLUGIN_MIRROR": str(mirror)})
    config = Path(result.stdout.strip())
    assert config == repo / "build" / "terraform" / "terraformrc"
    text = config.read_text()
    assert f'path    = "{mirror}"' in text
    assert 'exclude = ["registry.terraform.io/*/*"]' in text
    assert "disable_checkpoint = true" in text
    assert tf_sh(repo, "cli-config").stdout.strip() == "", "TF_PLUGIN_MIRROR=none: the registry"


def test_a_mirror_without_the_provider_is_an_error(repo: Path, tmp_path: Path) -> None:
    result = tf_sh(repo, "cli-config", extra_env={"TF_PLUGIN_MIRROR": str(tmp_path)})
    assert (
        result.returncode == 1 and "holds no registry.terraform.io/hashicorp/aws" in result.stderr
    )
