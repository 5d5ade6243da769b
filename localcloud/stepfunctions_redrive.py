"""RedriveExecution, which moto 5.2.5 lacks: a failed, aborted or timed-out Standard execution
goes on from the state where it stopped, and a Distributed Map there runs only its unsuccessful
children again.

What AWS does (https://docs.aws.amazon.com/step-functions/latest/dg/redrive-executions.html,
https://docs.aws.amazon.com/step-functions/latest/dg/redrive-map-run.html, API reference
RedriveExecution): only an execution that ended FAILED, ABORTED or TIMED_OUT, of a STANDARD
machine, within 14 days of its start, may be redriven (else ExecutionNotRedrivable); it keeps its
ARN and input, its status goes back to RUNNING, `redriveCount` rises and `redriveDate` is set; it
restarts at the state that did not succeed, with that state's input; a Distributed Map state
re-runs the child executions that failed, aborted or timed out and keeps the results of the
ones that succeeded.

Here, where it differs: the execution's event history restarts with the redrive (AWS appends
to it), and the redriven Distributed Map is a new map run with its own ARN (AWS redrives the same
map run and counts `redriveCount` on it). The children that succeeded are recognised by their
reader item (the same key with the same Etag and size), and their results go into the new run's
ResultWriter files as they were.
"""

from __future__ import annotations

import datetime
import json
from typing import Any

from localcloud.plugin import LocalCloudContext, patch_attribute
from localcloud.stepfunctions_map import MapRuns

REDRIVABLE = frozenset({"FAILED", "ABORTED", "TIMED_OUT"})
REDRIVE_DAYS = 14
_EXECUTION = "moto.stepfunctions.parser.backend.execution.Execution"
# The moto attributes this module patches or adds; tests/localcloud checks they still fit.
PATCHED = {
    "moto.stepfunctions.responses.StepFunctionResponse": [
        "redrive_execution (added)",
        "describe_execution",
    ],
    _EXECUTION: ["get_start_state_machine_details", "get_start_execution_details"],
}


def redrive_point(definition: dict[str, Any], events: list[dict[str, Any]]) -> tuple[str, Any]:
    """(name, input) of the last top-level state the execution entered: where it stopped."""
    top_level = set(definition["States"])
    for event in reversed(events):
        details = event.get("stateEnteredEventDetails")
        if details and details.get("name") in top_level:
            return str(details["name"]), json.loads(details.get("input") or "{}")
    return str(definition["StartAt"]), None


def patch_interpreter(ctx: LocalCloudContext, runs: MapRuns) -> None:
    """Install RedriveExecution; stepfunctions.py calls it once moto's interpreter is imported."""
    from moto.core.exceptions import AWSError
    from moto.core.responses import ActionResult
    from moto.stepfunctions.parser.asl.eval.evaluation_details import (
        ExecutionDetails,
        StateMachineDetails,
    )
    from moto.stepfunctions.parser.backend.execution import Execution
    from moto.stepfunctions.responses import StepFunctionResponse

    class ExecutionNotRedrivableError(AWSError):
        TYPE = "ExecutionNotRedrivable"
        STATUS = 400

    original_machine = Execution.get_start_state_machine_details
    original_details = Execution.get_start_execution_details
    original_describe = StepFunctionResponse.describe_execution

    def get_start_state_machine_details(self: Any) -> Any:
        details = original_machine(self)
        redriven = getattr(self, "localcloud_redrive_definition", None)
        if redriven is None:
            return details
        return StateMachineDetails(details.arn, details.name, details.typ, redriven)

    def get_start_execution_details(self: Any) -> Any:
        details = original_details(self)
        redriven = getattr(self, "localcloud_redrive_input", None)
        if redriven is None:
            return details
        return ExecutionDetails(
            details.arn, details.name, details.role_arn, redriven, details.start_time
        )

    def describe_execution(self: Any) -> Any:
        answer = original_describe(self)
        described = answer.result
        assert isinstance(described, dict)  # moto's describe_execution answers a dict
        execution = self.stepfunction_backend.describe_execution(described["executionArn"])
        described["redriveCount"] = getattr(execution, "localcloud_redrive_count", 0)
        if getattr(execution, "localcloud_redrive_date", None) is not None:
            described["redriveDate"] = execution.localcloud_redrive_date
        return answer

    def redrive_execution(self: Any) -> Any:
        arn = self._get_param("executionArn")
        execution = self.stepfunction_backend.describe_execution(arn)  # ExecutionDoesNotExist
        status = execution.status
        if execution.state_machine.sm_type != "STANDARD":
            raise ExecutionNotRedrivableError(f"Execution {arn} is of an EXPRESS state machine")
        if status not in REDRIVABLE:
            raise ExecutionNotRedrivableError(f"Execution {arn} is {status}: nothing to redrive")
        now = datetime.datetime.now(datetime.UTC)
        if now - execution.start_date > datetime.timedelta(days=REDRIVE_DAYS):
            raise ExecutionNotRedrivableError(
                f"Execution {arn} started over {REDRIVE_DAYS} days ago"
            )
        worker = execution.exec_worker
        env = getattr(worker, "env", None)
        events = list(env.event_manager.get_event_history()) if env is not None else []
        definition = json.loads(execution.state_machine.definition)
        state, state_input = redrive_point(definition, events)
        pool = env.map_run_record_pool_manager if env is not None else None
        map_runs = [r.map_run_arn for r in pool.get_all()] if pool is not None else []
        kept = runs.carry_over(arn, map_runs)
        definition["StartAt"] = state
        execution.localcloud_redrive_definition = json.dumps(definition)
        if state_input is not None:
            execution.localcloud_redrive_input = state_input
        execution.localcloud_redrive_count = getattr(execution, "localcloud_redrive_count", 0) + 1
        execution.localcloud_redrive_date = now
        execution.stop_date = execution.error = execution.cause = execution.output = None
        execution.exec_worker = None
        execution.start()
        ctx.child_logger("stepfunctions").info(
            "redrive %s from %s (%d map children kept)", arn, state, kept
        )
        return ActionResult({"redriveDate": now})

    patch_attribute(Execution, "get_start_state_machine_details", get_start_state_machine_details)
    patch_attribute(Execution, "get_start_execution_details", get_start_execution_details)
    patch_attribute(StepFunctionResponse, "describe_execution", describe_execution)
    patch_attribute(StepFunctionResponse, "redrive_execution", redrive_execution, replaces=False)
