"""Lay out an /opt/ml-style folder from build/data, to run the local trainer without a cloud."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from training.hyperparameters import DEFAULT_HYPERPARAMETERS, load_hyperparameters
from training.local_trainer.contract import MlRoot


def stage(data: Path, ml_root: MlRoot, config: Path = DEFAULT_HYPERPARAMETERS) -> dict[str, str]:
    """Link the image channels, copy the .lst files, write hyperparameters.json."""
    hyperparameters = load_hyperparameters(config, data / "train.lst")
    for stale in (ml_root.root / "input", ml_root.model_dir, ml_root.failure_file.parent):
        if stale.is_symlink() or stale.is_file():
            stale.unlink()
        elif stale.exists():
            shutil.rmtree(stale)
    for split in ("train", "validation"):
        image_channel = ml_root.channel(split)
        image_channel.parent.mkdir(parents=True, exist_ok=True)
        # A link instead of a copy: SageMaker's File mode copies, but the trainer only reads.
        image_channel.symlink_to((data / split).resolve(), target_is_directory=True)
        lst_channel = ml_root.channel(f"{split}_lst")
        lst_channel.mkdir(parents=True)
        shutil.copyfile(data / f"{split}.lst", lst_channel / f"{split}.lst")
    ml_root.hyperparameters_file.parent.mkdir(parents=True, exist_ok=True)
    ml_root.hyperparameters_file.write_text(json.dumps(hyperparameters, indent=2) + "\n")
    return hyperparameters
