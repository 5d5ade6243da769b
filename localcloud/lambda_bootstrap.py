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


def _load_handler() -> tuple[Any, dict[str, Any] | None]:
    """Import the handler at start-up (the cold start); an error is replayed on every invoke."""
    module_name, _, function_name = os.environ["_HANDLER"].rpartition(".")
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except Exception as error:
        report = _error(error, "Runtime.ImportModuleError")
        report["errorMessage"] = f"Unable to import module '{module_name}': {error}"
        traceback.print_exc()
        return None, report
    handler = getattr(module, function_name, None)
    if handler is None:
        message = f"Handler '{function_name}' missing on module '{module_name}'"
        return None, {
            "errorMessage": message,
            "errorType": "Runtime.HandlerNotFound",
            "requestId": "",
            "stackTrace": [],
        }
    return handler, None


def _invoke(handler: Any, request: dict[str, Any]) -> dict[str, Any]:
    try:
        event = json.loads(request["event"]) if request["event"] else {}
        result = handler(event, LambdaContext(request))
    except Exception as error:
        traceback.print_exc()
        return {"ok": False, "error": _error(error, request_id=request["request_id"])}
    try:
        return {"ok": True, "payload": json.dumps(result)}
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
    began = time.monotonic()
    handler, init_error = _load_handler()
    init_ms = (time.monotonic() - began) * 1000
    print(json.dumps({"ready": True, "pid": os.getpid(), "init_ms": init_ms}), file=protocol)

    # An idle worker ends when the server closes our stdin (or dies); a busy one is killed by
    # the server (timeout) or with the server's process group (`localcloud down`).
    for line in sys.stdin:
        request = json.loads(line)
        response = {"ok": False, "error": init_error} if init_error else _invoke(handler, request)
        sys.stderr.flush()
        print(json.dumps(response), file=protocol)


if __name__ == "__main__":
    main()
