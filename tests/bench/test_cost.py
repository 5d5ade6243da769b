"""scripts.bench.cost and the CLI's cost inputs: figures from a plan, arithmetic by hand."""

from __future__ import annotations

from typing import Any

import pytest

from scripts.bench.__main__ import parse_args, usage_from
from scripts.bench.cost import (
    PRICES,
    Usage,
    monthly_idle,
    orchestration,
    per_thousand,
    plan_facts,
    total,
)
from scripts.bench.results import Measure


def change(kind: str, after: dict[str, Any], mode: str = "managed") -> dict[str, Any]:
    return {"type": kind, "mode": mode, "change": {"after": after}}


def fake_plan(
    serverless: dict[str, int] | None = None, scaling: tuple[int, int] | None = None
) -> dict[str, Any]:
    variant: dict[str, Any] = {"instance_type": "ml.m5.large", "initial_instance_count": 2}
    if serverless:
        variant = {"serverless_config": [serverless]}
    targets = (
        [
            change(
                "aws_appautoscaling_target",
                {"min_capacity": scaling[0], "max_capacity": scaling[1]},
            )
        ]
        if scaling
        else []
    )
    return {
        "resource_changes": [
            *targets,
            change(
                "aws_sagemaker_endpoint_configuration",
                {
                    "production_variants": [variant],
                    "data_capture_config": [{"initial_sampling_percentage": 20}],
                },
            ),
            change(
                "aws_lambda_function",
                {"function_name": "s-prod-serialize-image-data", "memory_size": 512},
            ),
            change(
                "aws_lambda_function",
                {"function_name": "s-prod-classify-image", "memory_size": 256},
            ),
            change(
                "aws_lambda_function",
                {"function_name": "s-prod-filter-inferences", "memory_size": 128},
            ),
            *[change("aws_cloudwatch_metric_alarm", {}) for _ in range(6)],
            change("aws_cloudwatch_dashboard", {}),
            change("aws_kms_key", {}),
            change("aws_kms_key", {}, mode="data"),  # a data source costs nothing
        ]
    }


USAGE = Usage(
    lambda_seconds={"serialize_image_data": 0.2, "classify_image": 0.1, "filter_inferences": 0.01},
    inference_seconds=0.05,
)


def test_plan_facts_read_the_endpoint_functions_capture_and_monitoring() -> None:
    facts = plan_facts(fake_plan())
    assert facts["instance_type"] == "ml.m5.large" and facts["instance_count"] == 2
    assert facts["serverless_memory_mb"] is None
    assert facts["capture_percent"] == 20
    assert facts["function_memory_mb"]["s-prod-classify-image"] == 256
    assert (facts["alarms"], facts["dashboards"], facts["kms_keys"]) == (6, 1, 1)
    assert (
        plan_facts(fake_plan({"memory_size_in_mb": 4096, "max_concurrency": 5}))[
            "serverless_memory_mb"
        ]
        == 4096
    )


def test_idle_month_is_instances_alarms_dashboard_and_key() -> None:
    idle = monthly_idle(plan_facts(fake_plan()))
    assert total(idle) == pytest.approx(2 * 0.115 * 730 + 6 * 0.10 + 3.00 + 1.00)
    assert "2 x ml.m5.large x $0.115/h x 730 h" in idle[0].basis


def test_a_scaled_variant_idles_at_its_minimum() -> None:
    facts = plan_facts(fake_plan(scaling=(3, 6)))
    assert facts["instance_count"] == 3 and facts["autoscaling"] == (3, 6)
    (endpoint, *_) = monthly_idle(facts)
    assert endpoint.usd == pytest.approx(3 * 0.115 * 730)
    assert "autoscaling minimum; scales to 6" in endpoint.basis


def test_a_serverless_endpoint_costs_nothing_idle() -> None:
    facts = plan_facts(fake_plan({"memory_size_in_mb": 2048, "max_concurrency": 10}))
    idle = monthly_idle(facts)
    assert idle[0].item == "endpoint (serverless)" and idle[0].usd == 0
    assert total(idle) == pytest.approx(6 * 0.10 + 3.00 + 1.00)


def test_per_thousand_images_by_hand() -> None:
    costs = per_thousand(plan_facts(fake_plan()), USAGE)
    by_item = {line.item: line.usd for line in costs["serverless"]}
    lambda_gb_s = 1000 * (0.5 * 0.2 + 0.25 * 0.1 + 0.125 * 0.01)
    lambdas = sum(usd for item, usd in by_item.items() if item.startswith("Lambda"))
    assert lambdas == pytest.approx(lambda_gb_s * PRICES.lambda_per_gb_s + 3 * 1000 * 0.2e-6)
    assert by_item["Step Functions (Standard)"] == pytest.approx(3 * 0.025)
    # 2048 MB assumed when the plan has an instance endpoint: 2 GB x 0.05 s x 1000.
    assert by_item["endpoint (serverless)"] == pytest.approx(100 * PRICES.serverless_per_gb_s)
    assert by_item["S3 requests"] == pytest.approx(
        1000 * (0.005 + 0.0004) / 1000 + 200 * 0.005 / 1000
    )
    instance = {line.item: line.usd for line in costs["instance"]}
    assert instance["endpoint (instances)"] == 0.0
    assert total(costs["instance"]) < total(costs["serverless"])
    assert all(line.basis for lines in costs.values() for line in lines)


def test_usage_comes_from_measures_or_stated_defaults() -> None:
    measured = usage_from(
        [
            Measure("lambda.serialize_image_data.warm_invoke", 40.0, "ms"),
            Measure("lambda.classify_image.warm_invoke", 30.0, "ms"),
            Measure("lambda.filter_inferences.warm_invoke", 5.0, "ms"),
            Measure("model.invoke_endpoint.latency.p50", 12.0, "ms"),
        ]
    )
    assert measured.lambda_seconds["classify_image"] == pytest.approx(0.03)
    assert measured.inference_seconds == pytest.approx(0.012)
    assert "measured here" in measured.measured
    assumed = usage_from([])
    assert set(assumed.lambda_seconds.values()) == {0.1}
    assert "assumed" in assumed.measured


def test_only_selects_sections_in_run_order_and_refuses_unknown_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert parse_args(["--only", "cost,convert"]).sections == ["convert", "cost"]
    assert parse_args([]).sections[-1] == "cost"
    with pytest.raises(SystemExit):
        parse_args(["--only", "convert,nope"])
    assert "unknown section(s) nope" in capsys.readouterr().err


def test_each_way_of_running_1000_images_by_hand() -> None:
    usage = Usage(lambda_seconds={}, transitions=5, express_seconds=0.25)
    lines = orchestration(usage)
    # 5 transitions x $0.025/1000, per image
    assert total(lines["standard_per_image"]) == pytest.approx(1000 * 5 * 0.025 / 1000)
    # $1/M requests; 250 ms bills as 300 ms of one 64 MB chunk: 18.75 GB-s at $0.06/GB-hour
    express = 1000 / 1_000_000 + 1000 * 0.3 * 64 / 1024 * 0.06 / 3600
    assert total(lines["express_per_image"]) == pytest.approx(express)
    # the batch run's 2 transitions, 1 per child started, the children as Express, 1 LIST, 3 PUT
    batch = 2 * 0.025 / 1000 + 1000 * 0.025 / 1000 + express + 4 * 0.005 / 1000
    assert total(lines["distributed_map_batch"]) == pytest.approx(batch)
    assert all("$" in line.basis for kind in lines.values() for line in kind)


def test_express_memory_is_billed_in_64_mb_chunks() -> None:
    usage = Usage(lambda_seconds={}, express_seconds=0.1, express_memory_mb=65)
    (_, duration) = orchestration(usage)["express_per_image"]
    assert duration.usd == pytest.approx(1000 * 0.1 * 128 / 1024 * 0.06 / 3600)
    assert "128 MB" in duration.basis


def test_batch_measures_feed_the_orchestration_costs() -> None:
    usage = usage_from(
        [
            Measure("batch.child_execution.p50", 420.0, "ms"),
            Measure("batch.per_image_execution.transitions", 6, "states"),
            Measure("batch.parent_execution.transitions", 3, "states"),
        ]
    )
    assert usage.express_seconds == pytest.approx(0.42)
    assert (usage.transitions, usage.batch_parent_transitions) == (6, 3)
    assert "children's p50 measured here" in usage.measured
    assert "Express duration: 500 ms assumed" in usage_from([]).measured
