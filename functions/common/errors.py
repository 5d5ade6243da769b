"""Named errors the handlers raise; Step Functions shows the class name as the errorType."""

# The names are the contract with the workflow (Retry/Catch match errorType) and the issue that
# specified them, so they do not take the "Error" suffix pep8-naming asks for.
# ruff: noqa: N818

from __future__ import annotations


class FunctionError(Exception):
    """Base of every error a handler raises on purpose.

    Lambda reports only the class name (not the module or bases) as errorType, so Retry and
    Catch in the workflow match on the concrete class name; this base exists for our own code.
    """


class ConfigurationError(FunctionError):
    """An environment variable of the function is missing or out of range: fix the deployment."""


class InvalidEvent(FunctionError):
    """The event lacks a field or a field has the wrong type: fix the caller or the workflow."""


class ImageNotFound(FunctionError):
    """The bucket or the key named in the event does not exist."""


class ImageAccessDenied(FunctionError):
    """S3 refused the read: a missing key without s3:ListBucket, or a role without GetObject."""


class StorageUnavailable(FunctionError):
    """S3 throttled, failed (5xx) or was unreachable after the client's retries: retry later."""


class ImageTooLarge(FunctionError):
    """The object is over the byte limit, or the normalised image would not fit the state."""


class InvalidImage(FunctionError):
    """The object is not a decodable PNG or JPEG, or it is a decompression bomb."""


class EndpointUnavailable(FunctionError):
    """The endpoint throttled, failed or timed out after the client's retries: retry later."""


class EndpointNotFound(FunctionError):
    """No endpoint of the configured name exists: deploy it or fix ENDPOINT_NAME."""


class InvalidModelResponse(FunctionError):
    """The endpoint answered, but not with a list of class probabilities."""


class ThresholdConfidenceNotMet(FunctionError):
    """The top class probability is below THRESHOLD: the image needs a human look."""
