"""List the workflow's results table: newest first, as an aligned table or as CSV.

Reads the table through its GSI `status-finished_at` (see /work/notes/contract-12.md): one Query
per status asked for, newest first, with SINCE as a key condition on finished_at, merged here.
A Query reads only the items it returns; a Scan with a filter would read (and pay for) the whole
table on every call, and still have to be sorted here. Items without a status or finished_at
are not in the index and so are not listed (the workflow always writes both).
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import re
import sys
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, TextIO

from training import aws
from training.errors import TerraformOutputError
from training.terraform_outputs import ENVS_DIR, read_outputs

STATUSES = ("classified", "needs_review", "failed")
INDEX = "status-finished_at"
OUTPUT = "results_table_name"
# The contract's attributes in its order; CSV columns, then any others an item has, sorted.
ATTRIBUTES = (
    "s3_key",
    "version",
    "bucket",
    "status",
    "label",
    "confidence",
    "inferences",
    "threshold",
    "model_name",
    "model_data",
    "execution_arn",
    "started_at",
    "finished_at",
    "error",
    "cause",
)
TABLE_COLUMNS = ("finished_at", "status", "label", "confidence", "s3_key", "version", "error")
FORMATS = ("table", "csv")
DEFAULT_PAGE_SIZE = 500  # items per Query page; DynamoDB also stops a page at 1 MB
DURATION = re.compile(r"^(\d+)\s*([smhdw])$")
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class ResultsError(RuntimeError):
    """An operator error (bad STATUS/SINCE/LIMIT, no table); the message says what to do."""


@dataclass(frozen=True)
class Selection:
    statuses: tuple[str, ...]
    since: str | None  # finished_at lower bound, in the contract's format
    limit: int | None


def parse_statuses(text: str | None) -> tuple[str, ...]:
    """STATUS: one status or a comma-separated list; empty means all three."""
    if not text or not text.strip():
        return STATUSES
    given = [part.strip() for part in text.split(",") if part.strip()]
    wrong = [part for part in given if part not in STATUSES]
    if wrong:
        raise ResultsError(
            f"STATUS {', '.join(repr(w) for w in wrong)} is not a status; valid: "
            f"{', '.join(STATUSES)} (or several, comma-separated)"
        )
    return tuple(dict.fromkeys(given))


def parse_since(text: str | None, now: datetime | None = None) -> str | None:
    """SINCE: a duration back from now (30m, 1h, 7d, 2w, 90s) or an ISO 8601 time (UTC if
    no zone is given), as a finished_at bound: "2026-12-01T23:36:05.123Z". Empty: no bound."""
    if not text or not text.strip():
        return None
    text = text.strip()
    match = DURATION.match(text)
    if match:
        amount = int(match.group(1))
        if amount == 0:
            raise ResultsError(f"SINCE {text!r} is zero; give a positive duration like 30m")
        when = (now or datetime.now(UTC)) - timedelta(**{UNITS[match.group(2)]: amount})
    else:
        try:
            when = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise ResultsError(
                f"SINCE {text!r} is neither a duration (30m, 1h, 7d, 2w) nor an ISO 8601 time "
                "(2026-12-01, 2026-12-01T23:36:05Z)"
            ) from None
        when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    return format_time(when)


def format_time(when: datetime) -> str:
    """The contract's finished_at format (Step Functions' own): milliseconds and a Z."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def parse_limit(text: str | None) -> int | None:
    if text is None or not str(text).strip():
        return None
    try:
        limit = int(str(text).strip())
    except ValueError:
        raise ResultsError(f"LIMIT {text!r} is not a whole number") from None
    if limit < 1:
        raise ResultsError(f"LIMIT {text!r} must be 1 or more")
    return limit


def table_name(env: str, given: str | None) -> str:
    """--table, else the env's Terraform output results_table_name."""
    if given:
        return given
    try:
        outputs = read_outputs(env, ENVS_DIR)
    except TerraformOutputError as error:
        raise ResultsError(
            f"cannot read the Terraform outputs of infra/envs/{env} ({error}). Deploy it with "
            f"`make apply ENV={env}`, or pass --table."
        ) from None
    name = outputs.get(OUTPUT)
    if not isinstance(name, str) or not name:
        raise ResultsError(
            f"infra/envs/{env} has no output {OUTPUT}: the results table is not deployed; run "
            f"`make plan apply ENV={env}` first, or pass --table."
        )
    return name


def query_status(
    dynamodb: Any, table: str, status: str, since: str | None, page_size: int
) -> Iterator[dict[str, Any]]:
    """One status's items from the GSI, newest first, page by page (lazily: stop any time)."""
    from boto3.dynamodb.types import TypeDeserializer

    deserialize = TypeDeserializer().deserialize
    request: dict[str, Any] = {
        "TableName": table,
        "IndexName": INDEX,
        "KeyConditionExpression": "#s = :s",
        # `status` is a DynamoDB reserved word: named through a placeholder.
        "ExpressionAttributeNames": {"#s": "status"},
        "ExpressionAttributeValues": {":s": {"S": status}},
        "ScanIndexForward": False,
        "Limit": page_size,
    }
    if since is not None:
        request["KeyConditionExpression"] += " AND #f >= :f"
        request["ExpressionAttributeNames"]["#f"] = "finished_at"
        request["ExpressionAttributeValues"][":f"] = {"S": since}
    while True:
        page = _call(dynamodb, table, lambda: dynamodb.query(**request))
        for item in page.get("Items", []):
            yield {name: deserialize(value) for name, value in item.items()}
        if not page.get("LastEvaluatedKey"):
            return
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def select(
    dynamodb: Any, table: str, selection: Selection, page_size: int = DEFAULT_PAGE_SIZE
) -> list[dict[str, Any]]:
    """The selected items, newest first (ties by s3_key, version), at most selection.limit."""
    found: list[dict[str, Any]] = []
    for status in selection.statuses:
        items = query_status(dynamodb, table, status, selection.since, page_size)
        for count, item in enumerate(items, start=1):
            found.append(item)
            if selection.limit is not None and count >= selection.limit:
                break  # newer ones came first: this status can add nothing to the newest LIMIT
    found.sort(key=lambda item: (str(item.get("s3_key", "")), str(item.get("version", ""))))
    found.sort(key=lambda item: str(item.get("finished_at", "")), reverse=True)
    return found[: selection.limit] if selection.limit is not None else found


def _call(dynamodb: Any, table: str, request: Any) -> dict[str, Any]:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        response: dict[str, Any] = request()
        return response
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        message = error.response.get("Error", {}).get("Message", str(error))
        if code in {"ResourceNotFoundException", "ValidationException"}:
            if not _table_exists(dynamodb, table):
                raise ResultsError(
                    f"there is no DynamoDB table {table!r}: the results table is not deployed "
                    "(run `make plan apply ENV=...`), or --table names another one"
                ) from None
            if "index" in message.lower():
                raise ResultsError(
                    f"the table {table!r} has no index {INDEX!r} ({message}); it predates the "
                    "results contract: run `make plan apply ENV=...`"
                ) from None
        raise ResultsError(f"cannot query {table!r}: {code}: {message}") from None
    except BotoCoreError as error:
        raise ResultsError(
            f"cannot reach DynamoDB ({error}); for ENV=local start the local cloud "
            "(make local-up), elsewhere check AWS_ENDPOINT_URL, the region and credentials"
        ) from None


def _table_exists(dynamodb: Any, table: str) -> bool:
    from botocore.exceptions import ClientError

    try:
        dynamodb.describe_table(TableName=table)
    except ClientError as error:
        # Denied or throttled: say what the query said rather than guess.
        return bool(error.response.get("Error", {}).get("Code") != "ResourceNotFoundException")
    return True


def csv_columns(items: Iterable[dict[str, Any]]) -> list[str]:
    """The contract's attributes in its order, then any other attribute seen, sorted."""
    extra = sorted({name for item in items for name in item} - set(ATTRIBUTES))
    return [*ATTRIBUTES, *extra]


def write_csv(items: Sequence[dict[str, Any]], out: TextIO) -> None:
    columns = csv_columns(items)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for item in items:
        writer.writerow([_text(item.get(name)) for name in columns])


def write_table(items: Sequence[dict[str, Any]], out: TextIO) -> None:
    rows = [list(TABLE_COLUMNS)]
    rows += [[_cell(name, item.get(name)) for name in TABLE_COLUMNS] for item in items]
    widths = [max(display_width(row[i]) for row in rows) for i in range(len(TABLE_COLUMNS))]
    for row in rows:
        cells = [
            cell + " " * (width - display_width(cell))
            for cell, width in zip(row, widths, strict=True)
        ]
        out.write("  ".join(cells).rstrip() + "\n")


def display_width(text: str) -> int:
    """Terminal columns: wide (CJK, emoji) characters take two, combining marks none."""
    return sum(_char_width(char) for char in text)


def _char_width(char: str) -> int:
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in "WF" else 1


def _text(value: Any) -> str:
    """An attribute as CSV text: numbers as stored (Decimal), absent as empty."""
    if value is None:
        return ""
    if isinstance(value, set | list | dict):
        return str(sorted(value) if isinstance(value, set) else value)
    return str(value)


def _cell(name: str, value: Any) -> str:
    """An attribute as one table cell: no control characters (a key may hold a newline)."""
    if value is None:
        return "-"
    if name == "confidence" and isinstance(value, Decimal | float | int):
        return f"{float(value):.4f}"
    return CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", _text(value))


def describe_selection(table: str, selection: Selection) -> str:
    parts = [f"status {'|'.join(selection.statuses)}"]
    if selection.since:
        parts.append(f"finished at or after {selection.since}")
    return f"table {table} ({', '.join(parts)})"


def main(argv: list[str] | None = None, out: TextIO | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.results", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--env", default=os.environ.get("ENV", "local"))
    parser.add_argument("--status", help=f"{', '.join(STATUSES)} (comma-separated); default all")
    parser.add_argument("--since", help="30m, 1h, 7d, 2w or an ISO 8601 time; default all")
    parser.add_argument("--format", default="table", help="table (default) or csv")
    parser.add_argument("--limit", help="at most this many items, the newest")
    parser.add_argument("--table", help=f"default: the env's Terraform output {OUTPUT}")
    parser.add_argument("--endpoint-url", default=os.environ.get("AWS_ENDPOINT_URL"))
    parser.add_argument("--page-size", type=int, default=DEFAULT_PAGE_SIZE, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if out is None:
        out = sys.stdout
        if isinstance(out, io.TextIOWrapper) and out.encoding.lower() not in {"utf-8", "utf8"}:
            out.reconfigure(encoding="utf-8")  # keys are unicode; CSV must keep them exactly
    try:
        if args.format not in FORMATS:
            raise ResultsError(f"FORMAT {args.format!r} is not one of {', '.join(FORMATS)}")
        if args.page_size < 1:
            raise ResultsError("--page-size must be 1 or more")
        selection = Selection(
            parse_statuses(args.status), parse_since(args.since), parse_limit(args.limit)
        )
        table = table_name(args.env, args.table)
        dynamodb = aws.client("dynamodb", args.env, endpoint_url=args.endpoint_url)
        items = select(dynamodb, table, selection, args.page_size)
    except (ResultsError, aws.LocalCloudNotRunningError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.format == "csv":
        write_csv(items, out)
        if not items:
            print(f"no results in {describe_selection(table, selection)}", file=sys.stderr)
        return 0
    if not items:
        out.write(f"no results in {describe_selection(table, selection)}\n")
        return 0
    write_table(items, out)
    more = " (LIMIT reached)" if selection.limit == len(items) else ""
    out.write(f"{len(items)} items{more} from {describe_selection(table, selection)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
