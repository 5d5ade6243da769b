"""The local cloud's front door: issued key only, loopback Host only, no CORS, on every protocol."""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import stat
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials
from botocore.exceptions import ClientError

from localcloud import control, credentials
from localcloud.server import NotLoopbackError, serve
from localcloud.testing import REGION, RunningCloud

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
BUCKET = "front-door-bucket"


def foreign_client(cloud: RunningCloud, service: str, key_id: str, secret: str) -> Any:
    return boto3.session.Session().client(
        service,
        endpoint_url=cloud.endpoint_url,
        region_name=REGION,
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
    )


def raw(
    cloud: RunningCloud,
    method: str,
    path: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> http.client.HTTPResponse:
    """Send exactly these bytes and headers (http.client adds only Content-Length)."""
    connection = http.client.HTTPConnection("127.0.0.1", cloud.port, timeout=10)
    connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    sent = {"Host": f"127.0.0.1:{cloud.port}", **(headers or {})}
    for name, value in sent.items():
        connection.putheader(name, value)
    connection.putheader("Content-Length", str(len(body)))
    connection.endheaders(body)
    response = connection.getresponse()
    response.read()  # type: ignore[unused-ignore]
    return response


def signed(
    cloud: RunningCloud,
    method: str,
    path: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    service: str = "s3",
    host: str | None = None,
    key: tuple[str, str] | None = None,
    when: dt.datetime | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """A request signed by botocore's SigV4 for `host` (default: the cloud's), sent to the cloud."""
    host = host or f"127.0.0.1:{cloud.port}"
    request = AWSRequest(
        method=method, url=f"http://{host}{path}", data=body, headers=dict(headers or {})
    )
    request.headers["Host"] = host
    key_id, secret = key or (cloud.credentials.access_key_id, cloud.credentials.secret_access_key)
    signer = SigV4Auth(BotoCredentials(key_id, secret), service, REGION)
    if when is not None:
        request.context["timestamp"] = when.strftime("%Y%m%dT%H%M%SZ")
        signer._modify_request_before_signing(request)  # sets X-Amz-Date from the timestamp
        request.headers.replace_header("X-Amz-Date", request.context["timestamp"])
        canonical = signer.canonical_request(request)
        string = signer.string_to_sign(request, canonical)
        signature = signer.signature(string, request)
        signer._inject_signature_to_request(request, signature)
    else:
        signer.add_auth(request)
    connection = http.client.HTTPConnection("127.0.0.1", cloud.port, timeout=10)
    connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    for name, value in request.headers.items():
        connection.putheader(name, value)
    connection.putheader("Content-Length", str(len(body)))
    connection.endheaders(body)
    response = connection.getresponse()
    return response.status, dict(response.getheaders()), response.read()


def buckets(cloud: RunningCloud) -> list[str]:
    return [bucket["Name"] for bucket in cloud.client("s3").list_buckets()["Buckets"]]


def log_groups(cloud: RunningCloud, name: str) -> list[Any]:
    found: list[Any] = cloud.client("logs").describe_log_groups(logGroupNamePrefix=name)[
        "logGroups"
    ]
    return found


@pytest.fixture
def bucket(local_cloud: RunningCloud) -> str:
    s3 = local_cloud.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    yield BUCKET
    for item in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        s3.delete_object(Bucket=BUCKET, Key=item["Key"])
    s3.delete_bucket(Bucket=BUCKET)


# -- who may call ----------------------------------------------------------------------------

# (service, a call that would change something, how to see whether it did, expected codes for
# unknown key / wrong secret). One of each protocol family botocore speaks to the local cloud.
CALLS = {
    "s3 (rest-xml)": (
        "s3",
        lambda c: c.create_bucket(Bucket="refused-bucket"),
        lambda ok: [
            b["Name"] for b in ok.list_buckets()["Buckets"] if b["Name"] == "refused-bucket"
        ],
        ("InvalidAccessKeyId", "SignatureDoesNotMatch"),
    ),
    "iam (query)": (
        "iam",
        lambda c: c.create_user(UserName="refused-user"),
        lambda ok: [u for u in ok.list_users()["Users"] if u["UserName"] == "refused-user"],
        ("InvalidClientTokenId", "SignatureDoesNotMatch"),
    ),
    "logs (json)": (
        "logs",
        lambda c: c.create_log_group(logGroupName="refused-group"),
        lambda ok: ok.describe_log_groups(logGroupNamePrefix="refused-group")["logGroups"],
        ("UnrecognizedClientException", "InvalidSignatureException"),
    ),
    "lambda (rest-json)": (
        "lambda",
        lambda c: c.put_function_concurrency(
            FunctionName="nothing", ReservedConcurrentExecutions=1
        ),
        lambda ok: [],
        ("UnrecognizedClientException", "InvalidSignatureException"),
    ),
    "cloudwatch (rpc-v2-cbor)": (
        "cloudwatch",
        lambda c: c.put_metric_alarm(
            AlarmName="refused-alarm",
            MetricName="Errors",
            Namespace="Scones",
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanThreshold",
        ),
        lambda ok: ok.describe_alarms(AlarmNames=["refused-alarm"])["MetricAlarms"],
        ("UnrecognizedClientException", "InvalidSignatureException"),
    ),
}


@pytest.mark.parametrize("name", sorted(CALLS))
@pytest.mark.parametrize("which", ["the usual test/test", "our key id, another secret"])
def test_other_keys_get_aws_errors_and_change_nothing(
    local_cloud: RunningCloud, name: str, which: str
) -> None:
    service, call, effect, (unknown_code, mismatch_code) = CALLS[name]
    if which == "the usual test/test":
        client, code = foreign_client(local_cloud, service, "test", "test"), unknown_code
    else:
        key_id = local_cloud.credentials.access_key_id
        client, code = foreign_client(local_cloud, service, key_id, "x" * 40), mismatch_code
    with pytest.raises(ClientError) as refused:
        call(client)
    assert refused.value.response["Error"]["Code"] == code
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert effect(local_cloud.client(service)) == []


@pytest.mark.parametrize(
    ("path", "headers", "body", "shape"),
    [
        ("/refused-bucket", {}, b"", b"<Code>AccessDenied</Code>"),
        (
            "/",
            {"Content-Type": "application/x-www-form-urlencoded"},
            b"Action=CreateUser&UserName=refused-user&Version=2010-05-08",
            b"<Code>MissingAuthenticationToken</Code>",
        ),
        (
            "/",
            {
                "Content-Type": "application/x-amz-json-1.1",
                "X-Amz-Target": "Logs_20140328.CreateLogGroup",
            },
            b'{"logGroupName": "refused-group"}',
            b'"__type": "MissingAuthenticationTokenException"',
        ),
        ("/2015-03-31/functions/", {}, b"", b'"__type": "MissingAuthenticationTokenException"'),
    ],
    ids=["s3", "query", "json", "rest-json"],
)
def test_unsigned_requests_are_refused_in_each_protocol(
    local_cloud: RunningCloud, path: str, headers: dict[str, str], body: bytes, shape: bytes
) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", local_cloud.port, timeout=10)
    connection.request("PUT" if path == "/refused-bucket" else "POST", path, body, headers)
    response = connection.getresponse()
    answer = response.read()
    assert response.status == 403
    assert shape in answer
    assert "refused-bucket" not in buckets(local_cloud)
    users = local_cloud.client("iam").list_users()["Users"]
    assert "refused-user" not in [user["UserName"] for user in users]
    assert log_groups(local_cloud, "refused-group") == []


def test_a_signature_outside_fifteen_minutes_is_refused(local_cloud: RunningCloud) -> None:
    stale = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=16)
    status, _, body = signed(local_cloud, "PUT", "/stale-bucket", when=stale)
    assert status == 403 and b"<Code>RequestTimeTooSkewed</Code>" in body
    fresh = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    status, _, body = signed(local_cloud, "GET", "/", when=fresh)
    assert status == 200, body
    assert "stale-bucket" not in buckets(local_cloud)


def test_a_tampered_body_fails_its_signature(local_cloud: RunningCloud) -> None:
    request = AWSRequest(
        method="POST",
        url=f"{local_cloud.endpoint_url}/",
        data=b'{"logGroupName": "signed-group"}',
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "Logs_20140328.CreateLogGroup",
        },
    )
    key = local_cloud.credentials
    SigV4Auth(BotoCredentials(key.access_key_id, key.secret_access_key), "logs", REGION).add_auth(
        request
    )
    headers = dict(request.headers.items())
    response = raw(local_cloud, "POST", "/", b'{"logGroupName": "evil-group"}', headers)
    assert response.status == 403
    assert log_groups(local_cloud, "evil-group") == log_groups(local_cloud, "signed-group") == []


def test_presigned_urls_work_and_expire(local_cloud: RunningCloud, bucket: str) -> None:
    from botocore.config import Config

    legacy = local_cloud.client("s3").generate_presigned_url(  # boto3's default: SigV2
        "get_object", Params={"Bucket": bucket, "Key": "shared.txt"}
    )
    connection = http.client.HTTPConnection("127.0.0.1", local_cloud.port, timeout=10)
    connection.request("GET", legacy.split(str(local_cloud.port), 1)[1])
    response = connection.getresponse()
    assert response.status == 403 and b"Signature Version 2 is not accepted" in response.read()

    s3 = local_cloud.client("s3", config=Config(signature_version="s3v4"))
    s3.put_object(Bucket=bucket, Key="shared.txt", Body=b"hello")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "shared.txt"})
    path = url.split(str(local_cloud.port), 1)[1]
    connection.request("GET", path, headers={"Host": f"127.0.0.1:{local_cloud.port}"})
    response = connection.getresponse()
    assert (response.status, response.read()) == (200, b"hello")

    expired = s3.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "shared.txt"}, ExpiresIn=-1
    )
    connection.request("GET", expired.split(str(local_cloud.port), 1)[1])
    response = connection.getresponse()
    assert response.status == 403 and b"RequestTimeTooSkewed" in response.read()


# -- S3 uploads ------------------------------------------------------------------------------


def test_s3_uploads_of_every_size_and_key_spelling(local_cloud: RunningCloud, bucket: str) -> None:
    s3 = local_cloud.client("s3")
    keys = {"plain.png": b"p" * 10, "with space+plus/ünï©ødé.png": b"u" * 1000}
    for key, body in keys.items():
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    big = os.urandom(9 * 1024 * 1024)  # past boto3's 8 MiB threshold: a multipart upload
    import io

    s3.upload_fileobj(io.BytesIO(big), bucket, "big.bin")
    for key, body in {**keys, "big.bin": big}.items():
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == body


def _aws_chunked(body: bytes) -> bytes:
    """body as one aws-chunked chunk, a terminating chunk and a CRC32 trailer."""
    checksum = zlib.crc32(body).to_bytes(4, "big")
    import base64

    trailer = f"x-amz-checksum-crc32:{base64.b64encode(checksum).decode()}\r\n"
    return f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n" + trailer.encode() + b"\r\n"


def test_a_streaming_upload_with_a_trailer_is_accepted(
    local_cloud: RunningCloud, bucket: str
) -> None:
    # What SDKs send for a streaming PutObject with a flexible checksum: the signature covers
    # the headers, with the literal STREAMING-UNSIGNED-PAYLOAD-TRAILER for the body's hash.
    body = b"streamed image bytes" * 100
    headers = {
        "X-Amz-Content-SHA256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "Content-Encoding": "aws-chunked",
        "X-Amz-Decoded-Content-Length": str(len(body)),
        "X-Amz-Trailer": "x-amz-checksum-crc32",
    }
    status, _, answer = signed(
        local_cloud, "PUT", f"/{bucket}/streamed.bin", _aws_chunked(body), headers
    )
    assert status == 200, answer
    stored = local_cloud.client("s3").get_object(Bucket=bucket, Key="streamed.bin")
    assert stored["Body"].read() == body


# -- where requests may come from ------------------------------------------------------------


@pytest.mark.parametrize(
    "host", ["evil.example:{port}", "127.0.0.1:1", "localhost", "scones.127.0.0.1.nip.io:{port}"]
)
def test_a_foreign_host_header_is_refused_even_when_signed(
    local_cloud: RunningCloud, host: str
) -> None:
    # A DNS-rebinding page reaches 127.0.0.1 under its own name; a signature does not help it.
    host = host.format(port=local_cloud.port)
    status, _, body = signed(local_cloud, "PUT", "/rebound-bucket", host=host)
    assert status == 403 and b"<Code>AccessDenied</Code>" in body
    assert "rebound-bucket" not in buckets(local_cloud)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]"])
def test_each_loopback_name_is_accepted(local_cloud: RunningCloud, host: str) -> None:
    status, _, body = signed(local_cloud, "GET", "/", host=f"{host}:{local_cloud.port}")
    assert status == 200, body


def test_no_cross_origin_headers_on_any_answer(local_cloud: RunningCloud) -> None:
    origin = {"Origin": "https://evil.example"}
    status, headers, _ = signed(local_cloud, "GET", "/", headers=origin)
    assert status == 200
    preflight = raw(
        local_cloud,
        "OPTIONS",
        "/",
        headers={**origin, "Access-Control-Request-Method": "POST"},
    )
    for answer in (headers, dict(preflight.getheaders())):
        assert not [name for name in answer if name.lower().startswith("access-control-")]
    assert preflight.status == 403


def test_the_server_refuses_to_listen_beyond_loopback(tmp_path: Path) -> None:
    for host in ("0.0.0.0", "192.168.1.10", "::", "example.com"):
        with pytest.raises(NotLoopbackError, match="loopback only"):
            serve(control.free_port(), tmp_path / "state", host=host)
    assert not (tmp_path / "state").exists()


def test_the_log_says_it_listens_on_loopback_only(local_cloud: RunningCloud) -> None:
    log = local_cloud.log_file.read_text()
    assert f"serving on http://127.0.0.1:{local_cloud.port}" in log
    assert "loopback only" in log
    assert local_cloud.credentials.secret_access_key not in log


# -- the issued key ----------------------------------------------------------------------------


def test_the_key_file_is_the_users_alone_and_new_at_every_start(local_cloud: RunningCloud) -> None:
    path = credentials.path_in(local_cloud.state_dir)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(local_cloud.state_dir.stat().st_mode) == 0o700
    record = json.loads(path.read_text())
    assert record["aws_access_key_id"] == local_cloud.credentials.access_key_id
    assert len(record["aws_secret_access_key"]) >= 40
    assert local_cloud.credentials.access_key_id != "test"


def test_a_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "credentials.json"
    credentials.write(path, credentials.Credentials.issue())
    path.chmod(0o644)
    with pytest.raises(credentials.CredentialsFileError, match="readable by other users"):
        credentials.read(path)


def test_env_prints_exports_a_shell_and_the_sdk_can_use(local_cloud: RunningCloud) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        "LOCAL_CLOUD_HOME": str(local_cloud.state_root),
        # A stale real session token in the shell must not leak into local calls.
        "AWS_SESSION_TOKEN": "a-real-accounts-token",
        "AWS_ACCESS_KEY_ID": "AKIAREALACCOUNTKEY00",
    }
    printed = subprocess.run(
        [sys.executable, "-m", "localcloud", "env", "--port", str(local_cloud.port)],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    names = [line.split("=", 1)[0].removeprefix("export ") for line in printed.splitlines()[1:]]
    assert set(names) >= {
        "AWS_ENDPOINT_URL",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_DEFAULT_REGION",
    }
    assert all(line.startswith("export ") for line in printed.splitlines()[1:])
    script = (
        'eval "$(python -m localcloud env --port $PORT)" && python -c '
        '\'import boto3; print(len(boto3.client("s3").list_buckets()["Buckets"]))\''
    )
    used = subprocess.run(
        ["bash", "-c", script],
        env={
            **env,
            "PORT": str(local_cloud.port),
            "PATH": f"{Path(sys.executable).parent}:{env['PATH']}",
        },
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert used.returncode == 0, used.stderr
    assert int(used.stdout) == len(buckets(local_cloud))


def test_env_without_a_running_cloud_is_a_clear_error(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "localcloud", "env", "--port", str(control.free_port())],
        env={**os.environ, "LOCAL_CLOUD_HOME": str(tmp_path)},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert "make local-up" in done.stderr and "Traceback" not in done.stderr
