"""Readers for the functions' environment variables that fail with a ConfigurationError."""

from __future__ import annotations

import math
import os
import re

from common.errors import ConfigurationError


def env_str(name: str, *, pattern: str, requirement: str) -> str:
    """A required string variable matching `pattern` (a full match)."""
    value = os.environ.get(name, "").strip()
    if not value:
        raise ConfigurationError(f"environment variable {name} is not set; set it to {requirement}")
    if re.fullmatch(pattern, value) is None:
        raise ConfigurationError(f"environment variable {name}={value!r} is not {requirement}")
    return value


def env_int(name: str, default: int, *, minimum: int, maximum: int) -> int:
    """An optional integer variable that must lie in [minimum, maximum]."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw.replace("_", ""))
    except ValueError:
        raise ConfigurationError(
            f"environment variable {name}={raw!r} is not an integer; "
            f"set a whole number from {minimum} to {maximum} (default {default})"
        ) from None
    if not minimum <= value <= maximum:
        raise ConfigurationError(
            f"environment variable {name}={value} is out of range; "
            f"set a whole number from {minimum} to {maximum} (default {default})"
        )
    return value


def env_probability(name: str, default: float) -> float:
    """An optional float variable in (0, 1]: 0 would accept everything, above 1 nothing."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    requirement = f"set a number greater than 0 and at most 1 (default {default})"
    try:
        value = float(raw)
    except ValueError:
        raise ConfigurationError(
            f"environment variable {name}={raw!r} is not a number; {requirement}"
        ) from None
    if not math.isfinite(value) or not 0.0 < value <= 1.0:
        raise ConfigurationError(
            f"environment variable {name}={raw!r} is out of range; {requirement}"
        )
    return value
