"""Workflow benchmark: executions per second and latency on the local cloud; Lambda cold vs warm."""

from __future__ import annotations

import json
import statistics
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from scripts.bench.results import Measure, latency_measures, timed
from scripts.bench.stack import Deployment

POLL_S = 0.02  # fine polling: the latency measured is the workflow's, not the poll's
CONCURRENCY = 8


def image_keys(stack: Any, limit: int) -> list[str]:
    listed = stack.client("s3").list_objects_v2(Bucket=stack.bucket, Prefix="test/")
    return sorted(item["Key"] for item in listed.get("Contents", []))[:limit]


def versions(stack: Any, keys: list[str]) -> dict[str, str]:
    """The current version id of each key: the workflow classifies and records one version."""
    s3 = stack.client("s3")
    return {key: s3.head_object(Bucket=stack.bucket, Key=key)["VersionId"] for key in keys}


def execute(sfn: Any, stack: Any, key: str, version: str) -> tuple[float, str]:
    """(seconds from StartExecution to a final status, status) of one image.

    After the first pass over a key its version has an item, so later executions end as
    duplicates; they do the same work (the write is the last step), so the timing compares.
    """
    event = {"image_data": "", "s3_bucket": stack.bucket, "s3_key": key, "s3_version": version}
    began = time.perf_counter()
    arn = sfn.start_execution(
        stateMachineArn=stack.state_machine_arn,
        name=f"bench-{uuid.uuid4().hex[:20]}",
        input=json.dumps(event),
    )["executionArn"]
    while True:
        status = str(sfn.describe_execution(executionArn=arn)["status"])
        if status != "RUNNING":
            return time.perf_counter() - began, status
        time.sleep(POLL_S)


def batch(stack: Any, keys: list[str], concurrency: int) -> tuple[float, list[float], int]:
    """(wall seconds, latencies, failures) of one execution per key, `concurrency` at a time."""
    from botocore.config import Config

    sfn = stack.client("stepfunctions", config=Config(max_pool_connections=concurrency + 4))
    version_of = versions(stack, keys)
    began = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        done = list(pool.map(lambda key: execute(sfn, stack, key, version_of[key]), keys))
    wall = time.perf_counter() - began
    return wall, [seconds for seconds, _ in done], sum(s != "SUCCEEDED" for _, s in done)


def cold_and_warm(stack: Any, repeats: int, warm_calls: int) -> dict[str, tuple[float, float]]:
    """Per function: (median cold, median warm) invoke seconds.

    A configuration change (an extra environment variable) retires the warm workers, as on AWS,
    so the next invoke is a cold start; the original configuration is put back afterwards.
    """
    lambdas = stack.client("lambda")
    key = image_keys(stack, 1)[0]
    event: dict[str, Any] = {"image_data": "", "s3_bucket": stack.bucket, "s3_key": key}
    results: dict[str, tuple[float, float]] = {}
    for role in ("serialize_image_data", "classify_image", "filter_inferences"):
        name = stack.function_names[role]
        original = lambdas.get_function_configuration(FunctionName=name)
        variables = dict(original.get("Environment", {}).get("Variables", {}))

        def invoke(payload: dict[str, Any] = event, function: str = name) -> dict[str, Any]:
            response = lambdas.invoke(FunctionName=function, Payload=json.dumps(payload).encode())
            body: dict[str, Any] = json.loads(response["Payload"].read())
            if response.get("FunctionError"):
                raise RuntimeError(f"{function} failed: {body}")
            return body

        colds: list[float] = []
        warms: list[float] = []
        try:
            for attempt in range(repeats):
                lambdas.update_function_configuration(
                    FunctionName=name,
                    Environment={"Variables": {**variables, "BENCH_COLD_START": str(attempt)}},
                )
                colds.append(timed(invoke))
                warms.extend(timed(invoke) for _ in range(warm_calls))
        finally:
            lambdas.update_function_configuration(
                FunctionName=name, Environment={"Variables": variables}
            )
        results[role] = (statistics.median(colds), statistics.median(warms))
        event = invoke()  # the next function's input is this one's output
    return results


def run(quick: bool, deployment: Deployment) -> list[Measure]:
    stack = deployment.stack()
    keys = image_keys(stack, 40 if quick else 200)
    first = keys[0]
    execute(stack.client("stepfunctions"), stack, first, versions(stack, [first])[first])  # warm
    measures: list[Measure] = []
    for label, concurrency in (("sequential", 1), (f"concurrent{CONCURRENCY}", CONCURRENCY)):
        wall, latencies, failures = batch(stack, keys, concurrency)
        note = f"{len(keys)} images, {failures} failed"
        measures.append(
            Measure(
                f"workflow.{label}.executions_per_s",
                round(len(keys) / wall, 2),
                "exec/s",
                note=note,
            )
        )
        measures.extend(latency_measures(f"workflow.{label}.latency", latencies))
    for role, (cold, warm) in cold_and_warm(stack, 2 if quick else 3, 5).items():
        measures.append(Measure(f"lambda.{role}.cold_invoke", round(cold * 1000, 1), "ms"))
        measures.append(Measure(f"lambda.{role}.warm_invoke", round(warm * 1000, 1), "ms"))
    return measures
