"""Step Functions' Distributed Map beyond moto 5.2.5: what a batch over an S3 prefix needs.

moto's bundled interpreter (LocalStack's, under moto/stepfunctions/parser/) runs a Distributed
Map: an ItemReader, ItemSelector, MaxConcurrency, a map run with DescribeMapRun/ListMapRuns, and
a ResultWriter that writes manifest.json. What it lacks, and this module adds:

- ItemReader `arn:aws:states:::s3:listObjectsV2` reads only the first page (1,000 keys) and
  passes boto3's shape. AWS lists the whole prefix, each item as {Etag, Key, LastModified (epoch
  seconds), Size, StorageClass} (the "S3 objects" example of
  https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itemreader.html).
- ToleratedFailureCount/Percentage are parsed and never enforced. AWS fails the map run with
  States.ExceedToleratedFailureThreshold when the failed items exceed either
  (https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html#maprun-fail-threshold).
  Here the check runs once every item has run (AWS may stop earlier).
- The map run's execution counts leave a failed child `running`.
- ResultWriter writes a manifest whose ResultFiles are always empty. AWS writes the children's
  results grouped by status, SUCCEEDED_0.json, FAILED_0.json (JSON arrays of {ExecutionArn,
  Input, InputDetails, Name, Output | Error + Cause, OutputDetails, RedriveCount, RedriveStatus,
  StartDate, StateMachineArn, Status, StopDate}), and lists each file with its Key and Size in
  manifest.json (https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html),
  also when the run fails.
- ListExecutions with mapRunArn answers 500 (moto reads a state machine ARN that is None); here
  it lists the map run's children.
- DescribeMapRun of an unknown ARN answers 500 (moto builds its ResourceNotFound without the
  message it requires); here it is AWS's ResourceNotFound. DescribeMapRun and ListMapRuns also
  answer 500 while any execution is starting (moto reads its not yet built environment); here
  such an execution has no map runs yet.
- moto's worker runs its next child by calling itself (DistributedItemProcessorWorker._eval_pool
  recurses once per item), so a worker dies of RecursionError after about 950 children and the
  map run waits for it forever: 10,000 items at MaxConcurrency 8 hung at 7,896. Here the worker
  loops instead, with the same steps in the same order.
"""

from __future__ import annotations

import datetime
import importlib
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from localcloud.plugin import LocalCloudContext, patch_attribute

_MAP = "moto.stepfunctions.parser.asl.component.state.exec.state_map"
# The moto attributes this module patches or adds; tests/localcloud checks they still fit.
PATCHED = {
    f"{_MAP}.item_reader.eval.resource_eval_s3.ResourceEvalS3": ["_handle_list_objects_v2"],
    f"{_MAP}.iteration.itemprocessor.distributed_item_processor_worker."
    "DistributedItemProcessorWorker": ["_eval_job", "_eval_pool"],
    f"{_MAP}.iteration.distributed_iteration_component.DistributedIterationComponent": ["_map_run"],
    f"{_MAP}.state_map.StateMap": ["_eval_execution"],
    f"{_MAP}.result_writer.resource_eval.resource_eval_s3.ResourceEvalS3": ["_handle_put_object"],
    "moto.stepfunctions.responses.StepFunctionResponse": ["list_executions"],
    "moto.stepfunctions.parser.models.StepFunctionsParserBackend": [
        "describe_map_run",
        "list_map_runs",
    ],
}
EXCEEDED = "States.ExceedToleratedFailureThreshold"
EXCEEDED_CAUSE = "The specified tolerated failure threshold was exceeded"
# AWS splits a result file at 5 GB; a local run never comes near, so one file per status.
STATUS_FILES = ("SUCCEEDED", "FAILED", "PENDING")


@dataclass
class ChildRun:
    """One item of a map run, as its child execution ended."""

    index: int
    name: str
    arn: str
    input: Any
    started: datetime.datetime
    item: Any = None  # the reader's item, before ItemSelector: what a redrive matches on
    redrive_count: int = 0
    status: str = "RUNNING"
    output: Any = None
    error: str | None = None
    cause: str | None = None
    stopped: datetime.datetime | None = None

    def result(self, state_machine_arn: str) -> dict[str, Any]:
        """The child as a ResultWriter file lists it."""
        entry: dict[str, Any] = {
            "ExecutionArn": self.arn,
            "Input": json.dumps(self.input),
            "InputDetails": {"Included": True},
            "Name": self.name,
            "RedriveCount": self.redrive_count,
            "RedriveStatus": "NOT_REDRIVABLE",
            "StartDate": _iso(self.started),
            "StateMachineArn": state_machine_arn,
            "Status": self.status,
            "StopDate": _iso(self.stopped or self.started),
        }
        if self.status == "SUCCEEDED":
            entry |= {"Output": json.dumps(self.output), "OutputDetails": {"Included": True}}
        else:
            entry |= {"Error": self.error or "", "Cause": self.cause or ""}
        return entry


@dataclass
class MapRuns:
    """Every map run's children, by map run ARN (the plugin's one state object), and for an
    execution being redriven, the children that already succeeded, by their item."""

    children: dict[str, list[ChildRun]] = field(default_factory=dict)
    carried: dict[str, dict[str, ChildRun]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def carry_over(self, execution_arn: str, map_run_arns: list[str]) -> int:
        """Keep the succeeded children of these map runs for the execution's redrive."""
        with self.lock:
            kept: dict[str, ChildRun] = {}
            for map_run_arn in map_run_arns:
                for child in self.children.get(map_run_arn, []):
                    if child.status == "SUCCEEDED":
                        kept[item_key(child.item)] = child
            self.carried[execution_arn] = kept
            return len(kept)

    def succeeded_before(self, execution_arn: str, item: Any) -> ChildRun | None:
        with self.lock:
            return self.carried.get(execution_arn, {}).get(item_key(item))

    def start(self, map_run_arn: str, child: ChildRun) -> None:
        with self.lock:
            self.children.setdefault(map_run_arn, []).append(child)

    def of(self, map_run_arn: str) -> list[ChildRun]:
        with self.lock:
            return sorted(self.children.get(map_run_arn, []), key=lambda child: child.index)


def item_key(item: Any) -> str:
    """An item as a redrive recognises it: the same object listed again (Key, Etag, Size...)."""
    return json.dumps(item, sort_keys=True, default=str)


def _iso(when: datetime.datetime) -> str:
    return when.astimezone(datetime.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def s3_item(content: dict[str, Any]) -> dict[str, Any]:
    """A ListObjectsV2 Contents entry as the Distributed Map hands it to a child."""
    modified = content.get("LastModified")
    return {
        "Etag": content.get("ETag", ""),
        "Key": content["Key"],
        "LastModified": int(modified.timestamp()) if modified is not None else 0,
        "Size": content.get("Size", 0),
        "StorageClass": content.get("StorageClass", "STANDARD"),
    }


def list_every_object(s3_client: Any, parameters: dict[str, Any]) -> list[dict[str, Any]]:
    """Every object of the listing, page after page (ContinuationToken), in AWS's item shape."""
    request = dict(parameters)
    items: list[dict[str, Any]] = []
    while True:
        page = s3_client.list_objects_v2(**request)
        items.extend(s3_item(content) for content in page.get("Contents", []))
        token = page.get("NextContinuationToken")
        if not page.get("IsTruncated") or not token:
            return items
        request["ContinuationToken"] = token


def exceeds_tolerance(failed: int, total: int, count: int, percentage: float) -> bool:
    """Whether the failed items pass either threshold (both 0 by default: any failure)."""
    if failed == 0:
        return False
    return failed > count and (total == 0 or failed * 100.0 / total > percentage)


def result_files(
    runs: MapRuns, map_run_arn: str, state_machine_arn: str
) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """(status, entries) for each status that has children, in the order AWS lists them."""
    by_status: dict[str, list[dict[str, Any]]] = {}
    for child in runs.of(map_run_arn):
        status = "PENDING" if child.status == "RUNNING" else child.status
        group = (
            "SUCCEEDED" if status == "SUCCEEDED" else "PENDING" if status == "PENDING" else "FAILED"
        )
        by_status.setdefault(group, []).append(child.result(state_machine_arn))
    for status in STATUS_FILES:
        if by_status.get(status):
            yield status, by_status[status]


def patch_interpreter(ctx: LocalCloudContext, runs: MapRuns) -> None:
    """Install the patches; stepfunctions.py calls it once moto's interpreter is imported."""
    _patch_item_reader()
    _patch_children(runs)
    _patch_worker_loop()
    _patch_tolerance()
    _patch_result_writer(runs)
    _patch_list_executions(runs)
    _patch_describe_map_run()
    ctx.child_logger("stepfunctions").info("Distributed Map: listing, tolerance, results added")


def _patch_item_reader() -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.eval import (
        resource_eval_s3,
    )

    reader = resource_eval_s3.ResourceEvalS3

    def handle_list_objects_v2(env: Any, resource_runtime_part: Any, credentials: Any) -> None:
        s3_client = reader._get_s3_client(
            resource_runtime_part=resource_runtime_part, state_credentials=credentials
        )
        parameters = env.stack.pop()
        env.stack.append(list_every_object(s3_client, parameters))

    patch_attribute(reader, "_handle_list_objects_v2", staticmethod(handle_list_objects_v2))


def _patch_children(runs: MapRuns) -> None:
    worker_module = importlib.import_module(
        f"{_MAP}.iteration.itemprocessor.distributed_item_processor_worker"
    )
    from moto.stepfunctions.parser.asl.eval.program_state import ProgramError, ProgramStopped
    from moto.stepfunctions.parser.asl.eval.states import ItemData, MapData

    worker = worker_module.DistributedItemProcessorWorker

    def eval_job(self: Any, env: Any, job: Any) -> None:
        # moto's _eval_job, with each child recorded and every counter moved once.
        record = self._map_run_record
        items, executions = record.item_counter, record.execution_counter
        for counter in (items, executions):
            counter.total.count()
            counter.running.count()
        parent_arn = env.states.context_object.context_object_data["Execution"]["Id"]
        done = runs.succeeded_before(parent_arn, job.job_input)
        if done is not None:
            # A redrive runs only the children that did not succeed; this one's result stands.
            runs.start(record.map_run_arn, done)
            for counter in (items, executions):
                counter.running.offset(-1)
                counter.succeeded.count()
                counter.results_written.count()
            job.job_output = done.output
            return
        name = str(uuid.uuid4())
        child = ChildRun(
            index=job.job_index,
            name=name,
            arn=record.map_state_machine_arn.replace(":stateMachine:", ":execution:", 1)
            + f":{name}",
            input=job.job_input,
            started=_now(),
            item=job.job_input,
        )
        runs.start(record.map_run_arn, child)
        job_output = None
        try:
            context = env.states.context_object.context_object_data
            context["Map"] = MapData(Item=ItemData(Index=job.job_index, Value=job.job_input))
            # A child is an execution of its own: $$.Execution is the child's, as on AWS (moto
            # shares the parent's dict with every child frame).
            context["Execution"] = {
                **context["Execution"],
                "Id": child.arn,
                "Name": child.name,
                "StartTime": _iso(child.started),
                "Input": job.job_input,
            }
            env.states.reset(job.job_input)
            env.stack.append(env.states.get_input())
            self._eval_input(env_frame=env)
            # The child's input is the item after ItemSelector, as AWS records it.
            child.input = env.states.get_input()
            job.job_program.eval(env)
            end = env.program_state()
            if isinstance(end, ProgramError):
                details = end.error or {}
                child.status, child.error = "FAILED", details.get("error")
                child.cause = details.get("cause")
            elif isinstance(end, ProgramStopped):
                child.status = "ABORTED"
            else:
                child.status, child.output = "SUCCEEDED", env.states.get_input()
                job_output = child.output
        except Exception as error:  # a timeout, a failure event or a bug: the child failed
            from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
                FailureEventException,
            )
            from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import (
                EvalTimeoutError,
            )

            if isinstance(error, EvalTimeoutError):
                child.status, child.error = "TIMED_OUT", "States.Timeout"
            else:
                child.status = "FAILED"
                pair = (
                    error.extract_error_cause_pair()
                    if isinstance(error, FailureEventException)
                    else None
                )
                child.error, child.cause = pair or ("States.Runtime", str(error))
        finally:
            if child.status != "SUCCEEDED" and isinstance(
                self._env.program_state(), ProgramStopped
            ):
                # The parent was stopped: AWS aborts its running children.
                child.status, child.error, child.cause = "ABORTED", None, None
            child.stopped = _now()
            for counter in (items, executions):
                counter.running.offset(-1)
                {
                    "SUCCEEDED": counter.succeeded,
                    "FAILED": counter.failed,
                    "TIMED_OUT": counter.timed_out,
                    "ABORTED": counter.aborted,
                }[child.status].count()
            if child.status == "SUCCEEDED":
                items.results_written.count()
                executions.results_written.count()
            job.job_output = job_output

    patch_attribute(worker, "_eval_job", eval_job)


def _patch_worker_loop() -> None:
    worker_module = importlib.import_module(
        f"{_MAP}.iteration.itemprocessor.distributed_item_processor_worker"
    )
    worker = worker_module.DistributedItemProcessorWorker

    def eval_pool(self: Any, job: Any, worker_frame: Any) -> None:
        # moto's _eval_pool as a loop: its tail call to itself held one frame per child run.
        while job is not None:
            job_frame = worker_frame.open_inner_frame()
            self._eval_job(env=job_frame, job=job)
            worker_frame.delete_frame(job_frame)
            if isinstance(job.job_output, Exception) or self.stopped():
                # The child raised, or the worker was stopped: this worker ends here.
                self._env.delete_frame(worker_frame)
                self._job_pool.close_job(job)
                return
            next_job = self._job_pool.next_job()
            if next_job is None:
                # The frame closes before the job, so the map state sees its environment
                # updated when it wakes for the last job (as moto orders it).
                self._env.delete_frame(worker_frame)
                self._job_pool.close_job(job)
                return
            self._job_pool.close_job(job)
            job = next_job
        self._env.delete_frame(worker_frame)

    patch_attribute(worker, "_eval_pool", eval_pool)


def _patch_tolerance() -> None:
    from moto.stepfunctions.parser.api import (
        HistoryEventType,
        MapRunFailedEventDetails,
        MapRunStatus,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
        StatesErrorName,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map import state_map
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import (
        distributed_iteration_component as component_module,
    )
    from moto.stepfunctions.parser.asl.eval.program_state import ProgramStopped

    component = component_module.DistributedIterationComponent
    original_map_run: Callable[..., None] = component._map_run

    def map_run(self: Any, env: Any, eval_input: Any) -> None:
        original_map_run(self, env, eval_input)  # every item has run; outputs on the stack
        if isinstance(env.program_state(), ProgramStopped):
            # StopExecution: the map run is ABORTED (moto marks it SUCCEEDED once this returns),
            # not failed by its aborted children.
            record = eval_input.map_run_record
            kind = type(record)
            record.set_stop = lambda status: kind.set_stop(record, MapRunStatus.ABORTED)
            return
        record = eval_input.map_run_record
        counts = record.item_counter
        failed = counts.failed.get() + counts.timed_out.get() + counts.aborted.get()
        if exceeds_tolerance(
            failed,
            counts.total.get(),
            int(record.tolerated_failure_count or 0),
            float(record.tolerated_failure_percentage or 0.0),
        ):
            details = MapRunFailedEventDetails(error=EXCEEDED, cause=EXCEEDED_CAUSE)
            # moto's EventDetails is a TypedDict of every kind of detail; one is given.
            event_details: Any = {"mapRunFailedEventDetails": details}
            failure = FailureEventException(
                FailureEvent(
                    env=env,
                    error_name=StatesErrorName(
                        StatesErrorNameType.StatesExceedToleratedFailureThreshold
                    ),
                    event_type=HistoryEventType.MapRunFailed,
                    event_details=event_details,
                )
            )
            # The component's own handler records MapRunFailed and stops the run as FAILED.
            raise failure

    patch_attribute(component, "_map_run", map_run)

    state = state_map.StateMap
    original_execution: Callable[..., None] = state._eval_execution

    def eval_execution(self: Any, env: Any) -> None:
        try:
            original_execution(self, env)
        except FailureEventException as failure:
            pair = failure.extract_error_cause_pair()
            if self.result_writer is not None and pair is not None and pair[0] == EXCEEDED:
                # AWS writes the results of a failed run too; the outputs are still stacked.
                self.result_writer.eval(env)
                env.stack.pop()  # the writer's details: the state fails, it has no output
            raise

    patch_attribute(state, "_eval_execution", eval_execution)


def _patch_result_writer(runs: MapRuns) -> None:
    resource_eval_s3 = importlib.import_module(
        f"{_MAP}.result_writer.resource_eval.resource_eval_s3"
    )

    writer = resource_eval_s3.ResourceEvalS3

    def handle_put_object(env: Any, resource_runtime_part: Any, credentials: Any) -> None:
        parameters = dict(env.stack.pop())
        env.stack.pop()  # the children's outputs: the files below hold them
        s3_client = writer._get_s3_client(
            resource_runtime_part=resource_runtime_part, state_credentials=credentials
        )
        record = env.map_run_record_pool_manager.get_all()[-1]
        run_id = record.map_run_arn.split(":")[-1]
        prefix = str(parameters.get("Prefix", ""))
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        bucket = parameters["Bucket"]
        listed: dict[str, list[dict[str, Any]]] = {status: [] for status in STATUS_FILES}
        for status, entries in result_files(runs, record.map_run_arn, record.map_state_machine_arn):
            body = json.dumps(entries).encode()
            key = f"{prefix}{run_id}/{status}_0.json"
            s3_client.put_object(Bucket=bucket, Key=key, Body=body)
            listed[status].append({"Key": key, "Size": len(body)})
        manifest = {
            "DestinationBucket": bucket,
            "MapRunArn": record.map_run_arn,
            "ResultFiles": {
                status: listed[status] for status in ("FAILED", "PENDING", "SUCCEEDED")
            },
        }
        key = f"{prefix}{run_id}/manifest.json"
        s3_client.put_object(Bucket=bucket, Key=key, Body=json.dumps(manifest, indent=2).encode())
        env.stack.append(
            {"MapRunArn": record.map_run_arn, "ResultWriterDetails": {"Bucket": bucket, "Key": key}}
        )

    patch_attribute(writer, "_handle_put_object", staticmethod(handle_put_object))


def _patch_list_executions(runs: MapRuns) -> None:
    from moto.core.responses import ActionResult
    from moto.stepfunctions.responses import StepFunctionResponse

    original: Callable[[Any], Any] = StepFunctionResponse.list_executions

    def list_executions(self: Any) -> Any:
        map_run_arn = self._get_param("mapRunArn")
        if not map_run_arn:
            return original(self)
        self.stepfunction_backend.describe_map_run(map_run_arn)  # ResourceNotFound if unknown
        children = runs.of(map_run_arn)
        status = self._get_param("statusFilter")
        executions = [
            {
                "executionArn": child.arn,
                "stateMachineArn": map_run_arn.split(":mapRun:")[0]
                + ":stateMachine:"
                + map_run_arn.split(":mapRun:")[1].rsplit(":", 1)[0],
                "name": child.name,
                "status": child.status,
                "startDate": child.started,
                "mapRunArn": map_run_arn,
                "itemCount": 1,
                **({"stopDate": child.stopped} if child.stopped else {}),
            }
            for child in children
            if status is None or child.status == status
        ]
        return ActionResult({"executions": executions})

    patch_attribute(StepFunctionResponse, "list_executions", list_executions)


def _patch_describe_map_run() -> None:
    from moto.stepfunctions.exceptions import ResourceNotFound
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    def pools(execution: Any) -> Any:
        # An execution whose worker has not built its environment yet (just started, or just
        # redriven) has no map runs; moto reads its env and answers 500.
        env = getattr(execution.exec_worker, "env", None)
        return env.map_run_record_pool_manager if env is not None else None

    def describe_map_run(self: Any, map_run_arn: str) -> dict[str, Any]:
        # moto's loop, with an error it can build.
        for execution in self._get_executions():
            pool = pools(execution)
            record = pool.get(map_run_arn) if pool is not None else None
            if record is not None:
                described: dict[str, Any] = record.describe()
                return described
        raise ResourceNotFound(map_run_arn)

    def list_map_runs(self: Any, execution_arn: str) -> dict[str, Any]:
        execution = self.describe_execution(execution_arn=execution_arn)
        pool = pools(execution)
        records = pool.get_all() if pool is not None else []
        return {"mapRuns": [record.list_item() for record in records]}

    patch_attribute(StepFunctionsParserBackend, "describe_map_run", describe_map_run)
    patch_attribute(StepFunctionsParserBackend, "list_map_runs", list_map_runs)
