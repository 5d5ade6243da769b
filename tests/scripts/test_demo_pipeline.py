"""The demo's glue: Terraform progress and failures, epoch lines, refusing a busy port, reset."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from scripts.demo import pipeline
from scripts.demo.errors import DemoError
from scripts.demo.terraform import TERRAFORM_PROGRESS, terraform
from scripts.demo.training_log import TrainingLogTail


@pytest.mark.parametrize(
    "line",
    [
        "Plan: 35 to add, 0 to change, 0 to destroy.",
        "module.storage.aws_s3_bucket.this: Creation complete after 1s [id=scones-local]",
        "module.storage.aws_s3_bucket_lifecycle_configuration.this: Still creating... [10s]",
        "Apply complete! Resources: 35 added, 0 changed, 0 destroyed.",
        "│ Error: creating S3 Bucket",
        "Error: Failed to load plugin schemas",
    ],
)
def test_terraform_progress_lines_are_shown(line: str) -> None:
    assert TERRAFORM_PROGRESS.search(line)


@pytest.mark.parametrize(
    "line", ['          + metric_name = "Errors"', '  + ErrorEquals = ["States.ALL"]', ""]
)
def test_plan_bodies_are_not_shown(line: str) -> None:
    assert not TERRAFORM_PROGRESS.search(line)


def fake_tf_sh(root: Path, body: str) -> None:
    (root / "scripts").mkdir()
    (root / "scripts" / "tf.sh").write_text(f"#!/usr/bin/env bash\n{body}\n")


def test_a_failing_terraform_step_names_the_command_its_output_and_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_tf_sh(tmp_path, 'echo "Plan: 1 to add"; echo "something broke" >&2; exit 1')
    monkeypatch.chdir(tmp_path)
    log = tmp_path / "logs" / "tf.log"
    with pytest.raises(DemoError) as raised:
        terraform("plan", log=log)
    message = str(raised.value)
    assert "scripts/tf.sh plan local exited 1" in message
    assert "something broke" in message and str(log) in message
    assert "Plan: 1 to add" in capsys.readouterr().out
    assert "something broke" in log.read_text()


def test_a_successful_terraform_step_passes_its_arguments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_tf_sh(tmp_path, 'echo "args: $*"')
    monkeypatch.chdir(tmp_path)
    log = tmp_path / "tf.log"
    terraform("apply", log=log)
    assert log.read_text() == "args: apply local -no-color\n"


class FakeLogs:
    def __init__(self, messages: list[str]) -> None:
        self.events = [
            {"eventId": str(n), "message": message} for n, message in enumerate(messages)
        ]

    def get_paginator(self, name: str) -> FakeLogs:
        assert name == "filter_log_events"
        return self

    def paginate(self, **kwargs: Any) -> list[dict[str, Any]]:
        assert kwargs["logGroupName"] == "/aws/sagemaker/TrainingJobs"
        return [{"events": self.events}]


def test_the_training_tail_shows_each_epochs_validation_accuracy_once(
    capsys: pytest.CaptureFixture[str],
) -> None:
    logs = FakeLogs(
        [
            "Epoch[0] Train-accuracy=0.6",
            "Epoch[0] Validation-accuracy=0.700000",
            "Epoch[1] Validation-accuracy=0.800000",
            "saved the model to /opt/ml/model",
        ]
    )
    tail = TrainingLogTail(logs)
    tail._print_new()
    tail._print_new()  # the same events again: already shown
    printed = capsys.readouterr().out.splitlines()
    assert printed == [
        "    Epoch[0] Validation-accuracy=0.700000",
        "    Epoch[1] Validation-accuracy=0.800000",
        "    saved the model to /opt/ml/model",
    ]


def test_the_demo_refuses_a_port_where_a_local_cloud_already_answers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from localcloud import control

    monkeypatch.setattr(control, "health", lambda port, timeout=1.0: {"status": "running"})
    with pytest.raises(DemoError, match="already answers on port 4999"):
        pipeline.Demo(None, fresh=False, port=4999).start_cloud()


def test_resetting_the_local_terraform_removes_state_plans_and_model_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    files = [
        pipeline.TF_STATE,
        pipeline.TF_STATE.with_name("terraform.tfstate.backup"),
        pipeline.BUILD / "terraform" / "local.tfplan",
        pipeline.MODEL_TFVARS,
    ]
    for path in files:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}")
    assert sorted(pipeline.reset_local_terraform()) == sorted(files)
    assert not any(path.exists() for path in files)
    assert pipeline.reset_local_terraform() == []


def test_fresh_comes_from_the_environment_as_make_passes_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FRESH", "1")
    monkeypatch.setenv("DATA", "/data/folder")
    monkeypatch.setenv("LOCAL_CLOUD_PORT", "4600")
    args = pipeline.parse_args([])
    assert (args.fresh, args.data, args.port) == (True, "/data/folder", 4600)
    monkeypatch.delenv("FRESH")
    assert not pipeline.parse_args([]).fresh
