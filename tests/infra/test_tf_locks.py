"""scripts/tf_locks: each root's lock carries a hash per platform; missing ones name the command."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from scripts import tf_locks
from tests.support.prereq import require

REPO_ROOT = Path(__file__).resolve().parents[2]
SOURCE = "registry.terraform.io/hashicorp/fake"
VERSION = "1.2.3"
OTHER_H1 = "h1:" + "A" * 43 + "="


def fake_mirror(tmp_path: Path) -> Path:
    """A mirror with hashicorp/fake 1.2.3: linux_amd64 unpacked, darwin_arm64 as a zip."""
    mirror = tmp_path / "mirror"
    unpacked = mirror / SOURCE / VERSION / "linux_amd64"
    (unpacked / "docs").mkdir(parents=True)
    (unpacked / f"terraform-provider-fake_v{VERSION}_x5").write_bytes(b"\x7fELF linux build")
    (unpacked / "docs" / "LICENSE.txt").write_text("MPL-2.0\n")
    packed = mirror / SOURCE / f"terraform-provider-fake_{VERSION}_darwin_arm64.zip"
    with zipfile.ZipFile(packed, "w") as archive:
        archive.writestr("docs/", "")
        archive.writestr("docs/LICENSE.txt", "MPL-2.0\n")
        archive.writestr(f"terraform-provider-fake_v{VERSION}_x5", b"\xcf\xfa\xed\xfe mac build")
    return mirror


def roots(tmp_path: Path, *hashes: str, names: tuple[str, ...] = ("dev", "prod")) -> Path:
    envs = tmp_path / "envs"
    for name in names:
        root = envs / name
        root.mkdir(parents=True)
        (root / "versions.tf").write_text(
            'terraform {\n  required_providers {\n    fake = { source = "hashicorp/fake", '
            'version = ">= 1.0" }\n  }\n}\n'
        )
        listed = "".join(f'    "{h}",\n' for h in hashes)
        (root / ".terraform.lock.hcl").write_text(
            f'provider "{SOURCE}" {{\n  version     = "{VERSION}"\n'
            f'  constraints = ">= 1.0.0"\n  hashes = [\n{listed}  ]\n}}\n'
        )
    return envs


def provider() -> tf_locks.LockedProvider:
    return tf_locks.LockedProvider(SOURCE, VERSION, frozenset())


def linux_h1(mirror: Path) -> str:
    hashes = tf_locks.mirror_hashes(mirror, provider(), "linux_amd64")
    assert hashes is not None and len(hashes) == 1
    return hashes.pop()


@pytest.mark.terraform
def test_hashes_are_the_ones_terraform_computes(tmp_path: Path) -> None:
    """Terraform's own `providers lock -fs-mirror` records exactly the h1 computed here, for an
    unpacked package and for a zip (with a directory entry) alike."""
    require(shutil.which("terraform") is not None, "terraform is not on PATH")
    mirror = fake_mirror(tmp_path)
    envs = roots(tmp_path, names=("dev",))
    (envs / "dev" / ".terraform.lock.hcl").unlink()
    command = ["terraform", "-chdir=" + str(envs / "dev"), "providers", "lock"]
    command += [f"-fs-mirror={mirror}", "-platform=linux_amd64", "-platform=darwin_arm64"]
    subprocess.run(
        command,
        check=True,
        capture_output=True,
        env={"PATH": "/usr/bin:/bin:/usr/local/bin", "TF_CLI_CONFIG_FILE": "/dev/null"},
        timeout=120,
    )
    (locked,) = tf_locks.read_lock(envs / "dev" / ".terraform.lock.hcl")
    zip_hashes = tf_locks.mirror_hashes(mirror, provider(), "darwin_arm64")
    assert zip_hashes is not None
    zip_h1 = {h for h in zip_hashes if h.startswith("h1:")}
    assert locked.hashes == {linux_h1(mirror), *zip_h1}
    assert tf_locks.problems(envs, mirror=mirror) == []


def test_the_committed_locks_hold_the_mirrors_own_hash() -> None:
    mirror = tf_locks.find_mirror()
    require(mirror is not None, "no Terraform provider mirror on this machine")
    assert mirror is not None
    checked = 0
    for lock in sorted((REPO_ROOT / "infra" / "envs").glob("*/.terraform.lock.hcl")):
        for locked in tf_locks.read_lock(lock):
            for platform in tf_locks.REQUIRED_PLATFORMS:
                hashes = tf_locks.mirror_hashes(mirror, locked, platform)
                if hashes is not None:
                    checked += 1
                    assert hashes & locked.hashes, f"{lock} lacks the mirror's {platform} hash"
    require(checked > 0, f"{mirror} holds no package of a locked provider")


def test_a_platform_outside_the_mirror_is_counted_and_its_command_given(tmp_path: Path) -> None:
    mirror = fake_mirror(tmp_path)
    (mirror / SOURCE / f"terraform-provider-fake_{VERSION}_darwin_arm64.zip").unlink()
    envs = roots(tmp_path, linux_h1(mirror))
    found = tf_locks.problems(envs, mirror=mirror)
    assert len(found) == 2
    assert found[0].startswith(f"{envs / 'dev' / '.terraform.lock.hcl'}: {SOURCE} {VERSION}")
    assert "lacks a hash for darwin_arm64" in found[0]
    assert found[0].endswith(
        f"terraform -chdir={envs / 'dev'} providers lock -platform=linux_amd64 "
        "-platform=darwin_arm64"
    )
    # One more h1 (what `providers lock -platform=darwin_arm64` adds) and the count is met.
    assert tf_locks.problems(roots(tmp_path / "b", linux_h1(mirror), OTHER_H1), mirror=mirror) == []
    # zh: hashes (the registry's zip checksums, for every platform) do not count for one.
    zh_only = roots(tmp_path / "c", linux_h1(mirror), "zh:" + "0" * 64)
    assert len(tf_locks.problems(zh_only, mirror=mirror)) == 2


def test_a_mirrored_package_whose_hash_is_missing_names_the_fs_mirror_command(
    tmp_path: Path,
) -> None:
    mirror = fake_mirror(tmp_path)
    envs = roots(tmp_path, OTHER_H1, names=("dev",))
    found = tf_locks.problems(envs, mirror=mirror)
    assert [re.sub(r"-platform=\w+$", "", f).rsplit("run: ", 1)[1] for f in found] == [
        f"terraform -chdir={envs / 'dev'} providers lock -fs-mirror={mirror} ",
        f"terraform -chdir={envs / 'dev'} providers lock -fs-mirror={mirror} ",
    ]
    assert "for linux_amd64" in found[0] and "for darwin_arm64" in found[1]


def test_without_a_mirror_each_platform_needs_its_own_h1(tmp_path: Path) -> None:
    one = roots(tmp_path / "a", OTHER_H1, names=("dev",))
    (found,) = tf_locks.problems(one, mirror=None)
    assert "lacks a hash for linux_amd64 or darwin_arm64 (not in any local mirror" in found
    two = roots(tmp_path / "b", OTHER_H1, "h1:" + "B" * 43 + "=", names=("dev",))
    assert tf_locks.problems(two, mirror=None) == []


def test_the_mirror_is_found_as_tf_sh_finds_it(tmp_path: Path) -> None:
    assert tf_locks.find_mirror({"TF_PLUGIN_MIRROR": "none"}) is None
    assert tf_locks.find_mirror({"TF_PLUGIN_MIRROR": str(tmp_path)}) == tmp_path
    tf_sh = (REPO_ROOT / "scripts" / "tf.sh").read_text()
    assert 'for candidate in /opt/tf-plugins "$HOME/.terraform.d/plugins"; do' in tf_sh
    assert (
        Path("/opt/tf-plugins"),
        Path.home() / ".terraform.d" / "plugins",
    ) == tf_locks.MIRROR_CANDIDATES


def test_the_cli_fails_with_the_command_for_every_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TF_PLUGIN_MIRROR", "none")
    monkeypatch.setenv("CI", "true")
    envs = roots(tmp_path, OTHER_H1)
    assert tf_locks.main(["--envs-dir", str(envs)]) == 1
    err = capsys.readouterr().err
    assert err.rstrip().endswith(
        f"for env in dev prod; do terraform -chdir={envs}/$env providers lock "
        "-platform=linux_amd64 -platform=darwin_arm64; done"
    )
    ok = roots(tmp_path / "b", OTHER_H1, "h1:" + "B" * 43 + "=")
    assert tf_locks.main(["--envs-dir", str(ok)]) == 0


def test_the_readme_gives_the_command_the_check_prints() -> None:
    readme = (REPO_ROOT / "README.md").read_text()
    assert tf_locks.registry_command() in readme


def test_a_lock_without_providers_is_a_named_error(tmp_path: Path) -> None:
    envs = roots(tmp_path, OTHER_H1, names=("dev",))
    (envs / "dev" / ".terraform.lock.hcl").write_text("# empty\n")
    with pytest.raises(tf_locks.TerraformLockError, match="locks no provider"):
        tf_locks.problems(envs, mirror=None)


def test_outside_ci_a_hash_only_the_registry_can_add_is_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TF_PLUGIN_MIRROR", "none")
    monkeypatch.delenv("CI", raising=False)
    envs = roots(tmp_path, OTHER_H1)
    assert tf_locks.main(["--envs-dir", str(envs)]) == 0
    err = capsys.readouterr().err
    assert "providers lock" in err and "with CI=true this fails" in err
