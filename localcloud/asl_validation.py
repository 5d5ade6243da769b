"""Static checks of an Amazon States Language definition, reported as AWS's diagnostics."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

STATE_TYPES = frozenset({"Task", "Pass", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map"})
TERMINAL_TYPES = frozenset({"Succeed", "Fail"})
# Types that must say where to go: exactly one of Next or End.
TRANSITION_TYPES = frozenset({"Task", "Pass", "Wait", "Parallel", "Map"})


@dataclass(frozen=True)
class Diagnostic:
    """One finding, in the shape of ValidateStateMachineDefinition's `diagnostics` items."""

    code: str
    message: str
    location: str = ""
    severity: str = "ERROR"

    def as_dict(self) -> dict[str, str]:
        found = {"severity": self.severity, "code": self.code, "message": self.message}
        if self.location:
            found["location"] = self.location
        return found

    def __str__(self) -> str:
        where = f" at {self.location}" if self.location else ""
        return f"{self.code}: {self.message}{where}"


def _schema(message: str, location: str) -> Diagnostic:
    return Diagnostic("SCHEMA_VALIDATION_FAILED", message, location)


def _missing_target(target: object, location: str) -> Diagnostic:
    return Diagnostic("MISSING_TRANSITION_TARGET", f"Missing 'Next' target: {target}", location)


def validate_definition(definition: str) -> list[Diagnostic]:
    """All the errors we can find in `definition`; an empty list means it is valid."""
    try:
        document = json.loads(definition)
    except (json.JSONDecodeError, TypeError) as error:
        return [Diagnostic("INVALID_JSON_DESCRIPTION", f"Definition is not valid JSON: {error}")]
    if not isinstance(document, dict):
        return [_schema("The definition must be a JSON object", "")]
    return _validate_machine(document, "")


def _validate_machine(machine: dict[str, Any], at: str) -> list[Diagnostic]:
    """Check one state machine body: the top level, a Parallel branch or a Map processor."""
    found: list[Diagnostic] = []
    start_at = machine.get("StartAt")
    states = machine.get("States")
    if not isinstance(start_at, str):
        found.append(_schema("The field 'StartAt' should be non-null", f"{at}/StartAt"))
    if not isinstance(states, dict) or not states:
        found.append(_schema("The field 'States' should be a non-empty object", f"{at}/States"))
        return found
    if isinstance(start_at, str) and start_at not in states:
        found.append(_missing_target(start_at, f"{at}/StartAt"))

    edges: dict[str, list[str]] = {}
    for name, state in states.items():
        location = f"{at}/States/{name}"
        if not isinstance(state, dict):
            found.append(_schema("A state must be a JSON object", location))
            continue
        targets = _targets(state)
        edges[name] = [t for t, _ in targets]
        for target, field in targets:
            if target not in states:
                found.append(_missing_target(target, f"{location}/{field}"))
        found.extend(_validate_state(state, location))

    if isinstance(start_at, str) and start_at in states:
        reachable = _reachable(start_at, edges)
        for name in states:
            if name not in reachable:
                found.append(
                    Diagnostic(
                        "MISSING_TRANSITION_TARGET",
                        f'State "{name}" is not reachable.',
                        f"{at}/States/{name}",
                    )
                )
    return found


def _targets(state: dict[str, Any]) -> list[tuple[str, str]]:
    """Every state name this state can transition to, with the field naming it."""
    targets: list[tuple[str, str]] = []
    if isinstance(state.get("Next"), str):
        targets.append((state["Next"], "Next"))
    if isinstance(state.get("Default"), str):
        targets.append((state["Default"], "Default"))
    for index, choice in enumerate(_list(state.get("Choices"))):
        if isinstance(choice, dict) and isinstance(choice.get("Next"), str):
            targets.append((choice["Next"], f"Choices/{index}/Next"))
    for index, catcher in enumerate(_list(state.get("Catch"))):
        if isinstance(catcher, dict) and isinstance(catcher.get("Next"), str):
            targets.append((catcher["Next"], f"Catch/{index}/Next"))
    return targets


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _reachable(start: str, edges: dict[str, list[str]]) -> set[str]:
    seen, todo = {start}, [start]
    while todo:
        for target in edges.get(todo.pop(), []):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def _validate_state(state: dict[str, Any], at: str) -> list[Diagnostic]:
    kind = state.get("Type")
    if kind is None:
        return [_schema("The field 'Type' should be non-null", f"{at}/Type")]
    if kind not in STATE_TYPES:
        return [
            _schema(
                f"The value for the field 'Type' must be one of {sorted(STATE_TYPES)}", f"{at}/Type"
            )
        ]
    found: list[Diagnostic] = []
    has_next, ends = "Next" in state, state.get("End") is True
    if kind in TRANSITION_TYPES:
        if has_next and ends:
            found.append(_schema("Only one of 'Next' or 'End' may be set", f"{at}"))
        elif not has_next and not ends:
            found.append(_schema("This state must have either 'Next' or 'End': true", f"{at}"))
    elif has_next or "End" in state:
        found.append(_schema(f"A {kind} state may not have 'Next' or 'End'", f"{at}"))

    if kind == "Task" and not isinstance(state.get("Resource"), str):
        found.append(_schema("The field 'Resource' should be non-null", f"{at}/Resource"))
    if kind == "Choice" and not _list(state.get("Choices")):
        found.append(_schema("The field 'Choices' should be a non-empty array", f"{at}/Choices"))
    if kind == "Wait" and not any(
        key in state for key in ("Seconds", "Timestamp", "SecondsPath", "TimestampPath")
    ):
        found.append(_schema("A Wait state needs Seconds, Timestamp or a *Path of them", at))
    for field in ("Retry", "Catch"):
        for index, rule in enumerate(_list(state.get(field))):
            if not isinstance(rule, dict) or not _list(rule.get("ErrorEquals")):
                found.append(
                    _schema(
                        "The field 'ErrorEquals' should be a non-empty array",
                        f"{at}/{field}/{index}/ErrorEquals",
                    )
                )
    if "Catch" in state and kind not in {"Task", "Parallel", "Map"}:
        found.append(_schema(f"A {kind} state may not have 'Catch'", f"{at}/Catch"))
    if kind == "Parallel":
        for index, branch in enumerate(_list(state.get("Branches"))):
            if isinstance(branch, dict):
                found.extend(_validate_machine(branch, f"{at}/Branches/{index}"))
    if kind == "Map":
        for field in ("ItemProcessor", "Iterator"):
            if isinstance(state.get(field), dict):
                found.extend(_validate_machine(state[field], f"{at}/{field}"))
    return found
