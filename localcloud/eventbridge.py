"""EventBridge beyond plain moto: rule targets that start Step Functions executions, with
AWS's input transformation, role checks, retry policy and dead-letter queue; S3's EventBridge
events in the shape AWS documents."""

from __future__ import annotations

import copy
import heapq
import itertools
import json
import os
import random
import re
import secrets
import string
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from localcloud.plugin import LocalCloudContext, patch_attribute, require_moto_version

# The moto attributes this module patches; tests/localcloud checks they still fit.
PATCHED = {
    "moto.events.models.Rule": ["send_to_targets"],
    "moto.s3.notifications": ["_send_event_bridge_message"],
    "moto.s3.responses.S3Response": ["get_bucket_notification"],
}

STATE_MACHINE_ARN = re.compile(r"^arn:aws[\w-]*:states:[\w-]+:\d{12}:stateMachine:[\w.-]+$")
EVENTS_PRINCIPAL = "events.amazonaws.com"

# RetryPolicy defaults of a rule target: "By default, EventBridge retries sending the event for
# 24 hours and up to 185 times with an exponential back off and jitter"
# (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-retry-policy.html).
DEFAULT_MAXIMUM_RETRY_ATTEMPTS = 185
DEFAULT_MAXIMUM_EVENT_AGE_SECONDS = 86400
# AWS does not publish its backoff schedule; ours doubles from a base, capped, with full jitter.
# Both are settings of the local cloud so tests can retry in milliseconds.
RETRY_BASE_ENV = "LOCALCLOUD_EVENTS_RETRY_BASE_SECONDS"
RETRY_CAP_ENV = "LOCALCLOUD_EVENTS_RETRY_MAX_SECONDS"
DEFAULT_RETRY_BASE_SECONDS = 1.0
DEFAULT_RETRY_CAP_SECONDS = 300.0

# Errors that are not retried but go straight to the DLQ: "for errors that result from missing
# permissions to a target, or a target resource that no longer exists, all retry attempts fail
# until an action is taken to resolve the underlying issue. Rather than retrying, EventBridge
# sends these events directly to the DLQ" (https://docs.aws.amazon.com/eventbridge/latest/
# userguide/eb-rule-dlq.html). The codes are the ERROR_CODE values that page lists.
NOT_RETRIED = frozenset(
    {"NO_PERMISSIONS", "NO_RESOURCE", "FAILED_TO_ASSUME_ROLE", "INVALID_JSON", "INVALID_PARAMETER"}
)


class DeliveryError(Exception):
    """One attempt to deliver an event to a target failed, with the DLQ's ERROR_CODE."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

    @property
    def retryable(self) -> bool:
        return self.code not in NOT_RETRIED


# ---------------------------------------------------------------------------------------------
# Target input, as EventBridge builds it
# ---------------------------------------------------------------------------------------------


def iso_time(value: Any) -> str:
    """moto keeps event times as epoch seconds; events carry ISO 8601 (`2021-11-12T00:00:00Z`)."""
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def as_delivered(event: dict[str, Any]) -> dict[str, Any]:
    """The event as a target sees it: ISO time, without moto's internal `ingestion-time`."""
    delivered = {k: v for k, v in event.items() if k != "ingestion-time"}
    delivered["time"] = iso_time(event.get("time", time.time()))
    return delivered


def _json_path(path: str, event: dict[str, Any]) -> tuple[bool, Any]:
    """(found, value) of a JSON path; a path with a wildcard yields the list of its matches."""
    from jsonpath_ng.ext import parse  # type: ignore[attr-defined]  # what moto's own template parser uses

    matches = parse(path).find(event)
    if not matches:
        return False, None
    if "*" in path:
        return True, [m.value for m in matches]
    return True, matches[0].value


_MISSING = object()  # a variable whose JSON path is not in the event


def render_template(template: str, variables: dict[str, Any], raw: dict[str, str]) -> str:
    """Fill an InputTemplate as EventBridge does
    (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html):

    - outside a JSON string, `<var>` becomes the value as JSON (`"instance": <instance>` gives
      `"instance": "i-0123456789"`);
    - inside a JSON string (`"instance \\"<instance>\\" is in <state>"`), a string value goes in
      as it is: "EventBridge doesn't escape values extracted by Input Path";
    - `raw` names (`aws.events.event`, `aws.events.event.json`) are JSON inserted unescaped;
    - a variable whose path is not in the event "isn't created and won't appear in the output";
    - `<...>` that names no variable stays as written.

    moto 5.2.5's EventTemplateParser (moto/events/utils.py) inserts every string bare, so
    `<instance>` outside quotes gives invalid JSON; it also skips empty strings, 0 and false,
    and knows neither aws.events.rule-arn nor aws.events.rule-name. Hence this one.
    """
    out: list[str] = []
    in_string = False
    i = 0
    while i < len(template):
        char = template[i]
        if in_string and char == "\\":
            out.append(template[i : i + 2])
            i += 2
            continue
        if char == '"':
            in_string = not in_string
        elif char == "<":
            end = template.find(">", i + 1)
            name = template[i + 1 : end] if end > 0 else ""
            if name in raw:
                out.append(raw[name])
                i = end + 1
                continue
            if name in variables:
                value = variables[name]
                if value is _MISSING:
                    text = ""
                elif in_string and isinstance(value, str):
                    text = value
                else:
                    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
                out.append(text)
                i = end + 1
                continue
        out.append(char)
        i += 1
    return "".join(out)


def build_input(
    target: dict[str, Any],
    event: dict[str, Any],
    rule_arn: str,
    rule_name: str,
    ingestion_time: float,
) -> str:
    """The JSON text a target receives: Input, InputPath, InputTransformer, or the event."""
    delivered = as_delivered(event)
    if "Input" in target:
        text: str = target["Input"]
    elif "InputPath" in target:
        found, value = _json_path(target["InputPath"], delivered)
        text = json.dumps(value if found else None, ensure_ascii=False)
    elif "InputTransformer" in target:
        transformer = target["InputTransformer"]
        variables: dict[str, Any] = {
            "aws.events.rule-arn": rule_arn,
            "aws.events.rule-name": rule_name,
            "aws.events.event.ingestion-time": iso_time(ingestion_time),
        }
        for name, path in (transformer.get("InputPathsMap") or {}).items():
            found, value = _json_path(path, delivered)
            variables[name] = value if found else _MISSING
        without_detail = {k: v for k, v in delivered.items() if k != "detail"}
        raw = {
            "aws.events.event": json.dumps(without_detail, ensure_ascii=False),
            "aws.events.event.json": json.dumps(delivered, ensure_ascii=False),
        }
        text = render_template(transformer["InputTemplate"], variables, raw)
    else:
        text = json.dumps(delivered, ensure_ascii=False)
    try:
        json.loads(text)
    except ValueError as error:
        # Step Functions takes JSON input only; no retry can make this text JSON.
        raise DeliveryError("INVALID_JSON", f"target input is not valid JSON ({error})") from None
    return text


# ---------------------------------------------------------------------------------------------
# The target's role, evaluated with moto's IAM policy evaluator
# ---------------------------------------------------------------------------------------------


def check_role(
    account_id: str, role_arn: str | None, action: str, resource: str, rule_arn: str
) -> None:
    """Raise DeliveryError unless EventBridge may assume role_arn and it allows action on resource.

    The trust policy must allow `sts:AssumeRole` for the service principal events.amazonaws.com;
    the role's inline and attached policies are evaluated with moto's IAMPolicy
    (moto/iam/access_control.py): an explicit Deny wins, else an Allow is needed.
    """
    from moto.iam.access_control import IAMPolicy, IAMPolicyStatement, PermissionResult
    from moto.iam.exceptions import NotFoundException
    from moto.iam.models import iam_backends
    from moto.utilities.utils import get_partition

    if not role_arn:
        raise DeliveryError("FAILED_TO_ASSUME_ROLE", "the target has no RoleArn")
    region = rule_arn.split(":")[3]
    backend = iam_backends[account_id][get_partition(region)]
    try:
        role = backend.get_role_by_arn(role_arn)
    except NotFoundException:
        raise DeliveryError("FAILED_TO_ASSUME_ROLE", f"role {role_arn} does not exist") from None

    # moto's statement check knows only AWS principals, and answers PERMITTED for a matching
    # trust statement whatever its Effect: match the service principal and the Effect here.
    trust = json.loads(role.assume_role_policy_document)
    statements = trust.get("Statement", [])
    trusted = False
    conditions = {"aws:SourceArn": rule_arn, "aws:SourceAccount": account_id}
    for statement in statements if isinstance(statements, list) else [statements]:
        principal = statement.get("Principal", {})
        services = principal.get("Service", []) if isinstance(principal, dict) else principal
        services = [services] if isinstance(services, str) else services
        if EVENTS_PRINCIPAL not in services and "*" not in services:
            continue
        result = IAMPolicyStatement(statement).is_action_permitted(
            "sts:AssumeRole", incoming_condition_values=conditions
        )
        if result == PermissionResult.PERMITTED:
            if statement.get("Effect") == "Deny":
                trusted = False
                break
            trusted = True
    if not trusted:
        raise DeliveryError(
            "FAILED_TO_ASSUME_ROLE",
            f"role {role_arn} does not trust {EVENTS_PRINCIPAL} to assume it",
        )

    documents: list[Any] = [
        backend.get_role_policy(role.name, name)[1]
        for name in backend.list_role_policies(role.name)
    ]
    documents += backend.list_attached_role_policies(role.name)[0]
    allowed = False
    for document in documents:
        result = IAMPolicy(document).is_action_permitted(action, resource)
        if result == PermissionResult.DENIED:
            allowed = False
            break
        allowed = allowed or result == PermissionResult.PERMITTED
    if not allowed:
        raise DeliveryError(
            "NO_PERMISSIONS",
            f"role {role_arn} is not authorized to perform {action} on resource {resource}",
        )


# ---------------------------------------------------------------------------------------------
# Delivery: a worker thread, a retry schedule, the DLQ
# ---------------------------------------------------------------------------------------------


@dataclass
class Delivery:
    rule_arn: str
    rule_name: str
    target: dict[str, Any]
    event: dict[str, Any]
    ingestion_time: float  # epoch seconds, as moto keeps it
    received: float = 0.0  # the deliverer's clock when submitted
    attempts: int = 0  # failed attempts so far

    @property
    def account_id(self) -> str:
        return self.rule_arn.split(":")[4]

    def retry_policy(self) -> tuple[int, float]:
        policy = self.target.get("RetryPolicy") or {}
        return (
            int(policy.get("MaximumRetryAttempts", DEFAULT_MAXIMUM_RETRY_ATTEMPTS)),
            float(policy.get("MaximumEventAgeInSeconds", DEFAULT_MAXIMUM_EVENT_AGE_SECONDS)),
        )


@dataclass(frozen=True)
class Backoff:
    base: float = DEFAULT_RETRY_BASE_SECONDS
    cap: float = DEFAULT_RETRY_CAP_SECONDS

    @classmethod
    def from_env(cls) -> Backoff:
        return cls(
            float(os.environ.get(RETRY_BASE_ENV, DEFAULT_RETRY_BASE_SECONDS)),
            float(os.environ.get(RETRY_CAP_ENV, DEFAULT_RETRY_CAP_SECONDS)),
        )

    def delay(self, failed_attempts: int) -> float:
        """Exponential backoff with full jitter before the next attempt."""
        ceiling = min(self.cap, self.base * 2 ** min(failed_attempts - 1, 30))
        return random.uniform(ceiling / 2, ceiling)


# start(delivery, input_text) starts the target or raises DeliveryError;
# dead_letter(queue_arn, body, attributes) writes one DLQ message.
Starter = Callable[[Delivery, str], None]
DeadLetterSink = Callable[[str, str, dict[str, str]], None]


class TargetDeliverer:
    """Delivers events to targets in one background thread, retrying on a schedule."""

    def __init__(
        self,
        start: Starter,
        dead_letter: DeadLetterSink,
        log: Any,
        backoff: Backoff | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._start = start
        self._dead_letter = dead_letter
        self._log = log
        self._backoff = backoff or Backoff()
        self._clock = clock
        self._due: list[tuple[float, int, Delivery]] = []
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="events-targets", daemon=True)
        self._thread.start()

    def submit(self, delivery: Delivery) -> None:
        delivery.received = self._clock()
        self._schedule(delivery, delivery.received)

    def stop(self, timeout: float = 10.0) -> None:
        with self._wake:
            self._stopped = True
            pending = len(self._due)
            self._wake.notify_all()
        self._thread.join(timeout)
        if pending:
            self._log.warning("stopped with %d event deliveries still pending: dropped", pending)

    def _schedule(self, delivery: Delivery, due: float) -> None:
        with self._wake:
            heapq.heappush(self._due, (due, next(self._order), delivery))
            self._wake.notify_all()

    def _next(self) -> Delivery | None:
        with self._wake:
            while not self._stopped:
                now = self._clock()
                if self._due and self._due[0][0] <= now:
                    return heapq.heappop(self._due)[2]
                timeout = self._due[0][0] - now if self._due else None
                self._wake.wait(timeout)
            return None

    def _run(self) -> None:
        while (delivery := self._next()) is not None:
            try:
                self._attempt(delivery)
            except Exception:  # a bug here must not end delivery for every later event
                self._log.exception("event delivery to %s crashed", delivery.target.get("Arn"))

    def _attempt(self, delivery: Delivery) -> None:
        target_arn = delivery.target["Arn"]
        try:
            text = build_input(
                delivery.target,
                delivery.event,
                delivery.rule_arn,
                delivery.rule_name,
                delivery.ingestion_time,
            )
            self._start(delivery, text)
        except DeliveryError as error:
            delivery.attempts += 1
            max_attempts, max_age = delivery.retry_policy()
            if not error.retryable:
                self._fail(delivery, error, exhausted=None)
                return
            retries = delivery.attempts - 1
            if retries >= max_attempts:
                self._fail(delivery, error, exhausted="MaximumRetryAttempts")
                return
            due = self._clock() + self._backoff.delay(delivery.attempts)
            if due - delivery.received > max_age:
                self._fail(delivery, error, exhausted="MaximumEventAgeInSeconds")
                return
            self._log.info(
                "retrying delivery to %s (attempt %d): %s", target_arn, retries + 2, error
            )
            self._schedule(delivery, due)
            return
        self._log.info("delivered event %s to %s", delivery.event.get("id"), target_arn)

    def _fail(self, delivery: Delivery, error: DeliveryError, exhausted: str | None) -> None:
        """Send the event to the target's DLQ with the attributes AWS documents, or log the drop.

        "Each message in your DLQ will include the following custom attributes: RULE_ARN,
        TARGET_ARN, ERROR_CODE, ERROR_MESSAGE, EXHAUSTED_RETRY_CONDITION, RETRY_ATTEMPTS"
        (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html);
        EXHAUSTED_RETRY_CONDITION is set only when a retry limit ended the delivery.
        """
        target_arn = delivery.target["Arn"]
        attributes = {
            "RULE_ARN": delivery.rule_arn,
            "TARGET_ARN": target_arn,
            "ERROR_CODE": error.code,
            "ERROR_MESSAGE": error.message,
            "RETRY_ATTEMPTS": str(delivery.attempts - 1),
        }
        if exhausted:
            attributes["EXHAUSTED_RETRY_CONDITION"] = exhausted
        queue_arn = (delivery.target.get("DeadLetterConfig") or {}).get("Arn")
        body = json.dumps(as_delivered(delivery.event), ensure_ascii=False)
        if not queue_arn:
            self._log.error(
                "EVENT DROPPED: event %s for rule %s could not be delivered to %s (%s) and the "
                "target has no DeadLetterConfig: %s",
                delivery.event.get("id"),
                delivery.rule_arn,
                target_arn,
                error,
                body,
            )
            return
        try:
            self._dead_letter(queue_arn, body, attributes)
        except Exception:
            self._log.exception(
                "EVENT DROPPED: event %s for %s failed (%s) and could not be sent to its DLQ %s",
                delivery.event.get("id"),
                target_arn,
                error,
                queue_arn,
            )
            return
        self._log.warning(
            "event %s for %s sent to DLQ %s: %s",
            delivery.event.get("id"),
            target_arn,
            queue_arn,
            error,
        )


# ---------------------------------------------------------------------------------------------
# The local cloud's own Step Functions and SQS, called signed like any client
# ---------------------------------------------------------------------------------------------

# Step Functions errors (API_StartExecution) and the DLQ ERROR_CODE each becomes.
_SFN_ERRORS = {
    "StateMachineDoesNotExist": "NO_RESOURCE",
    "StateMachineDeleting": "NO_RESOURCE",
    "InvalidArn": "INVALID_PARAMETER",
    "InvalidExecutionInput": "INVALID_PARAMETER",
    "InvalidName": "INVALID_PARAMETER",
    "ValidationException": "INVALID_PARAMETER",
    "ExecutionAlreadyExists": "RESOURCE_ALREADY_EXISTS",
    "ExecutionLimitExceeded": "RESOURCE_LIMIT_EXCEEDED",
    "ThrottlingException": "THROTTLING",
    "AccessDeniedException": "NO_PERMISSIONS",
}


class LocalServices:
    """Signed clients to this server (through its front door, as any caller)."""

    def __init__(self, ctx: LocalCloudContext) -> None:
        self._ctx = ctx
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def client(self, service: str) -> Any:
        import boto3
        from botocore.config import Config

        with self._lock:  # creating boto3 clients is not thread-safe
            if service not in self._clients:
                self._clients[service] = boto3.session.Session().client(
                    service,
                    region_name=self._ctx.region,
                    endpoint_url=self._ctx.endpoint_url,
                    aws_access_key_id=self._ctx.credentials.access_key_id,
                    aws_secret_access_key=self._ctx.credentials.secret_access_key,
                    # Retries are the target's RetryPolicy, not the SDK's.
                    config=Config(
                        retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=30
                    ),
                )
            return self._clients[service]

    def start_execution(self, delivery: Delivery, text: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        arn = delivery.target["Arn"]
        check_role(
            delivery.account_id,
            delivery.target.get("RoleArn"),
            "states:StartExecution",
            arn,
            delivery.rule_arn,
        )
        try:
            self.client("stepfunctions").start_execution(
                stateMachineArn=arn, name=str(uuid.uuid4()), input=text
            )
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            message = error.response.get("Error", {}).get("Message", str(error))
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            default = "INTERNAL_ERROR" if status >= 500 else "ERROR_FROM_TARGET"
            raise DeliveryError(_SFN_ERRORS.get(code, default), f"{code}: {message}") from None
        except BotoCoreError as error:
            raise DeliveryError("CONNECTION_FAILURE", str(error)) from None

    def send_dead_letter(self, queue_arn: str, body: str, attributes: dict[str, str]) -> None:
        _, _, _, _, account, name = queue_arn.split(":", 5)
        sqs = self.client("sqs")
        url = sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
        sqs.send_message(
            QueueUrl=url,
            MessageBody=body,
            MessageAttributes={
                k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()
            },
        )


# ---------------------------------------------------------------------------------------------
# S3 → EventBridge events as AWS sends them
# ---------------------------------------------------------------------------------------------

# "reason — For Object Created events, the S3 API used to create the object: PutObject,
# POST Object, CopyObject, or CompleteMultipartUpload"
# (https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html).
_CREATED_REASONS = {
    "s3:ObjectCreated:Put": "PutObject",
    "s3:ObjectCreated:Post": "POST Object",
    "s3:ObjectCreated:Copy": "CopyObject",
    "s3:ObjectCreated:CompleteMultipartUpload": "CompleteMultipartUpload",
}


def s3_object_created_event(
    account_id: str, bucket: Any, event_name: str, key: Any, sequencer: int
) -> dict[str, Any]:
    """An `Object Created` event in the shape of AWS's example and field list
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html).

    The object key is the key itself, not URL-encoded. That page describes `object.key` with no
    encoding (its example: "key": "example-key"), whereas the page of classic notifications
    (SQS/SNS/Lambda, notification-content-structure.html) says "The object key name value is URL
    encoded. For example, "red flower.jpg" becomes "red+flower.jpg"" — and moto 5.2.5 applies
    that to classic notifications only (quote_plus in moto/s3/notifications.py). moto differs
    from the page in: `eTag` (AWS: `etag`), `reason` "ObjectCreated" (AWS: the API name), a
    fixed sequencer and request id, `version-id` "null" on unversioned buckets (AWS: absent),
    and time as epoch seconds (kept here: moto converts it when delivering).
    """
    from moto.core.utils import unix_time

    obj: dict[str, Any] = {
        "key": key.name,
        "size": key.size,
        "etag": key.etag.replace('"', ""),
    }
    if bucket.is_versioned or getattr(key, "_version_id", None):
        obj["version-id"] = key.version_id
    obj["sequencer"] = f"{sequencer:016X}"
    now = unix_time()
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": account_id,
        "time": now,
        "region": bucket.region_name,
        "resources": [bucket.arn],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket.name},
            "object": obj,
            "request-id": "".join(
                secrets.choice(string.ascii_uppercase + string.digits) for _ in range(16)
            ),
            "requester": account_id,
            "source-ip-address": "127.0.0.1",  # the local cloud answers loopback only
            "reason": _CREATED_REASONS[event_name],
        },
        "ingestion-time": now,
    }


# ---------------------------------------------------------------------------------------------
# install
# ---------------------------------------------------------------------------------------------


def is_state_machine(arn: str) -> bool:
    return STATE_MACHINE_ARN.match(arn) is not None


def _read_back_event_bridge_configuration() -> None:
    """GetBucketNotificationConfiguration answers EventBridgeConfiguration once it is on.

    moto 5.2.5 stores it (PutBucketNotificationConfiguration) but leaves it out of the answer,
    so Terraform's aws_s3_bucket_notification reads eventbridge = false and plans it again on
    every run. AWS answers an empty <EventBridgeConfiguration/> element:
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketNotificationConfiguration.html
    """
    from moto.s3.responses import S3Response

    original: Callable[..., Any] = S3Response.get_bucket_notification

    def get_bucket_notification(self: Any) -> Any:
        response = original(self)
        config = self.backend.get_bucket_notification_configuration(self.bucket_name)
        if config is None or config.event_bridge is None:
            return response
        status, headers, body = response
        text = body.decode() if isinstance(body, bytes) else str(body)
        if "<EventBridgeConfiguration" in text:
            return response
        closing = "</NotificationConfiguration>"
        if closing in text:
            text = text.replace(closing, "<EventBridgeConfiguration/>" + closing)
        else:  # moto answered the empty form <NotificationConfiguration/>
            text = re.sub(
                r"<NotificationConfiguration([^>]*)/>",
                r"<NotificationConfiguration\1><EventBridgeConfiguration/></NotificationConfiguration>",
                text,
            )
        headers = {k: v for k, v in dict(headers).items() if k.lower() != "content-length"}
        return status, headers, text.encode()

    patch_attribute(S3Response, "get_bucket_notification", get_bucket_notification)


def install(ctx: LocalCloudContext) -> None:
    require_moto_version()
    from moto.events import models as events_models
    from moto.s3 import notifications

    log = ctx.child_logger("eventbridge")
    services = LocalServices(ctx)
    deliverer = TargetDeliverer(
        services.start_execution, services.send_dead_letter, log, Backoff.from_env()
    )
    ctx.on_shutdown(deliverer.stop)

    original_send: Callable[..., None] = events_models.Rule.send_to_targets

    def send_to_targets(self: Any, original_event: Any, transform_input: bool = True) -> None:
        # AWS delivers nothing for a DISABLED rule; moto 5.2.5 does not check.
        if self.state != "ENABLED" or not self.event_pattern.matches_event(original_event):
            return
        machines = [t for t in self.targets if is_state_machine(t.get("Arn", ""))]
        others = [t for t in self.targets if not is_state_machine(t.get("Arn", ""))]
        event = copy.deepcopy(dict(original_event))
        if others:
            # moto raises NotImplementedError at the first target it cannot deliver, skipping
            # the rest: hand it a view of the rule with only the targets it knows.
            view = copy.copy(self)
            view.targets = others
            original_send(view, original_event, transform_input)
        ingestion = float(event.get("ingestion-time") or time.time())
        for target in machines:
            deliverer.submit(Delivery(self.arn, self.name, copy.deepcopy(target), event, ingestion))

    original_s3_message: Callable[..., None] = notifications._send_event_bridge_message
    sequence = itertools.count(time.time_ns() // 1000)

    def send_event_bridge_message(account_id: str, bucket: Any, event_name: str, key: Any) -> None:
        if event_name not in _CREATED_REASONS:
            original_s3_message(account_id, bucket, event_name, key)
            return
        try:
            event: Any = s3_object_created_event(
                account_id, bucket, event_name, key, next(sequence)
            )
            backend = events_models.events_backends[account_id][bucket.region_name]
            # S3 sends to the default bus only; moto 5.2.5 sends to every bus of the region.
            bus = backend.event_buses.get("default")
            for rule in list(bus.rules.values()) if bus else []:
                rule.send_to_targets(event, transform_input=False)
        except Exception:  # S3's request must succeed anyway; say it loudly in the server log
            log.exception("S3 event for s3://%s/%s not sent to EventBridge", bucket.name, key.name)

    patch_attribute(events_models.Rule, "send_to_targets", send_to_targets)
    patch_attribute(notifications, "_send_event_bridge_message", send_event_bridge_message)
    _read_back_event_bridge_configuration()
    log.info(
        "EventBridge rule targets deliver to Step Functions (retry base %.3gs, %s)",
        Backoff.from_env().base,
        RETRY_BASE_ENV,
    )
