"""Cost on paper for dev and prod: idle per month and per 1,000 images, from offline plans."""

from __future__ import annotations

import math
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scripts.bench.results import Measure

REPO_ROOT = Path(__file__).resolve().parents[2]
PRICES_AS_OF = "2025 us-east-1 list prices (assumption)"
HOURS_PER_MONTH = 730


@dataclass(frozen=True)
class Prices:
    """Unit prices in USD, us-east-1 list prices as of 2025 (assumptions, not quotes)."""

    instance_per_hour: Mapping[str, float]
    serverless_per_gb_s: float = 0.0000200  # per second per GB of memory (1024 MB: $0.00002/s)
    sagemaker_data_per_gb: float = 0.016  # data processed in + out, real-time and serverless
    lambda_per_gb_s: float = 0.0000166667
    lambda_per_request: float = 0.20 / 1_000_000
    # Step Functions, https://aws.amazon.com/step-functions/pricing/ (us-east-1): Standard
    # $0.025 per 1,000 state transitions; Express $1.00 per million requests and $0.06 per
    # GB-hour of duration for the first 1,000 GB-hours a month, the duration rounded up to 100 ms
    # and the memory billed in 64 MB chunks. A Distributed Map is charged one state transition
    # per child execution it starts
    # (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-transitions.html);
    # Express children are then billed as Express.
    sfn_per_transition: float = 0.025 / 1000  # Standard workflows
    sfn_express_per_request: float = 1.00 / 1_000_000
    sfn_express_per_gb_s: float = 0.06 / 3600
    sfn_express_round_s: float = 0.1
    sfn_express_memory_chunk_mb: int = 64
    s3_per_list: float = 0.005 / 1000  # LIST is priced with PUT
    s3_per_gb_month: float = 0.023
    s3_per_put: float = 0.005 / 1000
    s3_per_get: float = 0.0004 / 1000
    alarm_per_month: float = 0.10
    dashboard_per_month: float = 3.00
    kms_key_per_month: float = 1.00
    kms_per_request: float = 0.03 / 10_000


PRICES = Prices(
    instance_per_hour={"ml.m5.large": 0.115, "ml.t2.medium": 0.056, "ml.c5.large": 0.102}
)


@dataclass(frozen=True)
class Usage:
    """What one classified image uses, measured in this run where possible."""

    lambda_seconds: Mapping[str, float]  # per function role: billed duration of a warm invoke
    transitions: int = 3  # states entered by a successful execution
    express_seconds: float = 0.5  # one per-image Express execution (a batch child) runs this long
    express_memory_mb: int = 64  # one chunk: the definition and a 3 kB image's payloads
    batch_parent_transitions: int = 2  # states the batch's own Standard execution enters
    inference_seconds: float = 0.1  # endpoint compute per image (serverless bills this)
    request_bytes: int = 3_000  # a 32x32 PNG
    response_bytes: int = 30
    capture_record_bytes: int = 4_600  # base64 input + JSON output + metadata
    serverless_memory_mb: int = 2048  # when the plan has no serverless config
    measured: str = ""


@dataclass(frozen=True)
class Line:
    """One cost line: dollars, and the unit prices and quantities that make it."""

    item: str
    usd: float
    basis: str


def plan_facts(plan: Mapping[str, Any]) -> dict[str, Any]:
    """Endpoint size, function memory, capture and monitoring counts from `show -json` output."""
    changes = [c for c in plan["resource_changes"] if c["mode"] == "managed"]

    def of_type(kind: str) -> list[dict[str, Any]]:
        return [c["change"]["after"] for c in changes if c["type"] == kind]

    (config,) = of_type("aws_sagemaker_endpoint_configuration")
    (variant,) = config["production_variants"]
    serverless = (variant.get("serverless_config") or [None])[0]
    capture = (config.get("data_capture_config") or [{}])[0]
    functions = {f["function_name"]: int(f["memory_size"]) for f in of_type("aws_lambda_function")}
    # A scaled variant idles at its scalable target's minimum, whatever count it starts at.
    scaling = of_type("aws_appautoscaling_target")
    count = int(variant.get("initial_instance_count") or 0)
    return {
        "instance_type": variant.get("instance_type"),
        "instance_count": int(scaling[0]["min_capacity"]) if scaling else count,
        "autoscaling": (int(scaling[0]["min_capacity"]), int(scaling[0]["max_capacity"]))
        if scaling
        else None,
        "serverless_memory_mb": int(serverless["memory_size_in_mb"]) if serverless else None,
        "capture_percent": int(capture.get("initial_sampling_percentage", 0)),
        "function_memory_mb": functions,
        "alarms": len(of_type("aws_cloudwatch_metric_alarm")),
        "dashboards": len(of_type("aws_cloudwatch_dashboard")),
        "kms_keys": len(of_type("aws_kms_key")),
    }


def _role_of(function_name: str, roles: Mapping[str, float]) -> str:
    squashed = function_name.replace("-", "").replace("_", "").lower()
    for role in roles:
        if role.replace("_", "") in squashed:
            return role
    raise KeyError(f"no measured duration for function {function_name}")


def monthly_idle(facts: Mapping[str, Any], prices: Prices = PRICES) -> list[Line]:
    """What the environment costs with no traffic, per month."""
    instance, count = facts["instance_type"], facts["instance_count"]
    lines = []
    if instance:
        rate = prices.instance_per_hour[instance]
        scaling = facts.get("autoscaling")
        scaled = f" (autoscaling minimum; scales to {scaling[1]})" if scaling else ""
        lines.append(
            Line(
                "endpoint (instances)",
                rate * HOURS_PER_MONTH * count,
                f"{count} x {instance} x ${rate}/h x {HOURS_PER_MONTH} h{scaled}",
            )
        )
    elif facts.get("serverless_memory_mb"):
        lines.append(
            Line(
                "endpoint (serverless)",
                0.0,
                f"{facts['serverless_memory_mb']} MB serverless: billed per GB-s of inference, "
                "nothing while idle (no provisioned concurrency)",
            )
        )
    lines += [
        Line(
            "CloudWatch alarms",
            facts["alarms"] * prices.alarm_per_month,
            f"{facts['alarms']} x ${prices.alarm_per_month}/month",
        ),
        Line(
            "CloudWatch dashboards",
            facts["dashboards"] * prices.dashboard_per_month,
            f"{facts['dashboards']} x ${prices.dashboard_per_month}/month",
        ),
        Line(
            "KMS keys",
            facts["kms_keys"] * prices.kms_key_per_month,
            f"{facts['kms_keys']} x ${prices.kms_key_per_month}/month",
        ),
    ]
    return lines


def per_thousand(
    facts: Mapping[str, Any], usage: Usage, prices: Prices = PRICES
) -> dict[str, list[Line]]:
    """Cost of 1,000 classified images: shared lines plus each endpoint kind's own."""
    n = 1000
    shared = []
    for function, memory in sorted(facts["function_memory_mb"].items()):
        seconds = usage.lambda_seconds[_role_of(function, usage.lambda_seconds)]
        gb_s = n * memory / 1024 * seconds
        shared.append(
            Line(
                f"Lambda {function}",
                gb_s * prices.lambda_per_gb_s + n * prices.lambda_per_request,
                f"{n} x {memory} MB x {seconds * 1000:.0f} ms = {gb_s:.1f} GB-s x "
                f"${prices.lambda_per_gb_s}/GB-s + {n} x $0.20/M requests",
            )
        )
    shared.append(
        Line(
            "Step Functions (Standard)",
            n * usage.transitions * prices.sfn_per_transition,
            f"{n} x {usage.transitions} transitions x $0.025/1000",
        )
    )
    captured = n * facts["capture_percent"] / 100
    capture_gb = captured * usage.capture_record_bytes / 1e9
    shared.append(
        Line(
            "S3 requests",
            n * (prices.s3_per_put + prices.s3_per_get) + captured * prices.s3_per_put,
            f"{n} image PUT + {n} GET (serialize) + {captured:.0f} capture PUT "
            "(one object per record, worst case) at $0.005/1000 PUT, $0.0004/1000 GET",
        )
    )
    shared.append(
        Line(
            "S3 storage of captures (one month)",
            capture_gb * prices.s3_per_gb_month,
            f"{captured:.0f} records x {usage.capture_record_bytes} B = {capture_gb * 1000:.2f} MB "
            f"x ${prices.s3_per_gb_month}/GB-month",
        )
    )
    data_gb = n * (usage.request_bytes + usage.response_bytes) / 1e9
    data = Line(
        "SageMaker data processed",
        data_gb * prices.sagemaker_data_per_gb,
        f"{data_gb * 1000:.2f} MB x ${prices.sagemaker_data_per_gb}/GB",
    )
    memory = facts["serverless_memory_mb"] or usage.serverless_memory_mb
    gb_s = n * memory / 1024 * usage.inference_seconds
    serverless = Line(
        "endpoint (serverless)",
        gb_s * prices.serverless_per_gb_s,
        f"{n} x {memory} MB x {usage.inference_seconds * 1000:.0f} ms = {gb_s:.1f} GB-s x "
        f"${prices.serverless_per_gb_s}/GB-s",
    )
    instance = Line("endpoint (instances)", 0.0, "no marginal cost: paid by the hour (idle line)")
    return {
        "shared": shared,
        "instance": [*shared, instance, data],
        "serverless": [*shared, serverless, data],
    }


ORCHESTRATIONS = ("standard_per_image", "express_per_image", "distributed_map_batch")


def orchestration(usage: Usage, prices: Prices = PRICES, n: int = 1000) -> dict[str, list[Line]]:
    """What running n images' workflows costs, by how they are run: one Standard execution per
    image, one Express execution per image, or one batch (a Standard execution whose Distributed
    Map starts an Express child per image). The rest (Lambda, S3, the endpoint) is the same."""
    chunks = -(-usage.express_memory_mb // prices.sfn_express_memory_chunk_mb)
    memory_mb = chunks * prices.sfn_express_memory_chunk_mb
    steps = math.ceil(round(usage.express_seconds / prices.sfn_express_round_s, 6))
    billed_s = steps * prices.sfn_express_round_s
    gb_s = n * billed_s * memory_mb / 1024
    express = [
        Line(
            "Express requests",
            n * prices.sfn_express_per_request,
            f"{n} executions x $1.00/M requests",
        ),
        Line(
            "Express duration",
            gb_s * prices.sfn_express_per_gb_s,
            f"{n} x {billed_s * 1000:.0f} ms (measured {usage.express_seconds * 1000:.0f} ms, "
            f"rounded up to 100 ms) x {memory_mb} MB = {gb_s:.2f} GB-s x $0.06/GB-hour",
        ),
    ]
    standard = [
        Line(
            "Standard transitions",
            n * usage.transitions * prices.sfn_per_transition,
            f"{n} executions x {usage.transitions} transitions x $0.025/1000",
        )
    ]
    lists = -(-n // 1000)  # ListObjectsV2 returns up to 1,000 keys a page
    batch = [
        Line(
            "batch execution (Standard)",
            usage.batch_parent_transitions * prices.sfn_per_transition,
            f"1 run x {usage.batch_parent_transitions} transitions x $0.025/1000",
        ),
        Line(
            "Distributed Map child starts",
            n * prices.sfn_per_transition,
            f"{n} children x 1 transition x $0.025/1000",
        ),
        *(Line(f"children: {line.item}", line.usd, line.basis) for line in express),
        Line(
            "ItemReader listing and ResultWriter files",
            lists * prices.s3_per_list + 3 * prices.s3_per_put,
            f"{lists} LIST x $0.005/1000 + 3 PUT (SUCCEEDED, FAILED, manifest) x $0.005/1000",
        ),
    ]
    return {
        "standard_per_image": standard,
        "express_per_image": express,
        "distributed_map_batch": batch,
    }


def total(lines: list[Line]) -> float:
    return sum(line.usd for line in lines)


# -- the offline plans (scripts/offline_plan.py, as tests/infra plans them) ------------------


def offline_plans(roots: tuple[str, ...] = ("dev", "prod")) -> dict[str, dict[str, Any]]:
    """`show -json` of each root planned offline, as tests/infra/test_plan.py plans them."""
    from scripts import offline_plan

    if shutil.which("terraform") is None:
        raise RuntimeError("terraform is not on PATH")
    with (
        offline_plan.validate_stub() as url,
        tempfile.TemporaryDirectory(prefix="bench-cost-") as tmp,
    ):
        work = Path(tmp)
        env = offline_plan.terraform_env(work)
        zips = offline_plan.dummy_zips(work / "zips")
        return {
            root: offline_plan.plan_root(root, work / root, env, zips, url).raw for root in roots
        }


def orchestration_measures(usage: Usage) -> list[Measure]:
    """Per 1,000 images, each way of running the workflow with its lines and unit prices."""
    measures = []
    for kind, lines in orchestration(usage).items():
        measures.append(
            Measure(
                f"cost.per_1000_images.orchestration.{kind}",
                round(total(lines), 4),
                "USD",
                note="; ".join(f"{line.item}: ${line.usd:.5f} ({line.basis})" for line in lines)
                + f"; {usage.measured}",
            )
        )
    return measures


def run(quick: bool, usage: Usage) -> list[Measure]:
    measures: list[Measure] = orchestration_measures(usage)
    for root, plan in offline_plans().items():
        facts = plan_facts(plan)
        idle = monthly_idle(facts)
        costs = per_thousand(facts, usage)
        basis = "; ".join(f"{line.item}: ${line.usd:.4f} ({line.basis})" for line in idle)
        measures.append(
            Measure(f"cost.{root}.idle_per_month", round(total(idle), 2), "USD", note=basis)
        )
        for line in idle:
            measures.append(
                Measure(
                    f"cost.{root}.idle.{_slug(line.item)}",
                    round(line.usd, 2),
                    "USD/month",
                    note=line.basis,
                )
            )
        for kind in ("instance", "serverless"):
            measures.append(
                Measure(
                    f"cost.{root}.per_1000_images.{kind}_endpoint",
                    round(total(costs[kind]), 4),
                    "USD",
                    # Marginal cost: an instance endpoint's fixed hourly cost is in idle_per_month.
                    note=f"marginal, idle costs excluded; {PRICES_AS_OF}; {usage.measured}",
                )
            )
        endpoint = "instance" if facts["instance_type"] else "serverless"
        rest = [line for line in costs[endpoint] if line.item != "Step Functions (Standard)"]
        for kind, lines in orchestration(usage).items():
            measures.append(
                Measure(
                    f"cost.{root}.per_1000_images.{kind}",
                    round(total(rest) + total(lines), 4),
                    "USD",
                    note=f"the {endpoint} endpoint's marginal lines, its Standard line replaced by "
                    f"cost.per_1000_images.orchestration.{kind}",
                )
            )
        for line in costs["serverless"]:
            measures.append(
                Measure(
                    f"cost.{root}.per_1000.{_slug(line.item)}",
                    round(line.usd, 5),
                    "USD",
                    note=line.basis,
                )
            )
        per_image = (total(costs["serverless"]) - total(costs["shared"])) / 1000
        instances = next((line.usd for line in idle if line.item == "endpoint (instances)"), 0.0)
        if per_image > 0 and instances:
            measures.append(
                Measure(
                    f"cost.{root}.serverless_breakeven_images_per_month",
                    round(instances / per_image),
                    "images",
                    note=(
                        "instance endpoints' monthly cost / serverless inference cost per image: "
                        "below this monthly volume serverless is cheaper, above it the instances"
                    ),
                )
            )
    return measures


def _slug(text: str) -> str:
    return "_".join("".join(c if c.isalnum() else " " for c in text.lower()).split())
