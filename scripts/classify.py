"""Classify images with the deployed state machine: one S3 key, or every image under a prefix."""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import re
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scripts import batch
from training import aws
from training.errors import TerraformOutputError
from training.terraform_outputs import ENVS_DIR, read_outputs

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_RESULTS = Path("build/classify/results.jsonl")
TERMINAL = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})  # Step Functions' own
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
STARTED = "STARTED"  # written before StartExecution: a killed batch leaves these behind
ERROR = "ERROR"  # we could not start or follow the execution; retried on the next run
UNFINISHED = "UNFINISHED"  # the cloud went away first; the next run resumes it, same attempt
EXIT_CLOUD_GONE = 3  # distinct from 1 (some images failed) and 2 (operator error)
SHOWN_UNFINISHED = 20  # keys named in the message; the results file has them all
# A call to a cloud that has gone away fails within about 3 x 15 s at worst (a refused or
# reset connection within seconds), never minutes: botocore's standard retries (3 attempts,
# a few seconds of backoff) ride out a blip, not a restart.
RETRIES = {"max_attempts": 3, "mode": "standard"}
CONNECT_TIMEOUT_S, READ_TIMEOUT_S = 5.0, 15.0
# ClientError codes meaning "this is not the cloud that knew us": a restarted local cloud issued
# a new key (403 in the JSON, query and S3 shapes) and lost every state machine and execution;
# on AWS, the expired-credential codes.
KEY_REFUSED = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
        "InvalidAccessKeyId",
        "ExpiredToken",
        "ExpiredTokenException",
    }
)
STATE_LOST = frozenset({"ExecutionDoesNotExist", "StateMachineDoesNotExist"})


class ClassifyError(RuntimeError):
    """An operator error (no outputs, nothing to classify); the message says what to do."""


class CloudGoneError(ClassifyError):
    """The cloud stopped answering mid-batch; the message names the images left unfinished."""

    def __init__(
        self, cloud: str, reason: str, unfinished: list[str] | None, results: Path
    ) -> None:
        self.unfinished = unfinished
        again = "Run the same command again when the stack is back"
        if unfinished is None:  # gone before the images were even listed
            lines = [f"{cloud} stopped answering ({reason}); no image was started. {again}."]
        else:
            shown = [f"  {key}" for key in unfinished[:SHOWN_UNFINISHED]]
            if len(unfinished) > SHOWN_UNFINISHED:
                shown.append(f"  ... and {len(unfinished) - SHOWN_UNFINISHED} more")
            lines = [
                f"{cloud} stopped answering ({reason}); {len(unfinished)} images unfinished:",
                *shown,
                f"Each is recorded in {results} as not finished ({UNFINISHED}). {again}: it "
                "finishes exactly these and classifies none of the finished images again.",
            ]
        super().__init__("\n".join(lines))


def cloud_gone_reason(error: BaseException) -> str | None:
    """Why error means the cloud (or everything it knew) is gone; None for one image's failure."""
    from botocore.exceptions import ClientError, HTTPClientError
    from botocore.exceptions import ConnectionError as BotoConnectionError

    # Refused, reset, closed mid-reply or timed out, after botocore's own bounded retries.
    if isinstance(error, BotoConnectionError | HTTPClientError):
        return f"{error.__class__.__name__}: {error}"
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        if code in KEY_REFUSED:
            return f"{code}: our key is refused; a restarted local cloud issues a new one"
        if code in STATE_LOST:
            return f"{code}: it has forgotten the stack's state, as a restarted local cloud does"
    return None


class BatchStop:
    """Tripped once, by the first worker to find the cloud gone, so every other worker stops."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self.reason = ""

    def trip(self, reason: str) -> None:
        with self._lock:
            if not self._event.is_set():
                self.reason = reason
                self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, seconds: float) -> bool:
        return self._event.wait(seconds)


class BatchStoppedError(Exception):
    """Raised inside a worker that stops following its execution because the batch stopped."""


@dataclass(frozen=True)
class Target:
    state_machine_arn: str
    bucket: str


def terraform_outputs(env: str) -> dict[str, Any]:
    """The env's Terraform outputs, read by training.terraform_outputs (the one reader)."""
    try:
        return read_outputs(env, ENVS_DIR)
    except TerraformOutputError as error:
        raise ClassifyError(
            f"cannot read the Terraform outputs of infra/envs/{env} ({error}). Deploy it with "
            f"`make apply ENV={env}`, or pass --state-machine-arn and --bucket."
        ) from None


def resolve_target(env: str, state_machine_arn: str | None, bucket: str | None) -> Target:
    if state_machine_arn and bucket:
        return Target(state_machine_arn, bucket)
    outputs = terraform_outputs(env)
    try:
        return Target(
            state_machine_arn or outputs["state_machine_arn"], bucket or outputs["bucket_name"]
        )
    except KeyError as missing:
        raise ClassifyError(
            f"infra/envs/{env} has no output {missing}; is it applied (`make apply ENV={env}`)?"
        ) from None


def make_clients(env: str, endpoint_url: str | None, concurrency: int) -> tuple[Any, Any]:
    """(stepfunctions, s3). ENV=local without AWS_ENDPOINT_URL means this machine's local cloud."""
    from botocore.config import Config

    config = Config(
        max_pool_connections=concurrency + 4,
        retries=RETRIES,
        connect_timeout=CONNECT_TIMEOUT_S,
        read_timeout=READ_TIMEOUT_S,
    )
    return (
        aws.client("stepfunctions", env, endpoint_url=endpoint_url, config=config),
        aws.client("s3", env, endpoint_url=endpoint_url, config=config),
    )


def make_sync_client(
    env: str, endpoint_url: str | None, timeout: float, concurrency: int = 1
) -> Any:
    """Step Functions for StartSyncExecution, which holds the connection while the image runs.

    botocore sends StartSyncExecution to the `sync-` host prefix (sync-states.<region>...,
    botocore's stepfunctions service-2.json); against an endpoint URL (the local cloud, or any
    ENDPOINT) that would be sync-127.0.0.1, so the prefix is left off there. Read timeout: the
    execution's own limit (an Express workflow runs at most 5 minutes). One attempt: a retry
    would start a second execution, whose conditional write would then answer "duplicate".
    """
    from botocore.config import Config

    local = env == aws.LOCAL or endpoint_url is not None
    config = Config(
        max_pool_connections=concurrency + 4,
        retries={"total_max_attempts": 1},
        connect_timeout=CONNECT_TIMEOUT_S,
        read_timeout=timeout + READ_TIMEOUT_S,
        inject_host_prefix=not local,
    )
    return aws.client("stepfunctions", env, endpoint_url=endpoint_url, config=config)


def execution_name(key: str, attempt: int) -> str:
    """Readable, unique per key and attempt, within Step Functions' 80 allowed characters."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:10]
    readable = re.sub(r"[^A-Za-z0-9_-]+", "-", key).strip("-")[:60]
    return f"{readable}-{digest}-{attempt}"


def execution_arn(state_machine_arn: str, name: str) -> str:
    return state_machine_arn.replace(":stateMachine:", ":execution:", 1) + f":{name}"


def outcome(described: dict[str, Any]) -> dict[str, Any]:
    """status, result, label, confidence, error and cause of a finished execution.

    `result` is the workflow's answer (classified, needs_review, or duplicate when another
    execution already recorded this version); a FAILED execution's result is failed.
    """
    found: dict[str, Any] = {
        "status": described["status"],
        "result": "failed" if described["status"] in TERMINAL else None,
        "label": None,
        "confidence": None,
        "error": described.get("error"),
        "cause": described.get("cause"),
    }
    if described["status"] == "SUCCEEDED":
        output = json.loads(described.get("output") or "{}")
        body = output.get("body", output) if isinstance(output, dict) else {}
        if isinstance(body, str):  # the original course returned a JSON string body
            body = json.loads(body)
        found["result"] = body.get("status", "classified")
        found["label"], found["confidence"] = body.get("label"), body.get("confidence")
    return found


def object_version(s3: Any, bucket: str, key: str) -> str:
    """The object's current version id, which the workflow reads and records ("null" when the
    bucket never had versioning, as S3 names that version)."""
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
    except s3.exceptions.ClientError as error:
        if str(error.response.get("Error", {}).get("Code")) in {"404", "NoSuchKey", "NotFound"}:
            raise ClassifyError(f"s3://{bucket}/{key} does not exist") from None
        raise
    return str(head.get("VersionId") or "null")


class ResultsFile:
    """Append-only JSON lines; the last line of a key is its state. Safe to kill at any time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def latest(self) -> dict[str, dict[str, Any]]:
        records: dict[str, dict[str, Any]] = {}
        if self.path.exists():
            for line in self.path.read_text().splitlines():
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line cut short by a kill: the key's earlier line still counts
                records[record["key"]] = record
        return records

    def append(self, record: dict[str, Any]) -> None:
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a") as out:
                out.write(json.dumps(record) + "\n")
                out.flush()
                os.fsync(out.fileno())


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def wait_for(sfn: Any, arn: str, timeout: float, stop: BatchStop | None = None) -> dict[str, Any]:
    """describe_execution until it leaves RUNNING; polls fast first, then every 2 s."""
    deadline, delay = time.monotonic() + timeout, 0.1
    while True:
        described: dict[str, Any] = sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING":
            return described
        if time.monotonic() > deadline:
            raise TimeoutError(f"{arn} still RUNNING after {timeout:.0f} s")
        if stop is None:
            time.sleep(delay)
        elif stop.wait(delay):  # another worker found the cloud gone: stop now, not in 2 s
            raise BatchStoppedError(stop.reason)
        delay = min(delay * 1.5, 2.0)


def workflow_type(sfn: Any, target: Target) -> str:
    """STANDARD or EXPRESS: the per-image workflow's type (the workflow_type variable)."""
    described = sfn.describe_state_machine(stateMachineArn=target.state_machine_arn)
    return str(described.get("type", "STANDARD"))


def _execution_exists(sfn: Any, arn: str) -> bool:
    try:
        sfn.describe_execution(executionArn=arn)
    except sfn.exceptions.ExecutionDoesNotExist:
        return False
    return True


def _unfinished(error: str, cause: str) -> dict[str, Any]:
    return {"status": UNFINISHED, "label": None, "confidence": None, "error": error, "cause": cause}


def classify_key(
    sfn: Any,
    target: Target,
    key: str,
    attempt: int,
    results: ResultsFile | None,
    timeout: float,
    stop: BatchStop | None = None,
    resume: bool = False,
    s3: Any = None,
    sync_sfn: Any = None,
) -> dict[str, Any]:
    """Run (or, when resuming, re-attach to) the execution for one key; returns its record.

    The workflow classifies the object's current version, which `s3` looks up (HeadObject).
    With `sync_sfn`, the workflow's type is looked up (DescribeStateMachine): an EXPRESS one runs
    synchronously (StartSyncExecution; an Express execution cannot be described), a STANDARD one
    is started and followed as without it.

    When the cloud goes away the record is UNFINISHED (never ERROR: the image did nothing
    wrong), stop is tripped so the rest of the batch stops too, and the next run resumes it.
    """
    name = execution_name(key, attempt)
    arn = execution_arn(target.state_machine_arn, name)
    began = time.monotonic()
    record: dict[str, Any] = {
        "key": key,
        "status": STARTED,
        "execution_arn": arn,
        "attempt": attempt,
        "started": _now(),
    }
    if stop is not None and stop.is_set():
        # Recorded, so the results file lists every unfinished image, started or not.
        record |= _unfinished("NotStarted", f"the batch stopped before this image: {stop.reason}")
        record["duration_s"] = 0.0
        if results:
            results.append(record)
        return record
    if results:
        results.append(record)
    try:
        version = object_version(s3, target.bucket, key)
        record["version"] = version
        event = json.dumps(
            {"image_data": "", "s3_bucket": target.bucket, "s3_key": key, "s3_version": version}
        )
        if sync_sfn is not None and workflow_type(sfn, target) == "EXPRESS":
            described = sync_sfn.start_sync_execution(
                stateMachineArn=target.state_machine_arn, name=name, input=event
            )
            record["execution_arn"] = described["executionArn"]  # arn:...:express:<machine>:...
            record["execution"] = "started synchronously"
        else:
            # An unfinished image of an earlier run: follow its execution if this cloud still
            # has it, never start another. A restarted cloud has forgotten it, so the name is
            # free and the one execution that image will have there starts under the same
            # attempt number.
            if resume and _execution_exists(sfn, arn):
                record["execution"] = "reattached"
            else:
                try:
                    sfn.start_execution(
                        stateMachineArn=target.state_machine_arn, name=name, input=event
                    )
                    record["execution"] = "started"
                except sfn.exceptions.ExecutionAlreadyExists:  # it finished since we looked
                    record["execution"] = "reattached"
            described = wait_for(sfn, arn, timeout, stop)
        record |= outcome(described)
    except BatchStoppedError as stopped:
        record |= _unfinished("BatchStopped", f"the batch stopped while this ran: {stopped}")
    except Exception as error:  # one image's failure must not stop the batch; it is recorded
        reason = cloud_gone_reason(error)
        if reason is not None:
            if stop is not None:
                stop.trip(reason)
            record |= _unfinished(error.__class__.__name__, reason)
        else:
            record |= {
                "status": ERROR,
                "label": None,
                "confidence": None,
                "error": error.__class__.__name__,
                "cause": str(error),
            }
    record["duration_s"] = round(time.monotonic() - began, 3)
    if results:
        results.append(record)
    return record


def list_images(s3: Any, bucket: str, prefix: str) -> Iterator[str]:
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            if item["Key"].lower().endswith(IMAGE_SUFFIXES):
                yield item["Key"]


def plan_batch(
    keys: list[str], done: dict[str, dict[str, Any]], retry_failed: bool
) -> list[tuple[str, int]]:
    """(key, attempt) still to run; unfinished keys keep their attempt so they are re-attached."""
    todo = []
    for key in keys:
        last = done.get(key)
        if last is None:
            todo.append((key, 1))
        elif last["status"] not in TERMINAL:
            todo.append((key, int(last.get("attempt", 1))))
        elif retry_failed and last["status"] != "SUCCEEDED":
            todo.append((key, int(last.get("attempt", 1)) + 1))
    return todo


def run_batch(
    sfn: Any,
    s3: Any,
    target: Target,
    prefix: str,
    results: ResultsFile,
    concurrency: int,
    timeout: float,
    retry_failed: bool = False,
    cloud: str = "the cloud",
    sync_sfn: Any = None,
) -> Counter[str]:
    """Counts of each status over the prefix; CloudGoneError when the cloud went away midway."""
    from tqdm import tqdm

    try:
        keys = sorted(list_images(s3, target.bucket, prefix))
        # Checked once here, so StateMachineDoesNotExist mid-batch can only mean a lost stack.
        machine = sfn.describe_state_machine(stateMachineArn=target.state_machine_arn)
    except sfn.exceptions.StateMachineDoesNotExist:
        raise ClassifyError(
            f"no state machine {target.state_machine_arn}: deploy the stack (`make apply`) or "
            "pass the right --state-machine-arn."
        ) from None
    except Exception as error:
        reason = cloud_gone_reason(error)
        if reason is None:
            raise
        raise CloudGoneError(cloud, reason, None, results.path) from None
    if not keys:
        raise ClassifyError(f"no images (*.png, *.jpg) under s3://{target.bucket}/{prefix}")
    if machine.get("type") != "EXPRESS":
        sync_sfn = None  # a Standard execution is started and followed (DescribeExecution)
    previous = results.latest()
    todo = plan_batch(keys, previous, retry_failed)
    print(
        f"{len(keys)} images under s3://{target.bucket}/{prefix}: {len(keys) - len(todo)} "
        f"already finished in {results.path}, {len(todo)} to run"
    )
    stop = BatchStop()
    with ThreadPoolExecutor(concurrency) as pool, tqdm(total=len(todo), unit="image") as bar:
        futures = [
            pool.submit(
                classify_key,
                *(sfn, target, key, attempt, results, timeout, stop),
                resume=int(previous.get(key, {}).get("attempt", 0)) == attempt,
                s3=s3,
                sync_sfn=sync_sfn,
            )
            for key, attempt in todo
        ]
        for future in as_completed(futures):
            bar.update()
            record = future.result()
            bar.set_postfix_str(record.get("result") or record["status"])
    latest = results.latest()
    if stop.is_set():
        unfinished = [key for key in keys if latest.get(key, {}).get("status") not in TERMINAL]
        raise CloudGoneError(cloud, stop.reason, unfinished, results.path)
    return Counter(record["status"] for key, record in latest.items() if key in set(keys))


def describe(record: dict[str, Any]) -> str:
    if record["status"] == "SUCCEEDED":
        result = record.get("result") or "classified"
        if result == "duplicate":
            return f"{record['key']}: already recorded (another execution classified this version)"
        return f"{record['key']}: {result} {record['label']} (confidence {record['confidence']})"
    cause = record["cause"]
    with contextlib.suppress(TypeError, ValueError, AttributeError):
        cause = json.loads(cause).get("errorMessage", cause)  # a Lambda error's payload
    return f"{record['key']}: {record['status']} {record['error']}: {cause}"


def resolve_batch(
    env: str, state_machine_arn: str | None, bucket: str | None, results_prefix: str | None
) -> tuple[batch.BatchTarget, str]:
    """The batch machine, its bucket and its manifests' prefix: given, or the env's outputs."""
    if state_machine_arn and bucket and results_prefix:
        return batch.BatchTarget(state_machine_arn, bucket), results_prefix
    outputs = terraform_outputs(env)
    try:
        return (
            batch.BatchTarget(
                state_machine_arn or outputs["batch_state_machine_arn"],
                bucket or outputs["bucket_name"],
            ),
            results_prefix or outputs["batch_results_prefix"],
        )
    except KeyError as missing:
        raise ClassifyError(
            f"infra/envs/{env} has no output {missing}; apply the current code "
            f"(`make plan apply ENV={env}`), which adds the batch state machine."
        ) from None


def how_to_follow(execution_arn: str, env: str) -> list[str]:
    return [
        f"The batch goes on in the cloud: {execution_arn}",
        f"  follow it: make classify ENV={env} FOLLOW={execution_arn}",
        f"  stop it:   make classify ENV={env} STOP={execution_arn}",
        f"  and once stopped or failed, finish it: make classify ENV={env} REDRIVE={execution_arn}",
    ]


def run_prefix(
    env: str, sfn: Any, s3: Any, target: batch.BatchTarget, results_prefix: str, args: Any
) -> int:
    """Start (or, with --follow, re-attach to) a batch; its counts, manifest and exit code."""
    from tqdm import tqdm

    if args.follow:
        execution_arn = args.follow
        # Unknown here is the operator's mistake; unknown later, mid-run, is a lost cloud.
        sfn.describe_execution(executionArn=execution_arn)
    elif args.redrive:
        execution_arn = args.redrive
        sfn.redrive_execution(executionArn=execution_arn)
        print(f"redriving {execution_arn}: only the images that did not finish run again")
    else:
        execution_arn = batch.start(sfn, target, args.prefix)
    try:
        # Inside the try: a Ctrl-C right after the run started still says how to follow it.
        if not (args.follow or args.redrive):
            print(f"started {execution_arn} over s3://{target.bucket}/{args.prefix}", flush=True)
        with tqdm(total=0, unit="image", desc="batch") as bar:
            described = batch.follow(sfn, execution_arn, bar)
    except KeyboardInterrupt:
        print("\n" + "\n".join(how_to_follow(execution_arn, env)), file=sys.stderr)
        return 130
    except Exception as error:
        reason = cloud_gone_reason(error)
        if reason is None:
            raise
        print(
            "\n".join(
                [
                    f"error: the cloud stopped answering ({reason}).",
                    *how_to_follow(execution_arn, env),
                ]
            ),
            file=sys.stderr,
        )
        return EXIT_CLOUD_GONE
    found = batch.report(s3, target, results_prefix, described)
    for line in found.lines():
        print(line)
    if not found.succeeded:
        print(
            f"redrive it (only what did not finish): make classify ENV={env} "
            f"REDRIVE={execution_arn}"
        )
    print("Each image's answer is in the results table: make results ENV=" + env)
    return 0 if found.succeeded else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--key", help="one image, e.g. test/bicycle_s_000513.png")
    what.add_argument(
        "--prefix",
        help="every image under this prefix, e.g. test/: one run of the batch state machine",
    )
    what.add_argument("--follow", metavar="EXECUTION_ARN", help="follow a batch already started")
    what.add_argument("--stop", metavar="EXECUTION_ARN", help="stop a batch (StopExecution)")
    what.add_argument(
        "--redrive",
        metavar="EXECUTION_ARN",
        help="redrive a failed or stopped batch (RedriveExecution): only its unfinished images run",
    )
    parser.add_argument(
        "--per-image",
        action="store_true",
        help="with --prefix: start one per-image execution per key from here instead (the "
        "client path; resumable from --results)",
    )
    parser.add_argument("--env", default=os.environ.get("ENV", "local"))
    parser.add_argument("--state-machine-arn", help="default: the env's Terraform output")
    parser.add_argument("--batch-state-machine-arn", help="default: the env's Terraform output")
    parser.add_argument("--batch-results-prefix", help="default: the env's Terraform output")
    parser.add_argument("--bucket", help="default: the env's Terraform output bucket_name")
    parser.add_argument("--endpoint-url", default=os.environ.get("AWS_ENDPOINT_URL"))
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--results", type=Path, default=DEFAULT_RESULTS)
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per execution")
    parser.add_argument(
        "--retry-failed",
        action="store_true",
        help="also re-run images whose execution FAILED (a new attempt)",
    )
    args = parser.parse_args(argv)
    cloud = "the local cloud" if args.env == "local" else f"the {args.env} AWS endpoint"
    try:
        if args.stop or args.follow or args.redrive or (args.prefix and not args.per_image):
            batch_target, results_prefix = resolve_batch(
                args.env, args.batch_state_machine_arn, args.bucket, args.batch_results_prefix
            )
            sfn, s3 = make_clients(args.env, args.endpoint_url, 1)
            try:
                if args.stop:
                    sfn.stop_execution(
                        executionArn=args.stop, cause="stopped with make classify STOP="
                    )
                    print(f"stopped {args.stop}")
                    return 0
                return run_prefix(args.env, sfn, s3, batch_target, results_prefix, args)
            except (sfn.exceptions.ExecutionDoesNotExist, sfn.exceptions.InvalidArn):
                raise ClassifyError(
                    f"no batch execution {args.stop or args.follow or args.redrive} in {cloud}"
                ) from None
            except sfn.exceptions.ExecutionNotRedrivable as error:
                raise ClassifyError(
                    f"{args.redrive} cannot be redriven: {error.response['Error']['Message']}"
                ) from None
        target = resolve_target(args.env, args.state_machine_arn, args.bucket)
        sfn, s3 = make_clients(args.env, args.endpoint_url, args.concurrency)
        if args.key:
            attempt = int(time.time())  # a single run is always a fresh execution
            sync_sfn = make_sync_client(args.env, args.endpoint_url, args.timeout)
            record = classify_key(
                sfn, target, args.key, attempt, None, args.timeout, s3=s3, sync_sfn=sync_sfn
            )
            print(describe(record))
            if record["status"] == UNFINISHED:
                print(
                    f"error: {cloud} stopped answering; run it again when the stack is back",
                    file=sys.stderr,
                )
                return EXIT_CLOUD_GONE
            return 0 if record["status"] == "SUCCEEDED" else 1
        counts = run_batch(
            sfn,
            s3,
            target,
            args.prefix,
            ResultsFile(args.results),
            args.concurrency,
            args.timeout,
            args.retry_failed,
            cloud,
            make_sync_client(args.env, args.endpoint_url, args.timeout, args.concurrency),
        )
    except CloudGoneError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_CLOUD_GONE
    except (ClassifyError, batch.BatchError, aws.LocalCloudNotRunningError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(", ".join(f"{status}: {n}" for status, n in sorted(counts.items())), f"-> {args.results}")
    print("The results table holds each image's answer: make results ENV=" + args.env)
    unfinished = counts.get(ERROR) or counts.get(STARTED) or counts.get(UNFINISHED)
    return 1 if unfinished else 0


if __name__ == "__main__":
    sys.exit(main())
