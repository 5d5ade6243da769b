"""The demo's one error: a stage failed, with what to look at next."""

from __future__ import annotations


class DemoError(RuntimeError):
    """A stage failed; the message says which and what to look at."""
