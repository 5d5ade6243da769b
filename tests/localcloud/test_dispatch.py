"""No request waits for another request's body (issue 10): moto's dispatcher lock, taken apart."""

from __future__ import annotations

import inspect
import socket
import threading
from typing import Any

import pytest
from botocore.config import Config

from localcloud.auth import signed_headers_for
from localcloud.dispatch import NonBlockingDispatcher
from localcloud.server import HEALTH_PATH
from localcloud.testing import RunningCloud

# Generous: each call below answers in milliseconds once nothing holds it up; a blocked call
# never answers at all, so the deadline only bounds how long a failing run takes.
DEADLINE_S = 30.0
SIGNED = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/{}/aws4_request, Signature=x"


class _BodyNeverArrives:
    """A wsgi.input whose client sent headers and is still sending the body."""

    def __init__(self) -> None:
        self.reading = threading.Event()
        self.release = threading.Event()

    def read(self, size: int = -1) -> bytes:
        self.reading.set()
        self.release.wait(DEADLINE_S * 2)
        return b"Action=GetCallerIdentity"[: max(size, 0)]


def _unsigned_form(stream: _BodyNeverArrives) -> dict[str, Any]:
    return {
        "PATH_INFO": "/",
        "REQUEST_METHOD": "POST",
        "HTTP_HOST": "127.0.0.1",
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": "24",
        "wsgi.input": stream,
    }


def _signed(service: str, path: str) -> dict[str, Any]:
    return {
        "PATH_INFO": path,
        "REQUEST_METHOD": "GET",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_AUTHORIZATION": SIGNED.format(service),
    }


def test_moto_dispatcher_still_has_what_we_override() -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    source = inspect.getsource(DomainDispatcherApplication.get_application)
    assert "with self.lock:" in source and "infer_service_region_host" in source
    assert "_get_body" in inspect.getsource(DomainDispatcherApplication.infer_service_region_host)


def test_a_slow_body_holds_up_only_its_own_request() -> None:
    built: list[str] = []
    dispatcher = NonBlockingDispatcher(lambda service: built.append(service) or f"app:{service}")
    stream = _BodyNeverArrives()
    slow = threading.Thread(target=dispatcher.get_application, args=(_unsigned_form(stream),))
    slow.start()
    try:
        assert stream.reading.wait(DEADLINE_S), "the unsigned request never read its body"
        answers: list[Any] = []
        other = threading.Thread(
            target=lambda: answers.append(
                dispatcher.get_application(_signed("lambda", "/2015-03-31/functions"))
            )
        )
        other.start()
        other.join(DEADLINE_S)
        # With moto's dispatcher this request waits for the lock the slow one holds.
        assert answers == ["app:awslambda"], "a signed request waited for another one's body"
    finally:
        stream.release.set()
        slow.join(DEADLINE_S)
    assert built.count("awslambda") == 1


def test_an_app_is_built_once_while_other_services_answer() -> None:
    gate, building = threading.Event(), threading.Event()

    def create_app(service: str) -> str:
        if service == "awslambda":
            building.set()
            gate.wait(DEADLINE_S * 2)
        return f"app:{service}"

    dispatcher = NonBlockingDispatcher(create_app)
    results: list[Any] = []
    lambda_calls = [
        threading.Thread(
            target=lambda: results.append(
                dispatcher.get_application(_signed("lambda", "/2015-03-31/functions"))
            )
        )
        for _ in range(2)
    ]
    for thread in lambda_calls:
        thread.start()
    try:
        assert building.wait(DEADLINE_S)
        sns: list[Any] = []
        other = threading.Thread(
            target=lambda: sns.append(dispatcher.get_application(_signed("sns", "/")))
        )
        other.start()
        other.join(DEADLINE_S)
        assert sns == ["app:sns"], "a request to sns waited for the lambda app to be built"
    finally:
        gate.set()
        for thread in lambda_calls:
            thread.join(DEADLINE_S)
    assert results == ["app:awslambda", "app:awslambda"]


@pytest.mark.timeout(120)
def test_server_answers_while_a_client_is_still_sending_its_body(
    local_cloud: RunningCloud,
) -> None:
    """The issue's symptom end to end: one stalled client must leave every other one answered.

    Through the front door the stalled body is read before moto's dispatcher (to check its
    hash), so this proves the whole server's property; the tests above prove the dispatcher's.
    """
    lambdas = local_cloud.client(
        "lambda", config=Config(read_timeout=10, retries={"max_attempts": 1})
    )
    lambdas.list_functions()  # the lambda app exists: this measures the lock, not start-up
    with socket.create_connection(("127.0.0.1", local_cloud.port), timeout=DEADLINE_S) as stalled:
        # Signed, so the front door lets it in and starts reading its body (to check the hash).
        body = b"Action=GetCallerIdentity&Version=2011-06-15"
        headers = signed_headers_for(
            "POST",
            f"{local_cloud.endpoint_url}/",
            local_cloud.credentials,
            body,
            {"Content-Type": "application/x-www-form-urlencoded"},
            service="sts",
        )
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        stalled.sendall(
            f"POST / HTTP/1.1\r\n{head}Content-Length: {len(body)}\r\n\r\n".encode()
            + body[:24]  # the rest is still on its way
        )
        # The server accepts connections in order, so once the health URL (answered before
        # moto's dispatcher) replies, the stalled request has its own thread reading its body.
        assert local_cloud.request(HEALTH_PATH)[0] == 200
        # With moto's dispatcher these raise ReadTimeoutError: its lock is held by that read.
        for _ in range(3):
            assert "Functions" in lambdas.list_functions()


HOSTS = (
    None,
    "moto_api",
    "s3",
    "awslambda",
    "lambda.us-east-1.amazonaws.com",
    "states.us-east-1.amazonaws.com",
    "bucket.s3.amazonaws.com",
    "runtime.sagemaker.us-east-1.amazonaws.com",
    "127.0.0.1",
)


def test_the_backend_of_each_host_is_moto_s() -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    ours = NonBlockingDispatcher(lambda service: f"app:{service}")
    moto_s = DomainDispatcherApplication(lambda service: f"app:{service}")
    for host in HOSTS:
        assert ours.get_backend_for_host(host) == moto_s.get_backend_for_host(host), host


def test_moto_s_modules_are_listed_once_not_per_request(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto import backends

    dispatcher = NonBlockingDispatcher(lambda service: f"app:{service}")
    listed: list[int] = []
    original = backends.list_of_moto_modules

    def counted() -> Any:
        listed.append(1)
        return original()

    monkeypatch.setattr(backends, "list_of_moto_modules", counted)
    for _ in range(5):
        assert dispatcher.get_backend_for_host("s3") == "s3"
        dispatcher.get_application(_signed("lambda", "/2015-03-31/functions"))
    assert listed == []
