"""Where the report's records come from, streamed: the endpoint's data capture (a local folder
or an S3 prefix, one line at a time), or the workflow's results table (one item at a time)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from scripts.monitor.errors import MalformedRecordError, MonitorError
from scripts.monitor.joins import Outcome, OutcomeStats
from scripts.monitor.records import CaptureRecord, parse_line, parse_time, probabilities_of


@dataclass(frozen=True, slots=True)
class Line:
    """One raw line and where it was read (file and 1-based line number), for error reports."""

    where: str
    number: int
    data: bytes

    @property
    def location(self) -> str:
        return f"{self.where}:{self.number}"


# Where one record was read, and the record or why it cannot be used.
Entry = tuple[str, CaptureRecord | MalformedRecordError]


class Source(Protocol):
    description: str
    kind: str  # "capture" or "results": what the report says it read

    def entries(self) -> Iterator[Entry]: ...

    def file_count(self) -> int: ...


def parse_lines(lines: Iterable[Line]) -> Iterator[Entry]:
    """Each capture line's record, or the reason it is malformed; blank lines are no record."""
    for line in lines:
        if not line.data.strip():
            continue  # a trailing blank line is not a record
        try:
            yield line.location, parse_line(line.data)
        except MalformedRecordError as error:
            yield line.location, error


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
        self.kind = "capture"
        self._files = 0

    def entries(self) -> Iterator[Entry]:
        return parse_lines(self.lines())

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
        self.kind = "capture"
        self._files = 0

    def entries(self) -> Iterator[Entry]:
        return parse_lines(self.lines())

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


class ResultsSource:
    """Every item of the workflow's results table (issue 12), read through its status GSI.

    A classified or needs_review item is one record: its inferences, label and finished_at (as
    the inference time; no image is kept there, so the report has no thumbnails). Every item,
    failed ones too, is one outcome in `outcomes`, filled as the items are read: the report's
    share of executions that failed and why. For an endpoint without data capture (serverless).
    """

    def __init__(self, dynamodb: Any, table: str, page_size: int | None = None) -> None:
        from scripts.results import DEFAULT_PAGE_SIZE

        self.dynamodb, self.table = dynamodb, table
        self.page_size = page_size or DEFAULT_PAGE_SIZE
        self.description = f"DynamoDB table {table}"
        self.kind = "results"
        self.outcomes = OutcomeStats(source=f"results table {table}")
        self._pages = 0

    def entries(self) -> Iterator[Entry]:
        from scripts.results import STATUSES, ResultsError, query_status

        # Emptied in place: the report holds this object and writes it after the read.
        self.outcomes.statuses.clear()
        self.outcomes.errors.clear()
        self.outcomes.causes.clear()
        try:
            for status in STATUSES:
                for item in query_status(self.dynamodb, self.table, status, None, self.page_size):
                    self.outcomes.add(result_outcome(item))
                    if status == "failed":
                        continue  # no inference to report: an outcome only
                    where = f"dynamodb://{self.table}/{item.get('s3_key')}@{item.get('version')}"
                    try:
                        yield where, result_record(item)
                    except MalformedRecordError as error:
                        yield where, error
        except ResultsError as error:
            raise MonitorError(str(error)) from None

    def file_count(self) -> int:
        return 0  # a table has no files; the report does not show this count for results


def result_record(item: dict[str, Any]) -> CaptureRecord:
    """The inference an item of the results table records, as a capture record would have it."""
    text = item.get("inferences")
    if not isinstance(text, str):
        raise MalformedRecordError("inferences is missing")
    try:
        values = json.loads(text)
    except ValueError:
        raise MalformedRecordError(f"inferences is not JSON: {text[:60]!r}") from None
    probabilities = probabilities_of(values, "inferences")
    return CaptureRecord(
        time=parse_time(item.get("finished_at"), "finished_at"),
        probabilities=probabilities,
        label_index=probabilities.index(max(probabilities)),
        input_base64=None,
        event_id=None,
        inference_id=None,
    )


def result_outcome(item: dict[str, Any]) -> Outcome:
    confidence = item.get("confidence")
    return Outcome(
        status=str(item.get("status")),
        key=_str(item.get("s3_key")),
        label=_str(item.get("label")),
        confidence=float(confidence) if confidence is not None else None,
        error=_str(item.get("error")),
        cause=_str(item.get("cause")),
        execution_arn=_str(item.get("execution_arn")),
    )


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
