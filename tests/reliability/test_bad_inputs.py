"""Bad inputs through the deployed workflow: each ends in a named error or a correct answer."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from scripts.stack import DeployedStack, Execution
from tests.support.reliability_kit import append_jsonl, read_jsonl, run_event
from training.labels import CLASSES

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PREFIX = "reliability/bad-inputs/"
EXTRA_FIELDS = {"order_id": "ORD-20261130-0001", "submitted_by": {"driver": "d-42"}}


def png_bytes(size: tuple[int, int] = (64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def bomb_png(side: int = 100_000) -> bytes:
    """A valid PNG header claiming side x side RGB pixels, with a tiny body: 30 GB if decoded."""
    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    row = b"\x00" + b"\x00" * 3 * 16
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(row * 16))
        + _chunk(b"IEND", b"")
    )


@dataclass(frozen=True)
class Case:
    """One bad input: the object to upload (if any), the event, and what must come out."""

    name: str
    expected: str  # "SUCCEEDED" or the error name the execution must fail with
    body: Callable[[DeployedStack], bytes] | None = None
    key: str = ""
    event: Callable[[DeployedStack, str], dict[str, Any]] | None = None


def _real_image(stack: DeployedStack) -> bytes:
    first = next((stack.data / "test" / CLASSES[0]).glob("*.png"))
    return first.read_bytes()


def _version(stack: DeployedStack, key: str) -> str:
    """The object's current version id; "null" (S3's name for no version) when it is absent."""
    s3 = stack.client("s3")
    try:
        head = s3.head_object(Bucket=stack.bucket, Key=key)
    except s3.exceptions.ClientError:  # a missing object is one of the cases
        return "null"
    return str(head.get("VersionId") or "null")


def _event(stack: DeployedStack, key: str) -> dict[str, Any]:
    return {
        "image_data": "",
        "s3_bucket": stack.bucket,
        "s3_key": key,
        "s3_version": _version(stack, key),
    }


CASES = (
    Case("missing_key", "ImageNotFound", key=PREFIX + "never-uploaded.png"),
    Case(
        "missing_bucket",
        "ImageNotFound",
        key="test/x.png",
        event=lambda stack, key: {
            "image_data": "",
            "s3_bucket": "no-such-bucket-rel",
            "s3_key": key,
            "s3_version": "null",
        },
    ),
    Case("zero_byte_object", "InvalidImage", body=lambda _: b"", key=PREFIX + "empty.png"),
    Case(
        "text_named_png",
        "InvalidImage",
        body=lambda _: b"this is a delivery note, not a photo\n",
        key=PREFIX + "note.png",
    ),
    Case(
        "truncated_png",
        "InvalidImage",
        body=lambda _: png_bytes((256, 256))[:300],
        key=PREFIX + "truncated.png",
    ),
    Case("decompression_bomb", "InvalidImage", body=lambda _: bomb_png(), key=PREFIX + "bomb.png"),
    Case(
        "image_over_10_mb",
        "ImageTooLarge",
        # Only the size matters: the function refuses it from ContentLength, before decoding.
        body=lambda _: b"\x89PNG\r\n\x1a\n" + bytes(12 * 1024 * 1024),
        key=PREFIX + "huge.png",
    ),
    Case(
        "event_without_s3_key",
        "InvalidEvent",
        event=lambda stack, _: {"image_data": "", "s3_bucket": stack.bucket},
    ),
    Case(
        "event_with_extra_fields",
        "SUCCEEDED",
        body=_real_image,
        key=PREFIX + "with-extras.png",
        event=lambda stack, key: {**_event(stack, key), **EXTRA_FIELDS},
    ),
    Case(
        "key_with_spaces_and_unicode",
        "SUCCEEDED",
        body=_real_image,
        key=PREFIX + "Lieferung März/vélo 1 (自転車).png",
    ),
)


def outcome_of(case: Case, run: Execution) -> dict[str, Any]:
    record: dict[str, Any] = {"case": case.name, "expected": case.expected, "status": run.status}
    if run.status == "SUCCEEDED":
        record |= {key: run.output.get(key) for key in ("label", "confidence", "s3_key")}
        record["passed_through"] = {key: run.output.get(key) for key in EXTRA_FIELDS}
        record["outcome"] = "SUCCEEDED"
    else:
        record |= {"error": run.described.get("error"), "cause": run.described.get("cause")}
        record["outcome"] = record["error"]
    record["task_errors"] = run.task_errors()
    return record


@pytest.fixture(scope="module")
def outcomes(deployed_stack: DeployedStack, reliability_dir: Path) -> dict[str, dict[str, Any]]:
    """Every case uploaded, run at once through the state machine, and recorded as one line."""
    s3 = deployed_stack.client("s3")
    for case in CASES:
        if case.body is not None:
            s3.put_object(
                Bucket=deployed_stack.bucket, Key=case.key, Body=case.body(deployed_stack)
            )

    def run(case: Case) -> Execution:
        event = (case.event or _event)(deployed_stack, case.key)
        return run_event(deployed_stack, event)

    results = reliability_dir / "bad_inputs.jsonl"
    results.unlink(missing_ok=True)
    with ThreadPoolExecutor(4) as pool:
        for case, execution in zip(CASES, pool.map(run, CASES), strict=True):
            append_jsonl(
                results,
                outcome_of(case, execution) | {"execution": execution.described["executionArn"]},
            )
    print(f"\nbad input outcomes: {results}")
    return {record["case"]: record for record in read_jsonl(results)}


def test_every_case_is_recorded_with_its_outcome(outcomes: dict[str, dict[str, Any]]) -> None:
    assert sorted(outcomes) == sorted(case.name for case in CASES)
    assert all(record["outcome"] for record in outcomes.values()), outcomes


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_each_bad_input_ends_as_expected(case: Case, outcomes: dict[str, dict[str, Any]]) -> None:
    record = outcomes[case.name]
    assert record["outcome"] == case.expected, record
    if case.expected == "SUCCEEDED":
        assert record["label"] in CLASSES
        assert record["s3_key"] == case.key
    else:
        # A named error, not retried (bad input never heals), with a cause that names what was
        # wrong: from the Lambda, or, for an event that is not the workflow's, from its first
        # state before any work.
        expected_task_errors = [] if case.name == "event_without_s3_key" else [case.expected]
        assert record["task_errors"] == expected_task_errors, record
        assert record["cause"], record


def test_extra_fields_do_not_disturb_the_answer(outcomes: dict[str, dict[str, Any]]) -> None:
    # The functions pass unknown fields through; the workflow's output is its answer (status,
    # key, version, label, confidence), so extra fields neither fail it nor reach the output.
    record = outcomes["event_with_extra_fields"]
    assert record["outcome"] == "SUCCEEDED" and record["label"] in CLASSES
    assert record["passed_through"] == dict.fromkeys(EXTRA_FIELDS)
