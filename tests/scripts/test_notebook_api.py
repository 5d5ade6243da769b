"""scripts/notebook.py, the notebook's API: the session and the pieces that need no cloud.

The calls that drive the cloud run for real in tests/notebooks, against the deployed stack.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from localcloud.testing import RunningCloud
from scripts import notebook as nb
from scripts.monitor import cli, figures
from scripts.monitor.aggregate import Aggregate
from scripts.monitor.records import parse_line
from tests.support.monitor_kit import START, record

REPO_ROOT = Path(__file__).resolve().parents[2]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_the_default_session_is_this_checkout_on_the_local_cloud() -> None:
    session = nb.session("local", environ={})
    assert session.env == "local"
    assert session.repo == REPO_ROOT
    assert session.envs_dir == REPO_ROOT / "infra" / "envs"
    assert session.work == REPO_ROOT / "build" / "notebook"
    assert session.data_dir == session.work / "data"
    assert (session.data_source, session.prefix, session.epochs, session.min_accuracy) == (
        None,
        "",
        None,
        None,
    )
    assert session.key(nb.ORIGINAL_TEST_KEY) == "test/bicycle_s_000513.png"


def test_the_environment_variables_point_the_session_elsewhere(tmp_path: Path) -> None:
    (tmp_path / "repo" / "infra" / "envs" / "local").mkdir(parents=True)
    (tmp_path / "images").mkdir()
    session = nb.session(
        "local",
        environ={
            "NOTEBOOK_REPO": str(tmp_path / "repo"),
            "NOTEBOOK_WORK_DIR": str(tmp_path / "work"),
            "NOTEBOOK_DATA": str(tmp_path / "images"),
            "NOTEBOOK_PREFIX": "test/notebook-1/",
            "NOTEBOOK_EPOCHS": "2",
            "NOTEBOOK_MIN_ACCURACY": "0",
        },
    )
    assert session.repo == tmp_path / "repo"
    assert session.work == tmp_path / "work"
    assert session.data_source == tmp_path / "images"
    assert session.key("test/") == "test/notebook-1/test/"
    assert (session.epochs, session.min_accuracy) == (2, 0.0)


def test_every_root_of_the_repository_is_an_environment() -> None:
    for env in ("local", "dev", "prod"):
        assert nb.session(env, environ={}).env == env


@pytest.mark.parametrize(
    ("env", "environ", "message"),
    [
        ("staging", {}, "environment 'staging' has no Terraform root"),
        ("local", {"NOTEBOOK_DATA": "/no/such/folder"}, "NOTEBOOK_DATA=/no/such/folder"),
        ("local", {"NOTEBOOK_PREFIX": "test/x"}, "must be a key prefix ending in /"),
        ("local", {"NOTEBOOK_PREFIX": "/test/"}, "must be a key prefix ending in /"),
        ("local", {"NOTEBOOK_EPOCHS": "two"}, "NOTEBOOK_EPOCHS='two' is not a int"),
        ("local", {"NOTEBOOK_EPOCHS": "0"}, "NOTEBOOK_EPOCHS=0 must be at least 1"),
        ("local", {"NOTEBOOK_MIN_ACCURACY": "1.5"}, "must be between 0.0 and 1.0"),
    ],
)
def test_a_bad_setting_is_a_named_error(env: str, environ: dict[str, str], message: str) -> None:
    with pytest.raises(nb.NotebookError, match=message.replace("(", r"\(").replace(".", r"\.")):
        nb.session(env, environ=environ)


def test_the_hyperparameters_are_the_committed_ones_unless_epochs_are_given(
    tmp_path: Path,
) -> None:
    from training.hyperparameters import DEFAULT_HYPERPARAMETERS

    committed = json.loads(DEFAULT_HYPERPARAMETERS.read_text())
    session = nb.session("local", environ={"NOTEBOOK_WORK_DIR": str(tmp_path)})
    assert nb.hyperparameters_file(session) == DEFAULT_HYPERPARAMETERS
    short = nb.session(
        "local", environ={"NOTEBOOK_WORK_DIR": str(tmp_path), "NOTEBOOK_EPOCHS": "3"}
    )
    written = json.loads(nb.hyperparameters_file(short).read_text())
    assert written == committed | {"epochs": 3}


def _aggregate() -> Aggregate:
    aggregate = Aggregate(threshold=0.8)
    for index, pair in enumerate([(0.1, 0.9), (0.7, 0.3), (0.45, 0.55)]):
        line = json.dumps(record(pair, when=START.replace(hour=index * 7)))
        aggregate.add(parse_line(line), f"line {index}")
    return aggregate


def test_the_three_figures_show_inline_as_the_report_draws_them(tmp_path: Path) -> None:
    aggregate = _aggregate()
    drawn = figures.draw_all(aggregate, tmp_path)
    for name, figure in (
        ("confidence", figures.confidence_figure(aggregate)),
        ("timeline", figures.timeline_figure(aggregate)),
        ("hours", figures.hours_figure(aggregate)),
    ):
        shown = nb.InlineFigure(figure)._repr_png_()
        assert shown.startswith(PNG_MAGIC)
        # The report draws the same figure into its PNG file.
        assert (tmp_path / drawn[name]).read_bytes().startswith(PNG_MAGIC)
    assert figures.confidence_figure(aggregate).axes[0].get_title() == (
        "Confidence distribution (3 inferences)"
    )
    assert figures.hours_figure(aggregate).axes[0].get_title() == (
        "Performance by hour of day (UTC)"
    )
    assert figures.timeline_figure(aggregate).axes[0].get_title() == "Inferences over time (3)"


def test_the_results_table_prints_as_make_results_does() -> None:
    item = {
        "s3_key": "test/a.png",
        "version": "v1",
        "status": "classified",
        "label": "bicycle",
        "confidence": 0.97,
        "finished_at": "2026-12-02T10:00:00.000Z",
    }
    text = str(nb.ResultsTable([item], "results"))
    assert "test/a.png" in text and "classified" in text
    assert text.endswith("1 items from table results")
    assert str(nb.ResultsTable([], "results")) == "no results in table results"


def test_a_batch_prefix_must_be_a_folder() -> None:
    with pytest.raises(nb.NotebookError, match="must end in /"):
        nb.classify_prefix(nb.session("local", environ={}), "test")


def test_a_results_limit_must_be_positive() -> None:
    with pytest.raises(nb.NotebookError, match="limit 0 must be 1 or more"):
        nb.results(nb.session("local", environ={}), limit=0)


@pytest.mark.parametrize(
    ("outputs", "source"),
    [
        ({"results_table_name": "t"}, "results"),
        ({"results_table_name": "t", "data_capture_s3_uri": "s3://b/c"}, "capture"),
        ({}, "capture"),
    ],
)
def test_the_monitor_reads_the_capture_when_the_env_has_one(
    outputs: dict[str, str], source: str
) -> None:
    assert cli.source_for(outputs) == source


def test_terraform_on_the_local_cloud_gets_its_key_not_the_callers(
    local_cloud: RunningCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOCAL_CLOUD_PORT", str(local_cloud.port))
    monkeypatch.setenv("LOCAL_CLOUD_HOME", str(local_cloud.state_root))
    caller = {"AWS_ACCESS_KEY_ID": "AKIACALLER", "AWS_PROFILE": "prod", "HOME": "/home/me"}
    environ = nb.terraform_environment(nb.session("local", environ={}), caller)
    assert environ is not None
    assert environ["AWS_ACCESS_KEY_ID"] == local_cloud.env()["AWS_ACCESS_KEY_ID"] != "AKIACALLER"
    assert environ["AWS_ENDPOINT_URL"] == local_cloud.endpoint_url
    assert environ["LOCAL_CLOUD_PORT"] == str(local_cloud.port)
    assert "AWS_PROFILE" not in environ and environ["HOME"] == "/home/me"
    # A real account's Terraform runs with the caller's own AWS configuration.
    assert nb.terraform_environment(nb.session("dev", environ={}), caller) is None


def test_the_kernel_stays_out_of_the_default_install_and_the_lambda_layer() -> None:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    kernel = ("jupyter", "ipykernel", "nbclient", "ipython", "notebook")
    assert not [dep for dep in project["dependencies"] if dep.startswith(kernel)]
    assert "jupyterlab" in " ".join(project["optional-dependencies"]["notebook"])
    layer = (REPO_ROOT / "functions" / "layer-requirements.txt").read_text()
    assert not [line for line in layer.splitlines() if line.startswith(kernel)]
