"""The local trainer's container contract, its hyperparameter parsing, and the inference API."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from training.errors import InvalidHyperparameterError, ModelLoadError, UndecodableImageError
from training.local_trainer.__main__ import main
from training.local_trainer.inference import load_model
from training.local_trainer.params import TrainParams, parse_params

BASE = {"num_classes": "2", "num_training_samples": "16", "image_shape": "3,32,32"}


def synthetic_image(label: int, seed: int, size: int = 32) -> Image.Image:
    # Reddish bicycles, bluish motorcycles: learnable in one or two epochs.
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 120, (size, size, 3), dtype=np.uint8)
    pixels[..., 0 if label == 0 else 2] += 120
    return Image.fromarray(pixels)


def make_ml_root(root: Path, hyperparameters: dict[str, str], per_class: int = 8) -> Path:
    config = root / "input" / "config"
    config.mkdir(parents=True)
    (config / "hyperparameters.json").write_text(json.dumps(hyperparameters))
    seed = 0
    for channel, count in (("train", per_class), ("validation", 2)):
        lines = []
        for label, class_name in enumerate(("bicycle", "motorcycle")):
            for i in range(count):
                seed += 1
                relative = f"{class_name}/{channel}_{i}.png"
                path = root / "input" / "data" / channel / relative
                path.parent.mkdir(parents=True, exist_ok=True)
                synthetic_image(label, seed).save(path)
                lines.append(f"{len(lines)}\t{label}\t{relative}\n")
        lst_dir = root / "input" / "data" / f"{channel}_lst"
        lst_dir.mkdir(parents=True)
        (lst_dir / f"{channel}.lst").write_text("".join(lines))
    return root


def test_strings_are_parsed_and_defaults_filled():
    params = parse_params(
        {**BASE, "epochs": "3", "learning_rate": "0.01", "mini_batch_size": " 8 ", "seed": "7"}
    )
    assert params == TrainParams(
        num_classes=2,
        num_training_samples=16,
        image_shape=(3, 32, 32),
        epochs=3,
        learning_rate=0.01,
        mini_batch_size=8,
        seed=7,
    )


def test_sagemaker_only_hyperparameters_are_ignored_with_a_note(caplog):
    with caplog.at_level("INFO"):
        parse_params({**BASE, "num_layers": "18", "use_pretrained_model": "0", "banana": "1"})
    assert "num_layers=18 ignored (not modelled by the local trainer)" in caplog.text
    assert "banana=1 ignored (unknown)" in caplog.text


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"epochs": "three"}, "epochs='three' is not valid"),
        ({"epochs": "0"}, "epochs must be positive"),
        ({"learning_rate": "2"}, "between 0 and 1"),
        ({"image_shape": "3,32"}, "channels,height,width"),
        ({"num_classes": "1"}, "at least 2"),
        ({"augmentation_type": "rotate"}, "augmentation_type must be one of"),
    ],
)
def test_bad_strings_are_named_errors(change, message):
    with pytest.raises(InvalidHyperparameterError, match=message):
        parse_params({**BASE, **change})


def test_required_hyperparameter_missing():
    with pytest.raises(InvalidHyperparameterError, match="num_training_samples is required"):
        parse_params({"num_classes": "2"})


@pytest.fixture(scope="module")
def trained_model(tmp_path_factory) -> Path:
    root = make_ml_root(
        tmp_path_factory.mktemp("ml"),
        {**BASE, "epochs": "2", "learning_rate": "0.05", "mini_batch_size": "8",
         "augmentation_type": "crop"},
    )  # fmt: skip
    assert main(["train", "--ml-root", str(root)]) == 0
    assert not (root / "output" / "failure").exists()
    return root / "model"


@pytest.mark.slow
def test_training_writes_a_loadable_model(trained_model: Path, capsys):
    assert sorted(p.name for p in trained_model.iterdir()) == ["model.json", "model.pt"]
    meta = json.loads((trained_model / "model.json").read_text())
    assert meta["image_shape"] == [3, 32, 32]
    assert meta["classes"] == ["bicycle", "motorcycle"]
    assert meta["version"] == 1


@pytest.mark.slow
def test_training_logs_epoch_metrics(tmp_path, capsys):
    root = make_ml_root(tmp_path, {**BASE, "epochs": "1", "mini_batch_size": "8"})
    assert main(["train", "--ml-root", str(root)]) == 0
    out = capsys.readouterr().out
    for metric in ("Train-accuracy=", "Train-cross_entropy=", "Validation-accuracy="):
        assert f"Epoch[0] {metric}" in out


@pytest.mark.slow
@pytest.mark.parametrize(("fmt", "size", "content_type"), [
    ("PNG", 32, "image/png"),
    ("JPEG", 75, "image/jpeg"),
    ("PNG", 200, "application/x-image"),
])  # fmt: skip
def test_predictions_are_probabilities(trained_model: Path, fmt, size, content_type):
    model = load_model(trained_model)
    buffer = io.BytesIO()
    synthetic_image(1, 123, size).convert("RGB").save(buffer, format=fmt)
    probabilities = model.predict(buffer.getvalue(), content_type)
    assert len(probabilities) == 2
    assert all(isinstance(p, float) and 0.0 <= p <= 1.0 for p in probabilities)
    assert sum(probabilities) == pytest.approx(1.0, abs=1e-9)


@pytest.mark.slow
def test_rgba_and_greyscale_inputs_are_converted(trained_model: Path):
    model = load_model(trained_model)
    for mode in ("RGBA", "L", "P"):
        buffer = io.BytesIO()
        synthetic_image(0, 5).convert(mode).save(buffer, format="PNG")
        assert len(model.predict(buffer.getvalue(), "image/png")) == 2


@pytest.mark.slow
def test_undecodable_body_is_a_named_error(trained_model: Path):
    model = load_model(trained_model)
    with pytest.raises(UndecodableImageError, match="not a decodable"):
        model.predict(b"definitely not an image", "image/png")
    with pytest.raises(UndecodableImageError, match="content type"):
        model.predict(b"{}", "application/json")


def test_loading_a_folder_without_a_model_is_a_named_error(tmp_path):
    with pytest.raises(ModelLoadError, match="not a model directory"):
        load_model(tmp_path)


def test_wrong_num_training_samples_fails_with_output_failure(tmp_path, capsys):
    root = make_ml_root(tmp_path, {**BASE, "num_training_samples": "999", "mini_batch_size": "8"})
    assert main(["train", "--ml-root", str(root)]) == 1
    reason = (root / "output" / "failure").read_text()
    assert "num_training_samples is 999 but train.lst lists 16 images" in reason
    assert "set num_training_samples=16" in reason
    assert not (root / "model").exists()


def test_missing_channel_fails_with_output_failure(tmp_path):
    root = make_ml_root(tmp_path, {**BASE, "mini_batch_size": "8"})
    (root / "input" / "data" / "validation_lst" / "validation.lst").unlink()
    assert main(["train", "--ml-root", str(root)]) == 1
    assert (
        "validation_lst must hold exactly one .lst file"
        in (root / "output" / "failure").read_text()
    )


def test_cli_entry_runs_as_a_process(tmp_path, repo_root):
    root = make_ml_root(tmp_path, {**BASE, "epochs": "0"})
    completed = subprocess.run(
        [sys.executable, "-m", "training.local_trainer", "train", "--ml-root", str(root)],
        cwd=repo_root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 1
    assert "epochs must be positive" in (root / "output" / "failure").read_text()


@pytest.mark.parametrize(
    ("variable", "load", "expected"),
    [("", 0.1, 2), ("", 1.4, 1), ("", 9.0, 1), ("1", 0.0, 1), ("2", 9.0, 2), ("x", 0.0, 2)],
)
def test_thread_count_follows_the_load_unless_set(monkeypatch, variable, load, expected):
    from training.local_trainer import train

    monkeypatch.setenv("SCONES_TORCH_THREADS", variable)
    monkeypatch.setattr(train, "busy_cores", lambda: load)
    monkeypatch.setattr(train.os, "cpu_count", lambda: 2)
    assert train.cpu_threads() == expected


def test_busy_cores_reads_proc_stat_not_the_lagging_load_average(tmp_path, monkeypatch):
    from training.local_trainer import train

    stat = tmp_path / "stat"
    stat.write_text("cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 50 0 50 400 0 0 0 0 0 0\n")
    assert train.cpu_times(stat) == (800, 1000)
    assert train.cpu_times(tmp_path / "missing") is None
    (tmp_path / "odd").write_text("intr 1 2 3\n")
    assert train.cpu_times(tmp_path / "odd") is None

    # Over the window one of two cores was busy, whatever the load average says.
    samples = iter([(800, 1000), (900, 1200)])
    monkeypatch.setattr(train, "cpu_times", lambda: next(samples))
    monkeypatch.setattr(train.time, "sleep", lambda _: None)
    monkeypatch.setattr(train.os, "getloadavg", lambda: (9.0, 9.0, 9.0))
    monkeypatch.setattr(train.os, "cpu_count", lambda: 2)
    assert train.busy_cores() == pytest.approx(1.0)

    monkeypatch.setattr(train, "cpu_times", lambda: None)
    assert train.busy_cores() == 9.0
