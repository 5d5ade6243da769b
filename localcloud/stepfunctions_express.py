"""Express state machines as AWS runs them, which moto 5.2.5 does not: it forces every machine to
STANDARD and has no StartSyncExecution.

What moto has (moto/stepfunctions/): `create_state_machine` keeps the requested `type` for
Describe/List but sets `sm_type = "STANDARD"` on every machine and version (models.py,
StateMachineInstance.__init__), so every execution is a Standard one with an `:execution:` ARN;
the bundled interpreter has a `SyncExecution` that runs a program in the caller's thread and
builds StartSyncExecution's answer (parser/backend/execution.py), but no response handler calls
it; and a CloudWatch Logs session class (parser/asl/eval/event/logging.py) that no execution is
given, and that could not write if it were (it builds moto's LogEvent without the "timestamp" and
"message" it reads, and calls `.timestamp()` on the ISO string the event manager hands it).

What AWS does, and this module adds (botocore's stepfunctions service-2.json; LocalStack's
snapshot-tested provider, bundled as moto/stepfunctions/parser/provider.py, for the messages):

- `type` is STANDARD or EXPRESS (ValidationException otherwise), and an EXPRESS machine runs
  Express executions.
- StartExecution of an EXPRESS machine answers `arn:<partition>:states:<region>:<account>:
  express:<machine>:<name>:<id>`. Names are not idempotent: the same name twice starts two
  executions ("Idempotency is not automatically managed",
  https://docs.aws.amazon.com/step-functions/latest/dg/express-at-least-once-execution.html).
- StartSyncExecution (endpoint host prefix `sync-`: a client with an endpoint URL must set
  Config(inject_host_prefix=False), as scripts/classify.py does) runs the execution to its end
  and answers executionArn, stateMachineArn, name, startDate, stopDate, status (SUCCEEDED,
  FAILED or TIMED_OUT), input, output or error and cause, and billingDetails; a STANDARD machine
  is refused with StateMachineTypeNotSupported.
- DescribeExecution, GetExecutionHistory, StopExecution (and RedriveExecution) are refused for
  Express executions ("This API action is not supported by EXPRESS state machines",
  service-2.json) with InvalidArn "Invalid Arn: 'Resource type not valid in this context:
  express'"; ListExecutions of an EXPRESS machine (without mapRunArn) with
  StateMachineTypeNotSupported.
- An Express execution lasts at most 5 minutes: it times out at its TimeoutSeconds or 300 s,
  whichever is first (https://docs.aws.amazon.com/step-functions/latest/dg/
  concepts-standard-vs-express.html).
- Its history goes only to the machine's log group, when its logging level is not OFF, one JSON
  record per event as AWS writes them (https://docs.aws.amazon.com/step-functions/latest/dg/
  cw-logs.html): id, type, details, previous_event_id, event_timestamp (epoch milliseconds, as
  a string), execution_arn, redrive_count; state input and output only with
  includeExecutionData.
- billingDetails as the pricing page defines them (https://aws.amazon.com/step-functions/
  pricing/): duration rounded up to the next 100 ms; memory 50 MB + definition + input and
  output sizes, billed in 64 MB chunks.

Where it differs from AWS: one log stream per execution, named
`states/<machine>/<YYYY-MM-DD-HH-MM>/<execution id>`; the executions, which AWS does not list,
are not kept once they end (so nothing grows with their count); Standard executions write no
logs here (their history is in GetExecutionHistory); the Express-only definition checks (no
`.sync` or `.waitForTaskToken` integrations) are not made.
"""

from __future__ import annotations

import copy
import datetime
import json
import logging
import math
import threading
import uuid
from collections.abc import Callable
from typing import Any

from localcloud.plugin import LocalCloudContext, patch_attribute

TYPES = ("STANDARD", "EXPRESS")
EXPRESS = "EXPRESS"
EXPRESS_MAX_SECONDS = 300
BASE_MEMORY_BYTES = 50 * 1024 * 1024
MEMORY_CHUNK_MB = 64
DURATION_STEP_MS = 100
NOT_FOR_EXPRESS = "Invalid Arn: 'Resource type not valid in this context: express'"
NOT_FOR_STANDARD = "This operation is not supported by this type of state machine"
# "This API action is not supported by EXPRESS state machines" (service-2.json); RedriveExecution
# is stepfunctions_redrive's, which stepfunctions.py installs before this module.
REFUSED_FOR_EXPRESS = (
    "describe_execution",
    "get_execution_history",
    "stop_execution",
    "redrive_execution",
)
_LOG_LEVEL_EVENTS = "moto.stepfunctions.parser.asl.eval.event.logging"
# The moto attributes this module patches or adds; tests/localcloud checks they still fit.
PATCHED = {
    "moto.stepfunctions.models.StateMachineInstance": ["__init__"],
    "moto.stepfunctions.parser.models.StepFunctionsParserBackend": [
        "create_state_machine",
        "start_execution",
    ],
    "moto.stepfunctions.responses.StepFunctionResponse": [
        "start_sync_execution (added)",
        "describe_execution",
        "get_execution_history",
        "stop_execution",
        "redrive_execution",
        "list_executions",
    ],
}


def is_express_arn(arn: str) -> bool:
    """An Express execution's ARN: arn:aws:states:<region>:<account>:express:<machine>:..."""
    parts = arn.split(":")
    return len(parts) > 5 and parts[2] == "states" and parts[5] == "express"


def express_execution_arn(machine_arn: str, name: str) -> str:
    """arn:...:express:<machine>:<name>:<id>, the shape StartExecution answers for Express."""
    prefix, _, machine = machine_arn.partition(":stateMachine:")
    machine = machine.split(":")[0]  # a version or alias ARN runs as its machine
    return f"{prefix}:express:{machine}:{name}:{uuid.uuid4()}"


def capped_definition(definition: str) -> str:
    """The definition with its TimeoutSeconds at most Express's 5 minutes."""
    document = json.loads(definition)
    timeout = document.get("TimeoutSeconds")
    if isinstance(timeout, int) and 0 < timeout <= EXPRESS_MAX_SECONDS:
        return definition
    document["TimeoutSeconds"] = EXPRESS_MAX_SECONDS
    return json.dumps(document, ensure_ascii=False)


def billing_details(
    start: datetime.datetime, stop: datetime.datetime, definition: str, data: list[str]
) -> dict[str, int]:
    """billedDurationInMilliseconds and billedMemoryUsedInMB, as the pricing page computes them."""
    elapsed_ms = (stop - start).total_seconds() * 1000
    duration = max(1, math.ceil(elapsed_ms / DURATION_STEP_MS)) * DURATION_STEP_MS
    used = BASE_MEMORY_BYTES + len(definition.encode()) + sum(len(d.encode()) for d in data)
    chunk = MEMORY_CHUNK_MB * 1024 * 1024
    return {
        "billedDurationInMilliseconds": duration,
        "billedMemoryUsedInMB": math.ceil(used / chunk) * MEMORY_CHUNK_MB,
    }


def log_destination(logging_configuration: Any) -> tuple[str, str, str, str, bool] | None:
    """(account, region, group, level, includeExecutionData), or None when nothing is logged."""
    config = logging_configuration or {}
    level = config.get("level", "OFF")
    destinations = config.get("destinations") or []
    if level == "OFF" or len(destinations) != 1:
        return None
    group_arn = (destinations[0].get("cloudWatchLogsLogGroup") or {}).get("logGroupArn", "")
    parts = group_arn.split(":")
    if len(parts) < 7 or parts[2] != "logs" or parts[5] != "log-group":
        return None
    return parts[4], parts[3], parts[6], level, bool(config.get("includeExecutionData"))


def aws_log_record(history_log: dict[str, Any], epoch_ms: int) -> dict[str, Any]:
    """One history event as Step Functions writes it to CloudWatch Logs (cw-logs.html)."""
    details = copy.deepcopy(history_log.get("details") or {})
    for data in ("inputDetails", "outputDetails"):
        if data in details:  # the log's shape: {"truncated": false}, not the API's "included"
            details[data] = {"truncated": False}
    return {
        "id": str(history_log["id"]),
        "type": str(getattr(history_log["type"], "value", history_log["type"])),
        "details": details,
        "previous_event_id": str(history_log["previous_event_id"]),
        "event_timestamp": str(epoch_ms),
        "execution_arn": history_log["execution_arn"],
        "redrive_count": "0",
    }


class _Configuration:
    """What moto's event manager reads of a logging session's configuration."""

    def __init__(self, include_execution_data: bool) -> None:
        self.include_execution_data = include_execution_data


class ExpressLogSession:
    """Writes one Express execution's history to its machine's log group, as AWS does.

    The interface is the one moto's EventManager calls (execution_arn, configuration,
    log_level_filter, publish_history_log); the writing is ours, into moto's logs backend.
    """

    def __init__(
        self,
        execution_arn: str,
        machine_name: str,
        destination: tuple[str, str, str, str, bool],
        lock: threading.Lock,
        log: logging.Logger,
    ) -> None:
        account, region, group, level, include_data = destination
        # One lock for every session of the server: moto's LogStream.put_log_events says it is
        # not thread-safe, and executions write concurrently.
        self._lock = lock
        self.execution_arn = execution_arn
        self.configuration = _Configuration(include_data)
        self._account, self._region, self.group, self._level = account, region, group, level
        minute = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d-%H-%M")
        self.stream = f"states/{machine_name}/{minute}/{execution_arn.rsplit(':', 1)[-1]}"
        self._stream_ready = False
        self._log = log

    def log_level_filter(self, history_event_type: Any) -> bool:
        import importlib

        events = importlib.import_module(_LOG_LEVEL_EVENTS)
        return bool(events.is_logging_enabled_for(self._level, history_event_type))

    def publish_history_log(self, history_log: dict[str, Any]) -> None:
        from moto.logs.models import logs_backends

        stamp = history_log["event_timestamp"]
        if isinstance(stamp, str):
            stamp = datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        epoch_ms = int(stamp.timestamp() * 1000)
        message = json.dumps(aws_log_record(history_log, epoch_ms), separators=(",", ":"))
        backend = logs_backends[self._account][self._region]
        try:
            with self._lock:
                if not self._stream_ready:
                    backend.ensure_log_stream(self.group, self.stream)
                    self._stream_ready = True
                backend.put_log_events(
                    self.group, self.stream, [{"timestamp": epoch_ms, "message": message}]
                )
        except Exception as error:  # AWS drops what it cannot deliver; the execution goes on
            self._log.warning(
                "history of %s not written to %s: %s: %s",
                self.execution_arn,
                self.group,
                error.__class__.__name__,
                error,
            )


def patch_interpreter(ctx: LocalCloudContext) -> None:
    """Install Express; stepfunctions.py calls it once moto's interpreter is imported."""
    from moto.core.exceptions import AWSError
    from moto.core.responses import ActionResult
    from moto.stepfunctions.models import StateMachineInstance
    from moto.stepfunctions.parser.backend.execution import Execution, SyncExecution
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend
    from moto.stepfunctions.responses import StepFunctionResponse

    log = ctx.child_logger("stepfunctions")
    logs_lock = threading.Lock()

    class InvalidArnError(AWSError):
        TYPE = "InvalidArn"
        STATUS = 400

    class StateMachineTypeNotSupportedError(AWSError):
        TYPE = "StateMachineTypeNotSupported"
        STATUS = 400

    class InvalidExecutionInputError(AWSError):
        TYPE = "InvalidExecutionInput"
        STATUS = 400

    class TypeValidationError(AWSError):
        TYPE = "ValidationException"
        STATUS = 400

    class ExpressMixin:
        """An Express execution: the definition it runs is capped at 5 minutes."""

        def get_start_state_machine_details(self: Any) -> Any:
            from moto.stepfunctions.parser.api import StateMachineType
            from moto.stepfunctions.parser.asl.eval.evaluation_details import StateMachineDetails

            details = Execution.get_start_state_machine_details(self)
            return StateMachineDetails(
                details.arn,
                details.name,
                StateMachineType.EXPRESS,
                capped_definition(details.definition),
            )

    class ExpressExecution(ExpressMixin, Execution):
        pass

    class ExpressSyncExecution(ExpressMixin, SyncExecution):
        pass

    original_init: Callable[..., None] = StateMachineInstance.__init__

    def init_with_type(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        self.sm_type = self.type  # moto sets "STANDARD" whatever the machine's type

    original_create: Callable[..., Any] = StepFunctionsParserBackend.create_state_machine

    def create_state_machine(self: Any, *args: Any, **kwargs: Any) -> Any:
        sm_type = kwargs.get("sm_type")
        if sm_type is not None and sm_type not in TYPES:
            raise TypeValidationError(
                f"1 validation error detected: Value '{sm_type}' at 'type' failed to satisfy "
                "constraint: Member must satisfy enum value set: [STANDARD, EXPRESS]"
            )
        return original_create(self, *args, **kwargs)

    def new_execution(
        backend: Any, cls: type, machine_arn: str, name: str | None, data: Any, trace: Any
    ) -> Any:
        machine = backend.describe_state_machine(machine_arn)  # StateMachineDoesNotExist
        text = "{}" if data is None else data
        try:
            json.loads(text)
        except ValueError as error:
            raise InvalidExecutionInputError(f"Invalid execution input: {error}") from None
        name = name or str(uuid.uuid4())
        arn = express_execution_arn(machine.arn, name)
        # A snapshot of the machine for this execution, as moto's start_execution takes one,
        # sharing what cannot be copied (a version has no backend of its own).
        memo: dict[int, Any] = {id(machine.executions): []}
        if getattr(machine, "backend", None) is not None:
            memo[id(machine.backend)] = machine.backend
        clone = copy.deepcopy(machine, memo)
        destination = log_destination(machine.loggingConfiguration)
        session = (
            ExpressLogSession(arn, machine.name, destination, logs_lock, log)
            if destination
            else None
        )
        return cls(
            name=name,
            sm_type=EXPRESS,
            role_arn=clone.roleArn,
            exec_arn=arn,
            account_id=backend.account_id,
            region_name=backend.region_name,
            state_machine=clone,
            start_date=datetime.datetime.now(datetime.UTC),
            cloud_watch_logging_session=session,
            input_data=text,
            trace_header=trace,
            activity_store={},
        )

    original_start: Callable[..., Any] = StepFunctionsParserBackend.start_execution

    def start_execution(
        self: Any,
        state_machine_arn: str,
        name: str | None = None,
        execution_input: Any = None,
        trace_header: Any = None,
    ) -> Any:
        machine = self.describe_state_machine(state_machine_arn)
        if machine.type != EXPRESS:
            return original_start(self, state_machine_arn, name, execution_input, trace_header)
        execution = new_execution(
            self, ExpressExecution, state_machine_arn, name, execution_input, trace_header
        )
        # Not kept in the machine's executions: AWS neither describes nor lists them, and a
        # finished one is then only in its log group (its worker thread holds it until then).
        execution.start()
        return execution

    def start_sync_execution(self: Any) -> Any:
        backend = self.stepfunction_backend
        arn = self._get_param("stateMachineArn")
        machine = backend.describe_state_machine(arn)
        if machine.type != EXPRESS:
            raise StateMachineTypeNotSupportedError(NOT_FOR_STANDARD)
        execution = new_execution(
            backend,
            ExpressSyncExecution,
            arn,
            self._get_param("name"),
            self._get_param("input"),
            self._get_param("traceHeader"),
        )
        execution.start()  # moto's SyncExecutionWorker runs the program in this thread
        answer = dict(execution.to_start_sync_execution_output())
        answer["status"] = getattr(answer["status"], "value", answer["status"])
        if answer.get("traceHeader") is None:
            answer.pop("traceHeader", None)
        if self._get_param("includedData") == "METADATA_ONLY":
            for data in ("input", "output"):
                answer.pop(data, None)
            answer["inputDetails"] = answer["outputDetails"] = {"included": False}
        answer["billingDetails"] = billing_details(
            execution.start_date,
            execution.stop_date,
            machine.definition,
            [json.dumps(execution.input_data), answer.get("output") or ""],
        )
        return ActionResult(answer)

    def refused_for_express(original: Callable[..., Any]) -> Callable[..., Any]:
        def handler(self: Any) -> Any:
            if is_express_arn(self._get_param("executionArn") or ""):
                raise InvalidArnError(NOT_FOR_EXPRESS)
            return original(self)

        handler.__name__ = original.__name__
        return handler

    patch_attribute(StateMachineInstance, "__init__", init_with_type)
    patch_attribute(StepFunctionsParserBackend, "create_state_machine", create_state_machine)
    patch_attribute(StepFunctionsParserBackend, "start_execution", start_execution)
    patch_attribute(
        StepFunctionResponse, "start_sync_execution", start_sync_execution, replaces=False
    )
    for action in REFUSED_FOR_EXPRESS:
        original = getattr(StepFunctionResponse, action)
        patch_attribute(StepFunctionResponse, action, refused_for_express(original))

    original_list: Callable[..., Any] = StepFunctionResponse.list_executions

    def list_executions(self: Any) -> Any:
        arn = self._get_param("stateMachineArn")
        if arn and not self._get_param("mapRunArn"):
            machine = self.stepfunction_backend.describe_state_machine(arn)
            if machine.type == EXPRESS:  # a map run's Express children are listed by mapRunArn
                raise StateMachineTypeNotSupportedError(NOT_FOR_STANDARD)
        return original_list(self)

    patch_attribute(StepFunctionResponse, "list_executions", list_executions)
    log.info("Express workflows: StartSyncExecution, express ARNs, history in the log group")
