"""The workflow's results table (issue 12's contract) on a local cloud, and items to put in it."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from scripts.results import INDEX, format_time


def create_table(dynamodb: Any, name: str) -> str:
    """The contract's table: key (s3_key, version), GSI status-finished_at projecting ALL."""
    strings = ("s3_key", "version", "status", "finished_at")
    dynamodb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in strings],
        KeySchema=[
            {"AttributeName": "s3_key", "KeyType": "HASH"},
            {"AttributeName": "version", "KeyType": "RANGE"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": INDEX,
                "KeySchema": [
                    {"AttributeName": "status", "KeyType": "HASH"},
                    {"AttributeName": "finished_at", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    dynamodb.get_waiter("table_exists").wait(TableName=name)
    return name


def item(
    key: str,
    finished: datetime,
    status: str = "classified",
    probabilities: tuple[float, float] = (0.97, 0.03),
    version: str = "v1",
    **extra: Any,
) -> dict[str, Any]:
    """One item as the workflow writes it (plain Python values; see put)."""
    written: dict[str, Any] = {
        "s3_key": key,
        "version": version,
        "bucket": "scones-local-images",
        "status": status,
        "threshold": Decimal("0.93"),
        "model_name": "scones-model",
        "model_data": "s3://scones-local-models/model.tar.gz",
        "execution_arn": f"arn:aws:states:us-east-1:123456789012:execution:classify:{version}",
        "started_at": format_time(finished - timedelta(seconds=3)),  # a run takes a while
        "finished_at": format_time(finished),
    }
    if status == "failed":
        written |= {"error": "InvalidImage", "cause": f"{key} is not a PNG or JPEG image"}
    else:
        top = max(range(2), key=lambda i: probabilities[i])
        written |= {
            "label": ("bicycle", "motorcycle")[top],
            "confidence": Decimal(str(probabilities[top])),
            "inferences": json.dumps(list(probabilities)),
        }
    return written | extra


def put(dynamodb: Any, table: str, items: list[dict[str, Any]]) -> None:
    from boto3.dynamodb.types import TypeSerializer

    serialize = TypeSerializer().serialize
    for written in items:
        dynamodb.put_item(
            TableName=table, Item={name: serialize(value) for name, value in written.items()}
        )
