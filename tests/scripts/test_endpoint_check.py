"""scripts/endpoint_check.py: a rolled-back or failed endpoint fails `make apply`, with why."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from scripts import endpoint_check
from scripts.endpoint_check import EndpointCheckError, Readback, read_back, verdict


class FakeSageMaker:
    """DescribeEndpoint answering each of `answers` in turn (the last one over and over)."""

    def __init__(self, *answers: dict[str, Any] | ClientError) -> None:
        self.answers = list(answers)
        self.calls = 0

    def describe_endpoint(self, EndpointName: str) -> dict[str, Any]:  # noqa: N803 (boto3's)
        answer = self.answers[min(self.calls, len(self.answers) - 1)]
        self.calls += 1
        if isinstance(answer, ClientError):
            raise answer
        return answer


def described(status: str, config: str, reason: str | None = None) -> dict[str, Any]:
    answer = {"EndpointName": "ep", "EndpointStatus": status, "EndpointConfigName": config}
    if reason is not None:
        answer["FailureReason"] = reason
    return answer


def test_it_waits_out_updating_and_passes_on_the_planned_config() -> None:
    fake = FakeSageMaker(described("Updating", "old"), described("InService", "new"))
    readback = read_back(fake, "ep", "new", timeout=5, poll=0)
    assert fake.calls == 2
    assert verdict(readback) == "endpoint ep: InService on new, as planned"


def test_a_silent_rollback_fails_with_the_failure_reason() -> None:
    reason = "Deployment of endpoint configuration new rolled back: CloudWatch alarm ep-5xx ..."
    readback = read_back(FakeSageMaker(described("InService", "old", reason)), "ep", "new", 5, 0)
    with pytest.raises(EndpointCheckError) as raised:
        verdict(readback)
    message = str(raised.value)
    assert "InService on old, not on the planned new" in message
    assert reason in message and "make promote" in message


def test_a_failed_endpoint_fails_with_its_reason() -> None:
    with pytest.raises(EndpointCheckError, match="is Failed, not InService: no model data"):
        verdict(Readback("ep", "Failed", "new", "new", "no model data"))


def test_a_rollback_without_a_reason_still_fails() -> None:
    with pytest.raises(EndpointCheckError, match="SageMaker gave no FailureReason"):
        verdict(Readback("ep", "InService", "old", "new", None))


def test_an_unreadable_endpoint_is_a_named_error() -> None:
    missing = ClientError(
        {"Error": {"Code": "ValidationException", "Message": "Could not find endpoint"}},
        "DescribeEndpoint",
    )
    with pytest.raises(EndpointCheckError, match="cannot be read back"):
        read_back(FakeSageMaker(missing), "ep", "new", timeout=5, poll=0)


def test_an_environment_without_an_endpoint_has_nothing_to_check(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(
        endpoint_check,
        "read_outputs",
        lambda env, envs_dir: {"endpoint_name": "ep", "endpoint_configuration_name": None},
    )
    assert endpoint_check.main(["--env", "dev"]) == 0
    assert "no endpoint yet" in capsys.readouterr().out
