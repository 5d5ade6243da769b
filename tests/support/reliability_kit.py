"""Helpers of the reliability tests: executions by name, server processes and open files."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scripts.classify import wait_for
from scripts.stack import DeployedStack, Execution


def start(stack: DeployedStack, event: dict[str, Any], name: str | None = None) -> str:
    """StartExecution of the deployed state machine; returns the execution ARN."""
    started = stack.client("stepfunctions").start_execution(
        stateMachineArn=stack.state_machine_arn,
        name=name or f"rel-{uuid.uuid4().hex[:16]}",
        input=json.dumps(event),
    )
    return str(started["executionArn"])


def finish(stack: DeployedStack, arn: str, timeout: float = 240) -> Execution:
    """Wait for the execution and read its whole history."""
    sfn = stack.client("stepfunctions")
    described = wait_for(sfn, arn, timeout)
    events: list[dict[str, Any]] = []
    for page in sfn.get_paginator("get_execution_history").paginate(executionArn=arn):
        events.extend(page["events"])
    return Execution(described, events)


def run_event(stack: DeployedStack, event: dict[str, Any], timeout: float = 240) -> Execution:
    return finish(stack, start(stack, event), timeout)


def append_jsonl(path: Path, record: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        out.write(json.dumps(record, sort_keys=True) + "\n")


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


@dataclass(frozen=True)
class ServerFootprint:
    """The local cloud's live descendant processes and its own open file descriptors."""

    descendants: int
    open_files: int


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # exited while we looked
        # The command name may hold spaces and parentheses: fields start after the last ')'.
        fields = text[text.rindex(")") + 2 :].split()
        if fields[0] == "Z":
            continue  # a reaped-soon zombie holds no resources worth counting
        tree.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    return tree


def footprint(pid: int) -> ServerFootprint:
    tree, todo, seen = _children(), [pid], 0
    while todo:
        for child in tree.get(todo.pop(), []):
            seen += 1
            todo.append(child)
    return ServerFootprint(seen, len(list(Path(f"/proc/{pid}/fd").iterdir())))


def settle(seconds: float = 3.0) -> None:
    """Let keep-alive connections and finished workers close before counting."""
    time.sleep(seconds)
