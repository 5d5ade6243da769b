"""Epoch lines of a local training job, read from CloudWatch Logs while training.launch waits."""

from __future__ import annotations

import contextlib
import re
import threading
import time
from typing import Any


class TrainingLogTail:
    """Prints the training job's epoch lines from CloudWatch Logs while training.launch waits."""

    GROUP = "/aws/sagemaker/TrainingJobs"
    SHOWN = re.compile(r"(Epoch\[\d+\] Validation-accuracy|saved the model)")

    def __init__(self, logs: Any, interval: float = 5.0) -> None:
        self.logs = logs
        self.interval = interval
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._follow, daemon=True)
        self.since = int(time.time() * 1000)
        self.seen: set[str] = set()

    def __enter__(self) -> TrainingLogTail:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop.set()
        self.thread.join(timeout=10)

    def _follow(self) -> None:
        while not self.stop.wait(self.interval):
            # Progress display only: a failed poll must never fail the training stage.
            with contextlib.suppress(Exception):
                self._print_new()

    def _print_new(self) -> None:
        pages = self.logs.get_paginator("filter_log_events").paginate(
            logGroupName=self.GROUP, startTime=self.since
        )
        for page in pages:
            for event in page.get("events", []):
                if event["eventId"] in self.seen:
                    continue
                self.seen.add(event["eventId"])
                message = event["message"].rstrip()
                if self.SHOWN.search(message):
                    print(f"    {message}", flush=True)
