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

from localcloud import control

REGION = "us-east-1"


@dataclass(frozen=True)
class RunningCloud:
    endpoint_url: str
    port: int
    pid: int
    state_dir: Path

    @property
    def log_file(self) -> Path:
        return self.state_dir / "server.log"

    def client(self, service: str, **kwargs: Any) -> Any:
        """A boto3 client for this server, with the dummy credentials it accepts."""
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id="test",
            aws_secret_access_key="test",
            **kwargs,
        )

    def env(self) -> dict[str, str]:
        """Environment variables that point a subprocess's AWS SDK and CLI here."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_DEFAULT_REGION": REGION,
        }


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
            yield RunningCloud(control.endpoint_url(port), port, pid, state_root / str(port))
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
