"""Validation of the committed hyperparameters before a job is launched."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from training.errors import ConfigError, InvalidHyperparameterError
from training.hyperparameters import (
    DEFAULT_HYPERPARAMETERS,
    load_hyperparameters,
    sagemaker_hyperparameters,
)

GOOD = {
    "image_shape": "3,32,32",
    "num_classes": 2,
    "epochs": 10,
    "learning_rate": 0.05,
    "mini_batch_size": 64,
}


def test_values_become_strings_and_samples_are_counted():
    assert sagemaker_hyperparameters(GOOD, 900) == {
        "image_shape": "3,32,32",
        "num_classes": "2",
        "epochs": "10",
        "learning_rate": "0.05",
        "mini_batch_size": "64",
        "num_training_samples": "900",
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"mini_batch_size": 901}, "exceeds the 900 training images"),
        ({"mini_batch_size": 0}, "must be positive"),
        ({"num_classes": 3}, "must be 2"),
        ({"image_shape": "32,32"}, "must be '3,<height>,<width>'"),
        ({"image_shape": "1,32,32"}, "must be '3,<height>,<width>'"),
        ({"image_shape": "3,32,x"}, "must be '3,<height>,<width>'"),
        ({"epochs": 0}, "epochs=0 must be positive"),
        ({"learning_rate": 0}, "between 0 and 1"),
        ({"learning_rate": 1.5}, "between 0 and 1"),
        ({"learning_rate": "fast"}, "not a valid float"),
        ({"num_training_samples": 5}, "computed from train.lst"),
    ],
)
def test_bad_values_are_named_errors(change, message):
    with pytest.raises(InvalidHyperparameterError, match=message):
        sagemaker_hyperparameters({**GOOD, **change}, 900)


def test_missing_required_value():
    config = dict(GOOD)
    del config["epochs"]
    with pytest.raises(InvalidHyperparameterError, match="lacks epochs"):
        sagemaker_hyperparameters(config, 900)


def test_committed_config_is_valid_for_the_real_data_size(tmp_path: Path):
    lst = tmp_path / "train.lst"
    lst.write_text("".join(f"{i}\t0\tbicycle/{i}.png\n" for i in range(900)))
    loaded = load_hyperparameters(DEFAULT_HYPERPARAMETERS, lst)
    assert loaded["num_training_samples"] == "900"
    assert loaded["image_shape"] == "3,32,32"
    assert all(isinstance(value, str) for value in loaded.values())


def test_missing_train_lst_says_to_run_make_data(tmp_path: Path):
    with pytest.raises(ConfigError, match="make data"):
        load_hyperparameters(DEFAULT_HYPERPARAMETERS, tmp_path / "train.lst")


def test_malformed_config(tmp_path: Path):
    path = tmp_path / "h.json"
    path.write_text(json.dumps([1, 2]))
    (tmp_path / "train.lst").write_text("0\t0\ta.png\n")
    with pytest.raises(ConfigError, match="JSON object"):
        load_hyperparameters(path, tmp_path / "train.lst")
