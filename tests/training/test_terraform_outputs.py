"""training.terraform_outputs, the one reader of a root's outputs: its errors say what to run."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.errors import TerraformOutputError
from training.terraform_outputs import ENVS_DIR, output_value, read_outputs


def test_the_default_roots_are_the_repositorys_from_any_directory() -> None:
    assert ENVS_DIR.is_absolute()
    assert (ENVS_DIR / "local" / "providers.tf").is_file()


def test_an_unknown_environment_names_the_choices(tmp_path: Path) -> None:
    with pytest.raises(TerraformOutputError, match="check ENV"):
        read_outputs("staging", tmp_path)


def test_an_uninitialised_root_says_to_run_make_init(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TF_DATA_DIR", raising=False)
    (tmp_path / "dev").mkdir()
    with pytest.raises(TerraformOutputError, match=r"make init ENV=dev.*or pass --bucket NAME"):
        output_value("dev", "bucket_name", "--bucket NAME", tmp_path)
