"""The hash-pinned lock files of every `pip install` make does: write them (make lock), read them,
and check them against what they were made from.

Lock files (pip requirements files where every line is `name==version --hash=sha256:...`):

- requirements/<extras>.txt: the project venv, one per EXTRAS set that make installs
  (LOCKED_EXTRAS), from pyproject.toml's dependencies, those extras and requirements/venv.in;
- requirements/uv.txt: uv itself, which writes the others;
- functions/layer-requirements.txt: the Lambda layer, from functions/layer-requirements.in.

uv (`uv pip compile --generate-hashes`) resolves them. It records the hashes of every file
PyPI publishes for the chosen version, so one lock serves every platform's wheel of it; a
package found through --find-links (the CPU build of torch) gets the hash of that file.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from packaging.requirements import Requirement

REPO_ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = REPO_ROOT / "pyproject.toml"
REQUIREMENTS_DIR = REPO_ROOT / "requirements"
VENV_INPUT = REQUIREMENTS_DIR / "venv.in"
UV_INPUT = REQUIREMENTS_DIR / "uv.in"
UV_LOCK = REQUIREMENTS_DIR / "uv.txt"
LAYER_INPUT = REPO_ROOT / "functions" / "layer-requirements.in"
LAYER_LOCK = REPO_ROOT / "functions" / "layer-requirements.txt"
TOOLS_DIR = REPO_ROOT / "build" / "tools" / "uv"

# The EXTRAS sets make installs: the Makefile's default, and dev alone (the CI Terraform job
# runs `make venv EXTRAS=dev`). The first is resolved first; the others are constrained to it,
# so a package has the same version in every lock.
LOCKED_EXTRAS: tuple[tuple[str, ...], ...] = (
    ("dev", "train", "monitor"),
    ("dev",),
    # `make notebook`: the default venv and Jupyter (make venv EXTRAS=dev,train,monitor,notebook).
    ("dev", "train", "monitor", "notebook"),
)
# The venv locks are resolved for the machines that build and test the project (and CI):
# CPython 3.11 on x86_64 Linux. The Makefile refuses to install them anywhere else.
VENV_PYTHON = "3.11"
VENV_PLATFORM = "x86_64-manylinux_2_28"
# The layer is for the Lambda runtime, not this machine: python3.12 on Amazon Linux 2023
# (glibc 2.34, so manylinux_2_28 wheels run there). infra/modules/functions/main.tf sets the
# runtime; scripts/package_lambdas.py downloads for the same Python.
LAYER_PYTHON = "3.12"
LAYER_PLATFORM = "x86_64-manylinux_2_28"
# The environment the venv locks' markers were evaluated for (PEP 508 marker variables).
VENV_MARKER_ENVIRONMENT: dict[str, str] = {
    "python_version": VENV_PYTHON,
    "python_full_version": f"{VENV_PYTHON}.0",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "os_name": "posix",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "x86_64",
}
PROJECT_NAME = "scones-vehicle-classifier"
# Packages of PyPI's CUDA build of torch: a venv lock holding one pulls several GB of CUDA
# libraries instead of the CPU build the project is tested with.
CUDA_PACKAGES = re.compile(r"^(nvidia-.*|triton|cuda-.*)$")
UV_TIMEOUT_SECONDS = 900

_PIN = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([A-Za-z0-9.+!_-]+)")
_HASH = re.compile(r"sha256:([0-9a-f]{64})")


class LockFileError(Exception):
    """A lock file is malformed or disagrees with its inputs; the message says what to run."""


@dataclass(frozen=True)
class LockedRequirement:
    """One `name==version --hash=...` entry of a lock file."""

    name: str
    version: str
    hashes: frozenset[str]
    via: tuple[str, ...] = ()

    @property
    def pin(self) -> str:
        return f"{self.name}=={self.version}"


def normalise(name: str) -> str:
    """PEP 503's normalised project name: `Flask_Cors` and `flask-cors` are the same project."""
    return re.sub(r"[-_.]+", "-", name).lower()


def lock_path(extras: Iterable[str]) -> Path:
    """requirements/<extras joined by ->.txt; the Makefile builds the same name from EXTRAS."""
    return REQUIREMENTS_DIR / f"{'-'.join(extras)}.txt"


def read_lock(path: Path) -> dict[str, LockedRequirement]:
    """The entries of a hashed requirements file, by normalised name."""
    if not path.is_file():
        raise LockFileError(f"{path} is missing: run `make lock`")
    entries: dict[str, LockedRequirement] = {}
    current: tuple[int, str] | None = None
    via: list[str] = []

    def finish() -> None:
        if current is not None:
            entry = _parse_entry(path, *current, via=tuple(via))
            if entry.name in entries:
                raise LockFileError(f"{path}:{current[0]}: {entry.name} is locked twice")
            entries[entry.name] = entry

    logical = ""
    start = 0
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not logical and line.startswith("#"):
            # uv's annotations: "# via moto" or "# via" followed by "#   moto" lines.
            words = line.lstrip("#").split()
            if current is not None and words:
                via.extend(words[1:] if words[0] == "via" else [" ".join(words)])
            continue
        if not line and not logical:
            continue
        if not logical:
            start = number
        logical += " " + line.split(" #", 1)[0].removesuffix("\\")
        if line.endswith("\\"):
            continue
        finish()
        current, via, logical = (start, logical.strip()), [], ""
    if logical:
        raise LockFileError(f"{path}:{start}: the file ends inside a continued line")
    finish()
    return entries


def _parse_entry(path: Path, number: int, text: str, *, via: tuple[str, ...]) -> LockedRequirement:
    requirement, *options = text.split("--hash=")
    requirement = requirement.split(";", 1)[0].strip()
    match = _PIN.fullmatch(requirement)
    if match is None:
        raise LockFileError(
            f"{path}:{number}: {requirement!r} is not an exact pin; a lock holds only "
            "name==version lines with hashes: run `make lock`"
        )
    hashes = set()
    for option in options:
        found = _HASH.fullmatch(option.strip())
        if found is None:
            raise LockFileError(f"{path}:{number}: {option.strip()!r} is not a sha256 hash")
        hashes.add(found.group(1))
    if not hashes:
        raise LockFileError(
            f"{path}:{number}: {requirement} has no --hash=sha256:...; pip's --require-hashes "
            "refuses it: run `make lock`"
        )
    name, version = match.groups()
    return LockedRequirement(normalise(name), version, frozenset(hashes), via)


# --- Checks: does a lock still hold what its inputs ask for? -------------------------------


def venv_inputs(extras: Iterable[str], pyproject: Path = PYPROJECT) -> list[Requirement]:
    """What a venv lock is resolved from: the project's dependencies and these extras,
    the build backend ([build-system] requires) and requirements/venv.in."""
    from packaging.requirements import Requirement

    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    optional = data["project"].get("optional-dependencies", {})
    texts = list(data["project"].get("dependencies", []))
    for extra in extras:
        if extra not in optional:
            raise LockFileError(f"{pyproject} has no extra {extra!r}; known: {sorted(optional)}")
        texts.extend(optional[extra])
    texts.extend(data.get("build-system", {}).get("requires", []))
    texts.extend(_input_lines(VENV_INPUT))
    return [Requirement(text) for text in texts]


def venv_lock_problems(
    extras: Sequence[str],
    *,
    pyproject: Path = PYPROJECT,
    lock: Path | None = None,
    installed: Mapping[str, tuple[str, list[str]]] | None = None,
) -> list[str]:
    """Every way the lock of these extras disagrees with pyproject.toml; empty when it agrees.

    Offline: the requirements are compared with the lock's pins (packaging's PEP 440 rules),
    the lock's `# via scones-vehicle-classifier (pyproject.toml)` annotations with the
    requirements, and the lock is checked to be closed under the dependencies that the
    installed distributions of the same versions declare (`installed`: name -> (version,
    Requires-Dist); by default this interpreter's, which make built from the lock).
    """
    lock = lock or lock_path(extras)
    locked = read_lock(lock)
    roots = venv_inputs(extras, pyproject)
    problems = _requirement_problems(roots, locked, lock, source=pyproject.name)
    wanted = {normalise(r.name) for r in roots}
    for entry in locked.values():
        if any(PROJECT_NAME in origin for origin in entry.via) and entry.name not in wanted:
            problems.append(
                f"{lock.name} still locks {entry.pin} for {pyproject.name}, which no longer asks "
                "for it: run `make lock`"
            )
    problems.extend(_closure_problems(roots, locked, lock, installed))
    return problems


def layer_lock_problems(source: Path = LAYER_INPUT, lock: Path = LAYER_LOCK) -> list[str]:
    """Every way the layer's lock disagrees with functions/layer-requirements.in."""
    from packaging.requirements import Requirement

    roots = [Requirement(text) for text in _input_lines(source)]
    locked = read_lock(lock)
    problems = []
    for root in roots:
        if [spec.operator for spec in root.specifier] != ["=="]:
            problems.append(f"{source.name}: {root} is not an exact pin (name==version)")
    problems.extend(_requirement_problems(roots, locked, lock, source=source.name))
    wanted = {normalise(r.name) for r in roots}
    for entry in locked.values():
        if entry.name not in wanted and any(source.name in origin for origin in entry.via):
            problems.append(f"{lock.name} still locks {entry.pin}, which {source.name} dropped")
    return problems


def cuda_torch_problems(lock: Path) -> list[str]:
    """A lock holding PyPI's CUDA build of torch (or its CUDA packages) instead of the CPU one."""
    locked = read_lock(lock)
    problems = [
        f"{lock.name} locks {entry.pin}, a package of the CUDA build of torch"
        for entry in locked.values()
        if CUDA_PACKAGES.match(entry.name)
    ]
    torch = locked.get("torch")
    if torch is not None and not torch.version.endswith("+cpu"):
        problems.append(f"{lock.name} locks {torch.pin}, not the CPU build (+cpu)")
    if problems:
        problems.append(
            "make lock found no CPU build of torch: pass LOCK_FIND_LINKS=<folder with "
            "torch-*+cpu-*.whl> (it defaults to pip's PIP_FIND_LINKS), or run it where "
            "https://download.pytorch.org/whl/cpu is reachable"
        )
    return problems


def all_problems() -> list[str]:
    """Every check of every committed lock (`python -m scripts.locks check`)."""
    problems: list[str] = []
    first = read_lock(lock_path(LOCKED_EXTRAS[0]))
    for extras in LOCKED_EXTRAS:
        problems.extend(venv_lock_problems(extras))
        problems.extend(cuda_torch_problems(lock_path(extras)))
        for entry in read_lock(lock_path(extras)).values():
            if entry.name in first and first[entry.name].version != entry.version:
                problems.append(
                    f"{lock_path(extras).name} locks {entry.pin} but "
                    f"{lock_path(LOCKED_EXTRAS[0]).name} locks {first[entry.name].pin}"
                )
    problems.extend(layer_lock_problems())
    uv_pins = _input_lines(UV_INPUT)
    uv_locked = sorted(entry.pin for entry in read_lock(UV_LOCK).values())
    if sorted(_normalised_pin(pin) for pin in uv_pins) != uv_locked:
        problems.append(
            f"{UV_LOCK.name} locks {uv_locked}, {UV_INPUT.name} asks for {uv_pins}: run `make lock`"
        )
    return problems


def _normalised_pin(pin: str) -> str:
    name, _, version = pin.partition("==")
    return f"{normalise(name)}=={version}"


def _input_lines(path: Path) -> list[str]:
    if not path.is_file():
        raise LockFileError(f"{path} is missing")
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]


def _requirement_problems(
    roots: Iterable[Requirement], locked: Mapping[str, LockedRequirement], lock: Path, source: str
) -> list[str]:
    problems = []
    for root in roots:
        if root.marker is not None and not root.marker.evaluate(VENV_MARKER_ENVIRONMENT):
            continue
        entry = locked.get(normalise(root.name))
        if entry is None:
            problems.append(
                f"{source} asks for {root}, which {lock.name} does not lock: run `make lock`"
            )
        elif not root.specifier.contains(entry.version, prereleases=True):
            problems.append(
                f"{source} asks for {root}, {lock.name} locks {entry.pin}: run `make lock`"
            )
    return problems


def _closure_problems(
    roots: Iterable[Requirement],
    locked: Mapping[str, LockedRequirement],
    lock: Path,
    installed: Mapping[str, tuple[str, list[str]]] | None,
) -> list[str]:
    from packaging.requirements import Requirement
    from packaging.version import InvalidVersion, Version

    known = installed if installed is not None else _installed_distributions()
    problems = []
    queue = [(normalise(r.name), frozenset(r.extras)) for r in roots if _applies(r, frozenset())]
    seen: set[tuple[str, frozenset[str]]] = set()
    while queue:
        name, extras = queue.pop()
        if (name, extras) in seen or name not in locked:
            continue  # a root missing from the lock is reported already
        seen.add((name, extras))
        version, requires = known.get(name, ("", []))
        try:
            same = bool(version) and Version(version) == Version(locked[name].version)
        except InvalidVersion:
            same = False
        if not same:
            continue  # this interpreter has another version: its metadata says nothing here
        for text in requires:
            dependency = Requirement(text)
            if not _applies(dependency, extras):
                continue
            entry = locked.get(normalise(dependency.name))
            if entry is None:
                problems.append(
                    f"{locked[name].pin} needs {dependency}, which {lock.name} does not lock: "
                    "run `make lock`"
                )
            elif not dependency.specifier.contains(entry.version, prereleases=True):
                problems.append(
                    f"{locked[name].pin} needs {dependency}, {lock.name} locks {entry.pin}: "
                    "run `make lock`"
                )
            else:
                queue.append((entry.name, frozenset(dependency.extras)))
    return problems


def _applies(requirement: Requirement, extras: frozenset[str]) -> bool:
    if requirement.marker is None:
        return True
    return any(
        requirement.marker.evaluate({**VENV_MARKER_ENVIRONMENT, "extra": extra})
        for extra in {"", *extras}
    )


def _installed_distributions() -> dict[str, tuple[str, list[str]]]:
    from importlib import metadata

    found: dict[str, tuple[str, list[str]]] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            found.setdefault(normalise(name), (dist.version, list(dist.requires or [])))
    return found


# --- make lock ------------------------------------------------------------------------------


def uv_binary(tools_dir: Path = TOOLS_DIR) -> Path:
    """build/tools/uv/bin/uv at the version requirements/uv.txt locks, installed with its hash."""
    pinned = read_lock(UV_LOCK)["uv"].version
    uv = tools_dir / "bin" / "uv"
    if uv.exists():
        answer = subprocess.run([str(uv), "--version"], capture_output=True, text=True, check=False)
        if answer.returncode == 0 and answer.stdout.split()[1:2] == [pinned]:
            return uv
    _run([sys.executable, "-m", "venv", "--clear", str(tools_dir)])
    pip = [str(tools_dir / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    _run([*pip, "--require-hashes", "--no-deps", "-r", str(UV_LOCK)])
    return uv


def compile_all(
    uv: Path, *, find_links: Sequence[str] = (), upgrade: Sequence[str] = ()
) -> list[Path]:
    """Write every lock file; keeps each existing pin unless upgrade asks otherwise."""
    common = [
        "pip",
        "compile",
        "--quiet",
        "--generate-hashes",
        "--custom-compile-command",
        "make lock",
    ]
    common.extend(upgrade)
    venv_target = ["--python-version", VENV_PYTHON, "--python-platform", VENV_PLATFORM]
    # torch's CPU build: from a folder of wheels where one is given (this project's build
    # machines have it beside pip, PIP_FIND_LINKS), else from PyTorch's CPU index, which uv
    # picks for torch alone with --torch-backend (docs.astral.sh/uv/guides/integration/pytorch).
    torch_source = [arg for folder in find_links for arg in ("--find-links", folder)] or [
        "--torch-backend",
        "cpu",
    ]
    written = []
    _run([str(uv), *common, str(UV_INPUT), "-o", str(UV_LOCK)])
    written.append(UV_LOCK)
    first = lock_path(LOCKED_EXTRAS[0])
    for extras in LOCKED_EXTRAS:
        out = lock_path(extras)
        constraint = ["-c", str(first.relative_to(REPO_ROOT))] if out != first else []
        extra_args = [arg for extra in extras for arg in ("--extra", extra)]
        _run(
            [
                str(uv),
                *common,
                "pyproject.toml",
                str(VENV_INPUT.relative_to(REPO_ROOT)),
                *extra_args,
                *venv_target,
                *torch_source,
                *constraint,
                "-o",
                str(out.relative_to(REPO_ROOT)),
            ]
        )
        written.append(out)
        problems = cuda_torch_problems(out)
        if problems:
            raise LockFileError("\n".join(problems))
    layer_target = ["--python-version", LAYER_PYTHON, "--python-platform", LAYER_PLATFORM]
    _run(
        [
            str(uv),
            *common,
            str(LAYER_INPUT.relative_to(REPO_ROOT)),
            *layer_target,
            "--only-binary",
            ":all:",
            "-o",
            str(LAYER_LOCK.relative_to(REPO_ROOT)),
        ]
    )
    written.append(LAYER_LOCK)
    return written


def _run(command: Sequence[str]) -> None:
    try:
        result = subprocess.run(command, cwd=REPO_ROOT, timeout=UV_TIMEOUT_SECONDS, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise LockFileError(f"could not run {command[0]}: {exc}") from exc
    if result.returncode != 0:
        raise LockFileError(f"{' '.join(command)} failed (exit {result.returncode}), see above")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.locks", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    write = commands.add_parser("compile", help="write every lock file (make lock)")
    write.add_argument(
        "--find-links",
        action="append",
        default=[],
        help="a folder holding torch's CPU wheel (repeatable); none: PyTorch's CPU index",
    )
    write.add_argument("--upgrade", action="store_true", help="newest versions for everything")
    write.add_argument(
        "--upgrade-package", action="append", default=[], help="newest version of this package"
    )
    commands.add_parser("check", help="fail when a lock disagrees with its inputs")
    args = parser.parse_args(argv)
    try:
        if args.command == "check":
            problems = all_problems()
            for problem in problems:
                print(f"locks: {problem}", file=sys.stderr)
            return 1 if problems else 0
        upgrade = ["--upgrade"] if args.upgrade else []
        upgrade += [arg for name in args.upgrade_package for arg in ("--upgrade-package", name)]
        links = [folder for value in args.find_links for folder in value.split() if folder]
        for path in compile_all(uv_binary(), find_links=links, upgrade=upgrade):
            print(f"locks: wrote {path.relative_to(REPO_ROOT)}")
    except LockFileError as exc:
        print(f"locks: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    os.environ.setdefault("UV_NO_PROGRESS", "1")
    sys.exit(main())
