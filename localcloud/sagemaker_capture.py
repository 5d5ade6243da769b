"""Endpoint data capture: sampled request/response records, batched into S3 as AWS lays them out."""

from __future__ import annotations

import base64
import json
import logging
import random
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from localcloud import sagemaker_moto

# AWS batches capture records per minute or so; we flush sooner so tests and the monitoring
# report see data quickly, and at once when a buffer fills, an endpoint goes, or the server stops.
FLUSH_SECONDS = 2.0
FLUSH_RECORDS = 100


@dataclass
class CaptureConfig:
    """An endpoint config's DataCaptureConfig, ready to decide and encode."""

    endpoint: str
    bucket: str
    prefix: str
    percentage: int
    capture_input: bool
    capture_output: bool
    json_types: frozenset[str]
    csv_types: frozenset[str]
    # Seeded per endpoint: which requests are sampled is the same on every run.
    rng: random.Random
    lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_api(cls, config: dict[str, Any] | None, endpoint: str) -> CaptureConfig | None:
        if not config or not config.get("EnableCapture", True):
            return None
        uri = config.get("DestinationS3Uri", "")
        bucket, prefix = sagemaker_moto.parse_s3_uri(uri)
        modes = {o.get("CaptureMode") for o in config.get("CaptureOptions") or []}
        header = config.get("CaptureContentTypeHeader") or {}
        return cls(
            endpoint=endpoint,
            bucket=bucket,
            prefix=prefix.strip("/"),
            percentage=int(config.get("InitialSamplingPercentage", 0)),
            capture_input="Input" in modes or not modes,
            capture_output="Output" in modes or not modes,
            json_types=frozenset(header.get("JsonContentTypes") or ()),
            csv_types=frozenset(header.get("CsvContentTypes") or ()),
            rng=random.Random(f"capture/{endpoint}"),
        )

    def sampled(self) -> bool:
        if self.percentage >= 100:
            return True
        with self.lock:
            return self.rng.random() * 100 < self.percentage

    def encode(self, data: bytes, content_type: str, mode: str) -> dict[str, str]:
        """CaptureContentTypeHeader decides: listed JSON/CSV types as text, the rest base64."""
        base = content_type.split(";", 1)[0].strip()
        if base in self.json_types or base in self.csv_types:
            encoding = "JSON" if base in self.json_types else "CSV"
            text = data.decode("utf-8", errors="replace")
            return {
                "observedContentType": content_type,
                "mode": mode,
                "data": text,
                "encoding": encoding,
            }
        return {
            "observedContentType": content_type,
            "mode": mode,
            "data": base64.b64encode(data).decode("ascii"),
            "encoding": "BASE64",
        }

    def record(
        self,
        body: bytes,
        content_type: str,
        output: bytes,
        output_type: str,
        when: datetime,
        inference_id: str | None,
    ) -> dict[str, Any]:
        capture: dict[str, Any] = {}
        if self.capture_input:
            capture["endpointInput"] = self.encode(body, content_type, "INPUT")
        if self.capture_output:
            capture["endpointOutput"] = self.encode(output, output_type, "OUTPUT")
        metadata = {
            "eventId": str(uuid.uuid4()),
            "inferenceTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        if inference_id:
            metadata["inferenceId"] = inference_id
        return {"captureData": capture, "eventMetadata": metadata, "eventVersion": "0"}


@dataclass(frozen=True)
class _Destination:
    account_id: str
    region: str
    bucket: str
    folder: str  # <prefix>/<endpoint>/<variant>
    endpoint: str


class CaptureWriter:
    """Buffers records per endpoint variant; a daemon thread writes them every FLUSH_SECONDS."""

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger
        self._buffers: dict[_Destination, list[tuple[datetime, str]]] = {}
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="data-capture", daemon=True)
        self._thread.start()

    def add(
        self,
        account_id: str,
        region: str,
        config: CaptureConfig,
        variant: str,
        record: dict[str, Any],
        when: datetime,
    ) -> None:
        folder = "/".join(p for p in (config.prefix, config.endpoint, variant) if p)
        where = _Destination(account_id, region, config.bucket, folder, config.endpoint)
        line = json.dumps(record, separators=(",", ":"))
        with self._lock:
            buffer = self._buffers.setdefault(where, [])
            buffer.append((when, line))
            full = len(buffer) >= FLUSH_RECORDS
        if full:
            self._flush(lambda d: d == where)

    def flush_endpoint(self, endpoint: str) -> None:
        self._flush(lambda d: d.endpoint == endpoint)

    def flush(self) -> None:
        self._flush(lambda d: True)

    def close(self) -> None:
        self._closed.set()
        self._thread.join(timeout=FLUSH_SECONDS * 2)
        self.flush()

    def _loop(self) -> None:
        while not self._closed.wait(FLUSH_SECONDS):
            try:
                self.flush()
            except Exception:  # the next tick retries; the thread must not die
                self.logger.exception("data capture flush failed")

    def _flush(self, select: Any) -> None:
        with self._lock:
            taken = {d: b for d, b in self._buffers.items() if select(d) and b}
            for destination in taken:
                self._buffers[destination] = []
        for destination, records in taken.items():
            self._write(destination, records)

    def _write(self, where: _Destination, records: list[tuple[datetime, str]]) -> None:
        # One file per hour folder: records of one flush can straddle an hour boundary.
        by_hour: dict[str, list[tuple[datetime, str]]] = {}
        for when, line in records:
            by_hour.setdefault(when.strftime("%Y/%m/%d/%H"), []).append((when, line))
        for hour, batch in by_hour.items():
            first = batch[0][0]
            name = f"{first:%M-%S}-{first.microsecond // 1000:03d}-{uuid.uuid4()}.jsonl"
            key = f"{where.folder}/{hour}/{name}"
            data = "".join(line + "\n" for _, line in batch).encode()
            try:
                sagemaker_moto.put_object(where.account_id, where.region, where.bucket, key, data)
            except sagemaker_moto.S3ObjectMissingError as error:
                self.logger.warning(
                    "data capture for %s dropped %d records: %s (create the bucket)",
                    where.endpoint,
                    len(batch),
                    error,
                )
