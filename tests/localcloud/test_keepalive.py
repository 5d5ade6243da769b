"""One connection serves request after request, bodies read or not (localcloud.keepalive)."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator

import pytest

from localcloud.auth import signed_headers_for
from localcloud.server import HEALTH_PATH
from localcloud.testing import RunningCloud

UNREAD = b"x" * 70_000  # more than one socket read: the guard refuses it without reading it


@pytest.fixture
def connection(local_cloud: RunningCloud) -> Iterator[http.client.HTTPConnection]:
    connection = http.client.HTTPConnection("127.0.0.1", local_cloud.port, timeout=10)
    connection.connect()
    yield connection
    connection.close()


def health(cloud: RunningCloud, connection: http.client.HTTPConnection) -> http.client.HTTPResponse:
    url = cloud.endpoint_url + HEALTH_PATH
    connection.request(
        "GET", HEALTH_PATH, headers=signed_headers_for("GET", url, cloud.credentials)
    )
    return connection.getresponse()


def test_requests_share_one_connection(
    local_cloud: RunningCloud, connection: http.client.HTTPConnection
) -> None:
    first_socket = connection.sock
    for _ in range(3):
        response = health(local_cloud, connection)
        assert response.status == 200
        assert json.loads(response.read())["status"] == "running"
        assert response.getheader("Connection") != "close"
    assert connection.sock is first_socket


def test_a_body_left_unread_does_not_reach_the_next_request(
    local_cloud: RunningCloud, connection: http.client.HTTPConnection
) -> None:
    first_socket = connection.sock
    connection.request(
        "POST", "/", UNREAD, {"Content-Type": "application/x-amz-json-1.0"}
    )  # unsigned: refused before its body is read
    refused = connection.getresponse()
    refused.read()
    assert refused.status == 403
    response = health(local_cloud, connection)
    assert response.status == 200, response.read()
    assert json.loads(response.read())["status"] == "running"
    assert connection.sock is first_socket


@pytest.mark.parametrize(
    "headers",
    [{"Connection": "close"}, {"Transfer-Encoding": "chunked"}],
    ids=["client-asks-close", "chunked-body"],
)
def test_the_connection_closes_when_asked_or_when_the_body_is_chunked(
    local_cloud: RunningCloud, connection: http.client.HTTPConnection, headers: dict[str, str]
) -> None:
    body = b"5\r\nhello\r\n0\r\n\r\n" if "Transfer-Encoding" in headers else None
    connection.putrequest("POST" if body else "GET", HEALTH_PATH)
    url = local_cloud.endpoint_url + HEALTH_PATH
    for name, value in {
        **signed_headers_for("POST" if body else "GET", url, local_cloud.credentials),
        **headers,
    }.items():
        connection.putheader(name, value)
    connection.endheaders(body)
    response = connection.getresponse()
    response.read()  # an answer (the chunked one is refused: signed for no body), then EOF
    # Either the answer said so (http.client drops its socket) or the socket is at its end.
    assert connection.sock is None or connection.sock.recv(1) == b""
