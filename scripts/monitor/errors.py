"""Named errors of the monitoring report; each message says what the operator should do."""


class MonitorError(RuntimeError):
    """An operator error (no outputs, no capture location, unreadable input)."""


class MalformedRecordError(ValueError):
    """One capture line that cannot be used; counted, located and skipped, never fatal."""
