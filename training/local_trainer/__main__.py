"""Container entry: `python -m training.local_trainer train --ml-root DIR` (SageMaker's `train`)."""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from training.errors import TrainingToolError
from training.hyperparameters import DEFAULT_HYPERPARAMETERS
from training.local_trainer.contract import MlRoot
from training.local_trainer.stage import stage as stage_ml_root


def _stage(data: Path, ml_root: MlRoot, config: Path) -> int:
    try:
        hyperparameters = stage_ml_root(data, ml_root, config)
    except TrainingToolError as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(f"staged {ml_root.root} with {hyperparameters}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.local_trainer", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="run one training job")
    train.add_argument("--ml-root", type=Path, default=Path("/opt/ml"), help="default: /opt/ml")
    stage = commands.add_parser("stage", help="lay out an ml-root from build/data (no cloud)")
    stage.add_argument("--ml-root", type=Path, required=True)
    stage.add_argument("--data", type=Path, default=Path("build/data"))
    stage.add_argument("--config", type=Path, default=DEFAULT_HYPERPARAMETERS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    ml_root = MlRoot(args.ml_root)
    if args.command == "stage":
        return _stage(args.data, ml_root, args.config)
    try:
        # Imported here so that a broken torch install still ends in output/failure.
        from training.local_trainer.train import run

        run(ml_root)
    except TrainingToolError as exc:
        reason = f"ClientError: {type(exc).__name__}: {exc}"
        ml_root.write_failure(reason)
        print(reason, file=sys.stderr, flush=True)
        return 1
    except Exception as exc:  # any crash must still leave a FailureReason
        traceback.print_exc()
        reason = (
            f"AlgorithmError: {type(exc).__name__}: {exc} (see the job's log for the traceback)"
        )
        ml_root.write_failure(reason)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
