"""Package benchmark: size of each Lambda zip and the layer, cold import time of each handler."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from scripts.bench.results import Measure

# What the python3.12 runtime provides besides our zips (as tests/functions' sandbox links).
LAMBDA_SDK = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3")
PROBE = (
    "import sys, time\n"
    "began = time.perf_counter()\n"
    "import handler\n"
    "print((time.perf_counter() - began) * 1000)\n"
)


def python312() -> tuple[str, bool]:
    """(interpreter, is_312): pyenv's 3.12 as the Lambda runtime, else this one (said so)."""
    if shutil.which("pyenv"):
        found = subprocess.run(
            ["pyenv", "which", "python"],
            capture_output=True,
            text=True,
            env={**os.environ, "PYENV_VERSION": "3.12.1"},
            check=False,
        )
        if found.returncode == 0 and found.stdout.strip():
            return found.stdout.strip(), True
    return sys.executable, False


def link_sdk(folder: Path) -> Path:
    folder.mkdir(parents=True)
    for module in LAMBDA_SDK:
        origin = Path(__import__(module).__file__ or "")
        source = origin.parent if origin.name == "__init__.py" else origin
        (folder / source.name).symlink_to(source)
    return folder


def import_ms(python: str, task: Path, paths: list[Path], pycache: Path) -> float:
    """Milliseconds `import handler` takes in a fresh interpreter (-S: no site-packages)."""
    done = subprocess.run(
        [python, "-S", "-c", PROBE],
        cwd=task,
        env={
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": os.pathsep.join(map(str, [task, *paths])),
            # The runtime's SDK ships compiled; a private cache (warmed by an untimed first run)
            # stands in for that without writing next to the venv's sources.
            "PYTHONPYCACHEPREFIX": str(pycache),
            "AWS_DEFAULT_REGION": "us-east-1",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"importing the handler in {task} failed:\n{done.stderr[-2000:]}")
    return float(done.stdout.strip().splitlines()[-1])


def run(quick: bool) -> list[Measure]:
    from scripts.package_lambdas import build_all

    repeats = 3 if quick else 9
    python, is_312 = python312()
    version = "3.12" if is_312 else f"host {sys.version.split()[0]} (no 3.12 found)"
    measures: list[Measure] = []
    with tempfile.TemporaryDirectory(prefix="bench-packages-") as tmp:
        root = Path(tmp)
        artifacts = build_all(root / "zips")
        layer = root / "opt"
        sdk = link_sdk(root / "sdk")
        for artifact in artifacts:
            size_kb = round(artifact.path.stat().st_size / 1024, 1)
            measures.append(Measure(f"package.{artifact.path.stem}.zip_size", size_kb, "KiB"))
            with zipfile.ZipFile(artifact.path) as archive:
                archive.extractall(
                    layer if artifact.path.stem == "layer" else root / artifact.path.stem
                )
        for artifact in artifacts:
            name = artifact.path.stem
            if name == "layer":
                continue
            paths, pycache = [layer / "python", sdk], root / "pycache"
            import_ms(python, root / name, paths, pycache)
            samples = [import_ms(python, root / name, paths, pycache) for _ in range(repeats)]
            measures.append(
                Measure(
                    f"package.{name}.cold_import",
                    round(statistics.median(samples), 1),
                    "ms",
                    note=f"median of {repeats} fresh {version} processes, layer + SDK on the path",
                )
            )
    return measures


if __name__ == "__main__":  # pragma: no cover - a quick look at one section
    print(json.dumps([m.to_json() for m in run(quick=True)], indent=2))
