"""scripts/classify.py against a state machine of trivial Lambdas on the local cloud."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError

from localcloud import control
from localcloud.credentials import Credentials
from localcloud.testing import RunningCloud, create_function
from scripts import classify

HANDLER = """
class ThresholdConfidenceNotMet(Exception):
    pass


def lambda_handler(event, context):
    if "unsure" in event["s3_key"]:
        raise ThresholdConfidenceNotMet("confidence 0.51 is below the threshold 0.93")
    return {**event, "label": "bicycle", "confidence": 0.97}
"""
KEYS = ["test/bicycle_1.png", "test/bicycle_2.png", "test/unsure_3.png", "test/moto_4.jpg"]


def test_execution_names_are_valid_unique_and_stable() -> None:
    long_key = "test/" + "x" * 200 + ".png"
    names = {classify.execution_name(key, 1) for key in [*KEYS, long_key, "test/a b.png"]}
    assert len(names) == 6
    assert all(len(name) <= 80 and " " not in name for name in names)
    assert classify.execution_name(KEYS[0], 1) == classify.execution_name(KEYS[0], 1)
    assert classify.execution_name(KEYS[0], 1) != classify.execution_name(KEYS[0], 2)


def test_plan_skips_finished_and_reattaches_unfinished() -> None:
    done = {
        "a": {"key": "a", "status": "SUCCEEDED", "attempt": 1},
        "b": {"key": "b", "status": "FAILED", "attempt": 1},
        "c": {"key": "c", "status": "STARTED", "attempt": 2},
        "d": {"key": "d", "status": "ERROR", "attempt": 1},
    }
    assert classify.plan_batch(["a", "b", "c", "d", "e"], done, retry_failed=False) == [
        ("c", 2),
        ("d", 1),
        ("e", 1),
    ]
    assert ("b", 2) in classify.plan_batch(["b"], done, retry_failed=True)


@pytest.fixture(scope="module")
def target(local_cloud: RunningCloud, lambda_role: str) -> classify.Target:
    s3 = local_cloud.client("s3")
    s3.create_bucket(Bucket="classify-test")
    for key in [*KEYS, "test/notes.txt"]:
        s3.put_object(Bucket="classify-test", Key=key, Body=b"not really an image")
    arn = create_function(local_cloud, lambda_role, "classify-trivial", HANDLER)
    definition = {
        "StartAt": "Classify",
        "States": {
            "Classify": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": arn, "Payload.$": "$"},
                "OutputPath": "$.Payload",
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error",
                           "Next": "ClassificationFailed"}],
                "End": True,
            },
            "ClassificationFailed": {
                "Type": "Fail", "ErrorPath": "$.error.Error", "CausePath": "$.error.Cause"
            },
        },
    }  # fmt: skip
    machine = local_cloud.client("stepfunctions").create_state_machine(
        name="classify-test",
        definition=json.dumps(definition),
        roleArn="arn:aws:iam::123456789012:role/sfn",
    )
    # The same definition as an Express workflow (workflow_type = "EXPRESS").
    local_cloud.client("stepfunctions").create_state_machine(
        name="classify-test-express",
        definition=json.dumps(definition),
        roleArn="arn:aws:iam::123456789012:role/sfn",
        type="EXPRESS",
    )
    return classify.Target(machine["stateMachineArn"], "classify-test")


@pytest.fixture(scope="module")
def express_target(target: classify.Target) -> classify.Target:
    return classify.Target(target.state_machine_arn + "-express", target.bucket)


def executions(cloud: RunningCloud, target: classify.Target) -> list[str]:
    listed = cloud.client("stepfunctions").list_executions(
        stateMachineArn=target.state_machine_arn, maxResults=1000
    )
    return [e["name"] for e in listed["executions"]]


def records(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.e2e
@pytest.mark.slow
def test_batch_accounts_for_every_image_then_resumes_only_the_unfinished(
    local_cloud_env: RunningCloud, target: classify.Target, tmp_path: Path
) -> None:
    local_cloud = local_cloud_env
    sfn, s3 = classify.make_clients("local", local_cloud.endpoint_url, 4)
    results = classify.ResultsFile(tmp_path / "results.jsonl")
    # A batch killed earlier: one image finished, one started (its execution really began),
    # one whose STARTED line was written just before the kill (no execution yet).
    finished = {"key": KEYS[0], "status": "SUCCEEDED", "attempt": 1, "label": "bicycle"}
    results.append(finished)
    started_name = classify.execution_name(KEYS[1], 1)
    sfn.start_execution(
        stateMachineArn=target.state_machine_arn,
        name=started_name,
        input=json.dumps({"image_data": "", "s3_bucket": target.bucket, "s3_key": KEYS[1]}),
    )
    for key in KEYS[1:3]:
        arn = classify.execution_arn(target.state_machine_arn, classify.execution_name(key, 1))
        results.append({"key": key, "status": "STARTED", "attempt": 1, "execution_arn": arn})
    before = executions(local_cloud, target)

    counts = classify.run_batch(sfn, s3, target, "test/", results, concurrency=4, timeout=60)

    assert counts == {"SUCCEEDED": 3, "FAILED": 1}
    after = executions(local_cloud, target)
    # KEYS[0] was skipped, KEYS[1] re-attached; only KEYS[2] and KEYS[3] started executions.
    assert sorted(set(after) - set(before)) == sorted(
        classify.execution_name(k, 1) for k in KEYS[2:]
    )
    latest = results.latest()
    assert set(latest) == set(KEYS)
    assert latest[KEYS[1]]["label"] == "bicycle" and latest[KEYS[1]]["confidence"] == 0.97
    assert latest[KEYS[1]]["execution"] == "reattached"
    assert {latest[k]["execution"] for k in KEYS[2:]} == {"started"}
    assert latest[KEYS[2]]["status"] == "FAILED"
    assert latest[KEYS[2]]["error"] == "ThresholdConfidenceNotMet"
    assert "below the threshold" in str(latest[KEYS[2]]["cause"])
    assert all(latest[k]["duration_s"] is not None for k in KEYS[1:])

    # A second run finds nothing left to do and starts nothing.
    again = classify.run_batch(sfn, s3, target, "test/", results, concurrency=4, timeout=60)
    assert again == counts
    assert executions(local_cloud, target) == after


@pytest.mark.e2e
@pytest.mark.slow
def test_single_key_prints_the_outcome(
    local_cloud_env: RunningCloud, target: classify.Target, capsys: pytest.CaptureFixture[str]
) -> None:
    local_cloud = local_cloud_env
    argv = ["--key", KEYS[0], "--state-machine-arn", target.state_machine_arn,
            "--bucket", target.bucket, "--endpoint-url", local_cloud.endpoint_url]  # fmt: skip
    assert classify.main(argv) == 0
    assert "classified bicycle (confidence 0.97)" in capsys.readouterr().out
    argv[1] = KEYS[2]
    assert classify.main(argv) == 1
    assert "FAILED ThresholdConfidenceNotMet" in capsys.readouterr().out


@pytest.mark.e2e
@pytest.mark.slow
def test_single_key_runs_an_express_workflow_synchronously(
    local_cloud_env: RunningCloud,
    express_target: classify.Target,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The same output and exit codes as a Standard workflow's, through StartSyncExecution (an
    Express execution cannot be described, so following it as Standard would fail)."""
    local_cloud = local_cloud_env
    sfn = local_cloud.client("stepfunctions")
    assert classify.workflow_type(sfn, express_target) == "EXPRESS"
    machine, bucket = express_target.state_machine_arn, express_target.bucket
    argv = ["--key", KEYS[0], "--state-machine-arn", machine,
            "--bucket", bucket, "--endpoint-url", local_cloud.endpoint_url]  # fmt: skip
    assert classify.main(argv) == 0
    assert capsys.readouterr().out == f"{KEYS[0]}: classified bicycle (confidence 0.97)\n"
    argv[1] = KEYS[2]
    assert classify.main(argv) == 1
    out = capsys.readouterr().out
    assert out.startswith(f"{KEYS[2]}: FAILED ThresholdConfidenceNotMet: confidence 0.51")
    # The record names the Express execution StartSyncExecution ran.
    record = classify.classify_key(
        sfn,
        express_target,
        KEYS[1],
        7,
        None,
        60,
        s3=local_cloud.client("s3"),
        sync_sfn=classify.make_sync_client("local", local_cloud.endpoint_url, 60),
    )
    assert record["status"] == "SUCCEEDED" and record["execution"] == "started synchronously"
    assert ":express:classify-test-express:" in record["execution_arn"]


@pytest.mark.e2e
@pytest.mark.slow
def test_the_per_image_client_path_runs_an_express_workflow_synchronously(
    local_cloud_env: RunningCloud, express_target: classify.Target, tmp_path: Path
) -> None:
    local_cloud = local_cloud_env
    sfn, s3 = classify.make_clients("local", local_cloud.endpoint_url, 4)
    sync_sfn = classify.make_sync_client("local", local_cloud.endpoint_url, 60, 4)
    results = classify.ResultsFile(tmp_path / "results.jsonl")
    counts = classify.run_batch(sfn, s3, express_target, "test/", results, 4, 60, sync_sfn=sync_sfn)
    assert counts == {"SUCCEEDED": 3, "FAILED": 1}
    latest = results.latest()
    assert {latest[k]["execution"] for k in KEYS} == {"started synchronously"}
    assert all(":express:" in str(latest[k]["execution_arn"]) for k in KEYS)
    assert latest[KEYS[2]]["error"] == "ThresholdConfidenceNotMet"


def test_the_sync_client_leaves_the_host_prefix_off_only_for_an_endpoint_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    local = classify.make_sync_client("dev", "http://127.0.0.1:1", 30)
    assert local.meta.config.inject_host_prefix is False
    assert local.meta.config.read_timeout == 30 + classify.READ_TIMEOUT_S
    assert local.meta.config.retries["total_max_attempts"] == 1
    on_aws = classify.make_sync_client("dev", None, 30)  # sync-states.us-east-1.amazonaws.com
    assert on_aws.meta.config.inject_host_prefix is True


def test_missing_outputs_is_an_operator_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert classify.main(["--key", "k", "--env", "no-such-env"]) == 2
    assert "make apply ENV=no-such-env" in capsys.readouterr().err


def _client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "..."}}, "DescribeExecution")


def test_only_a_cloud_that_went_away_stops_the_batch() -> None:
    gone = [
        EndpointConnectionError(endpoint_url=control.endpoint_url(control.DEFAULT_PORT)),
        ConnectionClosedError(endpoint_url=control.endpoint_url(control.DEFAULT_PORT)),
        *(_client_error(code) for code in sorted(classify.KEY_REFUSED | classify.STATE_LOST)),
    ]
    assert all(classify.cloud_gone_reason(error) for error in gone)
    for one_image in [_client_error("ThrottlingException"), TimeoutError("still RUNNING")]:
        assert classify.cloud_gone_reason(one_image) is None


def test_the_message_names_twenty_keys_and_points_at_the_rest() -> None:
    keys = [f"test/{i:02d}.png" for i in range(23)]
    message = str(classify.CloudGoneError("the local cloud", "why", keys, Path("r.jsonl")))
    assert message.startswith("the local cloud stopped answering (why); 23 images unfinished:")
    assert "  test/19.png\n  ... and 3 more\n" in message and "test/20.png" not in message
    assert "r.jsonl" in message and "Run the same command again" in message


class RestartedAfter:
    """Step Functions that answers `starts` StartExecutions, then refuses our key, as a
    restarted local cloud does (it issued a new one)."""

    def __init__(self, cloud: RunningCloud, starts: int) -> None:
        self._real = cloud.client("stepfunctions")
        self._restarted = RunningCloud(
            cloud.endpoint_url, cloud.port, 0, cloud.state_dir, Credentials.issue()
        ).client("stepfunctions")
        self.exceptions = self._real.exceptions
        self._starts = starts

    def __getattr__(self, name: str) -> Any:
        return getattr(self._restarted if self._starts < 0 else self._real, name)

    def start_execution(self, **kwargs: Any) -> Any:
        self._starts -= 1
        return self.__getattr__("start_execution")(**kwargs)


@pytest.mark.e2e
@pytest.mark.slow
def test_a_refused_key_stops_the_batch_and_records_every_unfinished_image(
    local_cloud_env: RunningCloud, target: classify.Target, tmp_path: Path
) -> None:
    _, s3 = classify.make_clients("local", local_cloud_env.endpoint_url, 1)
    sfn = RestartedAfter(local_cloud_env, starts=2)
    results = classify.ResultsFile(tmp_path / "results.jsonl")
    with pytest.raises(classify.CloudGoneError) as stopped:
        classify.run_batch(sfn, s3, target, "test/", results, concurrency=1, timeout=60)
    assert stopped.value.unfinished == sorted(KEYS)[2:]
    assert "UnrecognizedClientException" in str(stopped.value)
    latest = results.latest()
    assert {latest[k]["status"] for k in sorted(KEYS)[:2]} == {"SUCCEEDED"}
    assert {latest[k]["status"] for k in sorted(KEYS)[2:]} == {classify.UNFINISHED}
    # The rerun, against the cloud as it is (it kept its key), resumes exactly those two.
    real, _ = classify.make_clients("local", local_cloud_env.endpoint_url, 1)
    assert classify.plan_batch(sorted(KEYS), latest, retry_failed=False) == [
        (k, 1) for k in sorted(KEYS)[2:]
    ]
    counts = classify.run_batch(real, s3, target, "test/", results, concurrency=1, timeout=60)
    assert counts == {"SUCCEEDED": 3, "FAILED": 1}


def test_unreadable_outputs_say_what_to_pass(capsys: pytest.CaptureFixture[str]) -> None:
    # Read by training.terraform_outputs, the one reader; the message stays classify's own.
    assert classify.main(["--env", "nowhere", "--key", "test/a.png"]) == 2
    err = capsys.readouterr().err
    assert "infra/envs/nowhere does not exist; check ENV" in err
    assert "--state-machine-arn and --bucket" in err
