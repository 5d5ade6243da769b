"""Hold each Lambda worker to its function's MemorySize, and report going over as AWS does."""

# Lambda runs every execution environment in a memory cgroup of MemorySize; the kernel's OOM
# killer SIGKILLs a runtime that goes over. The invoke result is then errorType
# "Runtime.OutOfMemory" (older runtimes: "Runtime.ExitError") with the message "RequestId: <id>
# Error: Runtime exited with error: signal: killed", and the REPORT line shows "Max Memory Used"
# at the limit. Seen in public reports of real failures, e.g. nasa-gcn/gcn.nasa.gov#3628 and
# https://www.smplogs.com/guides/lambda-memory-errors; Step Functions treats it as an unhandled
# Lambda error that States.ALL catches
# (https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html).
#
# Here workers are plain processes and no memory cgroup can be created without root (these
# machines have cgroup v1 only, not delegated), so two unprivileged mechanisms stand in for it:
# - this module's watchdog: the invoking thread reads the worker's VmHWM (the kernel's record of
#   its peak resident set) while it waits for the reply, and SIGKILLs a worker whose peak went
#   over MemorySize. RSS counts touched pages only, as the cgroup does, and the kernel keeps the
#   peak, so a spike between two reads is still seen (only reacted to up to one period late).
# - lambda_bootstrap.py's RLIMIT_DATA ceiling, MemorySize + 256 MB: a runaway allocation
#   fails at once with MemoryError instead of filling the shared machine before the next read.
#   RLIMIT_AS would be wrong: a Python 3.12 worker with boto3 and Pillow maps ~70 MB of address
#   space for 59 MB resident, and one started thread takes it to ~143 MB (an 8 MB stack plus a
#   64 MB malloc arena reservation), so a 128 MB function could not start a thread.

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

WATCH_INTERVAL_S = 0.05  # reaction time to an overrun; the peak itself is never missed
OUT_OF_MEMORY = "Runtime.OutOfMemory"


def peak_rss_kb(pid: int) -> int | None:
    """The process's peak resident set (VmHWM) in kB, or None if it is gone (or no /proc)."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return None


def over_limit(peak_kb: int | None, memory_mb: int) -> bool:
    """Whether a worker's peak went over its function's MemorySize (MB are MiB on Lambda)."""
    return peak_kb is not None and peak_kb > memory_mb * 1024


def out_of_memory_error(request_id: str) -> dict[str, Any]:
    """The invoke payload AWS returns when the runtime was killed for exceeding MemorySize."""
    return {
        "errorType": OUT_OF_MEMORY,
        "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: signal: killed",
    }


def report_status(error: dict[str, Any] | None) -> str:
    """The REPORT line's trailing fields for a runtime-level failure, as newer runtimes log them."""
    if error is None:
        return ""
    error_type = str(error.get("errorType", ""))
    if error_type == "Sandbox.Timedout":
        return "\tStatus: timeout"
    if error_type.startswith(("Runtime.", "Sandbox.")):
        return f"\tStatus: error\tError Type: {error_type}"
    return ""
