"""UpdateEndpoint with a DeploymentConfig for real: blue/green traffic shifting, baking, rollback.

moto 5.2.5's UpdateEndpoint takes only the endpoint and configuration names and swaps at once.
SageMaker's deployment guardrails (https://docs.aws.amazon.com/sagemaker/latest/dg/
deployment-guardrails-blue-green.html and -canary.html) do this instead, and so does this
module once sagemaker_endpoints has loaded the new (green) fleet's models:

- the traffic shifts in steps: ALL_AT_ONCE (one step), CANARY (the canary share, then the rest)
  or LINEAR (equal steps); each step is followed by a baking period of WaitIntervalInSeconds,
  the last one included ("final baking period"), then TerminationWaitInSeconds before the old
  (blue) fleet goes;
- during every baking period the AutoRollbackConfiguration's CloudWatch alarms are watched; if
  one is in ALARM, all traffic goes back to the blue fleet, and the endpoint is InService on its
  old configuration with FailureReason set (DescribeEndpoint: "If the status of the endpoint is
  Failed, or the status is InService but update operation fails, this provides the reason why
  it failed.");
- MaximumExecutionTimeoutInSeconds bounds the whole deployment (then it rolls back too).

The canary share of a CAPACITY_PERCENT size is its percentage of the invocations; of an
INSTANCE_COUNT size, that count over the variant's instances. Limits are botocore 1.44.8's
sagemaker service model (WaitIntervalInSeconds and TerminationWaitInSeconds 0-3600,
MaximumExecutionTimeoutInSeconds 600-28800, CapacitySize Value >= 1, 1-10 alarms) and its
documentation: the canary "must be less than or equal to 50% of the variant's total instance
count", a linear step "must be 10-50%".

Alarms are evaluated here, since moto's CloudWatch never evaluates one: on every datapoint the
endpoint's invocations publish (sagemaker_runtime puts Invocation5XXErrors, ModelLatency, ...
into moto's CloudWatch) and every POLL_SECONDS, over the alarm's metric and dimensions, with
its statistic, threshold and comparison, over the datapoints since the deployment started (at
most period x evaluation periods back): one window, where CloudWatch evaluates each period. An
alarm a test set with SetAlarmState counts as it stands. CloudWatch evaluates once a period;
here an alarm fires on the datapoint that breaches, and the traffic is back on the blue fleet
before that failed request answers, so a client's retry reaches the old model.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from localcloud import sagemaker_moto

POLL_SECONDS = 0.25
WAIT_RANGE = (0, 3600)
TERMINATION_WAIT_RANGE = (0, 3600)
MAX_EXECUTION_RANGE = (600, 28800)
MAX_ALARMS = 10
ROUTING_TYPES = ("ALL_AT_ONCE", "CANARY", "LINEAR")
CAPACITY_TYPES = ("INSTANCE_COUNT", "CAPACITY_PERCENT")
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanOrEqualToThreshold": lambda value, limit: value >= limit,
    "GreaterThanThreshold": lambda value, limit: value > limit,
    "LessThanThreshold": lambda value, limit: value < limit,
    "LessThanOrEqualToThreshold": lambda value, limit: value <= limit,
}


class DeploymentConfigError(ValueError):
    """A DeploymentConfig SageMaker would refuse; str(error) is the ValidationException text."""


@dataclass(frozen=True)
class CapacitySize:
    type: str
    value: int

    def share(self, instance_count: int) -> float:
        """The fraction of the variant this size stands for."""
        if self.type == "CAPACITY_PERCENT":
            return self.value / 100
        return self.value / max(instance_count, 1)


@dataclass(frozen=True)
class DeploymentConfig:
    """A parsed DeploymentConfig (only what the emulation acts on, plus the request's own form)."""

    routing_type: str
    wait_seconds: int
    canary: CapacitySize | None
    linear: CapacitySize | None
    termination_wait_seconds: int
    max_execution_seconds: int | None
    alarms: tuple[str, ...]
    raw: dict[str, Any]

    def steps(self, instance_count: int) -> list[float]:
        """The share of traffic on the new fleet after each step, ending at 1.0."""
        if self.routing_type == "CANARY":
            assert self.canary is not None
            share = self.canary.share(instance_count)
            if share > 0.5:
                raise DeploymentConfigError(
                    f"CanarySize {self.canary.value} ({self.canary.type}) must be less than or "
                    f"equal to 50% of the variant's total instance count ({instance_count})."
                )
            return [share, 1.0]
        if self.routing_type == "LINEAR":
            assert self.linear is not None
            share = self.linear.share(instance_count)
            if not 0.1 <= share <= 0.5:
                raise DeploymentConfigError(
                    f"LinearStepSize {self.linear.value} ({self.linear.type}) must be 10-50% of "
                    f"the variant's total instance count ({instance_count})."
                )
            count = math.ceil(1 / share)
            return [min(share * (i + 1), 1.0) for i in range(count)]
        return [1.0]


def _int(value: Any, member: str, low: int, high: int | None) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
        raise DeploymentConfigError(f"Value '{value}' at '{member}' must be an integer.")
    number = int(value)
    if number < low or (high is not None and number > high):
        bound = f"greater than or equal to {low}"
        if high is not None:
            bound += f" and less than or equal to {high}"
        raise DeploymentConfigError(
            f"Value '{number}' at '{member}' failed to satisfy constraint: Member must have value "
            f"{bound}"
        )
    return number


def _capacity(raw: Any, member: str) -> CapacitySize:
    if not isinstance(raw, dict) or "Type" not in raw or "Value" not in raw:
        raise DeploymentConfigError(f"'{member}' needs Type and Value.")
    if raw["Type"] not in CAPACITY_TYPES:
        raise DeploymentConfigError(
            f"Value '{raw['Type']}' at '{member}.type' failed to satisfy constraint: Member must "
            f"satisfy enum value set: [{', '.join(CAPACITY_TYPES)}]"
        )
    size = CapacitySize(raw["Type"], _int(raw["Value"], f"{member}.value", 1, None))
    if size.type == "CAPACITY_PERCENT" and size.value > 100:
        raise DeploymentConfigError(f"'{member}' CAPACITY_PERCENT must be at most 100.")
    return size


def parse(raw: Any) -> DeploymentConfig | None:
    """DeploymentConfig as UpdateEndpoint/CreateEndpoint take it; None when absent."""
    if raw is None or raw == {}:
        return None
    if not isinstance(raw, dict):
        raise DeploymentConfigError("DeploymentConfig must be a structure.")
    if raw.get("RollingUpdatePolicy"):
        raise DeploymentConfigError(
            "RollingUpdatePolicy is not emulated by the local cloud; use BlueGreenUpdatePolicy "
            "(ALL_AT_ONCE, CANARY or LINEAR traffic routing)."
        )
    policy = raw.get("BlueGreenUpdatePolicy") or {
        # "If no update policy is specified, SageMaker uses a blue/green deployment strategy
        # with all at once traffic shifting by default." (AWS::SageMaker::Endpoint
        # DeploymentConfig)
        "TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0}
    }
    routing = policy.get("TrafficRoutingConfiguration")
    if not isinstance(routing, dict):
        raise DeploymentConfigError(
            "BlueGreenUpdatePolicy.TrafficRoutingConfiguration is required."
        )
    routing_type = routing.get("Type")
    if routing_type not in ROUTING_TYPES:
        raise DeploymentConfigError(
            f"Value '{routing_type}' at 'trafficRoutingConfiguration.type' failed to satisfy "
            f"constraint: Member must satisfy enum value set: [{', '.join(ROUTING_TYPES)}]"
        )
    if "WaitIntervalInSeconds" not in routing:
        raise DeploymentConfigError(
            "TrafficRoutingConfiguration.WaitIntervalInSeconds is required."
        )
    wait = _int(routing["WaitIntervalInSeconds"], "waitIntervalInSeconds", *WAIT_RANGE)
    canary = linear = None
    if routing_type == "CANARY":
        if "CanarySize" not in routing:
            raise DeploymentConfigError("CanarySize is required for CANARY traffic routing.")
        canary = _capacity(routing["CanarySize"], "canarySize")
    if routing_type == "LINEAR":
        if "LinearStepSize" not in routing:
            raise DeploymentConfigError("LinearStepSize is required for LINEAR traffic routing.")
        linear = _capacity(routing["LinearStepSize"], "linearStepSize")
    termination = _int(
        policy.get("TerminationWaitInSeconds", 0),
        "terminationWaitInSeconds",
        *TERMINATION_WAIT_RANGE,
    )
    maximum = policy.get("MaximumExecutionTimeoutInSeconds")
    if maximum is not None:
        maximum = _int(maximum, "maximumExecutionTimeoutInSeconds", *MAX_EXECUTION_RANGE)
    alarms: list[str] = []
    rollback = raw.get("AutoRollbackConfiguration")
    if rollback:
        listed = rollback.get("Alarms") or []
        if not 1 <= len(listed) <= MAX_ALARMS:
            raise DeploymentConfigError(
                f"AutoRollbackConfiguration.Alarms must list 1 to {MAX_ALARMS} alarms."
            )
        for alarm in listed:
            name = alarm.get("AlarmName") if isinstance(alarm, dict) else None
            if not isinstance(name, str) or not name.strip() or len(name) > 255:
                raise DeploymentConfigError(
                    f"AlarmName {name!r} must be 1-255 characters, not only whitespace."
                )
            alarms.append(name)
    return DeploymentConfig(
        routing_type, wait, canary, linear, termination, maximum, tuple(alarms), raw
    )


# -- alarms -------------------------------------------------------------------------------
def _statistic(alarm: Any, values: list[float]) -> float:
    if alarm.extended_statistic:
        rank = float(str(alarm.extended_statistic).lstrip("p"))
        ordered = sorted(values)
        index = max(math.ceil(rank / 100 * len(ordered)) - 1, 0)  # nearest rank
        return ordered[index]
    statistic = alarm.statistic or "Average"
    if statistic == "Sum":
        return sum(values)
    if statistic == "SampleCount":
        return float(len(values))
    if statistic == "Minimum":
        return min(values)
    if statistic == "Maximum":
        return max(values)
    return sum(values) / len(values)


def evaluate_alarm(backend: Any, alarm: Any, since: datetime, now: datetime) -> float | None:
    """The alarm's statistic over its datapoints since `since`, or None when there are none."""
    from moto.cloudwatch.models import MetricDatum

    start = max(since, now - timedelta(seconds=alarm.period * max(alarm.evaluation_periods, 1)))
    wanted = {(d.name, d.value) for d in alarm.dimensions}
    values = [
        float(datum.value)
        for datum in list(backend.metric_data)
        if isinstance(datum, MetricDatum)
        and datum.namespace == alarm.namespace
        and datum.name == alarm.metric_name
        and {(d.name, d.value) for d in datum.dimensions} == wanted
        and start <= datum.timestamp.replace(tzinfo=None) <= now
    ]
    return _statistic(alarm, values) if values else None


class AlarmWatch:
    """The named alarms of one deployment, evaluated over the datapoints since it started."""

    def __init__(self, account_id: str, region: str, names: tuple[str, ...]) -> None:
        self.account_id = account_id
        self.region = region
        self.names = names
        self.since = sagemaker_moto.utcnow()

    def _backend(self) -> Any:
        from moto.cloudwatch.models import cloudwatch_backends

        return cloudwatch_backends[self.account_id][self.region]

    def start(self) -> None:
        """Alarms still in ALARM from before clear: the deployment's own datapoints decide."""
        self.since = sagemaker_moto.utcnow()
        backend = self._backend()
        for name in self.names:
            alarm = backend.alarms.get(name)
            if alarm is not None and alarm.state_value == "ALARM":
                alarm.update_state(
                    "localcloud: no datapoint since the deployment started breaches the threshold",
                    "{}",
                    "OK",
                )

    def tripped(self) -> str | None:
        """The first alarm in ALARM (set so here when its datapoints breach), or None."""
        backend = self._backend()
        now = sagemaker_moto.utcnow()
        for name in self.names:
            alarm = backend.alarms.get(name)
            if alarm is None:
                continue  # an alarm that does not exist cannot trip (AWS: no rollback)
            if alarm.state_value == "ALARM":
                return name
            value = evaluate_alarm(backend, alarm, self.since, now)
            compare = _COMPARE.get(alarm.comparison_operator)
            if value is None:
                breached = alarm.treat_missing_data == "breaching"
            else:
                breached = compare is not None and compare(value, float(alarm.threshold))
            if breached:
                statistic = alarm.extended_statistic or alarm.statistic
                alarm.update_state(
                    f"Threshold Crossed: {statistic} of {alarm.metric_name} was {value} "
                    f"({alarm.comparison_operator} {alarm.threshold}) during a deployment",
                    json.dumps({"version": "1.0", "recentDatapoints": [value]}),
                    "ALARM",
                )
                return name
        return None


# -- the deployments ----------------------------------------------------------------------
@dataclass
class Rollout:
    """One deployment in progress: what the watchers and the runtime hook need."""

    key: tuple[str, str, str]
    generation: int
    endpoint: Any
    old_config: str
    new_config: str
    config: DeploymentConfig
    watch: AlarmWatch
    log: Any
    share: float = 0.0
    tripped: str | None = None
    done: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Fleets(Protocol):
    """What the rollout needs of sagemaker_endpoints.EndpointService (no import, no cycle)."""

    def set_canary(self, key: Any, generation: int, green: Any, share: float) -> None: ...

    def roll_back(self, key: Any, generation: int, endpoint: Any, reason: str) -> None: ...

    def current(self, key: Any, generation: int) -> bool: ...


class DeploymentService:
    """Runs the blue/green deployments of one server and trips them on their alarms."""

    def __init__(self, fleets: Fleets, logger: Any) -> None:
        self._fleets = fleets
        self.logger = logger
        self._active: dict[tuple[str, str, str], Rollout] = {}
        self._lock = threading.Lock()

    def on_metrics(self, account_id: str, region: str, endpoint: str) -> None:
        """A datapoint of the endpoint arrived: evaluate its deployment's alarms now."""
        rollout = self._active.get((account_id, region, endpoint))
        if rollout is not None:
            self._check(rollout)

    def _check(self, rollout: Rollout) -> bool:
        """True when the deployment must roll back; the traffic is then back on blue already."""
        with rollout.lock:
            if rollout.tripped is not None:
                return True
            if rollout.done.is_set() or rollout.share == 0.0:
                return False
            name = rollout.watch.tripped()
            if name is None:
                return False
            rollout.tripped = name
            rollout.share = 0.0
            self._fleets.set_canary(rollout.key, rollout.generation, None, 0.0)
            _log(rollout, f"alarm {name} is in ALARM: all traffic is back on {rollout.old_config}")
            return True

    def run(
        self,
        endpoint: Any,
        key: tuple[str, str, str],
        generation: int,
        green: Any,
        config: DeploymentConfig,
        log: Any,
        instance_count: int,
        go_live: Callable[[], None],
    ) -> None:
        """Shift traffic to `green` step by step, baking and watching; roll back or complete.

        Runs in the endpoint's load thread; returns when the deployment has ended.
        """
        fleets = self._fleets
        rollout = Rollout(
            key,
            generation,
            endpoint,
            endpoint.endpoint_config_name,
            green.config_name,
            config,
            AlarmWatch(key[0], key[1], config.alarms),
            log,
        )
        started = time.monotonic()
        deadline = (
            started + config.max_execution_seconds if config.max_execution_seconds else math.inf
        )
        try:
            steps = config.steps(instance_count)
        except DeploymentConfigError as error:
            fleets.roll_back(key, generation, endpoint, str(error))
            return
        rollout.watch.start()
        with self._lock:
            self._active[key] = rollout
        try:
            reason = self._steps(rollout, fleets, green, steps, deadline)
            if reason is None and config.termination_wait_seconds:
                _log(rollout, f"old fleet goes in {config.termination_wait_seconds}s")
                if not self._sleep(rollout, fleets, config.termination_wait_seconds):
                    return
            with rollout.lock:
                rollout.done.set()
            if reason is None:
                go_live()
                _log(rollout, f"deployment of {rollout.new_config} complete")
            else:
                fleets.roll_back(key, generation, endpoint, reason)
                _log(rollout, f"rollback to {rollout.old_config} complete: {reason}")
        finally:
            with self._lock:
                if self._active.get(key) is rollout:
                    del self._active[key]

    def _steps(
        self, rollout: Rollout, fleets: Any, green: Any, steps: list[float], deadline: float
    ) -> str | None:
        """None when every step baked clean, else the FailureReason."""
        config = rollout.config
        for number, share in enumerate(steps, start=1):
            with rollout.lock:
                if rollout.tripped is None:
                    rollout.share = share
                    fleets.set_canary(rollout.key, rollout.generation, green, share)
            what = "final baking period" if share >= 1.0 else f"step {number}/{len(steps)}"
            _log(
                rollout,
                f"{config.routing_type} {what}: {share:.0%} of traffic on {rollout.new_config}; "
                f"baking {config.wait_seconds}s watching {', '.join(config.alarms) or 'no alarms'}",
            )
            bake_end = min(time.monotonic() + config.wait_seconds, deadline)
            while True:
                if not fleets.current(rollout.key, rollout.generation):
                    return "the endpoint was deleted or updated during the deployment"
                if self._check(rollout):
                    return (
                        f"Deployment of endpoint configuration {rollout.new_config} rolled back: "
                        f"CloudWatch alarm {rollout.tripped} went into ALARM during the baking "
                        f"period of {what} ({share:.0%} of traffic on the new fleet). The "
                        f"endpoint serves {rollout.old_config}."
                    )
                now = time.monotonic()
                if now >= deadline:
                    with rollout.lock:
                        rollout.share = 0.0
                        fleets.set_canary(rollout.key, rollout.generation, None, 0.0)
                    return (
                        f"Deployment of endpoint configuration {rollout.new_config} rolled back: "
                        f"it exceeded MaximumExecutionTimeoutInSeconds "
                        f"({config.max_execution_seconds}s). The endpoint serves "
                        f"{rollout.old_config}."
                    )
                if now >= bake_end:
                    break
                time.sleep(min(POLL_SECONDS, bake_end - now))
        return None

    def _sleep(self, rollout: Rollout, fleets: Any, seconds: float) -> bool:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if not fleets.current(rollout.key, rollout.generation):
                return False
            time.sleep(min(POLL_SECONDS, max(end - time.monotonic(), 0)))
        return True

    def active(self, key: tuple[str, str, str]) -> Rollout | None:
        return self._active.get(key)


def _log(rollout: Rollout, message: str) -> None:
    rollout.log.write([f"localcloud: deployment: {message}"])
