"""Plans of the dev and prod roots with the real provider, offline, and the whole inventory.

How the offline plan is made is scripts/offline_plan.py's (shared with the cost bench): no
policy or definition is "(known after apply)", and the one call the provider makes at plan time
(ValidateStateMachineDefinition) goes to a stub.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from scripts.offline_plan import Plan, ValidateStub, plan_root, validate_stub

pytestmark = [pytest.mark.terraform, pytest.mark.slow]

ACCOUNT = {"dev": "111111111111", "prod": "111111111111"}
WORKFLOW = "module.stack.module.workflow.aws_sfn_state_machine.this"
BATCH = "module.stack.module.workflow.aws_sfn_state_machine.batch"
EXPECTED_TYPES = {
    "aws_s3_bucket": 1,
    "aws_s3_bucket_ownership_controls": 1,
    "aws_s3_bucket_public_access_block": 1,
    "aws_s3_bucket_versioning": 1,
    "aws_s3_bucket_server_side_encryption_configuration": 1,
    "aws_s3_bucket_lifecycle_configuration": 1,
    "aws_s3_bucket_policy": 1,
    # Three functions, SageMaker hosting and training, the two state machines, and the ingest
    # rule's target.
    "aws_iam_role": 8,
    "aws_iam_role_policy": 8,
    "aws_lambda_layer_version": 1,
    "aws_lambda_function": 3,
    # Three functions' and two state machines'.
    "aws_cloudwatch_log_group": 5,
    "aws_sagemaker_model_package_group": 1,
    "aws_sagemaker_model": 1,
    "aws_sagemaker_endpoint_configuration": 1,
    "aws_sagemaker_endpoint": 1,
    # One image (the event-driven workflow) and a prefix (the batch).
    "aws_sfn_state_machine": 2,
    # Monitoring: failed, timed-out and throttled executions, both dead-letter queues, the
    # needs-review share, errors of serializeImageData and classifyImage (filterInferences'
    # are its ThresholdConfidenceNotMet), and with the endpoint the 5xx and model latency
    # alarms; the alarm topic, its policy and its key. dev has no dashboard (its $3 a month
    # would be most of idle dev's bill); prod has one.
    "aws_cloudwatch_metric_alarm": 10,
    "aws_sns_topic": 1,
    "aws_sns_topic_policy": 1,
    # The alarm topic's key and the results key (table, review queue, ingest DLQ).
    "aws_kms_key": 2,
    "aws_kms_alias": 2,
    # The service: results table, review queue and its DLQ, the trigger and its DLQ.
    "aws_dynamodb_table": 1,
    "aws_sqs_queue": 3,
    "aws_sqs_queue_policy": 1,
    "aws_s3_bucket_notification": 1,
    "aws_cloudwatch_event_rule": 1,
    "aws_cloudwatch_event_target": 1,
}
# prod: the dashboard, its provisioned variant's scalable target and scaling policy (dev's
# serverless variant has no instance count to scale), and the hosting role's leave to read the
# rollback alarms of a guarded rollout (serverless variants roll without a deployment_config).
PROD_EXPECTED_TYPES = {
    **EXPECTED_TYPES,
    "aws_cloudwatch_dashboard": 1,
    "aws_appautoscaling_target": 1,
    "aws_appautoscaling_policy": 1,
    "aws_iam_role_policy": EXPECTED_TYPES["aws_iam_role_policy"] + 1,
}
# Actions that support no resource-level permissions: "*" is their only possible resource.
RESOURCELESS_ACTIONS = {
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
    "cloudwatch:PutMetricData",
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
}


@pytest.fixture(scope="module")
def sfn_stub() -> Iterator[str]:
    with validate_stub() as url:
        yield url


@pytest.fixture(scope="module")
def plans(
    tmp_path_factory: pytest.TempPathFactory,
    terraform_env: dict[str, str],
    dummy_zips: Path,
    sfn_stub: str,
) -> dict[str, Plan]:
    """dev and prod planned once, side by side (each is mostly the provider loading its schema)."""
    env = {k: v for k, v in terraform_env.items() if not k.startswith("TF_VAR_")}
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {
            root: pool.submit(
                plan_root, root, tmp_path_factory.mktemp(f"plan-{root}"), env, dummy_zips, sfn_stub
            )
            for root in ("dev", "prod")
        }
        return {root: future.result() for root, future in futures.items()}


@pytest.fixture(scope="module")
def dev_plan(plans: dict[str, Plan]) -> Plan:
    return plans["dev"]


@pytest.fixture(scope="module")
def prod_plan(plans: dict[str, Plan]) -> Plan:
    return plans["prod"]


def statements(policy: str) -> list[dict[str, Any]]:
    document = json.loads(policy)
    result: list[dict[str, Any]] = document["Statement"]
    return [
        {**s, "Action": as_list(s.get("Action")), "Resource": as_list(s.get("Resource"))}
        for s in result
    ]


def as_list(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def role_policies(plan: Plan) -> dict[str, list[dict[str, Any]]]:
    return {
        address: statements(v["policy"])
        for address, v in plan.of_type("aws_iam_role_policy").items()
    }


def test_inventory_is_exactly_the_expected_resources(dev_plan: Plan) -> None:
    counts = Counter(change["type"] for change in dev_plan.changes.values())
    assert dict(counts) == EXPECTED_TYPES
    actions = {tuple(change["change"]["actions"]) for change in dev_plan.changes.values()}
    assert actions == {("create",)}


def test_every_policy_and_the_definition_are_known_at_plan_time(dev_plan: Plan) -> None:
    reviewed = {
        "aws_iam_role": "assume_role_policy",
        "aws_iam_role_policy": "policy",
        "aws_s3_bucket_policy": "policy",
        "aws_sfn_state_machine": "definition",
    }
    for address, change in dev_plan.changes.items():
        attribute = reviewed.get(change["type"])
        if attribute:
            assert not change["change"]["after_unknown"].get(attribute), f"{address}.{attribute}"


def test_no_statement_allows_every_action(dev_plan: Plan) -> None:
    for address, policy in role_policies(dev_plan).items():
        for statement in policy:
            assert statement["Effect"] == "Allow", address
            for action in statement["Action"]:
                assert action != "*" and not action.endswith(":*"), f"{address}: {action}"


def test_wildcard_resources_only_where_no_arn_exists(dev_plan: Plan) -> None:
    for address, policy in role_policies(dev_plan).items():
        for statement in policy:
            if "*" in statement["Resource"]:
                assert statement["Resource"] == ["*"], address
                assert set(statement["Action"]) <= RESOURCELESS_ACTIONS, f"{address}: {statement}"
            else:
                for arn in statement["Resource"]:
                    assert arn.startswith("arn:aws:"), f"{address}: {arn}"
                    assert ":*:" not in arn and not arn.endswith(":::*"), f"{address}: {arn}"


def test_policy_arns_stay_in_the_account_and_the_bucket(dev_plan: Plan) -> None:
    for address, policy in role_policies(dev_plan).items():
        for statement in policy:
            for arn in statement["Resource"]:
                if arn == "*":
                    continue
                if arn.startswith("arn:aws:s3:::"):
                    assert arn.split(":::")[1].split("/")[0] == dev_plan.bucket, address
                else:
                    assert arn.split(":")[4] == ACCOUNT["dev"], f"{address}: {arn}"


def test_each_role_is_assumable_by_one_service(dev_plan: Plan) -> None:
    services = {}
    for values in dev_plan.of_type("aws_iam_role").values():
        (statement,) = statements(values["assume_role_policy"])
        assert statement["Action"] == ["sts:AssumeRole"]
        services[values["name"]] = statement["Principal"]["Service"]
    assert sorted(services.values()) == sorted(
        ["lambda.amazonaws.com"] * 3
        + ["events.amazonaws.com"]
        + ["sagemaker.amazonaws.com"] * 2
        + ["states.amazonaws.com"] * 2
    )


def trust_conditions(plan: Plan) -> dict[str, dict[str, dict[str, str]]]:
    """Each role's trust conditions by role name: {operator: {key: value}}."""
    return {
        values["name"]: statements(values["assume_role_policy"])[0].get("Condition", {})
        for values in plan.of_type("aws_iam_role").values()
    }


def test_service_trusts_name_the_source_account_and_arn(dev_plan: Plan) -> None:
    account, prefix = ACCOUNT["dev"], f"arn:aws:sagemaker:us-east-1:{ACCOUNT['dev']}"
    states = f"arn:aws:states:us-east-1:{account}:stateMachine"
    expected = {
        # SageMaker inference: SourceArn exactly <region>:<account>:* (its confused-deputy page).
        "scones-dev-sagemaker": {"ArnLike": {"aws:SourceArn": f"{prefix}:*"}},
        "scones-dev-sagemaker-training": {
            "ArnLike": {"aws:SourceArn": f"{prefix}:training-job/vehicle-classifier-*"}
        },
        "scones-dev-classify-sfn": {"ArnLike": {"aws:SourceArn": f"{states}:scones-dev-classify"}},
        "scones-dev-classify-batch-sfn": {
            "ArnLike": {"aws:SourceArn": f"{states}:scones-dev-classify-batch"}
        },
        "scones-dev-incoming-events": {
            "ArnEquals": {
                "aws:SourceArn": f"arn:aws:events:us-east-1:{account}:rule/scones-dev-incoming"
            }
        },
    }
    conditions = trust_conditions(dev_plan)
    for role, arn_condition in expected.items():
        assert conditions[role] == {
            "StringEquals": {"aws:SourceAccount": account},
            **arn_condition,
        }, role


def test_the_hosting_role_reads_only_the_deployed_artifact_and_writes_nothing(
    dev_plan: Plan, prod_plan: Plan
) -> None:
    for plan in (dev_plan, prod_plan):
        name = plan.bucket.split("-")[1]
        (policy,) = [
            p
            for a, p in role_policies(plan).items()
            if a.endswith("aws_iam_role_policy.this") and ".model_endpoint." in a
        ]
        by_sid = {s["Sid"]: s for s in policy}
        read = by_sid.pop("ReadTheDeployedArtifact")
        assert (read["Action"], read["Resource"]) == (
            ["s3:GetObject"],
            [f"arn:aws:s3:::{plan.bucket}/models/job-1/output/*"],
        )
        writes = [
            (sid, s["Resource"])
            for sid, s in by_sid.items()
            if any(a.startswith("s3:") for a in s["Action"])
        ]
        # dev serves serverless and captures nothing: it writes nothing at all; prod writes
        # only what SageMaker captures for it.
        if name == "dev":
            assert writes == []
        else:
            assert writes == [("WriteDataCapture", [f"arn:aws:s3:::{plan.bucket}/data_capture/*"])]
        assert {a for s in policy for a in s["Action"]} <= {
            "s3:GetObject",
            "s3:PutObject",
            "logs:CreateLogGroup",
            "logs:CreateLogStream",
            "logs:PutLogEvents",
            "logs:DescribeLogStreams",
            "cloudwatch:PutMetricData",
        }
        logs = by_sid["WriteEndpointLogs"]["Resource"]
        assert all(f"/aws/sagemaker/Endpoints/scones-{name}-endpoint" in r for r in logs)


def test_the_training_role_reads_the_channels_and_writes_only_its_jobs_folders(
    dev_plan: Plan,
) -> None:
    (policy,) = [
        p
        for a, p in role_policies(dev_plan).items()
        if a.endswith("aws_iam_role_policy.training[0]")
    ]
    by_sid = {s["Sid"]: (sorted(s["Action"]), sorted(s["Resource"])) for s in policy}
    bucket = f"arn:aws:s3:::{dev_plan.bucket}"
    logs = f"arn:aws:logs:us-east-1:{ACCOUNT['dev']}:log-group:/aws/sagemaker/TrainingJobs"
    assert by_sid == {
        "ListTrainingInputs": (["s3:ListBucket"], [bucket]),
        "ReadTrainingInputs": (
            ["s3:GetObject"],
            sorted(
                f"{bucket}/{c}/*" for c in ("train", "validation", "train_lst", "validation_lst")
            ),
        ),
        "WriteOwnJobsArtifacts": (["s3:PutObject"], [f"{bucket}/models/vehicle-classifier-*/*"]),
        "WriteTrainingLogs": (
            sorted(
                [
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "logs:DescribeLogStreams",
                ]
            ),
            [logs, f"{logs}:*"],
        ),
        "PutTrainingMetrics": (["cloudwatch:PutMetricData"], ["*"]),
    }
    (listing,) = [s for s in policy if s["Sid"] == "ListTrainingInputs"]
    prefixes = listing["Condition"]["StringLike"]["s3:prefix"]
    assert sorted(prefixes) == sorted(
        p for c in ("train", "validation", "train_lst", "validation_lst") for p in (c, f"{c}/*")
    )
    assert dev_plan.outputs["sagemaker_training_role_arn"] is not None


def test_the_job_name_prefix_the_training_role_trusts_is_the_launchers(dev_plan: Plan) -> None:
    config = json.loads(
        (Path(__file__).resolve().parents[2] / "training/config/job.json").read_text()
    )
    conditions = trust_conditions(dev_plan)["scones-dev-sagemaker-training"]
    assert conditions["ArnLike"]["aws:SourceArn"].endswith(
        f":training-job/{config['job_name_prefix']}-*"
    )


def test_functions_get_only_what_they_do(dev_plan: Plan) -> None:
    policies = {
        address.split('"')[1]: {s["Sid"]: s for s in statements}
        for address, statements in role_policies(dev_plan).items()
        if address.startswith("module.stack.module.functions.")
    }
    assert policies["serialize_image_data"]["ReadImages"]["Action"] == ["s3:GetObject"]
    assert sorted(policies["serialize_image_data"]["ReadImages"]["Resource"]) == [
        f"arn:aws:s3:::{dev_plan.bucket}/incoming/*",
        f"arn:aws:s3:::{dev_plan.bucket}/test/*",
    ]
    assert policies["classify_image"]["InvokeEndpoint"]["Resource"] == [
        f"arn:aws:sagemaker:us-east-1:{ACCOUNT['dev']}:endpoint/scones-dev-endpoint"
    ]
    assert set(policies["filter_inferences"]) == {"WriteOwnLogGroup", "XRayTracing"}
    for name, policy in policies.items():
        log_group = f"/aws/lambda/scones-dev-{name.replace('_', '-')}"
        assert policy["WriteOwnLogGroup"]["Resource"] == [
            f"arn:aws:logs:us-east-1:{ACCOUNT['dev']}:log-group:{log_group}:*"
        ]


def test_bucket_is_private_encrypted_versioned_and_tls_only(dev_plan: Plan) -> None:
    assert dev_plan.one("aws_s3_bucket")["bucket"] == dev_plan.bucket
    assert dev_plan.one("aws_s3_bucket")["force_destroy"] is False
    block = dev_plan.one("aws_s3_bucket_public_access_block")
    assert all(
        block[key]
        for key in (
            "block_public_acls",
            "block_public_policy",
            "ignore_public_acls",
            "restrict_public_buckets",
        )
    )
    (rule,) = dev_plan.one("aws_s3_bucket_server_side_encryption_configuration")["rule"]
    assert rule["apply_server_side_encryption_by_default"][0]["sse_algorithm"] == "aws:kms"
    versioning = dev_plan.one("aws_s3_bucket_versioning")["versioning_configuration"]
    assert versioning[0]["status"] == "Enabled"
    (deny,) = statements(dev_plan.one("aws_s3_bucket_policy")["policy"])
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    rules = dev_plan.one("aws_s3_bucket_lifecycle_configuration")["rule"]
    capture = [r for r in rules if r["filter"][0]["prefix"] == "data_capture/"]
    assert capture and capture[0]["expiration"][0]["days"] == 30


def test_dev_endpoint_is_serverless_without_data_capture(dev_plan: Plan) -> None:
    config = dev_plan.one("aws_sagemaker_endpoint_configuration")
    assert config["data_capture_config"] == []
    (variant,) = config["production_variants"]
    assert variant["serverless_config"] == [
        {"memory_size_in_mb": 2048, "max_concurrency": 10, "provisioned_concurrency": None}
    ]
    assert variant.get("instance_type") is None and variant.get("initial_instance_count") is None
    assert dev_plan.outputs["data_capture_s3_uri"].get("value") is None
    # classifyImage holds one endpoint invocation at a time: its reserve is the endpoint's.
    (classify,) = [
        f
        for f in dev_plan.of_type("aws_lambda_function").values()
        if "classify" in f["function_name"]
    ]
    assert classify["reserved_concurrent_executions"] == 10


def test_prod_endpoint_configuration_captures_data(prod_plan: Plan) -> None:
    config = prod_plan.one("aws_sagemaker_endpoint_configuration")
    (capture,) = config["data_capture_config"]
    assert capture["enable_capture"] is True
    assert capture["destination_s3_uri"] == f"s3://{prod_plan.bucket}/data_capture"
    assert {o["capture_mode"] for o in capture["capture_options"]} == {"Input", "Output"}
    assert capture["capture_content_type_header"][0]["json_content_types"] == ["application/json"]
    (variant,) = config["production_variants"]
    assert variant["instance_type"] == "ml.m5.large" and variant["serverless_config"] == []


def test_prod_variant_scales_between_two_and_four_on_invocations(prod_plan: Plan) -> None:
    target = prod_plan.one("aws_appautoscaling_target")
    assert target["service_namespace"] == "sagemaker"
    assert target["scalable_dimension"] == "sagemaker:variant:DesiredInstanceCount"
    assert target["resource_id"] == "endpoint/scones-prod-endpoint/variant/AllTraffic"
    assert (target["min_capacity"], target["max_capacity"]) == (2, 4)
    policy = prod_plan.one("aws_appautoscaling_policy")
    assert policy["policy_type"] == "TargetTrackingScaling"
    assert policy["resource_id"] == target["resource_id"]
    (tracking,) = policy["target_tracking_scaling_policy_configuration"]
    assert tracking["target_value"] == 600
    (metric,) = tracking["predefined_metric_specification"]
    assert metric["predefined_metric_type"] == "SageMakerVariantInvocationsPerInstance"
    # A new configuration starts at the minimum; classifyImage may feed the maximum.
    (variant,) = prod_plan.one("aws_sagemaker_endpoint_configuration")["production_variants"]
    assert variant["initial_instance_count"] == 2
    (classify,) = [
        f
        for f in prod_plan.of_type("aws_lambda_function").values()
        if "classify" in f["function_name"]
    ]
    assert classify["reserved_concurrent_executions"] == 4 * 2


def test_the_endpoint_serves_a_model_package_not_an_s3_uri(dev_plan: Plan) -> None:
    model = dev_plan.one("aws_sagemaker_model")
    (container,) = model["primary_container"]
    package = f"arn:aws:sagemaker:us-east-1:{ACCOUNT['dev']}:model-package/scones-dev-models/1"
    assert container["model_package_name"] == package
    assert container.get("model_data_url") is None and container.get("image") is None
    assert model["name"].startswith("scones-dev-model-")
    group = dev_plan.one("aws_sagemaker_model_package_group")
    assert group["model_package_group_name"] == "scones-dev-models"
    assert dev_plan.outputs["model_package_group_name"]["value"] == "scones-dev-models"
    assert dev_plan.outputs["model_package_arn"]["value"] == package
    assert dev_plan.outputs["min_accuracy"]["value"] == 0.9


def test_a_provisioned_endpoint_rolls_out_behind_a_canary_guarded_by_its_alarms(
    prod_plan: Plan,
) -> None:
    endpoint = prod_plan.one("aws_sagemaker_endpoint")
    (deployment,) = endpoint["deployment_config"]
    (policy,) = deployment["blue_green_update_policy"]
    (routing,) = policy["traffic_routing_configuration"]
    assert routing["type"] == "CANARY" and routing["wait_interval_in_seconds"] == 600
    assert routing["canary_size"] == [{"type": "CAPACITY_PERCENT", "value": 25}]
    (rollback,) = deployment["auto_rollback_configuration"]
    names = {"scones-prod-endpoint-5xx-errors", "scones-prod-endpoint-model-latency"}
    assert {alarm["alarm_name"] for alarm in rollback["alarms"]} == names
    assert names <= set(alarms(prod_plan)), "the rollback alarms are the monitoring alarms"
    (statement,) = json.loads(
        prod_plan.of_type("aws_iam_role_policy")[
            "module.stack.module.model_endpoint.aws_iam_role_policy.rollback_alarms[0]"
        ]["policy"]
    )["Statement"]
    assert statement["Action"] == "cloudwatch:DescribeAlarms"
    arns = [f"arn:aws:cloudwatch:us-east-1:{ACCOUNT['prod']}:alarm:{name}" for name in names]
    assert sorted(statement["Resource"]) == sorted(arns)


def test_functions_are_configured_from_variables(dev_plan: Plan) -> None:
    functions = {v["function_name"]: v for v in dev_plan.of_type("aws_lambda_function").values()}
    assert set(functions) == {
        "scones-dev-serialize-image-data",
        "scones-dev-classify-image",
        "scones-dev-filter-inferences",
    }
    for function in functions.values():
        assert function["runtime"] == "python3.12"
        assert function["tracing_config"] == [{"mode": "Active"}]
    env = {name: f["environment"][0]["variables"] for name, f in functions.items()}
    assert env["scones-dev-classify-image"] == {"ENDPOINT_NAME": "scones-dev-endpoint"}
    assert env["scones-dev-filter-inferences"] == {
        "THRESHOLD": "0.93",
        "SERVICE_NAME": "scones-dev",
    }
    assert set(env["scones-dev-serialize-image-data"]) == {"MAX_IMAGE_BYTES", "IMAGE_SIZE"}
    retention = {
        v["retention_in_days"] for v in dev_plan.of_type("aws_cloudwatch_log_group").values()
    }
    assert retention == {14}


def test_state_machine_runs_the_three_functions(dev_plan: Plan) -> None:
    machine = dev_plan.of_type("aws_sfn_state_machine")[WORKFLOW]
    assert machine["logging_configuration"][0]["level"] == "ALL"
    assert machine["tracing_configuration"] == [{"enabled": True}]
    definition = json.loads(machine["definition"])
    arns = {
        s["Parameters"]["FunctionName"]
        for s in definition["States"].values()
        if "FunctionName" in s.get("Parameters", {})
    }
    prefix = f"arn:aws:lambda:us-east-1:{ACCOUNT['dev']}:function:scones-dev-"
    assert arns == {
        prefix + name for name in ("serialize-image-data", "classify-image", "filter-inferences")
    }
    # Both machines run the same states: each role invokes exactly the three functions.
    invokes = [
        s
        for address, policy in role_policies(dev_plan).items()
        if address.startswith("module.stack.module.workflow.")
        for s in policy
        if s["Sid"] == "InvokeWorkflowFunctions"
    ]
    assert len(invokes) == 2
    for invoke in invokes:
        assert sorted(invoke["Resource"]) == sorted([*arns, *(f"{a}:*" for a in arns)])


def test_dev_and_prod_run_the_per_image_workflow_as_express(
    dev_plan: Plan, prod_plan: Plan
) -> None:
    """workflow_type in the roots' tfvars (README, "Workflow type"): EXPRESS in dev and prod, its
    history in the machine's own log group, without the images, and at most 5 minutes long."""
    for plan in (dev_plan, prod_plan):
        machines = plan.of_type("aws_sfn_state_machine")
        machine = machines[WORKFLOW]
        assert machine["type"] == "EXPRESS"
        (logging,) = machine["logging_configuration"]
        assert logging["level"] in {"ALL", "ERROR"}
        assert logging["include_execution_data"] is False
        groups = plan.of_type("aws_cloudwatch_log_group")
        group = groups["module.stack.module.workflow.aws_cloudwatch_log_group.this"]
        assert group["name"] == f"/aws/vendedlogs/states/{machine['name']}"
        definition = json.loads(machine["definition"])
        assert definition["TimeoutSeconds"] == 300
        # The batch machine is a Distributed Map's parent: STANDARD whatever the per-image type.
        assert machines[BATCH]["type"] == "STANDARD"


def test_outputs_others_rely_on(dev_plan: Plan) -> None:
    assert {
        "bucket_name",
        "state_machine_arn",
        "endpoint_name",
        "sagemaker_role_arn",
        "sagemaker_training_role_arn",
        "function_names",
        "log_group_names",
        "dashboard_name",
        "alarm_topic_arn",
        "alarm_names",
        "model_package_group_name",
        "min_accuracy",
    } <= set(dev_plan.outputs)
    assert dev_plan.outputs["endpoint_name"]["value"] == "scones-dev-endpoint"
    assert dev_plan.outputs["bucket_name"]["value"] == dev_plan.bucket


def test_prod_differs_only_in_sizes_and_retention(prod_plan: Plan) -> None:
    counts = Counter(change["type"] for change in prod_plan.changes.values())
    assert dict(counts) == PROD_EXPECTED_TYPES
    (variant,) = prod_plan.one("aws_sagemaker_endpoint_configuration")["production_variants"]
    assert variant["initial_instance_count"] == 2
    capture = prod_plan.one("aws_sagemaker_endpoint_configuration")["data_capture_config"][0]
    assert capture["initial_sampling_percentage"] == 20
    retention = {
        v["retention_in_days"] for v in prod_plan.of_type("aws_cloudwatch_log_group").values()
    }
    assert retention == {365}
    assert prod_plan.one("aws_s3_bucket")["force_destroy"] is False
    for machine in prod_plan.of_type("aws_sfn_state_machine").values():
        assert machine["logging_configuration"][0]["level"] == "ERROR"
    thresholds = {name: a["threshold"] for name, a in alarms(prod_plan).items()}
    assert thresholds["scones-prod-workflow-executions-failed"] == 1
    assert thresholds["scones-prod-needs-review-share"] == 0.25
    assert prod_plan.one("aws_dynamodb_table")["deletion_protection_enabled"] is True
    assert thresholds["scones-prod-endpoint-5xx-errors"] == 1
    assert thresholds["scones-prod-endpoint-model-latency"] == 500_000


def alarms(plan: Plan) -> dict[str, dict[str, Any]]:
    return {v["alarm_name"]: v for v in plan.of_type("aws_cloudwatch_metric_alarm").values()}


def test_alarms_watch_the_workflow_functions_and_endpoint(dev_plan: Plan) -> None:
    by_name = alarms(dev_plan)
    machine = f"arn:aws:states:us-east-1:{ACCOUNT['dev']}:stateMachine:scones-dev-classify"
    endpoint = {"EndpointName": "scones-dev-endpoint", "VariantName": "AllTraffic"}
    expected = {
        **{
            f"scones-dev-workflow-executions-{suffix}": (
                "AWS/States",
                metric,
                {"StateMachineArn": machine},
                1,
            )
            for suffix, metric in (
                ("failed", "ExecutionsFailed"),
                ("timed-out", "ExecutionsTimedOut"),
                ("throttled", "ExecutionThrottled"),
            )
        },
        **{
            f"{queue}-not-empty": (
                "AWS/SQS",
                "ApproximateNumberOfMessagesVisible",
                {"QueueName": queue},
                0,
            )
            for queue in ("scones-dev-ingest-dlq", "scones-dev-review-dlq")
        },
        "scones-dev-endpoint-5xx-errors": ("AWS/SageMaker", "Invocation5XXErrors", endpoint, 5),
        "scones-dev-endpoint-model-latency": ("AWS/SageMaker", "ModelLatency", endpoint, 2_000_000),
        **{
            f"scones-dev-{name}-errors": (
                "AWS/Lambda",
                "Errors",
                {"FunctionName": f"scones-dev-{name}"},
                1,
            )
            for name in ("serialize-image-data", "classify-image")
        },
    }
    share = by_name.pop("scones-dev-needs-review-share")
    assert {
        name: (a["namespace"], a["metric_name"], a["dimensions"], a["threshold"])
        for name, a in by_name.items()
    } == expected
    assert share["threshold"] == 0.3
    queried = {
        (m["metric"][0]["namespace"], m["metric"][0]["metric_name"])
        for m in share["metric_query"]
        if m["metric"]
    }
    assert queried == {
        ("SconesUnlimited/Classifier", "NeedsReview"),
        ("SconesUnlimited/Classifier", "Classified"),
    }
    for alarm in by_name.values():
        assert alarm["treat_missing_data"] == "notBreaching"
    assert by_name["scones-dev-endpoint-model-latency"]["extended_statistic"] == "p90"
    assert dev_plan.outputs["alarm_names"]["value"]["workflow_failed"] == (
        "scones-dev-workflow-executions-failed"
    )


def test_alarm_topic_is_encrypted_with_a_key_cloudwatch_may_use(dev_plan: Plan) -> None:
    topic = dev_plan.one("aws_sns_topic")
    assert topic["name"] == "scones-dev-alarms"
    (key,) = [
        k for k in dev_plan.of_type("aws_kms_key").values() if "alarm" in k["description"].lower()
    ]
    assert key["enable_key_rotation"] is True
    grants = {s["Sid"]: s for s in statements(key["policy"])}
    assert grants["CloudWatchPublishesEncryptedAlarms"]["Principal"] == {
        "Service": "cloudwatch.amazonaws.com"
    }
    aliases = {a["name"] for a in dev_plan.of_type("aws_kms_alias").values()}
    assert aliases == {"alias/scones-dev-alarms", "alias/scones-dev-results"}
    # The topic's ARN, and so its policy and the alarm actions, come with the apply.
    assert "aws_sns_topic_subscription" not in {c["type"] for c in dev_plan.changes.values()}


def test_dashboard_is_known_at_plan_time_and_charts_everything(prod_plan: Plan) -> None:
    dashboard = prod_plan.one("aws_cloudwatch_dashboard")
    assert dashboard["dashboard_name"] == "scones-prod-overview"
    widgets = json.loads(dashboard["dashboard_body"])["widgets"]
    charted = {
        (m[0], m[1]) for w in widgets if w["type"] == "metric" for m in w["properties"]["metrics"]
    }
    assert charted == {
        *(("AWS/States", f"Executions{s}") for s in ("Started", "Succeeded", "Failed")),
        ("AWS/Lambda", "Errors"),
        ("AWS/Lambda", "Duration"),
        ("SconesUnlimited/Classifier", "Classified"),
        ("SconesUnlimited/Classifier", "NeedsReview"),
        *(
            ("AWS/SageMaker", m)
            for m in ("Invocations", "ModelLatency", "Invocation4XXErrors", "Invocation5XXErrors")
        ),
    }
    (alarm_widget,) = [w for w in widgets if w["type"] == "alarm"]
    assert len(alarm_widget["properties"]["alarms"]) == 10


def test_plan_validated_the_definition(dev_plan: Plan) -> None:
    for machine in dev_plan.of_type("aws_sfn_state_machine").values():
        assert machine["definition"] in ValidateStub.received


def test_the_service_resources_are_as_the_issue_asks(dev_plan: Plan, prod_plan: Plan) -> None:
    table = dev_plan.one("aws_dynamodb_table")
    assert table["name"] == "scones-dev-results" and table["billing_mode"] == "PAY_PER_REQUEST"
    assert (table["hash_key"], table["range_key"]) == ("s3_key", "version")
    assert table["point_in_time_recovery"] == [{"enabled": True}]
    assert table["server_side_encryption"][0]["enabled"] is True
    assert table["deletion_protection_enabled"] is False
    assert prod_plan.one("aws_dynamodb_table")["deletion_protection_enabled"] is True
    queues = {q["name"]: q for q in dev_plan.of_type("aws_sqs_queue").values()}
    assert set(queues) == {"scones-dev-review", "scones-dev-review-dlq", "scones-dev-ingest-dlq"}
    assert dev_plan.one("aws_s3_bucket_notification")["eventbridge"] is True
    pattern = json.loads(dev_plan.one("aws_cloudwatch_event_rule")["event_pattern"])
    assert pattern["detail"] == {
        "bucket": {"name": [dev_plan.bucket]},
        "object": {"key": [{"prefix": "incoming/"}]},
    }
    target = dev_plan.one("aws_cloudwatch_event_target")
    machine = f"arn:aws:states:us-east-1:{ACCOUNT['dev']}:stateMachine:scones-dev-classify"
    assert target["arn"] == machine
    assert target["retry_policy"][0]["maximum_retry_attempts"] == 24
    (start,) = [
        s
        for address, policy in role_policies(dev_plan).items()
        if address.startswith("module.stack.module.ingest.")
        for s in policy
    ]
    assert start["Action"] == ["states:StartExecution"] and start["Resource"] == [machine]
    assert set(dev_plan.outputs) >= {"results_table_name", "review_queue_url", "ingest_dlq_url"}


def batch_item_states(plan: Plan) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    definition = json.loads(plan.of_type("aws_sfn_state_machine")[BATCH]["definition"])
    batch_map = definition["States"]["ClassifyPrefix"]
    states: dict[str, dict[str, Any]] = batch_map["ItemProcessor"]["States"]
    return batch_map, states


def test_the_batch_is_a_distributed_map_of_the_per_image_states(
    dev_plan: Plan, prod_plan: Plan
) -> None:
    batch_map, states = batch_item_states(dev_plan)
    machines = dev_plan.of_type("aws_sfn_state_machine")
    assert machines[BATCH]["name"] == "scones-dev-classify-batch"
    assert machines[BATCH]["type"] == "STANDARD"
    assert batch_map["ItemReader"] == {
        "Resource": "arn:aws:states:::s3:listObjectsV2",
        "Parameters": {"Bucket": dev_plan.bucket, "Prefix.$": "$.prefix"},
    }
    assert batch_map["ItemProcessor"]["ProcessorConfig"] == {
        "Mode": "DISTRIBUTED",
        "ExecutionType": "EXPRESS",
    }
    # dev: no more items at once than its serverless endpoint's max_concurrency.
    assert (batch_map["MaxConcurrency"], batch_map["ToleratedFailurePercentage"]) == (10, 5)
    prod_map, _ = batch_item_states(prod_plan)
    assert (prod_map["MaxConcurrency"], prod_map["ToleratedFailurePercentage"]) == (40, 1)
    assert batch_map["ResultWriter"]["Parameters"] == {
        "Bucket": dev_plan.bucket,
        "Prefix": "batch-results",
    }
    per_image = json.loads(machines[WORKFLOW]["definition"])
    for name, state in per_image["States"].items():
        assert states[name] == state, f"{name} differs from the per-image workflow's"
    assert states["ClassifyVersion"]["Next"] == per_image["StartAt"]


def test_every_task_of_the_batch_items_has_retry_and_catch_to_a_state_that_exists(
    dev_plan: Plan,
) -> None:
    _, states = batch_item_states(dev_plan)
    tasks = {name: state for name, state in states.items() if state["Type"] == "Task"}
    assert {"ReadVersion", "LookUpResult", "SerializeImageData", "RecordFailure"} <= set(tasks)
    for name, task in tasks.items():
        assert task.get("Retry"), f"{name} has no Retry"
        assert task.get("Catch"), f"{name} has no Catch"
        for catcher in task["Catch"]:
            assert catcher["Next"] in states, f"{name} catches into {catcher['Next']}"
    for name, state in states.items():
        targets = [state.get("Next"), state.get("Default")]
        targets += [c["Next"] for c in state.get("Choices", [])]
        for target in filter(None, targets):
            assert target in states, f"{name} -> {target}: no such state"


def test_the_batch_role_lists_only_the_image_prefixes_and_writes_only_its_results(
    dev_plan: Plan,
) -> None:
    (policy,) = [
        statements(values["policy"])
        for address, values in dev_plan.of_type("aws_iam_role_policy").items()
        if address == "module.stack.module.workflow.aws_iam_role_policy.batch"
    ]
    by_sid = {s["Sid"]: s for s in policy}
    listing = by_sid["ListImagePrefixes"]
    assert listing["Action"] == ["s3:ListBucket"]
    assert listing["Resource"] == [f"arn:aws:s3:::{dev_plan.bucket}"]
    assert sorted(listing["Condition"]["StringLike"]["s3:prefix"]) == ["incoming/*", "test/*"]
    assert sorted(by_sid["HeadImages"]["Resource"]) == [
        f"arn:aws:s3:::{dev_plan.bucket}/incoming/*",
        f"arn:aws:s3:::{dev_plan.bucket}/test/*",
    ]
    assert by_sid["WriteBatchResults"]["Resource"] == [
        f"arn:aws:s3:::{dev_plan.bucket}/batch-results/*"
    ]
    writes = {a for s in policy for a in s["Action"] if a.startswith("s3:Put")}
    assert writes == {"s3:PutObject"}
    machine = f"arn:aws:states:us-east-1:{ACCOUNT['dev']}:stateMachine:scones-dev-classify-batch"
    assert by_sid["RunOwnChildren"]["Resource"] == [machine]
    assert by_sid["FollowOwnChildren"]["Resource"] == [
        f"arn:aws:states:us-east-1:{ACCOUNT['dev']}:execution:scones-dev-classify-batch/*"
    ]
    assert by_sid["ReadResults"]["Action"] == ["dynamodb:GetItem"]
    assert "batch_state_machine_arn" in dev_plan.outputs
