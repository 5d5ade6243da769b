"""Where capture lines come from: a local folder or an S3 prefix, streamed one line at a time."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from scripts.monitor.errors import MonitorError


@dataclass(frozen=True, slots=True)
class Line:
    """One raw line and where it was read (file and 1-based line number), for error reports."""

    where: str
    number: int
    data: bytes

    @property
    def location(self) -> str:
        return f"{self.where}:{self.number}"


class CaptureSource(Protocol):
    description: str

    def lines(self) -> Iterator[Line]: ...

    def file_count(self) -> int: ...


class DirectorySource:
    """Every *.jsonl under a folder (a copy of a capture prefix), in path order."""

    def __init__(self, root: Path) -> None:
        if not root.is_dir():
            raise MonitorError(
                f"--capture-dir {root} is not a folder; copy the capture files there first "
                "(aws s3 sync s3://<bucket>/<prefix>/<endpoint>/ DIR)"
            )
        self.root = root
        self.description = str(root)
        self._files = 0

    def lines(self) -> Iterator[Line]:
        self._files = 0
        for path in sorted(self.root.rglob("*.jsonl")):
            self._files += 1
            with path.open("rb") as lines:
                for number, data in enumerate(lines, start=1):
                    yield Line(str(path), number, data)

    def file_count(self) -> int:
        return self._files


class S3Source:
    """Every *.jsonl under s3://bucket/prefix, listed page by page and read as a stream."""

    def __init__(self, s3: Any, bucket: str, prefix: str) -> None:
        self.s3, self.bucket = s3, bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.description = f"s3://{bucket}/{self.prefix}"
        self._files = 0

    def lines(self) -> Iterator[Line]:
        self._files = 0
        for key in self._keys():
            self._files += 1
            body = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"]
            try:
                # iter_lines drops the newline and never holds more than a chunk and a line.
                for number, data in enumerate(body.iter_lines(), start=1):
                    yield Line(f"s3://{self.bucket}/{key}", number, data)
            finally:
                body.close()

    def file_count(self) -> int:
        return self._files

    def _keys(self) -> Iterator[str]:
        from botocore.exceptions import BotoCoreError, ClientError

        paginator = self.s3.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
                for item in page.get("Contents", []):
                    if item["Key"].endswith(".jsonl"):
                        yield item["Key"]
        except ClientError as error:
            raise MonitorError(
                f"cannot list {self.description} ({error}); check the bucket exists "
                "(make apply ENV=...) and that your credentials may s3:ListBucket on it"
            ) from None
        except BotoCoreError as error:
            raise MonitorError(
                f"cannot reach S3 for {self.description} ({error}); for ENV=local start the "
                "local cloud (make local-up), elsewhere check AWS_ENDPOINT_URL and credentials"
            ) from None
