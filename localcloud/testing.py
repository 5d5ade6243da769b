"""Start a throwaway local cloud for a test or a benchmark, and always stop it."""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localcloud import auth, control, credentials

REGION = "us-east-1"


@dataclass(frozen=True)
class RunningCloud:
    endpoint_url: str
    port: int
    pid: int
    state_dir: Path
    credentials: credentials.Credentials

    @classmethod
    def attach(cls, port: int, state_root: Path, pid: int = 0) -> RunningCloud:
        """The server already running on port under state_root, with the key it issued."""
        key = control.issued_credentials(port, state_root)
        return cls(control.endpoint_url(port), port, pid, state_root / str(port), key)

    @property
    def log_file(self) -> Path:
        return self.state_dir / "server.log"

    @property
    def state_root(self) -> Path:
        return self.state_dir.parent

    def client(self, service: str, **kwargs: Any) -> Any:
        """A boto3 client for this server, signed with the key it issued."""
        import boto3

        return boto3.session.Session().client(
            service,
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id=self.credentials.access_key_id,
            aws_secret_access_key=self.credentials.secret_access_key,
            **kwargs,
        )

    def env(self) -> dict[str, str]:
        """Environment variables that point a subprocess's AWS SDK, CLI and tools here.

        The same values `python -m localcloud env` prints, which LOCAL_CLOUD_HOME and
        LOCAL_CLOUD_PORT let a subprocess (scripts/tf.sh, make) find for itself.
        """
        return {
            **control.aws_env(self.port, self.state_root),
            "LOCAL_CLOUD_HOME": str(self.state_root),
            "LOCAL_CLOUD_PORT": str(self.port),
        }

    def request(
        self,
        path: str,
        method: str = "GET",
        body: bytes = b"",
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        """(status, body) of a signed request to one of the server's own URLs (moto-api)."""
        return auth.signed_request(
            self.endpoint_url + path, self.credentials, method, body, headers
        )


@contextlib.contextmanager
def running_local_cloud(
    port: int | None = None, state_root: Path | None = None, timeout: float = 60.0
) -> Iterator[RunningCloud]:
    """A real server subprocess (as `localcloud up` starts it), stopped on exit even on errors.

    Without a port a free one is picked; without a state root a temporary one is used and
    removed afterwards, so tests never touch the developer's own `.localcloud/`.
    """
    with contextlib.ExitStack() as stack:
        if state_root is None:
            state_root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="lc-")))
        port = port or control.free_port()
        pid, process = control.start(port, state_root=state_root, timeout=timeout)
        try:
            yield RunningCloud.attach(port, state_root, pid)
        finally:
            control.stop(port, state_root=state_root)
            if process is not None:
                process.wait(timeout=30)  # reap it: we are its parent


def zip_of(files: dict[str, str]) -> bytes:
    """A deployment package holding these files."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def create_function(cloud: RunningCloud, role: str, name: str, source: str, **options: Any) -> str:
    """Deploy `source` as handler.py of a python3.12 function; returns the function ARN."""
    response = cloud.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="handler.lambda_handler",
        Code={"ZipFile": zip_of({"handler.py": source})},
        **options,
    )
    arn: str = response["FunctionArn"]
    return arn


def invoke(cloud: RunningCloud, name: str, event: Any = None) -> tuple[Any, str | None]:
    """(decoded payload, FunctionError) of a synchronous invocation."""
    response = cloud.client("lambda").invoke(
        FunctionName=name, Payload=json.dumps(event or {}).encode()
    )
    return json.loads(response["Payload"].read()), response.get("FunctionError")
