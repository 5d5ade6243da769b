"""Numbered stages with their durations, one line each, for the demo's progress."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

LINE_WIDTH = 34


def stage_line(number: int, total: int, name: str, seconds: float, note: str = "") -> str:
    """`[3/9] train ............ 62.1 s  (reused)`."""
    label = f"[{number}/{total}] {name} "
    dots = "." * max(3, LINE_WIDTH - len(label))
    tail = f"  ({note})" if note else ""
    return f"{label}{dots} {seconds:6.1f} s{tail}"


class Stages:
    """Runs the demo's stages in order, printing a header before and a timed line after each."""

    def __init__(self, names: list[str], out: TextIO = sys.stdout) -> None:
        self.names = names
        self.out = out
        self.timings: dict[str, float] = {}
        self.notes: dict[str, str] = {}

    def note(self, name: str, text: str) -> None:
        """A word shown on the stage's closing line (e.g. reused, skipped)."""
        self.notes[name] = text

    @contextmanager
    def run(self, name: str) -> Iterator[None]:
        number = self.names.index(name) + 1
        print(f"\n>>> [{number}/{len(self.names)}] {name}", file=self.out, flush=True)
        began = time.monotonic()
        try:
            yield
        except BaseException:
            seconds = time.monotonic() - began
            line = stage_line(number, len(self.names), name, seconds, "FAILED")
            print(line, file=self.out, flush=True)
            raise
        seconds = time.monotonic() - began
        self.timings[name] = round(seconds, 1)
        line = stage_line(number, len(self.names), name, seconds, self.notes.get(name, ""))
        print(line, file=self.out, flush=True)

    def table(self) -> str:
        """Every finished stage's line again, for the summary."""
        return "\n".join(
            stage_line(
                self.names.index(name) + 1, len(self.names), name, seconds, self.notes.get(name, "")
            )
            for name, seconds in self.timings.items()
        )
