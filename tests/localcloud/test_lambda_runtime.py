"""The local cloud runs deployed Lambda code: results, env, errors, timeouts, warm workers."""

from __future__ import annotations

import base64
import time

import pytest

from localcloud.testing import RunningCloud, create_function, invoke, zip_of

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SOURCE = """
import os, sys, time

import boto3


class ImageTooSmall(Exception):
    pass


# Module state survives between invocations only in a warm worker, as on Lambda.
INVOCATIONS = 0


def lambda_handler(event, context):
    global INVOCATIONS
    INVOCATIONS += 1
    print("handling", event)
    if "fail" in event:
        raise ImageTooSmall(event["fail"])
    if "sleep" in event:
        time.sleep(event["sleep"])
    buckets = boto3.client("s3").list_buckets()["Buckets"]
    return {
        "pid": os.getpid(),
        "greeting": os.environ.get("GREETING"),
        "python": "%d.%d" % sys.version_info[:2],
        "buckets": [b["Name"] for b in buckets],
        "remaining_ms": context.get_remaining_time_in_millis(),
        "request_id": context.aws_request_id,
        "invocations": INVOCATIONS,
    }
"""


@pytest.fixture(scope="module")
def function(local_cloud: RunningCloud, lambda_role: str) -> str:
    local_cloud.client("s3").create_bucket(Bucket="seen-by-the-lambda")
    create_function(
        local_cloud,
        lambda_role,
        "runtime-test",
        SOURCE,
        Timeout=3,
        Environment={"Variables": {"GREETING": "hello"}},
    )
    return "runtime-test"


def test_invocation_runs_the_deployed_code_with_boto3_pointed_at_the_local_cloud(
    local_cloud: RunningCloud, function: str
) -> None:
    payload, error = invoke(local_cloud, function, {"n": 1})
    assert error is None
    assert payload["greeting"] == "hello"
    assert "seen-by-the-lambda" in payload["buckets"]
    assert 0 < payload["remaining_ms"] <= 3000


def test_runs_under_python_312_when_available(local_cloud: RunningCloud, function: str) -> None:
    payload, _ = invoke(local_cloud, function)
    log = local_cloud.log_file.read_text()
    if payload["python"] != "3.12":
        assert "no Python 3.12 interpreter found" in log  # fell back, and said so
    else:
        assert payload["python"] == "3.12"


def test_cold_then_warm_reuses_the_worker(local_cloud: RunningCloud, function: str) -> None:
    before, _ = invoke(local_cloud, function)
    # A configuration change retires the warm workers, as a new version does on Lambda.
    local_cloud.client("lambda").update_function_configuration(
        FunctionName=function,
        Environment={"Variables": {"GREETING": "hello", "FRESH": str(time.time())}},
    )
    payloads = [invoke(local_cloud, function)[0] for _ in range(3)]
    assert payloads[0]["pid"] != before["pid"]
    assert payloads[0]["pid"] == payloads[1]["pid"] == payloads[2]["pid"]
    # Cold start first (fresh module state), then warm calls in the same process.
    assert [p["invocations"] for p in payloads] == [1, 2, 3]


def test_configuration_change_reaches_new_invocations(
    local_cloud: RunningCloud, function: str
) -> None:
    before, _ = invoke(local_cloud, function)
    local_cloud.client("lambda").update_function_configuration(
        FunctionName=function, Environment={"Variables": {"GREETING": "changed"}}
    )
    after, _ = invoke(local_cloud, function)
    assert after["greeting"] == "changed"
    assert after["pid"] != before["pid"]  # a new execution environment
    local_cloud.client("lambda").update_function_configuration(
        FunctionName=function, Environment={"Variables": {"GREETING": "hello"}}
    )


def test_code_change_reaches_new_invocations(local_cloud: RunningCloud, lambda_role: str) -> None:
    lam = local_cloud.client("lambda")
    create_function(
        local_cloud,
        lambda_role,
        "code-change",
        "def lambda_handler(event, context):\n    return 1\n",
    )
    assert invoke(local_cloud, "code-change")[0] == 1
    lam.update_function_code(
        FunctionName="code-change",
        ZipFile=zip_of({"handler.py": "def lambda_handler(event, context):\n    return 2\n"}),
    )
    assert invoke(local_cloud, "code-change")[0] == 2


def test_exception_comes_back_as_unhandled_with_its_class_name(
    local_cloud: RunningCloud, function: str
) -> None:
    payload, error = invoke(local_cloud, function, {"fail": "only 8x8 pixels"})
    assert error == "Unhandled"
    assert payload["errorType"] == "ImageTooSmall"
    assert payload["errorMessage"] == "only 8x8 pixels"
    assert any("handler.py" in frame for frame in payload["stackTrace"])


def test_timeout_kills_the_worker_and_reports_task_timed_out(
    local_cloud: RunningCloud, function: str
) -> None:
    before, _ = invoke(local_cloud, function)
    began = time.perf_counter()
    payload, error = invoke(local_cloud, function, {"sleep": 10})
    assert time.perf_counter() - began < 6
    assert error == "Unhandled"
    assert payload["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 3.00 seconds" in payload["errorMessage"]
    after, _ = invoke(local_cloud, function)
    assert after["pid"] != before["pid"]


def test_handler_output_goes_to_the_function_log_not_the_payload(
    local_cloud: RunningCloud, function: str
) -> None:
    response = local_cloud.client("lambda").invoke(
        FunctionName=function, Payload=b'{"marker": "xyzzy"}', LogType="Tail"
    )
    tail = base64.b64decode(response["LogResult"]).decode()
    assert "xyzzy" in tail and "REPORT RequestId" in tail
    logs = local_cloud.client("logs")
    events = logs.filter_log_events(logGroupName=f"/aws/lambda/{function}", filterPattern="xyzzy")
    assert events["events"]


def test_import_error_is_reported_like_aws(local_cloud: RunningCloud, lambda_role: str) -> None:
    create_function(local_cloud, lambda_role, "broken-import", "import not_a_module\n")
    payload, error = invoke(local_cloud, "broken-import")
    assert error == "Unhandled"
    assert payload["errorType"] == "Runtime.ImportModuleError"
    assert "not_a_module" in payload["errorMessage"]


def test_layers_are_on_the_path(local_cloud: RunningCloud, lambda_role: str) -> None:
    lam = local_cloud.client("lambda")
    layer = lam.publish_layer_version(
        LayerName="greeting-layer",
        Content={"ZipFile": zip_of({"python/greeter.py": "WORD = 'from a layer'\n"})},
        CompatibleRuntimes=["python3.12"],
    )
    source = "import greeter\n\ndef lambda_handler(event, context):\n    return greeter.WORD\n"
    create_function(
        local_cloud, lambda_role, "uses-layer", source, Layers=[layer["LayerVersionArn"]]
    )
    assert invoke(local_cloud, "uses-layer") == ("from a layer", None)


def test_concurrent_invocations_get_separate_workers(
    local_cloud: RunningCloud, lambda_role: str
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    source = (
        "import os, time\n\ndef lambda_handler(event, context):\n"
        "    time.sleep(0.5)\n    return os.getpid()\n"
    )
    create_function(local_cloud, lambda_role, "concurrent", source)
    with ThreadPoolExecutor(3) as pool:
        pids = list(pool.map(lambda _: invoke(local_cloud, "concurrent")[0], range(3)))
    assert len(set(pids)) == 3
