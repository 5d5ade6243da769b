"""Build the Lambda zips (one per handler) and the Pillow layer zip, byte for byte reproducibly."""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import re
import stat
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from scripts.locks import LAYER_INPUT, LAYER_LOCK, LockedRequirement, LockFileError, read_lock

REPO_ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = REPO_ROOT / "functions"
# Copied into every handler zip, so each function deploys alone (no shared layer for our code).
SHARED_PACKAGE = "common"
# Folder under functions/ -> the Lambda function name the workflow calls.
FUNCTIONS: dict[str, str] = {
    "serialize_image_data": "serializeImageData",
    "classify_image": "classifyImage",
    "filter_inferences": "filterInferences",
}
HANDLER = "handler.lambda_handler"
# The layer's lock: its pins with the sha256 of every wheel (make lock writes it from
# layer-requirements.in). pip downloads with --require-hashes; cached wheels are checked too.
LAYER_REQUIREMENTS = LAYER_LOCK
LAYER_ZIP = "layer.zip"
DEFAULT_PYTHON_VERSION = "3.12"
# manylinux2014 is the classic tag; Pillow 13 ships only manylinux_2_28 wheels, which the
# python3.12 runtime (Amazon Linux 2023, glibc 2.34) runs. pip picks the best wheel of the set.
DEFAULT_PLATFORMS: tuple[str, ...] = ("manylinux2014_x86_64", "manylinux_2_28_x86_64")
DEFAULT_CACHE_DIR = REPO_ROOT / "build" / "cache" / "wheels"
# The earliest timestamp a zip can hold: every entry gets it, so the bytes do not depend on
# when the files were checked out or built.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
PIP_TIMEOUT_SECONDS = 600


class PackagingError(Exception):
    """A build input is missing or wrong; the message says which and what to do."""


class LayerBuildError(PackagingError):
    """The layer's wheels could not be fetched (offline, unknown version, no such platform)."""


class WheelHashError(PackagingError):
    """A wheel's sha256 is not one the layer's lock lists for its pin: it is not used."""


@dataclass(frozen=True)
class Artifact:
    """One built zip and its digests."""

    path: Path
    size: int
    sha256: str

    @property
    def source_code_hash(self) -> str:
        """The same value as Terraform's filebase64sha256() of the zip."""
        return base64.b64encode(bytes.fromhex(self.sha256)).decode("ascii")


def build_function_zip(
    name: str, out_dir: Path, *, functions_dir: Path = FUNCTIONS_DIR
) -> Artifact:
    """Write out_dir/<name>.zip: the function's modules at the root plus the shared package."""
    if name not in FUNCTIONS:
        raise PackagingError(f"unknown function {name!r}; expected one of {sorted(FUNCTIONS)}")
    entries = [
        *_python_files(functions_dir / name, prefix=""),
        *_python_files(functions_dir / SHARED_PACKAGE, prefix=f"{SHARED_PACKAGE}/"),
    ]
    if not any(arcname == "handler.py" for arcname, _, _ in entries):
        raise PackagingError(f"{functions_dir / name / 'handler.py'} is missing")
    return _write_zip(Path(out_dir) / f"{name}.zip", entries)


def build_layer(
    out_dir: Path,
    python_version: str = DEFAULT_PYTHON_VERSION,
    platform: str | Sequence[str] = DEFAULT_PLATFORMS,
    *,
    cache_dir: Path = DEFAULT_CACHE_DIR,
    requirements_file: Path = LAYER_REQUIREMENTS,
    zip_name: str = LAYER_ZIP,
) -> Artifact:
    """Write out_dir/<zip_name>: the pinned wheels for that Python and platform under python/.

    The wheels are the ones pip would install on the Lambda runtime, not this machine's build,
    so the default (3.12, manylinux) is what AWS needs; the local cloud may ask for the host's
    Python instead. Downloads are cached, so a second build needs no network.
    """
    platforms = (platform,) if isinstance(platform, str) else tuple(platform)
    requirements = locked_requirements(requirements_file)
    wheels = fetch_wheels(
        requirements, python_version, platforms, cache_dir, lock_file=requirements_file
    )
    entries: list[tuple[str, bytes, int]] = []
    for wheel in wheels:
        entries.extend(_wheel_entries(wheel))
    # Level 6: the layer is mostly shared libraries, where 9 costs twice the time for ~1% less.
    return _write_zip(Path(out_dir) / zip_name, entries, compresslevel=6)


def locked_requirements(requirements_file: Path = LAYER_REQUIREMENTS) -> list[LockedRequirement]:
    """The layer's lock: each pin with the sha256 of every wheel it may use."""
    try:
        locked = list(read_lock(requirements_file).values())
    except LockFileError as exc:
        raise PackagingError(
            f"{exc} ({requirements_file.name} is the layer's lock: every build of the layer "
            "holds the same files)"
        ) from exc
    if not locked:
        raise PackagingError(f"{requirements_file} pins nothing")
    return locked


def pinned_requirements(requirements_file: Path = LAYER_REQUIREMENTS) -> list[str]:
    """The `name==version` pins of the layer's lock."""
    return [entry.pin for entry in locked_requirements(requirements_file)]


def fetch_wheels(
    requirements: Sequence[LockedRequirement],
    python_version: str,
    platforms: Sequence[str],
    cache_dir: Path = DEFAULT_CACHE_DIR,
    *,
    lock_file: Path = LAYER_REQUIREMENTS,
) -> list[Path]:
    """One wheel per pin for the target Python and platforms, from the cache or from pip,
    each with a sha256 that the lock lists for its pin."""
    if re.fullmatch(r"3\.\d+", python_version) is None:
        raise PackagingError(f"python_version must look like 3.12, got {python_version!r}")
    # One folder per target: a cached wheel is then exactly what pip chose for that target.
    target_dir = Path(cache_dir) / f"cp{python_version.replace('.', '')}-{'+'.join(platforms)}"
    missing = [entry for entry in requirements if not _cached_wheels(target_dir, entry.pin)]
    if missing:
        _pip_download(missing, python_version, platforms, target_dir)
    wheels: list[Path] = []
    for entry in requirements:
        found = _cached_wheels(target_dir, entry.pin)
        if len(found) != 1:
            raise LayerBuildError(
                f"expected one wheel for {entry.pin} in {target_dir}, found "
                f"{[p.name for p in found]}; delete that folder and build again"
            )
        _check_hash(found[0], entry, lock_file)
        wheels.extend(found)
    return wheels


def write_manifest(out_dir: Path, artifacts: Iterable[Artifact], **extra: object) -> Path:
    """out_dir/manifest.json: size and digests of each zip, for deploy scripts and humans."""
    manifest: dict[str, object] = {
        "handler": HANDLER,
        "function_names": dict(FUNCTIONS),
        "artifacts": {
            artifact.path.name: {
                "bytes": artifact.size,
                "sha256": artifact.sha256,
                "source_code_hash": artifact.source_code_hash,
            }
            for artifact in artifacts
        },
        **extra,
    }
    path = Path(out_dir) / "manifest.json"
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def build_all(
    out_dir: Path,
    *,
    python_version: str = DEFAULT_PYTHON_VERSION,
    platforms: Sequence[str] = DEFAULT_PLATFORMS,
    cache_dir: Path = DEFAULT_CACHE_DIR,
    with_layer: bool = True,
) -> list[Artifact]:
    """Every handler zip, the layer (unless with_layer is False) and the manifest."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    artifacts = [build_function_zip(name, out_dir) for name in FUNCTIONS]
    extra: dict[str, object] = {}
    if with_layer:
        artifacts.append(build_layer(out_dir, python_version, platforms, cache_dir=cache_dir))
        extra = {
            "layer": {
                "requirements": pinned_requirements(),
                "python_version": python_version,
                "platforms": list(platforms),
            }
        }
    write_manifest(out_dir, artifacts, **extra)
    return artifacts


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.package_lambdas", description=__doc__)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "build" / "functions")
    parser.add_argument("--python-version", default=DEFAULT_PYTHON_VERSION)
    parser.add_argument(
        "--platform",
        action="append",
        dest="platforms",
        help=f"wheel platform tag, repeatable (default: {' '.join(DEFAULT_PLATFORMS)})",
    )
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE_DIR)
    parser.add_argument(
        "--no-layer", action="store_true", help="build only the handler zips (no network)"
    )
    args = parser.parse_args(argv)
    try:
        artifacts = build_all(
            args.out,
            python_version=args.python_version,
            platforms=tuple(args.platforms or DEFAULT_PLATFORMS),
            cache_dir=args.cache_dir,
            with_layer=not args.no_layer,
        )
    except PackagingError as exc:
        print(f"package_lambdas: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    for artifact in artifacts:
        print(f"{artifact.path}  {artifact.size:>10,} bytes  sha256 {artifact.sha256}")
    return 0


def _python_files(folder: Path, *, prefix: str) -> list[tuple[str, bytes, int]]:
    if not folder.is_dir():
        raise PackagingError(f"{folder} is missing")
    return [
        (prefix + path.relative_to(folder).as_posix(), path.read_bytes(), 0o644)
        for path in sorted(folder.rglob("*.py"))
        if "__pycache__" not in path.parts
    ]


def _wheel_entries(wheel: Path) -> list[tuple[str, bytes, int]]:
    entries: list[tuple[str, bytes, int]] = []
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.infolist():
            if member.is_dir():
                continue
            name = member.filename
            # Files under <dist>.data/purelib|platlib install to site-packages like the rest;
            # scripts and headers have no place in a layer.
            data_dir = re.match(r"[^/]+\.data/(purelib|platlib)/(.+)", name)
            if data_dir:
                name = data_dir.group(2)
            elif re.match(r"[^/]+\.data/", name):
                continue
            if "__pycache__/" in name or name.endswith(".pyc"):
                continue
            executable = (member.external_attr >> 16) & 0o111
            entries.append((f"python/{name}", archive.read(member), 0o755 if executable else 0o644))
    return entries


def _write_zip(
    path: Path, entries: Iterable[tuple[str, bytes, int]], *, compresslevel: int = 9
) -> Artifact:
    ordered = sorted(entries, key=lambda entry: entry[0])
    names = [arcname for arcname, _, _ in ordered]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise PackagingError(f"{path.name} would contain {duplicates} twice")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with zipfile.ZipFile(partial, "w") as archive:
        for arcname, data, mode in ordered:
            info = zipfile.ZipInfo(arcname, date_time=ZIP_EPOCH)
            info.create_system = 3  # Unix, so external_attr is read as permissions everywhere
            info.external_attr = (stat.S_IFREG | mode) << 16
            archive.writestr(
                info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=compresslevel
            )
    # Replace in one step: a reader (Terraform, the local cloud) never sees a half-written zip.
    partial.replace(path)
    content = path.read_bytes()
    return Artifact(path=path, size=len(content), sha256=hashlib.sha256(content).hexdigest())


def _check_hash(wheel: Path, entry: LockedRequirement, lock_file: Path) -> None:
    # The file name says nothing about the bytes: a wheel left in the cache by another build,
    # another lock or another hand is used only if the lock lists its digest.
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest not in entry.hashes:
        raise WheelHashError(
            f"{wheel} has sha256 {digest}, which {lock_file} does not list for "
            f"{entry.pin}; it was not used. Delete it (rm '{wheel}') and "
            "build again to download the locked wheel; if the pin changed on purpose, run "
            "`make lock` first"
        )


def _cached_wheels(target_dir: Path, pin: str) -> list[Path]:
    name, version = pin.split("==")
    normalised = re.sub(r"[-_.]+", "_", name).lower()
    if not target_dir.is_dir():
        return []
    return sorted(
        wheel
        for wheel in target_dir.glob("*.whl")
        if wheel.name.split("-")[0].lower().replace(".", "_") == normalised
        and wheel.name.split("-")[1] == version
    )


def _pip_download(
    entries: Sequence[LockedRequirement],
    python_version: str,
    platforms: Sequence[str],
    target_dir: Path,
) -> None:
    target_dir.mkdir(parents=True, exist_ok=True)
    pins = [entry.pin for entry in entries]
    # pip checks each download against the lock's hashes (--require-hashes): a wheel it
    # cannot verify never reaches the cache.
    with tempfile.NamedTemporaryFile("w", suffix=".txt", dir=target_dir, delete=False) as file:
        for entry in entries:
            hashes = " ".join(f"--hash=sha256:{digest}" for digest in sorted(entry.hashes))
            file.write(f"{entry.pin} {hashes}\n")
    try:
        _run_pip_download(Path(file.name), pins, python_version, platforms, target_dir)
    finally:
        Path(file.name).unlink(missing_ok=True)


def _run_pip_download(
    requirements: Path,
    pins: Sequence[str],
    python_version: str,
    platforms: Sequence[str],
    target_dir: Path,
) -> None:
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--only-binary=:all:",
        "--no-deps",
        "--implementation",
        "cp",
        "--python-version",
        python_version,
        *[arg for platform in platforms for arg in ("--platform", platform)],
        "--dest",
        str(target_dir),
        "--disable-pip-version-check",
        "--quiet",
        "--require-hashes",
        "-r",
        str(requirements),
    ]
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=PIP_TIMEOUT_SECONDS, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise LayerBuildError(f"could not run pip download ({exc}); is pip installed?") from exc
    if result.returncode != 0:
        tail = "\n".join(result.stderr.strip().splitlines()[-6:])
        raise LayerBuildError(
            f"pip download of {' '.join(pins)} for CPython {python_version} on "
            f"{', '.join(platforms)} failed (exit {result.returncode}):\n{tail}\n"
            "If this machine is offline, build once where PyPI is reachable or copy the wheel "
            f"into {target_dir}; if the version has no wheel for that platform, change the pin "
            f"in {LAYER_INPUT.relative_to(REPO_ROOT)} and run `make lock`."
        )


if __name__ == "__main__":
    sys.exit(main())
