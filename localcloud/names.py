"""AWS's own constraints on the names the local cloud turns into paths, answered as AWS does."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

# Patterns and lengths are botocore 1.44.8's service models (botocore/data/sagemaker/2017-07-24
# and lambda/2015-03-31 service-2.json), which AWS generates from the same models as the API
# reference. Those models carry the patterns unanchored; the services match the whole value.
# `quoted` is the pattern as AWS's error message (and the API reference) prints it.


@dataclass(frozen=True)
class NameRule:
    member: str  # the request member as AWS's messages name it (camelCase)
    pattern: str
    max_length: int
    quoted: str

    def violations(self, value: object, member: str | None = None) -> list[str]:
        """AWS's "Value 'x' at 'member' failed to satisfy constraint: ..." clauses for value."""
        where = member or self.member
        if value is None:
            return [
                f"Value null at '{where}' failed to satisfy constraint: Member must not be null"
            ]
        text = value if isinstance(value, str) else str(value)
        found = []
        if len(text) > self.max_length:
            found.append(
                f"Value '{text}' at '{where}' failed to satisfy constraint: Member must have "
                f"length less than or equal to {self.max_length}"
            )
        if not isinstance(value, str) or not re.fullmatch(self.pattern, value):
            found.append(
                f"Value '{text}' at '{where}' failed to satisfy constraint: Member must satisfy "
                f"regular expression pattern: {self.quoted}"
            )
        return found


# SageMaker shapes TrainingJobName, EndpointName, EndpointConfigName (max 63).
_SAGEMAKER_NAME = r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"
TRAINING_JOB_NAME = NameRule("trainingJobName", _SAGEMAKER_NAME, 63, f"^{_SAGEMAKER_NAME}")
ENDPOINT_NAME = NameRule("endpointName", _SAGEMAKER_NAME, 63, f"^{_SAGEMAKER_NAME}")
ENDPOINT_CONFIG_NAME = NameRule("endpointConfigName", _SAGEMAKER_NAME, 63, f"^{_SAGEMAKER_NAME}")
# SageMaker shape ModelName (max 63).
_MODEL_NAME = r"[a-zA-Z0-9]([\-a-zA-Z0-9]*[a-zA-Z0-9])?"
MODEL_NAME = NameRule("modelName", _MODEL_NAME, 63, f"^{_MODEL_NAME}")
# SageMaker shape ChannelName (max 64). It admits "." and "..": see channel_folder_violations.
_CHANNEL_NAME = r"[A-Za-z0-9\.\-_]+"
CHANNEL_NAME = NameRule("channelName", _CHANNEL_NAME, 64, _CHANNEL_NAME)
# Lambda shape FunctionName (CreateFunction: a name, an ARN or a partial ARN; max 140 for an
# ARN, and 64 for the name itself, as the member's documentation says).
_FUNCTION_NAME = (
    r"(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?"
    r"(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?"
)
FUNCTION_NAME = NameRule("functionName", _FUNCTION_NAME, 140, _FUNCTION_NAME)
FUNCTION_BARE_NAME_MAX = 64
# Lambda shape LayerNameOrArn (PublishLayerVersion's LayerName; max 140 for the name).
_LAYER_NAME = (
    r"(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:"
    r"\d{12}:layer:[a-zA-Z0-9-_]{1,140}|[a-zA-Z0-9-_]{1,140})"
)
LAYER_NAME = NameRule("layerName", _LAYER_NAME, 2048, _LAYER_NAME)


def message(violations: list[str]) -> str:
    """AWS's summary: "1 validation error detected: ..." or "2 validation errors detected: ..."."""
    count = len(violations)
    noun = "validation error" if count == 1 else "validation errors"
    return f"{count} {noun} detected: " + "; ".join(violations)


def channel_folder_violations(channels: Iterable[object]) -> list[str]:
    """Channel names that pass AWS's pattern yet cannot be a folder of their own.

    The channel becomes /opt/ml/input/data/<ChannelName>; "." and ".." match AWS's pattern but
    would name input/data itself or its parent, so the local cloud refuses them up front.
    """
    found = []
    for index, channel in enumerate(channels, start=1):
        name = channel.get("ChannelName") if isinstance(channel, dict) else None
        where = f"inputDataConfig.{index}.member.channelName"
        clauses = CHANNEL_NAME.violations(name, where)
        if not clauses and name in (".", ".."):
            clauses = [
                f"Value '{name}' at '{where}' failed to satisfy constraint: the local cloud "
                "lays each channel out as its own folder under /opt/ml/input/data; rename it"
            ]
        found.extend(clauses)
    return found


def function_name_violations(value: object) -> list[str]:
    found = FUNCTION_NAME.violations(value)
    if not found and isinstance(value, str):
        match = re.fullmatch(_FUNCTION_NAME, value)
        bare = match.group(11) if match else value  # ([a-zA-Z0-9-_]+): the name
        if len(bare) > FUNCTION_BARE_NAME_MAX:
            found.append(
                f"Value '{value}' at 'functionName' failed to satisfy constraint: Member must "
                f"have length less than or equal to {FUNCTION_BARE_NAME_MAX}"
            )
    return found


def raise_sagemaker(violations: list[str]) -> None:
    """SageMaker's answer to a bad request: ValidationException, HTTP 400."""
    if violations:
        from moto.sagemaker.exceptions import ValidationError

        raise ValidationError(message=message(violations))


def raise_lambda(violations: list[str]) -> None:
    """Lambda's answer to a bad request: ValidationException, HTTP 400 (JSON body)."""
    if violations:
        from moto.awslambda.exceptions import LambdaClientError

        raise LambdaClientError("ValidationException", message(violations))
