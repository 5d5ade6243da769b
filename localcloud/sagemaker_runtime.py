"""InvokeEndpoint with binary image bodies against the loaded model, plus injectable faults."""

from __future__ import annotations

import json
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import unquote

from localcloud import sagemaker_moto
from localcloud.plugin import LocalCloudContext

SUPPORTED_CONTENT_TYPES = frozenset({"image/png", "image/jpeg", "application/x-image"})
MAX_BODY_BYTES = 6 * 1024 * 1024  # the real-time InvokeEndpoint payload limit
OUTPUT_CONTENT_TYPE = "application/json"
FAULTS_PATH = "/moto-api/localcloud/sagemaker/faults"
FAULTS_ENV = "LOCALCLOUD_SAGEMAKER_FAULTS"  # e.g. "my-endpoint=throttle:3,other=unavailable:1"

Response = tuple[int, dict[str, str], str]
# Endpoint invocation metrics as SageMaker publishes them ("Monitor Amazon SageMaker AI with
# Amazon CloudWatch", endpoint invocation metrics): namespace AWS/SageMaker, dimensions
# EndpointName and VariantName; per request Invocations 1, Invocation4XXErrors and
# Invocation5XXErrors 1 or 0 by the answer's status class (Units: None), and ModelLatency in
# microseconds when the model ran.
METRICS_NAMESPACE = "AWS/SageMaker"


class RuntimeApiError(Exception):
    """An InvokeEndpoint error in the shape sagemaker-runtime returns it."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.extra = extra

    def response(self) -> Response:
        body = {"message": str(self), **self.extra}
        # moto's call_action takes the HTTP status from a "status" header.
        headers = {
            "status": str(self.status),
            "Content-Type": "application/json",
            "x-amzn-ErrorType": self.code,
        }
        return self.status, headers, json.dumps(body)


FAULTS: dict[str, tuple[int, str, str]] = {
    "throttle": (400, "ThrottlingException", "Rate exceeded"),
    "unavailable": (503, "ServiceUnavailable", "Service Unavailable"),
    "internal": (500, "InternalFailure", "An internal failure occurred (injected by localcloud)"),
}


class FaultInjector:
    """The next N invocations of an endpoint fail with a chosen error, then it recovers."""

    def __init__(self) -> None:
        self._queues: dict[str, deque[str]] = {}
        self._lock = threading.Lock()

    def arm(self, endpoint: str, fault: str, count: int) -> None:
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; choose one of {sorted(FAULTS)}")
        if count < 0:
            raise ValueError("count must be zero or more")
        with self._lock:
            self._queues.setdefault(endpoint, deque()).extend([fault] * count)

    def take(self, endpoint: str) -> str | None:
        with self._lock:
            queue = self._queues.get(endpoint)
            return queue.popleft() if queue else None

    def clear(self) -> None:
        with self._lock:
            self._queues.clear()

    def pending(self) -> dict[str, list[str]]:
        with self._lock:
            return {name: list(queue) for name, queue in self._queues.items() if queue}

    def arm_from_spec(self, spec: str) -> None:
        """FAULTS_ENV's form: endpoint=fault:count, comma-separated."""
        for item in filter(None, (part.strip() for part in spec.split(","))):
            endpoint, _, rest = item.partition("=")
            fault, _, count = rest.partition(":")
            self.arm(endpoint, fault, int(count or "1"))


class LiveEndpoints(Protocol):
    """What the runtime needs of sagemaker_endpoints.EndpointService (no import, no cycle)."""

    capture: Any

    def live(self, account_id: str, region: str, name: str) -> Any: ...


class PublishMetrics(Protocol):
    """(account, region, endpoint, variant, HTTP status, model latency in µs or None)."""

    def __call__(
        self,
        account_id: str,
        region: str,
        endpoint: str,
        variant: str,
        status: int,
        model_latency_us: float | None,
    ) -> None: ...


@dataclass
class _Served:
    """What one call got to before it answered: the variant picked, the model's time."""

    variant: str | None = None
    model_latency_us: float | None = None


class EndpointRuntime:
    """InvokeEndpoint for one server: its endpoints and its fault queue, wired in explicitly."""

    def __init__(
        self,
        endpoints: LiveEndpoints,
        faults: FaultInjector,
        metrics: PublishMetrics | None = None,
    ) -> None:
        self.endpoints = endpoints
        self.faults = faults
        self.metrics = metrics
        # Called with (account, region, endpoint) after each call's metrics are published: the
        # deployments evaluate their rollback alarms on them before the call answers.
        self.on_metrics: Callable[[str, str, str], None] | None = None

    def invoke(
        self, account_id: str, region: str, name: str, headers: Any, body: bytes
    ) -> Response:
        """Serve one InvokeEndpoint call, or raise RuntimeApiError; publish its metrics."""
        served = _Served()
        try:
            response = self._serve(account_id, region, name, headers, body, served)
        except RuntimeApiError as error:
            status = int(error.extra.get("OriginalStatusCode", error.status))
            self._publish(account_id, region, name, served, status)
            raise
        self._publish(account_id, region, name, served, response[0])
        return response

    def _publish(
        self, account_id: str, region: str, name: str, served: _Served, status: int
    ) -> None:
        # Only calls that reached a variant count: an unknown endpoint has none to count under.
        if served.variant is None or self.metrics is None:
            return
        self.metrics(account_id, region, name, served.variant, status, served.model_latency_us)
        if self.on_metrics is not None:
            self.on_metrics(account_id, region, name)

    def _serve(
        self, account_id: str, region: str, name: str, headers: Any, body: bytes, served: _Served
    ) -> Response:
        live = self.endpoints.live(account_id, region, name)
        fault = self.faults.take(name)
        if fault is not None:
            status, code, message = FAULTS[fault]
            if live is not None:
                # An injected fault stands for the variant's model server failing: it counts.
                variant = live.pick(headers.get("X-Amzn-SageMaker-Target-Variant"))
                served.variant = variant.name if variant is not None else None
            raise RuntimeApiError(status, code, message)
        if live is None:
            _raise_not_ready(account_id, region, name)
        assert live is not None
        if len(body) > MAX_BODY_BYTES:
            raise RuntimeApiError(
                400,
                "ValidationError",
                "1 validation error detected: Value at 'body' failed to satisfy constraint: "
                f"Member must have length less than or equal to {MAX_BODY_BYTES}",
            )
        target = headers.get("X-Amzn-SageMaker-Target-Variant")
        variant = live.pick(target)
        if variant is None:
            raise RuntimeApiError(
                400, "ValidationError", f"Variant {target} not found for Endpoint {live.name}."
            )
        served.variant = variant.name
        content_type = headers.get("Content-Type") or "application/x-image"
        log_arn = live.log.arn.rsplit(":log-stream:", 1)[0]
        if content_type.split(";", 1)[0].strip() not in SUPPORTED_CONTENT_TYPES:
            _model_error(
                live,
                log_arn,
                415,
                f"Content type {content_type} is not supported by this "
                f"algorithm; send {', '.join(sorted(SUPPORTED_CONTENT_TYPES))}.",
            )
        started = time.perf_counter()
        try:
            probabilities = variant.predictor.predict(body, content_type)
        except variant.client_errors as error:  # a body the container cannot read: 4xx
            served.model_latency_us = (time.perf_counter() - started) * 1e6
            _model_error(
                live,
                log_arn,
                400,
                f"Unable to evaluate payload provided: {type(error).__name__}: {error}",
            )
        except Exception as error:  # anything else is the model server failing: 5xx
            served.model_latency_us = (time.perf_counter() - started) * 1e6
            _model_error(
                live,
                log_arn,
                500,
                f"Internal server error: {type(error).__name__}: {error}",
            )
        output = json.dumps([float(p) for p in probabilities]).encode()
        elapsed_ms = (time.perf_counter() - started) * 1000
        served.model_latency_us = elapsed_ms * 1000
        if live.capture is not None and live.capture.sampled():
            when = sagemaker_moto.utcnow()
            record = live.capture.record(
                body,
                content_type,
                output,
                OUTPUT_CONTENT_TYPE,
                when,
                headers.get("X-Amzn-SageMaker-Inference-Id"),
            )
            self.endpoints.capture.add(account_id, region, live.capture, variant.name, record, when)
        response_headers = {
            "Content-Type": OUTPUT_CONTENT_TYPE,
            "x-Amzn-Invoked-Production-Variant": variant.name,
            "X-Localcloud-Model-Latency-Ms": f"{elapsed_ms:.2f}",
        }
        return 200, response_headers, output.decode()


def _raise_not_ready(account_id: str, region: str, name: str) -> None:
    from moto.sagemaker.models import sagemaker_backends

    endpoint = sagemaker_backends[account_id][region].endpoints.get(name)
    if endpoint is None:
        raise RuntimeApiError(
            400, "ValidationError", f"Endpoint {name} of account {account_id} not found."
        )
    raise RuntimeApiError(
        400,
        "ValidationError",
        f"Endpoint {name} of account {account_id} is not InService (status "
        f"{endpoint.endpoint_status}); wait for InService before invoking it.",
    )


def _model_error(live: Any, log_arn: str, status: int, message: str) -> None:
    live.log.write([f"localcloud: {status} {message}"])
    kind = "client" if status < 500 else "server"
    raise RuntimeApiError(
        424,
        "ModelError",
        f'Received {kind} error ({status}) from primary with message "{message}". See '
        f"{log_arn} in account {live.account_id} for more information.",
        OriginalStatusCode=status,
        OriginalMessage=message,
        LogStreamArn=log_arn,
    )


def _handlers(runtime: EndpointRuntime) -> tuple[Any, Any]:
    """(InvokeEndpoint response method, faults URL handler), bound to this server's runtime."""

    def invoke_endpoint_response(self: Any) -> Response:
        """SageMakerRuntimeResponse.invoke_endpoint, with the body kept as bytes."""
        name = unquote(self.path.split("/")[2])
        body = self.raw_body if isinstance(self.raw_body, bytes) else str(self.body).encode()
        try:
            return runtime.invoke(self.current_account, self.region, name, self.headers, body)
        except RuntimeApiError as error:
            return error.response()

    def faults_handler(request: Any, full_url: str, headers: Any) -> Response:
        """POST {"EndpointName", "Fault", "Count"} arms; GET lists; DELETE clears."""
        faults = runtime.faults
        if request.method == "DELETE":
            faults.clear()
        elif request.method == "POST":
            try:
                spec = json.loads(request.data or b"{}")
                faults.arm(
                    spec["EndpointName"], spec.get("Fault", "throttle"), int(spec.get("Count", 1))
                )
            except (ValueError, KeyError, TypeError) as error:
                message = f"bad fault request ({error}); send {{EndpointName, Fault, Count}}"
                return 400, {"Content-Type": "application/json"}, json.dumps({"message": message})
        return 200, {"Content-Type": "application/json"}, json.dumps({"pending": faults.pending()})

    return invoke_endpoint_response, faults_handler


def invocation_metrics(status: int, model_latency_us: float | None) -> list[tuple[str, float, str]]:
    """(metric name, value, unit) that one InvokeEndpoint answer adds, as SageMaker does."""
    metrics = [
        ("Invocations", 1.0, "None"),
        ("Invocation4XXErrors", 1.0 if 400 <= status < 500 else 0.0, "None"),
        ("Invocation5XXErrors", 1.0 if status >= 500 else 0.0, "None"),
    ]
    if model_latency_us is not None:
        metrics.append(("ModelLatency", model_latency_us, "Microseconds"))
    return metrics


def _cloudwatch_publisher() -> PublishMetrics:
    from moto.cloudwatch.models import cloudwatch_backends

    def publish(
        account_id: str,
        region: str,
        endpoint: str,
        variant: str,
        status: int,
        model_latency_us: float | None,
    ) -> None:
        dimensions = [
            {"Name": "EndpointName", "Value": endpoint},
            {"Name": "VariantName", "Value": variant},
        ]
        when = sagemaker_moto.utcnow()
        data = [
            {"MetricName": n, "Value": v, "Unit": u, "Dimensions": dimensions, "Timestamp": when}
            for n, v, u in invocation_metrics(status, model_latency_us)
        ]
        cloudwatch_backends[account_id][region].put_metric_data(METRICS_NAMESPACE, data)

    return publish


def install(ctx: LocalCloudContext, endpoints: LiveEndpoints) -> EndpointRuntime:
    """Route InvokeEndpoint to our models with raw bytes; mount the faults URL on moto-api."""
    from moto.moto_api._internal import urls as moto_api_urls
    from moto.sagemakerruntime.responses import SageMakerRuntimeResponse

    faults = FaultInjector()
    faults.arm_from_spec(os.environ.get(FAULTS_ENV, ""))
    runtime = EndpointRuntime(endpoints, faults, _cloudwatch_publisher())
    invoke_endpoint_response, faults_handler = _handlers(runtime)
    # moto decodes every body as UTF-8 unless the response class asks for raw bytes: PNGs crash.
    SageMakerRuntimeResponse.use_raw_body = True
    sagemaker_moto.patch(SageMakerRuntimeResponse, "invoke_endpoint", invoke_endpoint_response)
    moto_api_urls.url_paths["{0}" + FAULTS_PATH + "$"] = faults_handler
    return runtime
