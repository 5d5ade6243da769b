"""Express state machines on the local cloud (stepfunctions_express): StartSyncExecution, express
execution ARNs, DescribeExecution and GetExecutionHistory refused, history in the log group."""

from __future__ import annotations

import datetime
import json
import re
import time
import uuid
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from localcloud import stepfunctions_express as express
from localcloud.testing import RunningCloud

ROLE = "arn:aws:iam::123456789012:role/localcloud-test-express"
DEADLINE_SECONDS = 60
EXPRESS_ARN = re.compile(
    r"^arn:aws:states:us-east-1:123456789012:express:(?P<machine>[\w-]+):(?P<name>[\w-]+):"
    r"[0-9a-f-]{36}$"
)


def test_express_arns_are_told_apart_from_standard_ones() -> None:
    machine = "arn:aws:states:us-east-1:123456789012:stateMachine:m"
    arn = express.express_execution_arn(machine, "run-1")
    assert EXPRESS_ARN.match(arn) and arn.startswith(
        "arn:aws:states:us-east-1:123456789012:express:m:run-1:"
    )
    assert express.express_execution_arn(machine, "run-1") != arn  # a new id each time
    assert express.express_execution_arn(machine + ":3", "x").split(":")[6] == "m"  # a version
    assert express.is_express_arn(arn)
    assert not express.is_express_arn("arn:aws:states:us-east-1:123456789012:execution:m:run-1")
    assert not express.is_express_arn("not an arn")


def test_an_express_definition_runs_at_most_five_minutes() -> None:
    def timeout(definition: dict[str, Any]) -> Any:
        return json.loads(express.capped_definition(json.dumps(definition)))["TimeoutSeconds"]

    states = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    assert timeout(states) == 300
    assert timeout({**states, "TimeoutSeconds": 900}) == 300
    assert timeout({**states, "TimeoutSeconds": 120}) == 120


def test_billing_details_follow_the_pricing_page() -> None:
    start = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    stop = start + datetime.timedelta(milliseconds=101)
    billed = express.billing_details(start, stop, "{}", ["{}", "{}"])
    assert billed == {"billedDurationInMilliseconds": 200, "billedMemoryUsedInMB": 64}
    big = "x" * (20 * 1024 * 1024)  # 50 MB + 20 MB of payload: two 64 MB chunks
    assert express.billing_details(start, start, "{}", [big])["billedMemoryUsedInMB"] == 128
    assert express.billing_details(start, start, "{}", [])["billedDurationInMilliseconds"] == 100


def test_logging_destination_is_read_from_the_configuration() -> None:
    group = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/vendedlogs/states/m:*"
    config = {
        "level": "ERROR",
        "includeExecutionData": True,
        "destinations": [{"cloudWatchLogsLogGroup": {"logGroupArn": group}}],
    }
    assert express.log_destination(config) == (
        "123456789012",
        "us-east-1",
        "/aws/vendedlogs/states/m",
        "ERROR",
        True,
    )
    assert express.log_destination({**config, "level": "OFF"}) is None
    assert express.log_destination({"level": "ALL"}) is None
    assert express.log_destination(None) is None


@pytest.fixture(scope="module")
def world(local_cloud: RunningCloud) -> dict[str, str]:
    """A table written conditionally, as the per-image workflow writes results; log groups."""
    suffix = uuid.uuid4().hex[:8]
    table = f"express-{suffix}"
    local_cloud.client("dynamodb").create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    logs = local_cloud.client("logs")
    groups = {}
    for level in ("ALL", "ERROR"):
        groups[level] = f"/aws/vendedlogs/states/express-{suffix}-{level.lower()}"
        logs.create_log_group(logGroupName=groups[level])
    return {"table": table, "suffix": suffix, "all": groups["ALL"], "error": groups["ERROR"]}


def record_definition(table: str) -> dict[str, Any]:
    """Fails for keys starting bad/; else writes {k} once: a second run of the same key is a
    duplicate (attribute_not_exists), as the per-image workflow's RecordResult."""
    return {
        "StartAt": "Check",
        "States": {
            "Check": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.key", "StringMatches": "bad/*", "Next": "Broken"}],
                "Default": "Record",
            },
            "Broken": {"Type": "Fail", "Error": "BadKey", "Cause": "keys under bad/ fail"},
            "Record": {
                "Type": "Task",
                "Resource": "arn:aws:states:::dynamodb:putItem",
                "Parameters": {
                    "TableName": table,
                    "Item": {"k": {"S.$": "$.key"}, "execution": {"S.$": "$$.Execution.Id"}},
                    "ConditionExpression": "attribute_not_exists(k)",
                },
                "ResultSelector": {"status": "classified"},
                "Catch": [
                    {
                        "ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"],
                        "ResultPath": None,
                        "Next": "Duplicate",
                    }
                ],
                "End": True,
            },
            "Duplicate": {"Type": "Pass", "Result": {"status": "duplicate"}, "End": True},
        },
    }


def create_machine(cloud: RunningCloud, world: dict[str, str], level: str, **options: Any) -> str:
    logs = cloud.client("logs")
    group = world[level.lower()]
    group_arn = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["arn"]
    arn: str = cloud.client("stepfunctions").create_state_machine(
        name=f"express-{world['suffix']}-{uuid.uuid4().hex[:6]}",
        definition=json.dumps(record_definition(world["table"])),
        roleArn=ROLE,
        type=options.pop("type", "EXPRESS"),
        loggingConfiguration={
            "level": level,
            "includeExecutionData": options.pop("include_data", False),
            "destinations": [{"cloudWatchLogsLogGroup": {"logGroupArn": group_arn}}],
        },
    )["stateMachineArn"]
    return arn


def sync_client(cloud: RunningCloud) -> Any:
    # StartSyncExecution's host prefix "sync-" would make the host sync-127.0.0.1.
    return cloud.client("stepfunctions", config=Config(inject_host_prefix=False))


def log_records(cloud: RunningCloud, group: str, execution_arn: str) -> list[dict[str, Any]]:
    """The execution's records in its log group once its last one is there (or the deadline)."""
    logs = cloud.client("logs")
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        events = logs.filter_log_events(logGroupName=group)["events"]
        records = [json.loads(e["message"]) for e in events]
        mine = [r for r in records if r["execution_arn"] == execution_arn]
        if any(r["type"].startswith("Execution") and r["type"] != "ExecutionStarted" for r in mine):
            return sorted(mine, key=lambda r: int(r["id"]))
        if time.monotonic() > deadline:
            raise AssertionError(f"no end of {execution_arn} in {group} in time: {records}")
        time.sleep(0.2)


def test_an_express_machine_is_described_as_express(
    local_cloud: RunningCloud, world: dict[str, str]
) -> None:
    arn = create_machine(local_cloud, world, "ALL")
    described = local_cloud.client("stepfunctions").describe_state_machine(stateMachineArn=arn)
    assert described["type"] == "EXPRESS"


def test_an_unknown_type_is_refused(local_cloud: RunningCloud, world: dict[str, str]) -> None:
    with pytest.raises(ClientError) as refused:
        create_machine(local_cloud, world, "ALL", type="FAST")
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert "STANDARD, EXPRESS" in refused.value.response["Error"]["Message"]


def test_start_sync_execution_answers_the_result(
    local_cloud: RunningCloud, world: dict[str, str]
) -> None:
    arn = create_machine(local_cloud, world, "ALL", include_data=True)
    key = f"ok/{uuid.uuid4().hex}.png"
    answer = sync_client(local_cloud).start_sync_execution(
        stateMachineArn=arn, name="sync-ok", input=json.dumps({"key": key})
    )
    assert answer["status"] == "SUCCEEDED"
    assert json.loads(answer["output"]) == {"status": "classified"}
    assert json.loads(answer["input"]) == {"key": key}
    assert answer["stateMachineArn"] == arn and answer["name"] == "sync-ok"
    match = EXPRESS_ARN.match(answer["executionArn"])
    assert match and match["name"] == "sync-ok" and arn.endswith(":" + match["machine"])
    assert answer["stopDate"] >= answer["startDate"]
    billed = answer["billingDetails"]
    assert billed["billedDurationInMilliseconds"] % 100 == 0
    assert billed["billedDurationInMilliseconds"] > 0
    assert billed["billedMemoryUsedInMB"] == 64
    item = local_cloud.client("dynamodb").get_item(TableName=world["table"], Key={"k": {"S": key}})
    assert item["Item"]["execution"]["S"] == answer["executionArn"]  # $$.Execution.Id
    # The same input again (a retried request): the conditional write makes it a duplicate.
    again = sync_client(local_cloud).start_sync_execution(
        stateMachineArn=arn, name="sync-ok", input=json.dumps({"key": key})
    )
    assert again["status"] == "SUCCEEDED" and again["executionArn"] != answer["executionArn"]
    assert json.loads(again["output"]) == {"status": "duplicate"}


def test_a_failed_sync_execution_answers_error_and_cause(
    local_cloud: RunningCloud, world: dict[str, str]
) -> None:
    arn = create_machine(local_cloud, world, "ERROR")
    answer = sync_client(local_cloud).start_sync_execution(
        stateMachineArn=arn, input=json.dumps({"key": "bad/1.png"})
    )
    assert answer["status"] == "FAILED"
    assert (answer["error"], answer["cause"]) == ("BadKey", "keys under bad/ fail")
    assert "output" not in answer
    records = log_records(local_cloud, world["error"], answer["executionArn"])
    assert [r["type"] for r in records] == ["FailStateEntered", "ExecutionFailed"]  # level ERROR
    assert records[-1]["details"] == {"error": "BadKey", "cause": "keys under bad/ fail"}


def test_start_sync_execution_refuses_a_standard_machine(
    local_cloud: RunningCloud, world: dict[str, str]
) -> None:
    arn = create_machine(local_cloud, world, "ALL", type="STANDARD")
    with pytest.raises(ClientError) as refused:
        sync_client(local_cloud).start_sync_execution(stateMachineArn=arn, input="{}")
    assert refused.value.response["Error"]["Code"] == "StateMachineTypeNotSupported"


def test_start_sync_execution_of_an_unknown_machine_is_refused(local_cloud: RunningCloud) -> None:
    with pytest.raises(ClientError) as refused:
        sync_client(local_cloud).start_sync_execution(
            stateMachineArn="arn:aws:states:us-east-1:123456789012:stateMachine:nowhere"
        )
    assert refused.value.response["Error"]["Code"] == "StateMachineDoesNotExist"


def test_an_express_execution_is_not_described_and_logs_its_history(
    local_cloud: RunningCloud, world: dict[str, str]
) -> None:
    arn = create_machine(local_cloud, world, "ALL")
    sfn = local_cloud.client("stepfunctions")
    key = f"ok/{uuid.uuid4().hex}.png"
    started = sfn.start_execution(stateMachineArn=arn, name="async", input=json.dumps({"key": key}))
    execution = started["executionArn"]
    assert EXPRESS_ARN.match(execution)
    refused_calls = (
        sfn.describe_execution,
        sfn.get_execution_history,
        sfn.stop_execution,
        sfn.redrive_execution,
    )
    for refused_call in refused_calls:
        with pytest.raises(ClientError) as refused:
            refused_call(executionArn=execution)
        assert refused.value.response["Error"]["Code"] == "InvalidArn"
        assert "not valid in this context: express" in refused.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as not_listed:
        sfn.list_executions(stateMachineArn=arn)
    assert not_listed.value.response["Error"]["Code"] == "StateMachineTypeNotSupported"
    records = log_records(local_cloud, world["all"], execution)
    types = [r["type"] for r in records]
    assert types[0] == "ExecutionStarted" and types[-1] == "ExecutionSucceeded"
    assert "TaskSucceeded" in types and "ChoiceStateEntered" in types
    assert [r["id"] for r in records] == [str(i) for i in range(1, len(records) + 1)]
    for record in records:  # the record shape of cw-logs.html, every value a string
        assert set(record) == {
            "id",
            "type",
            "details",
            "previous_event_id",
            "event_timestamp",
            "execution_arn",
            "redrive_count",
        }
        assert record["event_timestamp"].isdigit() and int(record["event_timestamp"]) > 1.7e12
    # includeExecutionData false: no state input or output in the log.
    assert all("input" not in r["details"] and "output" not in r["details"] for r in records)
    streams = local_cloud.client("logs").describe_log_streams(logGroupName=world["all"])
    assert any(s["logStreamName"].startswith("states/") for s in streams["logStreams"])


def test_a_published_version_runs_as_express_too(
    local_cloud: RunningCloud, world: dict[str, str]
) -> None:
    arn = create_machine(local_cloud, world, "ALL")
    sfn = local_cloud.client("stepfunctions")
    definition = sfn.describe_state_machine(stateMachineArn=arn)["definition"]
    version = sfn.update_state_machine(stateMachineArn=arn, definition=definition, publish=True)[
        "stateMachineVersionArn"
    ]
    answer = sync_client(local_cloud).start_sync_execution(
        stateMachineArn=version, input=json.dumps({"key": f"ok/{uuid.uuid4().hex}.png"})
    )
    assert answer["status"] == "SUCCEEDED", answer
    match = EXPRESS_ARN.match(answer["executionArn"])
    assert match and arn.endswith(":" + match["machine"])


def test_execution_data_is_logged_when_asked(
    local_cloud: RunningCloud, world: dict[str, str]
) -> None:
    arn = create_machine(local_cloud, world, "ALL", include_data=True)
    key = f"ok/{uuid.uuid4().hex}.png"
    started = local_cloud.client("stepfunctions").start_execution(
        stateMachineArn=arn, input=json.dumps({"key": key})
    )
    records = log_records(local_cloud, world["all"], started["executionArn"])
    assert json.loads(records[0]["details"]["input"]) == {"key": key}
    assert records[0]["details"]["inputDetails"] == {"truncated": False}
    assert json.loads(records[-1]["details"]["output"]) == {"status": "classified"}


def test_the_same_event_twice_gives_one_item(
    local_cloud: RunningCloud, world: dict[str, str]
) -> None:
    """EventBridge delivers at least once and Express runs at least once: the same event started
    twice, under the same name, is two executions and one item."""
    arn = create_machine(local_cloud, world, "ALL", include_data=True)
    sfn = local_cloud.client("stepfunctions")
    key = f"twice/{uuid.uuid4().hex}.png"
    event = json.dumps({"key": key})
    first = sfn.start_execution(stateMachineArn=arn, name="delivery", input=event)
    second = sfn.start_execution(stateMachineArn=arn, name="delivery", input=event)
    assert first["executionArn"] != second["executionArn"]  # names are not idempotent
    ends = [
        log_records(local_cloud, world["all"], run["executionArn"])[-1] for run in (first, second)
    ]
    assert [end["type"] for end in ends] == ["ExecutionSucceeded", "ExecutionSucceeded"]
    statuses = sorted(json.loads(end["details"]["output"])["status"] for end in ends)
    assert statuses == ["classified", "duplicate"]
    items = local_cloud.client("dynamodb").scan(
        TableName=world["table"],
        FilterExpression="k = :k",
        ExpressionAttributeValues={":k": {"S": key}},
    )["Items"]
    assert len(items) == 1
    assert items[0]["execution"]["S"] in {first["executionArn"], second["executionArn"]}


def test_moto_still_forces_standard_and_runs_sync_executions_in_the_caller() -> None:
    """What stepfunctions_express builds on; a moto that changes these needs the module reviewed."""
    import inspect

    from moto.stepfunctions.models import StateMachineInstance
    from moto.stepfunctions.parser.backend.execution_worker import SyncExecutionWorker
    from moto.stepfunctions.responses import StepFunctionResponse

    assert 'self.sm_type = "STANDARD"' in inspect.getsource(StateMachineInstance.__init__)
    assert "self._execution_logic()" in inspect.getsource(SyncExecutionWorker.start)
    assert not hasattr(StepFunctionResponse, "start_sync_execution")
