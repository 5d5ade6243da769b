"""Step Functions beyond plain moto: definition validation, versions, unnamed executions."""

from __future__ import annotations

import datetime
import hashlib
import json
import threading
import uuid
from collections.abc import Callable
from typing import Any

from localcloud import (
    stepfunctions_express,
    stepfunctions_map,
    stepfunctions_redrive,
    stepfunctions_speed,
)
from localcloud.asl_validation import Diagnostic, validate_definition
from localcloud.plugin import (
    LocalCloudContext,
    MotoVersionError,
    patch_attribute,
    require_moto_version,
)

# The moto attributes this module patches or adds; tests/localcloud checks they still fit.
PATCHED = {
    "moto.stepfunctions.responses.StepFunctionResponse": [
        "_describe_state_machine",
        "stepfunction_backend (property)",
        "validate_state_machine_definition (added)",
        "list_state_machine_versions (added)",
    ],
    "moto.stepfunctions.parser.models.StepFunctionsParserBackend": [
        "start_execution",
        "_validate_definition",
    ],
    "moto.stepfunctions.parser.asl (14 modules, _BOTO_CLIENT_USERS)": ["boto_client_for"],
    "moto.stepfunctions.parser.backend.execution_worker": ["ExecutionData"],
    "moto.stepfunctions.parser.asl.component.state.state": ["StateData"],
    "moto.stepfunctions.parser.asl.parse.asl_parser.AmazonStateLanguageParser": ["parse"],
}


def _revision_id(state_machine: Any) -> str:
    """A revision that changes whenever what Terraform manages changes, like AWS's revisionId."""
    managed = [
        state_machine.definition,
        state_machine.roleArn,
        state_machine.loggingConfiguration,
        state_machine.tracingConfiguration,
        state_machine.encryptionConfiguration,
    ]
    return str(
        uuid.UUID(hashlib.sha256(json.dumps(managed, default=str).encode()).hexdigest()[:32])
    )


def install(ctx: LocalCloudContext) -> None:
    require_moto_version()
    from moto.core.responses import ActionResult
    from moto.stepfunctions.responses import StepFunctionResponse

    def validate_state_machine_definition(self: StepFunctionResponse) -> ActionResult:
        definition = self._get_param("definition")
        max_results = self._get_int_param("maxResults") or 100
        diagnostics = validate_definition(definition) or _interpreter_diagnostics(definition)
        return ActionResult(
            {
                "result": "FAIL" if diagnostics else "OK",
                "diagnostics": [d.as_dict() for d in diagnostics[:max_results]],
                "truncated": len(diagnostics) > max_results,
            }
        )

    def list_state_machine_versions(self: StepFunctionResponse) -> ActionResult:
        arn = self._get_param("stateMachineArn")
        machine = self.stepfunction_backend.describe_state_machine(arn)
        versions = sorted(machine.versions.values(), key=lambda v: v.version, reverse=True)
        return ActionResult(
            {
                "stateMachineVersions": [
                    {"stateMachineVersionArn": v.arn, "creationDate": v.creation_date}
                    for v in versions
                ]
            }
        )

    original_describe = StepFunctionResponse._describe_state_machine

    def describe_with_revision(self: StepFunctionResponse, state_machine_arn: str) -> Any:
        result = original_describe(self, state_machine_arn)
        machine = self.stepfunction_backend.describe_state_machine(state_machine_arn)
        response = dict(result.result)  # type: ignore[call-overload]
        response["revisionId"] = _revision_id(machine)
        return ActionResult(response)

    patch_attribute(
        StepFunctionResponse,
        "validate_state_machine_definition",
        validate_state_machine_definition,
        replaces=False,
    )
    patch_attribute(
        StepFunctionResponse,
        "list_state_machine_versions",
        list_state_machine_versions,
        replaces=False,
    )
    patch_attribute(StepFunctionResponse, "_describe_state_machine", describe_with_revision)

    # Importing moto's interpreter (an ANTLR parser) takes seconds; do it while the server
    # starts answering, and hold any Step Functions request until it is patched.
    interpreter_ready = threading.Event()
    original_backend = StepFunctionResponse.stepfunction_backend

    def backend_when_ready(self: StepFunctionResponse) -> Any:
        interpreter_ready.wait()
        return original_backend.fget(self)  # type: ignore[attr-defined]

    patch_attribute(StepFunctionResponse, "stepfunction_backend", property(backend_when_ready))

    runs = stepfunctions_map.MapRuns()

    def patch_interpreter() -> None:
        log = ctx.child_logger("stepfunctions")
        try:
            _patch_interpreter(ctx)
            stepfunctions_map.patch_interpreter(ctx, runs)
            stepfunctions_redrive.patch_interpreter(ctx, runs)
            stepfunctions_speed.patch_interpreter(ctx)
            stepfunctions_express.patch_interpreter(ctx)
            log.info("Step Functions interpreter patched")
        except Exception:  # in a thread nobody joins: say it loudly in the server log
            log.exception("Step Functions interpreter NOT patched; executions will misbehave")
        finally:
            interpreter_ready.set()

    threading.Thread(target=patch_interpreter, name="sfn-interpreter", daemon=True).start()
    ctx.child_logger("stepfunctions").info("Step Functions validation and versions installed")


def _patch_interpreter(ctx: LocalCloudContext) -> None:
    from moto.core.exceptions import AWSError
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    original_start: Callable[..., Any] = StepFunctionsParserBackend.start_execution

    def start_execution(
        self: Any, state_machine_arn: str, name: str | None = None, *args: Any, **kwargs: Any
    ) -> Any:
        # AWS names an unnamed execution with a UUID; moto 5.2.5 names every one `None`, so the
        # second unnamed execution fails with ExecutionAlreadyExists.
        return original_start(self, state_machine_arn, name or str(uuid.uuid4()), *args, **kwargs)

    original_validate: Callable[[str], None] = StepFunctionsParserBackend._validate_definition

    def validate_on_create(definition: str) -> None:
        # Reject at create/update what AWS rejects, with AWS's message shape.
        diagnostics = validate_definition(definition)
        if diagnostics:
            raise AWSError(
                "Invalid State Machine Definition: '" + ", ".join(map(str, diagnostics)) + "'",
                exception_type="InvalidDefinition",
            )
        original_validate(definition)

    patch_attribute(StepFunctionsParserBackend, "start_execution", start_execution)
    patch_attribute(
        StepFunctionsParserBackend, "_validate_definition", staticmethod(validate_on_create)
    )
    _sign_interpreter_calls(ctx)
    _context_object_times_as_aws_writes_them()
    _parse_each_definition_once()


def interpreter_definition(definition: str) -> str:
    """The definition as moto 5.2.5's ASL grammar reads it, meaning what AWS means by it.

    Two things AWS accepts that the bundled grammar (asl/antlr/runtime/ASLParser.py) refuses:
    - an integer ToleratedFailurePercentage (the grammar's rule takes only a NUMBER token, so
      Terraform's jsonencode(10) fails while 10.0 parses); AWS takes 0-100, integer or not
      (https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html);
    - ProcessorConfig ExecutionType EXPRESS (the grammar knows only STANDARD). The local cloud
      runs a Distributed Map's children as the interpreter's child executions either way; what
      Express changes on AWS (at-least-once, no per-child history, 5 minutes) is not simulated.
    Anything else is returned unchanged, byte for byte.
    """
    if "ToleratedFailurePercentage" not in definition and "EXPRESS" not in definition:
        return definition
    try:
        document = json.loads(definition)
    except ValueError:
        return definition  # the parser reports the syntax error itself

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            percentage = node.get("ToleratedFailurePercentage")
            if isinstance(percentage, int) and not isinstance(percentage, bool):
                node["ToleratedFailurePercentage"] = float(percentage)
            config = node.get("ProcessorConfig")
            if isinstance(config, dict) and config.get("ExecutionType") == "EXPRESS":
                config["ExecutionType"] = "STANDARD"
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(document)
    return json.dumps(document, ensure_ascii=False)


def _parse_each_definition_once() -> None:
    """Parse a definition once, not on every execution; then evaluate a fresh program each time.

    moto's execution worker (parser/backend/execution_worker.py) calls
    AmazonStateLanguageParser.parse on every StartExecution: ANTLR's Python runtime takes about
    90 ms for the classify workflow, the preprocessing into evaluation components about 19 ms.
    The parse tree is read-only after parsing, so it is kept per definition text (the 64 most
    recent); the components, which hold per-execution state, are built anew from it each time.
    """
    from moto.stepfunctions.parser.asl.parse import asl_parser
    from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

    parser = asl_parser.AmazonStateLanguageParser
    original_parse: Callable[[str], Any] = parser.parse
    trees: dict[str, Any] = {}
    lock = threading.Lock()
    kept = 64

    def parse(definition: str) -> tuple[Any, Any]:
        with lock:
            tree = trees.get(definition)
        if tree is None:
            _, tree = original_parse(interpreter_definition(definition))  # raises on errors
            with lock:
                trees[definition] = tree
                while len(trees) > kept:
                    trees.pop(next(iter(trees)))
        return Preprocessor().visit(tree), tree

    patch_attribute(parser, "parse", staticmethod(parse))


def aws_timestamp(value: Any) -> Any:
    """A context-object time as Step Functions gives it: ISO 8601, milliseconds, UTC, "Z".

    https://docs.aws.amazon.com/step-functions/latest/dg/input-output-contextobject.html shows
    "StartTime": "2019-03-26T20:14:13.192Z" and "EnteredTime": "2019-03-26T20:14:13.192Z".
    """
    if isinstance(value, str):
        try:
            value = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.UTC)
        utc = value.astimezone(datetime.UTC)
        return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
    return value


def _context_object_times_as_aws_writes_them() -> None:
    """$$.Execution.StartTime and $$.State.EnteredTime as strings in AWS's format.

    moto 5.2.5 puts the execution's start in the context object as a datetime, so any state that
    passes $$.Execution.StartTime to a service integration fails with "Object of type datetime
    is not JSON serializable"; $$.State.EnteredTime is isoformat() (microseconds, +00:00).
    """
    import importlib

    worker = importlib.import_module("moto.stepfunctions.parser.backend.execution_worker")
    state = importlib.import_module("moto.stepfunctions.parser.asl.component.state.state")
    execution_data: Callable[..., Any] = worker.ExecutionData
    state_data: Callable[..., Any] = state.StateData

    def execution_data_with_aws_time(**fields: Any) -> Any:
        if "StartTime" in fields:
            fields["StartTime"] = aws_timestamp(fields["StartTime"])
        return execution_data(**fields)

    def state_data_with_aws_time(**fields: Any) -> Any:
        if "EnteredTime" in fields:
            fields["EnteredTime"] = aws_timestamp(fields["EnteredTime"])
        return state_data(**fields)

    patch_attribute(worker, "ExecutionData", execution_data_with_aws_time)
    patch_attribute(state, "StateData", state_data_with_aws_time)


# Every module of moto 5.2.5's interpreter that imported boto_client_for by name (found with
# `grep -rn "import boto_client_for" moto/stepfunctions/parser`); each needs the patched one.
_BOTO_CLIENT_USERS = tuple(
    "moto.stepfunctions.parser.asl." + name
    for name in (
        "utils.boto_client",
        "component.state.exec.state_map.item_reader.eval.resource_eval_s3",
        "component.state.exec.state_map.result_writer.resource_eval.resource_eval_s3",
        "component.state.exec.state_task.lambda_eval_utils",
        *(
            f"component.state.exec.state_task.service.state_task_service_{service}"
            for service in (
                "aws_sdk",
                "batch",
                "dynamodb",
                "ecs",
                "events",
                "glue",
                "sfn",
                "sns",
                "sqs",
                "unsupported",
            )
        ),
    )
)


def _sign_interpreter_calls(ctx: LocalCloudContext) -> None:
    """The interpreter's calls to Lambda, S3, DynamoDB... signed with the issued key.

    moto's boto_client_for (asl/utils/boto_client.py) builds a new client per task, signed
    with the constant key "ak"/"sk" and sent to localhost:MOTO_PORT. The local cloud refuses
    that key, so every module's reference is replaced by one that signs with the issued key,
    and keeps one client per (region, service): creating one was a fifth of an execution.
    """
    import importlib

    from botocore.config import Config

    first = importlib.import_module(_BOTO_CLIENT_USERS[0])
    original: Callable[..., Any] = first.boto_client_for
    # The interpreter's own settings: no SDK retries (Retry is the state machine's), its timeout.
    from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import TimeoutSeconds

    config = Config(
        parameter_validation=False,
        retries={"max_attempts": 0, "total_max_attempts": 1},
        connect_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
        read_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
        max_pool_connections=32,
    )
    clients: dict[tuple[str, str], Any] = {}
    lock = threading.Lock()

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        import boto3

        # moto ignores state_credentials (no cross-account roles locally), so the key omits it.
        with lock:  # creating boto3 clients is not thread-safe; using one is
            if (region, service) not in clients:
                clients[region, service] = boto3.session.Session().client(
                    service,
                    region_name=region,
                    endpoint_url=ctx.endpoint_url,
                    aws_access_key_id=ctx.credentials.access_key_id,
                    aws_secret_access_key=ctx.credentials.secret_access_key,
                    config=config,
                )
            return clients[region, service]

    for name in _BOTO_CLIENT_USERS:
        module = importlib.import_module(name)
        if getattr(module, "boto_client_for", None) is not original:
            raise MotoVersionError(
                f"{name} no longer imports moto's boto_client_for; review the localcloud patch "
                "that signs the Step Functions interpreter's calls"
            )
        patch_attribute(module, "boto_client_for", boto_client_for)


def _interpreter_diagnostics(definition: str) -> list[Diagnostic]:
    """What moto's interpreter itself cannot parse, so validation agrees with execution."""
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    try:
        AmazonStateLanguageParser.parse(definition)
    except Exception as error:  # the parser raises many kinds; each is a finding, not a crash
        return [Diagnostic("SCHEMA_VALIDATION_FAILED", f"{error.__class__.__name__}: {error}")]
    return []
