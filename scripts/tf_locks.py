"""Check that each Terraform root's .terraform.lock.hcl carries a provider hash for every
platform the project runs Terraform on, and that the hashes of the local mirror's packages match.

A lock's `hashes` do not say which platform each belongs to. A platform whose package is in
the local provider mirror is checked exactly: its `h1:` hash is computed here, the way
Terraform does (internal/getproviders/hash.go, PackageHashV1: golang.org/x/mod/sumdb/dirhash
Hash1 of the unpacked directory, or of the zip's entries; `zh:` is the zip's sha256). Any
other platform can only be counted: each platform that `terraform providers lock -platform=..`
adds brings one `h1:` hash, so the lock needs one `h1:` beyond the mirror's per such platform.
When one is missing, the message gives the command that adds it where the registry is reachable
(`providers lock` asks the origin registry whatever the CLI's installation settings, per
developer.hashicorp.com/terraform/cli/commands/providers/lock).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import re
import sys
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

REPO_ROOT = Path(__file__).resolve().parent.parent
ENVS_DIR = REPO_ROOT / "infra" / "envs"
# CI and the build machines run linux_amd64; engineers' laptops are Apple silicon Macs.
REQUIRED_PLATFORMS: tuple[str, ...] = ("linux_amd64", "darwin_arm64")
# scripts/tf.sh looks for a mirror in the same places, in the same order.
MIRROR_CANDIDATES = (Path("/opt/tf-plugins"), Path.home() / ".terraform.d" / "plugins")

_PROVIDER = re.compile(r'provider\s+"([^"]+)"\s*\{(.*?)\n\}', re.S)
_VERSION = re.compile(r'^\s*version\s*=\s*"([^"]+)"', re.M)
_HASHES = re.compile(r"hashes\s*=\s*\[(.*?)\]", re.S)

# How a problem only the registry can fix says so (a warning unless CI=true).
UNCOMPUTABLE = "cannot be computed here"


class TerraformLockError(Exception):
    """A root's lock file is missing or unreadable; the message says which."""


@dataclass(frozen=True)
class LockedProvider:
    """One provider block of a .terraform.lock.hcl."""

    source: str
    version: str
    hashes: frozenset[str]


def read_lock(path: Path) -> list[LockedProvider]:
    """The provider blocks of a dependency lock file."""
    if not path.is_file():
        raise TerraformLockError(f"{path} is missing: run `make init ENV={path.parent.name}`")
    providers = []
    for source, body in _PROVIDER.findall(path.read_text(encoding="utf-8")):
        version = _VERSION.search(body)
        hashes = _HASHES.search(body)
        if version is None or hashes is None:
            raise TerraformLockError(f"{path}: provider {source} has no version or hashes")
        providers.append(
            LockedProvider(source, version.group(1), frozenset(re.findall(r'"([^"]+)"', hashes[1])))
        )
    if not providers:
        raise TerraformLockError(f"{path} locks no provider")
    return providers


def find_mirror(environ: dict[str, str] | None = None) -> Path | None:
    """The provider mirror scripts/tf.sh would use (TF_PLUGIN_MIRROR, none: no mirror)."""
    env = os.environ if environ is None else environ
    configured = env.get("TF_PLUGIN_MIRROR", "")
    if configured == "none":
        return None
    if configured:
        return Path(configured)
    return next((path for path in MIRROR_CANDIDATES if path.is_dir()), None)


def mirror_hashes(mirror: Path, provider: LockedProvider, platform: str) -> set[str] | None:
    """The hashes Terraform records for this package of the mirror, or None if it lacks it."""
    base = mirror.joinpath(*provider.source.split("/"))
    unpacked = base / provider.version / platform
    if unpacked.is_dir():
        files = sorted(
            path.relative_to(unpacked).as_posix() for path in unpacked.rglob("*") if path.is_file()
        )
        return {_hash1(files, lambda name: (unpacked / name).open("rb"))}
    name = provider.source.rsplit("/", 1)[1]
    packed = base / f"terraform-provider-{name}_{provider.version}_{platform}.zip"
    if packed.is_file():
        with zipfile.ZipFile(packed) as archive:
            # Directory entries are not files: Terraform's h1 of a zip equals that of the same
            # files unpacked (checked in tests/infra/test_tf_locks.py).
            names = [name for name in archive.namelist() if not name.endswith("/")]
            h1 = _hash1(names, archive.open)
        return {h1, f"zh:{_sha256(packed.open('rb'))}"}
    return None


def problems(
    envs_dir: Path = ENVS_DIR,
    *,
    mirror: Path | None = None,
    platforms: Sequence[str] = REQUIRED_PLATFORMS,
) -> list[str]:
    """Every root lock that lacks a platform's hash; empty when all are there."""
    roots = sorted(path.parent for path in envs_dir.glob("*/versions.tf"))
    if not roots:
        raise TerraformLockError(f"no Terraform root under {envs_dir}")
    found: list[str] = []
    computed: dict[tuple[str, str, str], set[str] | None] = {}
    for root in roots:
        lock = root / ".terraform.lock.hcl"
        shown = _shown(lock)
        for provider in read_lock(lock):
            unverifiable = []
            mirrored: set[str] = set()
            for platform in platforms:
                key = (provider.source, provider.version, platform)
                if key not in computed:
                    computed[key] = mirror_hashes(mirror, provider, platform) if mirror else None
                hashes = computed[key]
                if hashes is None:
                    unverifiable.append(platform)
                elif hashes & provider.hashes:
                    mirrored |= hashes
                else:
                    found.append(
                        f"{shown}: no hash of {provider.source} {provider.version} for {platform} "
                        f"matches the package in {mirror}; run: terraform -chdir="
                        f"{_shown(root)} providers lock -fs-mirror={mirror} -platform={platform}"
                    )
            others = {h for h in provider.hashes - mirrored if h.startswith("h1:")}
            if len(others) < len(unverifiable):
                flags = " ".join(f"-platform={p}" for p in platforms)
                found.append(
                    f"{shown}: {provider.source} {provider.version} lacks a hash for "
                    f"{' or '.join(unverifiable)} (not in "
                    f"{'the mirror ' + str(mirror) if mirror else 'any local mirror'}, so it "
                    f"{UNCOMPUTABLE}); where registry.terraform.io is reachable run: "
                    f"terraform -chdir={_shown(root)} providers lock {flags}"
                )
    return found


def registry_command(
    envs_dir: Path = ENVS_DIR, platforms: Iterable[str] = REQUIRED_PLATFORMS
) -> str:
    """The one command that adds every required platform's hashes to every root."""
    roots = " ".join(sorted(path.parent.name for path in envs_dir.glob("*/versions.tf")))
    flags = " ".join(f"-platform={p}" for p in platforms)
    return (
        f"for env in {roots}; do terraform -chdir={_shown(envs_dir)}/$env providers lock "
        f"{flags}; done"
    )


def _hash1(names: Iterable[str], open_file: Callable[[str], IO[bytes]]) -> str:
    # dirhash.Hash1: sha256 over "<sha256 hex of file>  <slash path>\n", the paths sorted.
    summary = hashlib.sha256()
    for name in sorted(names):
        summary.update(f"{_sha256(open_file(name))}  {name}\n".encode())
    return "h1:" + base64.b64encode(summary.digest()).decode("ascii")


def _sha256(handle: IO[bytes]) -> str:
    digest = hashlib.sha256()
    with handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.tf_locks", description=__doc__)
    parser.add_argument("--envs-dir", type=Path, default=ENVS_DIR)
    args = parser.parse_args(argv)
    mirror = find_mirror()
    try:
        found = problems(args.envs_dir, mirror=mirror)
    except TerraformLockError as exc:
        print(f"tf_locks: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    for problem in found:
        print(f"tf_locks: {problem}", file=sys.stderr)
    if found:
        print(
            f"tf_locks: for every root at once: {registry_command(args.envs_dir)}", file=sys.stderr
        )
        fixable_here = [p for p in found if UNCOMPUTABLE not in p]
        if not fixable_here and os.environ.get("CI", "").lower() != "true":
            # Only hashes this machine cannot compute are missing: a developer without the
            # registry is told, and CI (CI=true, as GitHub Actions sets it) fails on it.
            print("tf_locks: a warning here; with CI=true this fails", file=sys.stderr)
            return 0
        return 1
    print(f"tf_locks: every root locks a hash for {', '.join(REQUIRED_PLATFORMS)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
