"""`make evaluate`: send the test images through the endpoint (or a local model) and report."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tqdm import tqdm

from training.aws import client
from training.errors import ConfigError, TrainingToolError
from training.labels import CLASSES
from training.metrics import report, summary_table
from training.terraform_outputs import ENVS_DIR, output_value

Predict = Callable[[bytes, str], list[float]]


def split_images(data: Path, split: str = "test") -> list[tuple[Path, int]]:
    """(image path, label) for every row of <data>/<split>.lst."""
    lst = data / f"{split}.lst"
    if not lst.is_file():
        raise ConfigError(f"{lst} does not exist; run `make data` first")
    rows = []
    for line in lst.read_text(encoding="utf-8").splitlines():
        if line.strip():
            _, label, relative = line.split("\t")
            rows.append((data / split / relative, int(float(label))))
    return rows


def endpoint_predictor(runtime: Any, endpoint: str) -> Predict:
    """A predictor that calls InvokeEndpoint, one image per request as the algorithm expects."""

    def predict(body: bytes, content_type: str) -> list[float]:
        response = runtime.invoke_endpoint(
            EndpointName=endpoint, ContentType=content_type, Accept="application/json", Body=body
        )
        return [float(p) for p in json.loads(response["Body"].read())]

    return predict


def local_predictor(model_dir: Path) -> Predict:
    """A predictor through the same inference code the local endpoint runs."""
    # Imported here so that evaluating a real endpoint does not need torch.
    from training.local_trainer.inference import load_model

    return load_model(model_dir).predict


def evaluate(predict: Predict, images: list[tuple[Path, int]]) -> dict[str, Any]:
    """Predict every image and build the report."""
    labels, probabilities = [], []
    for path, label in tqdm(images, desc="evaluate", unit="image"):
        content_type = "image/png" if path.suffix.lower() == ".png" else "image/jpeg"
        probabilities.append(predict(path.read_bytes(), content_type))
        labels.append(label)
    return report(CLASSES, labels, probabilities)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m training.evaluate", description=__doc__)
    target = parser.add_mutually_exclusive_group()
    target.add_argument(
        "--endpoint", help="endpoint name (default: Terraform output endpoint_name)"
    )
    target.add_argument("--local-model", type=Path, help="a model directory, run in process")
    parser.add_argument("--env", default="local", help="environment whose endpoint to evaluate")
    parser.add_argument("--envs-dir", type=Path, default=ENVS_DIR)
    parser.add_argument("--data", type=Path, default=Path("build/data"))
    parser.add_argument("--split", default="test", choices=("test", "validation"))
    parser.add_argument("--out", type=Path, default=Path("build/eval/report.json"))
    parser.add_argument("--min-accuracy", type=float, default=None, help="exit 3 below this")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        images = split_images(args.data, args.split)
        if args.local_model is not None:
            predict = local_predictor(args.local_model)
            target = str(args.local_model)
        else:
            endpoint = args.endpoint or output_value(
                args.env, "endpoint_name", "--endpoint NAME", args.envs_dir
            )
            predict = endpoint_predictor(client("sagemaker-runtime", args.env), endpoint)
            target = f"endpoint {endpoint}"
        started = time.perf_counter()
        result = evaluate(predict, images)
    except TrainingToolError as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    result["target"] = target
    result["split"] = args.split
    result["seconds"] = round(time.perf_counter() - started, 3)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(summary_table(result))
    print(f"\nwrote {args.out}")
    if args.min_accuracy is not None and result["accuracy"] < args.min_accuracy:
        print(f"accuracy {result['accuracy']:.4f} is below {args.min_accuracy}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
