"""The deployed local stack the cloud benchmarks share: scripts/stack.py, sized for a bench."""

from __future__ import annotations

import contextlib
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from scripts import stack

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data" / "cifar100-bike-moto"


class BenchError(RuntimeError):
    """A benchmark cannot run here (no shared data, no terraform, a failed deploy)."""


def committed_epochs() -> int:
    from training.hyperparameters import DEFAULT_HYPERPARAMETERS

    config = json.loads(DEFAULT_HYPERPARAMETERS.read_text(encoding="utf-8"))
    return int(config["epochs"])


class Deployment:
    """Deploys on first use, destroys on close; the figures of both are kept in `timings`."""

    def __init__(self, quick: bool, shared_data: Path) -> None:
        self.quick = quick
        self.shared_data = shared_data
        self.timings: dict[str, float] = {}
        self._stack: Any = None
        self._exit = contextlib.ExitStack()

    @property
    def training(self) -> str:
        module: Any = stack
        return f"{module.TRAIN_PER_CLASS}/class, {module.TRAINING_EPOCHS} epochs" + (
            " (quick)" if self.quick else " (committed hyperparameters)"
        )

    def stack(self) -> Any:
        """The e2e DeployedStack: full data and committed epochs, or the e2e sizes with --quick."""
        if self._stack is not None:
            return self._stack
        if not (self.shared_data / "test").is_dir():
            raise BenchError(f"the shared dataset is not at {self.shared_data}")
        from localcloud.testing import running_local_cloud

        module: Any = stack  # the one definition of how the local stack is deployed
        if not self.quick:
            # Every shared image and the committed epochs (deploy reads these module settings).
            module.TRAIN_PER_CLASS, module.TEST_PER_CLASS = 500, 100
            module.TRAINING_EPOCHS = committed_epochs()
        workdir = Path(self._exit.enter_context(tempfile.TemporaryDirectory(prefix="bench-")))
        cloud = self._exit.enter_context(running_local_cloud())
        try:
            self._stack = module.deploy(cloud, workdir, self.shared_data)
        except module.StackError as error:
            self._exit.close()
            raise BenchError(f"deploying the local stack failed:\n{error}") from error
        self.timings |= self._stack.timings
        return self._stack

    @property
    def deployed(self) -> bool:
        return self._stack is not None

    def close(self) -> None:
        """Destroy the stack (timed) and stop the cloud."""
        try:
            if self._stack is not None:
                began = time.monotonic()
                done = self._stack.destroy()
                self.timings["destroy"] = round(time.monotonic() - began, 1)
                if done.returncode != 0:
                    raise BenchError(
                        f"terraform destroy failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
                    )
        finally:
            self._stack = None
            self._exit.close()
