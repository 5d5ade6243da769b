"""`python -m scripts.monitor`: the monitoring report of one environment's endpoint.

Its records come from one of two sources (--source): the endpoint's data capture, or the
workflow's results table (issue 12), for an endpoint without data capture (a serverless one).
`auto` (the default) reads the capture when there is one to read (--capture-dir, the capture
flags, or a Terraform output data_capture_s3_uri), else the results table.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from scripts.monitor import pipeline, settings
from scripts.monitor.errors import MonitorError
from scripts.monitor.joins import JoinIndex, OutcomeStats, read_executions, read_results
from scripts.monitor.sources import DirectorySource, ResultsSource, S3Source, Source
from training.aws import LocalCloudNotRunningError

DEFAULT_RESULTS = Path("build/classify/results.jsonl")
DEFAULT_OUT = Path("build/monitor")
SOURCES = ("auto", "capture", "results")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.monitor",
        description="Data capture of the endpoint, joined with the workflow's outcomes, or the "
        "workflow's results table, as OUT/report.html (PNG figures beside it) and "
        "OUT/summary.json.",
    )
    parser.add_argument("--env", default=os.environ.get("ENV", "local"))
    parser.add_argument(
        "--source",
        choices=SOURCES,
        default="auto",
        help="capture: the endpoint's data capture; results: the results table; auto (default): "
        "the capture when the env has one (output data_capture_s3_uri), else the results table",
    )
    parser.add_argument(
        "--results-table", help="default: Terraform output results_table_name (--source results)"
    )
    parser.add_argument(
        "--threshold",
        type=float,
        help="default: Terraform output threshold, else filterInferences' THRESHOLD, else 0.93",
    )
    parser.add_argument("--results", type=Path, help=f"default: {DEFAULT_RESULTS} if present")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument(
        "--capture-dir",
        type=Path,
        help="read capture files from this folder instead of S3 (offline; Terraform not read)",
    )
    parser.add_argument("--bucket", help="default: from output data_capture_s3_uri")
    parser.add_argument(
        "--capture-prefix", help="capture prefix in the bucket, without the endpoint name"
    )
    parser.add_argument("--endpoint-name", help="default: Terraform output endpoint_name")
    parser.add_argument("--state-machine-arn", help="default: Terraform output")
    parser.add_argument(
        "--max-executions",
        type=int,
        default=500,
        help="newest executions read for the join and failure causes (0: do not read)",
    )
    parser.add_argument("--endpoint-url", default=os.environ.get("AWS_ENDPOINT_URL"))
    args = parser.parse_args(argv)
    if args.max_executions < 0:
        parser.error("--max-executions must be 0 or more")
    if args.capture_dir and (args.source == "results" or args.results_table):
        parser.error("--capture-dir reads data capture; it cannot go with the results table")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        report = build(args)
    except (MonitorError, LocalCloudNotRunningError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(describe(report))
    return 0


def choose_source(args: argparse.Namespace) -> tuple[str, dict[str, Any] | None]:
    """("capture" or "results", the Terraform outputs when they were read to choose)."""
    if args.capture_dir or args.source == "capture":
        return "capture", None
    if args.source == "results" or args.results_table:
        return "results", None if args.results_table else settings.terraform_outputs(args.env)
    if settings.capture_flags_given(args.bucket, args.capture_prefix, args.endpoint_name):
        return "capture", None
    outputs = settings.terraform_outputs(args.env)
    return source_for(outputs), outputs


def source_for(outputs: dict[str, Any]) -> str:
    """The source `auto` reads for an environment with these Terraform outputs."""
    if not outputs.get("data_capture_s3_uri") and outputs.get("results_table_name"):
        return "results"  # no data capture (a serverless endpoint): the table
    return "capture"  # the capture, or the capture path's own error saying what's off


def build(args: argparse.Namespace) -> pipeline.Report:
    """Resolve where everything is, then stream the chosen source's records into the report."""
    kind, outputs = choose_source(args)
    if kind == "results":
        return build_from_results(args, outputs or {})
    return build_from_capture(args, outputs)


def build_from_results(args: argparse.Namespace, outputs: dict[str, Any]) -> pipeline.Report:
    """The results table's items: records and outcomes at once, so nothing to join."""
    table = settings.resolve_results_table(args.env, args.results_table, outputs)
    source = ResultsSource(settings.make_client("dynamodb", args.env, args.endpoint_url), table)
    function = (outputs.get("function_names") or {}).get("filter_inferences")
    lambda_client = None
    if args.threshold is None and function:
        lambda_client = settings.make_client("lambda", args.env, args.endpoint_url)
    threshold, threshold_source = settings.resolve_threshold(
        args.threshold, outputs, function, lambda_client
    )
    context = {
        "environment": args.env,
        "threshold_source": threshold_source,
        "join_method": "not needed: each item of the results table holds its own outcome",
    }
    # source.outcomes is filled while the report reads the table, before it is written.
    return pipeline.run(source, args.out, threshold, None, [source.outcomes], context)


def build_from_capture(args: argparse.Namespace, outputs: dict[str, Any] | None) -> pipeline.Report:
    """Resolve where everything is, read the outcomes for the join, then stream the capture."""
    index, outcomes = JoinIndex(), []
    context: dict[str, Any] = {"environment": None if args.capture_dir else args.env}
    source: Source
    state_machine_arn = args.state_machine_arn
    if args.capture_dir:
        source = DirectorySource(args.capture_dir)
        threshold, threshold_source = settings.resolve_threshold(args.threshold, {}, None, None)
        sfn = None
        if state_machine_arn:
            sfn = settings.make_client("stepfunctions", args.env, args.endpoint_url)
    else:
        target, outputs = settings.resolve_target(
            args.env,
            args.bucket,
            args.capture_prefix,
            args.endpoint_name,
            state_machine_arn,
            outputs,
        )
        state_machine_arn = target.state_machine_arn
        source = S3Source(
            settings.make_client("s3", args.env, args.endpoint_url),
            target.bucket,
            target.capture_prefix,
        )
        lambda_client = None
        if args.threshold is None and target.threshold_function:
            lambda_client = settings.make_client("lambda", args.env, args.endpoint_url)
        threshold, threshold_source = settings.resolve_threshold(
            args.threshold, outputs, target.threshold_function, lambda_client
        )
        sfn = settings.make_client("stepfunctions", args.env, args.endpoint_url)
    results = args.results or (DEFAULT_RESULTS if DEFAULT_RESULTS.exists() else None)
    if results is not None:
        outcomes.append(read_results(results, index))
    if sfn is not None and state_machine_arn and args.max_executions:
        outcomes.append(read_executions(sfn, state_machine_arn, args.max_executions, index))
    context |= {
        "threshold_source": threshold_source,
        "join_method": join_method(outcomes, state_machine_arn, args.max_executions),
    }
    return pipeline.run(source, args.out, threshold, index, outcomes, context)


def join_method(outcomes: list[OutcomeStats], state_machine_arn: str | None, limit: int) -> str:
    if state_machine_arn and limit:
        return (
            f"SHA-256 of the input image = SHA-256 of the image_data of the newest {limit} "
            "executions; inferenceId = results key or execution name"
        )
    if outcomes:
        return "inferenceId = results key or execution name (no Step Functions read)"
    return "not attempted"


def describe(report: pipeline.Report) -> str:
    summary = report.aggregate.summary()
    records = summary["records"]
    results = report.context.get("source") == "results"
    what, bad = (
        ("results", "malformed items") if results else ("capture records", "malformed lines")
    )
    lines = [f"{records:,} {what} ({summary['malformed']['count']:,} {bad})"]
    if records:
        below = summary["below_threshold"]
        balance = ", ".join(f"{k} {v:,}" for k, v in summary["class_balance"].items())
        lines += [
            f"below threshold {summary['threshold']:g}: {below:,} ({below / records:.1%}); "
            f"mean confidence {summary['mean_confidence']:.3f}; {balance}",
        ]
        if not results:
            lines.append(f"joined with the workflow: {summary['joined']['records']:,}")
    else:
        lines.append(f"no {what}: the report says so")
    for stats in report.outcomes:
        share = f"{stats.failed / stats.finished:.1%}" if stats.finished else "-"
        lines.append(f"{stats.source}: {stats.failed:,}/{stats.finished:,} failed ({share})")
    lines.append(f"report: {report.html}")
    return "\n".join(lines)
