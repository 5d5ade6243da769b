"""`python -m scripts.bench`: run the benchmark sections, write results.json, print a table."""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from scripts.bench import batch, convert, cost, model, packages, terraform, workflow
from scripts.bench.results import Measure, format_table, write_results
from scripts.bench.stack import SHARED_DATA, Deployment

# Cloud sections share one deployment; terraform goes last because it destroys it.
SECTIONS = ("convert", "packages", "workflow", "batch", "model", "terraform", "cost")
DEFAULT_LAMBDA_SECONDS = 0.1


def usage_from(measures: Sequence[Measure]) -> cost.Usage:
    """Cost inputs from this run's measures, or stated defaults when a section did not run."""
    found = {m.name: m.value for m in measures}
    lambda_seconds, sources = {}, []
    for role in ("serialize_image_data", "classify_image", "filter_inferences"):
        warm = found.get(f"lambda.{role}.warm_invoke")
        lambda_seconds[role] = warm / 1000 if warm is not None else DEFAULT_LAMBDA_SECONDS
    sources.append(
        "Lambda durations: warm invokes measured here"
        if "lambda.classify_image.warm_invoke" in found
        else f"Lambda durations: {DEFAULT_LAMBDA_SECONDS * 1000:.0f} ms assumed"
    )
    inference = found.get("model.invoke_endpoint.latency.p50")
    sources.append(
        "inference: p50 measured on the local endpoint"
        if inference is not None
        else "inference: 100 ms assumed"
    )
    child = found.get("batch.child_execution.p50")
    sources.append(
        "Express duration: the batch children's p50 measured here"
        if child is not None
        else f"Express duration: {cost.Usage.express_seconds * 1000:.0f} ms assumed"
    )
    return cost.Usage(
        lambda_seconds=lambda_seconds,
        inference_seconds=inference / 1000 if inference is not None else 0.1,
        transitions=int(found.get("batch.per_image_execution.transitions", cost.Usage.transitions)),
        express_seconds=child / 1000 if child is not None else cost.Usage.express_seconds,
        batch_parent_transitions=int(
            found.get("batch.parent_execution.transitions", cost.Usage.batch_parent_transitions)
        ),
        measured="; ".join(sources) + " (local CPU, not AWS's billed durations)",
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m scripts.bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller inputs, fewer repeats")
    parser.add_argument(
        "--only", default="", help=f"comma-separated sections: {', '.join(SECTIONS)}"
    )
    parser.add_argument("--out", type=Path, default=Path("build/bench/results.json"))
    parser.add_argument("--shared-data", type=Path, default=SHARED_DATA)
    args = parser.parse_args(argv)
    chosen = [name.strip() for name in args.only.split(",") if name.strip()] or list(SECTIONS)
    unknown = sorted(set(chosen) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    args.sections = [name for name in SECTIONS if name in chosen]
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    deployment = Deployment(args.quick, args.shared_data)
    measures: list[Measure] = []
    seconds: dict[str, float] = {}
    failed: dict[str, str] = {}
    runners: dict[str, Callable[[], list[Measure]]] = {
        "convert": lambda: convert.run(args.quick),
        "packages": lambda: packages.run(args.quick),
        "workflow": lambda: workflow.run(args.quick, deployment),
        "batch": lambda: batch.run(args.quick, deployment),
        "model": lambda: model.run(args.quick, deployment),
        "terraform": lambda: terraform.run(args.quick, deployment),
        "cost": lambda: cost.run(args.quick, usage_from(measures)),
    }
    try:
        for name in args.sections:
            print(f"== {name}", flush=True)
            began = time.monotonic()
            try:
                found = runners[name]()
            except Exception as error:  # one broken section must not lose the others' figures
                traceback.print_exc()
                failed[name] = f"{type(error).__name__}: {error}"[:2000]
                found = []
            seconds[name] = round(time.monotonic() - began, 1)
            measures.extend(found)
            print(format_table(found) if found else f"{name}: no figures", flush=True)
    finally:
        try:
            deployment.close()
        except Exception as error:  # a failed destroy must not lose the sections' figures
            traceback.print_exc()
            failed["destroy"] = f"{type(error).__name__}: {error}"[-2000:]
    if deployment.timings:
        seconds["deploy"] = round(sum(deployment.timings.values()), 1)
    write_results(
        args.out,
        measures,
        quick=args.quick,
        sections=args.sections,
        section_seconds=seconds,
        deployment_timings=deployment.timings,
        failed=failed,
    )
    print("\n" + format_table(measures))
    print(f"\nsections (s): {seconds}; results: {args.out}")
    for name, reason in failed.items():
        print(f"FAILED {name}: {reason.splitlines()[0]}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
