"""classifyImage against a stubbed SageMaker runtime client and a fake endpoint over HTTP."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.response import StreamingBody
from botocore.stub import Stubber

from common import aws
from common.errors import (
    ConfigurationError,
    EndpointNotFound,
    EndpointUnavailable,
    InvalidEvent,
    InvalidImage,
    InvalidModelResponse,
)
from tests.support.lambda_kit import (
    ENDPOINT,
    FakeContext,
    FakeSageMaker,
    endpoint_missing,
    fake_sagemaker,
    load_event,
    throttled,
)

EVENT = "classify_image/serialized_event.json"


@pytest.fixture
def stubber(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    """The handler's sagemaker-runtime client, with answers scripted by the test."""
    client = boto3.client("sagemaker-runtime", region_name="us-east-1")
    monkeypatch.setitem(aws._clients, "sagemaker-runtime", client)
    with Stubber(client) as stub:
        yield stub
        stub.assert_no_pending_responses()


def answer(stub: Stubber, body: bytes, event: dict[str, Any] | None = None) -> None:
    expected = None
    if event is not None:
        expected = {
            "EndpointName": ENDPOINT,
            "ContentType": "image/png",
            "Accept": "application/json",
            "Body": base64.b64decode(event["image_data"]),
        }
    response = {
        "Body": StreamingBody(io.BytesIO(body), len(body)),
        "ContentType": "application/json",
    }
    stub.add_response("invoke_endpoint", response, expected_params=expected)


def fail(stub: Stubber, code: str, message: str, status: int, **modeled: Any) -> None:
    stub.add_client_error(
        "invoke_endpoint",
        service_error_code=code,
        service_message=message,
        http_status_code=status,
        modeled_fields=modeled or None,
    )


def test_inferences_are_a_list_of_floats_in_class_order(
    classify: ModuleType, stubber: Stubber
) -> None:
    event = load_event(EVENT)
    answer(stubber, b"[0.97, 0.03]", event)

    result = classify.lambda_handler(event, FakeContext())

    assert result["inferences"] == [0.97, 0.03]
    assert all(type(value) is float for value in result["inferences"])
    assert (result["label"], result["confidence"]) == ("bicycle", 0.97)
    added = {"inferences", "label", "confidence"}
    assert {key: value for key, value in result.items() if key not in added} == {
        key: value for key, value in event.items() if key not in added
    }


def test_integer_probabilities_are_accepted(classify: ModuleType, stubber: Stubber) -> None:
    answer(stubber, b"[1, 0]")
    assert classify.lambda_handler(load_event(EVENT), None)["inferences"] == [1.0, 0.0]


def test_throttling_is_endpoint_unavailable(classify: ModuleType, stubber: Stubber) -> None:
    fail(stubber, "ThrottlingException", "Rate exceeded", 400)
    with pytest.raises(EndpointUnavailable, match="ThrottlingException") as raised:
        classify.lambda_handler(load_event(EVENT), FakeContext())
    assert "test/bicycle_s_000513.png" in str(raised.value)


def test_service_unavailable_is_endpoint_unavailable(
    classify: ModuleType, stubber: Stubber
) -> None:
    fail(stubber, "ServiceUnavailable", "Service is unavailable", 503)
    with pytest.raises(EndpointUnavailable):
        classify.lambda_handler(load_event(EVENT), FakeContext())


def test_model_5xx_is_endpoint_unavailable(classify: ModuleType, stubber: Stubber) -> None:
    fail(stubber, "ModelError", "Received server error (500)", 424, OriginalStatusCode=500)
    with pytest.raises(EndpointUnavailable, match="status 500"):
        classify.lambda_handler(load_event(EVENT), FakeContext())


def test_model_4xx_means_the_image_was_rejected(classify: ModuleType, stubber: Stubber) -> None:
    fail(stubber, "ModelError", "Received client error (400)", 424, OriginalStatusCode=400)
    with pytest.raises(InvalidImage, match="rejected the image"):
        classify.lambda_handler(load_event(EVENT), FakeContext())


# SageMaker Runtime's code is ValidationError (its API reference); the SDKs' docs also say
# ValidationException, so both are recognised.
@pytest.mark.parametrize("code", ["ValidationError", "ValidationException"])
def test_missing_endpoint_is_endpoint_not_found(
    classify: ModuleType, stubber: Stubber, code: str
) -> None:
    message = f"Endpoint {ENDPOINT} of account 123456789012 not found."
    fail(stubber, code, message, 400)
    with pytest.raises(EndpointNotFound, match="ENDPOINT_NAME"):
        classify.lambda_handler(load_event(EVENT), FakeContext())


def test_unexpected_client_errors_are_not_disguised(classify: ModuleType, stubber: Stubber) -> None:
    # AccessDenied is a deployment fault (IAM); renaming it would send operators the wrong way.
    fail(stubber, "AccessDeniedException", "not authorized", 403)
    with pytest.raises(ClientError, match="AccessDenied"):
        classify.lambda_handler(load_event(EVENT), FakeContext())


@pytest.mark.parametrize(
    "body",
    [
        b"<html>502 Bad Gateway</html>",
        b'{"predictions": [0.9, 0.1]}',
        b"[0.97]",
        b"[0.3, 0.3, 0.4]",
        b"[0.5, NaN]",
        b"[true, false]",
        b"[1.5, -0.5]",
        b'["0.9", "0.1"]',
        b"\xff\xfe",
    ],
)
def test_bad_model_answers_are_invalid_model_responses(
    classify: ModuleType, stubber: Stubber, body: bytes
) -> None:
    answer(stubber, body)
    with pytest.raises(InvalidModelResponse, match=ENDPOINT):
        classify.lambda_handler(load_event(EVENT), FakeContext())


def test_oversized_model_answer_is_invalid(classify: ModuleType, stubber: Stubber) -> None:
    answer(stubber, b"[" + b"0.5, " * 20_000 + b"0.5]")
    with pytest.raises(InvalidModelResponse, match="more than"):
        classify.lambda_handler(load_event(EVENT), FakeContext())


@pytest.mark.parametrize(
    ("event_file", "match"),
    [
        ("classify_image/empty_image_data.json", "run serializeImageData"),
        ("classify_image/bad_base64.json", "not valid base64"),
        ("serialize_image_data/missing_s3_key.json", "s3_key is missing"),
    ],
)
def test_events_without_an_image_are_invalid(
    classify: ModuleType, stubber: Stubber, event_file: str, match: str
) -> None:
    with pytest.raises(InvalidEvent, match=match):
        classify.lambda_handler(load_event(event_file), FakeContext())


@pytest.mark.parametrize("value", [None, "", "bad name!", "-leading-hyphen"])
def test_endpoint_name_must_be_set_and_valid(
    classify: ModuleType, monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    if value is None:
        monkeypatch.delenv("ENDPOINT_NAME")
    else:
        monkeypatch.setenv("ENDPOINT_NAME", value)
    with pytest.raises(ConfigurationError, match="ENDPOINT_NAME"):
        classify.lambda_handler(load_event(EVENT), FakeContext())


def test_log_line_carries_label_and_confidence(
    classify: ModuleType, stubber: Stubber, capsys: pytest.CaptureFixture[str]
) -> None:
    answer(stubber, b"[0.04, 0.96]")
    capsys.readouterr()
    classify.lambda_handler(load_event(EVENT), FakeContext(function_name="classifyImage"))
    (line,) = (json.loads(text) for text in capsys.readouterr().out.splitlines())
    assert line["function"] == "classifyImage"
    assert (line["outcome"], line["label"], line["confidence"]) == ("ok", "motorcycle", 0.96)
    assert line["s3_key"] == "test/bicycle_s_000513.png"


# The tests below use a real client over HTTP, so botocore's retries and AWS_ENDPOINT_URL
# handling run as they do against the local cloud.


def test_real_client_honours_the_endpoint_url_and_sends_png(
    classify: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = load_event(EVENT)
    with fake_sagemaker(FakeSageMaker()) as fake:
        monkeypatch.setenv("AWS_ENDPOINT_URL", fake.url)
        result = classify.lambda_handler(event, FakeContext())
    assert result["inferences"] == [0.97, 0.03]
    (request,) = fake.requests
    assert request["path"] == f"/endpoints/{ENDPOINT}/invocations"
    assert (request["content_type"], request["accept"]) == ("image/png", "application/json")
    assert request["body"] == base64.b64decode(event["image_data"])


def test_persistent_throttling_is_endpoint_unavailable_after_retries(
    classify: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Zero backoff: the test checks how many attempts are made, not how long they wait.
    monkeypatch.setattr("botocore.retries.standard.ExponentialBackoff.delay_amount", lambda *_: 0)
    with fake_sagemaker(FakeSageMaker(answers=[throttled()])) as fake:
        monkeypatch.setenv("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME", fake.url)
        with pytest.raises(EndpointUnavailable, match="after retries"):
            classify.lambda_handler(load_event(EVENT), FakeContext())
    assert len(fake.requests) == aws.SAGEMAKER_RUNTIME_MAX_ATTEMPTS == 2


def test_throttling_that_clears_is_retried_by_the_client(
    classify: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("botocore.retries.standard.ExponentialBackoff.delay_amount", lambda *_: 0)
    answers = [throttled(), (200, b"[0.1, 0.9]", None)]
    with fake_sagemaker(FakeSageMaker(answers=answers)) as fake:
        monkeypatch.setenv("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME", fake.url)
        result = classify.lambda_handler(load_event(EVENT), FakeContext())
    assert result["inferences"] == [0.1, 0.9]
    assert len(fake.requests) == 2


def test_missing_endpoint_over_http_is_endpoint_not_found(
    classify: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    with fake_sagemaker(FakeSageMaker(answers=[endpoint_missing(ENDPOINT)])) as fake:
        monkeypatch.setenv("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME", fake.url)
        with pytest.raises(EndpointNotFound):
            classify.lambda_handler(load_event(EVENT), FakeContext())
    assert len(fake.requests) == 1  # a missing endpoint is not retried


def test_unreachable_endpoint_is_endpoint_unavailable(
    classify: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("botocore.retries.standard.ExponentialBackoff.delay_amount", lambda *_: 0)
    with fake_sagemaker(FakeSageMaker()) as fake:
        url = fake.url
    # The server is gone: connections are refused.
    monkeypatch.setenv("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME", url)
    with pytest.raises(EndpointUnavailable, match="could not be reached"):
        classify.lambda_handler(load_event(EVENT), FakeContext())
