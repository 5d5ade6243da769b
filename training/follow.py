"""Following a training job until it ends, with Ctrl-C offering to stop it."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from training.errors import TrainingToolError

TERMINAL = frozenset({"Completed", "Failed", "Stopped"})
HEARTBEAT_SECONDS = 60.0

Out = Callable[[str], None]
Confirm = Callable[[str], bool]


class DetachedError(TrainingToolError):
    """The operator left the job running and stopped following it."""


def ask_yes_no(question: str) -> bool:
    """Ask on the terminal; anything but y/yes (or no terminal at all) means no."""
    try:
        return input(question).strip().lower() in {"y", "yes"}
    except (EOFError, KeyboardInterrupt):
        return False


def _clock_text(seconds: float) -> str:
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes:02d}:{rest:02d}"


def follow(
    sagemaker: Any,
    name: str,
    *,
    poll_seconds: float,
    out: Out = print,
    confirm: Confirm = ask_yes_no,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, Any]:
    """Poll DescribeTrainingJob until a terminal status; return the last description."""
    started = clock()
    last_state: tuple[str, str] | None = None
    last_print = started
    stop_requested = False
    while True:
        try:
            description: dict[str, Any] = sagemaker.describe_training_job(TrainingJobName=name)
            state = (description["TrainingJobStatus"], description.get("SecondaryStatus", ""))
            now = clock()
            if state != last_state or now - last_print >= HEARTBEAT_SECONDS:
                transitions = description.get("SecondaryStatusTransitions") or [{}]
                message = transitions[-1].get("StatusMessage", "")
                out(f"[{_clock_text(now - started)}] {state[0]} / {state[1]}  {message}".rstrip())
                last_state, last_print = state, now
            if state[0] in TERMINAL:
                return description
            sleep(poll_seconds)
        except KeyboardInterrupt:
            if stop_requested:
                raise DetachedError(
                    f"stopped following {name} while it stops; check it with "
                    f"`aws sagemaker describe-training-job --training-job-name {name}`"
                ) from None
            if confirm(f"\nStop training job {name}? [y/N] "):
                sagemaker.stop_training_job(TrainingJobName=name)
                stop_requested = True
                out(f"stop requested for {name}; waiting for it to stop (Ctrl-C again to leave)")
                continue
            raise DetachedError(
                f"{name} keeps running; follow it again with "
                f"`python -m training.launch --attach {name} --env <env>`"
            ) from None
