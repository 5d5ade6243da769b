"""`python -m scripts.results` (make results) against the contract's table on a local cloud."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from localcloud.testing import RunningCloud
from scripts import results
from tests.support.results_kit import create_table, item, put

AWKWARD = ["test/a bike, with commas.png", 'test/"quoted" moto.png', "test/vélo 自転車.png"]


def run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = results.main(["--env", "local", *args], out=out)
    return code, out.getvalue()


@pytest.fixture
def table(local_cloud_env: RunningCloud) -> str:
    """A fresh table per test, on the session's local cloud."""
    return create_table(local_cloud_env.client("dynamodb"), f"results-{uuid.uuid4().hex[:8]}")


@pytest.fixture
def now() -> datetime:
    """Read when the test runs, not when it is collected: SINCE counts back from the real now."""
    return datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def mixed(local_cloud_env: RunningCloud, table: str, now: datetime) -> list[dict[str, Any]]:
    """One item of each status with awkward keys, and one older classified item."""
    written = [
        item(AWKWARD[0], now - timedelta(minutes=10), "classified", (0.97, 0.03)),
        item(AWKWARD[1], now - timedelta(minutes=20), "needs_review", (0.4, 0.6), "v 2"),
        item(AWKWARD[2], now - timedelta(hours=3), "failed"),
        item("test/old.png", now - timedelta(days=3), "classified", (0.01, 0.99)),
    ]
    put(local_cloud_env.client("dynamodb"), table, written)
    return written


def test_the_table_lists_every_status_newest_first_aligned(
    table: str, mixed: list[dict[str, Any]]
) -> None:
    code, out = run("--table", table)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == list(results.TABLE_COLUMNS)
    assert [line.split()[1] for line in lines[1:5]] == [
        "classified",
        "needs_review",
        "failed",
        "classified",
    ]
    assert [AWKWARD[0] in lines[1], AWKWARD[1] in lines[2], AWKWARD[2] in lines[3]] == [True] * 3
    # Aligned: each column starts at the same display column on every row (unicode included).
    s3_key_at = {results.display_width(line[: line.index("test/")]) for line in lines[1:5]}
    assert len(s3_key_at) == 1
    assert "0.9700" in lines[1] and "InvalidImage" in lines[3]
    assert lines[-1].startswith("4 items from table " + table)


def test_csv_has_every_attribute_and_round_trips_awkward_keys(
    local_cloud_env: RunningCloud, table: str, mixed: list[dict[str, Any]], now: datetime
) -> None:
    newest = item("test/two\nlines.png", now, "classified", (0.2, 0.8), note="extra, attribute")
    put(local_cloud_env.client("dynamodb"), table, [newest])
    mixed = [newest, *mixed]
    code, out = run("--table", table, "--format", "csv")
    assert code == 0
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == results.csv_columns(mixed)  # the contract's order: stable
    assert (rows[0][:2], rows[0][-1]) == (["s3_key", "version"], "note")
    parsed = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert [row["s3_key"] for row in parsed] == [newest["s3_key"], *AWKWARD, "test/old.png"]
    by_key = {row["s3_key"]: row for row in parsed}
    for written in mixed:
        expected = {name: str(value) for name, value in written.items()}
        assert {k: v for k, v in by_key[written["s3_key"]].items() if v} == expected


def test_status_filters_and_validates(table: str, mixed: list[dict[str, Any]]) -> None:
    code, out = run("--table", table, "--status", "needs_review", "--format", "csv")
    assert code == 0
    assert [row["s3_key"] for row in csv.DictReader(io.StringIO(out))] == [AWKWARD[1]]
    code, out = run("--table", table, "--status", "failed,classified", "--format", "csv")
    assert [row["status"] for row in csv.DictReader(io.StringIO(out))] == [
        "classified",
        "failed",
        "classified",
    ]


@pytest.mark.parametrize(
    ("since", "keys"),
    [
        ("15m", [AWKWARD[0]]),
        ("1h", AWKWARD[:2]),
        ("1d", AWKWARD),
        ("2w", [*AWKWARD, "test/old.png"]),
        # ISO times, as an offset from the test's now and a strftime format
        ((timedelta(minutes=30), "%Y-%m-%dT%H:%M:%SZ"), AWKWARD[:2]),
        ((timedelta(hours=4), "%Y-%m-%dT%H:%M:%S+00:00"), AWKWARD),
    ],
)
def test_since_takes_durations_and_iso_times(
    table: str,
    mixed: list[dict[str, Any]],
    now: datetime,
    since: str | tuple[timedelta, str],
    keys: list[str],
) -> None:
    if isinstance(since, tuple):
        since = (now - since[0]).strftime(since[1])
    code, out = run("--table", table, "--since", since, "--format", "csv")
    assert code == 0
    assert [row["s3_key"] for row in csv.DictReader(io.StringIO(out))] == keys


def test_more_items_than_a_page_are_all_read_and_limit_keeps_the_newest(
    local_cloud_env: RunningCloud, table: str, now: datetime
) -> None:
    dynamodb = local_cloud_env.client("dynamodb")
    statuses = results.STATUSES
    written = [
        item(f"test/img {i:02d}.png", now - timedelta(minutes=i), statuses[i % 3])
        for i in range(23)
    ]
    put(dynamodb, table, written)
    pages = []

    class Counting:
        def __getattr__(self, name: str) -> Any:
            return getattr(dynamodb, name)

        def query(self, **request: Any) -> Any:
            pages.append(request["ExpressionAttributeValues"][":s"]["S"])
            return dynamodb.query(**request)

    everything = results.select(Counting(), table, results.Selection(statuses, None, None), 3)
    assert [found["s3_key"] for found in everything] == [w["s3_key"] for w in written]
    assert len(pages) >= 9  # 8 items per status, 3 a page: at least 3 pages each
    code, out = run("--table", table, "--limit", "5", "--page-size", "2", "--format", "csv")
    assert code == 0
    newest = [row["s3_key"] for row in csv.DictReader(io.StringIO(out))]
    assert newest == [w["s3_key"] for w in written[:5]]


def test_an_empty_result_says_so_and_succeeds(table: str) -> None:
    code, out = run("--table", table, "--status", "failed")
    assert code == 0
    assert out == f"no results in table {table} (status failed)\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--status", "done"], "STATUS 'done' is not a status; valid: classified, needs_review"),
        (["--status", "failed,oops"], "STATUS 'oops' is not a status"),
        (["--since", "yesterday"], "SINCE 'yesterday' is neither a duration"),
        (["--since", "0h"], "SINCE '0h' is zero"),
        (["--since", "2026-13-40"], "SINCE '2026-13-40' is neither a duration"),
        (["--limit", "ten"], "LIMIT 'ten' is not a whole number"),
        (["--limit", "0"], "LIMIT '0' must be 1 or more"),
        (["--format", "xml"], "FORMAT 'xml' is not one of table, csv"),
    ],
)
def test_bad_input_is_a_named_error_with_exit_code_2(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # No cloud is touched: input is checked first.
    assert results.main(["--env", "local", "--table", "t", *args], out=io.StringIO()) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: ") and message in error
    assert "Traceback" not in error


def test_a_missing_table_names_make_apply(
    local_cloud_env: RunningCloud, capsys: pytest.CaptureFixture[str]
) -> None:
    assert results.main(["--env", "local", "--table", "no-such-results"]) == 2
    error = capsys.readouterr().err
    assert "there is no DynamoDB table 'no-such-results'" in error and "make plan apply" in error


def test_an_undeployed_environment_names_make_apply(capsys: pytest.CaptureFixture[str]) -> None:
    assert results.main(["--env", "nosuch"]) == 2
    error = capsys.readouterr().err
    assert "cannot read the Terraform outputs of infra/envs/nosuch" in error
    assert "make apply ENV=nosuch" in error


def test_outputs_without_the_table_name_name_make_apply(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(results, "read_outputs", lambda env, envs_dir: {"bucket_name": "b"})
    with pytest.raises(results.ResultsError, match=r"no output results_table_name.*make plan"):
        results.table_name("dev", None)


def test_the_make_target_passes_each_variable(tmp_path: Path, repo_root: Path) -> None:
    venv = tmp_path / "venv"
    venv.mkdir()
    (venv / ".installed").touch()  # newer than pyproject.toml: make installs nothing
    variables = ["ENV=dev", "STATUS=failed", "SINCE=1h", "LIMIT=3", "FORMAT=csv", f"VENV={venv}"]
    env = {"PATH": os.environ["PATH"]}
    made = subprocess.run(
        ["make", "-n", "-s", "results", *variables],
        cwd=repo_root,
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    assert made.stdout.split() == [
        f"{venv}/bin/python",
        *("-m", "scripts.results", "--env", "dev", "--status", "'failed'", "--since", "'1h'"),
        *("--limit", "'3'", "--format", "'csv'"),
    ]
