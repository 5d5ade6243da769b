"""The container contract: where SageMaker puts inputs and expects outputs under /opt/ml."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from training.errors import TrainerInputError

CHANNELS = ("train", "validation", "train_lst", "validation_lst")


@dataclass(frozen=True)
class MlRoot:
    """The paths of one training run, as SageMaker lays them out under /opt/ml."""

    root: Path

    @property
    def hyperparameters_file(self) -> Path:
        return self.root / "input" / "config" / "hyperparameters.json"

    def channel(self, name: str) -> Path:
        return self.root / "input" / "data" / name

    @property
    def model_dir(self) -> Path:
        return self.root / "model"

    @property
    def failure_file(self) -> Path:
        return self.root / "output" / "failure"

    def read_hyperparameters(self) -> dict[str, str]:
        """hyperparameters.json, whose values SageMaker always passes as strings."""
        path = self.hyperparameters_file
        if not path.is_file():
            raise TrainerInputError(
                f"{path} is missing; the training job passed no hyperparameters"
            )
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise TrainerInputError(f"{path} is not valid JSON ({exc})") from exc
        if not isinstance(loaded, dict):
            raise TrainerInputError(f"{path} must hold a JSON object of name to string value")
        return {str(key): str(value) for key, value in loaded.items()}

    def write_failure(self, reason: str) -> None:
        """output/failure: SageMaker shows its first 1024 characters as the FailureReason."""
        self.failure_file.parent.mkdir(parents=True, exist_ok=True)
        self.failure_file.write_text(reason, encoding="utf-8")
