"""The inline checkov skips of infra/: list them, and check that each still suppresses a failure.

    python -m scripts.checkov_skips                    # one line per skip
    python scripts/checkov_skips.py --check-needed CHECKOV [--infra DIR]

`--check-needed` scans a copy of infra/ with every `#checkov:skip=` line removed and fails for a
skip whose check then passes in its file: such a skip suppresses nothing, and its reason is no
longer what stands between the code and the check. Standard library only, so that
scripts/lint_infra.sh can run it with checkov's own interpreter.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

INFRA = Path(__file__).resolve().parent.parent / "infra"
# `#checkov:skip=CKV_AWS_18:reason` (checkov's inline suppression; the reason is optional to it).
SKIP = re.compile(r"#\s*checkov:skip=([A-Z0-9_]+)(?::(.*))?$")


class CheckovSkipsError(Exception):
    """checkov could not be run or its report could not be read."""


@dataclass(frozen=True)
class Skip:
    """One inline skip: where it is, which check, and the reason given."""

    path: str  # relative to the infra folder, e.g. modules/storage/main.tf
    line: int
    check_id: str
    reason: str

    def describe(self) -> str:
        return f"infra/{self.path}:{self.line}: {self.check_id}: {self.reason or '(no reason)'}"


def tf_files(infra: Path) -> list[Path]:
    return sorted(p for p in infra.rglob("*.tf") if ".terraform" not in p.parts)


def find_skips(infra: Path = INFRA) -> list[Skip]:
    """Every `#checkov:skip=` comment under infra, in file and line order."""
    skips = []
    for path in tf_files(infra):
        for number, text in enumerate(path.read_text().splitlines(), start=1):
            match = SKIP.search(text)
            if match:
                skips.append(
                    Skip(
                        path.relative_to(infra).as_posix(),
                        number,
                        match.group(1),
                        (match.group(2) or "").strip(),
                    )
                )
    return skips


def failed_checks(checkov: str, infra: Path) -> set[tuple[str, str]]:
    """(check id, file relative to infra) of every failed check when checkov scans infra."""
    program = shutil.which(checkov) if "/" not in checkov else str(Path(checkov).resolve())
    if program is None or not Path(program).is_file():
        raise CheckovSkipsError(f"no checkov at {checkov}: run scripts/lint_infra.sh once")
    with tempfile.TemporaryDirectory() as scratch:
        # Not from the repository: its .checkov.yaml would apply.
        done = subprocess.run(
            [
                program,
                "--directory",
                str(infra),
                "--framework",
                "terraform",
                "--skip-download",
                "--download-external-modules",
                "false",
                "--skip-path",
                ".terraform",
                "--output",
                "json",
                "--quiet",
            ],
            cwd=scratch,
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "BC_SKIP_MAPPING": "TRUE"},
        )
    # checkov exits 1 when checks fail: that is the point here. Anything else is an error.
    if done.returncode not in (0, 1):
        raise CheckovSkipsError(f"checkov exited {done.returncode}: {done.stderr[-2000:]}")
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError as error:
        raise CheckovSkipsError(f"checkov printed no JSON report: {done.stdout[-2000:]}") from error
    reports = report if isinstance(report, list) else [report]
    found = set()
    for part in reports:
        for failure in part.get("results", {}).get("failed_checks", []):
            found.add((failure["check_id"], failure["file_path"].lstrip("/")))
    return found


def unneeded_skips(checkov: str, infra: Path = INFRA) -> list[Skip]:
    """The skips whose check passes in their file once every skip is removed."""
    skips = find_skips(infra)
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "infra"
        shutil.copytree(infra, copy, ignore=shutil.ignore_patterns(".terraform"))
        for path in tf_files(copy):
            lines = path.read_text().splitlines(keepends=True)
            path.write_text("".join(line for line in lines if not SKIP.search(line)))
        failing = failed_checks(checkov, copy)
    return [s for s in skips if (s.check_id, s.path) not in failing]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--infra", type=Path, default=INFRA)
    parser.add_argument("--check-needed", metavar="CHECKOV", help="path of the checkov binary")
    args = parser.parse_args(argv)
    if args.check_needed is None:
        for skip in find_skips(args.infra):
            print(skip.describe())
        return 0
    try:
        unneeded = unneeded_skips(args.check_needed, args.infra)
    except CheckovSkipsError as error:
        print(f"checkov_skips: {error}", file=sys.stderr)
        return 2
    for skip in unneeded:
        print(f"{skip.describe()}\n  suppresses nothing: the check passes without it; remove it")
    total = len(find_skips(args.infra))
    print(f"checkov_skips: {total} inline skip(s), {len(unneeded)} suppressing nothing")
    return 1 if unneeded else 0


if __name__ == "__main__":
    sys.exit(main())
