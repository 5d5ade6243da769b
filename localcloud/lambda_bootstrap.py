"""A Lambda execution environment's runtime loop, run by a worker process (stdlib only)."""

# This file runs under the function's interpreter (python3.12 for the project's Lambdas), which
# has none of the host's packages: it must import nothing outside the standard library.

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

try:
    import resource
except ImportError:  # not on Windows: no memory ceiling there, the watchdog alone applies
    resource = None  # type: ignore[assignment]

# RLIMIT_DATA (private writable memory, reserved or touched) goes this far above MemorySize.
# lambda_memory.py's watchdog holds the resident set to MemorySize itself; this ceiling stops a
# runaway allocation at once, and the headroom covers what is reserved but never touched (each
# thread's 8 MB stack counts in full), which the cgroup on AWS would not count.
DATA_CEILING_HEADROOM_MB = 256
OUT_OF_MEMORY = "Runtime.OutOfMemory"


class LambdaContext:
    """The attributes and method of AWS's context object that handlers commonly use."""

    def __init__(self, request: dict[str, Any]) -> None:
        self.aws_request_id: str = request["request_id"]
        self.function_name: str = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version: str = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.invoked_function_arn: str = request["invoked_function_arn"]
        self.memory_limit_in_mb: int = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", 128))
        self.log_group_name: str = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name: str = request.get("log_stream", "")
        self._deadline_ms: int = request["deadline_ms"]

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


def _error(
    error: BaseException, error_type: str | None = None, request_id: str = ""
) -> dict[str, Any]:
    """An exception as AWS's Python runtime reports it in the invoke payload."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename != __file__]
    return {
        "errorMessage": str(error),
        "errorType": error_type or error.__class__.__name__,
        "requestId": request_id,
        "stackTrace": traceback.format_list(frames),
    }


def _cap_memory() -> None:
    memory_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "0"))
    if resource is None or memory_mb <= 0:
        return
    ceiling = (memory_mb + DATA_CEILING_HEADROOM_MB) * 1024 * 1024
    # Soft and hard: a function cannot raise its own memory on AWS either.
    resource.setrlimit(resource.RLIMIT_DATA, (ceiling, ceiling))


def _max_rss_kb() -> int | None:
    """This process's peak resident set. Not getrusage's ru_maxrss: Linux carries that over
    exec, so a worker would report the (much larger) server it was forked from."""
    try:
        with Path("/proc/self/status").open() as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def _out_of_memory(error: MemoryError, request_id: str) -> dict[str, Any]:
    """A MemoryError at the ceiling, reported as the kill AWS's memory cgroup would have done."""
    traceback.print_exception(error)
    print(
        f"local cloud: MemoryError at this worker's memory ceiling (MemorySize + "
        f"{DATA_CEILING_HEADROOM_MB} MB of private memory); ending the execution environment",
        file=sys.stderr,
    )
    return _out_of_memory_response(request_id)


def _out_of_memory_response(request_id: str) -> dict[str, Any]:
    message = f"RequestId: {request_id} Error: Runtime exited with error: signal: killed"
    return {
        "ok": False,
        "fatal": True,  # the server discards this worker: its heap may be in any state
        "error": {"errorMessage": message, "errorType": OUT_OF_MEMORY},
    }


def _load_handler() -> tuple[Any, dict[str, Any] | None]:
    """Import the handler at start-up (the cold start); a failure is replayed on every invoke.

    Returns (handler, None) or (None, the response to give every invocation).
    """
    module_name, _, function_name = os.environ["_HANDLER"].rpartition(".")
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except MemoryError as error:
        return None, _out_of_memory(error, "")
    except Exception as error:
        report = _error(error, "Runtime.ImportModuleError")
        report["errorMessage"] = f"Unable to import module '{module_name}': {error}"
        traceback.print_exc()
        return None, {"ok": False, "error": report}
    handler = getattr(module, function_name, None)
    if handler is None:
        message = f"Handler '{function_name}' missing on module '{module_name}'"
        report = {
            "errorMessage": message,
            "errorType": "Runtime.HandlerNotFound",
            "requestId": "",
            "stackTrace": [],
        }
        return None, {"ok": False, "error": report}
    return handler, None


def _invoke(handler: Any, request: dict[str, Any]) -> dict[str, Any]:
    try:
        event = json.loads(request["event"]) if request["event"] else {}
        result = handler(event, LambdaContext(request))
    except MemoryError as error:
        return _out_of_memory(error, request["request_id"])
    except Exception as error:
        traceback.print_exc()
        return {"ok": False, "error": _error(error, request_id=request["request_id"])}
    try:
        return {"ok": True, "payload": json.dumps(result)}
    except MemoryError as error:
        return _out_of_memory(error, request["request_id"])
    except (TypeError, ValueError) as error:
        return {"ok": False, "error": _error(error, "Runtime.MarshalError")}


def main() -> None:
    # The protocol channel is the original stdout; from here on fd 1 is the log, so prints (even
    # from C extensions) land in the function's log and never corrupt a response line.
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    # Handlers must not see this package's modules as top-level ones (pre-3.11 has no -P).
    here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]
    sys.path[:0] = json.loads(os.environ.pop("_LOCALCLOUD_SYS_PATH", "[]"))
    os.chdir(os.environ["LAMBDA_TASK_ROOT"])
    _cap_memory()
    began = time.monotonic()
    handler, init_failure = _load_handler()
    init_ms = (time.monotonic() - began) * 1000
    print(json.dumps({"ready": True, "pid": os.getpid(), "init_ms": init_ms}), file=protocol)

    # An idle worker ends when the server closes our stdin (or dies); a busy one is killed by
    # the server (timeout) or with the server's process group (`localcloud down`).
    for line in sys.stdin:
        request = json.loads(line)
        if init_failure is None:
            response = _invoke(handler, request)
        elif init_failure.get("fatal"):
            response = _out_of_memory_response(request["request_id"])
        else:
            response = dict(init_failure)
        response["max_rss_kb"] = _max_rss_kb()
        sys.stderr.flush()
        print(json.dumps(response), file=protocol)
        if response.get("fatal"):
            os._exit(1)  # as the OOM kill would; the server reaps the process


if __name__ == "__main__":
    main()
