"""Every inline checkov skip of infra/, listed, with a reason that names real things.

That each skip still suppresses a failing check needs checkov itself: scripts/lint_infra.sh runs
`scripts/checkov_skips.py --check-needed` (make lint)."""

from __future__ import annotations

import re

import pytest

from scripts.checkov_skips import SKIP, Skip, find_skips, tf_files
from scripts.offline_plan import INFRA

SKIPS = find_skips()
BLOCK_START = re.compile(r'^(resource|data) "\w+" "\w+" \{$')
VARIABLE = re.compile(r'^variable "(\w+)"', re.MULTILINE)


def variables_of(module_dir: str) -> set[str]:
    names: set[str] = set()
    for path in (INFRA / module_dir).glob("*.tf"):
        names.update(VARIABLE.findall(path.read_text()))
    return names


def test_there_are_skips_and_the_pattern_finds_each() -> None:
    assert SKIPS
    raw = sum(p.read_text().count("checkov:skip") for p in tf_files(INFRA))
    assert raw == len(SKIPS), "a checkov:skip comment is not in the #checkov:skip=ID:reason form"


@pytest.mark.parametrize("skip", SKIPS, ids=lambda s: f"{s.path}:{s.line}:{s.check_id}")
def test_skip_names_a_check_and_gives_a_reason(skip: Skip) -> None:
    assert re.fullmatch(r"CKV2?_AWS_\d+", skip.check_id), skip.describe()
    assert len(skip.reason.split()) >= 8, f"{skip.describe()}: say why, in a sentence"


@pytest.mark.parametrize("skip", SKIPS, ids=lambda s: f"{s.path}:{s.line}:{s.check_id}")
def test_skip_sits_at_the_top_of_its_resource(skip: Skip) -> None:
    """checkov applies a skip to the block it is in: keep it first, where a reader sees it."""
    lines = (INFRA / skip.path).read_text().splitlines()
    above = skip.line - 2
    while above >= 0 and SKIP.search(lines[above]):
        above -= 1
    assert above >= 0 and BLOCK_START.match(lines[above]), skip.describe()


@pytest.mark.parametrize("skip", SKIPS, ids=lambda s: f"{s.path}:{s.line}:{s.check_id}")
def test_what_a_reason_names_exists(skip: Skip) -> None:
    """A reason that cites a variable or a module must cite one that exists."""
    module_dir = skip.path.rsplit("/", 1)[0]
    for name in re.findall(r"\b([a-z]+(?:_[a-z0-9]+)+)\b", skip.reason):
        if name.startswith(("aws_", "data_")):
            continue  # a resource type or a data source, not a variable
        assert name in variables_of(module_dir), f"{skip.describe()}: no variable {name}"
    for module in re.findall(r"\bthe (\w+) module\b", skip.reason, flags=re.IGNORECASE):
        assert (INFRA / "modules" / module).is_dir(), f"{skip.describe()}: no module {module}"


def test_no_check_is_skipped_twice_in_a_block() -> None:
    seen: set[tuple[str, int, str]] = set()
    for skip in SKIPS:
        lines = (INFRA / skip.path).read_text().splitlines()
        start = next(n for n in range(skip.line - 1, -1, -1) if BLOCK_START.match(lines[n]))
        key = (skip.path, start, skip.check_id)
        assert key not in seen, skip.describe()
        seen.add(key)


def test_a_bucket_notification_skip_does_not_deny_the_notifications() -> None:
    """The ingest module turns notifications on: a CKV2_AWS_62 reason may not say there are none."""
    has_notification = any(
        'resource "aws_s3_bucket_notification"' in p.read_text() for p in tf_files(INFRA)
    )
    for skip in SKIPS:
        if skip.check_id == "CKV2_AWS_62" and has_notification:
            assert not re.search(r"\bno (consumer|notification)", skip.reason, re.I), (
                skip.describe()
            )
