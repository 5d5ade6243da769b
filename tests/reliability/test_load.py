"""1,000 executions at 16 at a time: every one accounted for, no worker or file leak."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.config import Config

from scripts.classify import wait_for
from scripts.stack import DeployedStack
from tests.support.reliability_kit import footprint, settle

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

EXECUTIONS = int(os.environ.get("RELIABILITY_LOAD_EXECUTIONS", "1000"))
CONCURRENCY = 16
FUNCTIONS = 3
# The local cloud keeps up to this many warm workers per function (LOCAL_CLOUD_LAMBDA_MAX_WORKERS).
WARM_POOL = int(os.environ.get("LOCAL_CLOUD_LAMBDA_MAX_WORKERS", "8"))
# Each warm worker holds a few pipes; the rest is slack for pooled HTTP connections.
FDS_PER_WORKER = 6
FD_SLACK = 2 * CONCURRENCY + 16


def test_a_thousand_executions_are_all_accounted_for_without_leaks(
    deployed_stack: DeployedStack,
) -> None:
    sfn = deployed_stack.client(
        "stepfunctions", config=Config(max_pool_connections=CONCURRENCY + 4)
    )
    listed = deployed_stack.client("s3").list_objects_v2(
        Bucket=deployed_stack.bucket, Prefix="test/", Delimiter="/"
    )
    keys = sorted(item["Key"] for item in listed["Contents"])
    s3 = deployed_stack.client("s3")
    versions = {
        key: s3.head_object(Bucket=deployed_stack.bucket, Key=key)["VersionId"] for key in keys
    }
    run_id = uuid.uuid4().hex[:8]

    def one(index: int) -> str:
        event = {
            "image_data": "",
            "s3_bucket": deployed_stack.bucket,
            "s3_key": keys[index % len(keys)],
            "s3_version": versions[keys[index % len(keys)]],
        }
        started = sfn.start_execution(
            stateMachineArn=deployed_stack.state_machine_arn,
            name=f"load-{run_id}-{index:05d}",
            input=json.dumps(event),
        )
        described: dict[str, Any] = wait_for(sfn, started["executionArn"], timeout=600)
        return str(described["status"])

    # Warm every function's pool first, so "before" already holds the workers a load keeps.
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        assert set(pool.map(one, range(-CONCURRENCY, 0))) == {"SUCCEEDED"}
    settle()
    before = footprint(deployed_stack.cloud.pid)

    began = time.monotonic()
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        statuses = Counter(pool.map(one, range(EXECUTIONS)))
    elapsed = time.monotonic() - began
    settle()
    after = footprint(deployed_stack.cloud.pid)
    print(
        f"\n{EXECUTIONS} executions at {CONCURRENCY} concurrent in {elapsed:.0f} s "
        f"({EXECUTIONS / elapsed:.1f}/s): {dict(statuses)}; server before {before}, after {after}"
    )

    assert statuses["SUCCEEDED"] + statuses["FAILED"] == EXECUTIONS, statuses
    assert statuses == Counter({"SUCCEEDED": EXECUTIONS}), statuses
    # Step Functions agrees: every execution of this run exists and has finished.
    ours = Counter(
        execution["status"]
        for page in sfn.get_paginator("list_executions").paginate(
            stateMachineArn=deployed_stack.state_machine_arn
        )
        for execution in page["executions"]
        if execution["name"].startswith(f"load-{run_id}-0")
    )
    assert ours == Counter({"SUCCEEDED": EXECUTIONS}), ours

    assert after.descendants <= max(before.descendants, FUNCTIONS * WARM_POOL + 2), (before, after)
    # Pools may grow up to their bound between the warm-up and the end, never beyond it.
    grown = FUNCTIONS * WARM_POOL * FDS_PER_WORKER
    assert after.open_files <= before.open_files + grown + FD_SLACK, (before, after)
